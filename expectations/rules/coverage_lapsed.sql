-- coverage.lapsed: paid lines whose date of service no active coverage span of the billed payer
-- covers, as known at as_of. Evaluated only for (member, payer) pairs with at least one response
-- that speaks about coverage. Exposure: net paid.
WITH evaluated AS (
    SELECT l.*
    FROM mart.paid_lines AS l
    SEMI JOIN mart.eligibility_checks AS c
        ON c.member_id = l.member_id AND c.payer_id = l.payer_id AND c.speaks_about_coverage
),
lapsed AS (
    SELECT e.*, s.status, s.response_id, s.check_date
    FROM evaluated AS e
    LEFT JOIN mart.coverage_segments AS s
        ON s.member_id = e.member_id AND s.payer_id = e.payer_id
        AND e.date_of_service BETWEEN s.segment_start AND s.segment_end
    WHERE s.status IS DISTINCT FROM 'active'
),
nearest AS (
    SELECT
        x.claim_key,
        x.claim_id,
        x.line_number,
        max(sp.span_end) FILTER (WHERE sp.span_end < x.date_of_service) AS covered_until,
        min(sp.span_start) FILTER (WHERE sp.span_start > x.date_of_service) AS covered_from
    FROM lapsed AS x
    JOIN mart.coverage_spans AS sp ON sp.member_id = x.member_id AND sp.payer_id = x.payer_id
    GROUP BY ALL
)
SELECT
    x.claim_key,
    x.claim_id,
    x.line_number,
    'coverage.lapsed' AS rule,
    CAST(x.net_paid AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'date_of_service', x.date_of_service,
        'member_id', x.member_id,
        'payer_id', x.payer_id,
        'status_on_date', coalesce(x.status, 'no response speaks about this date'),
        'decided_by_response', x.response_id,
        'decided_by_check_date', x.check_date,
        'covered_until', n.covered_until,
        'covered_from', n.covered_from
    ) AS VARCHAR) AS evidence
FROM lapsed AS x
LEFT JOIN nearest AS n USING (claim_key, line_number)
