-- coding.time_unsupported: timed psychotherapy lines whose documented minutes are below the code's
-- minimum. Exposure: net paid minus the payer's allowed amount for the highest code of the same
-- family the minutes support (never below 0); the whole net paid under the first band or when
-- that code has no allowed amount.
WITH timed AS (
    SELECT
        code,
        family,
        list_extract(
            {{ coding.timed_minutes }},
            CAST(row_number() OVER (PARTITION BY family ORDER BY min_minutes, code) AS INTEGER)
        ) AS min_minutes
    FROM ref.timed_codes
),
short_lines AS (
    SELECT l.*, t.family, t.min_minutes, s.minutes
    FROM mart.paid_lines AS l
    JOIN timed AS t ON t.code = l.code
    JOIN mart.sessions_by_line AS s USING (claim_key, line_number)
    WHERE s.minutes IS NOT NULL AND s.minutes < t.min_minutes
),
supported AS (
    SELECT x.claim_key, x.claim_id, x.line_number, arg_max(t.code, t.min_minutes) AS supported_code
    FROM short_lines AS x
    JOIN timed AS t ON t.family = x.family AND t.min_minutes <= x.minutes
    GROUP BY ALL
)
SELECT
    x.claim_key,
    x.claim_id,
    x.line_number,
    'coding.time_unsupported' AS rule,
    -- no supported code: no allowed amount either, so the whole net paid
    CAST(mart.downcode_exposure(x.net_paid, a.allowed_amount) AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'code', x.code,
        'minutes', x.minutes,
        'code_minimum', x.min_minutes,
        'supported_code', s.supported_code,
        'allowed_amount', a.allowed_amount,
        'priced', s.supported_code IS NULL OR a.allowed_amount IS NOT NULL,
        'net_paid', x.net_paid
    ) AS VARCHAR) AS evidence
FROM short_lines AS x
LEFT JOIN supported AS s USING (claim_key, line_number)
LEFT JOIN mart.allowed_amounts AS a ON a.payer_id = x.payer_id AND a.code = s.supported_code
