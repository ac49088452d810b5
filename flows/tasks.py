"""Coarse Prefect tasks: each opens the warehouse by path (connections do not hash for caching)
and calls plain functions from ``loading``, ``marts``, ``expectations`` and ``reporting``; no
business logic lives here.

Retries are declared where I/O can fail transiently (reading the inbox, writing reports); the
steps that only compute inside DuckDB fail fast, since a retry would compute the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE

import reporting as report_writer
from flows import progress
from loading import ingest, reference, stopping
from reporting import ReportPaths, Scope
from warehouse import connection


@contextmanager
def open_warehouse(db: Path, **options: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse, with SIGTERM and SIGINT stopping the run while a task uses it: Prefect puts
    its own SIGTERM handler in place during a flow, whose exception DuckDB would turn into "Query
    interrupted" (loading/stopping.py)."""
    with stopping.stop_on_signals(), connection.open_warehouse(db, **options) as con:
        yield con


def _retry_unless_stopped(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a transient failure, never a fault of the machine or a bug, which stop the run."""
    return not isinstance(state.data, stopping.EnvironmentFault | stopping.UnexpectedError)


@dataclass
class Evaluation:
    """What the rules produced for an as-of date (counts per rule, skipped rules and why)."""

    as_of: date
    counts: dict[str, int]
    skipped: dict[str, str]


@dataclass
class Validation:
    """GX outcome of the rules suite (a rule with findings "finds rows"; skipped rules are
    errored with their reason) and of the staging suite (structural warnings over all files)."""

    rules_found: list[str]
    rules_not_run: list[str]
    guards_ok: bool
    unexpected_errors: list[str]
    staging_warnings: dict[str, int]
    docs_index: Path | None  # the newest Data Docs (of this run when docs_built), None: never built
    docs_built: bool = True  # whether this run (re)built them
    reused: list[str] = field(default_factory=list)  # suites not run again: "gx-rules", ...


@task(
    name="ingest-inbox",
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=_retry_unless_stopped,
    cache_policy=NO_CACHE,
)
def ingest_inbox(
    inbox: Path, db: Path, store: Path, run_id: str, lock_wait: float
) -> ingest.IngestReport:
    """Load every new inbox file (idempotent: the ledger skips what is already in)."""
    with open_warehouse(db, wait_seconds=lock_wait) as con:
        return ingest.ingest_inbox(con, inbox, store, run_id, on_file=_progress)


def _progress(done: int, total: int, outcome: ingest.FileOutcome) -> None:
    progress.file_done(done, total, outcome.status, f"{outcome.feed}/{outcome.path.name}")


@task(name="rebuild-reference", cache_policy=NO_CACHE)
def rebuild_reference(db: Path, lock_wait: float) -> dict[str, int]:
    """Refresh ref.* from the shipped defaults and the inbox's overrides."""
    with open_warehouse(db, wait_seconds=lock_wait) as con:
        con.execute("BEGIN TRANSACTION")
        counts = reference.rebuild(con)
        con.execute("COMMIT")
        return counts


@task(name="build-marts-and-findings", cache_policy=NO_CACHE)
def evaluate_rules(
    db: Path,
    as_of: date,
    lock_wait: float,
    overrides: dict[str, object] | None = None,
    incremental: bool = False,
) -> Evaluation:
    """Rebuild the marts for ``as_of`` (``incremental``: the claims that changed since the last
    build, when it can vouch for the rest) and run every rule into mart.findings."""
    from expectations.catalog import run_rules
    from expectations.config import load_config

    with open_warehouse(db, wait_seconds=lock_wait) as con:
        _build(con, as_of, incremental)
        result = run_rules(con, as_of, load_config(overrides))
    return Evaluation(as_of=as_of, counts=dict(result.counts), skipped=dict(result.skipped))


def _build(con: Any, as_of: date, incremental: bool) -> dict[str, int]:
    from marts.build import build_models

    counts = build_models(con, as_of, incremental=incremental)
    if incremental:
        progress.note(
            f"marts: rebuilt the claims that changed ({counts.changed})"
            if counts.changed is not None
            else "marts: rebuilt whole (the last build cannot vouch for the unchanged claims)"
        )
    return dict(counts)


@task(name="build-marts", cache_policy=NO_CACHE)
def build_marts(
    db: Path, as_of: date, lock_wait: float, incremental: bool = False
) -> dict[str, int]:
    """Rebuild every mart model for ``as_of`` (one transaction; ``incremental``: the claims
    that changed, as ``evaluate_rules``)."""
    with open_warehouse(db, wait_seconds=lock_wait) as con:
        return _build(con, as_of, incremental)


@task(
    name="evaluate-partition",
    task_run_name="evaluate-partition-{month:%Y-%m}",
    cache_policy=NO_CACHE,
)
def evaluate_partition(
    db: Path, as_of: date, month: date, lock_wait: float, overrides: dict[str, object] | None
) -> Evaluation:
    """Replace one service month's findings with today's rules on the marts built for ``as_of``
    (one transaction: the month's earlier findings or its new ones, never a mix)."""
    return _evaluate_months(db, as_of, [month], lock_wait, overrides)


@task(name="evaluate-outside-window", cache_policy=NO_CACHE)
def evaluate_outside_window(
    db: Path, as_of: date, window: list[date], lock_wait: float, overrides: dict[str, object] | None
) -> Evaluation:
    """Re-evaluate the service months outside the backfill window on the same marts, so no finding
    of another as-of date or another net paid is left in the warehouse."""
    from marts.partitions import months_outside

    with open_warehouse(db, wait_seconds=lock_wait) as con:
        months = months_outside(con, window)
    if not months:
        return Evaluation(as_of=as_of, counts={}, skipped={})
    return _evaluate_months(db, as_of, months, lock_wait, overrides)


@task(name="read-marts-as-of", cache_policy=NO_CACHE)
def marts_as_of(db: Path, lock_wait: float, read_only: bool = False) -> date | None:
    """The as-of date the marts were last built for (None: never built)."""
    from marts.build import built_as_of

    with open_warehouse(db, read_only=read_only, wait_seconds=lock_wait) as con:
        return built_as_of(con)


@task(name="find-stale-months", cache_policy=NO_CACHE)
def stale_months(db: Path, as_of: date, months: list[date], lock_wait: float) -> list[date]:
    """Those of ``months`` holding a finding computed for another as-of date or another net paid
    than the marts' (another run rebuilt the marts after the month was evaluated)."""
    from marts.partitions import stale_months as find_stale_months

    if not months:
        return []
    with open_warehouse(db, wait_seconds=lock_wait) as con:
        return find_stale_months(con, as_of, months)


@task(name="read-skipped-rules", cache_policy=NO_CACHE)
def rules_skipped(
    db: Path,
    as_of: date,
    lock_wait: float,
    overrides: dict[str, object] | None,
    read_only: bool = False,
) -> dict[str, str]:
    """The rules skipped (wholly or partly) on the marts built for ``as_of``, and why: what
    ``run_rules`` reports, without evaluating anything."""
    from expectations.catalog import active_rules, skipped_rules
    from expectations.config import load_config

    with open_warehouse(db, read_only=read_only, wait_seconds=lock_wait) as con:
        _, reasons = skipped_rules(con, load_config(overrides), as_of)
    return {rule.id: reasons[rule.id] for rule in active_rules() if rule.id in reasons}


def _evaluate_months(
    db: Path, as_of: date, months: list[date], lock_wait: float, overrides: dict[str, object] | None
) -> Evaluation:
    from expectations.catalog import run_rules
    from expectations.config import load_config

    with open_warehouse(db, wait_seconds=lock_wait) as con:
        result = run_rules(con, as_of, load_config(overrides), service_months=months)
    return Evaluation(as_of=as_of, counts=dict(result.counts), skipped=dict(result.skipped))


@task(name="validate-with-great-expectations", cache_policy=NO_CACHE)
def validate(
    db: Path, as_of: date, gx_root: Path, lock_wait: float, overrides: dict[str, object] | None
) -> Validation:
    """Run the GX suites (one check per rule plus mart guards; structural checks over staging)
    and build Data Docs; each suite keeps its newest ``gx.keep_runs`` runs under ``gx_root``."""
    from expectations.config import load_config
    from expectations.suites import validate_rules, validate_staging

    config = load_config(overrides)
    with open_warehouse(db, wait_seconds=lock_wait) as con:
        rules = validate_rules(con, db, as_of, config, gx_root=gx_root, build_docs=False)
        staging = validate_staging(
            con, db, gx_root=gx_root, build_docs=True, keep_runs=config["gx.keep_runs"]
        )
    return Validation(
        rules_found=[c.name for c in rules.failures],
        rules_not_run=[f"{c.name}: {c.error}" for c in rules.errors],
        guards_ok=rules.guards_ok,
        unexpected_errors=rules.unexpected_errors + [c.name for c in staging.errors],
        staging_warnings={c.name: c.unexpected_count or 0 for c in staging.failures},
        docs_index=staging.docs_index,
    )


@task(name="write-reports", retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE)
def write_reports(
    db: Path,
    out_dir: Path,
    as_of: date,
    scope: Scope,
    skipped: dict[str, str],
    lock_wait: float,
    overrides: dict[str, object] | None = None,
    read_only: bool = False,
    deidentify: bool = False,
    audit: bool = False,
) -> ReportPaths:
    """Write exposure.json, findings.csv/.parquet and index.html for the scope, with the run's
    thresholds (``overrides`` on defaults.toml, as the rules had them), as one folder swapped
    into place whole; with ``audit`` (a backfill's claim sample) audit.json, audit.csv,
    audit.html and the ``audit`` key of exposure.json go into the same folder. ``deidentify``:
    member ids become pseudonyms keyed by RECOUP_DEIDENTIFY_KEY, read here (never a parameter)."""
    from expectations.config import load_config
    from flows.handover import report_rules
    from reporting.deidentify import key_from_environment

    rules = report_rules(load_config(overrides))
    key = key_from_environment() if deidentify else None
    with open_warehouse(db, read_only=read_only, wait_seconds=lock_wait) as con:
        return report_writer.write_reports(
            con, out_dir, as_of=as_of, scope=scope, skipped=skipped, rules=rules,
            pseudonym_key=key, audit=audit,
        )  # fmt: skip


@task(name="summarise-report", cache_policy=NO_CACHE)
def summarise_report(
    db: Path,
    as_of: date,
    scope: Scope,
    skipped: dict[str, str],
    lock_wait: float,
    overrides: dict[str, object] | None = None,
    read_only: bool = False,
) -> dict:
    """What exposure.json would hold for the scope, writing no file (``recoup report --format
    json``)."""
    from expectations.config import load_config
    from flows.handover import report_rules

    rules = report_rules(load_config(overrides))
    with open_warehouse(db, read_only=read_only, wait_seconds=lock_wait) as con:
        return report_writer.build_summary(
            con, as_of=as_of, scope=scope, skipped=skipped, rules=rules
        )


@task(name="publish-artifacts", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def publish_artifacts(summary: dict, top_lines: list[dict], key_prefix: str) -> dict[str, str]:
    """The run's markdown summary and top-findings table, under stable keys."""
    return report_writer.publish_artifacts(summary, top_lines, key_prefix=key_prefix)


@task(name="count-rows", cache_policy=NO_CACHE)
def count_rows(db: Path, lock_wait: float) -> dict[str, int]:
    with open_warehouse(db, wait_seconds=lock_wait) as con:
        return ingest.table_counts(con)


@task(name="store-night", cache_policy=NO_CACHE)
def store_night(
    db: Path, as_of: date, totals: dict[str, Any], lock_wait: float,
    overrides: dict[str, object] | None = None,
) -> int:  # fmt: skip
    """Store this nightly's open findings and open exposure in ``history.*`` (replacing the
    night's rows: a rerun changes nothing), for the next nightly's "Since last night"
    (``reporting.changes``). Called after the report is written: the report compares with the
    nights before ``as_of`` only, so a run killed between the two writes the same report again."""
    from expectations.config import load_config
    from reporting.changes import store_night as store
    from reporting.queries import scoped_tables

    with (
        open_warehouse(db, wait_seconds=lock_wait) as con,
        scoped_tables(con, Scope.nightly(), as_of, load_config(overrides)),
    ):
        return store(con, as_of, totals)
