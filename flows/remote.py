"""Backfills as runs of the backfill deployment, when a Prefect server is configured and the
deployment exists (``recoup serve`` or a work pool runs it).

The command submits **one run per service month** of the window (step ``partition``, tagged
``partition:YYYY-MM``), one after another, each after the previous one completed, then **a
finishing run** (step ``finish``) that writes the report. It never holds the warehouse itself:
each run takes the lease while it runs. Runs execute where the deployment is served, so paths go
over as absolute paths."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from flows import settings

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun


def find_backfill_deployment() -> UUID | None:
    """The backfill deployment's id on the configured server, or None (no server, or no such
    deployment). A configured server that does not answer raises."""
    if settings.server_url() is None:
        return None
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_deployment_by_name(settings.BACKFILL_DEPLOYMENT).id
        except ObjectNotFound:
            return None


def run_backfill_step(
    parameters: dict[str, Any],
    tags: list[str],
    on_state: Callable[[str, str], None] = lambda run_name, state: None,
    *,
    poll_seconds: float = 1.0,
    timeout_seconds: float | None = None,
) -> FlowRun:
    """Create one run of the backfill deployment and follow it to a final state; ``on_state``
    gets the run's name and each new state name (Scheduled, AwaitingConcurrencySlot, Running...).
    Returns the run in its final state (Completed or not: the caller decides)."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    submitted: FlowRun = cast(
        "FlowRun",
        run_deployment(
            settings.BACKFILL_DEPLOYMENT,
            parameters=parameters,
            tags=tags,
            timeout=0,
            as_subflow=False,
        ),
    )
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    last_state = ""
    with get_client(sync_client=True) as client:
        while True:
            current = client.read_flow_run(submitted.id)
            state_name = str(current.state.name) if current.state else "unknown"
            if state_name != last_state:
                on_state(current.name, state_name)
                last_state = state_name
            if current.state is not None and current.state.is_final():
                return current
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(
                    f"backfill run {current.name} ({current.id}) not finished after "
                    f"{timeout_seconds:g} s; it goes on: follow it in the Prefect UI"
                )
            time.sleep(poll_seconds)
