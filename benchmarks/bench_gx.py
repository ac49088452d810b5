"""Benchmark: 8 checks on a claim-lines table through GX (warehouse.gx_runner) vs plain SQL.

    uv run python benchmarks/bench_gx.py [--rows 1000000] [--db PATH] [--keep]

Builds a DuckDB file with N claim lines (about 0.1% of them defective in each checked way) and
a claim header table, runs the 8 checks once through `validate` (ephemeral GX context) and
once as plain DuckDB count queries, checks both give the same counts, and prints the times.
The GX import (about 5 s) is timed separately and not counted in the GX time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from warehouse.gx_runner import ColumnCheck, SqlCheck, validate

BUILD = """
CREATE SCHEMA stg;
CREATE TABLE stg.claim_lines AS
SELECT
    i AS line_id,
    CASE WHEN i % 1000 = 7 THEN NULL ELSE i // 3 END AS claim_id,
    (i % 3) + 1 AS line_no,
    'M' || lpad(CAST(i % 50000 AS VARCHAR), 6, '0') AS member_id,
    CAST(1000000000 + i % 4000 AS VARCHAR) AS rendering_npi,
    ['90834', '90837', '90791', 'H0031', 'H2019'][1 + i % 5] AS procedure_code,
    CASE WHEN i % 1000 = 11 THEN 0 ELSE 1 + i % 8 END AS units,
    CAST(80 + (i % 200) AS DECIMAL(12, 2)) AS billed_amount,
    CAST(CASE WHEN i % 1000 = 13 THEN 500 + (i % 200) ELSE 60 + (i % 100) END
         AS DECIMAL(12, 2)) AS paid_amount,
    CASE WHEN i % 1000 = 17 THEN DATE '2019-06-30'
         ELSE DATE '2024-01-01' + CAST(i % 700 AS INTEGER) END AS service_date,
    CASE WHEN i % 1000 = 19 THEN 'X' ELSE ['P', 'D', 'A'][1 + i % 3] END AS line_status
FROM range({rows}) r(i);
CREATE TABLE stg.claims AS
SELECT DISTINCT claim_id, member_id FROM stg.claim_lines
WHERE claim_id IS NOT NULL AND claim_id % 5000 <> 1;
"""

CHECKS = [
    ColumnCheck("claim id present", "stg.claim_lines", "claim_id", "not_null"),
    ColumnCheck("line id unique", "stg.claim_lines", "line_id", "unique"),
    ColumnCheck(
        "line status known", "stg.claim_lines", "line_status", "in_set", value_set=["P", "D", "A"]
    ),
    ColumnCheck("units 1-24", "stg.claim_lines", "units", "between", min_value=1, max_value=24),
    ColumnCheck(
        "paid 0-10000", "stg.claim_lines", "paid_amount", "between", min_value=0, max_value=10000
    ),
    ColumnCheck(
        "service date in range",
        "stg.claim_lines",
        "service_date",
        "between",
        min_value="2020-01-01",
        max_value="2026-12-31",
    ),
    SqlCheck(
        "paid over billed",
        "SELECT line_id, paid_amount, billed_amount FROM stg.claim_lines "
        "WHERE paid_amount > billed_amount",
    ),
    SqlCheck(
        "line without claim header",
        "SELECT l.line_id, l.claim_id FROM stg.claim_lines l "
        "ANTI JOIN stg.claims c ON c.claim_id = l.claim_id WHERE l.claim_id IS NOT NULL",
    ),
]

PLAIN = {
    "claim id present": "SELECT count(*) FROM stg.claim_lines WHERE claim_id IS NULL",
    "line id unique": "SELECT coalesce(sum(n), 0) FROM (SELECT count(*) n FROM stg.claim_lines "
    "WHERE line_id IS NOT NULL GROUP BY line_id HAVING count(*) > 1)",
    "line status known": "SELECT count(*) FROM stg.claim_lines "
    "WHERE line_status IS NOT NULL AND line_status NOT IN ('P', 'D', 'A')",
    "units 1-24": "SELECT count(*) FROM stg.claim_lines WHERE units NOT BETWEEN 1 AND 24",
    "paid 0-10000": "SELECT count(*) FROM stg.claim_lines "
    "WHERE paid_amount NOT BETWEEN 0 AND 10000",
    "service date in range": "SELECT count(*) FROM stg.claim_lines "
    "WHERE service_date NOT BETWEEN DATE '2020-01-01' AND DATE '2026-12-31'",
    "paid over billed": f"SELECT count(*) FROM ({CHECKS[6].sql})",
    "line without claim header": f"SELECT count(*) FROM ({CHECKS[7].sql})",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="DuckDB file to create (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the DuckDB file")
    args = parser.parse_args(argv)

    tmp = tempfile.TemporaryDirectory(prefix="bench_gx_")
    db_path = args.db or Path(tmp.name) / "bench.duckdb"
    db_path.unlink(missing_ok=True)

    started = time.perf_counter()
    with duckdb.connect(str(db_path)) as con:
        con.execute(BUILD.format(rows=args.rows))
    build_s = time.perf_counter() - started

    started = time.perf_counter()
    import great_expectations  # noqa: F401

    import_s = time.perf_counter() - started

    con = duckdb.connect(str(db_path))
    try:
        started = time.perf_counter()
        result = validate(db_path, "bench_claim_lines", CHECKS, con=con)
        gx_s = time.perf_counter() - started

        started = time.perf_counter()
        plain: dict[str, int] = {}
        for name, sql in PLAIN.items():
            row = con.execute(sql).fetchone()
            plain[name] = int(row[0]) if row else -1
        sql_s = time.perf_counter() - started
    finally:
        con.close()

    print(f"rows: {args.rows:,}  build: {build_s:.2f} s  GX import (not counted): {import_s:.2f} s")
    print(f"{'check':28} {'GX':>8} {'SQL':>8}  status")
    mismatches = 0
    for check in result.checks:
        same = check.unexpected_count == plain[check.name]
        mismatches += not same
        note = ("" if same else "  MISMATCH") + (f"  {check.error}" if check.error else "")
        print(
            f"{check.name:28} {check.unexpected_count!s:>8} {plain[check.name]:>8}  "
            f"{check.status}{note}"
        )
    print(f"GX validate:  {gx_s:.2f} s")
    print(f"plain SQL:    {sql_s:.2f} s")
    print(f"ratio GX/SQL: {gx_s / sql_s:.1f}x")
    if args.keep:
        print(f"kept {db_path}")
    else:
        tmp.cleanup()
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
