-- window_lines(window_start, window_end, window_payer): the current claim lines whose date of
-- service is in [window_start, window_end] (NULL: open) for window_payer (NULL: every payer), each
-- with its net paid (mart.line_payments holds every current line, 0 when unpaid) and its exposure
-- (mart.line_exposure: the largest exposure among its findings, capped at net paid; open or
-- time-barred as a whole, since all findings of a line share its payment date and look-back).
-- One definition of "the lines in a window": the report's scope (scope.sql, report_lines) and the
-- audit (audit.py) both read it. A temporary macro: it works on a read-only connection too.
CREATE OR REPLACE TEMP MACRO window_lines(window_start, window_end, window_payer) AS TABLE
SELECT
    cl.claim_key,
    cl.claim_id,
    cl.line_number,
    cl.payer_id,
    cl.member_id,
    cl.rendering_npi,
    cl.billing_npi,
    cl.date_of_service,
    cl.service_month,
    cl.code,
    p.net_paid,
    p.payment_date,
    coalesce(e.exposure, 0) AS exposure,
    coalesce(e.open_exposure, 0) AS open_exposure,
    coalesce(e.time_barred_exposure, 0) AS time_barred_exposure,
    coalesce(e.time_barred, FALSE) AS time_barred,
    coalesce(e.rules, []::VARCHAR[]) AS rules,
    coalesce(e.findings, 0) AS findings
FROM mart.claim_lines AS cl
JOIN mart.line_payments AS p USING (claim_key, line_number)
LEFT JOIN mart.line_exposure AS e USING (claim_key, line_number)
WHERE (window_start IS NULL OR cl.date_of_service >= window_start)
  AND (window_end IS NULL OR cl.date_of_service <= window_end)
  AND (window_payer IS NULL OR cl.payer_id = window_payer);
