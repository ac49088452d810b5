"""The backfill after an audit letter, top to bottom: hold the warehouse, take in any new files,
refresh reference data, rebuild the marts for the as-of date once, re-evaluate the window month by
month, bring the months outside the window to the same as-of date, and write the audit-scoped
report (plus the audit section when the letter lists claims).

Idempotent: every step replaces what it computes (a month's findings, a report file) in one
transaction or one rename, so a rerun, or a nightly run before or after it for the same as-of date,
leaves the same warehouse and the same report. Through a server, ``recoup backfill`` runs the
same flow as one run per month (``step="partition"``) and a finishing run (``step="finish"``) that
writes the report; together they leave what one ``step="all"`` run leaves. docs/orchestration.md
explains the design.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, cast

from prefect import flow
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from flows import progress, tasks
from flows.lease import warehouse_lease
from flows.settings import BACKFILL_FLOW, store_for
from loading.ingest import IngestReport
from marts.partitions import service_months

Step = Literal["all", "partition", "finish"]


@dataclass
class BackfillResult:
    as_of: date
    months: list[date]
    ingest: IngestReport | None
    findings_by_month: dict[str, int]
    skipped: dict[str, str]
    report_folder: Path | None  # None for a partition run (step "partition")
    summary: dict | None
    audit: dict | None


def backfill_tags(payer_id: str | None) -> list[str]:
    """Tags of a backfill run: ``backfill`` and, for a payer's audit, ``payer:<id>``."""
    return ["backfill", *([f"payer:{payer_id}"] if payer_id else [])]


def partition_tag(month: date) -> str:
    """The tag of a partition run (step ``partition``): ``partition:YYYY-MM``."""
    return f"partition:{month:%Y-%m}"


@flow(name=BACKFILL_FLOW, log_prints=False)
def backfill(
    start: date,
    end: date,
    db: Path,
    reports: Path,
    payer_id: str | None = None,
    reason: str | None = None,
    claim_ids: list[str] | None = None,
    inbox: Path | None = None,
    as_of: date | None = None,
    lock_wait: float = 60.0,
    store: Path | None = None,
    overrides: dict[str, object] | None = None,
    step: Step = "all",
    months: list[date] | None = None,
) -> BackfillResult:
    """Re-evaluate every claim with a date of service in [start, end] with today's rules and
    eligibility knowledge, and write ``<reports>/backfill/<start>_<end>[_<payer>]/``.
    ``inbox`` None: load nothing, re-evaluate what the warehouse holds.

    ``step`` splits the same backfill into runs (``recoup backfill`` through a server):
    ``"partition"`` evaluates only ``months`` (service months of the window, usually one) and
    writes no report; ``"finish"`` brings whatever is stale to ``as_of`` and writes the report.
    Partition runs of every month, then a finishing run, leave the warehouse and the report a
    single ``"all"`` run leaves (docs/orchestration.md)."""
    from reporting import Scope, artifact_key_prefix, report_dir

    as_of = as_of or date.today()
    scope = Scope.backfill(start, end, payer_id=payer_id, reason=reason, claim_ids=claim_ids)
    window = service_months(start, end)
    run_id = str(flow_run.get_id() or "local")
    holder = f"backfill {start}..{end}" + ("" if step == "all" else f" ({step})")
    if step == "partition":
        return _partition(window, months, db, inbox, as_of, lock_wait, store, overrides, holder)
    if months is not None:
        raise ValueError(f"months is for step 'partition', not {step!r}")
    with warehouse_lease(db, lock_wait, f"{holder} run {flow_run.get_name()}"):
        loaded = None
        findings: dict[str, int] = {}
        skipped: dict[str, str] = {}
        if step == "all":
            if inbox is not None:
                loaded = tasks.ingest_inbox(inbox, db, store or store_for(db), run_id, lock_wait)
            tasks.rebuild_reference(db, lock_wait)
            tasks.build_marts(db, as_of, lock_wait)
            for done, month in enumerate(window, start=1):
                evaluation = tasks.evaluate_partition(db, as_of, month, lock_wait, overrides)
                findings[month.isoformat()] = sum(evaluation.counts.values())
                skipped = evaluation.skipped
                progress.partition_done(
                    progress.PartitionDone(month, done, len(window), findings[month.isoformat()])
                )
        else:  # finish: the partition runs evaluated the window; another run may have come between
            if tasks.marts_as_of(db, lock_wait) != as_of:
                get_run_logger().warning(
                    "the marts were rebuilt for another as-of date since the partition runs: "
                    "rebuilding them for %s and re-evaluating the whole window here",
                    as_of,
                )
                tasks.build_marts(db, as_of, lock_wait)
                stale = window
            else:
                stale = tasks.stale_months(db, as_of, window, lock_wait)
            for month in stale:
                evaluation = tasks.evaluate_partition(db, as_of, month, lock_wait, overrides)
                findings[month.isoformat()] = sum(evaluation.counts.values())
            skipped = tasks.rules_skipped(db, as_of, lock_wait, overrides)
        tasks.evaluate_outside_window(db, as_of, window, lock_wait, overrides)
        folder = report_dir(reports, scope, as_of)
        paths = tasks.write_reports(db, folder, as_of, scope, skipped, lock_wait, overrides)
        audit = tasks.write_audit(db, folder, scope, as_of, lock_wait) if claim_ids else None
    tasks.publish_artifacts(paths.summary, paths.top_lines, artifact_key_prefix(scope))
    result = BackfillResult(
        as_of=as_of,
        months=window,
        ingest=loaded,
        findings_by_month=findings,
        skipped=skipped,
        report_folder=paths.folder,
        summary=paths.summary,
        audit=audit,
    )
    if step == "all":
        return result
    return _completed(f"report written to {paths.folder}", result)


def _partition(
    window: list[date],
    months: list[date] | None,
    db: Path,
    inbox: Path | None,
    as_of: date,
    lock_wait: float,
    store: Path | None,
    overrides: dict[str, object] | None,
    holder: str,
) -> BackfillResult:
    """A partition run: evaluate ``months`` of the window. The run holding the window's first
    month prepares like a whole backfill (ingest when ``inbox`` is given, reference, marts); the
    others rebuild the marts only when another run rebuilt them for another as-of date since."""
    if not months or any(month not in window for month in months):
        raise ValueError(
            f"step 'partition' needs months among the window's {[m.isoformat() for m in window]}"
        )
    months = sorted(set(months))
    run_id = str(flow_run.get_id() or "local")
    names = ", ".join(f"{month:%Y-%m}" for month in months)
    with warehouse_lease(db, lock_wait, f"{holder} {names} run {flow_run.get_name()}"):
        loaded = None
        if window[0] in months:
            if inbox is not None:
                loaded = tasks.ingest_inbox(inbox, db, store or store_for(db), run_id, lock_wait)
            tasks.rebuild_reference(db, lock_wait)
            tasks.build_marts(db, as_of, lock_wait)
        elif tasks.marts_as_of(db, lock_wait) != as_of:
            get_run_logger().warning("the marts are not built for %s: rebuilding them", as_of)
            tasks.build_marts(db, as_of, lock_wait)
        findings: dict[str, int] = {}
        skipped: dict[str, str] = {}
        for month in months:
            evaluation = tasks.evaluate_partition(db, as_of, month, lock_wait, overrides)
            findings[month.isoformat()] = sum(evaluation.counts.values())
            skipped = evaluation.skipped
            progress.partition_done(
                progress.PartitionDone(
                    month, window.index(month) + 1, len(window), findings[month.isoformat()]
                )
            )
    result = BackfillResult(
        as_of=as_of,
        months=months,
        ingest=loaded,
        findings_by_month=findings,
        skipped=skipped,
        report_folder=None,
        summary=None,
        audit=None,
    )
    counts = ", ".join(f"{month[:7]}: {count} findings" for month, count in findings.items())
    return _completed(counts, result)


def _completed(message: str, result: BackfillResult) -> BackfillResult:
    """The run's Completed state with a one-line message (``recoup backfill`` prints it from the
    API); whoever calls the flow still gets ``result`` (Prefect returns a returned state's data)."""
    from prefect.states import Completed

    return cast("BackfillResult", Completed(message=message, data=result))
