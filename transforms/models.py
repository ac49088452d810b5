"""The mart layer: models rebuilt from staging on every run, for one as-of date.

Each model is one file in ``transforms/sql/models`` (``mart_<table>.sql``) holding one
``CREATE OR REPLACE TABLE mart.<table>`` statement. ``build_models`` runs them in dependency order
inside one transaction, so readers see either the previous build or the new one, never a mix.

SQL files take parameters as ``{{ name }}`` placeholders, replaced by SQL literals
(``render_sql``); the same templating serves the rule queries in ``expectations/``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

MODELS_DIR = Path(__file__).parent / "sql" / "models"

# Dependency order: each model reads only staging, ref and the models above it.
MODELS: tuple[str, ...] = (
    "mart_claims",
    "mart_claim_lines",
    "mart_line_payment_events",
    "mart_line_payments",
    "mart_unmatched_remittances",
    "mart_paid_lines",
    "mart_realized_recoupments",
    "mart_eligibility_checks",
    "mart_coverage_segments",
    "mart_coverage_spans",
    "mart_sessions_by_line",
    "mart_allowed_amounts",
    "mart_payer_policies",
    "mart_build_info",
)

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")

SqlValue = str | int | float | bool | date | Decimal | Sequence[str] | Sequence[int] | None


def sql_literal(value: SqlValue) -> str:
    """``value`` written as a DuckDB literal (strings quoted, dates typed, lists as lists)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return f"CAST('{value}' AS DECIMAL(18,4))"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, Sequence):
        items = [sql_literal(item) for item in value]
        return "[" + ", ".join(items) + "]" if items else "[]::VARCHAR[]"
    raise TypeError(f"cannot write {value!r} as a SQL literal")


def placeholders(template: str) -> set[str]:
    """The parameter names a SQL template uses."""
    return set(_PLACEHOLDER.findall(template))


def render_sql(template: str, params: Mapping[str, SqlValue]) -> str:
    """Replace every ``{{ name }}`` with the literal of ``params[name]``; unknown names raise."""
    missing = placeholders(template) - set(params)
    if missing:
        raise KeyError(f"SQL parameters not provided: {', '.join(sorted(missing))}")
    return _PLACEHOLDER.sub(lambda match: sql_literal(params[match.group(1)]), template)


def model_sql(name: str, as_of: date) -> str:
    """The rendered SQL of one model."""
    return render_sql((MODELS_DIR / f"{name}.sql").read_text(), {"as_of": as_of})


def build_models(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, int]:
    """Rebuild every mart model for ``as_of`` in one transaction; returns rows per table.

    Knowledge is as of ``as_of``: eligibility responses with a check date after it and 835s paid
    after it are left out (claims and sessions are taken as loaded).
    """
    con.execute("BEGIN TRANSACTION")
    try:
        for name in MODELS:
            con.execute(model_sql(name, as_of))
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    counts: dict[str, int] = {}
    for name in MODELS:
        table = "mart." + name.removeprefix("mart_")
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def built_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The as-of date the mart was last built for, or None when it was never built."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'mart' AND table_name = 'build_info'"
    ).fetchone()
    if not exists or not exists[0]:
        return None
    row = con.execute("SELECT as_of FROM mart.build_info").fetchone()
    return row[0] if row else None
