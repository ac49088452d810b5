-- coding.units_over_limit: a paid line whose units exceed its code's per-day limit
-- (ref.unit_limits). Exposure: net paid x (units - limit) / units, rounded half to even to cents.
SELECT
    l.claim_key,
    l.claim_id,
    l.line_number,
    'coding.units_over_limit' AS rule,
    mart.cents_to_money(mart.div_half_even(
        CAST(l.net_paid * 100 AS HUGEINT) * CAST((l.units - u.max_units_per_day) * 1000 AS HUGEINT),
        CAST(l.units * 1000 AS HUGEINT)
    )) AS exposure,
    CAST(json_object(
        'code', l.code,
        'units', l.units,
        'max_units_per_day', u.max_units_per_day,
        'limit_source', u.source,
        'net_paid', l.net_paid
    ) AS VARCHAR) AS evidence
FROM mart.paid_lines AS l
JOIN ref.unit_limits AS u ON u.code = l.code
WHERE l.units > u.max_units_per_day
