"""One writer at a time: a run holds the warehouse lease from its first step to its last; another
run waits up to --lock-wait, saying so on standard error, then exits 3 having written nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.lease import file_lease, lock_path
from tests.conftest import DEMO_AS_OF, PATIENT, DemoWarehouse
from warehouse.connection import WarehouseLocked, open_warehouse


def test_a_second_lease_waits_then_gives_up_with_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "recoup.duckdb"
    said: list[str] = []
    with file_lease(db, 0, "nightly 2026-11-15 run first"):
        assert "nightly 2026-11-15 run first, pid" in lock_path(db).read_text()
        started = time.monotonic()
        holder = r"held by another run \(nightly 2026-11-15"
        with (
            pytest.raises(WarehouseLocked, match=holder) as err,
            file_lease(db, 0.5, "backfill", say=said.append),
        ):
            pass
        assert time.monotonic() - started >= 0.5
    assert "not released within 0.5 s" in str(err.value)
    assert len(said) == 1 and said[0].startswith("waiting up to 0.5 s for the warehouse")
    assert "held by another run" in said[0]
    # released: the next one gets it at once, and the lock file no longer names a holder
    assert lock_path(db).read_text() == ""
    with file_lease(db, 0, "next", say=said.append):
        pass
    assert len(said) == 1


def test_a_waiting_lease_goes_on_when_the_holder_lets_go(tmp_path: Path) -> None:
    import threading

    db = tmp_path / "recoup.duckdb"
    said: list[str] = []
    holding = threading.Event()

    def hold() -> None:
        with file_lease(db, 0, "first"):
            holding.set()
            time.sleep(0.6)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    with file_lease(db, 10, "second", say=said.append):
        pass
    thread.join()
    assert said[0].startswith("waiting") and said[-1].endswith("released; going on")


@pytest.mark.integration
def test_two_runs_started_together(
    prefect_harness: str, demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    """Two `recoup run` on one new warehouse: one loads the inbox, the other waits 3 s for it,
    then exits 3 with the reason; the warehouse equals a single run's."""
    from loading.ingest import table_counts

    db = tmp_path / "recoup.duckdb"
    env = {**os.environ, "PREFECT_API_URL": prefect_harness, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "flows.cli",
        "run",
        "--inbox",
        str(demo_warehouse.inbox),
        "--db",
        str(db),
        "--as-of",
        DEMO_AS_OF.isoformat(),
        "--reports",
        str(tmp_path / "reports"),
        "--lock-wait",
        "3",
    ]
    processes = [
        subprocess.Popen(
            command,
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=PATIENT), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0, 3], outcomes
    _, _, waited = next(outcome for outcome in outcomes if outcome[0] == 3)
    assert "waiting up to 3 s for the warehouse" in waited
    assert "held by another run" in waited
    last = waited.strip().splitlines()[-1]
    assert last.startswith("recoup: the warehouse") and "not released within 3 s" in last

    def loaded(path: Path) -> dict[str, int]:
        with open_warehouse(path, read_only=True) as con:
            counts = table_counts(con, ("stg", "ledger"))
            counts.pop("ledger.schema_migrations")
            return counts

    counts = loaded(db)
    assert counts == loaded(demo_warehouse.template)  # loaded once, as by a single run
    assert counts["ledger.files"] > 0 and counts["stg.claim_lines"] > 0
