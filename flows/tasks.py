"""Coarse Prefect tasks: each opens the warehouse by path (connections do not hash for caching)
and calls plain functions from ``transforms``/``expectations``; no business logic lives here."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from transforms import ingest, reference
from transforms.warehouse import open_warehouse


@task(name="ingest-inbox", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE)
def ingest_inbox(
    inbox: Path, db: Path, store: Path, run_id: str, lock_wait: float
) -> ingest.IngestReport:
    """Load every new inbox file (idempotent: the ledger skips what is already in)."""
    with open_warehouse(db, wait_seconds=lock_wait) as con:
        return ingest.ingest_inbox(con, inbox, store, run_id, on_file=_progress)


def _progress(done: int, total: int, outcome: ingest.FileOutcome) -> None:
    from prefect.logging import get_run_logger

    get_run_logger().info(
        "file %d/%d %s: %s/%s", done, total, outcome.status, outcome.feed, outcome.path.name
    )


@task(name="rebuild-reference", cache_policy=NO_CACHE)
def rebuild_reference(db: Path, lock_wait: float) -> dict[str, int]:
    """Refresh ref.* from the shipped defaults and the inbox's overrides."""
    with open_warehouse(db, wait_seconds=lock_wait) as con:
        con.execute("BEGIN TRANSACTION")
        counts = reference.rebuild(con)
        con.execute("COMMIT")
        return counts


@task(name="count-rows", cache_policy=NO_CACHE)
def count_rows(db: Path, lock_wait: float) -> dict[str, int]:
    with open_warehouse(db, wait_seconds=lock_wait) as con:
        return ingest.table_counts(con)
