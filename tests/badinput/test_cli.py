"""Bad input through ``recoup run`` (Prefect, GX, reports): three corpus cases at once beside the
clean demo inbox. The run completes (exit 0), says what it rejected and why in one line each,
lists the pre-dated note as a staging warning (issue 9, 9a), and writes the exposure.json of the
clean run plus the one new claim line that loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.badinput.cases import CASES
from tests.badinput.harness import AS_OF, Run, copy_inbox, expected_summary, place
from tests.conftest import PATIENT

ROOT = Path(__file__).resolve().parents[2]
CHOSEN = ("837-negative-clm02", "837-negative-sv102", "sessions-note-signed-before-session")


def test_recoup_run_rejects_what_it_must_and_reports_the_clean_exposure(
    clean_inbox: Path, clean: Run, tmp_path: Path
) -> None:
    cases = [case for case in CASES if case.id in CHOSEN]
    inbox = copy_inbox(clean_inbox, tmp_path / "inbox")
    for case in cases:
        place(case, inbox, clean_inbox)
    reports = tmp_path / "reports"
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--inbox", str(inbox), "--db",
         str(tmp_path / "recoup.duckdb"), "--reports", str(reports), "--as-of", str(AS_OF)],
        cwd=ROOT,
        env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")},
        capture_output=True,
        text=True,
        timeout=PATIENT,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    files = len(clean.report.outcomes) + len(cases)
    rejected, partial, _ = cases
    assert f"as of {AS_OF}: {files - 1} files loaded, 1 rejected, 0 skipped" in run.stdout
    assert f"  rejected {rejected.path}: {rejected.message}\n" in run.stdout
    assert f"  {partial.message}\n" in run.stdout
    assert (
        "  warning stg.sessions: note not signed before the date of service: 1 rows\n" in run.stdout
    )
    summary = json.loads((reports / str(AS_OF) / "exposure.json").read_text())
    deltas = {key: value for case in cases for key, value in case.summary_deltas().items()}
    assert summary == expected_summary(clean.summary, deltas)
