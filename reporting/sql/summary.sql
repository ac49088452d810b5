-- The figures of exposure.json and of the HTML report, over the temporary tables of scope.sql.
-- One query per "-- name:" block; money stays DECIMAL(18,2) (exact) until it is written.

-- name: stale_findings
-- Findings in scope that were not computed for this mart: another as-of date, or a net paid that
-- has changed since (the mart was rebuilt after the rules ran).
SELECT
    count(*) FILTER (WHERE f.as_of <> {{ as_of }}) AS other_as_of,
    count(*) FILTER (WHERE f.net_paid <> l.net_paid) AS other_net_paid
FROM report_findings AS f
JOIN report_lines AS l USING (claim_key, line_number);

-- name: totals
SELECT
    count(*) AS claim_lines,
    count(*) FILTER (WHERE net_paid > 0) AS paid_lines,
    CAST(coalesce(sum(net_paid), 0) AS DECIMAL(18,2)) AS net_paid,
    CAST(coalesce(sum(open_exposure), 0) AS DECIMAL(18,2)) AS open_exposure,
    CAST(coalesce(sum(time_barred_exposure), 0) AS DECIMAL(18,2)) AS time_barred_exposure,
    count(*) FILTER (WHERE findings > 0) AS flagged_lines,
    count(*) FILTER (WHERE open_exposure > 0) AS open_exposure_lines
FROM report_lines;

-- name: realized_by_kind
-- kind: reversal | plb_wo; claim_known: the claim it names is in the warehouse.
SELECT kind, claim_known, count(*) AS entries, CAST(sum(amount) AS DECIMAL(18,2)) AS amount
FROM report_recoupments
GROUP BY ALL
ORDER BY ALL;

-- name: by_rule
-- Findings that are not time-barred, gross (a line can appear under several rules).
SELECT rule, count(*) AS lines, CAST(sum(exposure) AS DECIMAL(18,2)) AS exposure
FROM report_findings
WHERE NOT time_barred
GROUP BY rule
ORDER BY rule;

-- name: by_payer
WITH lines AS (
    SELECT
        coalesce(payer_id, '(unknown)') AS payer_id,
        sum(net_paid) AS net_paid,
        sum(open_exposure) AS open_exposure
    FROM report_lines
    GROUP BY 1
),
recouped AS (
    SELECT coalesce(payer_id, '(unknown)') AS payer_id, sum(amount) AS realized_recoupments
    FROM report_recoupments
    GROUP BY 1
)
SELECT
    payer_id,
    CAST(coalesce(l.net_paid, 0) AS DECIMAL(18,2)) AS net_paid,
    CAST(coalesce(l.open_exposure, 0) AS DECIMAL(18,2)) AS open_exposure,
    CAST(coalesce(r.realized_recoupments, 0) AS DECIMAL(18,2)) AS realized_recoupments
FROM lines AS l
FULL JOIN recouped AS r USING (payer_id)
ORDER BY payer_id;

-- name: by_rendering_npi
SELECT
    coalesce(l.rendering_npi, '(unknown)') AS rendering_npi,
    CAST(sum(l.net_paid) AS DECIMAL(18,2)) AS net_paid,
    CAST(sum(l.open_exposure) AS DECIMAL(18,2)) AS open_exposure,
    any_value(s.share_90837) AS share_90837
FROM report_lines AS l
LEFT JOIN report_provider_shares AS s USING (rendering_npi)
GROUP BY 1
ORDER BY 1;

-- name: by_service_month
SELECT
    strftime(service_month, '%Y-%m') AS service_month,
    count(*) AS claim_lines,
    CAST(sum(net_paid) AS DECIMAL(18,2)) AS net_paid,
    CAST(sum(open_exposure) AS DECIMAL(18,2)) AS open_exposure,
    CAST(sum(time_barred_exposure) AS DECIMAL(18,2)) AS time_barred_exposure
FROM report_lines
GROUP BY 1
ORDER BY 1;

-- name: unmatched
SELECT count(*) AS entries, CAST(coalesce(sum(amount), 0) AS DECIMAL(18,2)) AS amount
FROM report_unmatched;

-- name: unmatched_by_reason
SELECT unmatched_reason, count(*) AS entries, CAST(sum(amount) AS DECIMAL(18,2)) AS amount
FROM report_unmatched
GROUP BY 1
ORDER BY 1;

-- name: top_lines
-- The lines to fix first: largest open exposure, then claim id and line number (deterministic).
SELECT
    claim_key, claim_id, line_number, payer_id, rendering_npi, date_of_service, code, net_paid,
    open_exposure, rules
FROM report_lines
WHERE open_exposure > 0
ORDER BY open_exposure DESC, claim_id, claim_key, line_number
LIMIT {{ limit }};

-- name: line_findings
-- The findings of the given lines (for the plain-words reasons), largest exposure first.
SELECT claim_key, claim_id, line_number, rule, exposure, evidence
FROM report_findings
WHERE list_contains({{ line_keys }}, claim_key || '#' || line_number)
ORDER BY claim_id, claim_key, line_number, exposure DESC, rule;

-- name: recoupments
-- Realized recoupments: those naming unknown claims first (someone must find out what they
-- were), then the largest.
SELECT kind, claim_reference, claim_known, payer_id, payment_date, amount
FROM report_recoupments
ORDER BY claim_known, amount DESC, payment_date, claim_reference, kind
LIMIT {{ limit }};

-- name: provider_shares
SELECT rendering_npi, lines, lines_90837, share_90837, is_peer, flagged
FROM report_provider_shares
ORDER BY rendering_npi;

-- name: findings_extract
-- findings.csv / findings.parquet: one row per finding in scope; the worklist's columns (what to
-- do, by when, the payer's and the rendering provider's names: work_tables.sql) come last.
SELECT
    claim_id, line_number, payer_id, member_id, rendering_npi, billing_npi, date_of_service,
    code, rule, net_paid, exposure, time_barred, payment_date, lookback_months, evidence, claim_key,
    action, act_by, payer_name, provider_name
FROM report_work
ORDER BY claim_id, claim_key, line_number, rule;
