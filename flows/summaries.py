"""What the commands print: short, plain summaries of a run for the person at the terminal.
Claim ids, codes and amounts only; never member names, birth dates or addresses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.progress import PARTITION_COUNTS
from warehouse.money import dollars

if TYPE_CHECKING:
    from flows.backfill import BackfillResult
    from flows.nightly import NightlyResult
    from flows.tasks import Validation
    from loading.ingest import IngestReport


def echo(line: str = "") -> None:
    print(line, flush=True)


def print_summary(result: NightlyResult) -> None:
    report = result.ingest
    loaded, rejected, skipped = (report.by_status(s) for s in ("loaded", "rejected", "skipped"))
    echo(
        f"as of {result.as_of}: {len(loaded)} files loaded, {len(rejected)} rejected, "
        f"{len(skipped)} skipped (already in the ledger)"
    )
    for outcome in rejected:
        echo(f"  rejected {outcome.feed}/{outcome.path.name}: {outcome.reason}")
    print_parts(report)
    for note in report.ignored:
        echo(f"  ignored {note}")
    rows = report.rows_loaded()
    if rows:
        echo("rows loaded: " + ", ".join(f"{t} {n:,}" for t, n in sorted(rows.items())))
    print_totals(result.summary)
    for rule, values in sorted(result.summary["by_rule"].items()):
        if values["lines"]:
            echo(f"  {rule}: {values['lines']:,} lines, {dollars(values['exposure'])}")
    for rule, reason in sorted(result.evaluation.skipped.items()):
        echo(f"  skipped {rule}: {reason}")
    validation = result.validation
    echo(
        f"great expectations: rules suite {len(validation.rules_found)} rules with findings, "
        f"{len(validation.rules_not_run)} skipped checks, mart guards "
        f"{'passed' if validation.guards_ok else 'FAILED'}; {docs_line(validation)}"
    )
    if result.reused:
        echo("reused (inputs unchanged since the last run): " + ", ".join(result.reused))
    for check, count in sorted(validation.staging_warnings.items()):
        echo(f"  warning {check}: {count:,} rows")
    for name in validation.unexpected_errors:
        echo(f"  error: GX could not evaluate {name}")
    echo(f"reports: {result.report_folder}")


def docs_line(validation: Validation) -> str:
    """Where the Data Docs are, saying when this run did not rebuild them."""
    if validation.docs_built and validation.docs_index is not None:
        return f"data docs {validation.docs_index}"
    if validation.docs_index is None:
        return "no data docs built"
    return f"data docs not rebuilt (results unchanged), last built at {validation.docs_index}"


def print_parts(report: IngestReport) -> None:
    """Files that loaded without some of their parts, and what was accepted leniently."""
    for outcome in report.by_status("loaded"):
        sentence = outcome.partly_rejected()
        if sentence:
            echo(f"  {sentence}")
        for warning in outcome.parts.warnings:
            echo(f"  warning {outcome.feed}/{outcome.path.name}: {warning}")


def print_totals(summary: dict) -> None:
    totals = summary["totals"]
    echo(
        f"exposure: open {dollars(totals['open_exposure'])}, time-barred "
        f"{dollars(totals['time_barred_exposure'])}, realized recoupments "
        f"{dollars(totals['realized_recoupments'])}; {totals['flagged_lines']:,} of "
        f"{totals['claim_lines']:,} claim lines flagged (net paid {dollars(totals['net_paid'])})"
    )


def print_scope_counts(summary: dict) -> None:
    """A backfill's figures say what each counts: the lines in scope flagged and the findings
    stored on them (a line can carry several), against the partition lines above, which count
    every finding of each month re-evaluated."""
    totals = summary["totals"]
    echo(
        f"in scope: {totals['flagged_lines']:,} of {totals['claim_lines']:,} claim lines flagged; "
        f"{totals.get('findings', 0):,} findings stored on them (a line can carry several "
        f"findings); the partition lines count the findings of {PARTITION_COUNTS}"
    )


def print_audit(audit: dict | None) -> None:
    if not audit:
        return
    from reporting.audit import VERDICTS

    verdicts = ", ".join(
        f"{audit['verdicts'].get(name, 0)} {name.replace('_', ' ')}" for name in VERDICTS
    )
    echo(f"audit: {audit['audited_claims']} claim(s): {verdicts}")
    estimate = audit["estimate"]
    echo(
        f"extrapolated to {audit['frame']['claims']:,} paid claims: point estimate "
        f"{dollars(estimate['point_estimate'])}, lower limit (one-sided 90%) "
        + (
            dollars(estimate["lower_limit_90"])
            if estimate["lower_limit_90"] is not None
            else f"none ({estimate['reason']})"
        )
    )


def print_backfill(result: BackfillResult) -> None:
    if result.ingest is not None:
        report = result.ingest
        echo(
            f"inbox: {len(report.by_status('loaded'))} files loaded, "
            f"{len(report.by_status('rejected'))} rejected, "
            f"{len(report.by_status('skipped'))} skipped (already in the ledger)"
        )
        for outcome in report.by_status("rejected"):
            echo(f"  rejected {outcome.feed}/{outcome.path.name}: {outcome.reason}")
        print_parts(report)
        for note in report.ignored:
            echo(f"  ignored {note}")
    assert result.summary is not None  # step "all" writes the report
    print_totals(result.summary)
    print_scope_counts(result.summary)
    for rule, reason in sorted(result.skipped.items()):
        echo(f"  skipped {rule}: {reason}")
    print_audit(result.audit)
    echo(f"reports: {result.report_folder}")
