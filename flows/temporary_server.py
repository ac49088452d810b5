"""Prefect's temporary API server dies with the run that started it.

Without ``PREFECT_API_URL`` Prefect starts a temporary server as a child process (uvicorn, in
``prefect.server.api.server.SubprocessASGIServer``) and stops it at exit. A SIGKILL gives the run
no exit, so the server (about 200 MB) used to live on, orphaned. ``install`` makes Prefect start
the same uvicorn command behind a watchdog: a thread in the server process that polls its parent
pid and, when the parent is gone (the server is re-parented), stops the server (SIGTERM, so
uvicorn shuts down cleanly; a hard exit if that has not worked within ``GRACE_SECONDS``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

# How often the server checks its parent, and how long it gives uvicorn to stop cleanly.
POLL_SECONDS = 0.5
GRACE_SECONDS = 10.0

# Runs in the server process as ``python -c WATCHDOG PARENT_PID ARGS...``; ARGS are uvicorn's own.
# Self-contained (imports nothing of recoup): the server's working directory and path are Prefect's.
WATCHDOG = f"""\
import os, runpy, signal, sys, threading, time
parent = int(sys.argv[1])
def watch():
    while os.getppid() == parent:
        time.sleep({POLL_SECONDS})
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep({GRACE_SECONDS})
    os._exit(1)
threading.Thread(target=watch, name="recoup-parent-watchdog", daemon=True).start()
sys.argv = ["uvicorn", *sys.argv[2:]]
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


def watched_command(args: Sequence[str], parent_pid: int) -> list[str]:
    """``args`` with its ``python -m uvicorn ...`` (this interpreter, as Prefect runs it) under the
    watchdog of ``parent_pid``; any other command unchanged."""
    args = [str(arg) for arg in args]
    if args[:3] == [sys.executable, "-m", "uvicorn"]:
        return [args[0], "-c", WATCHDOG, str(parent_pid), *args[3:]]
    return args


class _WatchedSubprocess:
    """Stands in for the ``subprocess`` module inside Prefect's server module: the same module,
    except that ``Popen`` of uvicorn gets the watchdog."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(args: Sequence[str], *rest: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        return subprocess.Popen(watched_command(args, os.getpid()), *rest, **kwargs)


def install() -> None:
    """Make Prefect start its temporary server under the watchdog (idempotent). Imports Prefect's
    server module: call it after Prefect's settings are in the environment, and only when a
    temporary server can start (no ``PREFECT_API_URL``)."""
    from prefect.server.api import server

    if not isinstance(server.subprocess, _WatchedSubprocess):
        server.subprocess = _WatchedSubprocess()  # type: ignore[assignment]


def installed() -> bool:
    module = sys.modules.get("prefect.server.api.server")
    return module is not None and isinstance(module.subprocess, _WatchedSubprocess)
