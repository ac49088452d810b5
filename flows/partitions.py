"""How a backfill splits its work: one partition per service month (the warehouse's partition key,
``mart.findings.service_month``), and the months outside the window that must be refreshed so the
whole warehouse stays evaluated for one as-of date."""

from __future__ import annotations

from datetime import date

import duckdb


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
    rows = con.execute(
        "SELECT service_month FROM mart.claim_lines UNION "
        "SELECT service_month FROM mart.findings ORDER BY 1"
    ).fetchall()
    inside = set(window)
    return [row[0] for row in rows if row[0] is not None and row[0] not in inside]
