-- recoup warehouse, version 10: each stored finding remembers which submission of its claim was
-- current that night (mart.claims file_sha256 + ':' + claim_seq), so the next night says
-- "corrected" only when the claim's current submission changed since (or the claim is gone),
-- not whenever the current submission happens to be a replacement sent weeks before.
-- NULL for nights stored before this version: those compare as before (a replacement, frequency
-- 7, as the current submission counts as corrected).
ALTER TABLE history.night_findings ADD COLUMN submission VARCHAR;
