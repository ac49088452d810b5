"""The evidence block of each claim line the page lists first (issue 14, item 3): the findings
with the values that made each rule fire, the 271 statements about the member and payer, the EHR
session row and the 835 payments, so a reader goes from a number to why, with no other tool.

The page carries no member id, name, birth date or address (``--deidentify`` has nothing to do
on it): evidence keys naming a member are left out, and the queries select none."""

from __future__ import annotations

import json
import re
from typing import Any

import duckdb

from reporting import sqlfiles
from reporting.json_report import money
from reporting.queries import rows

ELIGIBILITY_SHOWN = 8  # per line, newest first
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def anchor(claim_key: str, line_number: int) -> str:
    """The id of a line's evidence block: stable across nights (claim key and line), made of
    characters any URL fragment keeps as they are."""
    return f"evidence-{_UNSAFE.sub('_', claim_key)}-{line_number}"


def _shown(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (key.replace("_", " "), "–" if value is None else str(value))
        for key, value in evidence.items()
        if "member" not in key  # the page carries no member id
    ]


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "–"
    return str(value)


def add_evidence(con: duckdb.DuckDBPyConnection, top_lines: list[dict[str, Any]]) -> None:
    """Give each of ``top_lines`` (``reporting.exposure.top_lines_from_tables``) its ``anchor``
    and ``evidence``: findings with their evidence values, 271 statements, session row and
    payments. Needs the temporary tables of ``scoped_tables``."""
    keys = [f"{line['claim_key']}#{line['line_number']}" for line in top_lines]
    if not keys:
        return
    params = {"line_keys": keys}
    by_key: dict[str, dict[str, list[Any]]] = {
        key: {"findings": [], "eligibility": [], "sessions": [], "payments": []} for key in keys
    }
    for finding in rows(con, "line_findings", params):
        evidence = json.loads(finding["evidence"]) if finding["evidence"] else {}
        key = f"{finding['claim_key']}#{finding['line_number']}"
        by_key[key]["findings"].append(
            {"rule": finding["rule"], "exposure": money(finding["exposure"]),
             "values": _shown(evidence)}
        )  # fmt: skip
    for row in sqlfiles.run(con, "evidence.sql", "eligibility", params):
        shown = by_key[row["line_key"]]["eligibility"]
        if len(shown) < ELIGIBILITY_SHOWN:
            shown.append({name: _text(value) for name, value in row.items() if name != "line_key"})
    for row in sqlfiles.run(con, "evidence.sql", "sessions", params):
        by_key[row["line_key"]]["sessions"].append(
            {name: _text(value) for name, value in row.items() if name != "line_key"}
        )
    for row in sqlfiles.run(con, "evidence.sql", "payments", params):
        by_key[row["line_key"]]["payments"].append(
            {
                **{name: _text(value) for name, value in row.items() if name != "line_key"},
                "amount": money(row["amount"]),
            }
        )
    for line, key in zip(top_lines, keys, strict=True):
        line["anchor"] = anchor(line["claim_key"], line["line_number"])
        line["evidence"] = by_key[key]
