"""Validation of X12 element values: amounts, quantities and dates.

Each kind of value has a per-file cache, a ``dict`` whose ``__missing__`` validates: a reader
writes ``amounts[text]`` and pays a dictionary lookup when the text was seen before, a validation
otherwise. Invalid text raises ``BadValue``, which the reader turns into a problem naming the
element (``BadValue.describe``). Values are exact: ``Decimal`` for money and quantities, ``date``
for dates.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

# X12 "R" (decimal number) values as the warehouse can hold them: DECIMAL(18,2) money and
# DECIMAL(10,3) quantities. No exponent, no thousands separator, no sign other than a leading '-'.
_AMOUNT = re.compile(r"-?(?:\d{1,16}(?:\.\d{0,2})?|\.\d{1,2})")
_QUANTITY = re.compile(r"-?(?:\d{1,7}(?:\.\d{0,3})?|\.\d{1,3})")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")

ONE = Decimal(1)


class BadValue(ValueError):
    """An element value that is not what its element requires."""

    def __init__(self, text: str, reason: str, *, quote: bool = True) -> None:
        super().__init__(f"'{text}' {reason}" if quote else reason)
        self.text = text
        self.reason = reason
        self.quote = quote

    def describe(self, elements: list[str], quote: bool = True) -> str:
        """The problem, naming the element of ``elements`` (a split segment) that holds the bad
        text, e.g. "CLP04 'abc' is not an amount". The text is left out when ``quote`` is False
        (segments that carry names, addresses or birth dates)."""
        tag = elements[0]
        where = tag
        found = [p for p in range(1, len(elements)) if elements[p] == self.text] or [
            p for p in range(1, len(elements)) if self.text and self.text in elements[p]
        ]
        if found:
            where = f"{tag}{found[0]:02d}"
        if quote and self.quote:
            return f"{where} '{self.text}' {self.reason}"
        return f"{where} {self.reason}"


class Amounts(dict[str, Decimal]):
    """Money values (at most 2 decimals, 16 integer digits) by their text."""

    def __missing__(self, text: str) -> Decimal:
        if _AMOUNT.fullmatch(text) is None:
            if _NUMBER.fullmatch(text) is not None:
                raise BadValue(text, "is not a money amount (at most 2 decimals and 16 digits)")
            raise BadValue(text, "is not an amount")
        value = self[text] = Decimal(text)
        return value


class Quantities(dict[str, Decimal]):
    """Quantities (at most 3 decimals, 7 integer digits) by their text."""

    def __missing__(self, text: str) -> Decimal:
        if _QUANTITY.fullmatch(text) is None:
            if _NUMBER.fullmatch(text) is not None:
                raise BadValue(text, "is not a valid quantity (at most 3 decimals and 7 digits)")
            raise BadValue(text, "is not a quantity")
        value = self[text] = Decimal(text)
        return value


class Dates(dict[str, dt.date]):
    """Calendar dates by their CCYYMMDD text."""

    def __missing__(self, text: str) -> dt.date:
        if len(text) != 8 or not text.isdigit() or not text.isascii():
            raise BadValue(text, "is not a date (CCYYMMDD)")
        try:
            value = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            raise BadValue(text, "is not a real date (CCYYMMDD)") from None
        self[text] = value
        return value

    def period(self, fmt: str, text: str) -> tuple[dt.date, dt.date | None]:
        """A D8 date as ``(date, None)`` or an RD8 range as ``(begin, end)``.

        Raises BadValue when the format is neither D8 nor RD8, a date is not real, or a range
        ends before it begins.
        """
        if fmt == "D8":
            return self[text], None
        if fmt == "RD8":
            first, dash, second = text.partition("-")
            if not dash:
                raise BadValue(text, "is not a date range (CCYYMMDD-CCYYMMDD)")
            begin, end = self[first], self[second]
            if end < begin:
                raise BadValue(text, "is a date range that ends before it begins")
            return begin, end
        raise BadValue(fmt, "is not a date format qualifier (D8 or RD8)")
