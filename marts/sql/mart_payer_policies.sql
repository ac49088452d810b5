-- mart.payer_policies: look-back and telehealth policy of each payer that has claims or a row in
-- ref.payers, from its own row, else the default ('*') row. NULL when neither says: the rules
-- engine then applies its configured default (24 months; no telehealth modifier required).
CREATE OR REPLACE TABLE mart.payer_policies AS
WITH payer_rows AS (
    SELECT *
    FROM ref.payers
    QUALIFY row_number() OVER (PARTITION BY payer_id ORDER BY rowid DESC) = 1
),
payers AS (
    SELECT DISTINCT payer_id FROM mart.claim_lines WHERE payer_id IS NOT NULL
    UNION
    SELECT payer_id FROM payer_rows WHERE payer_id <> '*'
)
SELECT
    p.payer_id,
    coalesce(own.name, p.payer_id) AS name,
    coalesce(own.lookback_months, fallback.lookback_months) AS lookback_months,
    coalesce(own.telehealth_modifier_required, fallback.telehealth_modifier_required)
        AS telehealth_modifier_required,
    CASE WHEN own.payer_id IS NOT NULL THEN 'payer'
         WHEN fallback.payer_id IS NOT NULL THEN 'default' END AS policy_source
FROM payers AS p
LEFT JOIN payer_rows AS own ON own.payer_id = p.payer_id
LEFT JOIN payer_rows AS fallback ON fallback.payer_id = '*';
