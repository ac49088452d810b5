-- The worklist of a report, over the temporary tables of scope.sql (and report_rule_actions,
-- which queries.scoped_tables fills from the rule book: one action per rule).

-- report_payer_names: a name for each payer of the report's lines, from the first source that
-- gives one: payers.csv (ref.payers, the practice's own reference), the 835's N1*PR, the 837P's
-- NM1*PR, the 271's NM1*PR; within a source the file received last wins.
CREATE OR REPLACE TEMP TABLE report_payer_names AS
WITH payers AS (
    SELECT DISTINCT payer_id FROM report_lines WHERE payer_id IS NOT NULL
),
named AS (
    SELECT payer_id, name, 1 AS source_rank, NULL::TIMESTAMP AS received_at
    FROM ref.payers
    UNION ALL
    SELECT r.payer_id, r.payer_name, 2, f.received_at
    FROM stg.remit_payments AS r LEFT JOIN ledger.files AS f USING (file_sha256)
    UNION ALL
    SELECT c.payer_id, c.payer_name, 3, f.received_at
    FROM stg.claims AS c LEFT JOIN ledger.files AS f USING (file_sha256)
    UNION ALL
    SELECT e.payer_id, e.payer_name, 4, f.received_at
    FROM stg.eligibility_responses AS e LEFT JOIN ledger.files AS f USING (file_sha256)
)
SELECT payer_id, trim(name) AS payer_name
FROM named
SEMI JOIN payers USING (payer_id)
WHERE trim(coalesce(name, '')) <> ''
QUALIFY row_number() OVER (
    PARTITION BY payer_id ORDER BY source_rank, received_at DESC NULLS LAST, trim(name)
) = 1;

-- report_provider_names: a name for each rendering and billing NPI of the report's lines, from
-- the 837P (NM1*82 rendering, NM1*85 billing provider: organisations and clinicians, never a
-- member); the file received last wins, a rendering provider's own NM1*82 before NM1*85.
CREATE OR REPLACE TEMP TABLE report_provider_names AS
WITH npis AS (
    SELECT rendering_npi AS npi FROM report_lines WHERE rendering_npi IS NOT NULL
    UNION
    SELECT billing_npi FROM report_lines WHERE billing_npi IS NOT NULL
),
named AS (
    SELECT l.rendering_npi AS npi, l.rendering_provider_name AS name, 1 AS source_rank,
           f.received_at
    FROM stg.claim_lines AS l LEFT JOIN ledger.files AS f USING (file_sha256)
    UNION ALL
    SELECT c.rendering_npi, c.rendering_provider_name, 1, f.received_at
    FROM stg.claims AS c LEFT JOIN ledger.files AS f USING (file_sha256)
    UNION ALL
    SELECT c.billing_npi, c.billing_provider_name, 2, f.received_at
    FROM stg.claims AS c LEFT JOIN ledger.files AS f USING (file_sha256)
)
SELECT npi, trim(name) AS provider_name
FROM named
SEMI JOIN npis USING (npi)
WHERE trim(coalesce(name, '')) <> ''
QUALIFY row_number() OVER (
    PARTITION BY npi ORDER BY source_rank, received_at DESC NULLS LAST, trim(name)
) = 1;

-- report_work: every finding in scope with what to do about it and by when. act_by is the last
-- day the payer can still recoup the payment: payment date + the payer's look-back; the finding is
-- time-barred from the day after (catalog.py: payment_date + look-back < as_of).
CREATE OR REPLACE TEMP TABLE report_work AS
SELECT
    f.*,
    a.action,
    CAST(f.payment_date + to_months(f.lookback_months) AS DATE) AS act_by,
    p.payer_name,
    n.provider_name
FROM report_findings AS f
LEFT JOIN report_rule_actions AS a USING (rule)
LEFT JOIN report_payer_names AS p USING (payer_id)
LEFT JOIN report_provider_names AS n ON n.npi = f.rendering_npi;
