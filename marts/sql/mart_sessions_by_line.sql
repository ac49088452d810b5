-- mart.sessions_by_line: the session row that documents each current claim line. A row with a
-- line_number documents that line; a row without documents every line of the claim; the
-- line-level row wins. When a row was sent again, the latest (received time, load position) wins.
-- Lines with no session row have no row here. The sessions feed names a claim by CLM01 only, so
-- when two claims share a CLM01 (a reused account number) its rows document both.
CREATE OR REPLACE TABLE mart.sessions_by_line AS
WITH sessions AS (
    SELECT s.*, s.rowid AS load_position, f.received_at
    FROM stg.sessions AS s
    LEFT JOIN ledger.files AS f ON f.file_sha256 = s.file_sha256
),
line_rows AS (
    SELECT *
    FROM sessions
    WHERE line_number IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY claim_id, line_number ORDER BY received_at DESC NULLS LAST, load_position DESC
    ) = 1
),
claim_rows AS (
    SELECT *
    FROM sessions
    WHERE line_number IS NULL
    QUALIFY row_number() OVER (
        PARTITION BY claim_id ORDER BY received_at DESC NULLS LAST, load_position DESC
    ) = 1
)
SELECT
    cl.claim_key,
    cl.claim_id,
    cl.line_number,
    CASE WHEN lr.claim_id IS NOT NULL THEN 'line' ELSE 'claim' END AS session_level,
    CASE WHEN lr.claim_id IS NOT NULL THEN lr.minutes ELSE cr.minutes END AS minutes,
    CASE WHEN lr.claim_id IS NOT NULL THEN lr.note_signed_at ELSE cr.note_signed_at END
        AS note_signed_at,
    CASE WHEN lr.claim_id IS NOT NULL THEN lr.phq9 ELSE cr.phq9 END AS phq9,
    CASE WHEN lr.claim_id IS NOT NULL THEN lr.gad7 ELSE cr.gad7 END AS gad7,
    CASE WHEN lr.claim_id IS NOT NULL THEN lr.file_sha256 ELSE cr.file_sha256 END AS file_sha256
FROM mart.claim_lines AS cl
LEFT JOIN line_rows AS lr ON lr.claim_id = cl.claim_id AND lr.line_number = cl.line_number
LEFT JOIN claim_rows AS cr ON cr.claim_id = cl.claim_id
WHERE lr.claim_id IS NOT NULL OR cr.claim_id IS NOT NULL;
