"""The nightly run: take in the day's files, refresh reference data, report what happened."""

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
    warehouse_rows: dict[str, int]


@flow(name="recoup-nightly", log_prints=False)
def nightly(
    inbox: Path, db: Path, store: Path, as_of: date, reports: Path, lock_wait: float = 60.0
) -> NightlyResult:
    run_id = str(flow_run.get_id() or "local")
    report = tasks.ingest_inbox(inbox, db, store, run_id, lock_wait)
    tasks.rebuild_reference(db, lock_wait)
    counts = tasks.count_rows(db, lock_wait)
    return NightlyResult(as_of=as_of, ingest=report, warehouse_rows=counts)
