"""One writer at a time: a run holds the warehouse from its first step to its last.

DuckDB lets one process write a file, but a run opens the warehouse once per task: between two
tasks another run could slip in and interleave its steps. So a run first takes a **lease**:

* an exclusive ``flock`` on ``<warehouse>.lock`` beside the DuckDB file, held by the run's process
  (released by the kernel if the process dies, so a crash never leaves a stale lock). The file
  names the holder (run kind, pid, start time) for the waiting message;
* when a Prefect server is configured (``PREFECT_API_URL``), a slot of the global concurrency limit
  ``recoup-warehouse`` (limit 1, created by ``recoup serve``; see docs/orchestration.md), so
  deployment runs queue in the Prefect UI too. Without the limit the slot is a no-op.

A run that cannot get the lease within ``wait_seconds`` says so on standard error while it waits
("waiting ... held by another run") and then raises ``WarehouseLocked`` (exit code 3): it has
written nothing.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

from flows import settings
from warehouse.connection import WarehouseLocked, preflight

POLL_SECONDS = 0.2


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _say(message: str) -> None:
    print(f"recoup: {message}", file=sys.stderr, flush=True)
    try:
        from prefect.logging import get_run_logger

        get_run_logger().warning(message)
    except Exception:  # outside a run there is no run logger; stderr is enough
        pass


def _holder(fd: int) -> str:
    text = os.pread(fd, 500, 0).decode("utf-8", "replace").strip()
    return text or "holder unknown"


@contextmanager
def file_lease(
    db: Path, wait_seconds: float, holder: str, say: Callable[[str], None] = _say
) -> Iterator[None]:
    """Hold ``<db>.lock`` exclusively for the block; wait up to ``wait_seconds`` for it."""
    path = lock_path(Path(db))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, wait_seconds)
        waiting = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                current = _holder(fd)
                if time.monotonic() >= deadline:
                    raise WarehouseLocked(
                        f"the warehouse {db} is held by another run ({current}) and was not "
                        f"released within {wait_seconds:g} s (--lock-wait); nothing was written"
                    ) from None
                if not waiting:
                    say(
                        f"waiting up to {wait_seconds:g} s for the warehouse {db}: "
                        f"held by another run ({current})"
                    )
                    waiting = True
                time.sleep(min(POLL_SECONDS, max(0.01, deadline - time.monotonic())))
        if waiting:
            say(f"the warehouse {db} was released; going on")
        started = datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{holder}, pid {os.getpid()}, since {started}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


@contextmanager
def server_slot(wait_seconds: float, holder: str) -> Iterator[None]:
    """A slot of the ``recoup-warehouse`` global concurrency limit, when a server is configured."""
    if settings.server_url() is None:
        yield
        return
    from prefect.concurrency.sync import concurrency

    acquired = False
    try:
        with concurrency(
            settings.WAREHOUSE_LIMIT, occupy=1, timeout_seconds=max(wait_seconds, 0.1)
        ):
            acquired = True
            yield
    except TimeoutError as exc:
        if acquired:
            raise
        raise WarehouseLocked(
            f"another run holds the Prefect concurrency limit {settings.WAREHOUSE_LIMIT!r} "
            f"(the warehouse); not released within {wait_seconds:g} s ({holder} wrote nothing)"
        ) from exc


@contextmanager
def warehouse_lease(db: Path, wait_seconds: float, holder: str) -> Iterator[None]:
    """The whole run's hold on the warehouse: the server slot (if any), then the file lease.

    First the file is checked (``preflight``): one recoup must not open (not DuckDB, another
    program's, a newer release's) fails the flow here with WarehouseRefused, before any task
    (whose retries would only repeat the refusal) and before the lock file is made."""
    preflight(Path(db))
    with ExitStack() as stack:
        stack.enter_context(server_slot(wait_seconds, holder))
        stack.enter_context(file_lease(Path(db), wait_seconds, holder))
        yield
