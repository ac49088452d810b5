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
from typing import TYPE_CHECKING, Annotated, Literal

from cyclopts import App, Parameter

from flows import settings

if TYPE_CHECKING:
    from flows.nightly import NightlyResult

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


@app.command
def report(
    *,
    as_of: Annotated[
        date | None, Parameter(help="Default: the as-of date of the last run's marts.")
    ] = None,
    format: Annotated[
        Literal["html", "json", "csv"] | None,
        Parameter(
            help="json prints exposure.json to standard output; html and csv (and no "
            "format) write the report folder and print the chosen file's path."
        ),
    ] = None,
    db: Path = settings.DEFAULT_DB,
    out: Annotated[Path | None, Parameter(help="Default: REPORTS/<as-of>/.")] = None,
    reports: Path = settings.DEFAULT_REPORTS,
    lock_wait: float = settings.DEFAULT_LOCK_WAIT_SECONDS,
) -> None:
    """Rebuild the nightly report from the warehouse, loading nothing. When --as-of differs from
    the marts' date, the marts and findings are recomputed for it first."""
    from expectations.catalog import run_rules, skipped_rules
    from expectations.config import load_config
    from transforms.models import build_models, built_as_of
    from transforms.reports import Scope, build_summary, report_dir, to_json, write_reports
    from transforms.warehouse import open_warehouse

    if not db.exists():
        raise UsageError(f"warehouse {db} does not exist: run `recoup run` first")
    config = load_config()
    with open_warehouse(db, read_only=True, wait_seconds=lock_wait) as con:
        built = built_as_of(con)
    if built is None and as_of is None:
        raise UsageError(f"warehouse {db} has no marts yet: run `recoup run` first")
    as_of = as_of or built
    assert as_of is not None
    read_only = built == as_of
    with open_warehouse(db, read_only=read_only, wait_seconds=lock_wait) as con:
        if not read_only:
            build_models(con, as_of)
            run_rules(con, as_of, config)
        _, skipped = skipped_rules(con, config, as_of)
        scope = Scope.nightly()
        if format == "json":
            sys.stdout.write(to_json(build_summary(con, as_of=as_of, scope=scope, skipped=skipped)))
            return
        paths = write_reports(
            con,
            out or report_dir(reports, scope, as_of),
            as_of=as_of,
            scope=scope,
            skipped=skipped,
            config=config,
        )
    chosen = {"html": paths.index_html, "csv": paths.findings_csv}.get(format or "", paths.folder)
    _echo(str(chosen))


def _money(value: object) -> str:
    return f"${float(value):,.2f}"  # type: ignore[arg-type]


def _print_summary(result: NightlyResult) -> None:
    report = result.ingest
    loaded, rejected, skipped = (report.by_status(s) for s in ("loaded", "rejected", "skipped"))
    _echo(
        f"as of {result.as_of}: {len(loaded)} files loaded, {len(rejected)} rejected, "
        f"{len(skipped)} skipped (already in the ledger)"
    )
    for outcome in rejected:
        _echo(f"  rejected {outcome.feed}/{outcome.path.name}: {outcome.reason}")
    for note in report.ignored:
        _echo(f"  ignored {note}")
    rows = report.rows_loaded()
    if rows:
        _echo("rows loaded: " + ", ".join(f"{t} {n:,}" for t, n in sorted(rows.items())))
    totals = result.summary["totals"]
    _echo(
        f"exposure: open {_money(totals['open_exposure'])}, time-barred "
        f"{_money(totals['time_barred_exposure'])}, realized recoupments "
        f"{_money(totals['realized_recoupments'])}; {totals['flagged_lines']:,} of "
        f"{totals['claim_lines']:,} claim lines flagged (net paid {_money(totals['net_paid'])})"
    )
    for rule, values in sorted(result.summary["by_rule"].items()):
        if values["lines"]:
            _echo(f"  {rule}: {values['lines']:,} lines, {_money(values['exposure'])}")
    for rule, reason in sorted(result.evaluation.skipped.items()):
        _echo(f"  skipped {rule}: {reason}")
    validation = result.validation
    _echo(
        f"great expectations: {validation.passed} checks passed, {len(validation.failed)} found "
        f"rows, {len(validation.not_run)} not run; data docs {validation.docs_index}"
    )
    _echo(f"reports: {result.report_folder}")


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
