"""`recoup serve` against a real Prefect server: a backfill started with `recoup backfill` runs as a
run of the served deployment, with its tags, month partitions and report folder; stopping serve
with SIGTERM leaves the nightly schedule active.

Everything runs in subprocesses with their own PREFECT_HOME; the test talks to the server over
its REST API (the session's in-process test harness, if any, is another server)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DEMO_AS_OF, DemoWarehouse
from transforms.warehouse import open_warehouse

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(what: str, check: Callable[[], Any], timeout: float, *procs: subprocess.Popen) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"{what}: process {proc.args} exited {proc.returncode}")
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what}: not after {timeout} s")


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for("server health", lambda: httpx.get(f"{url}/health", timeout=2).json(), 60, proc)
        yield url, env
    finally:
        _stop(proc)
        log.close()


def _get(url: str, path: str) -> Any:
    response = httpx.get(url + path, timeout=10)
    return response.json() if response.status_code == 200 else None


def _post(url: str, path: str, body: dict) -> Any:
    response = httpx.post(url + path, json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def test_serve_runs_a_backfill_and_keeps_the_schedule_after_sigterm(
    server: tuple[str, dict[str, str]], demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    url, env = server
    db = demo_warehouse.copy_to(tmp_path / "data")
    reports = tmp_path / "reports"
    serve_log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "serve",
            "--cron",
            "30 1 * * *",
            "--timezone",
            "America/Chicago",
            "--inbox",
            str(demo_warehouse.inbox),
            "--db",
            str(db),
            "--reports",
            str(reports),
            "--lock-wait",
            "30",
        ],
        env=env,
        cwd=tmp_path,
        stdout=serve_log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(
            "deployments registered",
            lambda: (
                _get(url, "/deployments/name/recoup-backfill/backfill")
                and _get(url, "/deployments/name/recoup-nightly/nightly")
            ),
            90,
            serve,
        )
        with open_warehouse(db, read_only=True) as con:
            ids = [
                row[0]
                for row in con.execute(
                    "SELECT DISTINCT c.claim_id FROM stg.claims AS c "
                    "JOIN stg.claim_lines AS l USING (file_sha256, claim_id) "
                    "WHERE c.payer_id = 'MCRDM' "
                    "AND l.date_of_service BETWEEN DATE '2026-04-01' AND DATE '2026-05-31' "
                    "ORDER BY 1"
                ).fetchall()
            ]
        sample = tmp_path / "sample.csv"
        sample.write_text("claim_id\n" + "\n".join(ids[::2]) + "\n")
        backfill = subprocess.run(
            [
                sys.executable,
                "-m",
                "flows.cli",
                "backfill",
                "--start",
                "2026-04-01",
                "--end",
                "2026-05-31",
                "--payer",
                "MCRDM",
                "--reason",
                "integration",
                "--claims-file",
                str(sample),
                "--no-ingest",
                "--db",
                str(db),
                "--reports",
                str(reports),
                "--as-of",
                DEMO_AS_OF.isoformat(),
            ],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert backfill.returncode == 0, backfill.stdout + backfill.stderr
        out = backfill.stdout
        assert "as a run of the recoup-backfill/backfill deployment" in out
        assert "partition 2026-04 (1/2): done" in out and "partition 2026-05 (2/2): done" in out

        folder = reports / "backfill" / "2026-04-01_2026-05-31_mcrdm"
        for name in ("exposure.json", "findings.csv", "index.html", "audit.json", "audit.html"):
            assert (folder / name).is_file(), name

        deployment = _get(url, "/deployments/name/recoup-backfill/backfill")
        runs = _post(
            url, "/flow_runs/filter", {"deployments": {"id": {"any_": [deployment["id"]]}}}
        )
        assert len(runs) == 1
        run = runs[0]
        assert run["state"]["type"] == "COMPLETED"
        assert {"backfill", "payer:MCRDM"} <= set(run["tags"])
        assert run["parameters"]["claim_ids"] == sorted(ids[::2])
        task_runs = _post(url, "/task_runs/filter", {"flow_runs": {"id": {"any_": [run["id"]]}}})
        partitions = sorted(t["name"] for t in task_runs if t["name"].startswith("evaluate-part"))
        assert partitions == ["evaluate-partition-2026-04", "evaluate-partition-2026-05"]
        assert all(t["state"]["type"] == "COMPLETED" for t in task_runs)
        limit = _get(url, "/v2/concurrency_limits/recoup-warehouse")
        assert limit["limit"] == 1 and limit["active"]
    finally:
        _stop(serve)
        serve_log.close()

    # serve stopped by SIGTERM: the nightly schedule is still there and active
    assert serve.returncode is not None
    nightly = _get(url, "/deployments/name/recoup-nightly/nightly")
    assert nightly["paused"] is False
    assert nightly["global_concurrency_limit"]["limit"] == 1  # the deployment's own limit
    assert [
        (s["schedule"]["cron"], s["schedule"]["timezone"], s["active"])
        for s in nightly["schedules"]
    ] == [("30 1 * * *", "America/Chicago", True)]
    assert set(nightly["tags"]) == {"recoup", "nightly"}
