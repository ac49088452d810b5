"""Rejection reasons carry no health data and no megabytes (issue 9, item 5b).

A reason names the file, the place (line, column, segment) and the problem. It reaches the run's
output, the ledger (``ledger.files.error``) and the quarantined file's ``.reason.txt``; none of
them may quote a value of a CSV, and none is longer than 500 characters.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from loading import ingest

X12_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"

# A member's row sent without its header: id, name, birth date (and more).
MEMBER_ID, NAME, BIRTH_DATE = "MBR90211", "Jane Q Patient", "1961-04-12"
HEADERLESS = f"{MEMBER_ID},{NAME},{BIRTH_DATE},ACMEH,2025-12-15,active,{{feed}}\n"


def _everything_said(con: duckdb.DuckDBPyConnection, store: Path, name: str) -> list[str]:
    """The ledger's error and the reason file of the rejected file ``name``."""
    [(error,)] = con.execute(
        "SELECT error FROM ledger.files WHERE file_name = ? AND status = 'rejected'", [name]
    ).fetchall()
    [reason_file] = (store / "quarantine").glob(f"*__{name}.reason.txt")
    return [error, reason_file.read_text()]


def test_a_csv_without_its_header_is_rejected_without_quoting_its_first_row(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    for feed in ("claims", "eligibility", "remittances", "sessions"):
        (inbox / feed).mkdir(parents=True)
        (inbox / feed / f"{feed}_noheader.csv").write_text(HEADERLESS.format(feed=feed))
    store = tmp_path / "store"
    report = ingest.ingest_inbox(warehouse, inbox, store, "run-1")

    reasons = {o.path.name: o.reason for o in report.by_status("rejected")}
    for feed in ("claims", "eligibility", "remittances"):
        assert reasons[f"{feed}_noheader.csv"] == (
            f"{feed}_noheader.csv: not an X12 interchange: no ISA segment at its start, and not "
            f"a {feed} CSV either: its first line names none of the {feed} columns (a file "
            "without its header?)"
        )
    assert reasons["sessions_noheader.csv"] == (
        "sessions_noheader.csv (column 'claim_id'): sessions header must be "
        "claim_id,line_number,minutes,note_signed_at,phq9,gad7"
    )
    for name, reason in reasons.items():
        for said in [reason, *_everything_said(warehouse, store, name)]:
            for value in (MEMBER_ID, NAME, BIRTH_DATE, "Jane", "1961"):
                assert value not in said, (name, said)


def test_a_required_column_missing_names_only_the_feeds_own_columns(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """The "header" of a file that lost its first line is a member's row: only names that are
    columns of the feed are repeated; the rest are counted."""
    inbox = tmp_path / "inbox"
    (inbox / "eligibility").mkdir(parents=True)
    (inbox / "eligibility" / "cut.csv").write_text(
        f"member_id,payer_id,{NAME},{BIRTH_DATE}\nM1,ACMEH,x,y\n"
    )
    store = tmp_path / "store"
    report = ingest.ingest_inbox(warehouse, inbox, store, "run-1")
    [outcome] = report.by_status("rejected")
    expected = (
        "cut.csv (column 'check_date'): required column missing (header has: member_id, "
        "payer_id and 2 other names)"
    )
    assert outcome.reason == expected
    assert _everything_said(warehouse, store, "cut.csv") == [expected, expected + "\n"]


def test_a_bad_value_is_located_not_quoted(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "eligibility").mkdir(parents=True)
    (inbox / "eligibility" / "dates.csv").write_text(
        "member_id,payer_id,check_date,status,coverage_begin,coverage_end\n"
        f"{MEMBER_ID},ACMEH,{NAME},active,2025-01-01,2025-12-31\n"
    )
    report = ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    [outcome] = report.by_status("rejected")
    assert outcome.reason == (
        "dates.csv (line 2, column 'check_date'): value is not an ISO date (YYYY-MM-DD)"
    )


def test_a_50_mb_one_line_csv_gives_a_short_reason(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Its 50 MB "column name" was quoted whole: a 52 MB reason in the ledger and on disk."""
    inbox = tmp_path / "inbox"
    (inbox / "remittances").mkdir(parents=True)
    (inbox / "remittances" / "huge.csv").write_bytes(
        b"claim_id,paid_amount," + b"A" * 50_000_000 + b"\n"
    )
    store = tmp_path / "store"
    report = ingest.ingest_inbox(warehouse, inbox, store, "run-1")
    [outcome] = report.by_status("rejected")
    expected = (
        "huge.csv (column 'trace_number'): required column missing (header has: claim_id, "
        "paid_amount and 1 other name)"
    )
    assert outcome.reason == expected
    assert _everything_said(warehouse, store, "huge.csv") == [expected, expected + "\n"]


def test_every_reason_is_capped_at_500_characters(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """X12 messages quote element values of non-private segments (an amount, a code); a 100k
    character CLP04 still gives a reason of 500 characters."""
    inbox = tmp_path / "inbox"
    (inbox / "remittances").mkdir(parents=True)
    raw = (X12_FIXTURES / "good.835").read_text()
    bad = raw.replace("CLP*CLM001*1*300.00*200.00*", "CLP*CLM001*1*300.00*" + "9" * 100_000 + "*")
    (inbox / "remittances" / "long.835").write_text(bad)
    store = tmp_path / "store"
    report = ingest.ingest_inbox(warehouse, inbox, store, "run-1")
    [outcome] = report.by_status("rejected")
    assert outcome.reason is not None
    assert len(outcome.reason) == ingest.REASON_LIMIT == 500
    assert outcome.reason.startswith("long.835: segment ")
    assert outcome.reason.endswith("99...")
    assert _everything_said(warehouse, store, "long.835") == [
        outcome.reason,
        outcome.reason + "\n",
    ]
