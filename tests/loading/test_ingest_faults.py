"""Faults of the machine, signals and bugs are never a verdict on a file: the file in progress is
rolled back, nothing is recorded for it (no ledger row, no quarantine copy, no ``.partial``), the
run stops, and the next run loads it (loading/stopping.py)."""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loading import ingest, ledger, stopping
from tests.loading.test_ingest import counts, make_inbox
from warehouse.connection import open_warehouse

SESSIONS2 = "claim_id,line_number,minutes,note_signed_at,phq9,gad7\nC2,,45,2025-03-06,,\n"
ENOSPC = "OSError: [Errno 28] No space left on device"
RETRY = "nothing was recorded for it and the run stopped; the next run retries it"


def three_files(root: Path) -> Path:
    inbox = make_inbox(root)
    (inbox / "sessions" / "other.csv").write_text(SESSIONS2)
    return inbox  # claims/march.csv, sessions/notes.csv, sessions/other.csv (in load order)


def files(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute("SELECT file_name, status FROM ledger.files ORDER BY 1").fetchall()


def leftovers(store: Path) -> list[str]:
    return sorted(p.name for p in store.rglob("*") if p.name.endswith(".partial"))


class FullDisk:
    """``open`` for loading/ledger.py: from the ``after``-th copy on, each write puts half of its
    bytes on disk and then fails with ENOSPC, as a filling filesystem does."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.opened = 0

    def __call__(self, path: Path, mode: str = "r") -> Any:
        self.opened += 1
        handle = open(path, mode)  # noqa: SIM115 (closed by the caller's with)
        if self.opened <= self.after:
            return handle
        real_write = handle.write

        def write(data: bytes) -> int:
            real_write(data[: len(data) // 2])
            handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        handle.write = write  # type: ignore[method-assign]
        return handle


def test_a_full_landing_disk_stops_the_run_records_nothing_and_the_rerun_loads_all(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = three_files(tmp_path)
    store = tmp_path / "store"
    monkeypatch.setattr(ledger, "open", FullDisk(after=1), raising=False)
    with pytest.raises(stopping.EnvironmentFault) as fault:
        ingest.ingest_inbox(warehouse, inbox, store, "run-1")
    assert str(fault.value) == f"sessions/notes.csv was not loaded: {ENOSPC}; {RETRY}"
    assert files(warehouse) == [("march.csv", "loaded")]  # no "rejected" row
    assert counts(warehouse)["stg.sessions"] == 0
    assert leftovers(store) == []
    assert not (store / "quarantine").exists()
    monkeypatch.undo()  # space freed
    rerun = ingest.ingest_inbox(warehouse, inbox, store, "run-2")
    assert [(o.path.name, o.status) for o in rerun.outcomes] == [
        ("march.csv", "skipped"),
        ("notes.csv", "loaded"),
        ("other.csv", "loaded"),
    ]
    assert files(warehouse) == [
        ("march.csv", "loaded"),
        ("notes.csv", "loaded"),
        ("other.csv", "loaded"),
    ]
    assert leftovers(store) == []
    clean = tmp_path / "clean"
    with open_warehouse(clean / "recoup.duckdb") as con:
        ingest.ingest_inbox(con, inbox, clean, "clean")
        assert counts(con) == counts(warehouse)
        rows = "SELECT * EXCLUDE (file_sha256) FROM stg.sessions ORDER BY ALL"
        assert con.execute(rows).fetchall() == warehouse.execute(rows).fetchall()


def test_a_full_quarantine_disk_does_not_record_the_rejection(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = make_inbox(tmp_path)
    (inbox / "claims" / "march.csv").write_text("claim_id,line_number\nC1,x\n")  # rejected
    store = tmp_path / "store"
    monkeypatch.setattr(ledger, "open", FullDisk(after=0), raising=False)
    with pytest.raises(stopping.EnvironmentFault) as fault:
        ingest.ingest_inbox(warehouse, inbox, store, "run-1")
    assert str(fault.value) == f"claims/march.csv was not loaded: {ENOSPC}; {RETRY}"
    assert files(warehouse) == []
    assert leftovers(store) == [] and list((store / "quarantine").iterdir()) == []


@pytest.mark.parametrize(
    ("raised", "shown"),
    [
        (MemoryError(), "MemoryError"),
        (duckdb.IOException("IO Error: No space left on device"), "IOException: IO Error: No "
         "space left on device"),
        (duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate"),
         "OutOfMemoryException: Out of Memory Error: failed to allocate"),
    ],
)  # fmt: skip
def test_memory_or_warehouse_io_failing_during_a_load_is_a_fault_not_a_rejection(
    warehouse: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    raised: BaseException,
    shown: str,
) -> None:
    inbox = three_files(tmp_path)
    monkeypatch.setattr(ingest, "BATCH_FILES", 1)  # a file a batch: the fault comes between files
    real_insert = ingest.insert_tables

    def insert_then_fail(con: duckdb.DuckDBPyConnection, tables: Any) -> dict[str, int]:
        if "stg.sessions" in tables and files(con) == [("march.csv", "loaded")]:
            real_insert(con, tables)  # the rows are in, uncommitted, when the fault comes
            raise raised
        return real_insert(con, tables)

    monkeypatch.setattr(ingest, "insert_tables", insert_then_fail)
    with pytest.raises(stopping.EnvironmentFault) as fault:
        ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    assert str(fault.value) == f"sessions/notes.csv was not loaded: {shown}; {RETRY}"
    assert files(warehouse) == [("march.csv", "loaded")]
    assert counts(warehouse)["stg.sessions"] == 0  # rolled back
    assert not (tmp_path / "store" / "quarantine").exists()


def test_a_bug_stops_the_run_instead_of_rejecting_the_file(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = make_inbox(tmp_path)

    def broken(*args: Any) -> Any:
        raise KeyError("procedure_code")

    monkeypatch.setattr(ingest, "insert_tables", broken)
    with pytest.raises(stopping.UnexpectedError) as bug:
        ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    assert str(bug.value) == f"claims/march.csv was not loaded: KeyError: 'procedure_code'; {RETRY}"
    assert files(warehouse) == []
    assert not (tmp_path / "store" / "quarantine").exists()


def test_a_signal_during_a_query_is_a_stop_never_a_rejection(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB reports a signal that arrives during a query as "Query interrupted" (the handler's
    own exception is lost): with a stop requested, that is ``Stopped``, and the file is rolled
    back unrecorded."""
    inbox = make_inbox(tmp_path)
    real_insert = ingest.insert_tables

    def interrupted(con: duckdb.DuckDBPyConnection, tables: Any) -> dict[str, int]:
        real_insert(con, tables)
        with pytest.raises(stopping.Stopped):
            stopping._handler(signal.SIGTERM, None)  # what SIGTERM does during the query
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(ingest, "insert_tables", interrupted)
    try:
        with pytest.raises(stopping.Stopped) as stop:
            ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    finally:
        stopping.reset()
    assert stop.value.exit_code == 143
    assert stop.value.sentence() == (
        "stopped by SIGTERM; the file in progress was rolled back; rerun to continue"
    )
    assert files(warehouse) == [] and counts(warehouse)["stg.claims"] == 0


def test_a_file_replaced_by_a_symlink_after_the_scan_is_not_followed(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = make_inbox(tmp_path)
    outside = tmp_path / "outside.csv"
    outside.write_text((inbox / "claims" / "march.csv").read_text())
    scanned = ingest.scan_inbox(inbox)

    def scan_then_swap(folder: Path) -> ingest.InboxScan:
        target = inbox / "claims" / "march.csv"
        target.unlink()
        target.symlink_to(outside)  # swapped in between the scan and the read
        return scanned

    monkeypatch.setattr(ingest, "scan_inbox", scan_then_swap)
    report = ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    assert [(o.path.name, o.status, o.reason) for o in report.outcomes] == [
        ("march.csv", "ignored", "symlink: not followed"),
        ("notes.csv", "loaded", None),
    ]
    assert report.ignored == ["claims/march.csv: symlink: not followed"]
    assert files(warehouse) == [("notes.csv", "loaded")]
    assert counts(warehouse)["stg.claims"] == 0
    landed = [p.name for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert len(landed) == 1 and landed[0].endswith(".csv")  # notes.csv only


def test_the_landing_copy_is_the_bytes_that_were_read_not_the_path_again(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"now different")
    landed = ledger.land(tmp_path / "store", source, "ab" * 32, b"read earlier")
    assert landed == tmp_path / "store" / "landing" / "ab" / f"{'ab' * 32}.csv"
    assert landed.read_bytes() == b"read earlier"


def test_only_the_recoup_command_takes_over_the_signals() -> None:
    """A flow run of a deployment (no ``recoup`` command in the process) keeps Prefect's SIGTERM
    handling, through which the runner cancels it; under the command, each task re-installs
    recoup's handlers over Prefect's and puts Prefect's back afterwards."""

    def prefects(signum: int, frame: object) -> None:
        raise AssertionError("not called")

    before = signal.signal(signal.SIGTERM, prefects)
    try:
        with stopping.stop_on_signals():  # a task, not under the command
            assert signal.getsignal(signal.SIGTERM) is prefects
        with stopping.stop_on_signals(arm=True):
            signal.signal(signal.SIGTERM, prefects)  # Prefect's bridge during the flow
            with stopping.stop_on_signals():  # a task under the command
                assert signal.getsignal(signal.SIGTERM) is stopping._handler
                assert signal.getsignal(signal.SIGINT) is stopping._handler
            assert signal.getsignal(signal.SIGTERM) is prefects
        assert signal.getsignal(signal.SIGTERM) is prefects
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_defect_reported_after_a_stop_was_requested_is_not_recorded(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that turns whatever broke inside it into its own error (the X12 reader does, for
    a bug) would make a signal look like a defect: after a stop request, nothing is rejected."""
    from loading.x12 import X12Error

    inbox = make_inbox(tmp_path)

    def reader_broken_by_the_signal(*args: Any) -> Any:
        with pytest.raises(stopping.Stopped):
            stopping._handler(signal.SIGINT, None)
        raise X12Error("march.csv", "the file could not be read (RuntimeError at duck.py:1)")

    monkeypatch.setattr(ingest, "read_staged", reader_broken_by_the_signal)
    try:
        with pytest.raises(stopping.Stopped) as stop:
            ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    finally:
        stopping.reset()
    assert stop.value.exit_code == 130
    assert files(warehouse) == [] and not (tmp_path / "store" / "quarantine").exists()


def test_recoup_serve_leaves_the_signals_to_prefects_runner() -> None:
    """Prefect's serve shuts down gracefully on KeyboardInterrupt and its own SIGTERM handler."""
    with stopping.stop_on_signals(arm=True):
        with stopping.left_to_prefect():
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
            with stopping.stop_on_signals():  # a task of an in-process run: not taken over
                assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert signal.getsignal(signal.SIGINT) is stopping._handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
