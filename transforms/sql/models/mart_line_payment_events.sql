-- mart.line_payment_events: every amount an 835 carried (as known at as_of), matched to the claim
-- line it pays, or left unmatched (line_number null) with the reason.
--   * a service line (SVC) matches a line of the claim whose CLM01 = CLP01: by REF*6R when a claim
--     line has the same control number, else by submitted code (SVC06 when the payer changed the
--     code, else SVC01), modifiers (ordered) and date of service; equal candidates are paired in
--     order (k-th remit line to k-th claim line).
--   * a claim payment (CLP) without SVC lines is allocated over the claim's lines by charge, cents
--     rounded half to even, the remainder on the last line.
CREATE OR REPLACE TABLE mart.line_payment_events AS
WITH payments AS (
    SELECT file_sha256, payment_id, payment_date, payer_id
    FROM stg.remit_payments
    WHERE payment_date IS NULL OR payment_date <= {{ as_of }}
),
remit_claims AS (
    SELECT rc.*, p.payment_date, p.payer_id AS remit_payer_id
    FROM stg.remit_claims AS rc
    JOIN payments AS p ON p.file_sha256 = rc.file_sha256 AND p.payment_id = rc.payment_id
),
remit_lines AS (
    SELECT
        rl.file_sha256, rl.payment_id, rl.claim_seq, rl.line_seq,
        rc.claim_id, rc.status_code, rc.payment_date, rc.remit_payer_id,
        coalesce(rl.original_procedure_code, rl.procedure_code) AS submitted_code,
        list_filter(coalesce(rl.modifiers, []::VARCHAR[]), lambda m: m IS NOT NULL AND m <> '')
            AS modifiers,
        rl.date_of_service,
        rl.line_control_number,
        rl.paid_amount
    FROM stg.remit_lines AS rl
    JOIN remit_claims AS rc
        ON rc.file_sha256 = rl.file_sha256 AND rc.payment_id = rl.payment_id
        AND rc.claim_seq = rl.claim_seq
),
by_control AS (
    SELECT r.file_sha256, r.payment_id, r.claim_seq, r.line_seq, min(cl.line_number) AS line_number
    FROM remit_lines AS r
    JOIN mart.claim_lines AS cl
        ON cl.claim_id = r.claim_id AND cl.line_control_number = r.line_control_number
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
        claim_id, line_number, code, date_of_service,
        array_to_string(modifiers, ':') AS modifier_key,
        row_number() OVER same_attributes AS line_ordinal,
        count(*) OVER (PARTITION BY claim_id, code, array_to_string(modifiers, ':'), date_of_service)
            AS candidates
    FROM mart.claim_lines
    WINDOW same_attributes AS (
        PARTITION BY claim_id, code, array_to_string(modifiers, ':'), date_of_service
        ORDER BY line_number
    )
),
by_attributes AS (
    SELECT r.file_sha256, r.payment_id, r.claim_seq, r.line_seq, cl.line_number
    FROM unmatched_by_control AS r
    JOIN claim_line_ordinals AS cl
        ON cl.claim_id = r.claim_id AND cl.code = r.submitted_code
        AND cl.modifier_key = r.modifier_key
        AND cl.date_of_service = coalesce(r.date_of_service, cl.date_of_service)
    QUALIFY row_number() OVER (
        PARTITION BY r.file_sha256, r.payment_id, r.claim_seq, r.line_seq
        ORDER BY (cl.line_ordinal = least(r.remit_ordinal, cl.candidates)) DESC, cl.line_number
    ) = 1
),
current_claim_ids AS (
    SELECT DISTINCT claim_id FROM mart.claim_lines
),
-- submitted but not current: the latest submission voided the claim (frequency 8)
voided_claim_ids AS (
    SELECT DISTINCT claim_id FROM stg.claims
    EXCEPT
    SELECT claim_id FROM current_claim_ids
),
service_line_events AS (
    SELECT
        r.file_sha256, r.payment_id, r.claim_seq, r.line_seq, r.claim_id, r.status_code,
        r.payment_date, r.remit_payer_id, r.submitted_code AS procedure_code, r.modifiers,
        r.date_of_service AS remit_date_of_service,
        'service_line' AS source,
        CASE WHEN b.line_number IS NOT NULL THEN 'line_control_number'
             WHEN a.line_number IS NOT NULL THEN 'code_modifiers_date' END AS matched_by,
        coalesce(b.line_number, a.line_number) AS line_number,
        CAST(coalesce(r.paid_amount, 0) AS DECIMAL(18,2)) AS amount,
        CASE
            WHEN b.line_number IS NOT NULL OR a.line_number IS NOT NULL THEN NULL
            WHEN k.claim_id IS NULL AND r.claim_id IN (SELECT claim_id FROM voided_claim_ids)
                THEN 'the claim was voided (frequency 8)'
            WHEN k.claim_id IS NULL THEN 'no current claim with this CLP01'
            ELSE 'no line of the claim with this REF*6R or code, modifiers and date'
        END AS unmatched_reason
    FROM remit_lines AS r
    LEFT JOIN by_control AS b
        ON b.file_sha256 = r.file_sha256 AND b.payment_id = r.payment_id
        AND b.claim_seq = r.claim_seq AND b.line_seq = r.line_seq
    LEFT JOIN by_attributes AS a
        ON a.file_sha256 = r.file_sha256 AND a.payment_id = r.payment_id
        AND a.claim_seq = r.claim_seq AND a.line_seq = r.line_seq
    LEFT JOIN current_claim_ids AS k ON k.claim_id = r.claim_id
),
claim_level AS (
    SELECT rc.*
    FROM remit_claims AS rc
    ANTI JOIN stg.remit_lines AS rl
        ON rl.file_sha256 = rc.file_sha256 AND rl.payment_id = rc.payment_id
        AND rl.claim_seq = rc.claim_seq
),
allocation_weights AS (
    SELECT
        rc.file_sha256, rc.payment_id, rc.claim_seq, rc.claim_id, rc.status_code,
        rc.payment_date, rc.remit_payer_id, cl.line_number,
        CAST(coalesce(rc.paid_amount, 0) * 100 AS HUGEINT) AS paid_cents,
        CAST(coalesce(cl.charge, 0) * 100 AS HUGEINT) AS charge_cents,
        sum(CAST(coalesce(cl.charge, 0) * 100 AS HUGEINT)) OVER claim_payment AS total_charge_cents,
        count(*) OVER claim_payment AS claim_lines,
        row_number() OVER (
            PARTITION BY rc.file_sha256, rc.payment_id, rc.claim_seq ORDER BY cl.line_number DESC
        ) = 1 AS is_last_line
    FROM claim_level AS rc
    JOIN mart.claim_lines AS cl ON cl.claim_id = rc.claim_id
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
        status_code, payment_date, remit_payer_id, CAST(NULL AS VARCHAR) AS procedure_code,
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
        rc.claim_id, rc.status_code, rc.payment_date, rc.remit_payer_id,
        CAST(NULL AS VARCHAR) AS procedure_code, CAST(NULL AS VARCHAR[]) AS modifiers,
        CAST(NULL AS DATE) AS remit_date_of_service, 'claim_allocation' AS source,
        CAST(NULL AS VARCHAR) AS matched_by, CAST(NULL AS INTEGER) AS line_number,
        CAST(coalesce(rc.paid_amount, 0) AS DECIMAL(18,2)) AS amount,
        CASE WHEN rc.claim_id IN (SELECT claim_id FROM voided_claim_ids)
             THEN 'the claim was voided (frequency 8)'
             ELSE 'no current claim with this CLP01' END AS unmatched_reason
    FROM claim_level AS rc
    ANTI JOIN current_claim_ids AS k ON k.claim_id = rc.claim_id
)
SELECT * FROM service_line_events
UNION ALL BY NAME
SELECT * FROM allocation_events
UNION ALL BY NAME
SELECT * FROM unallocated_claims;
