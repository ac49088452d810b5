-- mart.line_payment_events: every amount an 835 carried (as known at as_of), matched to the claim
-- line it pays, or left unmatched (line_number null) with the reason.
--   * the claim: among the claims (mart.claims) whose CLM01 = CLP01 (a CLM01 can name several
--     claims, docs/decisions.md "Claim identity"), the one with most remittance lines whose code
--     and date of service match one of its lines, then most remittance lines (or the CLP's
--     statement dates) inside its dates of service, then the one whose REF*F8 = CLP07, then a
--     current claim over a voided one, then the latest dates;
--   * a service line (SVC) matches a line of that claim: by REF*6R when a claim line has the same
--     control number, else by submitted code (SVC06 when the payer changed the code, else SVC01),
--     modifiers (ordered) and date of service; equal candidates are paired in order (k-th remit
--     line to k-th claim line).
--   * a claim payment (CLP) without SVC lines is allocated over the claim's lines by charge, cents
--     rounded half to even, the remainder on the last line.
CREATE OR REPLACE TABLE mart.line_payment_events AS
WITH payments AS (
    SELECT file_sha256, payment_id, payment_date, payer_id
    FROM stg.remit_payments
    WHERE payment_date IS NULL OR payment_date <= {{ as_of }}
),
remit_claims_known AS (
    SELECT rc.*, p.payment_date, p.payer_id AS remit_payer_id
    FROM stg.remit_claims AS rc
    JOIN payments AS p ON p.file_sha256 = rc.file_sha256 AND p.payment_id = rc.payment_id
    WHERE in_slice(rc.claim_id)
),
-- this slice's CLM01s (marts/build.py builds the model one slice of CLM01 hashes at a time: a
-- remittance claim is matched only to claims of its own CLP01 = CLM01)
remit_lines_slice AS (
    SELECT rl.*
    FROM stg.remit_lines AS rl
    SEMI JOIN remit_claims_known AS rc
        ON rc.file_sha256 = rl.file_sha256 AND rc.payment_id = rl.payment_id
        AND rc.claim_seq = rl.claim_seq
),
claims_slice AS (
    SELECT * FROM mart.claims WHERE in_slice(claim_id)
),
claim_lines_slice AS (
    SELECT * FROM mart.claim_lines WHERE in_slice(claim_id)
),
-- what each remittance claim says about the service: its lines' codes and dates, else the CLP's
-- statement dates
remit_services AS (
    SELECT
        rc.file_sha256, rc.payment_id, rc.claim_seq, rc.claim_id, rl.line_seq,
        coalesce(rl.original_procedure_code, rl.procedure_code) AS code,
        coalesce(rl.date_of_service, rc.statement_start, rc.statement_end) AS date_begin,
        coalesce(rl.date_of_service_end, rl.date_of_service, rc.statement_end, rc.statement_start)
            AS date_end
    FROM remit_claims_known AS rc
    LEFT JOIN remit_lines_slice AS rl
        ON rl.file_sha256 = rc.file_sha256 AND rl.payment_id = rc.payment_id
        AND rl.claim_seq = rc.claim_seq
),
line_hits AS (
    SELECT s.file_sha256, s.payment_id, s.claim_seq, cl.claim_key, count(DISTINCT s.line_seq) AS hits
    FROM remit_services AS s
    JOIN claim_lines_slice AS cl
        ON cl.claim_id = s.claim_id AND cl.code = s.code
        AND cl.date_of_service BETWEEN s.date_begin AND s.date_end
    GROUP BY ALL
),
date_hits AS (
    SELECT s.file_sha256, s.payment_id, s.claim_seq, k.claim_key, count(*) AS hits
    FROM remit_services AS s
    JOIN claims_slice AS k
        ON k.claim_id = s.claim_id AND k.span_begin <= s.date_end AND s.date_begin <= k.span_end
    GROUP BY ALL
),
-- the best candidate claim of each 835 claim, as one grouped arg_max (a row_number window over
-- the 2.4M candidate pairs of the 1M-line demo took a quarter of this model): most line hits,
-- then most date hits, then REF*F8 = CLP07, then current over voided, then the latest dates,
-- then the last claim_key (unique: no ties left)
chosen_claims AS (
    SELECT
        rc.file_sha256, rc.payment_id, rc.claim_seq,
        arg_max(
            {'claim_key': k.claim_key, 'voided': k.voided},
            {
                'line_hits': coalesce(lh.hits, 0),
                'date_hits': coalesce(dh.hits, 0),
                'named': coalesce(list_contains(k.payer_claim_controls, rc.payer_claim_control),
                                  FALSE),
                'current': NOT k.voided,
                'span_begin': coalesce(k.span_begin, DATE '0001-01-01'),
                'claim_key': k.claim_key
            }
        ) AS chosen
    FROM remit_claims_known AS rc
    JOIN claims_slice AS k ON k.claim_id = rc.claim_id
    LEFT JOIN line_hits AS lh
        ON lh.file_sha256 = rc.file_sha256 AND lh.payment_id = rc.payment_id
        AND lh.claim_seq = rc.claim_seq AND lh.claim_key = k.claim_key
    LEFT JOIN date_hits AS dh
        ON dh.file_sha256 = rc.file_sha256 AND dh.payment_id = rc.payment_id
        AND dh.claim_seq = rc.claim_seq AND dh.claim_key = k.claim_key
    GROUP BY rc.file_sha256, rc.payment_id, rc.claim_seq
),
remit_claims AS (
    SELECT rc.*, ch.chosen.claim_key AS claim_key, coalesce(ch.chosen.voided, FALSE) AS claim_voided
    FROM remit_claims_known AS rc
    LEFT JOIN chosen_claims AS ch
        ON ch.file_sha256 = rc.file_sha256 AND ch.payment_id = rc.payment_id
        AND ch.claim_seq = rc.claim_seq
),
remit_lines AS (
    SELECT
        rl.file_sha256, rl.payment_id, rl.claim_seq, rl.line_seq,
        rc.claim_id, rc.claim_key, rc.claim_voided, rc.status_code, rc.payment_date,
        rc.remit_payer_id,
        coalesce(rl.original_procedure_code, rl.procedure_code) AS submitted_code,
        list_filter(coalesce(rl.modifiers, []::VARCHAR[]), lambda m: m IS NOT NULL AND m <> '')
            AS modifiers,
        rl.date_of_service,
        rl.line_control_number,
        rl.paid_amount
    FROM remit_lines_slice AS rl
    JOIN remit_claims AS rc
        ON rc.file_sha256 = rl.file_sha256 AND rc.payment_id = rl.payment_id
        AND rc.claim_seq = rl.claim_seq
),
by_control AS (
    SELECT r.file_sha256, r.payment_id, r.claim_seq, r.line_seq, min(cl.line_number) AS line_number
    FROM remit_lines AS r
    JOIN claim_lines_slice AS cl
        ON cl.claim_key = r.claim_key AND cl.line_control_number = r.line_control_number
    GROUP BY ALL
),
unmatched_by_control AS (
    SELECT
        r.*,
        array_to_string(r.modifiers, ':') AS modifier_key,
        row_number() OVER (
            PARTITION BY r.file_sha256, r.payment_id, r.claim_seq, r.submitted_code,
                array_to_string(r.modifiers, ':'), r.date_of_service
            ORDER BY r.line_seq
        ) AS remit_ordinal
    FROM remit_lines AS r
    ANTI JOIN by_control AS b
        ON b.file_sha256 = r.file_sha256 AND b.payment_id = r.payment_id
        AND b.claim_seq = r.claim_seq AND b.line_seq = r.line_seq
),
claim_line_ordinals AS (
    SELECT
        claim_key, line_number, code, date_of_service,
        array_to_string(modifiers, ':') AS modifier_key,
        row_number() OVER same_attributes AS line_ordinal,
        count(*) OVER (
            PARTITION BY claim_key, code, array_to_string(modifiers, ':'), date_of_service
        ) AS candidates
    FROM claim_lines_slice
    WINDOW same_attributes AS (
        PARTITION BY claim_key, code, array_to_string(modifiers, ':'), date_of_service
        ORDER BY line_number
    )
),
by_attributes AS (
    SELECT r.file_sha256, r.payment_id, r.claim_seq, r.line_seq, cl.line_number
    FROM unmatched_by_control AS r
    JOIN claim_line_ordinals AS cl
        ON cl.claim_key = r.claim_key AND cl.code = r.submitted_code
        AND cl.modifier_key = r.modifier_key
        AND cl.date_of_service = coalesce(r.date_of_service, cl.date_of_service)
    QUALIFY row_number() OVER (
        PARTITION BY r.file_sha256, r.payment_id, r.claim_seq, r.line_seq
        ORDER BY (cl.line_ordinal = least(r.remit_ordinal, cl.candidates)) DESC, cl.line_number
    ) = 1
),
service_line_events AS (
    SELECT
        r.file_sha256, r.payment_id, r.claim_seq, r.line_seq, r.claim_id, r.claim_key,
        r.status_code,
        r.payment_date, r.remit_payer_id, r.submitted_code AS procedure_code, r.modifiers,
        r.date_of_service AS remit_date_of_service,
        'service_line' AS source,
        CASE WHEN b.line_number IS NOT NULL THEN 'line_control_number'
             WHEN a.line_number IS NOT NULL THEN 'code_modifiers_date' END AS matched_by,
        coalesce(b.line_number, a.line_number) AS line_number,
        CAST(coalesce(r.paid_amount, 0) AS DECIMAL(18,2)) AS amount,
        CASE
            WHEN b.line_number IS NOT NULL OR a.line_number IS NOT NULL THEN NULL
            WHEN r.claim_voided THEN 'the claim was voided (frequency 8)'
            WHEN r.claim_key IS NULL THEN 'no current claim with this CLP01'
            ELSE 'no line of the claim with this REF*6R or code, modifiers and date'
        END AS unmatched_reason
    FROM remit_lines AS r
    LEFT JOIN by_control AS b
        ON b.file_sha256 = r.file_sha256 AND b.payment_id = r.payment_id
        AND b.claim_seq = r.claim_seq AND b.line_seq = r.line_seq
    LEFT JOIN by_attributes AS a
        ON a.file_sha256 = r.file_sha256 AND a.payment_id = r.payment_id
        AND a.claim_seq = r.claim_seq AND a.line_seq = r.line_seq
),
claim_level AS (
    SELECT rc.*
    FROM remit_claims AS rc
    ANTI JOIN remit_lines_slice AS rl
        ON rl.file_sha256 = rc.file_sha256 AND rl.payment_id = rc.payment_id
        AND rl.claim_seq = rc.claim_seq
),
allocation_weights AS (
    SELECT
        rc.file_sha256, rc.payment_id, rc.claim_seq, rc.claim_id, rc.claim_key, rc.status_code,
        rc.payment_date, rc.remit_payer_id, cl.line_number,
        CAST(coalesce(rc.paid_amount, 0) * 100 AS HUGEINT) AS paid_cents,
        CAST(coalesce(cl.charge, 0) * 100 AS HUGEINT) AS charge_cents,
        sum(CAST(coalesce(cl.charge, 0) * 100 AS HUGEINT)) OVER claim_payment AS total_charge_cents,
        count(*) OVER claim_payment AS claim_lines,
        row_number() OVER (
            PARTITION BY rc.file_sha256, rc.payment_id, rc.claim_seq ORDER BY cl.line_number DESC
        ) = 1 AS is_last_line
    FROM claim_level AS rc
    JOIN claim_lines_slice AS cl ON cl.claim_key = rc.claim_key
    WINDOW claim_payment AS (PARTITION BY rc.file_sha256, rc.payment_id, rc.claim_seq)
),
allocation_shares AS (
    SELECT
        *,
        -- no charge on any line: equal shares
        CASE WHEN total_charge_cents > 0
             THEN mart.div_half_even(paid_cents * charge_cents, total_charge_cents)
             ELSE mart.div_half_even(paid_cents, CAST(claim_lines AS HUGEINT)) END AS share_cents
    FROM allocation_weights
),
allocation_events AS (
    SELECT
        file_sha256, payment_id, claim_seq, CAST(NULL AS INTEGER) AS line_seq, claim_id,
        claim_key, status_code, payment_date, remit_payer_id, CAST(NULL AS VARCHAR) AS procedure_code,
        CAST(NULL AS VARCHAR[]) AS modifiers, CAST(NULL AS DATE) AS remit_date_of_service,
        'claim_allocation' AS source, 'charge_allocation' AS matched_by, line_number,
        mart.cents_to_money(
            CASE WHEN is_last_line
                 THEN paid_cents - (sum(share_cents) OVER claim_payment - share_cents)
                 ELSE share_cents END
        ) AS amount,
        CAST(NULL AS VARCHAR) AS unmatched_reason
    FROM allocation_shares
    WINDOW claim_payment AS (PARTITION BY file_sha256, payment_id, claim_seq)
),
unallocated_claims AS (
    SELECT
        rc.file_sha256, rc.payment_id, rc.claim_seq, CAST(NULL AS INTEGER) AS line_seq,
        rc.claim_id, rc.claim_key, rc.status_code, rc.payment_date, rc.remit_payer_id,
        CAST(NULL AS VARCHAR) AS procedure_code, CAST(NULL AS VARCHAR[]) AS modifiers,
        CAST(NULL AS DATE) AS remit_date_of_service, 'claim_allocation' AS source,
        CAST(NULL AS VARCHAR) AS matched_by, CAST(NULL AS INTEGER) AS line_number,
        CAST(coalesce(rc.paid_amount, 0) AS DECIMAL(18,2)) AS amount,
        CASE WHEN rc.claim_voided THEN 'the claim was voided (frequency 8)'
             ELSE 'no current claim with this CLP01' END AS unmatched_reason
    FROM claim_level AS rc
    WHERE rc.claim_key IS NULL OR rc.claim_voided
)
SELECT * FROM service_line_events
UNION ALL BY NAME
SELECT * FROM allocation_events
UNION ALL BY NAME
SELECT * FROM unallocated_claims;
