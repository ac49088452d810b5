"""The worklist of a report: the open findings grouped by what to do about them (the action their
rule names), the groups by money then deadline, and within a group the findings by money then
``act_by`` (the last day the payer can still recoup the payment). Read from ``report_work``
(``sql/work_tables.sql``) inside ``scoped_tables``; the page's "Work by action" shows it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import duckdb

from reporting.json_report import money
from reporting.queries import rows
from reporting.rulebook import RuleBook

ITEMS_SHOWN = 25  # per action on the page; findings.csv has every one


def work_by_action(
    con: duckdb.DuckDBPyConnection,
    rules: RuleBook,
    by_action: Mapping[str, Mapping[str, Any]],
    limit: int = ITEMS_SHOWN,
) -> list[dict[str, Any]]:
    """One group per action with open findings (``by_action`` of exposure.json gives the
    counts, sums and first deadlines), largest exposure first, then the earliest deadline; each
    with its first ``limit`` findings (claim, payer and provider with their names, rule, reason,
    exposure, act_by) and how many more findings.csv holds."""
    items: dict[str, list[dict[str, Any]]] = {}
    for row in rows(con, "work_items", {"limit": limit}):
        evidence = json.loads(row["evidence"]) if row["evidence"] else {}
        items.setdefault(row["action"], []).append(
            {
                "claim_id": row["claim_id"],
                "line_number": row["line_number"],
                "date_of_service": row["date_of_service"].isoformat(),
                "code": row["code"],
                "rule": row["rule"],
                "rule_title": rules.title(row["rule"]),
                "reason": rules.explain(row["rule"], evidence),
                "payer_id": row["payer_id"],
                "payer_name": row["payer_name"],
                "rendering_npi": row["rendering_npi"],
                "provider_name": row["provider_name"],
                "exposure": money(row["exposure"]),
                "act_by": row["act_by"].isoformat() if row["act_by"] else None,
            }
        )
    groups = [
        {
            "action": action,
            "findings": body["findings"],
            "exposure": body["exposure"],
            "first_act_by": body["first_act_by"],
            "items": items.get(action, []),
            "more": body["findings"] - len(items.get(action, [])),
        }
        for action, body in by_action.items()
        if body["findings"]
    ]
    # money first, then the nearest deadline (ISO dates sort as text), then the action's words
    groups.sort(key=lambda g: (-g["exposure"], g["first_act_by"] or "9999-12-31", g["action"]))
    return groups


def names(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str], dict[str, str]]:
    """(payer id -> name, NPI -> provider name) for the report's lines, where the feeds or
    payers.csv give one."""
    payers = {row["payer_id"]: row["payer_name"] for row in rows(con, "payer_names")}
    providers = {row["npi"]: row["provider_name"] for row in rows(con, "provider_names")}
    return payers, providers
