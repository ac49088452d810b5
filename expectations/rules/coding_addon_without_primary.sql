-- coding.addon_without_primary: a paid add-on line with no paid qualifying primary line for the
-- same patient, rendering NPI and date (any claim), or +90785 billed with a forbidden companion
-- (ref.addon_primaries, relation 'forbidden'). Exposure: net paid of the add-on line.
WITH addons AS (
    SELECT l.*
    FROM mart.paid_lines AS l
    WHERE l.code IN (SELECT addon_code FROM ref.addon_primaries WHERE relation = 'requires')
),
companions AS (
    SELECT a.claim_key, a.claim_id, a.line_number, r.relation, p.code AS companion_code
    FROM addons AS a
    JOIN mart.paid_lines AS p
        ON p.patient_key = a.patient_key AND p.rendering_npi = a.rendering_npi
        AND p.date_of_service = a.date_of_service
        AND NOT (p.claim_key = a.claim_key AND p.line_number = a.line_number)
    JOIN ref.addon_primaries AS r
        ON r.addon_code = a.code
        AND length(p.code) = length(r.primary_from)
        AND p.code BETWEEN r.primary_from AND r.primary_to
),
verdicts AS (
    SELECT
        claim_key,
        claim_id,
        line_number,
        list_sort(list(DISTINCT companion_code) FILTER (WHERE relation = 'requires')) AS primaries,
        list_sort(list(DISTINCT companion_code) FILTER (WHERE relation = 'forbidden'))
            AS forbidden
    FROM companions
    GROUP BY ALL
)
SELECT
    a.claim_key,
    a.claim_id,
    a.line_number,
    'coding.addon_without_primary' AS rule,
    CAST(a.net_paid AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'addon_code', a.code,
        'date_of_service', a.date_of_service,
        'rendering_npi', a.rendering_npi,
        'primary_codes_found', coalesce(v.primaries, []::VARCHAR[]),
        'forbidden_codes_found', coalesce(v.forbidden, []::VARCHAR[])
    ) AS VARCHAR) AS evidence
FROM addons AS a
LEFT JOIN verdicts AS v USING (claim_key, line_number)
WHERE coalesce(len(v.primaries), 0) = 0 OR coalesce(len(v.forbidden), 0) > 0
