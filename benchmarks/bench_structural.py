"""Benchmark: the per-file structural gate (``check_file``) on a 1,000,000-line 837P's tables,
against copying the same tables into DuckDB (the load the gate guards), in the same process.

    uv run python benchmarks/bench_structural.py [--lines 1000000] [--repeat 3]

Prints the best of ``--repeat`` interleaved runs of each, and the ratio gate / copy. This was a
timed unit test ("under two seconds"); a shared, loaded machine moves single figures by 50% or
more, so the figure lives here as a ratio to a baseline measured beside it (issue 8).

Measured on the 2-core, 24 GiB box (December 2026, best of 3, while the test suite ran on both
cores): 1M lines: gate 0.80 s, copy 0.23 s -> 3.52x.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from loading.structural import check_file  # noqa: E402

GOOD_NPI = "1234567893"  # the CMS example NPI
OTHER_NPI = "1245319599"


def tables(lines: int) -> dict:
    """Claim headers and lines as the 837P reader stages them (two lines per claim)."""
    con = duckdb.connect()
    claim_lines = con.sql(
        "SELECT repeat('f', 64) AS file_sha256, 'C' || (i // 2) AS claim_id, "
        "CAST(i % 2 + 1 AS INTEGER) AS line_number, "
        "['90834', '90837', 'H0031'][1 + i % 3] AS procedure_code, "
        "CASE WHEN i % 5 = 0 THEN ['95'] ELSE []::VARCHAR[] END AS modifiers, '11' AS "
        "place_of_service, DATE '2024-01-01' + CAST(i % 300 AS INTEGER) AS date_of_service, "
        f"'{GOOD_NPI}' AS rendering_npi FROM range({lines}) r(i)"
    ).to_arrow_table()
    header = con.sql(
        "SELECT repeat('f', 64) AS file_sha256, 'C' || i AS claim_id, 'P1' AS payer_id, "
        f"'M' || (i % 5000) AS member_id, '{OTHER_NPI}' AS billing_npi, "
        f"DATE '2025-01-01' AS submitted_date FROM range({lines // 2}) r(i)"
    ).to_arrow_table()
    return {"stg.claims": header, "stg.claim_lines": claim_lines}


def copy_into_duckdb(data: dict) -> None:
    con = duckdb.connect()
    for number, table in enumerate(data.values()):
        con.register(f"t{number}", table)
        con.execute(f"CREATE TABLE c{number} AS SELECT * FROM t{number}")
    con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    data = tables(args.lines)
    check_file("batch.837", {name: t.slice(0, 10) for name, t in data.items()})  # warm up
    best = {"gate": float("inf"), "copy": float("inf")}
    for _ in range(args.repeat):
        for name, work in (
            ("gate", lambda: check_file("batch.837", data)),
            ("copy", lambda: copy_into_duckdb(data)),
        ):
            started = time.perf_counter()
            work()
            best[name] = min(best[name], time.perf_counter() - started)
    ratio = best["gate"] / best["copy"]
    print(f"{args.lines:,} claim lines, best of {args.repeat}:")
    print(f"  structural gate (check_file):  {best['gate']:.2f} s")
    print(f"  copy into DuckDB (baseline):   {best['copy']:.2f} s")
    print(f"  ratio gate / copy:             {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
