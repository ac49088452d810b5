"""A flow started without the CLI (a deployment run of `recoup serve`) given a file that is not
recoup's warehouse fails at once with the refusal, instead of after the ingest task's retries
(5 s + 30 s) and without making the lock file or the landing store beside it."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest


@pytest.mark.integration
def test_a_nightly_flow_refuses_a_non_duckdb_file_without_retrying(
    prefect_harness: str, tmp_path: Path
) -> None:
    from flows.nightly import nightly
    from warehouse.connection import WarehouseRefused

    inbox = tmp_path / "inbox"
    (inbox / "claims").mkdir(parents=True)
    db = tmp_path / "dbs" / "noise.duckdb"
    db.parent.mkdir()
    noise = bytes(range(256)) * 64
    db.write_bytes(noise)
    started = time.monotonic()
    with pytest.raises(WarehouseRefused) as refused:
        nightly(
            inbox=inbox, db=db, reports=tmp_path / "reports", as_of=date(2026, 11, 15),
            store=tmp_path / "store", lock_wait=60,
        )  # fmt: skip
    elapsed = time.monotonic() - started
    assert str(refused.value) == (
        f"warehouse {db} is not a DuckDB database (it does not start with a DuckDB header); "
        "recoup will not open it: give --db recoup's warehouse file, or a new path to start one"
    )
    assert elapsed < 35, elapsed  # the ingest task's two retries alone wait 35 s
    assert db.read_bytes() == noise
    assert sorted(p.name for p in db.parent.iterdir()) == ["noise.duckdb"]  # no .lock
    assert not (tmp_path / "store").exists() and not (tmp_path / "reports").exists()
