"""The run log: every command that runs a flow keeps Prefect's and recoup's log records, and the
full traceback of what stopped it, in
``<db folder>/logs/<command>-<UTC yyyymmddTHHMMSSZ>-<pid>.log`` (file 600, folder 700). The console
gets recoup's progress lines and, on failure, one line and the log's path (``flows/cli.py``):
Prefect's "Encountered exception during execution" tracebacks go to the file only. Records carry
codes, file names and counts, never row values.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flows import progress

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Prefect's run loggers: their error records carry the task's or flow's traceback
RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")

_last: list[Path] = []  # the log of the command that ran last, for the failure line


def log_path(command: str, db: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return Path(db).resolve().parent / "logs" / f"{command}-{stamp}-{os.getpid()}.log"


def last_log() -> Path | None:
    """The run log the last command opened (since ``forget``), if it opened one."""
    return _last[-1] if _last else None


def forget() -> None:
    _last.clear()


class _NotOnConsole(logging.Filter):
    """Keep Prefect's run tracebacks off the console: they are in the run log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.startswith(RUN_LOGGERS) or record.exc_info)


@contextmanager
def run_log(command: str, db: Path) -> Iterator[Path]:
    """Open the run log for ``command`` (after Prefect has configured logging, i.e. after
    ``import prefect``): log records at the level they are emitted go to it, and an exception
    leaving the block is written to it with its traceback, then raised on."""
    path = log_path(command, db)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    stream = os.fdopen(fd, "a", encoding="utf-8")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    quiet = _NotOnConsole()
    console = [h for h in root.handlers if h is not handler]
    for existing in console:
        existing.addFilter(quiet)
    root.addHandler(handler)
    _last.clear()
    _last.append(path)

    def progress_line(text: str) -> None:  # whatever the log levels, the run's own progress
        fields = {"name": "recoup.progress", "levelno": logging.INFO, "levelname": "INFO"}
        handler.handle(logging.makeLogRecord({**fields, "msg": text.strip()}))

    try:
        with progress.narrating(progress_line):
            yield path
    except BaseException as exc:
        stream.write("".join(traceback.format_exception(exc)))
        raise
    finally:
        root.removeHandler(handler)
        for existing in console:
            existing.removeFilter(quiet)
        handler.close()
        stream.close()
