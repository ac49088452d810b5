"""Partition progress of a backfill, for whoever watches: the run log (Prefect UI) always, and the
``recoup backfill`` command when it runs the flow in its own process (``listening``). When the
command goes through a deployment it follows the task runs instead (``flows/remote.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date

# What a partition line's findings count: a backfill re-evaluates whole months, for every payer
# (the summary's own counts are the scope's; flows/summaries.py prints both meanings).
PARTITION_COUNTS = "every payer's lines of the month"


@dataclass(frozen=True)
class PartitionDone:
    month: date
    done: int
    total: int
    findings: int


Listener = Callable[[PartitionDone], None]
_listeners: list[Listener] = []


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def partition_done(event: PartitionDone) -> None:
    from prefect.logging import get_run_logger

    get_run_logger().info(
        "partition %s (%d/%d): %d findings",
        event.month.strftime("%Y-%m"),
        event.done,
        event.total,
        event.findings,
    )
    for listener in list(_listeners):
        listener(event)


# ---- step and file progress of a run, for the terminal ---------------------------------------

Narrator = Callable[[str], None]
_narrators: list[Narrator] = []


@contextmanager
def narrating(narrator: Narrator) -> Iterator[None]:
    """Send the run's progress lines (``note``) to ``narrator`` too, e.g. standard error."""
    _narrators.append(narrator)
    try:
        yield
    finally:
        _narrators.remove(narrator)


def note(text: str) -> None:
    """A progress line: to the run log (Prefect UI) when inside a run, and to any narrator."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    with suppress(MissingContextError):  # outside a run there is no run log
        get_run_logger().info(text)
    for narrator in list(_narrators):
        narrator(text)


def file_done(done: int, total: int, status: str, where: str) -> None:
    """Every tenth of the inbox, the last file, and every rejected file get a line."""
    step = max(1, total // 10)
    if status == "rejected" or done == total or done % step == 0:
        note(f"  file {done}/{total} {status}: {where}")
