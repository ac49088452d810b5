"""Start fast (issue 10 item 3): `recoup --help` and every command's `--help` import none of
DuckDB, Arrow, Polars, pandas, GX, Prefect or matplotlib; `recoup run` says what it starts before
Prefect is even imported (its temporary server takes 10-20 s to answer)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import DEMO_AS_OF
from tests.flows.fresh import recoup_fresh
from tests.flows.test_run_faults import tiny_inbox

COMMANDS = ("backfill", "check", "demo", "report", "run", "serve")


def test_help_imports_nothing_heavy() -> None:
    done = recoup_fresh(["--help"])
    assert done.code == 0, done.stderr
    assert done.stdout.startswith("Usage: recoup COMMAND")
    assert done.imported == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_commands_help_imports_nothing_heavy(command: str) -> None:
    done = recoup_fresh([command, "--help"])
    assert done.code == 0, done.stderr
    assert done.stdout.startswith(f"Usage: recoup {command} ")
    assert done.imported == []


PREFECT_IMPORTED = re.compile(r"^import time:.*\|\s*prefect(\.|$)")


@pytest.mark.integration
def test_runs_first_progress_line_comes_before_prefect_is_imported(
    prefect_harness: str, tmp_path: Path
) -> None:
    """``-X importtime`` writes a line to standard error as each module finishes importing, on
    the same stream as the progress lines: the first progress line precedes Prefect's first."""
    inbox, db = tiny_inbox(tmp_path), tmp_path / "wh" / "recoup.duckdb"
    args = ["run", "--inbox", str(inbox), "--db", str(db), "--reports", str(tmp_path / "r")]
    done = recoup_fresh(
        [*args, "--as-of", DEMO_AS_OF.isoformat()],
        python=("-X", "importtime"),
        PREFECT_API_URL=prefect_harness,
    )
    assert done.code == 0, done.stderr
    lines = done.stderr.splitlines()
    said = [n for n, line in enumerate(lines) if not line.startswith("import time:")]
    prefect = [n for n, line in enumerate(lines) if PREFECT_IMPORTED.match(line)]
    assert lines[said[0]] == f"starting the run as of {DEMO_AS_OF}: 2 files in {inbox}"
    assert lines[said[1]] == f"loading new files from {inbox}"
    assert prefect and said[0] < prefect[0] < said[1]
    assert "prefect" in done.imported
