-- mart.paid_lines: the lines the rules evaluate, claim lines whose net paid is above 0.
CREATE OR REPLACE TABLE mart.paid_lines AS
SELECT
    cl.*,
    p.net_paid,
    p.first_payment_date,
    p.payment_date
FROM mart.claim_lines AS cl
JOIN mart.line_payments AS p USING (claim_key, line_number)
WHERE p.net_paid > 0 AND in_slice(cl.claim_id);
