"""Benchmark: the claim-pairing marts built whole against built in slices of CLM01 hashes.

    uv run python benchmarks/bench_marts.py --db PATH [--slices 1,5] [--as-of 2026-11-15]

``--db`` is a loaded warehouse (staging filled, for instance ``benchmarks/run.py``'s
``runs/10M/baseline.duckdb``); it is copied, never changed. For each slice count, a fresh
process builds the macros and the three heaviest sliced models (claims, claim_lines,
line_payment_events) in dependency order with recoup's own memory limit, and prints each model's
seconds and the process's peak RSS. The first slice count is the baseline of the ratios; every
other one's three tables are compared with it row for row (``EXCEPT ALL`` both ways), and the run
exits 1 when they differ.

Measured on the 2-core, 24 GiB box (2026-12-06, 10M claim lines, 4 GiB DuckDB limit, one run):

    5 slices: claims 23.24 s, claim_lines 33.17 s, line_payment_events 101.08 s = 157.49 s,
              peak RSS 4,339 MiB
    1 slice:  claims 29.62 s, claim_lines 39.30 s, line_payment_events 145.70 s = 214.62 s
              (1.36x), peak RSS 4,844 MiB
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ORDER = ("mart_claims", "mart_claim_lines", "mart_line_payment_events")


def child(db: str, as_of: str, slices: int) -> int:
    """Build the sliced models in ``slices`` slices; print their seconds as JSON."""
    from marts.build import MACROS, MODELS_DIR, model_sql
    from warehouse.connection import open_warehouse

    day = date.fromisoformat(as_of)
    seconds: dict[str, float] = {}
    with open_warehouse(Path(db)) as con:
        con.execute((MODELS_DIR / MACROS).read_text())
        for name in ORDER:
            clock = time.monotonic()
            con.execute("BEGIN TRANSACTION")
            for slice_ in range(slices):
                con.execute(model_sql(name, day, slices, slice_))
            con.execute("COMMIT")
            seconds[name] = round(time.monotonic() - clock, 2)
            print(f"  {slices} slice(s): {name} {seconds[name]:.2f} s", file=sys.stderr, flush=True)
    print(json.dumps(seconds))
    return 0


def run(db: Path, as_of: str, slices: int) -> tuple[dict[str, float], float]:
    """One child process; its seconds per model and its peak RSS in MiB."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", str(db), as_of, str(slices)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    out = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"the build in {slices} slice(s) failed (status {status})")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def differences(whole: Path, sliced: Path) -> dict[str, int]:
    """Rows of each model in one build and not the other (EXCEPT ALL both ways)."""
    import duckdb

    con = duckdb.connect(str(sliced))
    con.execute(f"ATTACH '{whole}' AS whole (READ_ONLY)")
    out = {}
    for name in ORDER:
        table = "mart." + name.removeprefix("mart_")
        row = con.execute(
            f"SELECT (SELECT count(*) FROM (FROM {table} EXCEPT ALL FROM whole.{table})) + "
            f"(SELECT count(*) FROM (FROM whole.{table} EXCEPT ALL FROM {table}))"
        ).fetchone()
        out[table] = int(row[0]) if row else -1
    con.close()
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        return child(args[1], args[2], int(args[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--slices", default="1,5")
    parser.add_argument("--as-of", default="2026-11-15")
    parser.add_argument("--work", type=Path, default=None)
    options = parser.parse_args(args)
    counts = [int(part) for part in options.slices.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-marts-", dir=options.work))
    try:
        copies, results = {}, {}
        for slices in counts:
            copy = work / f"slices-{slices}.duckdb"
            shutil.copyfile(options.db, copy)
            print(f"building in {slices} slice(s) on a copy of {options.db}", file=sys.stderr)
            results[slices] = run(copy, options.as_of, slices)
            copies[slices] = copy
        base, (base_seconds, base_rss) = counts[0], results[counts[0]]
        print(f"\n{'slices':>6} {'model':<26} {'seconds':>9} {'x first':>8} {'peak RSS MiB':>13}")
        failed = False
        for slices in counts:
            seconds, rss = results[slices]
            for name in ORDER:
                ratio = seconds[name] / base_seconds[name] if base_seconds[name] else 0.0
                print(f"{slices:>6} {name:<26} {seconds[name]:>9.2f} {ratio:>8.2f} {rss:>13.0f}")
            total = sum(seconds.values())
            ratio = total / sum(base_seconds.values())
            print(f"{slices:>6} {'(the three)':<26} {total:>9.2f} {ratio:>8.2f} {rss:>13.0f}")
            if slices != base:
                diff = differences(copies[base], copies[slices])
                print(f"       rows differing from {base} slice(s): {diff}")
                failed |= any(diff.values())
        print(f"baseline peak RSS {base_rss:.0f} MiB")
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
