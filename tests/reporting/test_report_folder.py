"""A report folder is written whole (issue 9, item 3): into a hidden sibling, swapped into place,
so a run killed or failing while writing leaves the whole previous folder; leftovers of killed
runs go at the next write; a folder holding a user's files is never replaced."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from expectations.catalog import RulesResult
from flows.cli import main
from flows.handover import report_rules
from reporting import Scope, write_reports
from reporting.files import NotAReportFolder, check_report_folder
from tests.reporting.test_reports import AS_OF, JUNE, build_scenario
from tests.rulekit import Kit, new_kit

REPORT = ["disputes.csv", "exposure.json", "findings.csv", "findings.parquet", "index.html"]
# a nightly adds what changed since last night, the re-verification list and one page per
# rendering provider with findings
NIGHTLY = [
    "changes.csv",
    *REPORT,
    "providers/2222222222.html",
    "providers/3333333333.html",
    "reverify.csv",
]


@pytest.fixture(scope="module")
def scenario() -> tuple[Kit, RulesResult]:
    kit = new_kit(AS_OF)
    return kit, build_scenario(kit)


def _write(scenario: tuple[Kit, RulesResult], folder: Path, scope: Scope) -> None:
    kit, result = scenario
    write_reports(
        kit.con, folder, as_of=AS_OF, scope=scope, skipped=result.skipped, rules=report_rules()
    )


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of the folder, subfolders included (a nightly's providers/), by relative path."""
    return {
        entry.relative_to(folder).as_posix(): entry.read_bytes()
        for entry in sorted(folder.rglob("*"))
        if entry.is_file()
    }


def _dead_pid() -> int:
    """The pid of a process that has exited (as a SIGKILLed run's is)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


def test_a_failure_between_files_leaves_the_previous_folder_whole(
    scenario: tuple[Kit, RulesResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "reports" / AS_OF.isoformat()
    _write(scenario, folder, Scope.backfill(*JUNE, payer_id="P2"))  # the previous report: 1 line
    previous = _files(folder)
    assert list(previous) == REPORT
    assert previous["findings.csv"].count(b"\n") == 2

    def fail(*args: object, **kwargs: object) -> str:
        raise OSError("disk full")

    # the findings files are written, index.html fails: nothing of this run may show
    monkeypatch.setattr("reporting.writer.render_html", fail)
    with pytest.raises(OSError, match="disk full"):
        _write(scenario, folder, Scope.nightly())
    assert _files(folder) == previous
    assert sorted(entry.name for entry in folder.parent.iterdir()) == [AS_OF.isoformat()]


def test_a_write_replaces_the_whole_folder(
    scenario: tuple[Kit, RulesResult], tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    _write(scenario, folder, Scope.nightly())
    nightly = _files(folder)
    (folder / "audit.json").write_text("{}")  # an earlier backfill's audit file
    _write(scenario, folder, Scope.backfill(*JUNE, payer_id="P2"))
    assert list(_files(folder)) == REPORT  # no audit file of another run beside the new report
    assert _files(folder)["findings.csv"] != nightly["findings.csv"]
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["out"]


def test_leftovers_of_killed_runs_are_removed_at_the_next_write(
    scenario: tuple[Kit, RulesResult], tmp_path: Path
) -> None:
    folder = tmp_path / AS_OF.isoformat()
    dead = _dead_pid()
    half = tmp_path / f".{AS_OF.isoformat()}.tmp-{dead}"  # killed while writing
    half.mkdir()
    (half / "findings.csv").write_text("claim_id\n")
    aside = tmp_path / f".{AS_OF.isoformat()}.old-{dead}"  # killed after a swap's first rename
    aside.mkdir()
    (aside / "exposure.json").write_text("{}")
    running = tmp_path / f".{AS_OF.isoformat()}.tmp-{os.getppid()}"  # another run, still writing
    running.mkdir()
    _write(scenario, folder, Scope.nightly())
    assert list(_files(folder)) == NIGHTLY
    assert sorted(entry.name for entry in tmp_path.iterdir()) == sorted([folder.name, running.name])


def test_a_run_killed_mid_swap_gets_its_previous_folder_back(
    scenario: tuple[Kit, RulesResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between the swap's two renames: no folder, the previous one set aside whole. The
    next write puts it back first, so even a failing write leaves the previous report readable."""
    folder = tmp_path / AS_OF.isoformat()
    _write(scenario, folder, Scope.nightly())
    previous = _files(folder)
    folder.rename(tmp_path / f".{AS_OF.isoformat()}.old-{_dead_pid()}")
    monkeypatch.setattr("reporting.writer.render_html", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        _write(scenario, folder, Scope.backfill(*JUNE))
    assert _files(folder) == previous
    assert sorted(entry.name for entry in tmp_path.iterdir()) == [AS_OF.isoformat()]


def test_a_folder_with_other_files_is_not_replaced(
    scenario: tuple[Kit, RulesResult], tmp_path: Path
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    (folder / "exposure.json").write_text("{}")
    with pytest.raises(NotAReportFolder) as refused:
        _write(scenario, folder, Scope.nightly())
    assert str(refused.value) == (
        f"{folder} holds files that are not part of a recoup report (notes.txt): the report "
        "replaces the whole folder, so choose a new or empty folder"
    )
    assert _files(folder) == {"exposure.json": b"{}", "notes.txt": b"my notes"}
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["mine"]


def test_which_folders_a_report_may_replace(tmp_path: Path) -> None:
    check_report_folder(tmp_path / "new")  # missing: fine
    check_report_folder(tmp_path)  # empty: fine
    for name in ["exposure.json", "findings.csv", "audit.csv"]:
        (tmp_path / name).write_text("")
    check_report_folder(tmp_path)  # a report's own files: fine
    (tmp_path / "a").write_text("")
    (tmp_path / "b").mkdir()
    (tmp_path / "c.xlsx").write_text("")
    (tmp_path / "d").write_text("")
    with pytest.raises(NotAReportFolder, match=r"\(a, b, c\.xlsx and 1 more\)"):
        check_report_folder(tmp_path)
    with pytest.raises(NotAReportFolder, match="is not a folder"):
        check_report_folder(tmp_path / "a")


def test_report_out_refuses_a_folder_with_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "recoup.duckdb"
    db.write_bytes(b"")  # refused before the warehouse is opened
    out = tmp_path / "Documents"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"years of work")
    assert main(["report", "--db", str(db), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"recoup: --out {out} holds files that are not part of a recoup report (thesis.docx): "
        "the report replaces the whole folder, so choose a new or empty folder"
    ]
    assert _files(out) == {"thesis.docx": b"years of work"}
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["Documents", "recoup.duckdb"]
