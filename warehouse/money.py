"""Money as text, defined once. Amounts are exact: ``Decimal`` dollars in the warehouse
(DECIMAL(18,2)), whole cents in the demo's and the benchmarks' writers.

``CENT`` is the quantum every amount is rounded to; ``amount_text`` writes whole cents the way
X12 "R" elements and the CSV feeds carry them (``-12.34``); ``dollars`` writes an amount for a
person (``$1,234.56``, ``-$5.00``). exposure.json's numbers are ``reporting.json_report.money``.
"""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


def amount_text(cents: int) -> str:
    """Whole cents as a plain decimal with two places: 1234 -> "12.34", -5 -> "-0.05"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def dollars(value: Decimal | float | int | str | None, missing: str = "–") -> str:
    """An amount for a person: "$1,234.56", "-$5.00"; ``missing`` when there is none (or it is
    not a number). A ``Decimal`` is formatted exactly, anything else as a float."""
    if value is None:
        return missing
    try:
        number = value if isinstance(value, Decimal) else float(value)
    except (TypeError, ValueError):
        return missing
    text = f"{abs(number):,.2f}"
    return f"-${text}" if number < 0 and text != "0.00" else f"${text}"
