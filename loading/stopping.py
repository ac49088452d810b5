"""What stops a run instead of judging a file: faults of the machine, signals, and bugs.

A rejection is a verdict on a file, recorded for good (the ledger skips it from then on), so only
recoup's own input-defect errors may become one. A full disk, a read-only or failing filesystem,
a permission lost on recoup's own folders, exhausted memory (``EnvironmentFault``), a SIGTERM or
SIGINT (``Stopped``) and a bug in recoup (``UnexpectedError``) stop the run instead: the file in
progress is rolled back, nothing is recorded for it, and the next run tries it again
(docs/decisions.md "Faults and signals").
"""

from __future__ import annotations

import errno
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

# errno values of a write to recoup's own folders (landing/, quarantine/, the warehouse) that say
# the machine failed, whatever file was being written
FAULT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES, errno.EPERM}
)
SIGNALS = (signal.SIGTERM, signal.SIGINT)
RETRY = "nothing was recorded for it and the run stopped; the next run retries it"


class EnvironmentFault(RuntimeError):
    """The machine failed while a file was taken in: not a verdict on the file (exit 1)."""

    def __init__(self, where: str, cause: BaseException) -> None:
        self.where = where
        super().__init__(f"{where} was not loaded: {describe(cause)}; {RETRY}")


class UnexpectedError(RuntimeError):
    """An exception that is not one of recoup's input-defect errors: a bug, not a verdict on the
    file, so the run stops (exit 1) with the traceback in the run log."""

    def __init__(self, where: str, cause: BaseException) -> None:
        self.where = where
        super().__init__(f"{where} was not loaded: {describe(cause)}; {RETRY}")


class Stopped(BaseException):
    """SIGTERM or SIGINT asked the run to stop. A BaseException so that no ``except Exception``
    (a reader's, Prefect's retry of a task) can take it for a failure of one file."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal (143 for SIGTERM, 130 for SIGINT)."""
        return 128 + self.signum

    def sentence(self, command: str = "run") -> str:
        """What the console says for ``command``: the loading commands roll back the file in
        progress; ``report`` leaves the previous report folder; the others just stopped."""
        said = f"stopped by {signal.Signals(self.signum).name}"
        if command in ("run", "backfill"):
            return f"{said}; the file in progress was rolled back; rerun to continue"
        if command == "report":
            return f"{said}; the previous report folder was left as it was"
        return said


def describe(exc: BaseException) -> str:
    """``OSError: [Errno 28] No space left on device``: the type and the first line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _duckdb_errors(*names: str) -> tuple[type[BaseException], ...]:
    """DuckDB's exception classes ``names``, or none when DuckDB was never imported (then no
    exception can be one of them): importing DuckDB here would cost every command, even a
    ``--help``, a quarter of a second."""
    duckdb = sys.modules.get("duckdb")
    return tuple(getattr(duckdb, name) for name in names) if duckdb is not None else ()


def is_environment_fault(exc: BaseException) -> bool:
    """Whether ``exc`` says the machine failed (memory, disk, filesystem, DuckDB's own I/O)."""
    if isinstance(exc, MemoryError):
        return True
    faults = ("IOException", "OutOfMemoryException", "FatalException", "PermissionException")
    if isinstance(exc, _duckdb_errors(*faults)):
        return True
    return isinstance(exc, OSError) and exc.errno in FAULT_ERRNOS


def is_interrupt(exc: BaseException) -> bool:
    """DuckDB turns a signal that arrives during a query into ``Query interrupted``."""
    if isinstance(exc, _duckdb_errors("InterruptException")):
        return True
    return isinstance(exc, RuntimeError) and str(exc).startswith("Query interrupted")


# ---- signals ----------------------------------------------------------------------------------

_requested: list[int] = []  # the signals received since the last ``reset``


def requested() -> int | None:
    """The first stop signal received, if any."""
    return _requested[0] if _requested else None


def reset() -> None:
    _requested.clear()


def _handler(signum: int, frame: FrameType | None) -> None:
    first = not _requested
    _requested.append(signum)
    if first:  # a second signal must not break the rollback the first one started
        raise Stopped(signum)


def check(exc: BaseException) -> None:
    """Raise ``Stopped`` for ``exc`` when a stop was requested and ``exc`` is what it caused."""
    signum = requested()
    if signum is None:
        return
    cause: BaseException | None = exc
    while cause is not None:  # the interrupt may hide behind what it broke (a ROLLBACK)
        if is_interrupt(cause) or isinstance(cause, Stopped):
            raise Stopped(signum) from exc
        cause = cause.__context__


_armed: list[bool] = []  # the ``recoup`` command owns this process's signals


@contextmanager
def stop_on_signals(arm: bool = False) -> Iterator[None]:
    """SIGTERM and SIGINT raise ``Stopped`` inside the block, also when they interrupt a DuckDB
    query. The ``recoup`` command installs it (``arm=True``); each task's use of the warehouse
    installs it again, because Prefect puts its own SIGTERM handler in place while a flow runs
    (it raises Prefect's ``TerminationSignal``, which DuckDB would swallow as "Query
    interrupted"). Not armed (a flow run of a deployment, where SIGTERM is the runner cancelling
    it) and outside the main thread (where signals cannot be handled), the block runs as it is."""
    main_thread = threading.current_thread() is threading.main_thread()
    if not main_thread or not (arm or _armed):
        yield
        return
    if arm:
        reset()  # a stop requested in an earlier command of this process is not this one's
    previous: dict[int, Any] = {sig: signal.signal(sig, _handler) for sig in SIGNALS}
    _armed.append(True)
    try:
        yield
    except BaseException as exc:
        check(exc)
        raise
    finally:
        _armed.pop()
        if arm:
            reset()
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


@contextmanager
def left_to_prefect() -> Iterator[None]:
    """Inside the block, SIGTERM and SIGINT are Python's defaults again, and tasks do not take them
    over: for ``recoup serve``, whose Prefect runner shuts down gracefully on its own SIGTERM
    handler and on KeyboardInterrupt (its flow runs are separate processes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    armed = list(_armed)
    _armed.clear()
    try:
        yield
    finally:
        _armed.extend(armed)
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
