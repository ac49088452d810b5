-- Scalar macros the rules share, created with the marts (build_models) and stored in the
-- warehouse, so every connection to it (the rules run, the GX suite) sees the same definition.
--
-- downcode_exposure(net_paid, allowed_amount): what a payer takes back when it downcodes a paid
-- line to a lower code: net paid minus the allowed amount of the code the service supports,
-- never below 0; the whole net paid when that code has no allowed amount (NULL: no supported code,
-- or no fee-schedule row for it).
CREATE OR REPLACE MACRO mart.downcode_exposure(net_paid, allowed_amount) AS
    CASE
        WHEN allowed_amount IS NULL THEN net_paid
        ELSE greatest(net_paid - allowed_amount, 0)
    END;
