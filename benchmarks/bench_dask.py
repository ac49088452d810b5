"""Where the time of ``--task-runner dask`` goes: the rules step alone, in one process and split
by service month over a local Dask cluster, on a warehouse whose marts are built (e.g. the
harness's ``runs/100k/full/recoup.duckdb``; it is copied, never changed).

    uv run python benchmarks/bench_dask.py WAREHOUSE [--workers 2] [--as-of 2026-11-15]

Prints wall seconds per phase: the rules in one process (``run_rules``, what the default runner
does), then cluster start, plan (driver), compute (workers: one task per worker, as
``split_months`` splits the months; again once the workers have imported recoup), store (driver)
and cluster close. No Prefect: the phases flows/distributed.py runs inside its task.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from distributed import Client, LocalCluster

    from expectations.catalog import (
        compute_findings_file,
        prepare_rules,
        run_rules,
        store_findings,
    )
    from flows.distributed import split_months
    from warehouse.connection import open_warehouse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 15))
    options = parser.parse_args(argv)
    as_of: date = options.as_of
    phases: dict[str, float] = {}

    def timed(name: str, start: float) -> None:
        phases[name] = time.perf_counter() - start
        print(f"{name:<28} {phases[name]:8.2f} s", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-dask-") as folder:
        db = Path(folder) / "recoup.duckdb"
        shutil.copyfile(options.warehouse, db)
        with open_warehouse(db) as con:
            lines = con.execute("SELECT count(*) FROM mart.paid_lines").fetchone()
            start = time.perf_counter()
            one = run_rules(con, as_of)
            timed("rules, one process", start)
            months = [
                row[0]
                for row in con.execute(
                    "SELECT DISTINCT service_month FROM mart.paid_lines ORDER BY 1"
                ).fetchall()
            ]
        print(f"({lines[0] if lines else 0:,} paid lines, {len(months)} service months)")

        start = time.perf_counter()
        cluster = LocalCluster(
            n_workers=options.workers,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
        )
        client = Client(cluster)
        timed(f"cluster start ({options.workers} workers)", start)
        try:
            start = time.perf_counter()
            with open_warehouse(db) as con:
                plan = prepare_rules(con, as_of)
            timed("plan (driver)", start)
            start = time.perf_counter()
            parts = split_months(months, options.workers)
            files = [Path(folder) / "partitions" / f"{p[0]:%Y-%m}.parquet" for p in parts]
            futures = [
                client.submit(compute_findings_file, db, plan, None, p, f, pure=False)
                for p, f in zip(parts, files, strict=True)
            ]
            rows = client.gather(futures)
            timed("compute (workers)", start)
            start = time.perf_counter()
            again = [
                client.submit(compute_findings_file, db, plan, None, p, f, pure=False)
                for p, f in zip(parts, files, strict=True)
            ]
            client.gather(again)
            warm = time.perf_counter() - start  # not a phase of a run: the import cost
            print(f"{'compute again, warm':<28} {warm:8.2f} s", flush=True)
            start = time.perf_counter()
            with open_warehouse(db) as con:
                split = store_findings(con, plan, None, files)
            timed("store (driver)", start)
        finally:
            start = time.perf_counter()
            client.close()
            cluster.close()
            timed("cluster close", start)
    if split.counts != one.counts or sum(rows) != one.findings:
        print(f"MISMATCH: {split.counts} vs {one.counts}", file=sys.stderr)
        return 1
    on_dask = sum(v for k, v in phases.items() if k != "rules, one process")
    print(
        f"rules: {phases['rules, one process']:.2f} s in one process, {on_dask:.2f} s on Dask "
        f"(ratio {on_dask / phases['rules, one process']:.2f}); {one.findings:,} findings equal"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
