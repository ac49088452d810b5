"""The NPI check digit (loading/npi.py): known numbers, and the Python and DuckDB tests agree."""

from __future__ import annotations

import duckdb
import pytest

from loading.npi import make_npi, npi_check_digit, npi_is_valid, npi_is_valid_sql


def test_check_digit_of_known_numbers() -> None:
    assert npi_check_digit("123456789") == 3  # the CMS worked example
    assert make_npi("191230195") == "1912301953"  # from a public 837 sample
    assert make_npi("124531959") == "1245319599"


@pytest.mark.parametrize("base", ["12345678", "1234567890", "12345678a", "12345678٣"])
def test_check_digit_refuses_what_is_not_nine_digits(base: str) -> None:
    with pytest.raises(ValueError, match="an NPI base must be 9 digits"):
        npi_check_digit(base)


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),  # the CMS example
        ("1234567890", False),
        ("1245319599", True),
        ("1111111112", True),
        ("1111111111", False),
        ("2222222227", False),
        ("3234567899", True),  # the check digit alone: any first digit
        ("123456789", False),
        ("12345678931", False),
        ("12345678a3", False),
        ("12345678٣3", False),  # a non-ASCII digit
    ],
)
def test_npi_check_digit_in_python_and_in_duckdb(npi: str, valid: bool) -> None:
    assert npi_is_valid(npi) is valid
    sql = npi_is_valid_sql("?")
    with duckdb.connect() as con:  # its own: a result left open on the default one blocks others
        assert con.execute(f"SELECT {sql}", [npi] * sql.count("?")).fetchall() == [(valid,)]
