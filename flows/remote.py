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
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from flows import settings
from flows.summaries import echo, print_audit, print_scope_counts, print_totals

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


def backfill_through_deployment(parameters: dict, run_tags: list[str]) -> None:
    """One run of the backfill deployment per service month (step ``partition``), one after
    another, then the finishing run (step ``finish``) that writes the report. Stops at the first
    run that does not complete; this process never holds the warehouse."""
    import json

    from flows.backfill import partition_tag
    from marts.partitions import service_months
    from reporting import Scope, report_dir

    months = service_months(parameters["start"], parameters["end"])
    echo(
        f"backfill {parameters['start']} to {parameters['end']}"
        + (f", payer {parameters['payer_id']}" if parameters["payer_id"] else "")
        + f", as {len(months)} partition run(s) and a finishing run of the "
        f"{settings.BACKFILL_DEPLOYMENT} deployment ({', '.join(run_tags)})"
    )
    wire = {key: wire_value(value) for key, value in parameters.items()}

    def show(run_name: str, state: str) -> None:
        echo(f"run {run_name}: {state}")

    for done, month in enumerate(months, start=1):
        step = {
            **wire,
            "step": "partition",
            "months": [month.isoformat()],
            # only the run of the window's first month loads the inbox (and builds the marts)
            "inbox": wire["inbox"] if done == 1 else None,
        }
        run = run_backfill_step(step, [*run_tags, partition_tag(month)], show)
        check_completed(run, f"partition {month:%Y-%m}")
        message = run.state.message if run.state else None
        findings = message.split(": ", 1)[1] if message and ": " in message else "done"
        echo(f"partition {month:%Y-%m} ({done}/{len(months)}): {findings} (run {run.name})")
    run = run_backfill_step({**wire, "step": "finish", "inbox": None}, run_tags, show)
    check_completed(run, "finishing")
    scope = Scope.backfill(
        parameters["start"],
        parameters["end"],
        payer_id=parameters["payer_id"],
        reason=parameters["reason"],
        claim_ids=parameters["claim_ids"],
    )
    folder = report_dir(parameters["reports"], scope, parameters["as_of"])
    summary = json.loads((folder / "exposure.json").read_text(encoding="utf-8"))
    echo(f"finishing run {run.name} ({run.id}) Completed")
    print_totals(summary)
    print_scope_counts(summary)
    print_audit(summary.get("audit"))
    echo(f"reports: {folder}")


def check_completed(run: FlowRun, what: str) -> None:
    """Raise (exit 3 for a held warehouse, else 1) unless the run completed."""
    from warehouse.connection import WarehouseLocked

    state = run.state
    if state is not None and state.is_completed():
        return
    name = state.name if state else "unknown"
    message = (state.message if state else None) or f"the run ended {name}"
    if "WarehouseLocked" in message or "held by another run" in message:
        raise WarehouseLocked(f"backfill {what} run {run.name}: {message}")
    raise RuntimeError(f"backfill {what} run {run.name} ({run.id}) ended {name}: {message}")


def wire_value(value: object) -> object:
    """A flow parameter as JSON (dates as ISO strings, paths as strings)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value
