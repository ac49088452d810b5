"""Benchmark: ``ingest_inbox`` alone (no Prefect, marts, GX or reports) on a demo inbox.

Two figures, each into a fresh warehouse: the whole inbox (X12 + sessions; files/s and X12
segments/s), and the ``--small`` smallest 835s of it alone (ms a file: the per-file cost that
batches of files amortise, issue 10 item 2). ``RECOUP_ROOT`` points it at another checkout of
recoup (e.g. the previous commit, extracted with ``git archive``) to compare in one sitting.

    uv run python benchmarks/bench_ingest.py --inbox /tmp/bench/x12-100k-seed7 [--small 100]
                                             [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("RECOUP_ROOT") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))

from loading import ingest  # noqa: E402
from warehouse.connection import open_warehouse  # noqa: E402


def segments(paths: list[Path]) -> int:
    """X12 segments in ``paths`` (the terminator is ISA's 106th byte)."""
    total = 0
    for path in paths:
        data = path.read_bytes()
        if data.startswith(b"ISA"):
            total += data.count(data[105:106])
    return total


def load(inbox: Path, work: Path, profile: bool) -> float:
    """Seconds of one ``ingest_inbox`` of ``inbox`` into a fresh warehouse under ``work``."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with open_warehouse(work / "recoup.duckdb") as con:
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        report = ingest.ingest_inbox(con, inbox, work / "store", "bench")
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - start
    bad = [o for o in report.outcomes if o.status != "loaded"]
    if bad:
        raise SystemExit(f"not loaded: {[(o.path.name, o.status, o.reason) for o in bad][:3]}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=Path, required=True)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        small = sorted((args.inbox / "remittances").rglob("*.835"), key=lambda p: p.stat().st_size)[
            : args.small
        ]
        inbox = tmp / "small"
        (inbox / "remittances").mkdir(parents=True)
        for path in small:
            shutil.copy(path, inbox / "remittances" / path.name)
        every = [
            p
            for feed in ingest.FEEDS
            for p in (args.inbox / feed).rglob("*")
            if p.is_file() and not p.name.startswith(".")
        ]
        segs = segments(every)
        print(f"recoup at {ROOT}")
        best = min(load(inbox, tmp / "w", args.profile) for _ in range(args.repeat))
        print(f"  {len(small)} small 835s: {best:.2f} s, {best / len(small) * 1000:.1f} ms a file")
        best = min(load(args.inbox, tmp / "w", args.profile) for _ in range(args.repeat))
        print(
            f"  whole inbox ({len(every)} files, {segs:,} X12 segments): {best:.2f} s, "
            f"{segs / best:,.0f} segments/s, {best / len(every) * 1000:.1f} ms a file"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
