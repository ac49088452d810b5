"""The nightly run, top to bottom: take in the day's files, refresh reference data, rebuild the
marts and findings for the as-of date, validate with Great Expectations, write the reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from flows import tasks
from transforms.ingest import IngestReport


@dataclass
class NightlyResult:
    as_of: date
    ingest: IngestReport
    evaluation: tasks.Evaluation
    validation: tasks.Validation
    report_folder: Path
    summary: dict
    warehouse_rows: dict[str, int]


@flow(name="recoup-nightly", log_prints=False)
def nightly(
    inbox: Path,
    db: Path,
    store: Path,
    as_of: date,
    reports: Path,
    lock_wait: float = 60.0,
    overrides: dict[str, object] | None = None,
) -> NightlyResult:
    from transforms.reports import Scope, artifact_key_prefix, report_dir

    run_id = str(flow_run.get_id() or "local")
    loaded = tasks.ingest_inbox(inbox, db, store, run_id, lock_wait)
    tasks.rebuild_reference(db, lock_wait)
    evaluation = tasks.evaluate_rules(db, as_of, lock_wait, overrides)
    validation = tasks.validate(db, as_of, reports / "gx", lock_wait, overrides)
    scope = Scope.nightly()
    paths = tasks.write_reports(
        db, report_dir(reports, scope, as_of), as_of, scope, evaluation.skipped, lock_wait
    )
    tasks.publish_artifacts(paths.summary, paths.top_lines, artifact_key_prefix(scope))
    return NightlyResult(
        as_of=as_of,
        ingest=loaded,
        evaluation=evaluation,
        validation=validation,
        report_folder=paths.folder,
        summary=paths.summary,
        warehouse_rows=tasks.count_rows(db, lock_wait),
    )
