"""findings.csv and findings.parquet: one row per finding in scope, written by DuckDB itself (exact
DECIMAL(18,2) money, ISO dates, streaming at any size), ordered by claim id, line and rule."""

from __future__ import annotations

from pathlib import Path

import duckdb

from reporting.files import replacing
from reporting.queries import named_queries

FINDING_COLUMNS = (
    "claim_id",
    "line_number",
    "payer_id",
    "member_id",
    "rendering_npi",
    "billing_npi",
    "date_of_service",
    "code",
    "rule",
    "net_paid",
    "exposure",
    "time_barred",
    "payment_date",
    "lookback_months",
    "evidence",
    "claim_key",  # tells apart two claims that share a CLM01 (a reused account number)
)


def _copy(con: duckdb.DuckDBPyConnection, path: Path, options: str) -> Path:
    query = named_queries()["findings_extract"]
    with replacing(path) as temporary:
        target = str(temporary).replace("'", "''")
        con.execute(f"COPY ({query}) TO '{target}' ({options})")
    return path


def write_findings_csv(con: duckdb.DuckDBPyConnection, path: Path) -> Path:
    """The findings of the report's scope as CSV (header; money with two decimals;
    ``true``/``false``; the evidence JSON quoted). Needs the tables of ``scoped_tables``."""
    return _copy(con, path, "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', NEW_LINE '\\n'")


def write_findings_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> Path:
    """The same rows as Parquet (money as DECIMAL(18,2), dates as DATE)."""
    return _copy(con, path, "FORMAT parquet, COMPRESSION zstd")
