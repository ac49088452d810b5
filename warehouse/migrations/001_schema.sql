-- recoup warehouse, version 1.
-- Layers (each a schema you can list with `SELECT schema_name FROM information_schema.schemata`):
--   ledger  file ledger: every file seen, its hash, its landing copy, its fate
--   stg     staging: one table per feed record type, rows exactly as read, each naming its file
--   ref     reference data (fee schedule, payers, code lists), replaced whole on every load
--   mart    models built from staging (coverage spans, net paid, findings, exposure)
-- Money is DECIMAL(18,2); dates are DATE; every stg row carries file_sha256.

CREATE SCHEMA IF NOT EXISTS ledger;
CREATE SCHEMA IF NOT EXISTS stg;
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS mart;

CREATE TABLE ledger.files (
    file_sha256   VARCHAR PRIMARY KEY,   -- hex SHA-256 of the bytes
    file_name     VARCHAR NOT NULL,      -- name as first seen in the inbox
    source_path   VARCHAR NOT NULL,      -- path as first seen
    feed          VARCHAR NOT NULL,      -- claims | eligibility | remittances | sessions | reference
    format        VARCHAR,               -- x12-837p | x12-271 | x12-835 | csv | parquet
    size_bytes    BIGINT NOT NULL,
    received_at   TIMESTAMP NOT NULL,    -- when this run first saw it
    status        VARCHAR NOT NULL,      -- loaded | rejected
    row_counts    VARCHAR,               -- JSON object: table -> rows loaded
    error         VARCHAR,               -- why it was rejected (file, place, problem)
    landing_path  VARCHAR,               -- immutable copy (landing/ or quarantine/)
    run_id        VARCHAR                -- the run that took it in
);

-- 837P -------------------------------------------------------------------------------------------
CREATE TABLE stg.claims (
    file_sha256            VARCHAR NOT NULL,
    claim_id               VARCHAR NOT NULL,  -- CLM01 patient control number
    interchange_control    VARCHAR,           -- ISA13
    transaction_control    VARCHAR,           -- ST02
    submitted_date         DATE,              -- BHT04
    billing_npi            VARCHAR,           -- 2010AA NM1*85 NM109
    billing_tax_id         VARCHAR,           -- 2010AA REF*EI
    payer_id               VARCHAR,           -- 2010BB NM1*PR NM109
    payer_name             VARCHAR,
    member_id              VARCHAR,           -- 2010BA NM1*IL NM109 (subscriber)
    patient_is_subscriber  BOOLEAN,           -- SBR02 = 18 / no 2000C loop
    patient_key            VARCHAR,           -- member_id, or member_id + '~' + dependent name hash
    total_charge           DECIMAL(18,2),     -- CLM02
    place_of_service       VARCHAR,           -- CLM05-1
    frequency_code         VARCHAR,           -- CLM05-3 (1 original, 7 replacement, 8 void)
    original_claim_ref     VARCHAR,           -- REF*F8 payer claim control number
    prior_auth             VARCHAR,           -- REF*G1
    rendering_npi          VARCHAR,           -- 2310B NM1*82 NM109 (claim level)
    diagnosis_codes        VARCHAR[]          -- HI (ABK/ABF qualifiers stripped)
);

CREATE TABLE stg.claim_lines (
    file_sha256          VARCHAR NOT NULL,
    claim_id             VARCHAR NOT NULL,
    line_number          INTEGER NOT NULL,    -- LX01
    procedure_code       VARCHAR NOT NULL,    -- SV101-2
    modifiers            VARCHAR[],           -- SV101-3..6, in order
    charge               DECIMAL(18,2),       -- SV102
    units                DECIMAL(10,3),       -- SV104
    place_of_service     VARCHAR,             -- SV105, else CLM05-1
    date_of_service      DATE NOT NULL,       -- 2400 DTP*472 (first date of a range), else claim DTP*472
    date_of_service_end  DATE,
    line_control_number  VARCHAR,             -- REF*6R
    rendering_npi        VARCHAR              -- 2420A NM1*82, else the claim's, else billing NPI
);

-- 271 --------------------------------------------------------------------------------------------
CREATE TABLE stg.eligibility_responses (
    file_sha256          VARCHAR NOT NULL,
    response_id          VARCHAR NOT NULL,    -- file_sha256[:16] + ':' + ST02 + ':' + subscriber seq
    check_date           DATE NOT NULL,       -- BHT04
    trace_number         VARCHAR,             -- 2000C TRN02
    payer_id             VARCHAR,             -- 2100A NM1*PR NM109
    payer_name           VARCHAR,
    member_id            VARCHAR,             -- 2100C NM1*IL NM109
    is_dependent         BOOLEAN,             -- the response is about a 2000D dependent
    rejection_reason     VARCHAR              -- AAA03 when the payer could not answer
);

CREATE TABLE stg.eligibility_benefits (
    file_sha256          VARCHAR NOT NULL,
    response_id          VARCHAR NOT NULL,
    benefit_seq          INTEGER NOT NULL,    -- order of the EB within the response
    eligibility_code     VARCHAR NOT NULL,    -- EB01
    coverage_status      VARCHAR,             -- active (EB01 1-5) | inactive (6-8) | null (other)
    service_types        VARCHAR[],           -- EB03 (repeating)
    insurance_type       VARCHAR,             -- EB04
    plan_description     VARCHAR,             -- EB05
    coverage_begin       DATE,                -- from 2110 DTP, else 2100 DTP (346/356/291/307)
    coverage_end         DATE,                -- from 2110 DTP, else 2100 DTP (347/357/291/307)
    date_qualifiers      VARCHAR              -- which DTP qualifiers supplied the dates, e.g. '346,347'
);

-- 835 --------------------------------------------------------------------------------------------
CREATE TABLE stg.remit_payments (
    file_sha256          VARCHAR NOT NULL,
    payment_id           VARCHAR NOT NULL,    -- file_sha256[:16] + ':' + ISA13 + ':' + ST02
    transaction_control  VARCHAR,             -- ST02
    handling_code        VARCHAR,             -- BPR01
    total_paid           DECIMAL(18,2),       -- BPR02
    credit_debit         VARCHAR,             -- BPR03
    payment_method       VARCHAR,             -- BPR04
    payment_date         DATE,                -- BPR16
    trace_number         VARCHAR,             -- TRN02 (check / EFT number)
    payer_id             VARCHAR,             -- N1*PR N104, else REF*2U, else TRN03
    payer_name           VARCHAR,
    payee_npi            VARCHAR,             -- N1*PE N104 with N103 = XX
    payee_id             VARCHAR,             -- N1*PE N104 whatever its qualifier
    production_date      DATE                 -- DTM*405
);

CREATE TABLE stg.remit_claims (
    file_sha256          VARCHAR NOT NULL,
    payment_id           VARCHAR NOT NULL,
    claim_seq            INTEGER NOT NULL,    -- order of the CLP within the payment
    claim_id             VARCHAR NOT NULL,    -- CLP01
    status_code          VARCHAR NOT NULL,    -- CLP02
    total_charge         DECIMAL(18,2),       -- CLP03
    paid_amount          DECIMAL(18,2),       -- CLP04
    patient_responsibility DECIMAL(18,2),     -- CLP05
    filing_indicator     VARCHAR,             -- CLP06
    payer_claim_control  VARCHAR,             -- CLP07
    place_of_service     VARCHAR,             -- CLP08
    frequency_code       VARCHAR,             -- CLP09
    member_id            VARCHAR,             -- NM1*IL NM109, else NM1*QC NM109
    rendering_npi        VARCHAR,             -- NM1*82 NM109
    statement_start      DATE,                -- DTM*232
    statement_end        DATE,                -- DTM*233
    received_date        DATE                 -- DTM*050
);

CREATE TABLE stg.remit_lines (
    file_sha256          VARCHAR NOT NULL,
    payment_id           VARCHAR NOT NULL,
    claim_seq            INTEGER NOT NULL,
    line_seq             INTEGER NOT NULL,    -- order of the SVC within the claim
    procedure_qualifier  VARCHAR,             -- SVC01-1 (HC, ...)
    procedure_code       VARCHAR,             -- SVC01-2
    modifiers            VARCHAR[],           -- SVC01-3..6
    charge               DECIMAL(18,2),       -- SVC02
    paid_amount          DECIMAL(18,2),       -- SVC03
    units                DECIMAL(10,3),       -- SVC05 (default 1)
    original_procedure_code VARCHAR,          -- SVC06-2 when the payer changed the code
    date_of_service      DATE,                -- DTM*472, else DTM*150, else the claim's DTM*232
    date_of_service_end  DATE,                -- DTM*151
    line_control_number  VARCHAR              -- REF*6R
);

CREATE TABLE stg.remit_adjustments (
    file_sha256          VARCHAR NOT NULL,
    payment_id           VARCHAR NOT NULL,
    claim_seq            INTEGER NOT NULL,
    line_seq             INTEGER,             -- null for a claim-level CAS
    group_code           VARCHAR NOT NULL,    -- CO PR OA PI CR
    reason_code          VARCHAR NOT NULL,    -- CARC
    amount               DECIMAL(18,2) NOT NULL,
    quantity             DECIMAL(10,3)
);

CREATE TABLE stg.remit_provider_adjustments (
    file_sha256          VARCHAR NOT NULL,
    payment_id           VARCHAR NOT NULL,
    adjustment_seq       INTEGER NOT NULL,    -- order within the payment (one per PLB03/05/.. pair)
    provider_id          VARCHAR,             -- PLB01
    fiscal_period_date   DATE,                -- PLB02
    reason_code          VARCHAR NOT NULL,    -- PLB03-1 (WO, 72, FB, L6, ...)
    reference_id         VARCHAR,             -- PLB03-2 (for WO: the claim reference)
    amount               DECIMAL(18,2) NOT NULL  -- positive reduces the payment
);

-- sessions (EHR) ---------------------------------------------------------------------------------
CREATE TABLE stg.sessions (
    file_sha256          VARCHAR NOT NULL,
    claim_id             VARCHAR NOT NULL,
    line_number          INTEGER,
    minutes              INTEGER,
    note_signed_at       TIMESTAMP,
    phq9                 INTEGER,
    gad7                 INTEGER
);

-- reference overrides from the inbox (reference/ feed), as staged; ref.* is rebuilt from the
-- shipped defaults plus these on every run (a later file wins for the same key)
CREATE TABLE stg.ref_fee_schedule (
    file_sha256     VARCHAR NOT NULL,
    payer_id        VARCHAR NOT NULL,
    code            VARCHAR NOT NULL,
    allowed_amount  DECIMAL(18,2) NOT NULL
);

CREATE TABLE stg.ref_payers (
    file_sha256                   VARCHAR NOT NULL,
    payer_id                      VARCHAR NOT NULL,
    name                          VARCHAR,
    lookback_months               INTEGER,
    telehealth_modifier_required  BOOLEAN
);

-- reference ----------------------------------------------------------------------------------------
CREATE TABLE ref.fee_schedule (
    payer_id        VARCHAR NOT NULL,             -- '*' = any payer
    code            VARCHAR NOT NULL,
    allowed_amount  DECIMAL(18,2) NOT NULL,
    source          VARCHAR NOT NULL              -- shipped | inbox file name
);

CREATE TABLE ref.payers (
    payer_id                      VARCHAR NOT NULL,   -- '*' = defaults
    name                          VARCHAR,
    lookback_months               INTEGER NOT NULL,
    telehealth_modifier_required  BOOLEAN NOT NULL,
    source                        VARCHAR NOT NULL
);
