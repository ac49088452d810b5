"""What a nightly can reuse from the last one (docs/decisions.md, "A nightly that costs what
changed").

Three fingerprints, each a SHA-256 over everything its step reads, recorded in ``mart.reuse_state``
(one row) when the step last ran:

* ``build``: the marts and findings. The as-of date; the rules configuration (every key but
  ``gx.always_build_docs``) and the MUE file it may name; the code and shipped data that define
  marts and rules (``marts/``, ``expectations/``, ``data/reference/``, ``warehouse/``,
  the extra rule folders of ``RECOUP_EXTRA_RULES``); and the content of every table they read
  (``stg.*``, ``ref.*`` after the reference rebuild, ``ledger.files``, ``ledger.rejected_parts``;
  not the code lists run_rules writes from the configuration and ``data/reference``). Reused
  only when it is equal, the marts are still the build recorded (``mart.build_info.built_at``: a
  backfill or any other build since makes it differ) and ``mart.findings`` still holds what that
  build wrote.
* ``rules suite``: the findings' content, the as-of date, the skip reasons and the build
  fingerprint's code and configuration (the checks are one per rule plus the guards on
  findings): the GX rules suite runs again only when one of them changed.
* ``staging suite``: the content of ``stg.*``, ``ref.*`` and the ledger, and the code of
  ``loading/`` (the structural checks): the GX staging suite runs again only when one changed.

Anything not covered means "recompute": a table's content is hashed (count, sum and xor of each
row's 64-bit hash), never assumed. A run with another ``--reports`` folder that reuses the GX
results points to the Data Docs where they were last built (``gx.always_build_docs`` builds them
under its own folder).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows import tasks

ROOT = Path(__file__).resolve().parents[1]
STATE_TABLE = "mart.reuse_state"
DOCS_KEY = "gx.always_build_docs"
DOCS_INDEX = Path("uncommitted/data_docs/local_site/index.html")
# What the marts and rules are made of (code, SQL, shipped thresholds and reference data).
BUILD_SOURCES = ("marts", "expectations", "data/reference", "warehouse")
STAGING_SOURCES = ("loading", "warehouse")
LEDGER_TABLES = ("ledger.files", "ledger.rejected_parts")
# Written by run_rules from the configuration and data/reference alone (both in the definition
# digest), so left out of the data digest: they hold the previous run's lists until run_rules.
CODE_LIST_TABLES = ("ref.timed_codes", "ref.addon_primaries", "ref.unit_limits", "ref.telehealth")


@dataclass
class ReuseState:
    """The row of ``mart.reuse_state``: what the last run computed and from what."""

    build_digest: str | None = None
    built_at: datetime | None = None
    findings_digest: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    rules_digest: str | None = None
    rules_result: dict[str, Any] = field(default_factory=dict)
    staging_digest: str | None = None
    staging_result: dict[str, Any] = field(default_factory=dict)
    gx_root: str | None = None
    docs_index: str | None = None


_COLUMNS = (
    "build_digest VARCHAR, built_at TIMESTAMP, findings_digest VARCHAR, counts VARCHAR, "
    "skipped VARCHAR, rules_digest VARCHAR, rules_result VARCHAR, staging_digest VARCHAR, "
    "staging_result VARCHAR, gx_root VARCHAR, docs_index VARCHAR"
)
_JSON = ("counts", "skipped", "rules_result", "staging_result")


def read_state(con: duckdb.DuckDBPyConnection) -> ReuseState:
    """The recorded state (empty when no nightly recorded one)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'mart' AND table_name = 'reuse_state'"
    ).fetchone()
    if not exists or not exists[0]:
        return ReuseState()
    cursor = con.execute(f"SELECT * FROM {STATE_TABLE}")
    row = cursor.fetchone()
    if row is None:
        return ReuseState()
    values = dict(zip([d[0] for d in cursor.description], row, strict=True))
    for name in _JSON:
        values[name] = json.loads(values[name]) if values[name] else {}
    return ReuseState(**values)


def write_state(con: duckdb.DuckDBPyConnection, state: ReuseState) -> None:
    """Replace the recorded state with ``state`` (one transaction)."""
    values = dict(state.__dict__)
    for name in _JSON:
        values[name] = json.dumps(values[name], sort_keys=True)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} ({_COLUMNS})")
        con.execute(f"DELETE FROM {STATE_TABLE}")
        names = list(values)
        con.execute(
            f"INSERT INTO {STATE_TABLE} ({', '.join(names)}) VALUES "
            f"({', '.join('?' for _ in names)})",
            [values[name] for name in names],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _sha(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _files_digest(paths: list[Path]) -> str:
    """SHA-256 over the names and bytes of every file under ``paths`` (caches left out)."""
    digest = hashlib.sha256()
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path).encode() + b"\x00")
            digest.update(path.read_bytes())
            digest.update(b"\x00")
    return digest.hexdigest()


def table_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Rows, and sum and xor of each row's hash: equal for equal content, in any order."""
    row = con.execute(
        f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0), coalesce(bit_xor(hash(t)), 0) "
        f"FROM {table} AS t"
    ).fetchone()
    return f"{table}:{row}"


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[str]:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN (SELECT unnest(?)) AND table_type = 'BASE TABLE' ORDER BY 1",
        [list(schemas)],
    ).fetchall()
    return [name for (name,) in rows]


def data_digest(con: duckdb.DuckDBPyConnection) -> str:
    """The content of everything marts, rules and the structural checks read from the
    warehouse: staging, reference and the ledger."""
    tables = [t for t in _tables(con, ("stg", "ref")) if t not in CODE_LIST_TABLES]
    return _sha(*(table_digest(con, t) for t in [*tables, *LEDGER_TABLES]))


def _extra_rule_folders() -> list[Path]:
    from expectations.catalog import EXTRA_RULES_ENV

    return [Path(f) for f in os.environ.get(EXTRA_RULES_ENV, "").split(os.pathsep) if f]


def _config_items(config: Any) -> list[tuple[str, str]]:
    return sorted((key, repr(config[key])) for key in config if key != DOCS_KEY)


def definition_digest(config: Any) -> str:
    """The code, shipped data and configuration that define the marts and rules (what a
    fingerprint holds besides the warehouse's content and the as-of date)."""
    mue = str(config["unit_limits.mue_file"] or "")
    sources = [ROOT / name for name in BUILD_SOURCES] + _extra_rule_folders()
    if mue:
        sources.append(Path(mue))
    existing = [path for path in sources if path.exists()]
    return _sha(
        "definition", _config_items(config), [str(p) for p in sources], _files_digest(existing)
    )


def build_digest(as_of: date, definition: str, data: str) -> str:
    """The fingerprint of the marts and findings for ``as_of`` (the module docstring)."""
    return _sha("build", as_of.isoformat(), definition, data)


def built_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    from marts.build import built_as_of

    if built_as_of(con) is None:
        return None
    row = con.execute("SELECT built_at FROM mart.build_info").fetchone()
    return row[0] if row else None


@dataclass
class Plan:
    """What this run recomputes and what it reuses, decided before any of it runs."""

    state: ReuseState
    data: str
    definition: str
    build: str
    reuse_build: bool
    reuse_results: bool = True  # False: run both GX suites whatever changed

    @property
    def reused(self) -> list[str]:
        return ["marts", "rules"] if self.reuse_build else []


@task(name="plan-reuse", cache_policy=NO_CACHE)
def plan(
    db: Path,
    as_of: date,
    lock_wait: float,
    overrides: dict[str, object] | None,
    reuse: bool = True,
) -> Plan:
    """Fingerprint today's inputs and compare them with the recorded ones (``reuse`` False:
    plan to recompute everything)."""
    from expectations.config import load_config
    from marts.build import built_as_of

    config = load_config(overrides)
    with tasks.open_warehouse(db, wait_seconds=lock_wait) as con:
        state = read_state(con)
        data = data_digest(con)
        definition = definition_digest(config)
        build = build_digest(as_of, definition, data)
        reuse_build = (
            reuse
            and state.build_digest == build
            and built_as_of(con) == as_of
            and state.built_at is not None
            and built_at(con) == state.built_at
            and state.findings_digest == table_digest(con, "mart.findings")
        )
    return Plan(
        state=state,
        data=data,
        definition=definition,
        build=build,
        reuse_build=reuse_build,
        reuse_results=reuse,
    )


@task(name="record-build", cache_policy=NO_CACHE)
def record_build(db: Path, plan: Plan, evaluation: tasks.Evaluation, lock_wait: float) -> None:
    """Record what evaluate_rules just built (the marts' build time and the findings' digest)."""
    with tasks.open_warehouse(db, wait_seconds=lock_wait) as con:
        state = read_state(con)
        state.build_digest = plan.build
        state.built_at = built_at(con)
        state.findings_digest = table_digest(con, "mart.findings")
        state.counts = dict(evaluation.counts)
        state.skipped = dict(evaluation.skipped)
        write_state(con, state)


def outcome_digest(checks: list[Any]) -> str:
    """What a suite's run concluded: each check's name, status, unexpected count and error
    (not its samples, its run time or its description)."""
    return _sha(
        "outcome", sorted((c.name, c.status, c.unexpected_count, c.error or "") for c in checks)
    )


@task(name="validate-with-great-expectations", cache_policy=NO_CACHE)
def validate(
    db: Path,
    as_of: date,
    gx_root: Path,
    lock_wait: float,
    overrides: dict[str, object] | None,
    plan: Plan,
) -> tasks.Validation:
    """The GX suites whose inputs changed since they last ran (both when Data Docs are asked
    for with ``gx.always_build_docs``). A suite that ran rebuilds the Data Docs only when its
    outcome (``outcome_digest``) differs from its last run's, when the Docs last built are not
    under ``gx_root``, or when they are asked for. Otherwise the results are those recorded and
    ``docs_index`` the Data Docs last built, wherever they are (None when none are left)."""
    from expectations.catalog import skipped_rules
    from expectations.config import load_config
    from expectations.suites import validate_rules, validate_staging

    config = load_config(overrides)
    with tasks.open_warehouse(db, wait_seconds=lock_wait) as con:
        state = read_state(con)  # as record_build left it (task arguments are copies)
        findings = table_digest(con, "mart.findings")
        whole, reasons = skipped_rules(con, config, as_of)
        rules_key = _sha(
            "rules", as_of.isoformat(), plan.definition, findings, sorted(whole),
            sorted(reasons.items()),
        )  # fmt: skip
        staging_key = _sha("staging", plan.data, _files_digest([ROOT / s for s in STAGING_SOURCES]))
        asked = bool(config[DOCS_KEY])
        force = not plan.reuse_results or asked
        run_rules_suite = force or not state.rules_result or state.rules_digest != rules_key
        run_staging_suite = force or not state.staging_result or state.staging_digest != staging_key
        keep = config["gx.keep_runs"]
        here = str((gx_root / DOCS_INDEX).resolve())
        built: list[str] = []

        def docs_when(last: dict[str, Any], suite: str) -> Any:
            def decide(checks: list[Any]) -> bool:
                wanted = (
                    asked
                    or state.docs_index != here
                    or not Path(here).is_file()
                    or last.get("outcome") != outcome_digest(checks)
                )
                if wanted:
                    built.append(suite)
                return wanted

            return decide

        if run_rules_suite:
            rules = validate_rules(
                con, db, as_of, config, gx_root=gx_root, build_docs=True,
                docs_when=docs_when(state.rules_result, "rules"),
            )  # fmt: skip
            state.rules_result = {
                "rules_found": [c.name for c in rules.failures],
                "rules_not_run": [f"{c.name}: {c.error}" for c in rules.errors],
                "guards_ok": rules.guards_ok,
                "unexpected_errors": rules.unexpected_errors,
                "outcome": outcome_digest(rules.checks),
            }
            state.rules_digest = rules_key
            if rules.docs_index is not None:
                state.docs_index = str(rules.docs_index)
        if run_staging_suite:
            staging = validate_staging(
                con, db, gx_root=gx_root, build_docs=True, keep_runs=keep,
                docs_when=docs_when(state.staging_result, "staging"),
            )  # fmt: skip
            state.staging_result = {
                "errors": [c.name for c in staging.errors],
                "warnings": {c.name: c.unexpected_count or 0 for c in staging.failures},
                "outcome": outcome_digest(staging.checks),
            }
            state.staging_digest = staging_key
            if staging.docs_index is not None:
                state.docs_index = str(staging.docs_index)
        if built:
            state.gx_root = str(gx_root.resolve())
        write_state(con, state)
    rules_result, staging_result = state.rules_result, state.staging_result
    reused = [
        step
        for step, ran in (("gx-rules", run_rules_suite), ("gx-staging", run_staging_suite))
        if not ran
    ]
    docs = Path(state.docs_index) if state.docs_index else None
    return tasks.Validation(
        rules_found=list(rules_result["rules_found"]),
        rules_not_run=list(rules_result["rules_not_run"]),
        guards_ok=bool(rules_result["guards_ok"]),
        unexpected_errors=list(rules_result["unexpected_errors"]) + list(staging_result["errors"]),
        staging_warnings=dict(staging_result["warnings"]),
        docs_index=docs if docs is not None and docs.is_file() else None,
        docs_built=bool(built),
        reused=reused,
    )
