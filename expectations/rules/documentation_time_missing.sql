-- documentation.time_missing: timed psychotherapy lines whose session row gives no minutes (no row
-- at all is documentation.note_missing). Exposure: net paid.
SELECT
    l.claim_key,
    l.claim_id,
    l.line_number,
    'documentation.time_missing' AS rule,
    CAST(l.net_paid AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'code', l.code,
        'session_level', s.session_level,
        'minutes', s.minutes
    ) AS VARCHAR) AS evidence
FROM mart.paid_lines AS l
JOIN mart.sessions_by_line AS s USING (claim_key, line_number)
WHERE s.minutes IS NULL
  AND l.code IN (SELECT code FROM ref.timed_codes)
