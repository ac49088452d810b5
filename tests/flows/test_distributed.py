"""``--task-runner dask`` (flows/distributed.py): the demo's nightly on a 2-worker local Dask
cluster (separate processes) leaves the findings of the default runner, row for row and column by
column, and the same exposure.json; a backfill on Dask beside it leaves the warehouse unchanged; the
cluster's processes are gone when the flow returns. The split of ``run_rules`` into plan, compute
and store is checked without Dask on one month."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psutil
import pytest

from tests.conftest import DEMO_AS_OF, DemoWarehouse
from warehouse.connection import open_warehouse

WORKERS = 2


def _findings(db: Path) -> list[tuple]:
    with open_warehouse(db, read_only=True) as con:
        return con.execute(
            "SELECT * FROM mart.findings ORDER BY claim_key, line_number, rule"
        ).fetchall()


# Python's multiprocessing starts one resource tracker per process that spawns children (Dask's
# nanny does) and keeps it until that process exits: it is not the cluster's.
RESOURCE_TRACKER = "from multiprocessing.resource_tracker import main"


def _children() -> set[int]:
    """This process's descendants, bar multiprocessing's resource tracker."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if not any(RESOURCE_TRACKER in part for part in child.cmdline()):
                found.add(child.pid)
        except psutil.NoSuchProcess:
            pass  # ended while listed: not left over
    return found


@pytest.fixture(scope="module")
def runs(prefect_harness: str, demo_warehouse: DemoWarehouse, tmp_path_factory) -> dict:
    """The nightly with the default runner and with Dask (each on its own copy of the demo
    warehouse), then a backfill on Dask beside the Dask nightly."""
    from flows import distributed, progress
    from flows.backfill import backfill
    from flows.nightly import nightly

    root = tmp_path_factory.mktemp("distributed")
    default_db = demo_warehouse.copy_to(root / "default")
    dask_db = demo_warehouse.copy_to(root / "dask")
    common = {"inbox": demo_warehouse.inbox, "as_of": DEMO_AS_OF, "lock_wait": 5}
    default = nightly(db=default_db, reports=root / "default" / "reports", **common)

    before = _children()
    notes: list[str] = []
    on_dask = nightly.with_options(task_runner=distributed.task_runner(workers=WORKERS))
    with progress.narrating(notes.append):
        dask = on_dask(db=dask_db, reports=root / "dask" / "reports", **common)
    left_after_nightly = _children() - before
    after_nightly = _findings(dask_db)

    window = backfill.with_options(task_runner=distributed.task_runner(workers=WORKERS))
    with progress.narrating(notes.append):
        window(
            start=date(2026, 3, 10),
            end=date(2026, 6, 30),
            db=dask_db,
            reports=root / "dask" / "reports",
            **common,
        )
    return {
        "default": default,
        "dask": dask,
        "default_db": default_db,
        "dask_db": dask_db,
        "notes": notes,
        "left_after_nightly": left_after_nightly,
        "left_after_backfill": _children() - before,
        "after_nightly": after_nightly,
    }


def test_findings_on_dask_equal_the_default_runners_row_for_row(runs: dict) -> None:
    default = _findings(runs["default_db"])
    assert len(default) == sum(runs["default"].evaluation.counts.values()) > 0
    assert runs["after_nightly"] == default
    assert runs["dask"].evaluation == runs["default"].evaluation


def test_exposure_json_on_dask_is_the_default_runners_byte_for_byte(runs: dict) -> None:
    name = "exposure.json"
    on_dask = (runs["dask"].report_folder / name).read_bytes()
    assert on_dask == (runs["default"].report_folder / name).read_bytes()
    assert runs["dask"].summary == runs["default"].summary


def test_the_months_ran_on_the_workers_and_the_cluster_closed(runs: dict) -> None:
    months = [note for note in runs["notes"] if note.startswith("rules on Dask:")]
    findings = sum(runs["default"].evaluation.counts.values())
    assert len(months) == 2
    assert months[0].endswith(f" in {WORKERS} parts on {WORKERS} workers, {findings:,} findings")
    assert months[1].startswith("rules on Dask: 4 service months in 2 parts on ")  # the window
    assert runs["left_after_nightly"] == set()
    assert runs["left_after_backfill"] == set()
    assert not (runs["dask_db"].parent / "recoup.duckdb.partitions").exists()


def test_a_backfill_on_dask_beside_the_nightly_leaves_the_same_findings(runs: dict) -> None:
    assert _findings(runs["dask_db"]) == runs["after_nightly"]


def test_plan_compute_store_replaces_one_month_as_run_rules_does(
    demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    from expectations.catalog import compute_findings, prepare_rules, run_rules, store_findings
    from expectations.config import load_config
    from marts.build import build_models

    month = date(2026, 5, 1)
    db = demo_warehouse.copy_to(tmp_path)
    with open_warehouse(db) as con:
        build_models(con, DEMO_AS_OF)
        whole = run_rules(con, DEMO_AS_OF)
        expected = run_rules(con, DEMO_AS_OF, service_months=[month])
    before = _findings(db)
    in_month = [row for row in before if row[_column(db, "service_month")] == month]
    with open_warehouse(db) as con:
        plan = prepare_rules(con, DEMO_AS_OF)
        con.execute("DELETE FROM mart.findings WHERE service_month = ?", [month])
        out = tmp_path / "partitions" / "2026-05.parquet"
        rows = compute_findings(con, plan, load_config(), [month], out)
        result = store_findings(con, plan, [month], [out])
    assert rows == len(in_month) == sum(expected.counts.values()) > 0
    assert _findings(db) == before
    assert (result.counts, result.exposure, result.skipped) == (
        expected.counts,
        expected.exposure,
        expected.skipped,
    )
    assert result.skipped == whole.skipped


def _column(db: Path, column: str) -> int:
    with open_warehouse(db, read_only=True) as con:
        names = [d[0] for d in con.execute("SELECT * FROM mart.findings LIMIT 0").description]
    return names.index(column)


def test_work_pool_entrypoints_take_the_dask_address_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    import deployments.dask as module

    monkeypatch.setenv("RECOUP_DASK_ADDRESS", "tcp://scheduler.example:8786")
    on_cluster = importlib.reload(module)
    assert on_cluster.nightly_on_dask.name == "recoup-nightly"
    assert on_cluster.backfill_on_dask.name == "recoup-backfill"
    for flow in (on_cluster.nightly_on_dask, on_cluster.backfill_on_dask):
        assert flow.task_runner.address == "tcp://scheduler.example:8786"
    monkeypatch.delenv("RECOUP_DASK_ADDRESS")
    monkeypatch.setenv("RECOUP_DASK_WORKERS", "3")
    local = importlib.reload(module).nightly_on_dask.task_runner
    assert local.address is None
    assert local.cluster_kwargs == {
        "n_workers": 3,
        "processes": True,
        "threads_per_worker": 1,
        "dashboard_address": ":0",
    }


def test_months_split_into_one_run_of_consecutive_months_per_worker() -> None:
    from flows.distributed import split_months

    months = [date(2026, m, 1) for m in range(1, 8)]
    assert split_months(months, 2) == [months[:4], months[4:]]
    assert split_months(months, 3) == [months[:3], months[3:5], months[5:]]
    assert split_months(months[:2], 5) == [[months[0]], [months[1]]]
    assert split_months(months, 0) == [months]  # no worker yet (a remote cluster): one task
    assert split_months([], 2) == []
