"""benchmarks/bench_check.py at a tiny size: it runs the check in-process and as a fresh process
against the generated warehouse, reports the same findings both ways, and leaves the warehouse
unchanged. No timed assertions."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import PATIENT

ROOT = Path(__file__).resolve().parents[1]


def test_bench_check_at_a_tiny_size(tmp_path: Path) -> None:
    db = tmp_path / "bench.duckdb"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_check.py"), "--lines", "4000",
         "--claims", "40", "--repeat", "1", "--db", str(db), "--keep"],
        capture_output=True, text=True, timeout=PATIENT, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    summary = re.search(
        r"40 claims \(80 lines\) vs 4,000 lines: (\d+) lines at risk, (\d+) findings", out
    )
    assert summary is not None, out
    assert re.search(r"check in-process: +[0-9.]+ s +\([0-9.]+x the rules run\)", out)
    assert re.search(r"check fresh process: [0-9.]+ s", out)
    assert "warehouse unchanged by the check: True" in out
    # the fresh process reports what the in-process check reported
    kept = re.search(r"^kept: (.+) and (.+pending\.csv)$", out, re.MULTILINE)
    assert kept is not None and Path(kept.group(1)) == db, out
    pending = Path(kept.group(2))
    printed = subprocess.run(
        [sys.executable, "-m", "flows.cli", "check", str(pending), "--db", str(db), "--format",
         "json"],
        capture_output=True, text=True, timeout=PATIENT, check=False, cwd=ROOT,
    )  # fmt: skip
    assert printed.returncode == 1, printed.stderr
    document = json.loads(printed.stdout)
    assert document["totals"]["lines"] == 80
    assert document["totals"]["lines_at_risk"] == int(summary.group(1))
    assert sum(len(line["risks"]) for line in document["lines"]) == int(summary.group(2))
    shutil.rmtree(pending.parent)
