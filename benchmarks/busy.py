"""Benchmark: recoup on a busy machine. ``recoup run`` five times while two busy processes per
core hold the CPUs, each against an unloaded run of the same inbox (issue 8).

    uv run python benchmarks/busy.py [--claims 40] [--runs 5] [--per-core 2] [--suite]
                                     [--startup-timeout SECONDS]

Writes a small demo inbox, runs ``recoup run`` once on an idle machine (the baseline), then starts
``--per-core`` x cores busy-loop processes and runs it ``--runs`` times more, each into a fresh
warehouse with no PREFECT_API_URL (so every run starts Prefect's temporary server, the start-up
that used to time out at Prefect's 20 s default). A loaded run passes when it exits 0 and its
``findings.csv`` and ``exposure.json`` equal the baseline's byte for byte. It prints each run's
seconds and its ratio to the baseline; exit 1 unless every loaded run passed.

``--startup-timeout 20`` gives the runs Prefect's own default wait for its temporary server
instead of recoup's (what failed before issue 8), to see the difference on this machine.

With ``--suite`` it then runs the README's test command (``uv run pytest``) once under the same
load and prints its time and exit code.

Measured on the 2-core, 24 GiB box (December 2026, 40-claim demo inbox, another agent's tests
also running): recoup's default wait: idle run 32.0 s; 5/5 busy runs completed and equal the idle
run, 68.6-90.3 s (2.1x-2.8x idle). With ``--startup-timeout 20`` (Prefect's default): idle 34.3 s;
4/5, run 3 failed after 57.4 s with "Timed out while attempting to connect to ephemeral Prefect
API server", the failure issue 8 reported.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-15"


def spin() -> None:  # pragma: no cover - a CPU hog
    while True:
        pass


def env_without_prefect_overrides() -> dict[str, str]:
    """The caller's environment minus anything that would hide the start-up under test."""
    drop = {"PREFECT_API_URL", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"}
    return {k: v for k, v in os.environ.items() if k not in drop}


STARTUP: dict[str, str] = {}  # PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, when given


def recoup(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env=dict(env_without_prefect_overrides(), PYTHONPATH=str(ROOT), **STARTUP),
        capture_output=True,
        text=True,
    )


def one_run(work: Path, inbox: Path, name: str) -> tuple[float, int, bytes, str]:
    """Seconds, exit code, the report bytes that must not change, and the tail of stderr."""
    folder = work / name
    folder.mkdir()
    started = time.perf_counter()
    done = recoup(
        "run", "--inbox", str(inbox), "--db", str(folder / "recoup.duckdb"),
        "--reports", str(folder / "reports"), "--as-of", AS_OF, cwd=folder,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    out = b""
    if done.returncode == 0:
        report = folder / "reports" / AS_OF
        out = (report / "findings.csv").read_bytes() + (report / "exposure.json").read_bytes()
    return seconds, done.returncode, out, done.stderr[-2000:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-core", type=int, default=2)
    parser.add_argument("--suite", action="store_true", help="also run the test suite under load")
    parser.add_argument("--startup-timeout", type=int, help="Prefect's server wait, seconds")
    args = parser.parse_args(argv)
    if args.startup_timeout is not None:
        STARTUP["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = str(args.startup_timeout)

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="recoup-busy-") as tmp:
        work = Path(tmp)
        inbox = work / "inbox"
        made = recoup(
            "demo", "--out", str(inbox), "--claims", str(args.claims), "--as-of", AS_OF, cwd=work
        )
        if made.returncode:
            print(made.stdout + made.stderr, file=sys.stderr)
            return 1
        base_s, base_rc, base_out, base_err = one_run(work, inbox, "idle")
        print(f"idle run: {base_s:.1f} s, exit {base_rc}", flush=True)
        if base_rc:
            print(base_err, file=sys.stderr)
            return 1

        count = cores * args.per_core
        hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(count)]
        for hog in hogs:
            hog.start()
        print(f"{len(hogs)} busy processes on {cores} cores", flush=True)
        passed = 0
        try:
            for number in range(1, args.runs + 1):
                seconds, rc, out, err = one_run(work, inbox, f"busy{number}")
                same = rc == 0 and out == base_out
                passed += same
                verdict = "equal to the idle run" if same else f"FAILED (exit {rc})"
                print(
                    f"busy run {number}: {seconds:.1f} s ({seconds / base_s:.1f}x idle), {verdict}",
                    flush=True,
                )
                if not same:
                    print(err, file=sys.stderr)
            print(f"{passed}/{args.runs} busy runs completed and equal the idle run", flush=True)
            if args.suite:
                started = time.perf_counter()
                suite = subprocess.run(
                    ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"],
                    cwd=ROOT,
                    env=env_without_prefect_overrides(),
                    capture_output=True,
                    text=True,
                )
                tail = suite.stdout.strip().splitlines()[-1:] or [""]
                print(
                    f"test suite under load: {time.perf_counter() - started:.0f} s, "
                    f"exit {suite.returncode}: {tail[0]}",
                    flush=True,
                )
                if suite.returncode:
                    print(suite.stdout[-4000:], file=sys.stderr)
                    passed = -1
        finally:
            for hog in hogs:
                hog.terminate()
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    raise SystemExit(main())
