"""The rule catalog and the run that turns rules into findings.

``RULES`` lists every rule definition (one module per rule id in ``expectations/rules``).
``run_rules`` loads the code lists, decides which rules cannot be evaluated (and says why),
runs the others against the mart built for the same as-of date, and replaces ``mart.findings``
in one transaction: one row per (claim line, rule) with the line's identity, net paid, exposure,
time-barred flag and evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import import_module

import duckdb

from expectations.config import RulesConfig, load_config
from expectations.definition import Rule
from expectations.reference import load_code_lists
from marts.models import built_as_of
from marts.templating import render_sql

RULE_IDS: tuple[str, ...] = (
    "coverage.lapsed",
    "coverage.unverified",
    "coding.time_unsupported",
    "documentation.time_missing",
    "documentation.note_missing",
    "documentation.late_signature",
    "coding.addon_without_primary",
    "coding.multiple_timed_codes",
    "coding.units_over_limit",
    "billing.duplicate",
    "coding.high_level_outlier",
    "necessity.no_step_down",
    "telehealth.modifier_missing",
)


def _load(rule_id: str) -> Rule:
    rule: Rule = import_module("expectations.rules." + rule_id.replace(".", "_")).RULE
    if rule.id != rule_id:
        raise ValueError(f"module for {rule_id} defines {rule.id}")
    return rule


RULES: list[Rule] = [_load(rule_id) for rule_id in RULE_IDS]
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def rule_title(rule: Rule) -> str:
    """The rule's one-line summary (first line of its description, without its id)."""
    first_line = rule.description.removeprefix(rule.id + ":").strip().split("\n")[0]
    return first_line.rstrip(".") or rule.id


def rule_titles() -> dict[str, str]:
    """Every rule id, in ``RULE_IDS`` order, with its one-line title (what the reports show)."""
    return {rule.id: rule_title(rule) for rule in RULES}


_LISTED = 5  # identifiers named in a partial-skip reason before "and N more"

# Enriches one rule's failing lines into mart.findings rows. time_barred: payment_date +
# look-back months < as_of (strictly: on the anniversary the payment can still be recouped).
_FINDINGS_INSERT = """
INSERT INTO mart.findings BY NAME
SELECT
    l.claim_key, l.claim_id, l.line_number, l.payer_id, l.member_id, l.patient_key, l.rendering_npi,
    l.billing_npi, l.date_of_service, l.service_month, l.code, f.rule, l.net_paid,
    CAST(f.exposure AS DECIMAL(18,2)) AS exposure,
    coalesce(
        l.payment_date + to_months(
            CAST(coalesce(p.lookback_months, {{ lookback.default_months }}) AS INTEGER)
        ) < {{ as_of }},
        FALSE
    ) AS time_barred,
    l.payment_date,
    CAST(coalesce(p.lookback_months, {{ lookback.default_months }}) AS INTEGER)
        AS lookback_months,
    CAST(f.evidence AS VARCHAR) AS evidence,
    {{ as_of }} AS as_of
FROM (
{rule_sql}
) AS f
JOIN mart.paid_lines AS l USING (claim_key, line_number)
LEFT JOIN mart.payer_policies AS p ON p.payer_id = l.payer_id
WHERE {months_filter}
"""


@dataclass
class RulesResult:
    """What a rules run produced: findings per evaluated rule (time-barred included), their gross
    exposure, and the rules skipped wholly or in part with the reason."""

    as_of: date
    counts: dict[str, int] = field(default_factory=dict)
    exposure: dict[str, Decimal] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def findings(self) -> int:
        return sum(self.counts.values())


class MartNotBuilt(RuntimeError):
    """The mart is missing or was built for another as-of date."""


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _names(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [str(row[0]) for row in con.execute(sql).fetchall()]


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    more = len(names) - _LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def skipped_rules(
    con: duckdb.DuckDBPyConnection, config: RulesConfig, as_of: date
) -> tuple[set[str], dict[str, str]]:
    """Rules that cannot run at all (first) and the reasons for every skip, whole or partial.

    * no session rows at all: every rule that reads sessions is skipped; otherwise those rules
      are partial when some billing providers with paid lines send no sessions;
    * no eligibility response at all: both coverage rules are skipped; otherwise coverage.lapsed is
      partial for payers with paid lines but no response that speaks about coverage;
    * fewer than ``outlier.min_peers`` providers with ``outlier.min_lines`` lines: the outlier
      rule is skipped.
    """
    whole: set[str] = set()
    reasons: dict[str, str] = {}
    session_rules = [rule.id for rule in RULES if rule.needs == "sessions"]
    if _scalar(con, "SELECT count(*) FROM stg.sessions") == 0:
        for rule_id in session_rules:
            whole.add(rule_id)
            reasons[rule_id] = "no sessions feed: the warehouse holds no session rows"
    else:
        silent = _names(
            con,
            """
            SELECT DISTINCT l.billing_npi FROM mart.paid_lines AS l
            WHERE l.billing_npi NOT IN (
                SELECT cl.billing_npi FROM mart.claim_lines AS cl
                SEMI JOIN stg.sessions AS s ON s.claim_id = cl.claim_id
                WHERE cl.billing_npi IS NOT NULL
            )
            ORDER BY 1
            """,
        )
        if silent:
            for rule_id in session_rules:
                reasons[rule_id] = (
                    f"partial: not evaluated for {len(silent)} billing provider(s) that send no "
                    f"sessions feed: {_listing(silent)}"
                )
    if _scalar(con, "SELECT count(*) FROM mart.eligibility_checks") == 0:
        for rule_id in ("coverage.lapsed", "coverage.unverified"):
            whole.add(rule_id)
            reasons[rule_id] = "no eligibility data: the warehouse holds no eligibility response"
    else:
        unchecked = _names(
            con,
            """
            SELECT DISTINCT coalesce(l.payer_id, '(none)') FROM mart.paid_lines AS l
            WHERE l.payer_id IS NULL OR l.payer_id NOT IN (
                SELECT payer_id FROM mart.eligibility_checks
                WHERE speaks_about_coverage AND payer_id IS NOT NULL
            )
            ORDER BY 1
            """,
        )
        if unchecked:
            reasons["coverage.lapsed"] = (
                f"partial: not evaluated for {len(unchecked)} payer(s) with no eligibility "
                f"response about coverage: {_listing(unchecked)}"
            )
    peers = _scalar(
        con,
        render_sql(
            """
            SELECT count(*) FROM (
                SELECT rendering_npi FROM mart.paid_lines
                WHERE code IN ('90832', '90834', '90837')
                  AND date_of_service > {{ as_of }} - to_months({{ window }})
                  AND date_of_service <= {{ as_of }}
                GROUP BY rendering_npi HAVING count(*) >= {{ min_lines }}
            )
            """,
            {
                "as_of": as_of,
                "window": config["outlier.window_months"],
                "min_lines": config["outlier.min_lines"],
            },
        ),
    )
    if peers < config["outlier.min_peers"]:
        whole.add("coding.high_level_outlier")
        reasons["coding.high_level_outlier"] = (
            f"too few peers: {peers} rendering provider(s) with at least "
            f"{config['outlier.min_lines']} paid 90832/90834/90837 lines in the "
            f"{config['outlier.window_months']} months to {as_of.isoformat()}; "
            f"at least {config['outlier.min_peers']} needed"
        )
    return whole, reasons


def run_rules(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    config: RulesConfig | None = None,
    *,
    rules: Iterable[Rule] | None = None,
    service_months: Iterable[date] | None = None,
) -> RulesResult:
    """Evaluate the rules on the paid lines of the mart built for ``as_of`` into ``mart.findings``.

    Replaces all findings, or only those of ``service_months`` (first days of months) when given,
    in one transaction. Raises ``MartNotBuilt`` unless ``marts.models.build_models`` ran for
    the same ``as_of``.
    """
    config = config or load_config()
    built = built_as_of(con)
    if built != as_of:
        raise MartNotBuilt(
            f"the mart was built for {built or 'no date'}; run build_models(con, {as_of}) first"
        )
    selected = list(rules) if rules is not None else RULES
    months = sorted({month.replace(day=1) for month in service_months or ()})
    months_filter = (
        "l.service_month IN (" + ", ".join(f"DATE '{m.isoformat()}'" for m in months) + ")"
        if months
        else "TRUE"
    )
    result = RulesResult(as_of=as_of)
    con.execute("BEGIN TRANSACTION")
    try:
        load_code_lists(con, config)
        whole, reasons = skipped_rules(con, config, as_of)
        result.skipped = {rule.id: reasons[rule.id] for rule in selected if rule.id in reasons}
        if months:
            con.execute(
                "DELETE FROM mart.findings WHERE service_month IN ("
                + ", ".join("?" for _ in months)
                + ")",
                months,
            )
        else:
            con.execute("DELETE FROM mart.findings")
        for rule in selected:
            if rule.id in whole:
                continue
            insert = render_sql(
                _FINDINGS_INSERT,
                {"as_of": as_of, "lookback.default_months": config["lookback.default_months"]},
            )
            con.execute(
                insert.replace("{months_filter}", months_filter).replace(
                    "{rule_sql}", rule.sql(config, as_of)
                )
            )
            row = con.execute(
                "SELECT count(*), coalesce(sum(exposure), 0) FROM mart.findings WHERE rule = ?"
                + (
                    " AND service_month IN (" + ", ".join("?" for _ in months) + ")"
                    if months
                    else ""
                ),
                [rule.id, *months],
            ).fetchone()
            result.counts[rule.id] = int(row[0]) if row else 0
            result.exposure[rule.id] = Decimal(row[1]) if row else Decimal(0)
        duplicates = _scalar(
            con,
            "SELECT count(*) FROM (SELECT 1 FROM mart.findings "
            "GROUP BY claim_key, line_number, rule HAVING count(*) > 1)",
        )
        if duplicates:
            raise RuntimeError(
                f"{duplicates} (claim line, rule) pairs found twice: a rule is wrong"
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return result
