"""`recoup run` stopped by a signal or a fault of the machine, and failing inside a flow.

SIGTERM and SIGINT stop the run (exit 143 and 130, one line), the file in progress rolled back and
nothing recorded for it; a full disk stops it (exit 1, one line) with nothing recorded; after both,
a rerun gives the demo's reference reports byte for byte. An unexpected error inside a flow prints
one line and the path of the run log holding the traceback (flows/runlog.py)."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.cli import main
from loading import ingest, ledger, stopping
from tests.conftest import DEMO_AS_OF, PATIENT, DemoWarehouse
from tests.loading.test_ingest_faults import FullDisk

AS_OF = DEMO_AS_OF.isoformat()
STOPPED = "recoup: stopped by {}; the file in progress was rolled back; rerun to continue"
PROGRESS = re.compile(
    r"^(starting the run as of |loading new files from |  file \d+/\d+ |building marts )"
)


def ledger_status(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT status, count(*) FROM ledger.files GROUP BY 1").fetchall()
        return dict(rows)  # type: ignore[arg-type]
    finally:
        con.close()


def partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".partial")]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@pytest.mark.integration
def test_sigterm_then_a_full_disk_then_a_rerun_equals_an_uninterrupted_run(
    prefect_harness: str,
    demo_warehouse: DemoWarehouse,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, reports = tmp_path / "wh" / "recoup.duckdb", tmp_path / "reports"
    args = ["run", "--inbox", str(demo_warehouse.inbox), "--db", str(db)]
    args += ["--reports", str(reports), "--as-of", AS_OF]
    total = len(ingest.scan_inbox(demo_warehouse.inbox).files)

    # 1. SIGTERM once the run is loading (after "file 25/254")
    env = {**os.environ, "PREFECT_API_URL": prefect_harness, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", *args], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    seen: list[str] = []
    for line in process.stderr:
        seen.append(line.rstrip("\n"))
        if line.startswith(f"  file {max(1, total // 10)}/{total} "):
            process.send_signal(signal.SIGTERM)
            break
    out, err = process.communicate(timeout=PATIENT)
    seen += err.splitlines()
    assert process.returncode == 143, (out, seen)
    assert seen[-1] == STOPPED.format("SIGTERM")
    assert all(PROGRESS.match(line) for line in seen[:-1]), seen  # no traceback on the console
    after_term = ledger_status(db)
    assert list(after_term) == ["loaded"] and total // 10 <= after_term["loaded"] < total
    assert partials(db.parent) == []

    # 2. the landing disk fills up 40 files later: exit 1, one line, nothing recorded for it
    full = FullDisk(after=40)
    monkeypatch.setattr(ledger, "open", full, raising=False)
    stuck = ingest.scan_inbox(demo_warehouse.inbox).files[after_term["loaded"] + 40]
    capsys.readouterr()
    assert main(args) == 1
    err_lines = capsys.readouterr().err.splitlines()
    assert err_lines[-1] == (
        f"recoup: {stuck[0]}/{stuck[1].name} was not loaded: OSError: [Errno 28] No space left "
        "on device; nothing was recorded for it and the run stopped; the next run retries it"
    )
    assert all(PROGRESS.match(line) for line in err_lines[:-1]), err_lines
    assert full.opened == 41  # the ingest task was not retried into the full disk
    assert ledger_status(db) == {"loaded": after_term["loaded"] + 40}  # no "rejected" row
    assert partials(db.parent) == [] and not (db.parent / "quarantine").exists()
    monkeypatch.undo()

    # 3. space freed: the rerun loads the rest; the reports are the demo's reference bytes
    assert main(args) == 0, capsys.readouterr().err
    assert ledger_status(db) == {"loaded": total}
    assert partials(db.parent) == []
    folder = reports / AS_OF
    assert sha(folder / "exposure.json") == "359d16531ff9"
    assert sha(folder / "findings.csv") == "7def7386745a"


def tiny_inbox(root: Path) -> Path:
    inbox = root / "inbox"
    (inbox / "claims").mkdir(parents=True)
    (inbox / "sessions").mkdir()
    (inbox / "claims" / "march.csv").write_text(
        "claim_id,line_number,member_id,payer_id,billing_npi,date_of_service,procedure_code,"
        "charge\nC1,1,MBRZQ91,P1,1234567893,2025-03-04,90837,180.00\n"
    )
    (inbox / "sessions" / "notes.csv").write_text(
        "claim_id,line_number,minutes,note_signed_at,phq9,gad7\nC1,,55,2025-03-05,,\n"
    )
    return inbox


@pytest.mark.integration
def test_sigint_during_a_load_exits_130_with_the_file_rolled_back(
    prefect_harness: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, db = tiny_inbox(tmp_path), tmp_path / "wh" / "recoup.duckdb"
    monkeypatch.setattr(ingest, "BATCH_FILES", 1)  # a file a batch: the signal comes between files
    real_insert = ingest.insert_tables

    def insert_then_interrupt(con: duckdb.DuckDBPyConnection, tables: Any) -> dict[str, int]:
        rows = real_insert(con, tables)
        if "stg.sessions" in tables:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C while the second file is in
        return rows

    monkeypatch.setattr(ingest, "insert_tables", insert_then_interrupt)
    args = ["run", "--inbox", str(inbox), "--db", str(db), "--reports", str(tmp_path / "r")]
    assert main([*args, "--as-of", AS_OF]) == 130
    assert capsys.readouterr().err.splitlines() == [
        f"starting the run as of {AS_OF}: 2 files in {inbox}",
        f"loading new files from {inbox}",
        "  file 1/2 loaded: claims/march.csv",
        STOPPED.format("SIGINT"),
    ]
    assert ledger_status(db) == {"loaded": 1}
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM stg.sessions").fetchone() == (0,)
    finally:
        con.close()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
    assert stopping.requested() is None  # the next command in this process starts afresh


@pytest.mark.integration
def test_an_error_inside_a_flow_is_one_line_and_the_run_log_keeps_the_traceback(
    prefect_harness: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    import marts.build

    def broken(con: duckdb.DuckDBPyConnection, as_of: Any, **_: Any) -> dict[str, int]:
        raise ValueError("mart input is corrupt")

    monkeypatch.setattr(marts.build, "build_models", broken)
    inbox, db = tiny_inbox(tmp_path), tmp_path / "wh" / "recoup.duckdb"
    args = ["run", "--inbox", str(inbox), "--db", str(db), "--reports", str(tmp_path / "r")]
    assert main([*args, "--as-of", AS_OF]) == 1
    logs = list((db.parent / "logs").iterdir())
    assert len(logs) == 1
    log = logs[0]
    assert re.fullmatch(rf"run-\d{{8}}T\d{{6}}Z-{os.getpid()}\.log", log.name), log.name
    assert capfd.readouterr().err.splitlines() == [
        f"starting the run as of {AS_OF}: 2 files in {inbox}",
        f"loading new files from {inbox}",
        "  file 1/2 loaded: claims/march.csv",
        "  file 2/2 loaded: sessions/notes.csv",
        f"building marts and findings as of {AS_OF}",
        "recoup: ValueError: mart input is corrupt",
        f"traceback and run log: {log}",
    ]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    text = log.read_text()
    assert f"INFO recoup.progress: building marts and findings as of {AS_OF}\n" in text
    assert "Traceback (most recent call last):" in text
    assert 'raise ValueError("mart input is corrupt")' in text
    assert "MBRZQ91" not in text  # no member data


@pytest.mark.integration
def test_sigterm_between_tasks_under_prefects_own_handler_also_exits_143(
    prefect_harness: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Between tasks, Prefect's SIGTERM handler is in force (it raises its TerminationSignal);
    Prefect then hands the signal back to recoup's handler, so the run still stops with 143."""
    from flows import progress

    real_note = progress.note

    def note_then_terminate(text: str) -> None:
        real_note(text)
        if text.startswith("building marts"):  # in the flow's body, between two tasks
            signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(progress, "note", note_then_terminate)
    inbox, db = tiny_inbox(tmp_path), tmp_path / "wh" / "recoup.duckdb"
    args = ["run", "--inbox", str(inbox), "--db", str(db), "--reports", str(tmp_path / "r")]
    assert main([*args, "--as-of", AS_OF]) == 143
    assert capsys.readouterr().err.splitlines()[-1] == STOPPED.format("SIGTERM")
    assert ledger_status(db) == {"loaded": 2}
    assert not (tmp_path / "r").exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
