"""The ``recoup`` command in a fresh interpreter, and which heavy libraries it imported: a test
of what a command pays at start-up, asserted on module names, never on seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import PATIENT

ROOT = Path(__file__).resolve().parents[2]
# what `--help` and `recoup report` must not import (each costs 0.25-5.5 s, STACK.md)
HEAVY = (
    "duckdb",
    "pyarrow",
    "polars",
    "great_expectations",
    "prefect",
    "matplotlib",
    "pandas",
    "numpy",
    "sqlalchemy",
)
MARKER = "recoup-test-modules:"
_SCRIPT = f"""
import json, sys
from flows.cli import main
try:
    code = main(sys.argv[1:])
finally:
    heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set({list(HEAVY)!r}))
    print({MARKER!r} + json.dumps(heavy), file=sys.stderr, flush=True)
sys.exit(code)
"""


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str  # without the marker line
    imported: list[str]  # the HEAVY top-level packages in sys.modules when the command ended


def recoup_fresh(
    args: list[str], cwd: Path | None = None, python: tuple[str, ...] = (), **env: str
) -> Finished:
    """``recoup ARGS`` through ``flows.cli.main`` in a new Python process (started with the
    interpreter options ``python``, e.g. ``("-X", "importtime")``)."""
    environment = {**os.environ, **env}
    done = subprocess.run(
        [sys.executable, *python, "-c", _SCRIPT, *args],
        cwd=cwd or ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=PATIENT,
    )
    lines = done.stderr.splitlines()
    marked = [line for line in lines if line.startswith(MARKER)]
    assert len(marked) == 1, done.stderr
    rest = "".join(line + "\n" for line in lines if not line.startswith(MARKER))
    return Finished(done.returncode, done.stdout, rest, json.loads(marked[0].removeprefix(MARKER)))
