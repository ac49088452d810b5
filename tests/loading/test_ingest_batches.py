"""Files load in batches (issue 10 item 2): one structural-gate query and one transaction per
batch, yet every verdict lands on its own file, and a stop rolls the batch in progress back whole.
"""

from __future__ import annotations

import hashlib
import signal
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from loading import ingest, stopping, structural
from tests.loading.test_ingest import X12_FIXTURES, counts
from warehouse.connection import open_warehouse

HEADER = (
    "claim_id,line_number,member_id,payer_id,billing_npi,date_of_service,procedure_code,charge\n"
)
NPI = "1234567893"


def claims_csv(claim: str, charge: str, npi: str = NPI) -> str:
    return HEADER + f"{claim},1,M1,P1,{npi},2025-03-04,90837,{charge}\n"


def claims_inbox(root: Path, files: dict[str, str]) -> Path:
    inbox = root / "inbox"
    (inbox / "claims").mkdir(parents=True)
    for name, text in files.items():
        (inbox / "claims" / name).write_text(text)
    return inbox


def ledger_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        "SELECT file_name, status, format, error FROM ledger.files ORDER BY file_name"
    ).fetchall()


def staged_claims(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        "SELECT f.file_name, c.claim_id, l.charge FROM stg.claims c JOIN stg.claim_lines l "
        "USING (file_sha256, claim_id) JOIN ledger.files f USING (file_sha256) ORDER BY ALL"
    ).fetchall()


D_REASON = "d.csv (column 'member_id'): required column missing (header has: claim_id, line_number)"
GOOD = {"a.csv": claims_csv("A1", "100.00"), "c.csv": claims_csv("C1", "300.00")}
BAD_NPI = claims_csv("B1", "200.00", npi="12345678")
BAD_NPI_REASON = (
    "b.csv: stg.claims row B1: billing_npi '12345678' is not an NPI (10 digits) "
    "(and 1 more problem)"  # the line inherits it as its rendering NPI
)


def test_a_bad_file_in_a_batch_is_rejected_alone_by_one_gate_query(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = claims_inbox(
        tmp_path, {**GOOD, "b.csv": BAD_NPI, "d.csv": "claim_id,line_number\nC1,x\n"}
    )
    (inbox / "claims" / "e.837").write_bytes((X12_FIXTURES / "bad_date.837").read_bytes())
    gate_queries: list[list[str]] = []
    real_check_files = structural.check_files

    def counted(files: Any) -> Any:
        gate_queries.append([name for _, name, _ in files])
        return real_check_files(files)

    def no_file_gate(*args: Any) -> Any:
        raise AssertionError("the per-file gate ran")

    monkeypatch.setattr(structural, "check_files", counted)
    monkeypatch.setattr(structural, "check_file", no_file_gate)
    report = ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")

    assert gate_queries == [["a.csv", "b.csv", "c.csv", "e.837"]]  # one query, d.csv unread
    assert [(o.path.name, o.status, o.reason) for o in report.outcomes] == [
        ("a.csv", "loaded", None),
        ("b.csv", "rejected", BAD_NPI_REASON),
        ("c.csv", "loaded", None),
        ("d.csv", "rejected", D_REASON),
        ("e.837", "loaded", None),
    ]
    assert ledger_rows(warehouse) == [
        ("a.csv", "loaded", "csv", None),
        ("b.csv", "rejected", "csv", BAD_NPI_REASON),
        ("c.csv", "loaded", "csv", None),
        ("d.csv", "rejected", "csv", D_REASON),
        ("e.837", "loaded", "x12-837p", None),
    ]
    # the 837P's claim with an impossible date is still rejected alone, at its own segment
    assert report.outcomes[4].partly_rejected() == (
        "1 of 2 claims in claims/e.837 was not loaded: CLM01 CLM002 (segment DTP, line 56, "
        "col 1: DTP03 '20250230' is not a real date (CCYYMMDD))"
    )
    assert staged_claims(warehouse) == [
        ("a.csv", "A1", Decimal("100.00")),
        ("c.csv", "C1", Decimal("300.00")),
        ("e.837", "CLM001", Decimal("120.00")),
        ("e.837", "CLM001", Decimal("180.00")),
    ]
    sha = hashlib.sha256(BAD_NPI.encode()).hexdigest()
    reason_file = tmp_path / "store" / "quarantine" / f"{sha[:16]}__b.csv.reason.txt"
    assert reason_file.read_text() == BAD_NPI_REASON + "\n"


def test_the_batch_gate_gives_each_file_the_error_of_its_own_gate() -> None:
    good = {"stg.claims": _claims("a" * 64, NPI), "stg.claim_lines": _lines("a" * 64, "90837")}
    bad = {"stg.claims": _claims("b" * 64, "12345678"), "stg.claim_lines": _lines("b" * 64, "9083")}
    errors = structural.check_files([("a" * 64, "a.csv", good), ("b" * 64, "b.csv", bad)])
    with pytest.raises(structural.StructuralError) as alone:
        structural.check_file("b.csv", bad)
    assert list(errors) == ["b" * 64]
    assert (
        str(errors["b" * 64])
        == str(alone.value)
        == (
            "b.csv: stg.claim_lines row C1/1: procedure_code '9083' is not a procedure code "
            "(5 characters 0-9, A-Z) (and 1 more problem)"  # then the NPI: in CHECKS order
        )
    )
    assert errors["b" * 64].table == "stg.claim_lines" and errors["b" * 64].more == 1


def _claims(sha: str, npi: str) -> pa.Table:
    return pa.table(
        {"file_sha256": [sha], "claim_id": ["C1"], "member_id": ["M1"], "payer_id": ["P1"],
         "billing_npi": [npi]}
    )  # fmt: skip


def _lines(sha: str, code: str) -> pa.Table:
    from datetime import date

    return pa.table(
        {"file_sha256": [sha], "claim_id": ["C1"], "line_number": pa.array([1], pa.int32()),
         "procedure_code": [code], "date_of_service": [date(2025, 3, 4)]}
    )  # fmt: skip


def test_a_refused_insert_in_a_batch_lands_on_its_own_file(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB refuses b.csv's rows (a NULL where the warehouse says NOT NULL, which no gate
    check tests): the batch is taken again file by file, and b.csv alone is rejected."""
    inbox = claims_inbox(tmp_path, {**GOOD, "b.csv": claims_csv("B1", "200.00")})
    real_read = ingest.read_staged

    def read_with_a_hole(feed: str, path: Path, data: bytes, sha: str) -> ingest.Staged:
        staged = real_read(feed, path, data, sha)
        if path.name == "b.csv":
            claims = staged.tables["stg.claims"]
            at = claims.schema.get_field_index("file_sha256")
            hole = pa.nulls(claims.num_rows, claims.schema.field(at).type)
            staged.tables["stg.claims"] = claims.set_column(at, "file_sha256", hole)
        return staged

    monkeypatch.setattr(ingest, "read_staged", read_with_a_hole)
    report = ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    refused = (
        "b.csv: the warehouse refused its rows: Constraint Error: NOT NULL constraint failed: "
        "claims.file_sha256"
    )
    assert [(o.path.name, o.status, o.fmt, o.reason) for o in report.outcomes] == [
        ("a.csv", "loaded", "csv", None),
        ("b.csv", "rejected", "csv", refused),
        ("c.csv", "loaded", "csv", None),
    ]
    assert ledger_rows(warehouse) == [
        ("a.csv", "loaded", "csv", None),
        ("b.csv", "rejected", "csv", refused),
        ("c.csv", "loaded", "csv", None),
    ]
    assert staged_claims(warehouse) == [
        ("a.csv", "A1", Decimal("100.00")),
        ("c.csv", "C1", Decimal("300.00")),
    ]
    assert counts(warehouse)["stg.claim_lines"] == 2  # none of b.csv's rows either


FOUR = {f"{n}.csv": claims_csv(f"K{n}", f"{n}00.00") for n in range(1, 5)}


def test_a_signal_mid_batch_rolls_the_whole_batch_back_and_a_rerun_equals_a_clean_run(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = claims_inbox(tmp_path, FOUR)
    store = tmp_path / "store"
    real_insert = ingest.insert_tables
    inserts: list[int] = []

    def interrupted_in_the_second_batch(con: duckdb.DuckDBPyConnection, tables: Any) -> Any:
        inserts.append(tables["stg.claims"].num_rows)  # one INSERT per table per batch
        real_insert(con, tables)  # the second batch's rows are in, uncommitted
        if len(inserts) == 2:
            with pytest.raises(stopping.Stopped):
                stopping._handler(signal.SIGTERM, None)  # what SIGTERM does during the query
            raise RuntimeError("Query interrupted")
        return None

    progress: list[tuple[int, int, str]] = []
    monkeypatch.setattr(ingest, "insert_tables", interrupted_in_the_second_batch)
    try:
        with pytest.raises(stopping.Stopped) as stop:
            ingest.ingest_inbox(
                warehouse, inbox, store, "run-1", batch_files=2,
                on_file=lambda done, total, o: progress.append((done, total, o.path.name)),
            )  # fmt: skip
    finally:
        stopping.reset()
    assert stop.value.exit_code == 143
    assert inserts == [2, 2]
    assert progress == [(1, 4, "1.csv"), (2, 4, "2.csv")]  # printed when their batch committed
    assert ledger_rows(warehouse) == [
        ("1.csv", "loaded", "csv", None),
        ("2.csv", "loaded", "csv", None),
    ]
    assert [row[1] for row in staged_claims(warehouse)] == ["K1", "K2"]

    monkeypatch.undo()
    rerun = ingest.ingest_inbox(warehouse, inbox, store, "run-2", batch_files=2)
    assert [(o.path.name, o.status) for o in rerun.outcomes] == [
        ("1.csv", "skipped"), ("2.csv", "skipped"), ("3.csv", "loaded"), ("4.csv", "loaded"),
    ]  # fmt: skip
    clean = tmp_path / "clean"
    with open_warehouse(clean / "recoup.duckdb") as con:
        ingest.ingest_inbox(con, inbox, clean, "clean")
        assert counts(con) == counts(warehouse)
        assert staged_claims(con) == staged_claims(warehouse)
        assert ledger_rows(con) == ledger_rows(warehouse)
        rows = "SELECT * FROM stg.claim_lines ORDER BY ALL"
        assert con.execute(rows).fetchall() == warehouse.execute(rows).fetchall()
    landed = sorted(p.name for p in (store / "landing").rglob("*") if p.is_file())
    assert landed == sorted(p.name for p in (clean / "landing").rglob("*") if p.is_file())
    assert len(landed) == 4 and not list(store.rglob("*.partial"))


def test_the_reader_is_mapped_over_each_batch_with_the_given_mapper(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    files = {**FOUR, "5.csv": FOUR["1.csv"]}  # 5.csv: a copy of 1.csv, in a later batch
    inbox = claims_inbox(tmp_path, files)
    calls: list[list[str]] = []

    def mapper(function: Any, *columns: list[Any]) -> Any:
        calls.append([path.name for path in columns[1]])
        return list(map(function, *columns))

    report = ingest.ingest_inbox(
        warehouse, inbox, tmp_path / "store", "run-1", mapper=mapper, batch_files=3
    )
    assert calls == [["1.csv", "2.csv", "3.csv"], ["4.csv"]]
    assert [(o.path.name, o.status) for o in report.outcomes] == [
        ("1.csv", "loaded"), ("2.csv", "loaded"), ("3.csv", "loaded"), ("4.csv", "loaded"),
        ("5.csv", "skipped"),
    ]  # fmt: skip
    assert report.outcomes[4].reason is not None
    assert report.outcomes[4].reason.startswith("already loaded as 1.csv on ")


def test_a_copy_inside_one_batch_is_skipped_as_today(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    inbox = claims_inbox(tmp_path, {"1.csv": FOUR["1.csv"], "2.csv": FOUR["1.csv"]})
    report = ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    assert [(o.path.name, o.status) for o in report.outcomes] == [
        ("1.csv", "loaded"), ("2.csv", "skipped"),
    ]  # fmt: skip
    assert report.outcomes[1].reason is not None
    assert report.outcomes[1].reason.startswith("already loaded as 1.csv on ")
    assert ledger_rows(warehouse) == [("1.csv", "loaded", "csv", None)]
