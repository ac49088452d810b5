"""Money as text (warehouse/money.py): X12 and CSV amounts from cents, amounts for people."""

from __future__ import annotations

from decimal import Decimal

import pytest

from warehouse.money import CENT, amount_text, dollars


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0.00"), (5, "0.05"), (-5, "-0.05"), (100, "1.00"), (1234, "12.34"), (-12345, "-123.45")],
)
def test_amount_text_writes_cents_exactly(cents: int, text: str) -> None:
    assert amount_text(cents) == text
    assert Decimal(text) * 100 == cents


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1234.5"), "$1,234.50"),
        (Decimal("-5"), "-$5.00"),
        (1234567.891, "$1,234,567.89"),
        (-0.0, "$0.00"),
        (-0.001, "$0.00"),
        (12, "$12.00"),
        ("61.2", "$61.20"),
        (Decimal("0.005"), "$0.00"),  # half to even, exactly
        (Decimal("0.015"), "$0.02"),
    ],
)
def test_dollars_for_people(value: Decimal | float | int | str, text: str) -> None:
    assert dollars(value) == text


def test_dollars_when_there_is_no_amount() -> None:
    assert dollars(None) == "–"
    assert dollars(None, missing="?") == "?"
    assert dollars("n/a", missing="?") == "?"


def test_cent_is_the_quantum() -> None:
    assert Decimal("12.345").quantize(CENT) == Decimal("12.34")
    assert Decimal("0.01") == CENT
