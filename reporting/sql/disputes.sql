-- Dispute assessment (reporting/disputes.py): for each realized recoupment in the report's scope
-- (temp table report_recoupments of scope.sql), what the payer said and what recoup's own records
-- show. One query per "-- name:" block; parameters: as_of, coding.timed_minutes.

-- name: takebacks
-- One row per takeback: a reversal claim (CLP02 = 22) or a PLB WO amount.
--   claim_key: the claim it undoes. A reversal: the claim its lines were matched to
--     (mart.line_payment_events). A PLB WO: among the claims whose CLM01 is the PLB03-2 reference,
--     the one most recently first paid on or before the PLB's remittance date.
--   repaid: what the same 835 paid again on the same CLP01 (a correction after the reversal);
--     amount = what the payer kept: the takeback minus that.
--   payer_codes: the reasons the payer gave, as 'GROUP-CARC' (CAS): on the reversal, the CAS it
--     did not copy from the original (positive amounts: a reversal negates the original's CAS);
--     on the correction in the same 835, every CAS but the patient's share (group PR).
--   payer_remarks: the remark codes (RARCs, stg.remit_remarks: LQ*HE, MOA) on the reversal
--     and on the correction in the same 835; none for a PLB WO.
--   appeal_days: the payer's row of ref.payers, else the '*' row, else 60.
WITH reversal_claims AS (
    SELECT file_sha256, payment_id, claim_seq AS seq, any_value(claim_key) AS claim_key
    FROM mart.line_payment_events
    WHERE status_code = '22' AND claim_key IS NOT NULL
    GROUP BY ALL
),
plb_claims AS (
    SELECT
        r.file_sha256, r.payment_id, r.seq,
        arg_max(lp.claim_key, coalesce(lp.first_payment_date, DATE '0001-01-01')) AS claim_key
    FROM report_recoupments AS r
    JOIN mart.line_payments AS lp ON lp.claim_id = r.claim_reference
    WHERE r.kind = 'plb_wo' AND lp.gross_paid > 0
      AND (r.payment_date IS NULL OR lp.first_payment_date <= r.payment_date)
    GROUP BY ALL
),
reversal_codes AS (
    SELECT r.file_sha256, r.payment_id, r.seq,
           list(DISTINCT a.group_code || '-' || a.reason_code) AS codes
    FROM report_recoupments AS r
    JOIN stg.remit_adjustments AS a
        ON a.file_sha256 = r.file_sha256 AND a.payment_id = r.payment_id AND a.claim_seq = r.seq
    WHERE r.kind = 'reversal' AND a.amount > 0 AND a.group_code <> 'PR'
    GROUP BY ALL
),
corrections AS (
    SELECT r.file_sha256, r.payment_id, r.seq, c.claim_seq AS correction_seq, c.paid_amount
    FROM report_recoupments AS r
    JOIN stg.remit_claims AS c
        ON c.file_sha256 = r.file_sha256 AND c.payment_id = r.payment_id
        AND c.claim_id = r.claim_reference AND c.status_code <> '22'
    WHERE r.kind = 'reversal'
),
correction_paid AS (
    SELECT file_sha256, payment_id, seq, CAST(sum(coalesce(paid_amount, 0)) AS DECIMAL(18,2)) AS repaid
    FROM corrections
    GROUP BY ALL
),
correction_codes AS (
    SELECT c.file_sha256, c.payment_id, c.seq,
           list(DISTINCT a.group_code || '-' || a.reason_code) AS codes
    FROM corrections AS c
    JOIN stg.remit_adjustments AS a
        ON a.file_sha256 = c.file_sha256 AND a.payment_id = c.payment_id
        AND a.claim_seq = c.correction_seq
    WHERE a.group_code <> 'PR' AND a.amount <> 0
    GROUP BY ALL
),
remark_claims AS (
    SELECT file_sha256, payment_id, seq, seq AS claim_seq
    FROM report_recoupments
    WHERE kind = 'reversal'
    UNION
    SELECT file_sha256, payment_id, seq, correction_seq FROM corrections
),
remarks AS (
    SELECT rc.file_sha256, rc.payment_id, rc.seq, list(DISTINCT m.code) AS codes
    FROM remark_claims AS rc
    JOIN stg.remit_remarks AS m
        ON m.file_sha256 = rc.file_sha256 AND m.payment_id = rc.payment_id
        AND m.claim_seq = rc.claim_seq
    GROUP BY ALL
),
payer_rows AS (
    SELECT payer_id, appeal_days FROM ref.payers
    QUALIFY row_number() OVER (PARTITION BY payer_id ORDER BY rowid DESC) = 1
)
SELECT
    r.kind,
    r.file_sha256,
    r.payment_id,
    r.seq,
    r.claim_reference,
    r.claim_known,
    coalesce(rc.claim_key, pc.claim_key) AS claim_key,
    r.payer_id,
    r.payment_date,
    r.amount AS taken_back,
    CAST(least(coalesce(cp.repaid, 0), r.amount) AS DECIMAL(18,2)) AS repaid,
    CAST(r.amount - least(coalesce(cp.repaid, 0), r.amount) AS DECIMAL(18,2)) AS amount,
    list_sort(list_distinct(list_concat(coalesce(vc.codes, []), coalesce(cc.codes, []))))
        AS payer_codes,
    list_sort(coalesce(rm.codes, [])) AS payer_remarks,
    coalesce(own.appeal_days, fallback.appeal_days, 60) AS appeal_days
FROM report_recoupments AS r
LEFT JOIN reversal_claims AS rc
    ON r.kind = 'reversal' AND rc.file_sha256 = r.file_sha256 AND rc.payment_id = r.payment_id
    AND rc.seq = r.seq
LEFT JOIN plb_claims AS pc
    ON r.kind = 'plb_wo' AND pc.file_sha256 = r.file_sha256 AND pc.payment_id = r.payment_id
    AND pc.seq = r.seq
LEFT JOIN reversal_codes AS vc
    ON r.kind = 'reversal' AND vc.file_sha256 = r.file_sha256 AND vc.payment_id = r.payment_id
    AND vc.seq = r.seq
LEFT JOIN correction_paid AS cp
    ON r.kind = 'reversal' AND cp.file_sha256 = r.file_sha256 AND cp.payment_id = r.payment_id
    AND cp.seq = r.seq
LEFT JOIN correction_codes AS cc
    ON r.kind = 'reversal' AND cc.file_sha256 = r.file_sha256 AND cc.payment_id = r.payment_id
    AND cc.seq = r.seq
LEFT JOIN remarks AS rm
    ON r.kind = 'reversal' AND rm.file_sha256 = r.file_sha256 AND rm.payment_id = r.payment_id
    AND rm.seq = r.seq
LEFT JOIN payer_rows AS own ON own.payer_id = r.payer_id
LEFT JOIN payer_rows AS fallback ON fallback.payer_id = '*'
WHERE r.amount > 0  -- a negative PLB WO returns money: nothing to dispute
ORDER BY r.kind, r.payment_id, r.seq;

-- name: lines
-- The claim lines each takeback touches (a reversal: the lines its SVCs matched; a PLB WO: every
-- line of its claim), with the evidence recoup holds for each:
--   coverage_*: the 271 statement that decides the date of service as known at as_of
--     (mart.coverage_segments); has_eligibility: some response for this member and payer speaks
--     about coverage at all;
--   feeds_sessions: the billing provider sends a sessions feed; session_*: the session row that
--     documents the line (mart.sessions_by_line); min_minutes: the timed code's band minimum;
--   other_paid_claim_id: another claim (not a replacement or void) still paid for the same
--     patient, rendering provider, date, code and modifiers.
WITH takeback_lines AS (
    SELECT DISTINCT t.kind, t.payment_id, t.seq, e.claim_key, e.line_number,
           CAST(-sum(e.amount) OVER (
               PARTITION BY t.kind, t.payment_id, t.seq, e.claim_key, e.line_number
           ) AS DECIMAL(18,2)) AS line_taken_back
    FROM dispute_takebacks AS t
    JOIN mart.line_payment_events AS e
        ON e.file_sha256 = t.file_sha256 AND e.payment_id = t.payment_id AND e.claim_seq = t.seq
    WHERE t.kind = 'reversal' AND e.line_number IS NOT NULL AND e.claim_key = t.claim_key
    UNION ALL
    SELECT t.kind, t.payment_id, t.seq, cl.claim_key, cl.line_number,
           CAST(NULL AS DECIMAL(18,2)) AS line_taken_back
    FROM dispute_takebacks AS t
    JOIN mart.claim_lines AS cl ON cl.claim_key = t.claim_key
    WHERE t.kind = 'plb_wo'
),
timed AS (
    SELECT
        code,
        list_extract(
            {{ coding.timed_minutes }},
            CAST(row_number() OVER (PARTITION BY family ORDER BY min_minutes, code) AS INTEGER)
        ) AS min_minutes
    FROM ref.timed_codes
),
feeding_providers AS (
    SELECT DISTINCT cl.billing_npi
    FROM mart.claim_lines AS cl
    SEMI JOIN stg.sessions AS s ON s.claim_id = cl.claim_id
),
lines AS (
    SELECT tl.*, cl.* EXCLUDE (claim_key, line_number)
    FROM takeback_lines AS tl
    JOIN mart.claim_lines AS cl USING (claim_key, line_number)
),
copies AS (
    SELECT l.kind, l.payment_id, l.seq, l.claim_key, l.line_number,
           min(o.claim_id) AS other_paid_claim_id
    FROM lines AS l
    JOIN mart.claim_lines AS o
        ON o.patient_key = l.patient_key AND o.rendering_npi = l.rendering_npi
        AND o.date_of_service = l.date_of_service AND o.code = l.code
        AND o.modifier_set = l.modifier_set AND o.claim_key <> l.claim_key
        AND o.frequency_code NOT IN ('7', '8')
    JOIN mart.line_payments AS op
        ON op.claim_key = o.claim_key AND op.line_number = o.line_number AND op.net_paid > 0
    GROUP BY ALL
)
SELECT
    l.kind, l.payment_id, l.seq, l.claim_key, l.claim_id, l.line_number,
    l.member_id, l.payer_id, l.billing_npi, l.rendering_npi, l.date_of_service, l.code,
    l.modifiers, l.units, l.charge, l.line_taken_back,
    s.status AS coverage_status, s.response_id AS coverage_response_id,
    s.check_date AS coverage_check_date,
    EXISTS (
        SELECT 1 FROM mart.eligibility_checks AS c
        WHERE c.member_id = l.member_id AND c.payer_id = l.payer_id AND c.speaks_about_coverage
    ) AS has_eligibility,
    fp.billing_npi IS NOT NULL AS feeds_sessions,
    se.claim_id IS NOT NULL AS session_row,
    se.minutes AS session_minutes,
    se.note_signed_at AS session_signed_at,
    se.signed_before_service AS session_signed_before_service,
    t.min_minutes,
    cp.other_paid_claim_id,
    lp.first_payment_date
FROM lines AS l
LEFT JOIN mart.line_payments AS lp
    ON lp.claim_key = l.claim_key AND lp.line_number = l.line_number
LEFT JOIN mart.coverage_segments AS s
    ON s.member_id = l.member_id AND s.payer_id = l.payer_id
    AND l.date_of_service BETWEEN s.segment_start AND s.segment_end
LEFT JOIN feeding_providers AS fp ON fp.billing_npi = l.billing_npi
LEFT JOIN mart.sessions_by_line AS se
    ON se.claim_key = l.claim_key AND se.line_number = l.line_number
LEFT JOIN timed AS t ON t.code = l.code
LEFT JOIN copies AS cp
    ON cp.kind = l.kind AND cp.payment_id = l.payment_id AND cp.seq = l.seq
    AND cp.claim_key = l.claim_key AND cp.line_number = l.line_number
ORDER BY l.kind, l.payment_id, l.seq, l.line_number;

-- The packets' queries read temp table dispute_packets (claim_key, member_id, payer_id): one
-- query each for all packets, so a report with thousands of packets scans the marts three times.

-- name: packet_eligibility
-- Every 271 statement about each packet's member and payer known at as_of (its eligibility.csv).
SELECT
    p.claim_key, r.response_id, r.check_date, r.payer_id, r.member_id, b.benefit_seq,
    b.eligibility_code, b.coverage_status, array_to_string(b.service_types, ' ') AS service_types,
    b.coverage_begin, b.coverage_end, b.answered_for, b.date_qualifiers
FROM dispute_packets AS p
JOIN stg.eligibility_responses AS r ON r.member_id = p.member_id AND r.payer_id = p.payer_id
JOIN stg.eligibility_benefits AS b
    ON b.file_sha256 = r.file_sha256 AND b.response_id = r.response_id
WHERE r.check_date <= {{ as_of }} AND r.rejection_reason IS NULL
  AND b.coverage_status IN ('active', 'inactive')
ORDER BY p.claim_key, r.check_date, r.response_id, b.benefit_seq;

-- name: packet_sessions
-- The session rows (EHR) that document each packet's claim lines, as recoup chose them.
SELECT s.claim_key, s.claim_id, s.line_number, s.session_level, s.minutes, s.note_signed_at,
       s.signed_before_service, s.phq9, s.gad7
FROM mart.sessions_by_line AS s
SEMI JOIN dispute_packets AS p ON p.claim_key = s.claim_key
ORDER BY s.claim_key, s.line_number;

-- name: packet_payments
-- Every 835 amount for each packet's claim (payments, reversals, corrections) with the CAS the
-- payer gave (the line's own and the claim-level ones).
WITH events AS (
    SELECT e.*
    FROM mart.line_payment_events AS e
    SEMI JOIN dispute_packets AS p ON p.claim_key = e.claim_key
),
adjustments AS (
    SELECT
        e.file_sha256, e.payment_id, e.claim_seq, e.line_seq,
        string_agg(a.group_code || '-' || a.reason_code || ' ' || a.amount, '; '
                   ORDER BY a.group_code, a.reason_code) AS adjustments
    FROM events AS e
    JOIN stg.remit_adjustments AS a
        ON a.file_sha256 = e.file_sha256 AND a.payment_id = e.payment_id
        AND a.claim_seq = e.claim_seq AND (a.line_seq = e.line_seq OR a.line_seq IS NULL)
    GROUP BY ALL
)
SELECT
    e.claim_key, e.payment_date, e.status_code, e.line_number, e.procedure_code,
    CAST(e.amount AS DECIMAL(18,2)) AS amount, a.adjustments, e.payment_id
FROM events AS e
LEFT JOIN adjustments AS a
    ON a.file_sha256 = e.file_sha256 AND a.payment_id = e.payment_id
    AND a.claim_seq = e.claim_seq AND a.line_seq IS NOT DISTINCT FROM e.line_seq
ORDER BY e.claim_key, e.payment_date, e.payment_id, e.claim_seq, e.line_number;

-- name: flagged_lines
-- The findings with an exposure on the report's lines (reporting/reserve.py): the lines a payer
-- could still take back, with their open exposure and first payment date.
SELECT
    f.claim_key, f.line_number, f.rule, l.payer_id, l.open_exposure, lp.first_payment_date
FROM report_findings AS f
JOIN report_lines AS l USING (claim_key, line_number)
JOIN mart.line_payments AS lp USING (claim_key, line_number)
WHERE f.exposure > 0
ORDER BY f.claim_key, f.line_number, f.rule;
