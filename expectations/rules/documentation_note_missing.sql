-- documentation.note_missing: paid lines with no session row, or a row with no signature, for
-- billing providers that send a sessions feed (at least one of their claims has a session row).
-- A note signed before its date of service is unsigned (mart.sessions_by_line): its evidence
-- names the date it carries (signed_before_service).
-- Exposure: net paid.
WITH feeding_providers AS (
    SELECT DISTINCT cl.billing_npi
    FROM mart.claim_lines AS cl
    SEMI JOIN stg.sessions AS s ON s.claim_id = cl.claim_id
)
SELECT
    l.claim_key,
    l.claim_id,
    l.line_number,
    'documentation.note_missing' AS rule,
    CAST(l.net_paid AS DECIMAL(18,2)) AS exposure,
    CAST(CASE WHEN s.signed_before_service IS NULL THEN json_object(
        'billing_npi', l.billing_npi,
        'session_row', s.claim_id IS NOT NULL,
        'note_signed_at', s.note_signed_at
    ) ELSE json_object(
        'billing_npi', l.billing_npi,
        'session_row', true,
        'note_signed_at', NULL,
        'signed_before_service', s.signed_before_service
    ) END AS VARCHAR) AS evidence
FROM mart.paid_lines AS l
SEMI JOIN feeding_providers AS p ON p.billing_npi = l.billing_npi
LEFT JOIN mart.sessions_by_line AS s USING (claim_key, line_number)
WHERE s.claim_id IS NULL OR s.note_signed_at IS NULL
