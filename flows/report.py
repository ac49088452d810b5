"""``recoup report``, top to bottom, through the nightly's own tasks: read the as-of date of the
marts; when another as-of date is asked, hold the warehouse, rebuild the marts and findings for
it (the nightly's ``build-marts-and-findings``); then write the nightly report folder
(``write-reports``) or, for ``--format json``, only its summary. Loads nothing.

When the marts are already built for the as-of date, nothing is written to the warehouse: it is
opened read-only and no lease is taken, so reports can be read while nothing else writes. The
``recoup`` command does that case without this flow (``flows/reading.py``: no Prefect, no GX) and
runs the flow only to rebuild.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from flows import tasks
from flows.lease import warehouse_lease
from flows.reading import NoMarts, ReportResult, no_marts
from flows.settings import REPORT_FLOW

__all__ = ["NoMarts", "ReportResult", "report"]


@flow(name=REPORT_FLOW, log_prints=False)
def report(
    db: Path,
    reports: Path,
    as_of: date | None = None,
    out: Path | None = None,
    lock_wait: float = 60.0,
    overrides: dict[str, object] | None = None,
    write_files: bool = True,
    deidentify: bool = False,
) -> ReportResult:
    """The nightly report for ``as_of`` (None: the marts' as-of date) into ``out`` (None:
    ``<reports>/<as-of>/``); ``write_files`` False: the summary (exposure.json's content) only."""
    built = tasks.marts_as_of(db, lock_wait, read_only=True)
    if built is None and as_of is None:
        raise no_marts(db)
    as_of = as_of or built
    assert as_of is not None
    if built == as_of:
        return _write(
            db, reports, out, as_of, lock_wait, overrides, write_files, rebuilt=False,
            deidentify=deidentify,
        )  # fmt: skip
    with warehouse_lease(db, lock_wait, f"report {as_of} run {flow_run.get_name()}"):
        tasks.evaluate_rules(db, as_of, lock_wait, overrides)
        return _write(
            db, reports, out, as_of, lock_wait, overrides, write_files, rebuilt=True,
            deidentify=deidentify,
        )  # fmt: skip


def _write(
    db: Path,
    reports: Path,
    out: Path | None,
    as_of: date,
    lock_wait: float,
    overrides: dict[str, object] | None,
    write_files: bool,
    *,
    rebuilt: bool,
    deidentify: bool = False,
) -> ReportResult:
    """The report of marts and findings built for ``as_of``; read-only unless just rebuilt (the
    caller then holds the lease)."""
    from reporting import Scope, report_dir

    read_only = not rebuilt
    scope = Scope.nightly()
    skipped = tasks.rules_skipped(db, as_of, lock_wait, overrides, read_only=read_only)
    if not write_files:
        summary = tasks.summarise_report(
            db, as_of, scope, skipped, lock_wait, overrides, read_only=read_only
        )
        return ReportResult(as_of, rebuilt, skipped, summary, paths=None)
    folder = out or report_dir(reports, scope, as_of)
    paths = tasks.write_reports(
        db, folder, as_of, scope, skipped, lock_wait, overrides, read_only=read_only,
        deidentify=deidentify,
    )  # fmt: skip
    return ReportResult(as_of, rebuilt, skipped, paths.summary, paths)
