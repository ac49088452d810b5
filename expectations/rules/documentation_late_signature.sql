-- documentation.late_signature: notes signed more than late_signature_days after the date of
-- service. Exposure: 0 (a warning).
SELECT
    l.claim_key,
    l.claim_id,
    l.line_number,
    'documentation.late_signature' AS rule,
    CAST(0 AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'date_of_service', l.date_of_service,
        'note_signed_at', s.note_signed_at,
        'days_to_signature', CAST(s.note_signed_at AS DATE) - l.date_of_service,
        'max_days', {{ documentation.late_signature_days }}
    ) AS VARCHAR) AS evidence
FROM mart.paid_lines AS l
JOIN mart.sessions_by_line AS s USING (claim_key, line_number)
WHERE CAST(s.note_signed_at AS DATE) - l.date_of_service > {{ documentation.late_signature_days }}
