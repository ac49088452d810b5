"""findings.csv and findings.parquet: one row per finding in scope, written by DuckDB itself (exact
DECIMAL(18,2) money, ISO dates, streaming at any size), ordered by claim id, line and rule.

findings.csv is for spreadsheets: its text cells that a spreadsheet would run as a formula are
escaped (reporting/cells.py); findings.parquet keeps the values as they are. With a
``--deidentify`` key both carry pseudonyms instead of member ids (reporting/deidentify.py),
in the member_id column and inside the evidence JSON."""

from __future__ import annotations

from pathlib import Path

import duckdb

from reporting import deidentify
from reporting.cells import escape_cell_sql
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
    # the worklist (appended: earlier columns keep their places): what to do about the finding,
    # the last day the payer can recoup it, and the names beside payer_id and rendering_npi
    "action",
    "act_by",
    "payer_name",
    "provider_name",
)


# Columns that hold text from the feeds or the rules (the others are numbers, dates, booleans).
TEXT_COLUMNS = frozenset(
    ("claim_id", "payer_id", "member_id", "rendering_npi", "billing_npi", "code", "rule",
     "claim_key", "action", "payer_name", "provider_name")
)  # fmt: skip


def _query(*, spreadsheet: bool, pseudonyms: str | None) -> str:
    """The findings query, its cells escaped for a spreadsheet and its member ids replaced by
    ``pseudonyms(member_id)`` (a registered SQL function) when asked."""
    query = named_queries()["findings_extract"]
    if not spreadsheet and pseudonyms is None:
        return query
    columns = []
    for name in FINDING_COLUMNS:
        expression = f"findings.{name}"
        if pseudonyms is not None and name == "member_id":
            expression = f"{pseudonyms}(findings.member_id)"
        if pseudonyms is not None and name == "evidence":
            # the member id as a JSON string anywhere in the evidence (coverage rules name it)
            expression = (
                "CASE WHEN findings.member_id IS NULL THEN findings.evidence ELSE replace("
                "findings.evidence, CAST(to_json(findings.member_id) AS VARCHAR), "
                f"CAST(to_json({pseudonyms}(findings.member_id)) AS VARCHAR)) END"
            )
        if spreadsheet and name in TEXT_COLUMNS:
            expression = escape_cell_sql(expression)
        columns.append(f"{expression} AS {name}")
    order = "findings.claim_id, findings.claim_key, findings.line_number, findings.rule"
    return f"SELECT {', '.join(columns)} FROM ({query}) AS findings ORDER BY {order}"


def _copy(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: str,
    *,
    spreadsheet: bool,
    pseudonym_key: bytes | None,
) -> Path:
    pseudonyms = None if pseudonym_key is None else deidentify.register(con, pseudonym_key)
    query = _query(spreadsheet=spreadsheet, pseudonyms=pseudonyms)
    with replacing(path) as temporary:
        target = str(temporary).replace("'", "''")
        con.execute(f"COPY ({query}) TO '{target}' ({options})")
    return path


def write_findings_csv(
    con: duckdb.DuckDBPyConnection, path: Path, *, pseudonym_key: bytes | None = None
) -> Path:
    """The findings of the report's scope as CSV (header; money with two decimals;
    ``true``/``false``; the evidence JSON quoted; text cells escaped for spreadsheets). Needs
    the tables of ``scoped_tables``."""
    return _copy(
        con,
        path,
        "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', NEW_LINE '\\n'",
        spreadsheet=True,
        pseudonym_key=pseudonym_key,
    )


def write_findings_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, *, pseudonym_key: bytes | None = None
) -> Path:
    """The same rows as Parquet (money as DECIMAL(18,2), dates as DATE, values unescaped)."""
    return _copy(
        con,
        path,
        "FORMAT parquet, COMPRESSION zstd",
        spreadsheet=False,
        pseudonym_key=pseudonym_key,
    )
