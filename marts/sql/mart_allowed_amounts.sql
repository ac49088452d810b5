-- mart.allowed_amounts: the allowed amount of each code for each payer that has claims, from the
-- payer's fee schedule row, else the default ('*') row. A (payer, code) with neither has no row:
-- a downcode to it cannot be priced.
CREATE OR REPLACE TABLE mart.allowed_amounts AS
WITH fees AS (
    SELECT payer_id, code, allowed_amount
    FROM ref.fee_schedule
    QUALIFY row_number() OVER (PARTITION BY payer_id, code ORDER BY rowid DESC) = 1
),
payers AS (
    SELECT DISTINCT payer_id FROM mart.claim_lines WHERE payer_id IS NOT NULL
),
codes AS (
    SELECT DISTINCT code FROM fees
)
SELECT
    p.payer_id,
    c.code,
    coalesce(own.allowed_amount, fallback.allowed_amount) AS allowed_amount,
    CASE WHEN own.allowed_amount IS NOT NULL THEN 'payer' ELSE 'default' END AS fee_source
FROM payers AS p
CROSS JOIN codes AS c
LEFT JOIN fees AS own ON own.payer_id = p.payer_id AND own.code = c.code
LEFT JOIN fees AS fallback ON fallback.payer_id = '*' AND fallback.code = c.code
WHERE coalesce(own.allowed_amount, fallback.allowed_amount) IS NOT NULL;
