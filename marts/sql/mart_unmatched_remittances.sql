-- mart.unmatched_remittances: remittance lines and claim payments that match no current claim line.
-- Kept, never dropped: they are money the practice cannot attribute (or claims it never sent).
CREATE OR REPLACE TABLE mart.unmatched_remittances AS
SELECT
    file_sha256, payment_id, claim_seq, line_seq, claim_id, status_code, payment_date,
    remit_payer_id AS payer_id, source, procedure_code, modifiers, remit_date_of_service,
    amount, unmatched_reason
FROM mart.line_payment_events
WHERE line_number IS NULL AND in_slice(claim_id);
