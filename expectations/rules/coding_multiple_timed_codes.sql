-- coding.multiple_timed_codes: two or more different base psychotherapy codes (90832/90834/90837,
-- the non-add-on codes of ref.timed_codes) for one patient, rendering NPI and date. Exposure: net
-- paid of every such line except the kept one (highest net paid; ties: smallest claim, line).
-- A second line of the same code is not this rule's (the SPEC gives it to billing.duplicate or
-- coding.units_over_limit): each code counts once, by its highest-paid line.
WITH timed AS (
    SELECT
        l.*,
        min(l.code) OVER same_session <> max(l.code) OVER same_session AS several_codes,
        row_number() OVER (
            PARTITION BY l.patient_key, l.rendering_npi, l.date_of_service
            ORDER BY l.net_paid DESC, l.claim_id, l.claim_key, l.line_number
        ) AS paid_rank,
        row_number() OVER (
            PARTITION BY l.patient_key, l.rendering_npi, l.date_of_service, l.code
            ORDER BY l.net_paid DESC, l.claim_id, l.claim_key, l.line_number
        ) AS rank_within_code,
        first_value(l.claim_id) OVER kept_order AS kept_claim_id,
        first_value(l.line_number) OVER kept_order AS kept_line_number,
        first_value(l.code) OVER kept_order AS kept_code,
        list(l.code) OVER same_session AS codes_that_day
    FROM mart.paid_lines AS l
    WHERE l.code IN (SELECT code FROM ref.timed_codes WHERE NOT is_addon)
    WINDOW
        same_session AS (PARTITION BY l.patient_key, l.rendering_npi, l.date_of_service),
        kept_order AS (
            PARTITION BY l.patient_key, l.rendering_npi, l.date_of_service
            ORDER BY l.net_paid DESC, l.claim_id, l.claim_key, l.line_number
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
        )
)
SELECT
    claim_key,
    claim_id,
    line_number,
    'coding.multiple_timed_codes' AS rule,
    CAST(net_paid AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'code', code,
        'date_of_service', date_of_service,
        'codes_that_day', list_sort(codes_that_day),
        'kept_claim_id', kept_claim_id,
        'kept_line_number', kept_line_number,
        'kept_code', kept_code
    ) AS VARCHAR) AS evidence
FROM timed
WHERE several_codes AND paid_rank > 1 AND rank_within_code = 1 AND code <> kept_code
