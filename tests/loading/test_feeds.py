"""CSV/Parquet feed readers: schemas, typed values, and rejections that name the place."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from loading import feeds

CLAIMS_CSV = (
    b"claim_id,line_number,member_id,payer_id,billing_npi,rendering_npi,date_of_service,"
    b"procedure_code,modifiers,units,charge,place_of_service\n"
    b"""C1,1,M1,P1,1234567893,1245319599,2025-03-04,90837,95,1,180.00,10
C1,2,M1,P1,1234567893,1245319599,2025-03-04,90785,,1,25.5,10
C2,1,M2,P1,1234567893,,2025-03-05,90834,95:GT,,120,11
"""
)


def read(feed: str, data: bytes, fmt: str = "csv", name: str = "f.csv") -> dict:
    frame = feeds.read_frame(data, name, fmt)
    return {k: pl.from_arrow(v) for k, v in feeds.READERS[feed](frame, name, "ab" * 32).items()}


def test_claims_csv_carries_provider_names_when_given() -> None:
    data = CLAIMS_CSV.replace(
        b"place_of_service\n", b"place_of_service,billing_provider_name,rendering_provider_name\n"
    )
    data = data.replace(b"180.00,10\n", b'180.00,10,MINDFUL GROUP,"SMITH, ALEX"\n')
    data = data.replace(b"25.5,10\n", b'25.5,10,MINDFUL GROUP,"SMITH, ALEX"\n')
    data = data.replace(b"120,11\n", b"120,11,MINDFUL GROUP,\n")
    tables = read("claims", data)
    claims, lines = tables["stg.claims"], tables["stg.claim_lines"]
    assert claims["billing_provider_name"].to_list() == ["MINDFUL GROUP"] * 2
    # C2 has no rendering NPI: the billing provider renders it, under its name
    assert lines["rendering_provider_name"].to_list() == ["SMITH, ALEX"] * 2 + ["MINDFUL GROUP"]
    without = read("claims", CLAIMS_CSV)["stg.claim_lines"]  # the columns are optional
    assert without["rendering_provider_name"].to_list() == [None] * 3


def test_claims_csv_reads_claims_and_lines_with_exact_types() -> None:
    tables = read("claims", CLAIMS_CSV)
    claims, lines = tables["stg.claims"], tables["stg.claim_lines"]
    assert claims["claim_id"].to_list() == ["C1", "C2"]
    assert claims["total_charge"].to_list() == [Decimal("205.50"), Decimal("120.00")]
    assert lines["charge"].dtype == pl.Decimal(18, 2)
    assert lines["modifiers"].to_list() == [["95"], None, ["95", "GT"]]
    assert lines["date_of_service"].to_list() == [date(2025, 3, 4)] * 2 + [date(2025, 3, 5)]
    # rendering falls back to the billing NPI; units default to 1
    assert lines["rendering_npi"].to_list() == ["1245319599", "1245319599", "1234567893"]
    assert lines["units"].to_list() == [Decimal("1.000")] * 3


@pytest.mark.parametrize(
    ("old", "new", "line", "column", "problem"),
    [
        (b"2025-03-05,90834", b"2025-02-30,90834", 4, "date_of_service", "not an ISO date"),
        (b",120,11", b",,11", 4, "charge", "value is required"),
        (b",120,11", b",120.123,11", 4, "charge", "at most two decimals"),
        (b",120,11", b",12O,11", 4, "charge", "at most two decimals"),
        (b"C2,1,M2", b"C1,1,M2", 4, "line_number", "duplicate key"),
        # issue 9 item 9b: negative charges were loaded
        (b",120,11", b",-120,11", 4, "charge", "value is negative: a charge cannot be"),
        (b"95:GT,,120", b"95:GT,0,120", 4, "units", "value is not above 0"),
    ],
)
def test_claims_csv_rejections_name_line_and_column(old, new, line, column, problem) -> None:
    with pytest.raises(feeds.FeedError) as caught:
        read("claims", CLAIMS_CSV.replace(old, new), name="claims_march.csv")
    assert caught.value.row == line
    assert caught.value.column == column
    assert problem in str(caught.value)
    assert str(caught.value).startswith(f"claims_march.csv (line {line}, column '{column}')")


def test_missing_required_column_is_named() -> None:
    data = CLAIMS_CSV.replace(b"payer_id,", b"payer,")
    with pytest.raises(feeds.FeedError) as caught:
        read("claims", data)
    assert caught.value.column == "payer_id"
    assert "required column missing" in str(caught.value)


def test_claim_level_values_must_agree_across_lines() -> None:
    data = CLAIMS_CSV.replace(b"C1,2,M1,P1", b"C1,2,M9,P1")
    with pytest.raises(feeds.FeedError) as caught:
        read("claims", data)
    assert (caught.value.column, caught.value.row) == ("member_id", 3)


def test_sessions_header_and_values() -> None:
    data = (
        b"claim_id,line_number,minutes,note_signed_at,phq9,gad7\n"
        b"C1,,55,2025-03-05T10:15:00,12,9\n"
        b"C2,1,,,,\n"
    )
    sessions = read("sessions", data)["stg.sessions"]
    assert sessions.rows() == [
        ("ab" * 32, "C1", None, 55, datetime(2025, 3, 5, 10, 15), 12, 9),
        ("ab" * 32, "C2", 1, None, None, None, None),
    ]


def test_sessions_score_out_of_range_is_rejected() -> None:
    data = b"claim_id,line_number,minutes,note_signed_at,phq9,gad7\nC1,,55,2025-03-05,28,9\n"
    with pytest.raises(feeds.FeedError) as caught:
        read("sessions", data)
    assert (caught.value.row, caught.value.column) == (2, "phq9")
    assert "outside 0-27" in str(caught.value)


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (b"C1,,0,2025-03-05,12,9", "minutes", "value is outside 1-1440 (empty = not documented)"),
        (b"C1,,-5,2025-03-05,12,9", "minutes", "value is outside 1-1440 (empty = not documented)"),
        (b"C1,,50,2025-03-05,-1,9", "phq9", "value is outside 0-27"),
        (b"C1,,50,2025-03-05,12,22", "gad7", "value is outside 0-21"),
    ],
)
def test_sessions_minutes_and_scores_out_of_range(row: bytes, column: str, message: str) -> None:
    """Issue 9 item 9b: zero minutes were loaded as a documented session of no time."""
    data = b"claim_id,line_number,minutes,note_signed_at,phq9,gad7\nC0,,50,,,\n" + row + b"\n"
    with pytest.raises(feeds.FeedError) as caught:
        read("sessions", data, name="sessions.csv")
    assert str(caught.value) == f"sessions.csv (line 3, column '{column}'): {message}"


def test_sessions_header_must_hold_every_spec_column() -> None:
    with pytest.raises(feeds.FeedError) as caught:
        read("sessions", b"claim_id,minutes\nC1,50\n")
    assert caught.value.column == "line_number"


def test_eligibility_csv_groups_rows_into_responses() -> None:
    data = (
        b"member_id,payer_id,check_date,status,coverage_begin,coverage_end\n"
        b"M1,P1,2025-01-02,active,2024-01-01,\n"
        b"M1,P1,2025-06-02,inactive,,2025-04-30\n"
    )
    tables = read("eligibility", data)
    responses = tables["stg.eligibility_responses"]
    benefits = tables["stg.eligibility_benefits"]
    assert responses["check_date"].to_list() == [date(2025, 1, 2), date(2025, 6, 2)]
    assert responses["response_id"].n_unique() == 2
    assert benefits.select(
        "eligibility_code", "coverage_status", "coverage_begin", "coverage_end"
    ).rows() == [
        ("1", "active", date(2024, 1, 1), None),
        ("6", "inactive", None, date(2025, 4, 30)),
    ]


def test_remittance_csv_builds_payments_claims_lines() -> None:
    data = (
        b"trace_number,payment_date,payer_id,claim_id,claim_status,procedure_code,"
        b"date_of_service,paid_amount,charge\n"
        b"T1,2025-03-20,P1,C1,1,90837,2025-03-04,151.00,180\n"
        b"T1,2025-03-20,P1,C1,1,90785,2025-03-04,20.00,25.50\n"
        b"T2,2025-05-01,P1,C1,22,90837,2025-03-04,-151.00,-180\n"
    )
    tables = read("remittances", data)
    assert tables["stg.remit_payments"]["total_paid"].to_list() == [
        Decimal("171.00"),
        Decimal("-151.00"),
    ]
    claims = tables["stg.remit_claims"]
    assert claims.select("claim_id", "status_code", "paid_amount").rows() == [
        ("C1", "1", Decimal("171.00")),
        ("C1", "22", Decimal("-151.00")),
    ]
    assert tables["stg.remit_lines"]["line_seq"].to_list() == [1, 2, 1]


def test_provider_adjustment_csv() -> None:
    data = (
        b"trace_number,payment_date,payer_id,reason_code,reference_id,amount\n"
        b"T9,2025-07-01,P1,wo,C404,75.25\n"
    )
    tables = read("remittances", data)
    adjustments = tables["stg.remit_provider_adjustments"]
    assert adjustments.select("reason_code", "reference_id", "amount").rows() == [
        ("WO", "C404", Decimal("75.25"))
    ]
    assert tables["stg.remit_payments"]["total_paid"].to_list() == [Decimal("-75.25")]


def test_parquet_claims_read_like_csv() -> None:
    frame = pl.read_csv(io.BytesIO(CLAIMS_CSV), infer_schema=False)
    buffer = io.BytesIO()
    frame.with_columns(pl.col("units").cast(pl.Int64)).write_parquet(buffer)
    tables = read("claims", buffer.getvalue(), fmt="parquet", name="claims.parquet")
    assert tables["stg.claim_lines"]["charge"].to_list() == [
        Decimal("180.00"),
        Decimal("25.50"),
        Decimal("120.00"),
    ]


def test_reference_files_are_told_apart_by_header() -> None:
    fees = read("reference", b"payer_id,code,allowed_amount\n*,90837,151.20\n")
    assert list(fees) == ["stg.ref_fee_schedule"]
    payers = read(
        "reference",
        b"payer_id,name,lookback_months,telehealth_modifier_required\n"
        b"P1,Acme,18,true\n*,,24,false\n",
    )
    assert payers["stg.ref_payers"].select(
        "payer_id", "lookback_months", "telehealth_modifier_required"
    ).rows() == [("P1", 18, True), ("*", 24, False)]
    with pytest.raises(feeds.FeedError, match="not a reference file"):
        read("reference", b"a,b\n1,2\n")


def test_garbage_bytes_are_rejected_not_crashed() -> None:
    with pytest.raises(feeds.FeedError):
        read("claims", b"\x00\x01\x02\xff\xfe garbage \n\x00")


@pytest.mark.parametrize(
    ("data", "message"),
    [  # found by the bad-input corpus (tests/badinput): read as CSV, or loaded with NUL bytes
        (b"", "s.csv: the file is empty"),
        (b" \n\n", "s.csv: the file is empty"),
        (
            "claim_id,line_number\nC1,1\n".encode("utf-16"),
            "s.csv: is UTF-16 text (it starts with a UTF-16 byte order mark): save it as UTF-8",
        ),
        (
            b"PK\x03\x04\x14\x00",
            "s.csv: is a ZIP archive (a spreadsheet such as .xlsx?), not CSV text",
        ),
        (
            b"claim_id,line_number,minutes,note_signed_at,phq9,gad7\nC1,,50,,,\nC\x002,,50,,,\n",
            "s.csv (line 3): holds a NUL byte (binary data, not CSV text)",
        ),
        (
            b"claim_id,line_number,minutes,note_signed_at,phq9,gad7\n# note\nC1,,50,,,\n"
            b"C2,,50,,,,EXTRA\n",
            "s.csv (line 4): 7 fields where the header has 6",
        ),
    ],
    ids=["empty", "blank", "utf16", "zip", "nul", "ragged"],
)
def test_what_is_not_csv_text_is_named(data: bytes, message: str) -> None:
    with pytest.raises(feeds.FeedError) as caught:
        read("sessions", data, name="s.csv")
    assert str(caught.value) == message


def test_parquet_empty_strings_are_missing_like_csv_cells() -> None:
    """A Parquet '' (or '  ') is an empty cell, as in CSV: modifiers '' used to be rejected as
    "not modifiers like 95 or 95:GT"."""
    frame = pl.read_csv(io.BytesIO(CLAIMS_CSV), infer_schema=False)
    frame = frame.with_columns(pl.col("modifiers").fill_null("  "))
    sink = io.BytesIO()
    frame.write_parquet(sink)
    parquet = read("claims", sink.getvalue(), fmt="parquet", name="c.parquet")
    assert parquet["stg.claim_lines"].equals(read("claims", CLAIMS_CSV)["stg.claim_lines"])


def test_a_bare_carriage_return_is_refused_in_recoups_words() -> None:
    """Found by the fuzzer (tests/loading/test_fuzz_mutations.py): the search for the ragged line
    raised csv.Error on a bare CR."""
    data = (
        b"claim_id,line_number,minutes,note_signed_at,phq9,gad7\n\r,FZ001,,50,2025-12-02T10:00:00"
        b",12,9\nFZ002,1,,,,\n"
    )
    with pytest.raises(feeds.FeedError) as caught:
        read("sessions", data, name="s.csv")
    assert str(caught.value) == "s.csv (line 3): 7 fields where the header has 6"


def test_a_parquet_file_that_panics_polars_is_refused_not_a_crash() -> None:
    """Found by the fuzzer: one byte changed in a Parquet file made polars panic, and its
    PanicException (a BaseException) went past every ``except Exception`` and stopped the run."""
    frame = pl.DataFrame(
        {
            "claim_id": ["FZ001", "FZ002"],
            "line_number": [None, "1"],
            "minutes": ["50", None],
            "note_signed_at": ["2025-12-02T10:00:00", None],
            "phq9": ["12", None],
            "gad7": ["9", None],
        }
    )
    sink = io.BytesIO()
    frame.write_parquet(sink)
    data = bytearray(sink.getvalue())
    data[1220] = 81
    with pytest.raises(feeds.FeedError) as caught:
        read("sessions", bytes(data), fmt="parquet", name="s.parquet")
    assert str(caught.value).startswith("s.parquet: cannot be read as parquet: ")
