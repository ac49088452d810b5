"""National Provider Identifiers: the check digit, defined once (CMS NPI standard).

An NPI is 10 digits whose last is the Luhn check digit of the 14-digit string ``80840`` + its
first nine. ``npi_check_digit`` computes it; ``make_npi`` appends it (the demo's providers);
``npi_is_valid`` tests a whole NPI with it (the structural gate's Python side and its tests);
``npi_is_valid_sql`` is the same test as one DuckDB expression, for the gate that runs over
staged rows (``loading/structural.py``) and is checked against ``npi_is_valid`` in the tests.
"""

from __future__ import annotations

PREFIX = "80840"


def npi_check_digit(base9: str) -> int:
    """The check digit of an NPI's nine leading digits (Luhn over ``80840`` + ``base9``)."""
    if len(base9) != 9 or not base9.isascii() or not base9.isdigit():
        raise ValueError(f"an NPI base must be 9 digits, got {base9!r}")
    total = 0
    for position, char in enumerate(reversed(PREFIX + base9)):
        digit = int(char)
        if position % 2 == 0:  # the rightmost payload digit is doubled
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def make_npi(base9: str) -> str:
    """The full 10-digit NPI for ``base9`` (real NPIs start with 1 or 2)."""
    return base9 + str(npi_check_digit(base9))


def npi_is_valid(npi: str) -> bool:
    """True when ``npi`` is 10 ASCII digits and its last is the check digit of the nine before."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    return npi_check_digit(npi[:9]) == int(npi[9])


# In SQL: the prefix 80840 always adds 24 to the Luhn sum; of the NPI's own digits the 1st, 3rd,
# 5th, 7th and 9th are doubled (digit sums 0 2 4 6 8 1 3 5 7 9), and the total with the check
# digit is a multiple of 10.
def _digit(expr: str, position: int) -> str:
    return f"(ascii(substr({expr}, {position}, 1)) - 48)"


def npi_is_valid_sql(expr: str) -> str:
    """A DuckDB boolean: ``expr`` is 10 digits with a valid NPI check digit."""
    doubled = [f"[0, 2, 4, 6, 8, 1, 3, 5, 7, 9][{_digit(expr, p)} + 1]" for p in (1, 3, 5, 7, 9)]
    plain = [_digit(expr, p) for p in (2, 4, 6, 8, 10)]
    total = " + ".join(["24", *doubled, *plain])
    return f"(regexp_full_match({expr}, '[0-9]{{10}}') AND ({total}) % 10 = 0)"
