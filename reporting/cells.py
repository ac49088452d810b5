"""Spreadsheet-safe text cells for every CSV recoup writes (OWASP "CSV injection").

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and a
leading tab or carriage return can hide one. Claim, member and payer ids come from the feeds, so
a text cell starting with one of those characters gets a leading ``'``: the spreadsheet shows
the text as sent and runs nothing. Only text columns are escaped: amounts such as ``-12.50``
stay numbers. Parquet files keep the raw values (typed data, not a spreadsheet).
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def escape_cell_sql(expression: str) -> str:
    """The same rule as a DuckDB expression over the text ``expression`` (NULL stays NULL)."""
    return (
        f"CASE WHEN left({expression}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"THEN '''' || {expression} ELSE {expression} END"
    )
