"""The nightly run, top to bottom: take in the day's files, refresh reference data, rebuild the
marts and findings for the as-of date, validate with Great Expectations, write the reports.

Steps whose inputs did not change since the last nightly are reused, not run again
(``flows/incremental.py``): the marts and findings when the warehouse's content, the as-of date,
the configuration and the code are all the same; each GX suite when what it checks is the same.
The reports are always written. ``NightlyResult.reused`` names the steps reused."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from flows import distributed, incremental, progress, tasks
from flows.lease import warehouse_lease
from flows.outcome import served_outcome
from flows.settings import NIGHTLY_FLOW, store_for
from loading.ingest import IngestReport


@dataclass
class NightlyResult:
    as_of: date
    ingest: IngestReport
    evaluation: tasks.Evaluation
    validation: tasks.Validation
    report_folder: Path
    summary: dict
    warehouse_rows: dict[str, int]
    reused: list[str] = field(default_factory=list)  # "marts", "rules", "gx-rules", "gx-staging"


@flow(name=NIGHTLY_FLOW, log_prints=False)
def nightly(
    inbox: Path,
    db: Path,
    reports: Path,
    as_of: date | None = None,
    store: Path | None = None,
    lock_wait: float = 60.0,
    overrides: dict[str, object] | None = None,
    deidentify: bool = False,
    reuse: bool = True,
) -> NightlyResult:
    """``as_of`` None: today (a scheduled run); ``store`` None: beside the warehouse file;
    ``reuse`` False: rebuild marts and findings and run both GX suites whatever changed."""
    from reporting import Scope, artifact_key_prefix, report_dir

    as_of = as_of or date.today()
    run_id = str(flow_run.get_id() or "local")
    with warehouse_lease(db, lock_wait, f"nightly {as_of} run {flow_run.get_name()}"):
        progress.note(f"loading new files from {inbox}")
        loaded = tasks.ingest_inbox(inbox, db, store or store_for(db), run_id, lock_wait)
        tasks.rebuild_reference(db, lock_wait)
        plan = incremental.plan(db, as_of, lock_wait, overrides, reuse)
        if plan.reuse_build:
            progress.note(f"marts and findings as of {as_of} unchanged since the last run: reused")
            evaluation = tasks.Evaluation(
                as_of=as_of, counts=dict(plan.state.counts), skipped=dict(plan.state.skipped)
            )
        else:
            progress.note(f"building marts and findings as of {as_of}")
            if distributed.on_dask():  # --task-runner dask: the rules by month on Dask workers
                evaluation = distributed.evaluate_rules(db, as_of, lock_wait, overrides, reuse)
            else:
                evaluation = tasks.evaluate_rules(db, as_of, lock_wait, overrides, reuse)
            incremental.record_build(db, plan, evaluation, lock_wait)
        progress.note("validating with Great Expectations (the suites whose data changed)")
        validation = incremental.validate(db, as_of, reports / "gx", lock_wait, overrides, plan)
        scope = Scope.nightly()
        folder = report_dir(reports, scope, as_of)
        progress.note(f"writing reports to {folder}")
        paths = tasks.write_reports(
            db, folder, as_of, scope, evaluation.skipped, lock_wait, overrides,
            deidentify=deidentify,
        )  # fmt: skip
        # since last night: the next nightly compares with what this one found
        tasks.store_night(db, as_of, paths.summary["totals"], lock_wait, overrides)
        rows = tasks.count_rows(db, lock_wait)
    tasks.publish_artifacts(paths.summary, paths.top_lines, artifact_key_prefix(scope))
    result = NightlyResult(
        as_of=as_of,
        ingest=loaded,
        evaluation=evaluation,
        validation=validation,
        report_folder=paths.folder,
        summary=paths.summary,
        warehouse_rows=rows,
        reused=plan.reused + validation.reused,
    )
    return served_outcome(loaded, result)  # a served run that missed inbox entries ends Failed
