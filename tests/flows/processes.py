"""Processes as /proc sees them, for the tests that SIGKILL a run: who is still alive in a
session, and waiting patiently for something to happen."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (a zombie holds no memory or port)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def session_members(session: int) -> list[int]:
    """Live processes in session ``session`` (a run started with ``start_new_session=True`` leads
    the session its pid names; anything it started stays in it unless it calls setsid)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None and fields[0] not in ("Z", "X") and int(fields[3]) == session:
            members.append(int(entry.name))
    return sorted(members)


def children(pid: int) -> list[int]:
    """Live direct children of ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None and fields[0] not in ("Z", "X") and int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def wait_for(check: Callable[[], T], timeout: float, interval: float = 0.2) -> T:
    """Poll ``check`` until it returns something truthy (returned) or ``timeout`` passes
    (AssertionError). Timeouts here are generous bounds for a loaded machine, not expectations."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout} s for {check}")
        time.sleep(interval)
