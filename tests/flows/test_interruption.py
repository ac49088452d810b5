"""SIGKILL a `recoup run` at 20 seeded moments across loading, marts, GX and reports (issue 9,
"An interruption test"). After each kill: nothing of the run is left running and the report
folder is absent or whole; then a normal run leaves exactly what an uninterrupted run leaves
(row counts, the ledger, findings, the report files byte for byte, the landing area).

Cost (docs/decisions.md "The interruption test"): a tiny demo inbox (30 claims, 54 files); the
session's Prefect server, so no temporary server starts; the uninterrupted reference computed
once per module by a plain `python -m flows.cli run`; and every other run forked from one
process that has already imported recoup, Prefect and GX (tests/flows/forked_runs.py), so each
of the 40 runs is a real, separate process that can be killed without paying the imports again.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb
import pytest

from tests.conftest import DEMO_AS_OF, PATIENT
from tests.flows.processes import session_members

pytestmark = pytest.mark.integration

AS_OF = DEMO_AS_OF.isoformat()
# The progress line that opens each phase (flows/nightly.py), and how long after it the seeded
# kill may come: about the phase's length on an idle machine (a busy one only stretches phases,
# so the kill still falls inside the run).
PHASES: dict[str, tuple[str, float]] = {
    "loading": ("loading new files from", 1.5),
    "marts": ("building marts and findings as of", 0.25),
    "gx": ("validating with Great Expectations", 3.0),
    "reports": ("writing reports to ", 0.8),
}
MOMENTS = [(phase, seed) for seed, phase in enumerate(list(PHASES) * 5)]  # 20, five per phase
FORKER = Path(__file__).with_name("forked_runs.py")


@dataclass(frozen=True)
class Outcome:
    """What a run leaves behind, minus what legitimately differs between runs (times, run ids,
    absolute paths)."""

    row_counts: dict[str, int]
    ledger: list[tuple[Any, ...]]
    findings: list[tuple[Any, ...]]
    report: dict[str, bytes]
    landing: list[str]
    reports_root: list[str]


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of the report folder, subfolders included (providers/), by relative path."""
    return {
        entry.relative_to(folder).as_posix(): entry.read_bytes()
        for entry in sorted(folder.rglob("*"))
        if entry.is_file()
    }


def outcome(work: Path) -> Outcome:
    from loading.ingest import table_counts

    with duckdb.connect(str(work / "warehouse" / "recoup.duckdb"), read_only=True) as con:
        counts = table_counts(con, ("stg", "ref", "ledger", "mart"))
        ledger = con.execute(
            "SELECT file_sha256, file_name, feed, status, row_counts, error, parts_total "
            "FROM ledger.files ORDER BY ALL"
        ).fetchall()
        findings = con.execute("SELECT * FROM mart.findings ORDER BY ALL").fetchall()
    store = work / "warehouse"
    landing = sorted(
        str(path.relative_to(store))
        for path in store.rglob("*")
        if path.is_file()
        and not path.name.startswith("recoup.duckdb")
        and path.relative_to(store).parts[0] != "logs"  # one run log per run, by design
    )
    return Outcome(
        row_counts=counts,
        ledger=ledger,
        findings=findings,
        report=_files(work / "reports" / AS_OF),
        landing=landing,
        reports_root=sorted(entry.name for entry in (work / "reports").iterdir()),
    )


def run_argv(inbox: Path, work: Path) -> list[str]:
    return [
        "run",
        "--inbox",
        str(inbox),
        "--db",
        str(work / "warehouse" / "recoup.duckdb"),
        "--reports",
        str(work / "reports"),
        "--as-of",
        AS_OF,
    ]


class ForkedRuns:
    """The test's side of tests/flows/forked_runs.py."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(FORKER)],
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._answer() == ["ready"]

    def _answer(self) -> list[str]:
        assert self.process.stdout is not None
        return self.process.stdout.readline().split()

    def start(self, argv: list[str], output: Path) -> int:
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps({"argv": argv, "output": str(output)}) + "\n")
        stdin.flush()
        word, pid = self._answer()
        assert word == "started"
        return int(pid)

    def ended(self, pid: int) -> int:
        """The exit code of run ``pid`` (negative: killed by that signal), once it has ended."""
        word, ended_pid, code = self._answer()
        assert (word, int(ended_pid)) == ("ended", pid)
        return int(code)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=PATIENT)


def _env(prefect_harness: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(PREFECT_API_URL=prefect_harness, PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="module")
def tiny_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo.generator import generate
    from expectations.catalog import RULE_IDS

    inbox = tmp_path_factory.mktemp("interruption") / "inbox"
    generate(inbox, rules=RULE_IDS, seed=7, claims=30, as_of=DEMO_AS_OF)
    return inbox


@pytest.fixture(scope="module")
def reference(
    prefect_harness: str, tiny_inbox: Path, tmp_path_factory: pytest.TempPathFactory
) -> Outcome:
    """One uninterrupted run, as a user starts it (`python -m flows.cli run`)."""
    work = tmp_path_factory.mktemp("reference")
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", *run_argv(tiny_inbox, work)],
        env=_env(prefect_harness),
        cwd=work,
        capture_output=True,
        text=True,
        timeout=PATIENT,
    )
    assert done.returncode == 0, done.stderr
    result = outcome(work)
    assert result.row_counts["stg.claims"] == 30
    assert len(result.ledger) == 54 and {row[3] for row in result.ledger} == {"loaded"}
    assert len(result.findings) == 11  # 10 of 34 lines flagged, one by two rules
    assert list(result.report) == [
        "changes.csv",
        # the one disputable takeback's packet (reporting/disputes.py): a PLB WO on PCN00000028
        "disputes/PCN00000028/claim_lines.csv",
        "disputes/PCN00000028/eligibility.csv",
        "disputes/PCN00000028/payments.csv",
        "disputes/PCN00000028/sessions.csv",
        "disputes/PCN00000028/summary.html",
        "disputes.csv",
        "exposure.json",
        "findings.csv",
        "findings.parquet",
        "index.html",
        # one fix-list page per rendering provider with open findings (reporting/prevention.py)
        "providers/1003882754.html",
        "providers/1006771046.html",
        "providers/1008034484.html",
        "providers/1011602392.html",
        "reverify.csv",
    ]
    assert json.loads(result.report["exposure.json"])["totals"]["open_exposure"] == 221.50
    assert result.reports_root == [AS_OF, "gx"]
    return result


@pytest.fixture(scope="module")
def forks(prefect_harness: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkedRuns]:
    runs = ForkedRuns(_env(prefect_harness), tmp_path_factory.mktemp("forks"))
    yield runs
    runs.close()


def _wait_for_line(output: Path, marker: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        if output.exists() and any(
            line.startswith(marker) for line in output.read_text(errors="replace").splitlines()
        ):
            return
        time.sleep(0.01)
    raise AssertionError(f"no {marker!r} line in {output.read_text(errors='replace')}")


@pytest.mark.parametrize(("phase", "seed"), MOMENTS, ids=[f"{p}-{s}" for p, s in MOMENTS])
def test_a_run_killed_at_a_seeded_moment_leaves_nothing_a_normal_run_does_not_repair(
    phase: str,
    seed: int,
    reference: Outcome,
    forks: ForkedRuns,
    tiny_inbox: Path,
    tmp_path: Path,
) -> None:
    marker, span = PHASES[phase]
    delay = random.Random(seed).uniform(0, span)
    killed_output = tmp_path / "killed.txt"
    pid = forks.start(run_argv(tiny_inbox, tmp_path), killed_output)
    _wait_for_line(killed_output, marker, time.monotonic() + PATIENT)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    code = forks.ended(pid)
    said = killed_output.read_text(errors="replace")
    assert code == -signal.SIGKILL, f"ended ({code}) before the kill {delay:.2f} s in: {said}"
    assert session_members(pid) == []  # nothing it started lives on
    folder = tmp_path / "reports" / AS_OF
    if folder.exists():  # a report folder is there whole, or not at all
        assert _files(folder) == reference.report

    rerun_output = tmp_path / "rerun.txt"
    rerun = forks.start(run_argv(tiny_inbox, tmp_path), rerun_output)
    assert forks.ended(rerun) == 0, rerun_output.read_text(errors="replace")
    assert session_members(rerun) == []
    after = outcome(tmp_path)
    assert after.row_counts == reference.row_counts
    assert after.ledger == reference.ledger
    assert after.findings == reference.findings
    assert after.report["exposure.json"] == reference.report["exposure.json"]
    assert after.report == reference.report
    assert after.landing == reference.landing
    assert after.reports_root == [AS_OF, "gx"]  # no hidden half folder left beside it
