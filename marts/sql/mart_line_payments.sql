-- mart.line_payments: net paid and payment dates of every current claim line (0 when unpaid).
-- payment_date (look-back clock) = latest BPR16 that paid the line a positive amount;
-- first_payment_date (duplicates) = the earliest one. Keyed by (claim_key, line_number): two
-- claims that share a CLM01 keep their own payments.
CREATE OR REPLACE TABLE mart.line_payments AS
SELECT
    cl.claim_key,
    any_value(cl.claim_id) AS claim_id,
    cl.line_number,
    CAST(coalesce(sum(e.amount), 0) AS DECIMAL(18,2)) AS net_paid,
    CAST(coalesce(sum(e.amount) FILTER (WHERE e.amount > 0), 0) AS DECIMAL(18,2)) AS gross_paid,
    CAST(coalesce(-sum(e.amount) FILTER (WHERE e.amount < 0), 0) AS DECIMAL(18,2))
        AS reversed_amount,
    count(e.amount) AS payment_events,
    min(e.payment_date) FILTER (WHERE e.amount > 0) AS first_payment_date,
    max(e.payment_date) FILTER (WHERE e.amount > 0) AS payment_date
FROM mart.claim_lines AS cl
LEFT JOIN mart.line_payment_events AS e
    ON e.claim_key = cl.claim_key AND e.line_number = cl.line_number
WHERE in_slice(cl.claim_id)
GROUP BY cl.claim_key, cl.line_number;
