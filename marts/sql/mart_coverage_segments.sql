-- mart.coverage_segments: per member and payer, the timeline cut into maximal pieces on which one
-- statement wins, with its status (active | inactive). Dates no response speaks about have no row.
--   * an active EB speaks about begin..end (no begin: open-started, no end: open-ended); one with
--     neither but with answered_for (a one-day 2100 date on 291/307/472) speaks about that day only;
--     an inactive EB speaks about end+1.. (no end: check_date..) up to forever;
--   * an active EB with an end also says coverage stops after it: it speaks about end+1..forever
--     as inactive, below every explicit statement of its own response (so a later response with
--     an earlier end date cuts the span: a retroactive termination);
--   * the newest response wins (eligibility_checks.response_order); within one response an
--     explicit inactive statement beats an active one, which beats an implied end.
-- Set-based: the boundaries of all statements cut the timeline into elementary pieces, each piece
-- takes the highest-priority statement covering it, and equal neighbours are merged.
-- 0001-01-01 and 9999-12-31 stand for "open" and become NULL in mart.coverage_spans.
CREATE OR REPLACE TABLE mart.coverage_segments AS
WITH benefits AS (
    SELECT c.member_id, c.payer_id, c.response_id, c.check_date, c.response_order,
           b.coverage_status, b.coverage_begin, b.coverage_end, b.answered_for
    FROM mart.eligibility_checks AS c
    JOIN stg.eligibility_benefits AS b
        ON b.file_sha256 = c.file_sha256 AND b.response_id = c.response_id
    WHERE b.coverage_status IN ('active', 'inactive')
),
statements AS (
    SELECT
        member_id, payer_id, response_id, check_date,
        coverage_status AS status,
        response_order * 3 + CASE WHEN coverage_status = 'inactive' THEN 2 ELSE 1 END AS priority,
        CASE WHEN coverage_status = 'active' AND coverage_begin IS NULL AND coverage_end IS NULL
                  AND answered_for IS NOT NULL THEN answered_for
             WHEN coverage_status = 'active'
             THEN coalesce(coverage_begin, DATE '0001-01-01')
             ELSE coalesce(coverage_end + 1, check_date) END AS speaks_from,
        CASE WHEN coverage_status = 'active' AND coverage_begin IS NULL AND coverage_end IS NULL
                  AND answered_for IS NOT NULL THEN answered_for
             WHEN coverage_status = 'active'
             THEN coalesce(coverage_end, DATE '9999-12-31')
             ELSE DATE '9999-12-31' END AS speaks_to
    FROM benefits
    UNION ALL
    SELECT
        member_id, payer_id, response_id, check_date,
        'inactive' AS status,
        response_order * 3 AS priority,
        coverage_end + 1 AS speaks_from,
        DATE '9999-12-31' AS speaks_to
    FROM benefits
    WHERE coverage_status = 'active' AND coverage_end IS NOT NULL
      AND coverage_end < DATE '9999-12-31'
),
valid_statements AS (
    SELECT * FROM statements WHERE speaks_from <= speaks_to
),
boundaries AS (
    SELECT member_id, payer_id, speaks_from AS point FROM valid_statements
    UNION
    SELECT member_id, payer_id, speaks_to + 1 AS point
    FROM valid_statements
    WHERE speaks_to < DATE '9999-12-31'
),
pieces AS (
    SELECT
        member_id,
        payer_id,
        point AS piece_start,
        coalesce(
            lead(point) OVER (PARTITION BY member_id, payer_id ORDER BY point) - 1,
            DATE '9999-12-31'
        ) AS piece_end
    FROM boundaries
),
winners AS (
    SELECT
        p.member_id,
        p.payer_id,
        p.piece_start,
        p.piece_end,
        arg_max(s.status, s.priority) AS status,
        arg_max(s.response_id, s.priority) AS response_id,
        arg_max(s.check_date, s.priority) AS check_date
    FROM pieces AS p
    JOIN valid_statements AS s
        ON s.member_id = p.member_id AND s.payer_id = p.payer_id
        AND s.speaks_from <= p.piece_start AND s.speaks_to >= p.piece_end
    GROUP BY ALL
),
runs AS (
    SELECT
        *,
        CASE WHEN piece_start = lag(piece_end) OVER timeline + 1
                  AND status = lag(status) OVER timeline
                  AND response_id = lag(response_id) OVER timeline
             THEN 0 ELSE 1 END AS starts_run
    FROM winners
    WINDOW timeline AS (PARTITION BY member_id, payer_id ORDER BY piece_start)
),
numbered AS (
    SELECT
        *,
        sum(starts_run) OVER (
            PARTITION BY member_id, payer_id ORDER BY piece_start ROWS UNBOUNDED PRECEDING
        ) AS run_number
    FROM runs
)
SELECT
    member_id,
    payer_id,
    min(piece_start) AS segment_start,
    max(piece_end) AS segment_end,
    any_value(status) AS status,
    any_value(response_id) AS response_id,
    any_value(check_date) AS check_date
FROM numbered
GROUP BY member_id, payer_id, run_number;
