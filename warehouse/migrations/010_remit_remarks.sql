-- recoup warehouse, migration 010: the remark codes (RARCs) of 835 remittances, staged next to the
-- CAS reason codes so a takeback's "what the payer said" can quote them (issue 12, item 1).
-- A service line's LQ*HE (loop 2110, after its SVC) gives a line-level row; an outpatient claim's
-- MOA03..MOA07 (loop 2100) give claim-level rows. Both 835 readers fill it.
CREATE TABLE stg.remit_remarks (
    file_sha256          VARCHAR NOT NULL,
    payment_id           VARCHAR NOT NULL,
    claim_seq            INTEGER NOT NULL,
    line_seq             INTEGER,             -- the SVC's line_seq; null for a claim-level MOA
    level                VARCHAR NOT NULL,    -- 'line' (LQ) | 'claim' (MOA)
    source               VARCHAR NOT NULL,    -- 'LQ02' | 'MOA03' .. 'MOA07'
    code                 VARCHAR NOT NULL     -- the RARC (N30, M127, ...)
);
