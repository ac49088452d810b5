"""The run's Prefect artifacts: a markdown summary and a table of the lines to fix first, under
stable keys (``<prefix>-summary``, ``<prefix>-top-findings``) so the UI shows their history run
after run. The table carries claim ids, never member ids, names or birth dates.

Prefect is imported inside the function: building or reading a report needs no Prefect.
"""

from __future__ import annotations

import re
from typing import Any

from warehouse.money import dollars

TOP_FINDINGS_SHOWN = 25
_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TABLE_COLUMNS = (
    "claim_id",
    "line_number",
    "payer_id",
    "rendering_npi",
    "date_of_service",
    "code",
    "rules",
    "open_exposure",
)


def summary_markdown(summary: dict[str, Any]) -> str:
    """The markdown artifact: headline figures, exposure by rule and payer, what was skipped."""
    scope = summary["scope"]
    totals = summary["totals"]
    if scope["kind"] == "nightly":
        title = f"recoup nightly report, as of {summary['as_of']}"
        covered = "every claim line in the warehouse"
    else:
        title = f"recoup backfill report, as of {summary['as_of']}"
        covered = f"services {scope['start']} to {scope['end']}"
        if scope["payer_id"]:
            covered += f", payer {scope['payer_id']}"
        if scope["claim_ids"] is not None:
            covered += f", {len(scope['claim_ids'])} named claim(s)"
        if scope["reason"]:
            covered += f" ({scope['reason']})"
    lines = [
        f"# {title}",
        "",
        f"Scope: {covered}.",
        "",
        "| figure | value |",
        "| --- | ---: |",
        f"| open exposure | {dollars(totals['open_exposure'])} |",
        f"| time-barred exposure | {dollars(totals['time_barred_exposure'])} |",
        f"| realized recoupments | {dollars(totals['realized_recoupments'])} |",
        f"| net paid | {dollars(totals['net_paid'])} |",
        f"| claim lines | {totals['claim_lines']:,} |",
        f"| flagged lines | {totals['flagged_lines']:,} |",
        "",
        "## Open exposure by rule (gross)",
        "",
        "| rule | lines | exposure |",
        "| --- | ---: | ---: |",
    ]
    for rule, body in sorted(summary["by_rule"].items()):
        lines.append(f"| `{rule}` | {body['lines']:,} | {dollars(body['exposure'])} |")
    lines += [
        "",
        "## By payer",
        "",
        "| payer | net paid | open exposure | realized recoupments |",
        "| --- | ---: | ---: | ---: |",
    ]
    for payer, body in sorted(summary["by_payer"].items()):
        lines.append(
            f"| {payer} | {dollars(body['net_paid'])} | {dollars(body['open_exposure'])} "
            f"| {dollars(body['realized_recoupments'])} |"
        )
    lines += ["", "## Rules skipped", ""]
    if summary["rules_skipped"]:
        lines += [
            f"- `{rule}`: {reason}" for rule, reason in sorted(summary["rules_skipped"].items())
        ]
    else:
        lines.append("None: every rule was evaluated.")
    return "\n".join(lines) + "\n"


def top_findings_table(top_findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table artifact's rows (only ``TABLE_COLUMNS``: no member data)."""
    table = []
    for line in top_findings[:TOP_FINDINGS_SHOWN]:
        rules = line.get("rules") or []
        table.append(
            {
                "claim_id": line["claim_id"],
                "line_number": line["line_number"],
                "payer_id": line["payer_id"],
                "rendering_npi": line["rendering_npi"],
                "date_of_service": str(line["date_of_service"]),
                "code": line["code"],
                "rules": ", ".join(rules) if not isinstance(rules, str) else rules,
                "open_exposure": line["open_exposure"],
            }
        )
    return table


def publish_artifacts(
    summary: dict[str, Any], top_findings: list[dict[str, Any]], *, key_prefix: str
) -> dict[str, str]:
    """Create the markdown summary and the top-findings table artifacts; returns key -> id.

    ``key_prefix`` must be lowercase letters, digits and dashes (``scope.artifact_key_prefix``).
    """
    if not _KEY.match(key_prefix):
        raise ValueError(
            f"artifact key prefix {key_prefix!r}: use lowercase letters, digits, dashes"
        )
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    summary_key = f"{key_prefix}-summary"
    table_key = f"{key_prefix}-top-findings"
    summary_id = create_markdown_artifact(
        markdown=summary_markdown(summary),
        key=summary_key,
        description=f"Exposure as of {summary['as_of']}",
    )
    table_id = create_table_artifact(
        table=top_findings_table(top_findings),
        key=table_key,
        description=f"Claim lines with the largest open exposure as of {summary['as_of']}",
    )
    return {summary_key: str(summary_id), table_key: str(table_id)}
