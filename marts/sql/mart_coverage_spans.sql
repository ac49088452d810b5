-- mart.coverage_spans: per member and payer, the maximal date ranges with active coverage as known
-- at as_of. span_start NULL = open-started (the payer gave no begin date), span_end NULL = open-ended.
CREATE OR REPLACE TABLE mart.coverage_spans AS
WITH active AS (
    SELECT
        *,
        CASE WHEN segment_start = lag(segment_end) OVER timeline + 1 THEN 0 ELSE 1 END AS starts_span
    FROM mart.coverage_segments
    WHERE status = 'active'
    WINDOW timeline AS (PARTITION BY member_id, payer_id ORDER BY segment_start)
),
numbered AS (
    SELECT
        *,
        sum(starts_span) OVER (
            PARTITION BY member_id, payer_id ORDER BY segment_start ROWS UNBOUNDED PRECEDING
        ) AS span_number
    FROM active
)
SELECT
    member_id,
    payer_id,
    nullif(min(segment_start), DATE '0001-01-01') AS span_start,
    nullif(max(segment_end), DATE '9999-12-31') AS span_end,
    list(DISTINCT response_id ORDER BY response_id) AS response_ids
FROM numbered
GROUP BY member_id, payer_id, span_number;
