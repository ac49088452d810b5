-- Service months (first days) that hold claim lines or findings, in order: the partitions a
-- backfill brings to one as-of date. NULL months (lines without a date of service) are dropped.
SELECT service_month FROM mart.claim_lines WHERE service_month IS NOT NULL
UNION
SELECT service_month FROM mart.findings WHERE service_month IS NOT NULL
ORDER BY 1
