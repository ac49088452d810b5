"""Prefect's temporary API server dies with the run that started it (issue 9, item 3): a SIGKILL of
`recoup run` used to leave the server (~200 MB) running, orphaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flows import temporary_server
from flows.temporary_server import WATCHDOG, watched_command
from tests.conftest import DEMO_AS_OF, PATIENT
from tests.flows.processes import alive, children, command_line, session_members, wait_for

UVICORN = [
    sys.executable,
    "-m",
    "uvicorn",
    "--app-dir",
    "/site/prefect",
    "--factory",
    "prefect.server.api.server:create_app",
    "--port",
    "8123",
]


def test_the_uvicorn_command_runs_under_the_watchdog_of_its_parent() -> None:
    assert watched_command(UVICORN, 4321) == [
        sys.executable,
        "-c",
        WATCHDOG,
        "4321",
        "--app-dir",
        "/site/prefect",
        "--factory",
        "prefect.server.api.server:create_app",
        "--port",
        "8123",
    ]


def test_other_commands_are_left_alone() -> None:
    assert watched_command(["/bin/echo", "-m", "uvicorn"], 1) == ["/bin/echo", "-m", "uvicorn"]
    http = [sys.executable, "-m", "http.server"]
    assert watched_command(http, 1) == http
    elsewhere = ["/opt/other/python", "-m", "uvicorn"]
    assert watched_command(elsewhere, 1) == elsewhere


def test_prefect_starts_its_server_through_the_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect's own ``_run_uvicorn_command``, once installed, hands Popen the watched command
    (Popen itself is replaced here: nothing starts)."""
    from prefect.server.api import server

    monkeypatch.setattr(server, "subprocess", server.subprocess)  # put back after the test
    started: list[list[str]] = []

    def fake_popen(args: list[str], *rest: Any, **kwargs: Any) -> str:
        started.append(list(args))
        return "process"

    monkeypatch.setattr(temporary_server.subprocess, "Popen", fake_popen)
    temporary_server.install()
    temporary_server.install()  # idempotent: wrapped once
    assert temporary_server.installed()
    assert server.subprocess.TimeoutExpired is subprocess.TimeoutExpired
    instance = server.SubprocessASGIServer.__new__(server.SubprocessASGIServer)
    instance.port = 8123
    assert instance._run_uvicorn_command() == "process"
    assert len(started) == 1
    command = started[0]
    assert command[:4] == [sys.executable, "-c", WATCHDOG, str(os.getpid())]
    assert command[4:] == [
        "--app-dir",
        str(Path(server.prefect.__module_path__).parent),
        "--factory",
        "prefect.server.api.server:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        "8123",
        "--log-level",
        "error",
        "--lifespan",
        "on",
    ]


def _server_child(run: subprocess.Popen[str]) -> int | None:
    for pid in children(run.pid):
        if "prefect.server.api.server:create_app" in command_line(pid):
            return pid
    return None


@pytest.mark.integration
def test_a_killed_run_leaves_no_temporary_server(
    demo_warehouse: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`recoup run` with no PREFECT_API_URL starts a temporary server; SIGKILL the run once the
    server process exists: the server stops by itself (nothing of the run's session is left)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PREFECT_API_URL" and not key.startswith("PYTEST")
    }
    env.update(
        PREFECT_HOME=str(tmp_path_factory.mktemp("prefect-home")),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "run",
            "--inbox",
            str(demo_warehouse.inbox),
            "--db",
            str(tmp_path / "recoup.duckdb"),
            "--reports",
            str(tmp_path / "reports"),
            "--as-of",
            DEMO_AS_OF.isoformat(),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        server = wait_for(lambda: _server_child(run), PATIENT)
        assert alive(server)
        run.send_signal(signal.SIGKILL)
        assert run.wait(timeout=PATIENT) == -signal.SIGKILL
        # generous: the watchdog polls every 0.5 s and gives uvicorn 10 s to stop cleanly
        wait_for(lambda: not alive(server), 60)
        assert session_members(run.pid) == []
    finally:
        for pid in session_members(run.pid):  # never leave a process behind, even on failure
            os.kill(pid, signal.SIGKILL)
        if run.poll() is None:
            run.kill()
            run.wait()
