"""Start fast (issue 10 item 3): `recoup --help` and every command's `--help` import none of
DuckDB, Arrow, Polars, pandas, GX, Prefect or matplotlib."""

from __future__ import annotations

import pytest

from tests.flows.fresh import recoup_fresh

COMMANDS = ("backfill", "demo", "report", "run", "serve")


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
