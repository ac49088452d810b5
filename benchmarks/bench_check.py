"""Benchmark: ``recoup check`` on a file of unsent claims against a large warehouse.

    uv run python benchmarks/bench_check.py                     # 1,000 claims vs 1,000,000 lines
    uv run python benchmarks/bench_check.py --lines 100000 --claims 1000 [--db PATH] [--keep]

Generates the warehouse with ``bench_rules.generate`` (the rules benchmark's staging tables:
claims, 835s with reversals, 271s with retroactive terminations, sessions), builds the mart and
times, in the same process:

* the baseline: every rule over the warehouse (``catalog.run_rules``, findings into the mart);
* ``check_claims`` in-process on a claims CSV (the README's schema) of ``--claims`` unsent claims
  (two lines each: half on recent dates, half copying a paid line's client, clinician, date and
  code, so the duplicate and same-day rules have work), best of ``--repeat``;
* ``recoup check FILE --db DB --format json`` as a fresh process (interpreter start and imports
  included), best of ``--repeat``.

It prints seconds for each and the ratio of each check to the baseline, and the findings the
check reported. The warehouse is only read by the check (its file is hashed before and after).

Measured on the 2-core, 24 GiB box shared with other work (December 2026, best of 2):

    1M lines, 1,000 claims (2,000 lines): run_rules 4.28 s; check in-process 0.72 s (0.17x),
               fresh process 2.03 s (0.47x); the whole benchmark 27 s
    100k lines (under load): run_rules 0.84 s; check in-process 1.52 s, fresh process 4.70 s
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_rules import AS_OF, generate, timed  # noqa: E402
from expectations.catalog import run_rules  # noqa: E402
from expectations.precheck import check_claims  # noqa: E402
from marts.build import build_models  # noqa: E402
from warehouse.connection import open_warehouse  # noqa: E402

PENDING = """
COPY (
    WITH picked AS (
        SELECT l.claim_id, c.member_id, c.payer_id, c.billing_npi, l.rendering_npi,
               l.date_of_service, l.procedure_code, l.modifiers, l.place_of_service,
               row_number() OVER (ORDER BY hash(l.claim_id)) AS n
        FROM stg.claim_lines AS l
        JOIN stg.claims AS c USING (file_sha256, claim_id)
        WHERE l.line_number = 1
        QUALIFY n <= {claims}
    )
    SELECT 'PND' || lpad(CAST(n AS VARCHAR), 7, '0') AS claim_id, line AS line_number,
           member_id, payer_id, billing_npi, rendering_npi,
           CASE WHEN n % 2 = 0 THEN date_of_service
                ELSE DATE '{as_of}' - CAST(n % 20 AS INTEGER) END AS date_of_service,
           CASE WHEN line = 1 THEN procedure_code ELSE '90785' END AS procedure_code,
           CASE WHEN len(modifiers) > 0 THEN modifiers[1] END AS modifiers,
           1 AS units,
           CASE WHEN line = 1 THEN 150.00 ELSE 20.00 END AS charge,
           place_of_service
    FROM picked, range(1, 3) AS r(line)
    ORDER BY claim_id, line_number
) TO '{path}' (HEADER, DELIMITER ',')
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="warehouse claim lines")
    parser.add_argument("--claims", type=int, default=1_000, help="unsent claims in the file")
    parser.add_argument("--repeat", type=int, default=2, help="repetitions (best of)")
    parser.add_argument("--db", type=Path, help="DuckDB file to create (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the DuckDB file")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="recoup-bench-check-"))
    db = args.db or work / "recoup.duckdb"
    pending = work / "pending.csv"
    try:
        with open_warehouse(db) as con:
            _, seconds = timed(lambda: generate(con, args.lines))
            print(f"generated {args.lines:,} lines in {seconds:.1f} s", flush=True)
            _, seconds = timed(lambda: build_models(con, AS_OF))
            print(f"build_models {seconds:.1f} s", flush=True)
            con.execute(
                PENDING.format(claims=args.claims, as_of=AS_OF.isoformat(), path=str(pending))
            )
            baseline = min(timed(lambda: run_rules(con, AS_OF))[1] for _ in range(args.repeat))
        before = digest(db)
        in_process = []
        result = None
        for _ in range(args.repeat):
            result, seconds = timed(lambda: check_claims(pending, db))
            in_process.append(seconds)
        fresh = []
        code = None
        for _ in range(args.repeat):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "flows.cli", "check", str(pending), "--db", str(db),
                 "--format", "json"],
                capture_output=True, cwd=ROOT, check=False,
            )  # fmt: skip
            fresh.append(time.perf_counter() - started)
            code = done.returncode
            if code not in (0, 1):
                print(done.stderr.decode(errors="replace"), file=sys.stderr)
                return 1
        unchanged = digest(db) == before
        assert result is not None
        found = sum(len(line.risks) for line in result.lines)
        print(
            f"{args.claims:,} claims ({len(result.lines):,} lines) vs {args.lines:,} lines: "
            f"{len(result.at_risk):,} lines at risk, {found:,} findings (exit {code})"
        )
        best_in, best_fresh = min(in_process), min(fresh)
        print(f"all rules over the warehouse (run_rules): {baseline:.2f} s")
        print(f"check in-process:  {best_in:.2f} s  ({best_in / baseline:.2f}x the rules run)")
        print(f"check fresh process: {best_fresh:.2f} s  ({best_fresh / baseline:.2f}x)")
        print(f"warehouse unchanged by the check: {unchanged}")
        if args.keep:
            print(f"kept: {db} and {pending}")
        return 0 if unchanged else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
