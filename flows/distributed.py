"""Partition work on Dask: ``recoup run`` / ``recoup backfill --task-runner dask``.

The flow runs with prefect-dask's ``DaskTaskRunner`` (``task_runner``: a scheduler at
``--address``, or a temporary ``LocalCluster`` of ``--workers`` processes). Rule evaluation is
then split by service month (the warehouse's partition key, marts/partitions.py):

1. the driver (the flow's process, holding recoup's warehouse lease throughout) builds the marts,
   loads the code lists, decides which rules run, commits and closes the warehouse;
2. the months, in one run of consecutive months per Dask worker, go to the workers as a plain
   function (``catalog.compute_findings_file``: no Prefect, so workers never need the Prefect
   API), which opens the warehouse **read-only** (DuckDB allows many readers or one writer) and
   writes its months' findings to ``<warehouse>.partitions/<as_of>/<first>_<last>.parquet``;
3. the driver reopens the warehouse read-write and replaces those months' findings from the files
   in one transaction, then removes the run folder.

The findings equal the default runner's row for row (tests/flows/test_distributed.py): the same
SELECT runs, only split by month. Workers on other machines need the warehouse folder on shared
storage at the same path, and recoup installed (README "Past one machine: Dask").
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from flows import progress, tasks

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner

DEFAULT_WORKERS = 2
# distributed gives up on a connection after 30 s; spawning a worker process and importing recoup
# on a loaded 2-core machine can take longer (STACK.md). The ceiling only costs time when a worker
# is really gone.
PATIENT = "900s"


def task_runner(address: str | None = None, workers: int = DEFAULT_WORKERS) -> DaskTaskRunner:
    """The flow's task runner: the Dask scheduler at ``address`` (``tcp://host:port``), or a
    temporary local cluster of ``workers`` single-threaded processes, closed with the flow."""
    # distributed logs every scheduler and worker event at INFO on standard error; the run's own
    # progress lines say what matters. Set before dask is imported (here and in the worker
    # processes, which inherit the environment).
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    import dask
    from prefect_dask import DaskTaskRunner

    logging.getLogger("distributed").setLevel(logging.WARNING)
    dask.config.set(
        {"distributed.comm.timeouts.connect": PATIENT, "distributed.comm.timeouts.tcp": PATIENT}
    )
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": workers,
            "processes": True,
            "threads_per_worker": 1,
            "dashboard_address": ":0",  # any free port: two runs must not compete for 8787
        }
    )


def on_dask() -> bool:
    """Whether the current flow run has a Dask task runner (``--task-runner dask``)."""
    context = FlowRunContext.get()
    runner = getattr(context, "task_runner", None)
    return type(runner).__module__.startswith("prefect_dask")


def partition_folder(db: Path) -> Path:
    """Where workers write their months' findings: beside the warehouse (shared storage when the
    workers are on other machines)."""
    return db.with_name(db.name + ".partitions")


@dataclass
class DaskEvaluation:
    """The rules' outcome (what the default runner returns) and findings per service month."""

    evaluation: tasks.Evaluation
    by_month: dict[date, int]


@task(name="evaluate-partitions-on-dask", cache_policy=NO_CACHE)
def evaluate_partitions(
    db: Path,
    as_of: date,
    months: list[date] | None,
    lock_wait: float,
    overrides: dict[str, object] | None,
) -> DaskEvaluation:
    """Replace the findings of ``months`` (every finding when None: the nightly) with today's
    rules on the marts built for ``as_of``, one month per Dask task."""
    from expectations.catalog import compute_findings_file, prepare_rules, store_findings
    from expectations.config import load_config

    db = Path(db).resolve()
    with tasks.open_warehouse(db, wait_seconds=lock_wait) as con:
        plan = prepare_rules(con, as_of, load_config(overrides))
        todo = months if months is not None else _months_with_paid_lines(con)
    # the lease is ours: a folder left by a run that crashed is stale
    shutil.rmtree(partition_folder(db), ignore_errors=True)
    run = partition_folder(db) / f"{as_of.isoformat()}"
    try:
        client: Any = FlowRunContext.get().task_runner.client  # type: ignore[union-attr]
        parts = split_months(todo, len(client.scheduler_info()["workers"]))
        files = [run / f"{part[0]:%Y-%m}_{part[-1]:%Y-%m}.parquet" for part in parts]
        futures = [
            client.submit(
                compute_findings_file, db, plan, overrides, part, path, lock_wait, pure=False
            )
            for part, path in zip(parts, files, strict=True)
        ]
        rows = client.gather(futures)
        workers = {address for held in client.who_has(futures).values() for address in held}
        progress.note(
            f"rules on Dask: {len(todo)} service months in {len(parts)} parts on "
            f"{len(workers)} workers, {sum(rows):,} findings"
        )
        with tasks.open_warehouse(db, wait_seconds=lock_wait) as con:
            result = store_findings(con, plan, months, files)
            by_month = _findings_by_month(con, todo)
    finally:
        shutil.rmtree(partition_folder(db), ignore_errors=True)
    return DaskEvaluation(
        evaluation=tasks.Evaluation(
            as_of=as_of, counts=dict(result.counts), skipped=dict(result.skipped)
        ),
        by_month=by_month,
    )


def split_months(months: list[date], workers: int) -> list[list[date]]:
    """``months`` in at most ``workers`` runs of consecutive months, as even as can be (one task
    per worker: every rule query scans the whole history for any month, so a task per month would
    repeat that scan once per month)."""
    if not months:
        return []
    parts = max(1, min(workers, len(months)))
    size, extra = divmod(len(months), parts)
    split, start = [], 0
    for index in range(parts):
        end = start + size + (index < extra)
        split.append(months[start:end])
        start = end
    return split


def _findings_by_month(con: Any, months: list[date]) -> dict[date, int]:
    counts = dict.fromkeys(months, 0)
    rows = con.execute("SELECT service_month, count(*) FROM mart.findings GROUP BY 1").fetchall()
    counts.update({month: int(count) for month, count in rows if month in counts})
    return counts


def _months_with_paid_lines(con: Any) -> list[date]:
    rows = con.execute(
        "SELECT DISTINCT service_month FROM mart.paid_lines "
        "WHERE service_month IS NOT NULL ORDER BY 1"
    ).fetchall()
    return [row[0] for row in rows]


def evaluate_rules(
    db: Path,
    as_of: date,
    lock_wait: float,
    overrides: dict[str, object] | None,
    incremental: bool = False,
) -> tasks.Evaluation:
    """The nightly's marts and findings on Dask: the marts on the driver, the rules by month on
    the workers (what ``tasks.evaluate_rules`` does in one process)."""
    tasks.build_marts(db, as_of, lock_wait, incremental)
    return evaluate_partitions(db, as_of, None, lock_wait, overrides).evaluation
