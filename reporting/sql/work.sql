-- The worklist's figures (exposure.json by_action, the page's "Work by action"), over
-- report_work (work_tables.sql). One query per "-- name:" block, like summary.sql.

-- name: by_action
-- Findings that are not time-barred, per action: how many, their exposure (gross, as by_rule:
-- a line can carry several findings) and the earliest act_by among them.
SELECT
    coalesce(action, '(no action named)') AS action,
    count(*) AS findings,
    CAST(sum(exposure) AS DECIMAL(18,2)) AS exposure,
    min(act_by) AS first_act_by
FROM report_work
WHERE NOT time_barred
GROUP BY 1
ORDER BY 1;

-- name: work_items
-- The open findings of each action, largest exposure first, then the nearest act_by; at most
-- {{ limit }} per action (the rest are in findings.csv).
SELECT
    coalesce(action, '(no action named)') AS action, claim_id, claim_key, line_number,
    date_of_service, code, rule, payer_id, payer_name, rendering_npi, provider_name, exposure,
    act_by, evidence
FROM report_work
WHERE NOT time_barred
QUALIFY row_number() OVER (
    PARTITION BY coalesce(action, '(no action named)')
    ORDER BY exposure DESC, act_by NULLS LAST, claim_id, claim_key, line_number, rule
) <= {{ limit }}
ORDER BY action, exposure DESC, act_by NULLS LAST, claim_id, claim_key, line_number, rule;

-- name: payer_names
SELECT payer_id, payer_name FROM report_payer_names ORDER BY payer_id;

-- name: provider_names
SELECT npi, provider_name FROM report_provider_names ORDER BY npi;

-- name: finding_count
-- Every finding in scope: time-barred ones and $0 warnings included (a line can carry several).
SELECT count(*) AS findings FROM report_findings;
