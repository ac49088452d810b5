"""Partition progress of a backfill, for whoever watches: the run log (Prefect UI) always, and the
``recoup backfill`` command when it runs the flow in its own process (``listening``). When the
command goes through a deployment it follows the task runs instead (``flows/remote.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date


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
