"""Defaults every command shares, and the Prefect environment recoup runs under.

Prefect reads its settings from the environment when it is first imported, so ``prepare_prefect``
must run before ``import prefect``. Without ``PREFECT_API_URL`` Prefect starts a temporary local
server in each process (about 15 s, STACK.md); with it, runs go to that server.
"""

from __future__ import annotations

import os
from pathlib import Path

# The default paths, relative to recoup's home: RECOUP_HOME when set, else the current folder
# (``default_path``; README "Where recoup keeps its files").
DEFAULT_DB = Path("data/recoup.duckdb")
DEFAULT_INBOX = Path("data/inbox")
DEFAULT_REPORTS = Path("reports")
HOME_VARIABLE = "RECOUP_HOME"
DEFAULT_LOCK_WAIT_SECONDS = 60.0
# How long a process waits for Prefect's temporary API server to answer. Prefect's default (20 s)
# is less than the server takes to start on a loaded 2-core machine (benchmarks/busy.py measures
# it): a nightly run must not fail because a backup ran at the same time. Prefect polls /health
# every 0.1 s, so a server that starts fast is used at once; the long wait only costs time when
# the server cannot start at all. PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS in the
# environment wins.
DEFAULT_SERVER_STARTUP_SECONDS = 900


def home() -> Path | None:
    """The folder the default paths resolve under, when RECOUP_HOME names one."""
    value = os.environ.get(HOME_VARIABLE)
    return Path(value).expanduser() if value else None


def default_path(relative: Path) -> Path:
    """One of the default paths under RECOUP_HOME, else relative to the current folder."""
    root = home()
    return root / relative if root is not None else relative


def store_for(db: Path) -> Path:
    """Landing and quarantine live beside the warehouse file."""
    return db.resolve().parent


def patient_startup() -> None:
    """Wait as long as a busy machine needs for Prefect's temporary server (the caller's
    environment wins). Runs when the ``flows`` package is imported, so before Prefect reads its
    settings in any recoup process."""
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(DEFAULT_SERVER_STARTUP_SECONDS)
    )


def prepare_prefect() -> None:
    """Quiet, offline-friendly Prefect defaults (the caller's environment wins)."""
    patient_startup()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    if server_url() is None:
        # the temporary server this process may start must not outlive it (a SIGKILL gives
        # Prefect no exit to stop it at)
        from flows import temporary_server

        temporary_server.install()


# Deployments (served by `recoup serve`, or deployed to a work pool from deployments/prefect.yaml:
# the same names, so `recoup backfill` finds either).
NIGHTLY_FLOW = "recoup-nightly"
BACKFILL_FLOW = "recoup-backfill"
REPORT_FLOW = "recoup-report"  # `recoup report`: not deployed, run in the calling process
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
