"""Small helpers the rules' plain-words reasons share (``Rule.explain``): money, code lists and
numbers written the same way in every sentence, never raising on a missing value."""

from __future__ import annotations

from typing import Any

from warehouse.money import dollars


def money(value: Any) -> str:
    """``$1,234.50``, or ``?`` when ``value`` is not a number (``warehouse.money.dollars``)."""
    return dollars(value, missing="?")


def codes(values: Any) -> str:
    """A list of codes as ``a, b``; ``none`` when empty."""
    if not values:
        return "none"
    if isinstance(values, str):
        return values
    return ", ".join(str(value) for value in values)


def number(value: Any) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5; the value as text when it is not a number."""
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{as_float:g}"
