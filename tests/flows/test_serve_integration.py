"""`recoup serve` against a real Prefect server: a backfill started with `recoup backfill` runs as
one run of the served deployment per month of the window (tags ``backfill``, ``payer:<id>``,
``partition:YYYY-MM``) and a finishing run, and writes the report a local backfill of the same
window writes; stopping serve with SIGTERM leaves the nightly schedule active.

Everything runs in subprocesses with their own PREFECT_HOME; the test talks to the server over
its REST API (the session's in-process test harness, if any, is another server)."""

from __future__ import annotations

import itertools
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

from reporting.scope import claims_tag
from tests.conftest import DEMO_AS_OF, PATIENT, DemoWarehouse
from warehouse.connection import open_warehouse

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
        health = lambda: httpx.get(f"{url}/health", timeout=30).json()  # noqa: E731
        _wait_for("server health", health, PATIENT, proc)
        yield url, env
    finally:
        _stop(proc)
        log.close()


def _get(url: str, path: str) -> Any:
    response = httpx.get(url + path, timeout=60)
    return response.json() if response.status_code == 200 else None


def _post(url: str, path: str, body: dict) -> Any:
    response = httpx.post(url + path, json=body, timeout=60)
    response.raise_for_status()
    return response.json()


def test_serve_runs_a_backfill_and_keeps_the_schedule_after_sigterm(
    server: tuple[str, dict[str, str]], demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    url, env = server
    db = demo_warehouse.copy_to(tmp_path / "data")
    local_db = demo_warehouse.copy_to(tmp_path / "local")  # the same warehouse, for a local run
    reports = tmp_path / "reports"
    serve_env = {**env, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}  # pick runs up within a second
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
        env=serve_env,
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
            PATIENT,
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
        window = ["--start", "2026-04-01", "--end", "2026-05-31", "--payer", "MCRDM"]
        window += ["--reason", "integration", "--claims-file", str(sample), "--no-ingest"]
        window += ["--as-of", DEMO_AS_OF.isoformat()]
        command = [sys.executable, "-m", "flows.cli", "backfill", *window]
        started = time.monotonic()
        backfill = subprocess.run(
            [*command, "--db", str(db), "--reports", str(reports)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=PATIENT,
        )
        served_seconds = time.monotonic() - started
        assert backfill.returncode == 0, backfill.stdout + backfill.stderr
        out = backfill.stdout
        assert "2 partition run(s) and a finishing run of the recoup-backfill/backfill" in out
        lines = [line for line in out.splitlines() if line.startswith("partition ")]
        assert [line.split(":")[0] for line in lines] == [
            "partition 2026-04 (1/2)",
            "partition 2026-05 (2/2)",
        ]
        assert all(line.split(": ", 1)[1].split()[1] == "findings" for line in lines), lines

        # an audit of named claims writes its own folder (issue 14)
        folder = reports / "backfill" / f"2026-04-01_2026-05-31_mcrdm_{claims_tag(ids[::2])}"
        for name in ("exposure.json", "findings.csv", "index.html", "audit.json", "audit.html"):
            assert (folder / name).is_file(), name
        assert f"reports: {folder}" in out

        deployment = _get(url, "/deployments/name/recoup-backfill/backfill")
        runs = _post(
            url,
            "/flow_runs/filter",
            {"deployments": {"id": {"any_": [deployment["id"]]}}, "sort": "START_TIME_ASC"},
        )
        print("served runs:", served_seconds, "s")
        for run in runs:
            print(
                run["name"],
                run["state"]["type"],
                sorted(run["tags"]),
                run["parameters"].get("step"),
                run["parameters"].get("months"),
                run["start_time"],
                run["end_time"],
                run["state"]["message"],
            )
        assert [(r["parameters"]["step"], r["parameters"].get("months")) for r in runs] == [
            ("partition", ["2026-04-01"]),
            ("partition", ["2026-05-01"]),
            ("finish", None),
        ]
        assert all(run["state"]["type"] == "COMPLETED" for run in runs)
        assert [sorted(set(run["tags"]) - {"recoup"}) for run in runs] == [
            ["backfill", "partition:2026-04", "payer:MCRDM"],
            ["backfill", "partition:2026-05", "payer:MCRDM"],
            ["backfill", "payer:MCRDM"],
        ]
        assert all(run["parameters"]["claim_ids"] == sorted(ids[::2]) for run in runs)
        # one after another: each run started after the previous one ended
        assert all(a["end_time"] <= b["start_time"] for a, b in itertools.pairwise(runs))
        task_runs = _post(
            url, "/task_runs/filter", {"flow_runs": {"id": {"any_": [runs[0]["id"]]}}}
        )
        assert sorted(t["name"] for t in task_runs if t["name"].startswith("evaluate-part")) == [
            "evaluate-partition-2026-04"
        ]
        assert all(t["state"]["type"] == "COMPLETED" for t in task_runs)
        task_runs = _post(
            url, "/task_runs/filter", {"flow_runs": {"id": {"any_": [runs[2]["id"]]}}}
        )
        names = {t["name"].rsplit("-", 1)[0] for t in task_runs}
        assert {"evaluate-outside-window", "write-reports"} <= names
        assert not any(t["name"].startswith("evaluate-partition") for t in task_runs)

        # the same backfill in one local process, on a copy of the same warehouse: same report
        local_reports = tmp_path / "local-reports"
        local = subprocess.run(
            [*command, "--via", "local", "--db", str(local_db), "--reports", str(local_reports)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=PATIENT,
        )
        assert local.returncode == 0, local.stdout + local.stderr
        assert "here" in local.stdout.splitlines()[0]
        local_folder = local_reports / "backfill" / folder.name
        for name in ("exposure.json", "findings.csv", "audit.json", "audit.csv"):
            assert (folder / name).read_bytes() == (local_folder / name).read_bytes(), name
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
