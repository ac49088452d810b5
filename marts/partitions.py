"""The warehouse's partition key, ``service_month`` (first day of the month of service): which
months a window covers, which months hold data outside it, and which months' findings no longer
match the marts. The flows split a backfill with these; the SQL lives in ``marts/queries``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from marts.templating import render_sql

QUERIES_DIR = Path(__file__).parent / "queries"


def service_months(start: date, end: date) -> list[date]:
    """First days of every month from ``start``'s to ``end``'s, inclusive."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    months = []
    month = start.replace(day=1)
    while month <= end:
        months.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return months


def months_outside(con: duckdb.DuckDBPyConnection, window: list[date]) -> list[date]:
    """Service months that hold claim lines or findings but are not in ``window``."""
    rows = con.execute((QUERIES_DIR / "months_with_lines.sql").read_text()).fetchall()
    inside = set(window)
    return [row[0] for row in rows if row[0] not in inside]


def stale_months(con: duckdb.DuckDBPyConnection, as_of: date, months: list[date]) -> list[date]:
    """Those of ``months`` holding a finding computed for another as-of date or another net paid
    than the marts' (another run rebuilt the marts after the month was evaluated)."""
    if not months:
        return []
    sql = render_sql(
        (QUERIES_DIR / "stale_months.sql").read_text(), {"months": months, "as_of": as_of}
    )
    return [row[0] for row in con.execute(sql).fetchall()]
