"""SQL the benchmark harness runs with DuckDB alone: turn a loaded X12 warehouse into CSV/Parquet
feeds (the README's schemas), and load such feeds into staging for the plain-DuckDB baseline.

No Python touches a row: every statement here is one DuckDB query over whole files or tables.
"""

from __future__ import annotations

# ---- export: staging tables of an X12 run -> README feed files, one file per source X12 file ---
# A hive-partitioned COPY writes <feed>/src=<source file stem>/data_0.<ext>; recoup reads
# sub-folders of a feed folder, so each source file becomes one feed file. {suffix} makes ids
# distinct when a feed is replicated to reach 10M lines ('' for the first copy).

EXPORT_CLAIMS = """
COPY (
    SELECT
        replace(f.file_name, '/', '_') || '{suffix}' AS src,
        c.claim_id || '{suffix}' AS claim_id, l.line_number, c.member_id || '{suffix}' AS member_id,
        c.payer_id, c.billing_npi, l.rendering_npi, l.date_of_service, l.procedure_code,
        array_to_string(l.modifiers, ':') AS modifiers, l.units, l.charge,
        l.place_of_service, c.frequency_code, l.line_control_number || '{suffix}'
            AS line_control_number, c.payer_name
    FROM stg.claims AS c
    JOIN stg.claim_lines AS l
      ON l.file_sha256 = c.file_sha256 AND l.claim_id = c.claim_id
     AND l.claim_seq IS NOT DISTINCT FROM c.claim_seq
    JOIN ledger.files AS f ON f.file_sha256 = c.file_sha256
    -- a CSV groups a file's lines by claim_id: keep the first claim of a reused CLM01 per file
    QUALIFY dense_rank() OVER (PARTITION BY c.file_sha256, c.claim_id ORDER BY c.claim_seq) = 1
    ORDER BY src, c.claim_seq, l.line_number
) TO '{out}/claims' (FORMAT {fmt}, PARTITION_BY (src), OVERWRITE_OR_IGNORE)
"""

EXPORT_ELIGIBILITY = """
COPY (
    SELECT
        replace(f.file_name, '/', '_') || '{suffix}' AS src,
        r.member_id || '{suffix}' AS member_id, r.payer_id, r.check_date,
        b.coverage_status AS status, b.coverage_begin, b.coverage_end,
        b.service_types[1] AS service_type
    FROM stg.eligibility_responses AS r
    JOIN stg.eligibility_benefits AS b USING (file_sha256, response_id)
    JOIN ledger.files AS f USING (file_sha256)
    WHERE b.coverage_status IS NOT NULL AND r.member_id IS NOT NULL
      AND (b.coverage_begin IS NULL OR b.coverage_end IS NULL
           OR b.coverage_begin <= b.coverage_end)
    ORDER BY src, r.response_id, b.benefit_seq
) TO '{out}/eligibility' (FORMAT {fmt}, PARTITION_BY (src), OVERWRITE_OR_IGNORE)
"""

EXPORT_REMITTANCES = """
COPY (
    SELECT
        replace(f.file_name, '/', '_') || '{suffix}' AS src,
        p.trace_number || '{suffix}' AS trace_number, p.payment_date, p.payer_id,
        c.claim_id || '{suffix}' AS claim_id, c.status_code AS claim_status, l.procedure_code,
        array_to_string(l.modifiers, ':') AS modifiers, l.date_of_service,
        l.line_control_number || '{suffix}' AS line_control_number, l.charge, l.paid_amount,
        l.units, p.payee_npi
    FROM stg.remit_payments AS p
    JOIN stg.remit_claims AS c USING (file_sha256, payment_id)
    JOIN stg.remit_lines AS l USING (file_sha256, payment_id, claim_seq)
    JOIN ledger.files AS f USING (file_sha256)
    WHERE l.date_of_service IS NOT NULL AND l.procedure_code IS NOT NULL
    ORDER BY src, p.payment_id, c.claim_seq, l.line_seq
) TO '{out}/remittances/lines' (FORMAT {fmt}, PARTITION_BY (src), OVERWRITE_OR_IGNORE)
"""

EXPORT_ADJUSTMENTS = """
COPY (
    SELECT
        replace(f.file_name, '/', '_') || '{suffix}' AS src,
        p.trace_number || '{suffix}' AS trace_number, p.payment_date, p.payer_id,
        a.provider_id, a.reason_code, a.reference_id || '{suffix}' AS reference_id, a.amount
    FROM stg.remit_payments AS p
    JOIN stg.remit_provider_adjustments AS a USING (file_sha256, payment_id)
    JOIN ledger.files AS f USING (file_sha256)
    ORDER BY src, p.payment_id, a.adjustment_seq
) TO '{out}/remittances/adjustments' (FORMAT {fmt}, PARTITION_BY (src), OVERWRITE_OR_IGNORE)
"""

EXPORT_SESSIONS = """
COPY (
    SELECT
        replace(f.file_name, '/', '_') || '{suffix}' AS src,
        s.claim_id || '{suffix}' AS claim_id, s.line_number, s.minutes,
        strftime(s.note_signed_at, '%Y-%m-%dT%H:%M:%S') AS note_signed_at, s.phq9, s.gad7
    FROM stg.sessions AS s
    JOIN ledger.files AS f USING (file_sha256)
    ORDER BY src, s.rowid
) TO '{out}/sessions' (FORMAT {fmt}, PARTITION_BY (src), OVERWRITE_OR_IGNORE)
"""

EXPORTS = (
    EXPORT_CLAIMS,
    EXPORT_ELIGIBILITY,
    EXPORT_REMITTANCES,
    EXPORT_ADJUSTMENTS,
    EXPORT_SESSIONS,
)

# ---- baseline load: feed files -> staging, as loading/feeds.py maps them, in SQL -------------
# {inbox} is the feed folder, {reader} read_csv(..., all_varchar) or read_parquet; file_sha256 is
# the SHA-256 of the file's path (the baseline hashes no bytes: it only needs a key per file).

_READ = "{reader}('{inbox}/{glob}'{options})"

LOAD_LEDGER = """
INSERT INTO ledger.files (file_sha256, file_name, source_path, feed, format, size_bytes,
                          received_at, status)
SELECT sha256(file), file, file, split_part(replace(file, '{inbox}/', ''), '/', 1), '{fmt}', 0,
       TIMESTAMP '2026-01-01' + to_microseconds(row_number() OVER (ORDER BY file)), 'loaded'
FROM glob('{inbox}/**/*.*') AS g(file)
"""

LOAD_CLAIMS = """
CREATE OR REPLACE TEMP TABLE raw_claims AS
SELECT sha256(filename) AS file_sha256, * EXCLUDE (filename)
FROM {read};
INSERT INTO stg.claims BY NAME
SELECT file_sha256, claim_id, first(payer_id) AS payer_id, first(payer_name) AS payer_name,
       first(member_id) AS member_id, first(member_id) AS patient_key,
       TRUE AS patient_is_subscriber, first(billing_npi) AS billing_npi,
       sum(CAST(charge AS DECIMAL(18,2))) AS total_charge,
       first(place_of_service) AS place_of_service,
       coalesce(first(frequency_code), '1') AS frequency_code,
       first(rendering_npi) AS rendering_npi
FROM raw_claims
GROUP BY file_sha256, claim_id;
INSERT INTO stg.claim_lines BY NAME
SELECT file_sha256, claim_id, CAST(line_number AS INTEGER) AS line_number,
       upper(procedure_code) AS procedure_code,
       string_split(upper(modifiers), ':') AS modifiers,
       CAST(charge AS DECIMAL(18,2)) AS charge,
       coalesce(CAST(units AS DECIMAL(10,3)), 1) AS units, place_of_service,
       CAST(date_of_service AS DATE) AS date_of_service, line_control_number,
       coalesce(rendering_npi, billing_npi) AS rendering_npi
FROM raw_claims;
"""

LOAD_ELIGIBILITY = """
CREATE OR REPLACE TEMP TABLE raw_eligibility AS
SELECT sha256(filename) AS file_sha256, *  EXCLUDE (filename),
       left(sha256(filename), 16) || ':csv:' || dense_rank() OVER (
           PARTITION BY filename ORDER BY member_id, payer_id, CAST(check_date AS DATE)
       ) AS response_id,
       row_number() OVER () AS row_order
FROM {read};
INSERT INTO stg.eligibility_responses BY NAME
SELECT file_sha256, response_id, CAST(first(check_date) AS DATE) AS check_date,
       first(payer_id) AS payer_id, first(member_id) AS member_id, FALSE AS is_dependent
FROM raw_eligibility
GROUP BY file_sha256, response_id;
INSERT INTO stg.eligibility_benefits BY NAME
SELECT file_sha256, response_id,
       CAST(row_number() OVER (PARTITION BY response_id ORDER BY row_order) AS INTEGER)
           AS benefit_seq,
       CASE WHEN status = 'active' THEN '1' ELSE '6' END AS eligibility_code,
       status AS coverage_status,
       CASE WHEN service_type IS NULL THEN NULL ELSE [service_type] END AS service_types,
       CAST(coverage_begin AS DATE) AS coverage_begin, CAST(coverage_end AS DATE) AS coverage_end
FROM raw_eligibility;
"""

LOAD_REMITTANCES = """
CREATE OR REPLACE TEMP TABLE raw_remittances AS
WITH keyed AS (
    SELECT sha256(filename) AS file_sha256, * EXCLUDE (filename),
           left(sha256(filename), 16) || ':csv:' || dense_rank() OVER (
               PARTITION BY filename ORDER BY trace_number, payer_id, CAST(payment_date AS DATE)
           ) AS payment_id,
           row_number() OVER () AS row_order
    FROM {read}
)
SELECT *,
       CAST(dense_rank() OVER (PARTITION BY payment_id ORDER BY claim_id, claim_status)
            AS INTEGER) AS claim_seq
FROM keyed;
INSERT INTO stg.remit_payments BY NAME
SELECT file_sha256, payment_id, sum(CAST(paid_amount AS DECIMAL(18,2))) AS total_paid,
       CAST(first(payment_date) AS DATE) AS payment_date, first(trace_number) AS trace_number,
       first(payer_id) AS payer_id, first(payee_npi) AS payee_npi
FROM raw_remittances
GROUP BY file_sha256, payment_id;
INSERT INTO stg.remit_claims BY NAME
SELECT file_sha256, payment_id, claim_seq, first(claim_id) AS claim_id,
       first(claim_status) AS status_code, sum(CAST(charge AS DECIMAL(18,2))) AS total_charge,
       sum(CAST(paid_amount AS DECIMAL(18,2))) AS paid_amount
FROM raw_remittances
GROUP BY file_sha256, payment_id, claim_seq;
INSERT INTO stg.remit_lines BY NAME
SELECT file_sha256, payment_id, claim_seq,
       CAST(row_number() OVER (PARTITION BY payment_id, claim_seq ORDER BY row_order) AS INTEGER)
           AS line_seq,
       'HC' AS procedure_qualifier, upper(procedure_code) AS procedure_code,
       string_split(upper(modifiers), ':') AS modifiers, CAST(charge AS DECIMAL(18,2)) AS charge,
       CAST(paid_amount AS DECIMAL(18,2)) AS paid_amount,
       coalesce(CAST(units AS DECIMAL(10,3)), 1) AS units,
       CAST(date_of_service AS DATE) AS date_of_service, line_control_number
FROM raw_remittances;
"""

LOAD_ADJUSTMENTS = """
CREATE OR REPLACE TEMP TABLE raw_adjustments AS
SELECT sha256(filename) AS file_sha256, * EXCLUDE (filename),
       left(sha256(filename), 16) || ':csv:' || dense_rank() OVER (
           PARTITION BY filename ORDER BY trace_number, payer_id, CAST(payment_date AS DATE)
       ) AS payment_id,
       row_number() OVER () AS row_order
FROM {read};
INSERT INTO stg.remit_payments BY NAME
SELECT file_sha256, payment_id, -sum(CAST(amount AS DECIMAL(18,2))) AS total_paid,
       CAST(first(payment_date) AS DATE) AS payment_date, first(trace_number) AS trace_number,
       first(payer_id) AS payer_id
FROM raw_adjustments
GROUP BY file_sha256, payment_id;
INSERT INTO stg.remit_provider_adjustments BY NAME
SELECT file_sha256, payment_id,
       CAST(row_number() OVER (PARTITION BY payment_id ORDER BY row_order) AS INTEGER)
           AS adjustment_seq,
       provider_id, CAST(payment_date AS DATE) AS fiscal_period_date,
       upper(reason_code) AS reason_code, reference_id, CAST(amount AS DECIMAL(18,2)) AS amount
FROM raw_adjustments;
"""

LOAD_SESSIONS = """
INSERT INTO stg.sessions BY NAME
SELECT sha256(filename) AS file_sha256, claim_id, CAST(line_number AS INTEGER) AS line_number,
       CAST(minutes AS INTEGER) AS minutes, CAST(note_signed_at AS TIMESTAMP) AS note_signed_at,
       CAST(phq9 AS INTEGER) AS phq9, CAST(gad7 AS INTEGER) AS gad7
FROM {read};
"""

LOAD_REFERENCE = """
INSERT INTO stg.ref_fee_schedule BY NAME
SELECT sha256(filename) AS file_sha256, payer_id, code,
       CAST(allowed_amount AS DECIMAL(18,2)) AS allowed_amount
FROM {read_fees};
INSERT INTO stg.ref_payers BY NAME
SELECT sha256(filename) AS file_sha256, payer_id, name,
       CAST(lookback_months AS INTEGER) AS lookback_months,
       CAST(telehealth_modifier_required AS BOOLEAN) AS telehealth_modifier_required
FROM {read_payers};
"""


def _reader(inbox: str, glob: str, fmt: str) -> str:
    if fmt == "parquet":
        return _READ.format(
            reader="read_parquet", inbox=inbox, glob=glob, options=", filename = true"
        )
    return _READ.format(
        reader="read_csv",
        inbox=inbox,
        glob=glob,
        options=", all_varchar = true, filename = true, union_by_name = true, header = true",
    )


def load_statements(inbox: str, fmt: str) -> list[str]:
    """The baseline's load: every statement, in order, for a feed folder of ``fmt`` files
    (``csv`` or ``parquet``; the reference overrides are always CSV)."""
    ext = "csv" if fmt == "csv" else "parquet"
    statements = [LOAD_LEDGER.format(inbox=inbox, fmt=fmt)]
    for template, glob in (
        (LOAD_CLAIMS, f"claims/**/*.{ext}"),
        (LOAD_ELIGIBILITY, f"eligibility/**/*.{ext}"),
        (LOAD_REMITTANCES, f"remittances/lines/**/*.{ext}"),
        (LOAD_ADJUSTMENTS, f"remittances/adjustments/**/*.{ext}"),
        (LOAD_SESSIONS, f"sessions/**/*.{ext}"),
    ):
        statements.append(template.format(read=_reader(inbox, glob, fmt)))
    statements.append(
        LOAD_REFERENCE.format(
            read_fees=_reader(inbox, "reference/fee_schedule*.csv", "csv"),
            read_payers=_reader(inbox, "reference/payers*.csv", "csv"),
        )
    )
    return statements
