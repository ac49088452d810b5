-- recoup warehouse, version 5: a claim's identity survives a reused CLM01.
-- CLM01 is the practice's patient control number, and practices reuse account numbers: one file
-- may hold two claims with one CLM01. claim_seq (the order of the CLM in its 837P file, 1-based;
-- null for CSV/Parquet claims, which are grouped by claim_id) tells them and their lines apart.
-- mart.findings gains claim_key, the stable key of the claim (see docs/decisions.md "Claim
-- identity"): claim_id stays the CLM01 and claim_key keeps two claims with one CLM01 distinct.
ALTER TABLE stg.claims ADD COLUMN claim_seq INTEGER;
ALTER TABLE stg.claim_lines ADD COLUMN claim_seq INTEGER;
ALTER TABLE mart.findings ADD COLUMN claim_key VARCHAR;

-- per claim line, now keyed by (claim_key, line_number): two claims with one CLM01 both keep
-- their findings
CREATE OR REPLACE VIEW mart.line_exposure AS
SELECT
    claim_key,
    any_value(claim_id) AS claim_id,
    line_number,
    any_value(payer_id) AS payer_id,
    any_value(member_id) AS member_id,
    any_value(rendering_npi) AS rendering_npi,
    any_value(billing_npi) AS billing_npi,
    any_value(date_of_service) AS date_of_service,
    any_value(service_month) AS service_month,
    any_value(code) AS code,
    any_value(net_paid) AS net_paid,
    CAST(least(max(exposure), any_value(net_paid)) AS DECIMAL(18,2)) AS exposure,
    bool_or(time_barred) AS time_barred,
    CAST(CASE WHEN bool_or(time_barred) THEN 0
              ELSE least(max(exposure), any_value(net_paid)) END AS DECIMAL(18,2)) AS open_exposure,
    CAST(CASE WHEN bool_or(time_barred) THEN least(max(exposure), any_value(net_paid))
              ELSE 0 END AS DECIMAL(18,2)) AS time_barred_exposure,
    list_sort(list(rule)) AS rules,
    count(*) AS findings
FROM mart.findings
GROUP BY claim_key, line_number;
