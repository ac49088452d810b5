"""The backfill after an audit letter, top to bottom: hold the warehouse, take in any new files,
refresh reference data, rebuild the marts for the as-of date once, re-evaluate the window month by
month, bring the months outside the window to the same as-of date, and write the audit-scoped
report (plus the audit section when the letter lists claims).

Idempotent: every step replaces what it computes (a month's findings, a report file) in one
transaction or one rename, so a rerun, or a nightly run before or after it for the same as-of date,
leaves the same warehouse and the same report. docs/orchestration.md explains the design.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from flows import progress, tasks
from flows.lease import warehouse_lease
from flows.partitions import service_months
from flows.settings import BACKFILL_FLOW, store_for
from transforms.ingest import IngestReport


@dataclass
class BackfillResult:
    as_of: date
    months: list[date]
    ingest: IngestReport | None
    findings_by_month: dict[str, int]
    skipped: dict[str, str]
    report_folder: Path
    summary: dict
    audit: dict | None


def backfill_tags(payer_id: str | None) -> list[str]:
    """Tags of a backfill run: ``backfill`` and, for a payer's audit, ``payer:<id>``."""
    return ["backfill", *([f"payer:{payer_id}"] if payer_id else [])]


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
) -> BackfillResult:
    """Re-evaluate every claim with a date of service in [start, end] with today's rules and
    eligibility knowledge, and write ``<reports>/backfill/<start>_<end>[_<payer>]/``.
    ``inbox`` None: load nothing, re-evaluate what the warehouse holds."""
    from transforms.reports import Scope, artifact_key_prefix, report_dir

    as_of = as_of or date.today()
    scope = Scope.backfill(start, end, payer_id=payer_id, reason=reason, claim_ids=claim_ids)
    months = service_months(start, end)
    run_id = str(flow_run.get_id() or "local")
    with warehouse_lease(db, lock_wait, f"backfill {start}..{end} run {flow_run.get_name()}"):
        loaded = None
        if inbox is not None:
            loaded = tasks.ingest_inbox(inbox, db, store or store_for(db), run_id, lock_wait)
        tasks.rebuild_reference(db, lock_wait)
        tasks.build_marts(db, as_of, lock_wait)
        findings: dict[str, int] = {}
        skipped: dict[str, str] = {}
        for done, month in enumerate(months, start=1):
            evaluation = tasks.evaluate_partition(db, as_of, month, lock_wait, overrides)
            findings[month.isoformat()] = sum(evaluation.counts.values())
            skipped = evaluation.skipped
            progress.partition_done(
                progress.PartitionDone(month, done, len(months), findings[month.isoformat()])
            )
        tasks.evaluate_outside_window(db, as_of, months, lock_wait, overrides)
        folder = report_dir(reports, scope, as_of)
        paths = tasks.write_reports(db, folder, as_of, scope, skipped, lock_wait)
        audit = tasks.write_audit(db, folder, scope, as_of, lock_wait) if claim_ids else None
    tasks.publish_artifacts(paths.summary, paths.top_lines, artifact_key_prefix(scope))
    return BackfillResult(
        as_of=as_of,
        months=months,
        ingest=loaded,
        findings_by_month=findings,
        skipped=skipped,
        report_folder=paths.folder,
        summary=paths.summary,
        audit=audit,
    )
