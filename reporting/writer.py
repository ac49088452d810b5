"""Write a run's report folder: exposure.json, findings.csv, findings.parquet and index.html (and,
for a backfill with the payer's sample, audit.json, audit.csv and audit.html).

The files are written into a hidden sibling folder that is then swapped into place whole
(``reporting.files.replacing_folder``): a reader, or a run killed while writing, sees the whole
previous folder or the whole new one, never a mix of runs nor a folder without its exposure.json.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from reporting import disputes, reserve
from reporting.changes import NightChanges, compare, write_changes_csv
from reporting.evidence import add_evidence
from reporting.exposure import details_from_tables, summary_from_tables
from reporting.extracts import write_findings_csv, write_findings_parquet
from reporting.files import replacing_folder, write_text
from reporting.html import render_html
from reporting.json_report import to_json
from reporting.queries import scoped_tables
from reporting.rulebook import RuleBook
from reporting.scope import Scope
from reporting.work import names, work_by_action


@dataclass
class ReportPaths:
    """Where the report went, and what it said (for the run's summary and Prefect artifacts)."""

    folder: Path
    exposure_json: Path
    findings_csv: Path
    findings_parquet: Path
    index_html: Path
    summary: dict[str, Any] = field(repr=False, default_factory=dict)
    # a nightly's comparison with the previous stored night (changes.csv; None for a backfill)
    night: NightChanges | None = field(repr=False, default=None)
    top_lines: list[dict[str, Any]] = field(repr=False, default_factory=list)
    audit: dict[str, Any] | None = field(repr=False, default=None)


def write_reports(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    as_of: date,
    scope: Scope,
    skipped: dict[str, str],
    rules: RuleBook,
    pseudonym_key: bytes | None = None,
    audit: bool = False,
    data_docs: Path | None = None,
) -> ReportPaths:
    """Write the four report files of ``scope`` (and with ``audit``, the audit files of its
    ``claim_ids``, ``reporting.audit``) as the folder ``out_dir``, replacing it whole; with
    ``pseudonym_key``, findings carry pseudonyms instead of member ids (``--deidentify``).

    Needs the mart built and the rules run for ``as_of`` (else ``ReportInputsStale``); works on
    a read-only connection unless ``audit``. Rerunning on the same warehouse rewrites identical
    bytes. ``out_dir`` must be missing or hold only report files (else ``NotAReportFolder``).
    """
    out_dir = Path(out_dir)
    with replacing_folder(out_dir) as staging:
        paths = _write_files(
            con, staging, as_of=as_of, scope=scope, skipped=skipped, rules=rules,
            pseudonym_key=pseudonym_key,
            data_docs=_relative(data_docs or _recorded_data_docs(con, scope), out_dir),
        )  # fmt: skip
        if audit:
            from reporting.audit import write_audit

            paths.audit = write_audit(con, staging, scope=scope, as_of=as_of, rules=rules).audit
    written = _paths_in(out_dir)
    written.summary, written.top_lines, written.audit = paths.summary, paths.top_lines, paths.audit
    written.night = paths.night
    return written


def _paths_in(folder: Path) -> ReportPaths:
    return ReportPaths(
        folder=folder,
        exposure_json=folder / "exposure.json",
        findings_csv=folder / "findings.csv",
        findings_parquet=folder / "findings.parquet",
        index_html=folder / "index.html",
    )


def _write_files(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    as_of: date,
    scope: Scope,
    skipped: dict[str, str],
    rules: RuleBook,
    pseudonym_key: bytes | None,
    data_docs: str | None = None,
) -> ReportPaths:
    paths = _paths_in(out_dir)
    with scoped_tables(con, scope, as_of, rules.thresholds, rules.actions):
        summary = summary_from_tables(
            con, as_of=as_of, scope=scope, skipped=skipped, rule_ids=rules.ids,
            actions=rules.action_names,
        )  # fmt: skip
        details = details_from_tables(con, rules)
        details.work = work_by_action(con, rules, summary["by_action"])
        details.payer_names, details.provider_names = names(con)
        add_evidence(con, details.top_lines)  # the page's evidence blocks (issue 14, item 3)
        night = None
        if scope.kind == "nightly":  # since last night: changes.csv and the top of the page
            open_now = Decimal(str(summary["totals"]["open_exposure"])).quantize(Decimal("0.01"))
            night = compare(con, as_of, open_now)
            write_changes_csv(out_dir / "changes.csv", night)
        write_findings_parquet(con, paths.findings_parquet, pseudonym_key=pseudonym_key)
        write_findings_csv(con, paths.findings_csv, pseudonym_key=pseudonym_key)
        # takebacks to dispute (issue 12): disputes.csv, disputes/<claim>/, a page section
        takebacks = disputes.assess(con, as_of=as_of, thresholds=rules.thresholds)
        disputes.write_disputes(con, out_dir, takebacks, as_of=as_of, pseudonym_key=pseudonym_key)
        # expected recoupments (issue 12 item 3, docs/reserve.md): a page section
        expected = reserve.expected_recoupments(disputes.flagged_lines(con), takebacks, as_of)
    prevention = None
    if scope.kind == "nightly":  # reverify.csv and providers/ (reporting/prevention.py)
        from reporting.prevention import write_prevention

        prevention = write_prevention(
            con, out_dir, as_of=as_of, thresholds=rules.thresholds, pseudonym_key=pseudonym_key,
            provider_names=details.provider_names,
        )  # fmt: skip
    write_text(
        paths.index_html,
        render_html(
            summary,
            details,
            rules.titles,
            prevention,
            night=night,
            data_docs=data_docs,
            disputes=disputes.section(takebacks),
            reserve=expected,
        ),
    )
    write_text(paths.exposure_json, to_json(summary))
    paths.summary = summary
    paths.top_lines = details.top_lines
    paths.night = night
    return paths


def _recorded_data_docs(con: duckdb.DuckDBPyConnection, scope: Scope) -> Path | None:
    """The Data Docs the last nightly built or pointed to (``mart.reuse_state.docs_index``,
    flows/incremental.py), for a nightly page, when they are still there: the nightly, a rerun
    and ``recoup report`` link to the same Docs (issue 14, item 3)."""
    if scope.kind != "nightly":
        return None
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'mart' AND table_name = 'reuse_state'"
    ).fetchone()
    if not found or not found[0]:
        return None
    row = con.execute("SELECT docs_index FROM mart.reuse_state").fetchone()
    docs = Path(row[0]) if row and row[0] else None
    return docs if docs is not None and docs.is_file() else None


def _relative(target: Path | None, folder: Path) -> str | None:
    """``target`` as a link from a page in ``folder`` (relative: the reports move together)."""
    return None if target is None else os.path.relpath(target, folder)
