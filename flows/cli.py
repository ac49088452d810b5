"""The ``recoup`` console script.

Exit codes: 0 when the run completed (findings are results, not failures); 2 for bad arguments or
an unreadable inbox; 3 when the warehouse is locked by another run; 1 for anything else that
stopped the run. Errors are one line on standard error. Prefect and GX are imported only by the
commands that need them, so ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

from cyclopts import App, Parameter

from flows import settings

app = App(
    name="recoup",
    help="Find behavioral-health insurance payments at risk of recoupment, before the payer does.",
    version_flags=[],
)


class UsageError(Exception):
    """Bad arguments or inputs the user can fix; exit code 2."""


def _echo(line: str = "") -> None:
    print(line, flush=True)


@app.command
def demo(
    *,
    out: Path = settings.DEFAULT_INBOX,
    seed: int = 7,
    claims: Annotated[int, Parameter(help="Number of claims to simulate.")] = 2000,
    as_of: Annotated[
        date | None, Parameter(help="Date the demo is built around (default 2026-11-15).")
    ] = None,
) -> None:
    """Write a realistic synthetic inbox (837P, 271, 835, sessions) with planted problems and an
    answer key (answer_key.csv, manifest.json at the top of OUT)."""
    from transforms.demo.generator import NotADemoFolder, generate

    if claims < 1:
        raise UsageError("--claims must be at least 1")
    kwargs = {"seed": seed, "claims": claims}
    if as_of is not None:
        kwargs["as_of"] = as_of  # type: ignore[assignment]
    try:
        manifest = generate(out, **kwargs)  # type: ignore[arg-type]
    except NotADemoFolder as exc:
        raise UsageError(str(exc)) from exc
    _echo(f"demo inbox written to {out} (seed {seed}, {claims} claims, as of {manifest['as_of']})")
    files = manifest.get("files", {})
    if files:
        _echo("files: " + ", ".join(f"{feed} {count}" for feed, count in files.items()))
    _echo(
        f"answer key: {out / 'answer_key.csv'}; run it with: "
        f"recoup run --inbox {out} --as-of {manifest['as_of']}"
    )


@app.command
def run(
    *,
    inbox: Path = settings.DEFAULT_INBOX,
    db: Path = settings.DEFAULT_DB,
    as_of: date | None = None,
    reports: Path = settings.DEFAULT_REPORTS,
    lock_wait: Annotated[
        float, Parameter(help="Seconds to wait for another run to release the warehouse.")
    ] = settings.DEFAULT_LOCK_WAIT_SECONDS,
) -> None:
    """One nightly run: load new inbox files into the warehouse and summarise."""
    from transforms.ingest import InboxError, scan_inbox

    try:
        scan_inbox(inbox)
    except InboxError as exc:
        raise UsageError(str(exc)) from exc
    settings.prepare_prefect()
    from flows.nightly import nightly

    result = nightly(
        inbox=inbox,
        db=db,
        store=settings.store_for(db),
        as_of=as_of or date.today(),
        reports=reports,
        lock_wait=lock_wait,
    )
    _print_summary(result)


def _print_summary(result: object) -> None:
    report = result.ingest  # type: ignore[attr-defined]
    loaded, rejected, skipped = (report.by_status(s) for s in ("loaded", "rejected", "skipped"))
    _echo(
        f"as of {result.as_of}: {len(loaded)} files loaded, {len(rejected)} rejected, "  # type: ignore[attr-defined]
        f"{len(skipped)} skipped (already in the ledger)"
    )
    for outcome in rejected:
        _echo(f"  rejected {outcome.feed}/{outcome.path.name}: {outcome.reason}")
    for note in report.ignored:
        _echo(f"  ignored {note}")
    rows = report.rows_loaded()
    if rows:
        _echo("rows loaded: " + ", ".join(f"{t} {n:,}" for t, n in sorted(rows.items())))
    _echo("warehouse rows: " + ", ".join(f"{t} {n:,}" for t, n in result.warehouse_rows.items()))  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command, map failures to exit codes with one line on stderr."""
    from transforms.warehouse import WarehouseLocked

    try:
        app(argv if argv is not None else sys.argv[1:], exit_on_error=False, print_error=False)
    except UsageError as exc:
        print(f"recoup: {exc}", file=sys.stderr)
        return 2
    except WarehouseLocked as exc:
        print(f"recoup: {exc}", file=sys.stderr)
        return 3
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except Exception as exc:
        name = type(exc).__module__
        if name.startswith("cyclopts"):
            print(f"recoup: {str(exc).strip().splitlines()[-1]}", file=sys.stderr)
            return 2
        print(
            f"recoup: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
