-- recoup warehouse, version 7: what each nightly report found, kept night after night, so the
-- next nightly can say what is new, grown or resolved since the previous one (issue 14, item 2).
-- A schema of its own: it is written by the report step, not read by marts or rules, so it stays
-- out of the content fingerprints of flows/incremental.py (a stored night never forces a rebuild).

CREATE SCHEMA IF NOT EXISTS history;

-- One row per nightly run (its as-of date): the night's open exposure and counts, as its
-- exposure.json said. A rerun of the same night replaces its row and its findings.
CREATE TABLE history.nights (
    as_of                DATE PRIMARY KEY,
    open_exposure        DECIMAL(18,2) NOT NULL,   -- totals.open_exposure (lines, capped)
    open_exposure_lines  INTEGER NOT NULL,
    open_findings        INTEGER NOT NULL          -- rows below for this night
);

-- Every finding of that night that was not time-barred (warnings included): its key and the
-- amount at risk (the finding's exposure), with the line's net paid (to tell "paid back").
CREATE TABLE history.night_findings (
    as_of            DATE NOT NULL,
    claim_key        VARCHAR NOT NULL,
    claim_id         VARCHAR NOT NULL,
    line_number      INTEGER NOT NULL,
    rule             VARCHAR NOT NULL,
    exposure         DECIMAL(18,2) NOT NULL,
    net_paid         DECIMAL(18,2) NOT NULL,
    PRIMARY KEY (as_of, claim_key, line_number, rule)
);
