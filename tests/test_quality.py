"""Lint, format and type checks run with the suite, so CI enforces them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_lint_is_clean() -> None:
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_shared_fixture_starts_a_prefect_test_harness() -> None:
    """``prefect_test_harness()`` waits 30 s for its server unless told otherwise, less than a
    loaded CI machine needs (a module-level copy in a reporting test failed that way). Tests use
    the session fixture ``prefect_harness`` in tests/conftest.py, which waits patiently."""
    callers = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if "prefect_test_harness(" in path.read_text()
        and path not in (ROOT / "tests" / "conftest.py", Path(__file__).resolve())
    )
    assert callers == []
