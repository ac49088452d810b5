"""Benchmark: recoup's 835 reader end to end against pyx12 validating the same file.

Generates (seeded, deterministic) a valid 835 of at least ``--segments`` segments: several
transactions; claims with claim-level CAS, NM1*QC, NM1*82, DTM*232; service lines with SVC,
DTM*472, CAS, REF*6R and AMT; some reversals (CLP02 = 22, negative amounts); one PLB WO per
transaction; BPR02 balanced. Then times ``read_x12`` + ``insert_tables`` into a fresh migrated
DuckDB warehouse, and pyx12's validation of the same file, and prints segments/second for both,
the ratio and peak RSS.

    uv run python benchmarks/bench_x12.py [--segments 500000] [--seed 7] [--skip-pyx12]
    uv run python benchmarks/bench_x12.py --file PATH  # any X12 file (837P, 271 or 835) instead

For an 837P or a 271 of many segments, join the demo's files into one file of many interchanges
(``recoup demo --claims 20000 --out D``, then ``cat D/claims/*.837 > all.837``).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import polars  # noqa: E402, F401  (imported by every recoup run: loading/feeds.py, via ingest)

from loading.x12 import read_x12  # noqa: E402
from warehouse.connection import insert_tables, open_warehouse  # noqa: E402
from warehouse.money import amount_text as money  # noqa: E402

CODES = ["90832", "90834", "90837", "90791", "90785", "90846", "90847", "99213"]
CHARGES = {"90832": 9000, "90834": 13000, "90837": 18000, "90791": 20000, "90785": 2500,
           "90846": 12000, "90847": 12500, "99213": 11000}  # fmt: skip


def _claim(rng: random.Random, number: int, reversal: bool) -> tuple[list[str], int]:
    """The segments of one CLP loop and its paid amount (CLP04) in cents."""
    sign = -1 if reversal else 1
    day = f"2025{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    lines, charge_total, paid_total, resp_total = [], 0, 0, 0
    for seq in range(1, rng.randint(1, 4) + 1):
        code = rng.choice(CODES)
        charge = CHARGES[code]
        allowed = charge * rng.choice((60, 70, 80, 90)) // 100
        copay = rng.choice((0, 0, 1000, 2000))
        paid = allowed - copay
        mods = rng.choice(("", "", ":95", ":GT", ":HJ:95"))
        lines += [
            f"SVC*HC:{code}{mods}*{money(sign * charge)}*{money(sign * paid)}**1",
            f"DTM*472*{day}",
            f"CAS*CO*45*{money(sign * (charge - allowed))}",
        ]
        if copay:
            lines.append(f"CAS*PR*2*{money(sign * copay)}")
        lines += [f"REF*6R*{number}L{seq}", f"AMT*B6*{money(sign * allowed)}"]
        charge_total, paid_total, resp_total = (
            charge_total + charge, paid_total + paid, resp_total + copay,
        )  # fmt: skip
    status = "22" if reversal else rng.choice(("1", "1", "1", "2"))
    head = [
        f"CLP*C{number:08d}*{status}*{money(sign * charge_total)}*{money(sign * paid_total)}"
        f"*{money(sign * resp_total)}*12*PCN{number:010d}*11*{'8' if reversal else '1'}",
        f"NM1*QC*1*DOE*JANE****MI*M{number % 50000:07d}",
        f"NM1*82*1*SMITH*ALEX****XX*{1000000000 + number % 300}",
        f"DTM*232*{day}",
    ]
    if rng.random() < 0.3:
        head.insert(1, f"CAS*OA*23*{money(sign * 0)}")
    return head + lines, sign * paid_total


def generate_835(segments: int, seed: int = 7, claims_per_transaction: int = 1000) -> bytes:
    """A valid, balanced 835 of at least ``segments`` segments (deterministic for a seed)."""
    rng = random.Random(seed)
    out = [
        "ISA*00*          *00*          *ZZ*PAYERSUBMITTER *ZZ*RECOUPRECEIVER *251101*1200*^*00501"
        "*000000001*0*P*:",
        "GS*HP*PAYER*RECOUP*20251101*1200*1*X*005010X221A1",
    ]
    number = transactions = 0
    while len(out) + 2 < segments:
        transactions += 1
        body: list[str] = []
        clp_total = 0
        for _ in range(claims_per_transaction):
            number += 1
            claim, paid = _claim(rng, number, reversal=rng.random() < 0.05)
            body += claim
            clp_total += paid
            if len(out) + len(body) + 20 >= segments:
                break
        writeoff = rng.randint(100, 5000)
        plb = [f"PLB*1234567893*20251231*WO:C{number:08d}*{money(writeoff)}*72*{money(-250)}"]
        total = clp_total - (writeoff - 250)
        head = [
            f"ST*835*{transactions:04d}",
            f"BPR*I*{money(total)}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA"
            f"*98765*20251105",
            f"TRN*1*EFT{transactions:08d}*1512345678",
            "DTM*405*20251104",
            "N1*PR*ACME HEALTH PLAN*XV*ACME01",
            "N3*1 MAIN STREET",
            "N4*SPRINGFIELD*IL*62701",
            "PER*BL*EDI DESK*TE*8005551212",
            "N1*PE*MINDFUL THERAPY GROUP*XX*1234567893",
            "LX*1",
        ]
        tx = head + body + plb
        out += [*tx, f"SE*{len(tx) + 1}*{transactions:04d}"]
    out += [f"GE*{transactions}*1", "IEA*1*000000001"]
    return ("~\n".join(out) + "~\n").encode()


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_recoup(data: bytes, workdir: Path) -> tuple[int, float, float, dict[str, int]]:
    """Read ``data`` and insert it into a fresh warehouse on one core (DuckDB ``threads=1``);
    returns segments, wall seconds, CPU seconds and rows per table."""
    sha = hashlib.sha256(data).hexdigest()
    # the columnar 835 reader's first use in a process (Polars' thread pool, its regexes) is a
    # one-time cost like the warm-up's: paid here, untimed, on a small file read by column
    read_x12(generate_835(300), "warm.835", sha, columnar=True)
    with open_warehouse(workdir / "bench.duckdb") as con:
        con.execute("SET threads = 1")
        start, cpu = time.perf_counter(), time.process_time()
        result = read_x12(data, "bench.835", sha)
        read_done = time.perf_counter()
        con.execute("BEGIN TRANSACTION")
        rows = insert_tables(con, result.tables)
        con.execute("COMMIT")
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"  read_x12 {read_done - start:.2f} s, insert {elapsed - (read_done - start):.2f} s")
    return result.segments, elapsed, cpu, rows


def bench_pyx12(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds pyx12 takes to validate the file at ``path`` (no 997 written)."""
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    param = pyx12.params.params()
    start, cpu = time.perf_counter(), time.process_time()
    valid = pyx12.x12n_document.x12n_document(param, str(path), None, None)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"  pyx12 says valid={valid}")
    return elapsed, cpu


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints figures and returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-pyx12", action="store_true")
    parser.add_argument("--file", type=Path, help="read this X12 file instead of a generated 835")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    if args.file is not None:
        data = args.file.read_bytes()
        print(f"read {args.file} ({len(data) / 1e6:.1f} MB)")
    else:
        data = generate_835(args.segments, args.seed)
        print(f"generated {len(data) / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s")
    print(f"peak RSS before reading: {peak_rss_mib():.0f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        # One-time costs of a process (pyarrow imports pandas on its first conversion of Python
        # lists; DuckDB loads its Arrow scan): paid once per run, not per file. Shown apart.
        start = time.perf_counter()
        (Path(tmp) / "warm").mkdir()
        bench_recoup(generate_835(300, args.seed), Path(tmp) / "warm")
        print(
            f"warm-up (one-time process costs, 300 segments): {time.perf_counter() - start:.2f} s"
        )
        segments, seconds, recoup_cpu, rows = bench_recoup(data, Path(tmp))
        recoup_rate = segments / seconds
        print(f"recoup: {segments} segments in {seconds:.2f} s = {recoup_rate:,.0f} segments/s")
        print(f"  CPU {recoup_cpu:.2f} s = {segments / recoup_cpu:,.0f} segments per CPU-second")
        print(f"  rows: {rows}")
        print(f"  peak RSS after recoup: {peak_rss_mib():.0f} MiB")
        if args.skip_pyx12:
            return 0
        path = Path(tmp) / "bench.835"
        path.write_bytes(data)
        seconds, cpu = bench_pyx12(path)
        pyx12_rate = segments / seconds
        print(f"pyx12: {segments} segments in {seconds:.1f} s = {pyx12_rate:,.0f} segments/s")
        print(f"  CPU time {cpu:.1f} s = {segments / cpu:,.0f} segments per CPU-second")
        print(
            f"ratio recoup/pyx12: {recoup_rate / pyx12_rate:.0f}x (wall), "
            f"{(segments / recoup_cpu) / (segments / cpu):.0f}x (CPU)"
        )
        print(f"  peak RSS after pyx12: {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
