-- recoup warehouse, version 6: the names of providers as the 837P gives them, so the reports can
-- show a name beside an NPI. Providers only (NM1*85 billing provider, NM1*82 rendering provider:
-- organisations and clinicians); member and patient names are never stored.
--   stg.claims.billing_provider_name     NM1*85 (2010AA) NM103, with NM104 for a person
--   stg.claims.rendering_provider_name   NM1*82 of the claim (2310B)
--   stg.claim_lines.rendering_provider_name  the name of the line's rendering provider: NM1*82
--                                        of the line (2420A), else of the claim, else the billing
--                                        provider (the NPI of rendering_npi comes the same way)
-- Claims loaded from CSV/Parquet, or before this version, have none (NULL).
ALTER TABLE stg.claims ADD COLUMN billing_provider_name VARCHAR;
ALTER TABLE stg.claims ADD COLUMN rendering_provider_name VARCHAR;
ALTER TABLE stg.claim_lines ADD COLUMN rendering_provider_name VARCHAR;
