-- billing.duplicate: the same patient, rendering NPI, date, code and modifiers (as a set) paid on
-- two or more different claims, none a replacement or void (frequency 7/8). Copies are ordered by
-- first payment date, then claim id, then line number; every copy after the first is a finding.
-- Exposure: net paid of the copy.
WITH copies AS (
    SELECT
        l.*,
        min(l.claim_key) OVER same_service <> max(l.claim_key) OVER same_service AS several_claims,
        row_number() OVER first_paid AS copy_rank,
        first_value(l.claim_id) OVER first_paid AS kept_claim_id,
        first_value(l.line_number) OVER first_paid AS kept_line_number,
        first_value(l.first_payment_date) OVER first_paid AS kept_first_payment_date
    FROM mart.paid_lines AS l
    WHERE l.frequency_code NOT IN ('7', '8')
    WINDOW
        same_service AS (
            PARTITION BY l.patient_key, l.rendering_npi, l.date_of_service, l.code, l.modifier_set
        ),
        first_paid AS (
            PARTITION BY l.patient_key, l.rendering_npi, l.date_of_service, l.code, l.modifier_set
            ORDER BY l.first_payment_date NULLS LAST, l.claim_id, l.claim_key, l.line_number
        )
)
SELECT
    claim_key,
    claim_id,
    line_number,
    'billing.duplicate' AS rule,
    CAST(net_paid AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'code', code,
        'modifiers', modifiers,
        'date_of_service', date_of_service,
        'first_payment_date', first_payment_date,
        'kept_claim_id', kept_claim_id,
        'kept_line_number', kept_line_number,
        'kept_first_payment_date', kept_first_payment_date,
        'copy_number', copy_rank
    ) AS VARCHAR) AS evidence
FROM copies
WHERE several_claims AND copy_rank > 1
