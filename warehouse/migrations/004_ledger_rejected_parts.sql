-- Two levels of rejection (SPEC "Structural checks"): a file can load while some of its parts
-- (an 837P claim, a 271 subscriber, an 835 transaction set) are rejected on their own. The
-- ledger keeps every rejected part with its place and reason, and what a file held in all.

ALTER TABLE ledger.files ADD COLUMN parts_total INTEGER;   -- claims / subscribers / transactions read
ALTER TABLE ledger.files ADD COLUMN part_kind VARCHAR;     -- claims | subscribers | transactions
ALTER TABLE ledger.files ADD COLUMN warnings VARCHAR;      -- JSON list: what was accepted leniently

CREATE TABLE ledger.rejected_parts (
    file_sha256          VARCHAR NOT NULL,   -- the file (loaded; its other parts are staged)
    level                VARCHAR NOT NULL,   -- claim | subscriber | transaction
    part                 VARCHAR NOT NULL,   -- CLM01, "subscriber N" or the ST02 (never a name)
    interchange_control  VARCHAR,            -- ISA13
    transaction_control  VARCHAR,            -- ST02
    segment_index        INTEGER,            -- 1-based segment of the defect
    segment_id           VARCHAR,
    line                 INTEGER,
    col                  INTEGER,
    reason               VARCHAR NOT NULL,
    run_id               VARCHAR
);
