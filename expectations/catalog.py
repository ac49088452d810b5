"""The rule catalog and the run that turns rules into findings.

``discover`` finds the rules: one module pair per rule id in ``expectations/rules`` (and in any
extra folder given), ordered by ``Rule.order``; ``RULES``/``RULE_IDS`` are the shipped ones and
``active_rules()`` those of this run (plus the folders of ``RECOUP_EXTRA_RULES``).
``run_rules`` loads the code lists, decides which rules cannot be evaluated (and says why),
runs the others against the mart built for the same as-of date, and replaces ``mart.findings``
in one transaction: one row per (claim line, rule) with the line's identity, net paid, exposure,
time-barred flag and evidence.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import import_module
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from typing import Any

import duckdb

from expectations.config import RulesConfig, load_config
from expectations.definition import RULES_DIR, Precondition, Rule, fill
from marts.build import built_as_of
from marts.templating import render_sql
from warehouse.connection import open_warehouse

EXTRA_RULES_ENV = "RECOUP_EXTRA_RULES"


def _import_rule(path: Path, package: str | None) -> Rule:
    """The ``RULE`` of one rule module: imported as ``package.<stem>`` when the folder is a
    package of this project, else from its file under a private module name."""
    if package is not None:
        module = import_module(f"{package}.{path.stem}")
    else:
        name = f"recoup_extra_rules.{path.parent.name}.{path.stem}"
        spec = spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import rule module {path}")
        module = module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    rule = getattr(module, "RULE", None)
    if not isinstance(rule, Rule):
        raise ValueError(f"{path}: a rule module defines RULE = Rule.define(...)")
    if rule.id.replace(".", "_") != path.stem:
        raise ValueError(f"{path} defines {rule.id}")
    return rule


def discover(*folders: Path) -> tuple[Rule, ...]:
    """The rules of ``expectations/rules`` and of ``folders``, in catalog order (``Rule.order``).

    A rule is one module pair ``<id with dots as underscores>.py`` + ``.sql``; modules whose name
    starts with ``_`` are not rules. Two rules with the same id or the same order raise.
    """
    rules: list[Rule] = []
    for folder in (RULES_DIR, *folders):
        package = "expectations.rules" if folder.resolve() == RULES_DIR.resolve() else None
        for path in sorted(folder.glob("*.py")):
            if not path.name.startswith("_"):
                rules.append(_import_rule(path, package))
    for attribute in ("id", "order"):
        values = [getattr(rule, attribute) for rule in rules]
        twice = sorted({str(value) for value in values if values.count(value) > 1})
        if twice:
            raise ValueError(f"two rules share the {attribute} {', '.join(twice)}")
    return tuple(sorted(rules, key=lambda rule: rule.order))


@cache
def _discover_with(extra: str) -> tuple[Rule, ...]:
    return discover(*(Path(folder) for folder in extra.split(os.pathsep) if folder))


def active_rules() -> tuple[Rule, ...]:
    """The rules of this run: the shipped folder, plus the folders listed in the
    ``RECOUP_EXTRA_RULES`` environment variable (os.pathsep-separated; tests use it to add a
    throwaway rule without touching the shipped ones)."""
    return _discover_with(os.environ.get(EXTRA_RULES_ENV, ""))


# The shipped rules (expectations/rules), in catalog order.
RULES: tuple[Rule, ...] = discover()
RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)


def rule_title(rule: Rule) -> str:
    """The rule's one-line summary (first line of its description, without its id)."""
    first_line = rule.description.removeprefix(rule.id + ":").strip().split("\n")[0]
    return first_line.rstrip(".") or rule.id


def rule_titles(selected: Iterable[Rule] | None = None) -> dict[str, str]:
    """Every rule id (of ``active_rules()`` unless given), in catalog order, with its one-line
    title (what the reports show)."""
    chosen = active_rules() if selected is None else selected
    return {rule.id: rule_title(rule) for rule in chosen}


_LISTED = 5  # identifiers named in a partial-skip reason before "and N more"

# Enriches one rule's failing lines into mart.findings rows (inserted here, or written to Parquet by
# a Dask worker: compute_findings). time_barred: payment_date +
# look-back months < as_of (strictly: on the anniversary the payment can still be recouped).
_FINDINGS_SELECT = """
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


def _check(
    con: duckdb.DuckDBPyConnection, pre: Precondition, config: RulesConfig, as_of: date
) -> tuple[bool, str | None]:
    """(False, reason) when ``pre`` fails wholly; else (True, partial reason or None)."""
    params: dict[str, Any] = {name: config[name] for name in pre.threshold_names()}
    values: dict[str, Any] = {**params, "as_of": as_of.isoformat()}
    count = _scalar(con, render_sql(pre.count_sql, {**params, "as_of": as_of}))
    at_least = config[pre.at_least] if isinstance(pre.at_least, str) else pre.at_least
    if count < at_least:
        return False, fill(pre.skipped, {**values, "count": count})
    if pre.partial_sql is None:
        return True, None
    names = _names(con, render_sql(pre.partial_sql, {**params, "as_of": as_of}))
    if not names:
        return True, None
    return True, fill(
        pre.partial, {**values, "count": count, "listed": len(names), "names": _listing(names)}
    )


def skipped_rules(
    con: duckdb.DuckDBPyConnection,
    config: RulesConfig,
    as_of: date,
    selected: Iterable[Rule] | None = None,
) -> tuple[set[str], dict[str, str]]:
    """Rules that cannot run at all (first) and the reasons for every skip, whole or partial,
    from each rule's ``preconditions`` (rules of ``active_rules()`` unless given): the first
    precondition that fails wholly skips the rule; else the first partial reason is the rule's.
    Each distinct precondition is checked once (several rules share the sessions feed)."""
    whole: set[str] = set()
    reasons: dict[str, str] = {}
    checked: dict[Precondition, tuple[bool, str | None]] = {}
    for rule in active_rules() if selected is None else selected:
        partial: str | None = None
        for pre in rule.preconditions:
            if pre not in checked:
                checked[pre] = _check(con, pre, config, as_of)
            ok, reason = checked[pre]
            if not ok:
                whole.add(rule.id)
                reasons[rule.id] = reason or "not evaluated"
                break
            partial = partial or reason
        else:
            if partial:
                reasons[rule.id] = partial
    return whole, reasons


def _months_filter(months: Sequence[date]) -> str:
    if not months:
        return "TRUE"
    return "l.service_month IN (" + ", ".join(f"DATE '{m.isoformat()}'" for m in months) + ")"


def findings_sql(rule: Rule, config: RulesConfig, as_of: date, months: Sequence[date] = ()) -> str:
    """The ``mart.findings`` rows of ``rule`` (of the service ``months`` only, when given): a
    SELECT the default path inserts and a Dask worker writes to Parquet."""
    select = render_sql(
        _FINDINGS_SELECT,
        {"as_of": as_of, "lookback.default_months": config["lookback.default_months"]},
    )
    return select.replace("{months_filter}", _months_filter(months)).replace(
        "{rule_sql}", rule.sql(config, as_of)
    )


def _check_built(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    built = built_as_of(con)
    if built != as_of:
        raise MartNotBuilt(
            f"the mart was built for {built or 'no date'}; run build_models(con, {as_of}) first"
        )


@dataclass(frozen=True)
class RulesPlan:
    """What is decided before any rule runs: the rules to evaluate (ids, catalog order) and the
    rules skipped wholly or in part, with the reason."""

    as_of: date
    run: tuple[str, ...]
    skipped: dict[str, str]


def plan_rules(
    con: duckdb.DuckDBPyConnection, as_of: date, config: RulesConfig, selected: Sequence[Rule]
) -> RulesPlan:
    """Load the code lists into ``ref.*`` (writes: inside the caller's transaction) and decide
    which of ``selected`` run and which are skipped."""
    # here, not at the top: code lists come through Polars (0.4 s to import), which reading the
    # rule catalog (`recoup report`) does not need
    from expectations.code_lists import load_code_lists

    load_code_lists(con, config)
    whole, reasons = skipped_rules(con, config, as_of, selected)
    return RulesPlan(
        as_of=as_of,
        run=tuple(rule.id for rule in selected if rule.id not in whole),
        skipped={rule.id: reasons[rule.id] for rule in selected if rule.id in reasons},
    )


def _delete_findings(con: duckdb.DuckDBPyConnection, months: Sequence[date]) -> None:
    if months:
        con.execute(
            "DELETE FROM mart.findings WHERE service_month IN ("
            + ", ".join("?" for _ in months)
            + ")",
            list(months),
        )
    else:
        con.execute("DELETE FROM mart.findings")


def _tally(con: duckdb.DuckDBPyConnection, plan: RulesPlan, months: Sequence[date]) -> RulesResult:
    """Findings and gross exposure per evaluated rule (of ``months`` when given); raises when a
    (claim line, rule) pair is there twice."""
    result = RulesResult(as_of=plan.as_of, skipped=dict(plan.skipped))
    in_months = " AND service_month IN (" + ", ".join("?" for _ in months) + ")" if months else ""
    for rule_id in plan.run:
        row = con.execute(
            "SELECT count(*), coalesce(sum(exposure), 0) FROM mart.findings WHERE rule = ?"
            + in_months,
            [rule_id, *months],
        ).fetchone()
        result.counts[rule_id] = int(row[0]) if row else 0
        result.exposure[rule_id] = Decimal(row[1]) if row else Decimal(0)
    duplicates = _scalar(
        con,
        "SELECT count(*) FROM (SELECT 1 FROM mart.findings "
        "GROUP BY claim_key, line_number, rule HAVING count(*) > 1)",
    )
    if duplicates:
        raise RuntimeError(f"{duplicates} (claim line, rule) pairs found twice: a rule is wrong")
    return result


def _months(service_months: Iterable[date] | None) -> list[date]:
    return sorted({month.replace(day=1) for month in service_months or ()})


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
    in one transaction. Raises ``MartNotBuilt`` unless ``marts.build.build_models`` ran for
    the same ``as_of``.
    """
    config = config or load_config()
    _check_built(con, as_of)
    selected = list(rules) if rules is not None else list(active_rules())
    months = _months(service_months)
    con.execute("BEGIN TRANSACTION")
    try:
        plan = plan_rules(con, as_of, config, selected)
        _delete_findings(con, months)
        by_id = {rule.id: rule for rule in selected}
        for rule_id in plan.run:
            sql = findings_sql(by_id[rule_id], config, as_of, months)
            con.execute("INSERT INTO mart.findings BY NAME\n" + sql)
        result = _tally(con, plan, months)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return result


# ---- the same run split for Dask workers (flows/distributed.py) --------------------------------
# DuckDB lets one process write a file or many read it: the driver plans (code lists: a write) and
# commits, workers read the warehouse read-only and write their months' findings to Parquet, then
# the driver replaces those months' findings from the files in one transaction.


def prepare_rules(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    config: RulesConfig | None = None,
    *,
    rules: Iterable[Rule] | None = None,
) -> RulesPlan:
    """The driver's first step: ``plan_rules`` in its own transaction, committed so that
    read-only workers see the code lists."""
    config = config or load_config()
    _check_built(con, as_of)
    selected = list(rules) if rules is not None else list(active_rules())
    con.execute("BEGIN TRANSACTION")
    try:
        plan = plan_rules(con, as_of, config, selected)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return plan


def compute_findings(
    con: duckdb.DuckDBPyConnection,
    plan: RulesPlan,
    config: RulesConfig,
    service_months: Iterable[date],
    out: Path,
) -> int:
    """A worker's step: write the findings of ``plan``'s rules for ``service_months`` to the
    Parquet file ``out`` (nothing written to the warehouse: ``con`` may be read-only); returns the
    rows written."""
    _check_built(con, plan.as_of)
    months = _months(service_months)
    if not months:
        raise ValueError("compute_findings needs at least one service month")
    by_id = {rule.id: rule for rule in active_rules()}
    selects = [findings_sql(by_id[rule_id], config, plan.as_of, months) for rule_id in plan.run]
    if not selects:  # every rule skipped: an empty file with the findings' columns
        selects = ["SELECT * FROM mart.findings WHERE FALSE"]
    union = "\nUNION ALL\n".join(f"({select})" for select in selects)
    target = str(out).replace("'", "''")
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({union}) TO '{target}' (FORMAT parquet)")
    return _scalar(con, f"SELECT count(*) FROM read_parquet('{target}')")


def store_findings(
    con: duckdb.DuckDBPyConnection,
    plan: RulesPlan,
    service_months: Iterable[date] | None,
    files: Sequence[Path],
) -> RulesResult:
    """The driver's last step: replace the findings of ``service_months`` (all findings when
    None) with the rows of ``files`` in one transaction; what ``run_rules`` returns."""
    months = _months(service_months)
    con.execute("BEGIN TRANSACTION")
    try:
        _delete_findings(con, months)
        if files:
            listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
            con.execute(f"INSERT INTO mart.findings BY NAME SELECT * FROM read_parquet([{listed}])")
        result = _tally(con, plan, months)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return result


def compute_findings_file(
    db: Path,
    plan: RulesPlan,
    overrides: dict[str, object] | None,
    service_months: Sequence[date],
    out: Path,
    wait_seconds: float = 0.0,
) -> int:
    """What a Dask worker runs (a plain function: no Prefect, no write to the warehouse): open
    ``db`` read-only and ``compute_findings`` into ``out``; returns the rows written."""
    with open_warehouse(db, read_only=True, wait_seconds=wait_seconds) as con:
        return compute_findings(con, plan, load_config(overrides), service_months, out)
