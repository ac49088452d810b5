"""The nightly's prevention outputs: what to do before the payer acts.

* ``reverify.csv``: clients seen (date of service) or billed (837 date) in the last
  ``reverify.recent_days`` days whose latest eligibility response for the billed payer is older
  than the payer's threshold (``reverify.days``, per payer ``reverify.payer_days``), missing, or
  shows a change: a termination (an inactive statement with no active coverage on the as-of
  date, or active coverage that ends within the window ahead), a new payer (the member's latest
  response is from another payer), a plan change (plan description or insurance type differs
  from the previous response). Only responses with a coverage statement (active or inactive)
  count as checks: benefit details alone (EB*U/V) do not reset the check date. Ordered by money
  at stake: the charges of the client's claim lines in the window.
* ``providers/<npi>.html``: one small self-contained page per rendering provider with open
  findings, written as a note a billing lead can forward: the findings documentation can still
  cure (note unsigned or missing, minutes missing, late signature) and those it cannot, each with
  claim, date, what to do and dollars. Member ids only (pseudonyms with ``--deidentify``); no
  other provider's data.

The sessions feed carries no future appointments (SPEC: one row per claim), so "seen" looks back
only; the 14 days ahead apply once a feed carries appointments.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from reporting import deidentify
from reporting.cells import escape_cell
from reporting.files import write_text

REVERIFY_COLUMNS = (
    "member_id",
    "payer_id",
    "last_seen",
    "last_billed",
    "lines",
    "at_stake",
    "last_check",
    "days_since_check",
    "threshold_days",
    "reasons",
    "what_to_do",
)

# the rules whose findings a note can still cure; every other rule's cannot
CURABLE = (
    "documentation.note_missing",
    "documentation.time_missing",
    "documentation.late_signature",
)
WHAT_TO_DO = {
    "documentation.note_missing": "sign the note, or write it if it is missing",
    "documentation.time_missing": "add the session's start and end times to the note",
    "documentation.late_signature": "keep a dated late-entry explanation with the note",
    "coding.time_unsupported": "send a corrected claim with the code the minutes support",
    "coding.multiple_timed_codes": "send a corrected claim with one code for the day's minutes",
    "coding.units_over_limit": "send a corrected claim with one unit",
    "coding.addon_without_primary": (
        "send a corrected claim with the primary service, or void the add-on"
    ),
    "coding.high_level_outlier": (
        "review your 90837 sessions: the note must show 53 minutes or more"
    ),
    "necessity.no_step_down": "document why the 60-minute session is still needed",
    "telehealth.modifier_missing": "send a corrected claim with the telehealth modifier (95)",
    "coverage.lapsed": "tell the billing lead: the payer will ask for this payment back",
    "coverage.unverified": "ask the front desk to verify eligibility before the next session",
    "billing.duplicate": "tell the billing lead: refund the second payment",
}

_REVERIFY_SQL = """
WITH recent AS (
    SELECT member_id, payer_id,
           max(date_of_service) FILTER (WHERE date_of_service > $as_of - $recent AND
                                              date_of_service <= $as_of) AS last_seen,
           max(submitted_date) FILTER (WHERE submitted_date > $as_of - $recent AND
                                             submitted_date <= $as_of) AS last_billed,
           count(*) AS lines,
           sum(charge) AS at_stake
    FROM mart.claim_lines
    WHERE member_id IS NOT NULL AND payer_id IS NOT NULL
      AND ((date_of_service > $as_of - $recent AND date_of_service <= $as_of)
        OR (submitted_date > $as_of - $recent AND submitted_date <= $as_of))
    GROUP BY member_id, payer_id
),
-- only responses that speak about coverage (an active or inactive statement) are checks: an
-- answer with benefit details only (EB*U/V) does not reset the check date
coverage_checks AS (
    SELECT c.*,
           row_number() OVER (PARTITION BY member_id, payer_id ORDER BY response_order)
               AS check_order
    FROM mart.eligibility_checks AS c
    WHERE c.speaks_about_coverage
),
checks AS (
    SELECT c.*, max(check_order) OVER (PARTITION BY member_id, payer_id) AS last_order
    FROM coverage_checks AS c
),
plans AS (
    SELECT b.file_sha256, b.response_id,
           array_to_string(list_sort(list(DISTINCT concat_ws(' ', b.insurance_type,
                                                             b.plan_description))
               FILTER (WHERE b.insurance_type IS NOT NULL OR b.plan_description IS NOT NULL)),
               '; ') AS plan,
           bool_or(b.coverage_status = 'inactive') AS inactive,
           -- an active span covering the as-of date (an EB*6 beside it is a past plan period)
           coalesce(bool_or(b.covers_as_of), false) AS active_now,
           CASE
               WHEN bool_or(b.covers_as_of AND b.coverage_end IS NULL) THEN NULL
               WHEN bool_or(b.covers_as_of) THEN max(b.coverage_end) FILTER (WHERE b.covers_as_of)
               ELSE min(b.coverage_end) FILTER (WHERE b.coverage_status = 'active')
           END AS active_end,
           max(b.coverage_end) FILTER (WHERE b.coverage_status = 'inactive') AS inactive_end
    FROM (
        SELECT *,
               coverage_status = 'active' AND coalesce(coverage_begin <= $as_of, true)
                   AND coalesce(coverage_end >= $as_of, true) AS covers_as_of
        FROM stg.eligibility_benefits
    ) AS b
    GROUP BY ALL
),
latest AS (
    SELECT c.member_id, c.payer_id, c.check_date, p.plan, p.inactive, p.active_now, p.active_end,
           p.inactive_end
    FROM checks AS c
    LEFT JOIN plans AS p USING (file_sha256, response_id)
    WHERE c.check_order = c.last_order
),
previous AS (
    SELECT c.member_id, c.payer_id, p.plan
    FROM checks AS c
    LEFT JOIN plans AS p USING (file_sha256, response_id)
    WHERE c.check_order = c.last_order - 1
),
newest_any AS (
    SELECT member_id, arg_max(payer_id, check_date) AS payer_id, max(check_date) AS check_date
    FROM coverage_checks
    GROUP BY member_id
)
SELECT r.member_id, r.payer_id, r.last_seen, r.last_billed, r.lines, r.at_stake,
       l.check_date, l.inactive, l.active_now, l.active_end, l.inactive_end, l.plan,
       pv.plan AS previous_plan,
       n.payer_id AS newest_payer, n.check_date AS newest_check
FROM recent AS r
LEFT JOIN latest AS l USING (member_id, payer_id)
LEFT JOIN previous AS pv USING (member_id, payer_id)
LEFT JOIN newest_any AS n USING (member_id)
"""


@dataclass
class Prevention:
    """What the prevention outputs hold, for the main page's section."""

    reverify_rows: list[dict[str, Any]] = field(default_factory=list)
    providers: list[dict[str, Any]] = field(default_factory=list)  # npi, lines, open exposure


def reverify_rows(
    con: duckdb.DuckDBPyConnection, as_of: date, thresholds: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The re-verification list (module docstring), ordered by money at stake."""
    recent = int(thresholds.get("reverify.recent_days", 30))
    default_days = int(thresholds.get("reverify.days", 30))
    per_payer = dict(thresholds.get("reverify.payer_days", {}) or {})
    cursor = con.execute(_REVERIFY_SQL, {"as_of": as_of, "recent": recent})
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        r = dict(zip(names, values, strict=True))
        limit = int(per_payer.get(r["payer_id"], default_days))
        reasons = []
        days = (as_of - r["check_date"]).days if r["check_date"] else None
        if r["check_date"] is None:
            reasons.append(f"no eligibility response from {r['payer_id']}")
        elif days is not None and days > limit:
            reasons.append(f"last checked {r['check_date']}, {days} days ago (over {limit})")
        if r["inactive"] and not r["active_now"]:
            ended = r["inactive_end"] or r["check_date"]
            reasons.append(
                f"termination: the 271 of {r['check_date']} shows coverage ended {ended}"
            )
        elif r["active_end"] is not None and r["active_end"] <= as_of + timedelta(days=recent):
            reasons.append(
                f"termination: the 271 of {r['check_date']} ends coverage {r['active_end']}"
            )
        if (
            r["newest_payer"] is not None
            and r["newest_payer"] != r["payer_id"]
            and (r["check_date"] is None or r["newest_check"] > r["check_date"])
        ):
            reasons.append(
                f"new payer: the latest 271 ({r['newest_check']}) is from {r['newest_payer']}"
            )
        if r["plan"] and r["previous_plan"] and r["plan"] != r["previous_plan"]:
            reasons.append(f"plan change: {r['previous_plan']} -> {r['plan']}")
        if not reasons:
            continue
        rows.append(
            {
                "member_id": r["member_id"],
                "payer_id": r["payer_id"],
                "last_seen": r["last_seen"],
                "last_billed": r["last_billed"],
                "lines": int(r["lines"]),
                "at_stake": Decimal(r["at_stake"] or 0),
                "last_check": r["check_date"],
                "days_since_check": days,
                "threshold_days": limit,
                "reasons": "; ".join(reasons),
                "what_to_do": "verify eligibility (270/271) before the next session is billed",
            }
        )
    rows.sort(key=lambda row: (-row["at_stake"], row["payer_id"], row["member_id"]))
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return escape_cell(str(value))


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REVERIFY_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[name]) for name in REVERIFY_COLUMNS])
    return buffer.getvalue()


_PROVIDER_SQL = """
SELECT f.rendering_npi, f.claim_key, f.claim_id, f.line_number, f.date_of_service, f.code,
       f.member_id, f.rule, f.exposure, l.exposure AS line_exposure
FROM mart.findings AS f
JOIN mart.line_exposure AS l USING (claim_key, line_number)
WHERE NOT f.time_barred AND NOT l.time_barred AND f.rendering_npi IS NOT NULL
ORDER BY f.rendering_npi, f.date_of_service, f.claim_id, f.claim_key, f.line_number, f.rule
"""


def provider_findings(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    """Open (not time-barred) findings by rendering NPI."""
    cursor = con.execute(_PROVIDER_SQL)
    names = [d[0] for d in cursor.description]
    by_npi: dict[str, list[dict[str, Any]]] = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        by_npi.setdefault(row["rendering_npi"], []).append(row)
    return by_npi


def page_name(npi: str) -> str:
    """The page's file name stem: the NPI, any character but letters, digits, - and _ as _."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", npi) or "_"


def _member(member_id: str | None, key: bytes | None) -> str:
    if member_id is None:
        return ""
    return deidentify.pseudonym(key, member_id) if key else member_id


def provider_page(
    npi: str,
    rows: list[dict[str, Any]],
    as_of: date,
    key: bytes | None = None,
    name: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The page of one provider and its counts (lines at stake, their capped exposure); ``name``:
    the provider's name from the 837s (reporting/work.py ``names``), shown with the NPI."""
    from reporting.html import environment

    lines: dict[tuple[str, int], Decimal] = {}
    for row in rows:
        # claim_key, not CLM01: two claims may share a CLM01 and a line number
        lines[(row["claim_key"], row["line_number"])] = Decimal(row["line_exposure"])
    at_stake = {k: v for k, v in lines.items() if v > 0}
    total = sum(at_stake.values(), Decimal(0))

    def item(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "claim_id": row["claim_id"],
            "line_number": row["line_number"],
            "date_of_service": row["date_of_service"].isoformat(),
            "code": row["code"],
            "member_id": _member(row["member_id"], key),
            "rule": row["rule"],
            "what_to_do": WHAT_TO_DO.get(row["rule"], "tell the billing lead"),
            "exposure": Decimal(row["exposure"]),
        }

    curable = [item(r) for r in rows if r["rule"] in CURABLE]
    not_curable = [item(r) for r in rows if r["rule"] not in CURABLE]
    counts = {
        "npi": npi,
        "sessions": len(at_stake),
        "at_stake": total,
        "curable": len(curable),
        "not_curable": len(not_curable),
        "page": f"providers/{page_name(npi)}.html",
    }
    html = (
        environment()
        .get_template("provider.html.j2")
        .render(
            npi=npi,
            provider_name=name,
            as_of=as_of.isoformat(),
            counts=counts,
            curable=curable,
            not_curable=not_curable,
        )
    )
    return html, counts


def write_prevention(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    *,
    as_of: date,
    thresholds: Mapping[str, Any],
    pseudonym_key: bytes | None = None,
    provider_names: Mapping[str, str] | None = None,
) -> Prevention:
    """Write ``reverify.csv`` and ``providers/<npi>.html`` into the report ``folder``;
    ``provider_names``: NPI -> name, for the pages' titles and greetings."""
    result = Prevention()
    rows = reverify_rows(con, as_of, thresholds)
    shown = [{**row, "member_id": _member(row["member_id"], pseudonym_key)} for row in rows]
    write_text(folder / "reverify.csv", _csv(shown))
    result.reverify_rows = shown
    pages = folder / "providers"
    pages.mkdir(exist_ok=True)
    for npi, found in sorted(provider_findings(con).items()):
        name = (provider_names or {}).get(npi)
        html, counts = provider_page(npi, found, as_of, pseudonym_key, name)
        write_text(pages / f"{page_name(npi)}.html", html)
        result.providers.append(counts)
    result.providers.sort(key=lambda c: (-c["at_stake"], c["npi"]))
    return result
