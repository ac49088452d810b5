-- mart.sessions_by_line: the session row that documents each current claim line. A row with a
-- line_number documents that line; a row without documents every line of the claim; the
-- line-level row wins. When a row was sent again, the latest (received time, load position) wins.
-- Lines with no session row have no row here. The sessions feed names a claim by CLM01 only, so
-- when two claims share a CLM01 (a reused account number) its rows document both.
-- A note signed before the line's date of service cannot document that session (docs/decisions.md,
-- "Sessions"): such a row never wins over a row that can, and when it is the only one the line
-- has, its signature is taken as absent (note_signed_at NULL; the date sent is kept in
-- signed_before_service for the evidence).
CREATE OR REPLACE TABLE mart.sessions_by_line AS
WITH sessions AS (
    SELECT s.*, s.rowid AS load_position, f.received_at
    FROM stg.sessions AS s
    LEFT JOIN ledger.files AS f ON f.file_sha256 = s.file_sha256
    WHERE in_slice(s.claim_id)
),
candidates AS (
    SELECT
        cl.claim_key,
        cl.claim_id,
        cl.line_number,
        CASE WHEN s.line_number IS NOT NULL THEN 'line' ELSE 'claim' END AS session_level,
        s.minutes,
        s.note_signed_at,
        coalesce(CAST(s.note_signed_at AS DATE) < cl.date_of_service, false) AS predated,
        s.phq9,
        s.gad7,
        s.file_sha256,
        s.received_at,
        s.load_position
    FROM mart.claim_lines AS cl
    JOIN sessions AS s
        ON s.claim_id = cl.claim_id
        AND (s.line_number = cl.line_number OR s.line_number IS NULL)
    WHERE in_slice(cl.claim_id)
)
SELECT
    claim_key,
    claim_id,
    line_number,
    session_level,
    minutes,
    CASE WHEN predated THEN NULL ELSE note_signed_at END AS note_signed_at,
    phq9,
    gad7,
    file_sha256,
    CASE WHEN predated THEN note_signed_at END AS signed_before_service
FROM candidates
QUALIFY row_number() OVER (
    PARTITION BY claim_key, line_number
    ORDER BY predated, session_level = 'claim', received_at DESC NULLS LAST, load_position DESC
) = 1;
