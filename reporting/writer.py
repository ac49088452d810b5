"""Write a run's report folder: exposure.json, findings.csv, findings.parquet and index.html.

Each file is written beside its final name and renamed into place, exposure.json last: a reader
sees a whole previous file or a whole new one, never half of one, and a folder whose
exposure.json is new has its other files new too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from reporting.exposure import details_from_tables, summary_from_tables
from reporting.extracts import write_findings_csv, write_findings_parquet
from reporting.files import write_text
from reporting.html import render_html
from reporting.json_report import to_json
from reporting.queries import scoped_tables
from reporting.rulebook import RuleBook
from reporting.scope import Scope


@dataclass
class ReportPaths:
    """Where the report went, and what it said (for the run's summary and Prefect artifacts)."""

    folder: Path
    exposure_json: Path
    findings_csv: Path
    findings_parquet: Path
    index_html: Path
    summary: dict[str, Any] = field(repr=False, default_factory=dict)
    top_lines: list[dict[str, Any]] = field(repr=False, default_factory=list)


def write_reports(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    as_of: date,
    scope: Scope,
    skipped: dict[str, str],
    rules: RuleBook,
    pseudonym_key: bytes | None = None,
) -> ReportPaths:
    """Write the four report files of ``scope`` into ``out_dir`` (created when missing); with
    ``pseudonym_key``, findings carry pseudonyms instead of member ids (``--deidentify``).

    Needs the mart built and the rules run for ``as_of`` (else ``ReportInputsStale``); works on
    a read-only connection. Rerunning on the same warehouse rewrites identical bytes.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(
        folder=out_dir,
        exposure_json=out_dir / "exposure.json",
        findings_csv=out_dir / "findings.csv",
        findings_parquet=out_dir / "findings.parquet",
        index_html=out_dir / "index.html",
    )
    with scoped_tables(con, scope, as_of, rules.thresholds):
        summary = summary_from_tables(
            con, as_of=as_of, scope=scope, skipped=skipped, rule_ids=rules.ids
        )
        details = details_from_tables(con, rules)
        write_findings_parquet(con, paths.findings_parquet, pseudonym_key=pseudonym_key)
        write_findings_csv(con, paths.findings_csv, pseudonym_key=pseudonym_key)
    write_text(paths.index_html, render_html(summary, details, rules.titles))
    write_text(paths.exposure_json, to_json(summary))
    paths.summary = summary
    paths.top_lines = details.top_lines
    return paths
