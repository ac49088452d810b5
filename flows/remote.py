"""Backfills as runs of the backfill deployment, when a Prefect server is configured and the
deployment exists (``recoup serve`` or a work pool runs it): the command submits one flow run for
the window, prints a line per month partition as its task run completes, and returns the final
flow run. The run executes where the deployment is served, so paths go over as absolute paths."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from flows import settings

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

PARTITION_TASK = "evaluate-partition-"


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


def run_backfill_deployment(
    parameters: dict[str, Any],
    tags: list[str],
    on_partition: Callable[[str, int], None],
    on_state: Callable[[str, str], None] = lambda run_name, state: None,
    *,
    poll_seconds: float = 1.0,
    timeout_seconds: float | None = None,
) -> FlowRun:
    """Create a run of the backfill deployment and follow it to a final state. ``on_partition``
    gets each completed partition's month (YYYY-MM) and how many have completed; ``on_state`` the
    run's name and each new state name (Scheduled, Pending, AwaitingConcurrencySlot, Running...)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
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
    seen: set[str] = set()
    last_state = ""
    with get_client(sync_client=True) as client:
        while True:
            current = client.read_flow_run(submitted.id)
            state_name = str(current.state.name) if current.state else "unknown"
            if state_name != last_state:
                on_state(current.name, state_name)
                last_state = state_name
            task_runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[submitted.id]))
            )
            finished = sorted(
                run.name
                for run in task_runs
                if run.name.startswith(PARTITION_TASK) and run.state and run.state.is_completed()
            )
            for name in finished:
                if name not in seen:
                    seen.add(name)
                    on_partition(name.removeprefix(PARTITION_TASK), len(seen))
            if current.state is not None and current.state.is_final():
                return current
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(
                    f"backfill run {current.name} ({current.id}) not finished after "
                    f"{timeout_seconds:g} s; it goes on: follow it in the Prefect UI"
                )
            time.sleep(poll_seconds)
