"""National Provider Identifiers: the Luhn check digit with the 80840 prefix (CMS NPI standard)."""

from __future__ import annotations

_PREFIX = "80840"


def npi_check_digit(base9: str) -> int:
    """Return the check digit for the nine leading digits of an NPI.

    The NPI check digit is the Luhn digit of the 14-digit string ``80840`` + ``base9``.
    """
    if len(base9) != 9 or not base9.isdigit():
        raise ValueError(f"an NPI base must be 9 digits, got {base9!r}")
    total = 0
    for position, char in enumerate(reversed(_PREFIX + base9)):
        digit = int(char)
        if position % 2 == 0:  # the rightmost payload digit is doubled
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def make_npi(base9: str) -> str:
    """Return the full 10-digit NPI for ``base9`` (first digit 1 or 2 for real NPIs)."""
    return base9 + str(npi_check_digit(base9))


def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is 10 digits, starts with 1 or 2, and its check digit is right."""
    if len(npi) != 10 or not npi.isdigit() or npi[0] not in "12":
        return False
    return npi_check_digit(npi[:9]) == int(npi[9])
