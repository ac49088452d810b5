"""The command's paper cuts (issue 14 item 5, and item 4's payer ids): --version, the date
format in errors, help text for every option, a documented home for the default paths, payer ids
matched case-insensitively, the lock file ignored by git."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from flows.cli import UsageError, app, canonical_payer, main
from tests.conftest import DemoWarehouse

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("backfill", "demo", "report", "run", "serve")
DEMO_PAYERS = "ACMEH, BSTAR, KEYMU, MCRDM"
HINT = "give --db, or set RECOUP_HOME to the folder holding data/ and reports/"


@pytest.fixture(autouse=True)
def _no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECOUP_HOME", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_version_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"recoup {version}\n"


@pytest.mark.parametrize(
    ("args", "option", "value"),
    [
        (["run", "--as-of", "11/15/2026"], "--as-of", "11/15/2026"),
        (["report", "--as-of", "yesterday"], "--as-of", "yesterday"),
        (["backfill", "--start", "2026-13-01", "--end", "2026-12-31"], "--start", "2026-13-01"),
    ],
)
def test_a_bad_date_says_the_expected_format(
    args: list[str], option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert _error(capsys) == (
        f"recoup: {option} '{value}' is not a date: expected YYYY-MM-DD (e.g. 2026-11-15)"
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_help_text(command: str) -> None:
    arguments = list(app[command].assemble_argument_collection())
    function = app[command].default_command
    assert function is not None
    assert [a.name for a in arguments] == [
        "--" + name.replace("_", "-") for name in inspect.signature(function).parameters
    ]
    assert [a.name for a in arguments if not (a.parameter.help or "").strip()] == []


def test_report_help_shows_the_default_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # the help wraps to the terminal
    assert "Default: REPORTS/<as-of>/." in text
    assert "REPORTS//" not in text


def test_the_lock_and_wal_files_are_ignored_by_git() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["data/recoup.duckdb.lock", "data/recoup.duckdb.wal", "elsewhere/x.duckdb.lock"]
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.splitlines() == paths


# ---- where the default paths resolve ------------------------------------------------------------


def test_a_missing_default_warehouse_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """From a subfolder of the project: the error names the folder it looked in."""
    sub = tmp_path / "project" / "notes"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert main(["report"]) == 2
    assert _error(capsys) == (
        "recoup: warehouse data/recoup.duckdb does not exist: run `recoup run` first "
        f"(looked in {sub}/data/recoup.duckdb, under the current folder: {HINT})"
    )
    assert main(["run"]) == 2
    assert _error(capsys) == (
        f"recoup: inbox data/inbox does not exist (looked in {sub}/data/inbox, under the current "
        "folder: give --inbox, or set RECOUP_HOME to the folder holding data/ and reports/)"
    )


def test_an_explicit_path_gets_no_home_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert _error(capsys) == (
        f"recoup: warehouse {tmp_path}/none.duckdb does not exist: run `recoup run` first"
    )


def test_recoup_home_holds_the_default_paths(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    demo_warehouse: DemoWarehouse,
) -> None:
    home = tmp_path / "home"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("RECOUP_HOME", str(home))
    assert main(["report"]) == 2
    assert _error(capsys) == (
        f"recoup: warehouse {home}/data/recoup.duckdb does not exist: run `recoup run` first"
    )
    assert main(["run"]) == 2
    assert _error(capsys) == f"recoup: inbox {home}/data/inbox does not exist"
    demo_warehouse.copy_to(home / "data")  # loaded, never evaluated: the report says so
    assert main(["report"]) == 2
    assert _error(capsys) == (
        f"recoup: warehouse {home}/data/recoup.duckdb has no marts yet: run `recoup run` first"
    )
    assert list(elsewhere.iterdir()) == []


# ---- payer ids ----------------------------------------------------------------------------------


def test_payer_ids_match_case_insensitively() -> None:
    known = ["ACMEH", "BSTAR", "KEYMU", "MCRDM"]
    db = Path("w.duckdb")
    assert canonical_payer("keymu", known, db) == "KEYMU"
    assert canonical_payer("KeyMu", known, db) == "KEYMU"
    assert canonical_payer("MCRDM", known, db) == "MCRDM"
    with pytest.raises(UsageError, match=r"^--payer 'Ab' matches AB, ab: give one exactly$"):
        canonical_payer("Ab", ["AB", "ab"], db)
    assert canonical_payer("ab", ["AB", "ab"], db) == "ab"  # an exact id wins


def test_an_unknown_payer_is_exit_2_listing_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], demo_warehouse: DemoWarehouse
) -> None:
    db = demo_warehouse.copy_to(tmp_path)
    window = ["backfill", "--start", "2026-04-01", "--end", "2026-04-30", "--db", str(db)]
    assert main([*window, "--payer", "NOPE", "--no-ingest"]) == 2
    assert _error(capsys) == (
        f"recoup: --payer 'NOPE' is not a payer in the warehouse {db}; known payers: {DEMO_PAYERS}"
    )
    inbox = str(demo_warehouse.inbox)
    assert main([*window, "--payer", "nope", "--inbox", inbox]) == 2
    assert _error(capsys) == (
        f"recoup: --payer 'nope' is not a payer in the warehouse {db}; known payers: "
        f"{DEMO_PAYERS} (a payer only in new inbox files is known once `recoup run` loads them)"
    )
    empty = tmp_path / "new" / "recoup.duckdb"
    assert main([*window[:-1], str(empty), "--payer", "KEYMU", "--inbox", inbox]) == 2
    assert _error(capsys) == (
        f"recoup: --payer 'KEYMU': the warehouse {empty} holds no payer yet: run `recoup run` first"
    )
