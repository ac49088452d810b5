-- recoup warehouse, version 2: what the rules engine keeps between runs.
--   ref.*            the code lists the rules read (loaded by expectations/reference.py from
--                    data/reference/*.csv, overlaid by the run's configuration)
--   mart.findings    one row per (claim line, rule); partitioned by service_month so one month's
--                    findings can be replaced in a single transaction
--   mart.line_exposure  per claim line: the largest exposure among its findings, capped at net paid
--   mart.div_half_even / mart.cents_to_money  exact money arithmetic (DuckDB divides DECIMALs
--                    as DOUBLE, so money is divided as integer cents)

CREATE TABLE ref.timed_codes (
    code          VARCHAR NOT NULL,    -- 90832 ...
    family        VARCHAR NOT NULL,    -- codes of one family are one session priced by time bands
    min_minutes   INTEGER NOT NULL,    -- documented minimum (the band order comes from it)
    max_minutes   INTEGER,             -- documented maximum (null = open)
    is_addon      BOOLEAN NOT NULL,
    source        VARCHAR NOT NULL
);

CREATE TABLE ref.addon_primaries (
    addon_code    VARCHAR NOT NULL,
    relation      VARCHAR NOT NULL,    -- requires (one of these must be billed) | forbidden
    primary_from  VARCHAR NOT NULL,    -- first code of the range (a single code: from = to)
    primary_to    VARCHAR NOT NULL,
    setting       VARCHAR,             -- our own plain label (office E/M, crisis, ...)
    source        VARCHAR NOT NULL
);

CREATE TABLE ref.unit_limits (
    code                    VARCHAR NOT NULL,
    max_units_per_day       DECIMAL(10,3) NOT NULL,
    adjudication_indicator  INTEGER,   -- MUE MAI (1 line, 2 policy per day, 3 clinical per day)
    source                  VARCHAR NOT NULL
);

CREATE TABLE ref.telehealth (
    kind          VARCHAR NOT NULL,    -- place_of_service | modifier
    code          VARCHAR NOT NULL,
    label         VARCHAR,
    source        VARCHAR NOT NULL
);

CREATE TABLE mart.findings (
    claim_id         VARCHAR NOT NULL,
    line_number      INTEGER NOT NULL,
    payer_id         VARCHAR,
    member_id        VARCHAR,
    patient_key      VARCHAR,
    rendering_npi    VARCHAR,
    billing_npi      VARCHAR,
    date_of_service  DATE NOT NULL,
    service_month    DATE NOT NULL,     -- first day of the month of date_of_service (partition key)
    code             VARCHAR,
    rule             VARCHAR NOT NULL,
    net_paid         DECIMAL(18,2) NOT NULL,
    exposure         DECIMAL(18,2) NOT NULL,
    time_barred      BOOLEAN NOT NULL,
    payment_date     DATE,
    lookback_months  INTEGER,
    evidence         VARCHAR,           -- JSON text: the values that made the rule fire
    as_of            DATE NOT NULL
);

CREATE VIEW mart.line_exposure AS
SELECT
    claim_id,
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
GROUP BY claim_id, line_number;

-- num / den rounded half to even, for integers (den > 0). DuckDB's // and % truncate toward zero,
-- so the quotient is floored first.
CREATE MACRO mart.div_half_even(num, den) AS (
    (num // den - CASE WHEN num % den < 0 THEN 1 ELSE 0 END)
    + CASE
        WHEN 2 * (num % den + CASE WHEN num % den < 0 THEN den ELSE 0 END) > den THEN 1
        WHEN 2 * (num % den + CASE WHEN num % den < 0 THEN den ELSE 0 END) = den
             AND (num // den - CASE WHEN num % den < 0 THEN 1 ELSE 0 END) % 2 <> 0 THEN 1
        ELSE 0
      END
);

CREATE MACRO mart.cents_to_money(cents) AS
    CAST(CAST(cents AS DECIMAL(18,0)) * CAST(0.01 AS DECIMAL(3,2)) AS DECIMAL(18,2));
