-- recoup warehouse, version 8: each payer's appeal deadline.
--   appeal_days: how many days after the remittance date a takeback can still be appealed
--   (payers.csv column appeal_days, optional; the '*' row sets the default, else 60). NULL in a
--   warehouse migrated from an earlier version until the next reference rebuild fills it.
ALTER TABLE stg.ref_payers ADD COLUMN appeal_days INTEGER;
ALTER TABLE ref.payers ADD COLUMN appeal_days INTEGER;
