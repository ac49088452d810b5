-- coverage.unverified: paid lines with no eligibility response for the member and payer dated
-- within unverified_days on or before the date of service. Evaluated when the warehouse holds any
-- eligibility response. Exposure: 0 (a warning).
SELECT
    l.claim_key,
    l.claim_id,
    l.line_number,
    'coverage.unverified' AS rule,
    CAST(0 AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'date_of_service', l.date_of_service,
        'member_id', l.member_id,
        'payer_id', l.payer_id,
        'last_check_on_or_before', c.check_date,
        'days_since_check', l.date_of_service - c.check_date,
        'max_days', {{ coverage.unverified_days }}
    ) AS VARCHAR) AS evidence
FROM mart.paid_lines AS l
ASOF LEFT JOIN mart.eligibility_checks AS c
    ON c.member_id = l.member_id AND c.payer_id = l.payer_id
    AND l.date_of_service >= c.check_date
WHERE EXISTS (SELECT 1 FROM mart.eligibility_checks)
  AND (c.check_date IS NULL OR l.date_of_service - c.check_date > {{ coverage.unverified_days }})
