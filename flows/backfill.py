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

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from prefect import flow
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from flows import distributed, progress, tasks
from flows.lease import warehouse_lease
from flows.outcome import served_outcome
from flows.settings import BACKFILL_FLOW, store_for
from loading.ingest import IngestReport
from marts.partitions import service_months

if TYPE_CHECKING:
    from reporting import ReportPaths, Scope

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


@dataclass(frozen=True)
class Window:
    """What every part of one backfill shares: the warehouse, the as-of date, the window's
    service months and the run's threshold overrides."""

    start: date
    end: date
    db: Path
    as_of: date
    lock_wait: float
    overrides: dict[str, object] | None
    deidentify: bool = False  # member ids in the report files as pseudonyms (--deidentify)
    months: list[date] = field(init=False)  # the window's service months (its partitions)

    def __post_init__(self) -> None:
        object.__setattr__(self, "months", service_months(self.start, self.end))

    def holder(self, step: str = "") -> str:
        """Who holds the warehouse lease, for whoever waits on it."""
        return f"backfill {self.start}..{self.end}{step} run {flow_run.get_name()}"


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
    deidentify: bool = False,
) -> BackfillResult:
    """Re-evaluate every claim with a date of service in [start, end] with today's rules and
    eligibility knowledge, and write ``<reports>/backfill/<start>_<end>[_<payer>]/`` (with
    ``claim_ids``, its own ``..._claims-<12 hex>/``: ``reporting.scope.report_dir``).
    ``inbox`` None: load nothing, re-evaluate what the warehouse holds.

    ``step`` picks one of three ways through the same backfill (``recoup backfill`` through a
    server uses the last two): ``"all"`` is ``backfill_whole_window``; ``"partition"`` is
    ``evaluate_months`` (only ``months``, usually one, and no report); ``"finish"`` is
    ``finish_backfill`` (whatever is stale brought to ``as_of``, then the report). Partition runs
    of every month, then a finishing run, leave the warehouse and the report a single ``"all"``
    run leaves (docs/orchestration.md)."""
    from reporting import Scope

    job = Window(start, end, db, as_of or date.today(), lock_wait, overrides, deidentify)
    store = store or store_for(db)
    if step == "partition":
        return evaluate_months(job, months, inbox, store)
    if months is not None:
        raise ValueError(f"months is for step 'partition', not {step!r}")
    scope = Scope.backfill(start, end, payer_id=payer_id, reason=reason, claim_ids=claim_ids)
    if step == "finish":
        return finish_backfill(job, reports, scope)
    return backfill_whole_window(job, reports, scope, inbox, store)


def backfill_whole_window(
    job: Window, reports: Path, scope: Scope, inbox: Path | None, store: Path
) -> BackfillResult:
    """The whole backfill in one run: load (when ``inbox`` is given), refresh reference data,
    build the marts once, evaluate the window month by month, bring the months outside it to the
    same as-of date, write the report."""
    with warehouse_lease(job.db, job.lock_wait, job.holder()):
        loaded = _prepare(job, inbox, store)
        findings, skipped = _evaluate(job, job.months)
        report = _write_report(job, reports, scope, skipped)
    return served_outcome(loaded, _published(job, loaded, findings, skipped, report))


def evaluate_months(
    job: Window, months: list[date] | None, inbox: Path | None, store: Path
) -> BackfillResult:
    """A partition run: evaluate ``months`` of the window, write no report. The run holding the
    window's first month prepares like a whole backfill (ingest when ``inbox`` is given,
    reference, marts); the others rebuild the marts only when another run rebuilt them for
    another as-of date since."""
    if not months or any(month not in job.months for month in months):
        raise ValueError(
            "step 'partition' needs months among the window's "
            f"{[m.isoformat() for m in job.months]}"
        )
    months = sorted(set(months))
    names = ", ".join(f"{month:%Y-%m}" for month in months)
    with warehouse_lease(job.db, job.lock_wait, job.holder(f" (partition) {names}")):
        loaded = None
        if job.months[0] in months:
            loaded = _prepare(job, inbox, store)
        elif tasks.marts_as_of(job.db, job.lock_wait) != job.as_of:
            get_run_logger().warning("the marts are not built for %s: rebuilding them", job.as_of)
            tasks.build_marts(job.db, job.as_of, job.lock_wait)
        findings, skipped = _evaluate(job, months)
    result = BackfillResult(
        as_of=job.as_of,
        months=months,
        ingest=loaded,
        findings_by_month=findings,
        skipped=skipped,
        report_folder=None,
        summary=None,
        audit=None,
    )
    counts = ", ".join(
        f"{month[:7]}: {count} findings ({progress.PARTITION_COUNTS})"
        for month, count in findings.items()
    )
    return served_outcome(loaded, _completed(counts, result))


def finish_backfill(job: Window, reports: Path, scope: Scope) -> BackfillResult:
    """The finishing run after the partition runs: re-evaluate what another run made stale since
    (every month when the marts were rebuilt for another as-of date), then write the report."""
    with warehouse_lease(job.db, job.lock_wait, job.holder(" (finish)")):
        if tasks.marts_as_of(job.db, job.lock_wait) != job.as_of:
            get_run_logger().warning(
                "the marts were rebuilt for another as-of date since the partition runs: "
                "rebuilding them for %s and re-evaluating the whole window here",
                job.as_of,
            )
            tasks.build_marts(job.db, job.as_of, job.lock_wait)
            stale = job.months
        else:
            stale = tasks.stale_months(job.db, job.as_of, job.months, job.lock_wait)
        findings, _ = _evaluate(job, stale, show_progress=False)
        skipped = tasks.rules_skipped(job.db, job.as_of, job.lock_wait, job.overrides)
        report = _write_report(job, reports, scope, skipped)
    result = _published(job, None, findings, skipped, report)
    return _completed(f"report written to {result.report_folder}", result)


def _prepare(job: Window, inbox: Path | None, store: Path) -> IngestReport | None:
    """Load the inbox (when given), refresh reference data, build the marts for the as-of date."""
    loaded = None
    if inbox is not None:
        run_id = str(flow_run.get_id() or "local")
        loaded = tasks.ingest_inbox(inbox, job.db, store, run_id, job.lock_wait)
    tasks.rebuild_reference(job.db, job.lock_wait)
    tasks.build_marts(job.db, job.as_of, job.lock_wait)
    return loaded


def _evaluate(
    job: Window, months: list[date], *, show_progress: bool = True
) -> tuple[dict[str, int], dict[str, str]]:
    """Replace each month's findings (one task per month); findings per month and the skipped
    rules of the last month evaluated."""
    findings: dict[str, int] = {}
    skipped: dict[str, str] = {}
    on_dask = None
    if months and distributed.on_dask():  # --task-runner dask: every month at once on workers
        on_dask = distributed.evaluate_partitions(
            job.db, job.as_of, months, job.lock_wait, job.overrides
        )
        skipped = on_dask.evaluation.skipped
    for month in months:
        if on_dask is not None:
            findings[month.isoformat()] = on_dask.by_month[month]
        else:
            evaluation = tasks.evaluate_partition(
                job.db, job.as_of, month, job.lock_wait, job.overrides
            )
            findings[month.isoformat()] = sum(evaluation.counts.values())
            skipped = evaluation.skipped
        if show_progress:
            progress.partition_done(
                progress.PartitionDone(
                    month,
                    job.months.index(month) + 1,
                    len(job.months),
                    findings[month.isoformat()],
                )
            )
    return findings, skipped


@dataclass
class _Report:
    scope: Scope
    paths: ReportPaths
    audit: dict | None


def _write_report(job: Window, reports: Path, scope: Scope, skipped: dict[str, str]) -> _Report:
    """Bring the months outside the window to the as-of date, then write the scope's report
    (and the audit files when the letter lists claims)."""
    from reporting import report_dir

    tasks.evaluate_outside_window(job.db, job.as_of, job.months, job.lock_wait, job.overrides)
    folder = report_dir(reports, scope, job.as_of)
    paths = tasks.write_reports(
        job.db, folder, job.as_of, scope, skipped, job.lock_wait, job.overrides,
        deidentify=job.deidentify,
        audit=bool(scope.claim_ids),  # in the same folder swap: no audit file of another run
    )  # fmt: skip
    return _Report(scope, paths, paths.audit)


def _published(
    job: Window,
    loaded: IngestReport | None,
    findings: dict[str, int],
    skipped: dict[str, str],
    report: _Report,
) -> BackfillResult:
    """Publish the run's artifacts (after the lease: nothing here writes the warehouse) and say
    what the backfill did."""
    from reporting import artifact_key_prefix

    paths = report.paths
    tasks.publish_artifacts(paths.summary, paths.top_lines, artifact_key_prefix(report.scope))
    return BackfillResult(
        as_of=job.as_of,
        months=job.months,
        ingest=loaded,
        findings_by_month=findings,
        skipped=skipped,
        report_folder=paths.folder,
        summary=paths.summary,
        audit=report.audit,
    )


def _completed(message: str, result: BackfillResult) -> BackfillResult:
    """The run's Completed state with a one-line message (``recoup backfill`` prints it from the
    API); whoever calls the flow still gets ``result`` (Prefect returns a returned state's data)."""
    from prefect.states import Completed

    return cast("BackfillResult", Completed(message=message, data=result))
