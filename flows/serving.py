"""What ``recoup serve`` serves: the nightly deployment (on a cron, in a time zone) and the
backfill deployment (no schedule: `recoup backfill` or the UI starts it), served from this machine
until stopped.

* Both deployments have a deployment concurrency limit of 1 (a second run waits in
  AwaitingConcurrencySlot), and every run also occupies the global limit ``recoup-warehouse``
  (created here with limit 1 when missing), so a nightly and a backfill never write together.
* ``pause_on_shutdown=False``: stopping serve (SIGTERM, Ctrl-C) leaves the nightly schedule
  active, so the schedule survives a restart or a redeploy (Prefect's default pauses it).
* Entrypoints are module paths (``flows.nightly.nightly``): runs work from any directory, and the
  parameters carry absolute paths to the inbox, warehouse and reports.

Run it as ``recoup serve [--cron ...] [--timezone ...]`` or ``python -m deployments.serve``. It
lives in ``flows/`` because the ``recoup`` command (``flows/cli.py``) calls it: ``deployments/``
sits above the flows and nothing below imports it (docs/architecture.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from flows import settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment


def build_deployments(
    *,
    cron: str = settings.DEFAULT_CRON,
    timezone: str = settings.DEFAULT_TIMEZONE,
    inbox: Path,
    db: Path,
    reports: Path,
    lock_wait: float = settings.DEFAULT_LOCK_WAIT_SECONDS,
) -> list[RunnerDeployment]:
    """The nightly and backfill deployments (not yet registered)."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from flows.backfill import backfill
    from flows.nightly import nightly

    shared = {"db": str(db), "reports": str(reports), "lock_wait": lock_wait}
    nightly_deployment = cast(
        "RunnerDeployment",
        nightly.to_deployment(
            name="nightly",
            schedule=Cron(cron, timezone=timezone),
            parameters={**shared, "inbox": str(inbox)},
            tags=["recoup", "nightly"],
            concurrency_limit=1,
            description="Load the day's files, rebuild marts and findings, validate, report.",
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
    )
    backfill_deployment = cast(
        "RunnerDeployment",
        backfill.to_deployment(
            name="backfill",
            parameters=shared,
            tags=["recoup", "backfill"],
            concurrency_limit=1,
            description=(
                "Re-evaluate an audit window: one run per month (step partition), then a "
                "finishing run (step finish) for the audit-scoped report."
            ),
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
    )
    return [nightly_deployment, backfill_deployment]


def ensure_warehouse_limit(limit: int = 1) -> bool:
    """Create the ``recoup-warehouse`` global concurrency limit when missing; True if created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(settings.WAREHOUSE_LIMIT)
            return False
        except ObjectNotFound:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=settings.WAREHOUSE_LIMIT, limit=limit)
            )
            return True


def serve_deployments(
    *,
    cron: str = settings.DEFAULT_CRON,
    timezone: str = settings.DEFAULT_TIMEZONE,
    inbox: Path,
    db: Path,
    reports: Path,
    lock_wait: float = settings.DEFAULT_LOCK_WAIT_SECONDS,
) -> None:
    """Register both deployments and run their flow runs here until SIGTERM or Ctrl-C."""
    from prefect import serve

    deployments = build_deployments(
        cron=cron, timezone=timezone, inbox=inbox, db=db, reports=reports, lock_wait=lock_wait
    )
    ensure_warehouse_limit()
    serve(*deployments, pause_on_shutdown=False)
