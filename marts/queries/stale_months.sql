-- Those of {{ months }} holding a finding computed for another as-of date than {{ as_of }}, or for
-- another net paid than mart.line_payments' (the marts were rebuilt after the month's findings).
SELECT DISTINCT f.service_month
FROM mart.findings AS f
LEFT JOIN mart.line_payments AS p USING (claim_key, line_number)
WHERE list_contains({{ months }}, f.service_month)
  AND (f.as_of <> {{ as_of }} OR p.net_paid IS NULL OR f.net_paid <> p.net_paid)
ORDER BY 1
