"""The report's SQL: the scoped temporary tables (``sql/scope.sql``, then the worklist's
``sql/work_tables.sql``) and the named queries over them (``sql/summary.sql`` and ``sql/work.sql``,
one ``-- name: <query>`` block each)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from marts.build import built_as_of
from marts.templating import SqlValue, render_sql
from reporting.scope import Scope

SQL_DIR = Path(__file__).parent / "sql"
TEMP_TABLES = (
    "report_lines",
    "report_findings",
    "report_claims",
    "report_recoupments",
    "report_unmatched",
    "report_provider_shares",
    "report_rule_actions",
    "report_payer_names",
    "report_provider_names",
    "report_work",
)
NAMED_QUERY_FILES = ("summary.sql", "work.sql")
_NAME = re.compile(r"^-- name: ([a-z_]+)\s*$", re.MULTILINE)


class ReportInputsStale(RuntimeError):
    """The mart or the findings were not built for the report's as-of date."""


@cache
def named_queries() -> dict[str, str]:
    """The ``-- name:`` blocks of ``summary.sql`` and ``work.sql``."""
    queries: dict[str, str] = {}
    for name in NAMED_QUERY_FILES:
        parts = _NAME.split((SQL_DIR / name).read_text())
        queries.update(
            {parts[i]: parts[i + 1].strip().rstrip(";") for i in range(1, len(parts), 2)}
        )
    return queries


def define_window_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Define the ``window_lines(start, end, payer)`` table macro on ``con`` (temporary: read-only
    connections too); the report's scope and the audit read the lines of a window through it."""
    con.execute((SQL_DIR / "window_lines.sql").read_text())


def rows(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, SqlValue] | None = None
) -> list[dict[str, Any]]:
    """Run one named query; rows as dicts keyed by column name."""
    result = con.execute(render_sql(named_queries()[name], params or {}))
    columns = [column[0] for column in result.description or []]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def scope_params(scope: Scope, as_of: date, config: Mapping[str, Any]) -> dict[str, SqlValue]:
    return {
        "as_of": as_of,
        "start": scope.start,
        "end": scope.end,
        "payer_id": scope.payer_id,
        "has_claim_ids": scope.claim_ids is not None,
        "claim_ids": scope.claim_ids or [],
        "everything": scope.is_everything,
        "outlier.window_months": config["outlier.window_months"],
        "outlier.min_lines": config["outlier.min_lines"],
    }


@contextmanager
def scoped_tables(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    as_of: date,
    config: Mapping[str, Any],
    actions: Mapping[str, str] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Create the report's temporary tables for ``scope``; drop them on exit. ``actions`` maps
    each rule id to what to do about its findings (``RuleBook.actions``; a rule it does not name
    has no action in the worklist).

    Raises ``ReportInputsStale`` when the mart was built for another as-of date, or when findings
    in scope were computed for another as-of date or another net paid (rules not rerun after a
    rebuild): a report must never mix two states of the warehouse.
    """
    built = built_as_of(con)
    if built != as_of:
        raise ReportInputsStale(
            f"the mart was built for {built or 'no date'}, not {as_of}: "
            f"run build_models and run_rules for {as_of} first"
        )
    try:
        define_window_lines(con)
        con.execute(
            render_sql((SQL_DIR / "scope.sql").read_text(), scope_params(scope, as_of, config))
        )
        _rule_actions(con, sorted((actions or {}).items()))
        con.execute(work_tables_sql(con))
        stale = rows(con, "stale_findings", {"as_of": as_of})[0]
        if stale["other_as_of"] or stale["other_net_paid"]:
            raise ReportInputsStale(
                f"{stale['other_as_of']} finding(s) in scope were computed for another as-of date "
                f"and {stale['other_net_paid']} for another net paid: run run_rules for {as_of} "
                "after build_models"
            )
        yield con
    finally:
        for table in TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS temp.{table}")


# the provider names of migration 006 that work_tables.sql reads: (alias in the SQL, table, column)
_PROVIDER_NAMES = (
    ("l", "claim_lines", "rendering_provider_name"),
    ("c", "claims", "rendering_provider_name"),
    ("c", "claims", "billing_provider_name"),
)


def work_tables_sql(con: duckdb.DuckDBPyConnection) -> str:
    """``sql/work_tables.sql``; against a warehouse made before migration 006 (no provider-name
    columns in ``stg``, and a report never migrates it) the names read as NULL: the report lists
    providers by NPI alone until ``recoup run`` upgrades the warehouse."""
    sql = (SQL_DIR / "work_tables.sql").read_text()
    have = {
        (str(table), str(column))
        for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = 'stg' "
            "AND table_name IN ('claims', 'claim_lines')"
        ).fetchall()
    }
    for alias, table, column in _PROVIDER_NAMES:
        if (table, column) not in have:
            sql = sql.replace(f"{alias}.{column}", "CAST(NULL AS VARCHAR)")
    return sql


def _rule_actions(con: duckdb.DuckDBPyConnection, pairs: Sequence[tuple[str, str]]) -> None:
    """``report_rule_actions(rule, action)``: the rule book's action of each rule."""
    con.execute("CREATE OR REPLACE TEMP TABLE report_rule_actions (rule VARCHAR, action VARCHAR)")
    if pairs:
        con.executemany("INSERT INTO report_rule_actions VALUES (?, ?)", list(pairs))
