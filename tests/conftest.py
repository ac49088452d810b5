"""Shared fixtures: a fresh, migrated warehouse per test; the demo warehouse and one Prefect API
per session for the orchestration tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

import flows  # noqa: F401  (first: sets the patient Prefect start-up default before Prefect loads)
from warehouse.connection import open_warehouse

# How long a test waits for a server or subprocess before calling it hung: generous, because a
# loaded CI machine is many times slower than an idle one; a healthy run never waits this long.
PATIENT = 900

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
X12_SAMPLES = Path(os.environ.get("RECOUP_X12_SAMPLES", SHARED / "x12-samples"))
# the public conformance corpus (tests/loading/test_x12_public_corpus.py): public data files,
# kept in shared/, never in this repository; tests/fixtures/x12/public-sources.md lists them
X12_PUBLIC = Path(os.environ.get("RECOUP_X12_PUBLIC", SHARED / "x12-public"))


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with open_warehouse(tmp_path / "recoup.duckdb") as con:
        yield con


# ---- orchestration (flows, backfill, audit, serve) --------------------------------------------

DEMO_AS_OF = date(2026, 11, 15)
DEMO_CLAIMS = 300


@dataclass(frozen=True)
class DemoWarehouse:
    """The demo inbox (300 claims) loaded once per session into a template warehouse; tests copy
    the file (``copy_to``) instead of loading it again (about 15 s)."""

    inbox: Path
    template: Path

    def copy_to(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "recoup.duckdb"
        shutil.copyfile(self.template, db)
        return db


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DemoWarehouse:
    from demo.generator import generate
    from expectations.catalog import RULE_IDS
    from loading import ingest, reference

    root = tmp_path_factory.mktemp("demo")
    inbox = root / "inbox"
    generate(inbox, rules=RULE_IDS, seed=7, claims=DEMO_CLAIMS, as_of=DEMO_AS_OF)
    db = root / "template" / "recoup.duckdb"
    with open_warehouse(db) as con:
        report = ingest.ingest_inbox(con, inbox, db.parent, "fixture")
        assert not report.by_status("rejected")
        con.execute("BEGIN TRANSACTION")
        reference.rebuild(con)
        con.execute("COMMIT")
    return DemoWarehouse(inbox=inbox, template=db)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[str]:
    """One temporary Prefect API for the whole session (about 18 s to start, STACK.md); yields
    its URL, which subprocesses can use as PREFECT_API_URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # offline: no telemetry
    # None: wait PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (recoup's patient default, set
    # when `flows` is imported), not the harness's own 30 s, which a loaded CI machine exceeds.
    with prefect_test_harness(server_startup_timeout=None):
        yield str(PREFECT_API_URL.value())
