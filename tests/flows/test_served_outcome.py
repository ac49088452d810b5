"""A run of a deployment (recoup serve, a work pool) has no exit code: when some inbox entries
could not be read, it loads and reports the rest and ends Failed with the same sentence the
command prints before its exit 1 (flows/outcome.py); a run called directly keeps its result."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flows import outcome
from loading import ingest
from tests.loading.test_inbox_paths import make_inbox

NOTE = "sessions/secret.csv: cannot be read (Permission denied): not loaded; the next run tries"
SENTENCE = (
    "1 inbox entry could not be read (sessions/secret.csv): what could be read was loaded and "
    "reported; nothing was recorded for it, so the next run tries it again"
)


def incomplete() -> ingest.IngestReport:
    return ingest.IngestReport(ignored=[NOTE], unreadable=[NOTE])


def test_a_direct_run_keeps_its_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outcome.deployment, "get_id", lambda: None)
    result = object()
    assert outcome.served_outcome(incomplete(), result) is result


def test_a_served_run_that_read_everything_keeps_its_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outcome.deployment, "get_id", lambda: "d-1")
    result = object()
    assert outcome.served_outcome(ingest.IngestReport(), result) is result
    assert outcome.served_outcome(None, result) is result  # a backfill that loads nothing


def test_a_served_run_that_missed_an_entry_is_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outcome.deployment, "get_id", lambda: "d-1")
    state = outcome.served_outcome(incomplete(), object())
    assert state.is_failed() and state.message == SENTENCE


@pytest.mark.integration
def test_a_served_nightly_with_an_unreadable_entry_reports_the_rest_and_ends_failed(
    prefect_harness: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nightly flow itself, as a deployment's run sees it: the readable files are loaded and
    the report written, the state is Failed with the sentence, the ledger has nothing of the
    entry it could not read."""
    import duckdb

    from flows.nightly import nightly

    inbox = make_inbox(tmp_path)
    real_scan = ingest.scan_inbox

    def scan_missing_one(folder: Path) -> ingest.InboxScan:
        files, ignored, unreadable = real_scan(folder)
        return ingest.InboxScan(files, [*ignored, NOTE], [*unreadable, NOTE])

    monkeypatch.setattr(ingest, "scan_inbox", scan_missing_one)
    monkeypatch.setattr(outcome.deployment, "get_id", lambda: "d-1")
    db, reports = tmp_path / "recoup.duckdb", tmp_path / "reports"
    state = nightly(
        inbox=inbox, db=db, reports=reports, as_of=date(2025, 6, 30), store=tmp_path / "store",
        return_state=True,
    )  # fmt: skip
    assert state.is_failed() and state.message == SENTENCE
    assert (reports / "2025-06-30" / "exposure.json").is_file()
    con = duckdb.connect(str(db), read_only=True)
    try:
        files = con.execute("SELECT file_name, status FROM ledger.files ORDER BY 1").fetchall()
    finally:
        con.close()
    assert files == [("batch.csv", "loaded"), ("notes.csv", "loaded")]
