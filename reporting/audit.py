"""Audit mode of a backfill: what recoup can show for each claim in a payer's audit sample, and what
the payer could demand if it extrapolated the sample to the whole audit window.

* ``audit_claims`` reads, for every audited claim id, its lines in the window, their findings, the
  documentation on file (minutes, signature) and the eligibility responses dated within 30 days of
  the dates of service, and gives a plain verdict (``VERDICTS``);
* ``reporting.extrapolation.estimate``: the stratified estimator of DOMAIN.md section 7
  (``docs/audit.md`` has the formulas and a worked example): frame = paid claims in the window,
  strata = paid-amount bands, y = the audited claim's open exposure;
* ``write_audit`` writes ``audit.json``, ``audit.csv`` and ``audit.html`` into a backfill's report
  folder and adds the ``audit`` key to its ``exposure.json``.

Everything reads the marts and findings built for the same as-of date (the backfill's), and
writes bytes that depend only on them: rerunning gives identical files.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from marts.templating import render_sql
from reporting.cells import escape_cell
from reporting.extrapolation import DEFAULT_BOUNDS, estimate, stratum_index
from reporting.files import write_text
from reporting.json_report import money, to_json
from reporting.queries import define_window_lines
from reporting.rulebook import RuleBook
from reporting.scope import Scope

TEMPLATES = Path(__file__).parent / "templates"

ELIGIBILITY_DAYS = 30

VERDICTS = {
    "supported": "no finding on any of its lines in the window",
    "at_risk": "findings, but no open exposure: warnings only (exposure 0) or exposure the "
    "payer can no longer recoup (time-barred)",
    "unsupported": "open exposure above 0: a finding the payer can still recoup",
    "not_found": "no current claim line with this id in the window (unknown id, voided claim, "
    "another payer, or services outside the window)",
}

AUDIT_CSV_COLUMNS = (
    "claim_id",
    "verdict",
    "in_frame",
    "stratum",
    "payer_id",
    "dates_of_service",
    "codes",
    "net_paid",
    "open_exposure",
    "time_barred_exposure",
    "rules",
    "minutes",
    "note_signed_at",
    "eligibility_checks",
)


def read_claim_ids(path: Path) -> list[str]:
    """Claim ids from an audit sample file: a CSV with a ``claim_id`` column, or plain text with one
    id per line (the first comma-separated field; blank lines and ``#`` comments ignored).
    Sorted and unique. Raises ValueError when the file holds no id."""
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if "claim_id" in header:
        column = header.index("claim_id")
        values = [row[column] for row in rows[1:] if len(row) > column]
    else:
        values = [row[0] for row in rows if row and not row[0].lstrip().startswith("#")]
    ids = sorted({value.strip() for value in values if value.strip()})
    if not ids:
        raise ValueError(f"{path}: no claim id found (a claim_id column, or one id per line)")
    return ids


# ---- per audited claim --------------------------------------------------------------------------

# The audit window's lines (reporting/sql/window_lines.sql, the report's own definition).
_WINDOW_LINES = """
SELECT
    claim_key,
    claim_id,
    line_number,
    payer_id,
    member_id,
    date_of_service,
    code,
    coalesce(net_paid, 0) AS net_paid,
    open_exposure,
    time_barred_exposure,
    findings
FROM window_lines({{ start }}, {{ end }}, {{ payer_id }})
"""

_FRAME = f"""
SELECT claim_id, CAST(sum(net_paid) AS DECIMAL(18,2)) AS net_paid,
       CAST(sum(open_exposure) AS DECIMAL(18,2)) AS open_exposure
FROM ({_WINDOW_LINES}) AS w
GROUP BY claim_id
HAVING sum(net_paid) > 0
ORDER BY claim_id
"""

_AUDITED_LINES = f"""
SELECT w.*, s.minutes, s.note_signed_at
FROM ({_WINDOW_LINES}) AS w
LEFT JOIN mart.sessions_by_line AS s USING (claim_key, line_number)
WHERE list_contains({{{{ claim_ids }}}}, w.claim_id)
ORDER BY w.claim_id, w.date_of_service, w.claim_key, w.line_number
"""

_AUDITED_FINDINGS = f"""
SELECT f.claim_key, f.claim_id, f.line_number, f.rule, f.exposure, f.time_barred, f.evidence
FROM mart.findings AS f
SEMI JOIN ({_WINDOW_LINES}) AS w USING (claim_key, line_number)
WHERE list_contains({{{{ claim_ids }}}}, f.claim_id)
ORDER BY f.claim_id, f.line_number, f.rule
"""

# Eligibility responses known at as_of for the claim's member and payer, dated within
# ELIGIBILITY_DAYS of one of its dates of service, with the coverage statuses they gave.
_AUDITED_ELIGIBILITY = f"""
WITH audited AS (
    SELECT claim_id, any_value(member_id) AS member_id, any_value(payer_id) AS payer_id,
           min(date_of_service) AS first_service, max(date_of_service) AS last_service
    FROM ({_WINDOW_LINES}) AS w
    WHERE list_contains({{{{ claim_ids }}}}, claim_id)
    GROUP BY claim_id
)
SELECT
    a.claim_id,
    c.check_date,
    list_sort(list(DISTINCT b.coverage_status) FILTER (WHERE b.coverage_status IS NOT NULL))
        AS statuses
FROM audited AS a
JOIN mart.eligibility_checks AS c ON c.member_id = a.member_id AND c.payer_id = a.payer_id
LEFT JOIN stg.eligibility_benefits AS b
    ON b.file_sha256 = c.file_sha256 AND b.response_id = c.response_id
WHERE c.check_date BETWEEN a.first_service - {{{{ days }}}} AND a.last_service + {{{{ days }}}}
GROUP BY a.claim_id, c.check_date, c.file_sha256, c.response_id
ORDER BY a.claim_id, c.check_date, c.file_sha256, c.response_id
"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict]:
    define_window_lines(con)
    result = con.execute(render_sql(sql, params))
    columns = [column[0] for column in result.description or []]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def _params(scope: Scope, claim_ids: Sequence[str]) -> dict[str, Any]:
    return {
        "start": scope.start,
        "end": scope.end,
        "payer_id": scope.payer_id,
        "claim_ids": list(claim_ids),
        "days": ELIGIBILITY_DAYS,
    }


def verdict(lines: Sequence[Mapping[str, Any]]) -> str:
    """The claim's verdict from its lines in the window (``VERDICTS`` says what each means)."""
    if not lines:
        return "not_found"
    if sum((Decimal(line["open_exposure"]) for line in lines), Decimal(0)) > 0:
        return "unsupported"
    if any(line["findings"] for line in lines):
        return "at_risk"
    return "supported"


def audit_claims(
    con: duckdb.DuckDBPyConnection, scope: Scope, claim_ids: Sequence[str], rules: RuleBook
) -> list[dict[str, Any]]:
    """One entry per audited claim id (sorted), with its lines, findings, documentation,
    eligibility responses around the dates of service and verdict."""
    params = _params(scope, claim_ids)
    lines = _rows(con, _AUDITED_LINES, params)
    findings = _rows(con, _AUDITED_FINDINGS, params)
    checks = _rows(con, _AUDITED_ELIGIBILITY, params)
    claims: list[dict[str, Any]] = []
    for claim_id in sorted(set(claim_ids)):
        own = [line for line in lines if line["claim_id"] == claim_id]
        entry_lines = []
        for line in own:
            signed = line["note_signed_at"]
            entry_lines.append(
                {
                    "line_number": line["line_number"],
                    "date_of_service": line["date_of_service"].isoformat(),
                    "code": line["code"],
                    "net_paid": money(line["net_paid"]),
                    "open_exposure": money(line["open_exposure"]),
                    "time_barred_exposure": money(line["time_barred_exposure"]),
                    "minutes": line["minutes"],
                    "note_signed_at": signed.isoformat() if signed is not None else None,
                    "days_to_signature": (
                        (signed.date() - line["date_of_service"]).days
                        if signed is not None
                        else None
                    ),
                    "findings": [
                        {
                            "rule": f["rule"],
                            "exposure": money(f["exposure"]),
                            "time_barred": bool(f["time_barred"]),
                            "reason": rules.explain(
                                f["rule"], json.loads(f["evidence"]) if f["evidence"] else {}
                            ),
                        }
                        for f in findings
                        if f["claim_key"] == line["claim_key"]
                        and f["line_number"] == line["line_number"]
                    ],
                }
            )
        dates = [line["date_of_service"] for line in own]
        claims.append(
            {
                "claim_id": claim_id,
                "verdict": verdict(own),
                "payer_id": own[0]["payer_id"] if own else None,
                "dates_of_service": sorted({d.isoformat() for d in dates}),
                "net_paid": money(sum((line["net_paid"] for line in own), Decimal(0))),
                "open_exposure": money(sum((line["open_exposure"] for line in own), Decimal(0))),
                "time_barred_exposure": money(
                    sum((line["time_barred_exposure"] for line in own), Decimal(0))
                ),
                "lines": entry_lines,
                "eligibility_checks": [
                    {
                        "check_date": check["check_date"].isoformat(),
                        "days_from_service": min(
                            ((check["check_date"] - d).days for d in dates), key=abs
                        ),
                        "statuses": list(check["statuses"] or []),
                    }
                    for check in checks
                    if check["claim_id"] == claim_id
                ],
            }
        )
    return claims


def build_audit(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    as_of: date,
    *,
    rules: RuleBook,
    bounds: Sequence[Decimal] = DEFAULT_BOUNDS,
) -> dict[str, Any]:
    """The audit.json dict for a backfill scope with claim ids (JSON-ready)."""
    if scope.start is None or scope.end is None or scope.claim_ids is None:
        raise ValueError("an audit needs a backfill scope with a window and claim ids")
    claims = audit_claims(con, scope, scope.claim_ids, rules)
    frame_rows = _rows(con, _FRAME, _params(scope, scope.claim_ids))
    frame = {row["claim_id"]: Decimal(row["net_paid"]) for row in frame_rows}
    sample = {
        claim["claim_id"]: Decimal(str(claim["open_exposure"]))
        for claim in claims
        if claim["claim_id"] in frame
    }
    result = estimate(frame, sample, bounds)
    for claim in claims:
        in_frame = claim["claim_id"] in frame
        claim["in_frame"] = in_frame
        claim["stratum"] = (
            result.strata[stratum_index(frame[claim["claim_id"]], bounds)].name
            if in_frame
            else None
        )
    verdicts = {name: 0 for name in VERDICTS}
    for claim in claims:
        verdicts[claim["verdict"]] += 1
    return {
        "as_of": as_of.isoformat(),
        "scope": scope.to_json(),
        "audited_claims": len(claims),
        "verdicts": verdicts,
        "verdict_definitions": VERDICTS,
        "sample": {
            "claims_in_frame": len(sample),
            "claims_not_in_frame": sorted(c["claim_id"] for c in claims if not c["in_frame"]),
            "overpayment": money(sum(sample.values(), Decimal(0))),
            "claims_with_overpayment": sum(1 for y in sample.values() if y > 0),
        },
        "frame": {
            "definition": "claims with net paid above 0 on their lines in the window"
            + (f" billed to {scope.payer_id}" if scope.payer_id else ""),
            "claims": len(frame),
            "net_paid": money(sum(frame.values(), Decimal(0))),
            "open_exposure_found": money(
                sum((Decimal(row["open_exposure"]) for row in frame_rows), Decimal(0))
            ),
        },
        "estimate": result.to_json(),
        "claims": claims,
    }


# ---- files --------------------------------------------------------------------------------------


@dataclass
class AuditPaths:
    audit_json: Path
    audit_csv: Path
    audit_html: Path
    audit: dict[str, Any] = field(repr=False, default_factory=dict)


def audit_csv_text(audit: Mapping[str, Any]) -> str:
    """audit.csv: one row per audited claim (documentation and eligibility flattened; text cells
    from the feeds escaped for spreadsheets, reporting/cells.py)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(AUDIT_CSV_COLUMNS)
    for claim in audit["claims"]:
        lines = claim["lines"]
        writer.writerow(
            [
                escape_cell(claim["claim_id"]),
                claim["verdict"],
                "true" if claim["in_frame"] else "false",
                escape_cell(claim["stratum"] or ""),
                escape_cell(claim["payer_id"] or ""),
                " ".join(claim["dates_of_service"]),
                escape_cell(" ".join(line["code"] or "" for line in lines)),
                f"{claim['net_paid']:.2f}",
                f"{claim['open_exposure']:.2f}",
                f"{claim['time_barred_exposure']:.2f}",
                " ".join(sorted({f["rule"] for line in lines for f in line["findings"]})),
                " ".join("" if line["minutes"] is None else str(line["minutes"]) for line in lines),
                " ".join(line["note_signed_at"] or "none" for line in lines),
                "; ".join(
                    f"{check['check_date']} {'/'.join(check['statuses']) or 'no coverage status'}"
                    for check in claim["eligibility_checks"]
                ),
            ]
        )
    return buffer.getvalue()


def render_audit_html(audit: Mapping[str, Any]) -> str:
    from reporting.html import environment

    return environment(TEMPLATES).get_template("audit.html.j2").render(audit=audit)


def exposure_section(audit: Mapping[str, Any]) -> dict[str, Any]:
    """The ``audit`` key added to exposure.json: verdict counts, sample, frame and estimate."""
    keys = ("audited_claims", "verdicts", "sample", "frame", "estimate")
    return {key: audit[key] for key in keys}


def write_audit(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    scope: Scope,
    as_of: date,
    rules: RuleBook,
    bounds: Sequence[Decimal] = DEFAULT_BOUNDS,
) -> AuditPaths:
    """Write audit.json, audit.csv and audit.html into ``out_dir`` (a backfill report folder already
    written by ``reporting.write_reports``) and add ``audit`` to its exposure.json.
    Each file is replaced atomically; exposure.json is rewritten last."""
    audit = build_audit(con, scope, as_of, rules=rules, bounds=bounds)
    paths = AuditPaths(out_dir / "audit.json", out_dir / "audit.csv", out_dir / "audit.html", audit)
    write_text(paths.audit_csv, audit_csv_text(audit))
    write_text(paths.audit_html, render_audit_html(audit))
    write_text(paths.audit_json, to_json(audit))
    exposure_path = out_dir / "exposure.json"
    summary = json.loads(exposure_path.read_text(encoding="utf-8"))
    summary["audit"] = exposure_section(audit)
    write_text(exposure_path, to_json(summary))
    return paths
