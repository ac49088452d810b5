-- The evidence behind each of the page's claims to fix first (issue 14, item 3), over the
-- temporary tables of scope.sql. Parameters: line_keys (claim_key || '#' || line_number).
-- Nothing here reaches the page with a member's name, birth date or address (staging holds none);
-- member ids are used to join only, never selected.

-- name: eligibility
-- The 271 statements about the line's member and payer: every coverage statement of every
-- response, newest check first.
SELECT
    l.claim_key || '#' || l.line_number AS line_key,
    c.check_date,
    c.payer_id,
    b.coverage_status,
    b.eligibility_code,
    b.service_types,
    b.coverage_begin,
    b.coverage_end
FROM report_lines AS l
JOIN mart.eligibility_checks AS c ON c.member_id = l.member_id AND c.payer_id = l.payer_id
JOIN stg.eligibility_benefits AS b ON b.file_sha256 = c.file_sha256 AND b.response_id = c.response_id
WHERE list_contains({{ line_keys }}, l.claim_key || '#' || l.line_number)
ORDER BY line_key, c.check_date DESC, c.response_order DESC, b.benefit_seq;

-- name: sessions
-- The EHR session row that documents the line (mart.sessions_by_line).
SELECT
    claim_key || '#' || line_number AS line_key,
    session_level, minutes, note_signed_at, signed_before_service, phq9, gad7
FROM mart.sessions_by_line
WHERE list_contains({{ line_keys }}, claim_key || '#' || line_number);

-- name: payments
-- Every 835 payment and reversal matched to the line, oldest first.
SELECT
    claim_key || '#' || line_number AS line_key,
    payment_date, status_code, remit_payer_id AS payer_id, procedure_code, amount, matched_by
FROM mart.line_payment_events
WHERE list_contains({{ line_keys }}, claim_key || '#' || line_number)
ORDER BY line_key, payment_date, file_sha256, payment_id, line_seq;
