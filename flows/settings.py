"""Defaults every command shares, and the Prefect environment recoup runs under.

Prefect reads its settings from the environment when it is first imported, so ``prepare_prefect``
must run before ``import prefect``. Without ``PREFECT_API_URL`` Prefect starts a temporary local
server in each process (about 15 s, STACK.md); with it, runs go to that server.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = Path("data/recoup.duckdb")
DEFAULT_INBOX = Path("data/inbox")
DEFAULT_REPORTS = Path("reports")
DEFAULT_LOCK_WAIT_SECONDS = 60.0


def store_for(db: Path) -> Path:
    """Landing and quarantine live beside the warehouse file."""
    return db.resolve().parent


def prepare_prefect() -> None:
    """Quiet, offline-friendly Prefect defaults (the caller's environment wins)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")


# Deployments (served by `recoup serve`, or deployed to a work pool from deployments/prefect.yaml:
# the same names, so `recoup backfill` finds either).
NIGHTLY_FLOW = "recoup-nightly"
BACKFILL_FLOW = "recoup-backfill"
NIGHTLY_DEPLOYMENT = f"{NIGHTLY_FLOW}/nightly"
BACKFILL_DEPLOYMENT = f"{BACKFILL_FLOW}/backfill"
DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "America/New_York"
# The Prefect global concurrency limit every run that writes the warehouse occupies (limit 1).
WAREHOUSE_LIMIT = "recoup-warehouse"


def server_url() -> str | None:
    """The Prefect server runs report to, when one is configured (else each process starts a
    temporary one)."""
    return os.environ.get("PREFECT_API_URL") or None
