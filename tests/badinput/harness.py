"""Load an inbox the way ``recoup run`` does, in-process and without Prefect: ``ingest_inbox``,
the reference rebuild, the marts, the rules and the exposure.json summary."""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from demo.generator import generate
from expectations.catalog import RULE_IDS, run_rules
from expectations.config import load_config
from flows.handover import report_rules
from loading import reference
from loading.ingest import IngestReport, ingest_inbox, table_counts
from marts.build import build_models
from reporting import Scope, build_summary
from tests.badinput.cases import Case, demo_file
from warehouse.connection import open_warehouse

AS_OF = date(2026, 11, 15)
SEED, CLAIMS = 11, 20
FEEDS = ("claims", "eligibility", "remittances", "sessions", "reference")


@dataclass
class Run:
    report: IngestReport
    counts: dict[str, int]  # rows per staging table
    summary: dict[str, Any]  # exposure.json
    ledger: list[tuple[Any, ...]]  # (file_name, status, error) of every file
    store: Path


def demo_inbox(out: Path) -> Path:
    """The clean inbox: the demo for a fixed seed, 20 claims (about 40 files)."""
    generate(out, rules=RULE_IDS, seed=SEED, claims=CLAIMS, as_of=AS_OF)
    for extra in ("answer_key.csv", "manifest.json"):
        (out / extra).unlink()
    shutil.rmtree(out / ".work", ignore_errors=True)
    return out


def copy_inbox(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def copy_warehouse(source: Path, target: Path) -> Path:
    """A copy of a loaded run's warehouse and store (landing, quarantine) under ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "recoup.duckdb", target / "recoup.duckdb")
    if (source / "store").exists():
        shutil.copytree(source / "store", target / "store")
    return target


def load(inbox: Path, work: Path) -> Run:
    """Run ``inbox`` into the warehouse under ``work`` (made when absent); files the warehouse
    already holds are skipped, as in any run."""
    store = work / "store"
    with open_warehouse(work / "recoup.duckdb") as con:
        report = ingest_inbox(con, inbox, store, "corpus")
        counts = table_counts(con, ("stg",))
        con.execute("BEGIN TRANSACTION")
        reference.rebuild(con)  # ref.* from the shipped defaults and the inbox's overrides
        con.execute("COMMIT")
        build_models(con, AS_OF)
        result = run_rules(con, AS_OF, load_config())
        summary = build_summary(
            con, as_of=AS_OF, scope=Scope.nightly(), skipped=result.skipped, rules=report_rules()
        )
        ledger = con.execute(
            "SELECT file_name, status, error FROM ledger.files ORDER BY feed, file_name"
        ).fetchall()
    return Run(report, counts, summary, ledger, store)


def place(case: Case, inbox: Path, clean_inbox: Path) -> Path:
    """Write the case's file (derived from the clean inbox) into ``inbox``; returns its path."""
    target = demo_file(inbox, case.path) if case.replaces else inbox / case.path
    data = case.content(clean_inbox)
    target.parent.mkdir(parents=True, exist_ok=True)
    if case.symlink:
        outside = inbox.parent / "outside" / target.name
        outside.parent.mkdir(parents=True, exist_ok=True)
        outside.write_bytes(data)
        target.symlink_to(outside)
        return target
    target.write_bytes(data)
    return target


def expected_summary(clean: dict[str, Any], deltas: dict[str, float]) -> dict[str, Any]:
    summary = copy.deepcopy(clean)
    for dotted, delta in deltas.items():
        *parents, leaf = dotted.split(".")
        node = summary
        for key in parents:
            node = node[key]
        node[leaf] = round(node[leaf] + delta, 2)
    return summary
