"""The benchmark harness (benchmarks/run.py) at a tiny size: it writes RESULTS.md with the rows
asked for and numbers in them, and its plain-DuckDB baseline computes recoup's answer on the
same feeds (else the baseline's speed would mean nothing). No timed assertions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PATIENT

ROOT = Path(__file__).resolve().parents[1]
SIZE = "400"  # claim lines: 344 demo claims
NUMBER = r"[0-9][0-9,]*\.[0-9]+"


@pytest.fixture(scope="module")
def harness(prefect_harness: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bench")
    out, work = root / "RESULTS.md", root / "work"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--sizes",
            SIZE,
            "--only",
            "full-csv,baseline,report",
            "--out",
            str(out),
            "--work",
            str(work),
            "--api-url",
            prefect_harness,
        ],
        capture_output=True,
        text=True,
        timeout=PATIENT,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {"out": out, "work": work}


def _row(text: str, name: str) -> list[str]:
    rows = [line for line in text.splitlines() if line.startswith(f"| {SIZE} | {name}: ")]
    assert len(rows) == 1, text
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def test_results_md_has_the_machine_and_a_numeric_row_per_measurement(
    harness: dict[str, Path],
) -> None:
    text = harness["out"].read_text()
    assert re.search(r"^- machine: \d+ cores, [0-9.]+ GiB, ", text, re.M)
    assert re.search(
        r"^- load average \(1, 5, 15 min\): [0-9. ]+ at the start, [0-9. ]+ at", text, re.M
    )
    assert re.search(
        r"^- Python 3\.11\.\d+, duckdb [0-9.]+, polars [0-9.]+, prefect [0-9.]+$", text, re.M
    )
    names = [
        line.split("|")[2].strip().split(":")[0]
        for line in text.splitlines()
        if line.startswith(f"| {SIZE} | ")
    ]
    assert names == ["baseline", "full-csv", "report"]
    for name in names:
        size, _what, wall, rows_per_s, rss, ratio, *_ = _row(text, name)
        assert size == SIZE
        assert re.fullmatch(NUMBER, wall) and float(wall.replace(",", "")) > 0
        assert re.fullmatch(r"[0-9][0-9,]*", rss) and int(rss.replace(",", "")) > 0
        assert re.fullmatch(NUMBER, ratio)
        if name != "report":
            assert re.fullmatch(r"[0-9][0-9,]*", rows_per_s)
    assert _row(text, "baseline")[5] == "1.00"


def test_the_baseline_computes_recoups_answer_to_the_cent(harness: dict[str, Path]) -> None:
    work = harness["work"]
    exposure = json.loads(
        (work / "runs" / SIZE / "full-csv" / "reports" / "2026-11-15" / "exposure.json").read_text()
    )
    totals = exposure["totals"]
    log = (work / "logs" / SIZE / "baseline.log").read_text()
    baseline = json.loads(log.split("--- stdout\n")[1].split("--- stderr")[0].strip())
    assert baseline["open_exposure"] == f"{totals['open_exposure']:.2f}"
    assert baseline["flagged_lines"] == totals["flagged_lines"]
    assert baseline["claim_lines"] == totals["claim_lines"]
    assert totals["flagged_lines"] > 0 and totals["open_exposure"] > 0
    text = harness["out"].read_text()
    expected = (
        f"- {SIZE}: baseline {totals['flagged_lines']} of {totals['claim_lines']} lines flagged, "
        f"open exposure ${totals['open_exposure']:,.2f}; recoup on the same feeds "
        f"{totals['flagged_lines']} of {totals['claim_lines']}, ${totals['open_exposure']:,.2f}: "
        "equal"
    )
    assert expected in text.splitlines()
