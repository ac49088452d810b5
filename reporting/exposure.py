"""The exposure summary (exposure.json) and the detail the HTML report and artifacts show.

Every figure comes from the marts through the SQL in ``sql/``; this module only shapes it:
* a claim line's exposure is ``mart.line_exposure``: the largest exposure among its findings, never
  more than its net paid. It is **time-barred** as a whole when the line's payment is older than
  the payer's look-back at as-of (all findings of a line share its payment date and payer), so
  ``open_exposure`` and ``time_barred_exposure`` split the lines, never a line;
* ``by_rule`` counts the findings that are not time-barred and sums their exposure, gross;
  ``by_action`` does the same per action (what to do about a finding, named by its rule), with the
  earliest ``act_by`` (the last day the payer can recoup) among them;
* ``realized_recoupments`` sums reversals (|CLP04| of CLP02 = 22) and PLB WO amounts in scope,
  those naming unknown claims included (``scope.sql`` says which are in a backfill's scope).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from loading import ledger
from reporting.json_report import money
from reporting.queries import rows, scoped_tables
from reporting.rulebook import RuleBook
from reporting.scope import Scope

TOP_LINES = 20
RECOUPMENTS_SHOWN = 20


def _share(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def summary_from_tables(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    scope: Scope,
    skipped: dict[str, str],
    rule_ids: Sequence[str],
    actions: Sequence[str] = (),
) -> dict[str, Any]:
    """The exposure.json dict, from the temporary tables of ``scoped_tables``; ``by_rule`` lists
    ``rule_ids`` in their order, zero for a rule with no finding in scope; ``by_action`` lists
    ``actions`` (zero when none) and any other action a finding in scope carries."""
    totals = rows(con, "totals")[0]
    findings = rows(con, "finding_count")[0]["findings"]
    realized = rows(con, "realized_by_kind")
    unmatched = rows(con, "unmatched")[0]
    by_rule: dict[str, dict[str, Any]] = {rule: {"lines": 0, "exposure": 0.0} for rule in rule_ids}
    for row in rows(con, "by_rule"):
        by_rule[row["rule"]] = {"lines": row["lines"], "exposure": money(row["exposure"])}

    def realized_sum(kind: str | None = None, known: bool | None = None) -> float:
        return money(
            sum(
                (
                    row["amount"]
                    for row in realized
                    if (kind is None or row["kind"] == kind)
                    and (known is None or row["claim_known"] == known)
                ),
                Decimal(0),
            )
        )

    return {
        "as_of": as_of.isoformat(),
        "scope": scope.to_json(),
        "totals": {
            "claim_lines": totals["claim_lines"],
            "paid_lines": totals["paid_lines"],
            "net_paid": money(totals["net_paid"]),
            "open_exposure": money(totals["open_exposure"]),
            "open_exposure_lines": totals["open_exposure_lines"],
            "time_barred_exposure": money(totals["time_barred_exposure"]),
            "realized_recoupments": realized_sum(),
            "flagged_lines": totals["flagged_lines"],
            "findings": findings,
        },
        "realized_recoupments": {
            "reversals": realized_sum("reversal"),
            "plb_wo_known_claims": realized_sum("plb_wo", True),
            "plb_wo_unknown_claims": realized_sum("plb_wo", False),
            "unknown_claims": realized_sum(known=False),
        },
        "unmatched_remittances": {
            "count": unmatched["entries"],
            "amount": money(unmatched["amount"]),
        },
        "by_rule": by_rule,
        "by_action": by_action(con, actions),
        "by_payer": {
            row["payer_id"]: {
                "net_paid": money(row["net_paid"]),
                "open_exposure": money(row["open_exposure"]),
                "realized_recoupments": money(row["realized_recoupments"]),
            }
            for row in rows(con, "by_payer")
        },
        "by_rendering_npi": {
            row["rendering_npi"]: {
                "net_paid": money(row["net_paid"]),
                "open_exposure": money(row["open_exposure"]),
                "share_90837": _share(row["share_90837"]),
            }
            for row in rows(con, "by_rendering_npi")
        },
        "by_service_month": {
            row["service_month"]: {
                "claim_lines": row["claim_lines"],
                "net_paid": money(row["net_paid"]),
                "open_exposure": money(row["open_exposure"]),
                "time_barred_exposure": money(row["time_barred_exposure"]),
            }
            for row in rows(con, "by_service_month")
        },
        "rules_skipped": dict(sorted(skipped.items())),
    }


def by_action(con: duckdb.DuckDBPyConnection, actions: Sequence[str]) -> dict[str, dict[str, Any]]:
    """exposure.json ``by_action``: per action, the findings that are not time-barred, their
    exposure (gross) and the earliest ``act_by`` among them (ISO date, None without findings)."""
    result: dict[str, dict[str, Any]] = {
        action: {"findings": 0, "exposure": 0.0, "first_act_by": None} for action in actions
    }
    for row in rows(con, "by_action"):
        first = row["first_act_by"]
        result[row["action"]] = {
            "findings": row["findings"],
            "exposure": money(row["exposure"]),
            "first_act_by": first.isoformat() if first else None,
        }
    return result


def build_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    scope: Scope,
    skipped: dict[str, str],
    rules: RuleBook,
) -> dict[str, Any]:
    """The exposure.json dict for ``scope`` (SPEC "Outputs"): JSON-ready (dates as ISO strings,
    money as floats of exact cents, counts as ints), so ``json.loads(to_json(s)) == s``.

    Needs the mart built and the rules run for ``as_of`` (else ``ReportInputsStale``); ``skipped``
    is ``RulesResult.skipped``; ``rules`` gives the rule ids and the outlier window.
    """
    with scoped_tables(con, scope, as_of, rules.thresholds, rules.actions):
        return summary_from_tables(
            con, as_of=as_of, scope=scope, skipped=skipped, rule_ids=rules.ids,
            actions=rules.action_names,
        )  # fmt: skip


# ---- detail for the HTML report and the Prefect artifacts -------------------------------------


@dataclass
class PeerStats:
    """Where the outlier rule draws its line: share above ``threshold`` is flagged (with enough
    lines and peers). ``threshold`` is None when the peers' spread is 0 (nobody is an outlier)."""

    peers: int
    median: float | None
    spread: float | None  # the scaled MAD (or scaled mean absolute deviation when MAD is 0)
    z: float
    share_floor: float
    min_lines: int
    min_peers: int

    @property
    def threshold(self) -> float | None:
        if self.median is None or not self.spread or self.peers < self.min_peers:
            return None
        return max(self.median + self.z * self.spread, self.share_floor)


@dataclass
class ReportDetails:
    top_lines: list[dict[str, Any]] = field(default_factory=list)
    recoupments: list[dict[str, Any]] = field(default_factory=list)
    recoupments_total: int = 0
    provider_shares: list[dict[str, Any]] = field(default_factory=list)
    peer_stats: PeerStats | None = None
    unmatched_by_reason: list[dict[str, Any]] = field(default_factory=list)
    # files that did not load whole, and parts rejected on their own (ledger.not_loaded)
    not_loaded: list[str] = field(default_factory=list)
    # the worklist (reporting/work.py) and the names beside payer ids and NPIs
    work: list[dict[str, Any]] = field(default_factory=list)
    payer_names: dict[str, str] = field(default_factory=dict)
    provider_names: dict[str, str] = field(default_factory=dict)


def peer_stats(shares: list[dict[str, Any]], config: Mapping[str, Any]) -> PeerStats:
    """The outlier rule's centre and spread over peers, for the chart (the rule's SQL decides)."""
    values = [float(row["share_90837"]) for row in shares if row["is_peer"]]
    median = statistics.median(values) if values else None
    spread: float | None = None
    if median is not None:
        deviations = [abs(value - median) for value in values]
        mad = statistics.median(deviations)
        mean_abs = statistics.fmean(deviations)
        if mad > 0:
            spread = config["outlier.mad_scale"] * mad
        elif mean_abs > 0:
            spread = config["outlier.mean_ad_scale"] * mean_abs
    return PeerStats(
        peers=len(values),
        median=median,
        spread=spread,
        z=config["outlier.z"],
        share_floor=config["outlier.share"],
        min_lines=config["outlier.min_lines"],
        min_peers=config["outlier.min_peers"],
    )


def top_lines_from_tables(
    con: duckdb.DuckDBPyConnection, rules: RuleBook, limit: int = TOP_LINES
) -> list[dict[str, Any]]:
    """The lines to fix first (largest open exposure), each with its findings in plain words."""
    lines = rows(con, "top_lines", {"limit": limit})
    keys = [f"{line['claim_key']}#{line['line_number']}" for line in lines]
    reasons: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    for finding in rows(con, "line_findings", {"line_keys": keys}):
        evidence = json.loads(finding["evidence"]) if finding["evidence"] else {}
        reasons[f"{finding['claim_key']}#{finding['line_number']}"].append(
            {
                "rule": finding["rule"],
                "exposure": money(finding["exposure"]),
                "reason": rules.explain(finding["rule"], evidence),
            }
        )
    return [
        {
            "claim_id": line["claim_id"],
            "claim_key": line["claim_key"],
            "line_number": line["line_number"],
            "payer_id": line["payer_id"],
            "rendering_npi": line["rendering_npi"],
            "date_of_service": line["date_of_service"].isoformat(),
            "code": line["code"],
            "net_paid": money(line["net_paid"]),
            "open_exposure": money(line["open_exposure"]),
            "rules": list(line["rules"]),
            "findings": reasons[key],
        }
        for line, key in zip(lines, keys, strict=True)
    ]


def details_from_tables(
    con: duckdb.DuckDBPyConnection, rules: RuleBook, *, top: int = TOP_LINES
) -> ReportDetails:
    shares = rows(con, "provider_shares")
    recoupments = rows(con, "recoupments", {"limit": RECOUPMENTS_SHOWN})
    total = con.execute("SELECT count(*) FROM report_recoupments").fetchone()
    return ReportDetails(
        top_lines=top_lines_from_tables(con, rules, top),
        recoupments=[
            {
                "kind": row["kind"],
                "claim_reference": row["claim_reference"],
                "claim_known": row["claim_known"],
                "payer_id": row["payer_id"],
                "payment_date": row["payment_date"].isoformat() if row["payment_date"] else None,
                "amount": money(row["amount"]),
            }
            for row in recoupments
        ],
        recoupments_total=int(total[0]) if total else 0,
        provider_shares=[{**row, "share_90837": _share(row["share_90837"])} for row in shares],
        peer_stats=peer_stats(shares, rules.thresholds),
        unmatched_by_reason=[
            {**row, "amount": money(row["amount"])} for row in rows(con, "unmatched_by_reason")
        ],
        not_loaded=ledger.not_loaded(con),
    )
