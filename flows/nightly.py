"""The nightly run, top to bottom: take in the day's files, refresh reference data, rebuild the
marts and findings for the as-of date, validate with Great Expectations, write the reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from flows import distributed, progress, tasks
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
) -> NightlyResult:
    """``as_of`` None: today (a scheduled run); ``store`` None: beside the warehouse file."""
    from reporting import Scope, artifact_key_prefix, report_dir

    as_of = as_of or date.today()
    run_id = str(flow_run.get_id() or "local")
    with warehouse_lease(db, lock_wait, f"nightly {as_of} run {flow_run.get_name()}"):
        progress.note(f"loading new files from {inbox}")
        loaded = tasks.ingest_inbox(inbox, db, store or store_for(db), run_id, lock_wait)
        tasks.rebuild_reference(db, lock_wait)
        progress.note(f"building marts and findings as of {as_of}")
        if distributed.on_dask():  # --task-runner dask: the rules by month on Dask workers
            evaluation = distributed.evaluate_rules(db, as_of, lock_wait, overrides)
        else:
            evaluation = tasks.evaluate_rules(db, as_of, lock_wait, overrides)
        progress.note("validating with Great Expectations")
        validation = tasks.validate(db, as_of, reports / "gx", lock_wait, overrides)
        scope = Scope.nightly()
        folder = report_dir(reports, scope, as_of)
        progress.note(f"writing reports to {folder}")
        paths = tasks.write_reports(
            db, folder, as_of, scope, evaluation.skipped, lock_wait, overrides,
            deidentify=deidentify,
        )  # fmt: skip
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
    )
    return served_outcome(loaded, result)  # a served run that missed inbox entries ends Failed
