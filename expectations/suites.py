"""The rules as a Great Expectations suite: one expectation per rule id, plus guards on the marts.

``validate_rules(con, db_path, as_of, config, gx_root=..., build_docs=...)`` runs, after
``catalog.run_rules`` filled ``mart.findings`` for ``as_of``, one GX checkpoint on the warehouse
(through ``warehouse.gx_runner``, on the caller's open connection) with:

* one check per rule id (name = the rule id, description = the rule's own docstring): an
  UnexpectedRowsExpectation whose unexpected rows are that rule's findings, read from
  ``mart.findings`` (claim line, exposure, time-barred flag, evidence). It "fails" with the number
  of findings: findings are results, not errors, so read ``rule_counts()``, not ``success``;
* a rule the catalog could not evaluate at all (``catalog.skipped_rules``: no sessions feed, no
  eligibility, too few peers) is not queried: its check raises inside DuckDB with the reason
  (``error('skipped: ...')``), so GX records it as an expectation that raised, with the reason in
  its exception info and in Data Docs; never as a pass. A rule skipped in part (some billing NPIs
  send no sessions, some payers have no eligibility) keeps its finding count and gets a second
  check, ``"<rule id> (partly skipped)"``, errored the same way with the reason;
* guards on the mart the rules wrote (``GUARD_NAMES``): finding keys, rule, net paid, exposure and
  time-barred flag present; rule ids in the catalog; 0 <= exposure <= net paid; every finding is of
  this as-of date. ``RulesSuiteResult.guards_ok`` is the data-quality verdict of the run.

All are SQL checks (UnexpectedRowsExpectation). Three costs found by measuring shaped them: GX
column expectations report an error on an empty table through ``gx_runner`` (a clean run has no
findings); GX 1.24 serialises every Decimal through ``inspect.stack()`` (about 11 ms each, and it
keeps 200 rows per check: seconds), so money in the returned rows is text; GX fetches 200 rows of
the whole query, so an ORDER BY sorts every finding of the rule (4 s of the suite at 10M lines).

Why the findings and not each rule's query (option B, not A). ``benchmarks/bench_rules.py``
measured both in the same process on this shared 2-core machine (noisy: the same plain SQL took
28.9 s and 49.2 s at 10M lines in two runs an hour apart):

=================  =========  =========  ======================  ======================
claim lines        plain SQL  run_rules  GX, B (this module)     GX, A (rule queries)
=================  =========  =========  ======================  ======================
1,000,000          3.4 s      4.8 s      1.5 s  -> 1.57-1.86x    8.1 s  -> 3.75x
10,000,000         42.5 s     51.0 s     2.6 s  -> 1.09-1.60x    61.8 s -> 2.66x
=================  =========  =========  ======================  ======================

(ratio = (run_rules + GX) / plain SQL, per run.) GX running the rule queries again costs more than
running them once (it counts them and fetches from them), so A can never meet "the whole validation
within 2x of plain SQL" with ``run_rules`` already at 1.1-1.5x; B reads back the findings that
``run_rules`` materialised, a selection on a table much smaller than the lines. Nothing is defined
twice: each rule's logic is its ``.sql`` (in ``expectations/rules``), run once by ``run_rules``;
this suite takes ids, descriptions and skip reasons from the same catalog, and the counts GX
reports are those of ``mart.findings`` (the tests check them against ``run_rules``).

Where results go: with ``gx_root`` (the flows pass ``<reports>/gx/``; a GX file project is created
there when missing) the suites, checkpoint and validation results are kept under it and, with
``build_docs``, Data Docs are rebuilt at ``<gx_root>/uncommitted/data_docs/local_site/index.html``
(``RulesSuiteResult.docs_index``); each suite keeps its newest ``gx.keep_runs`` runs
(``defaults.toml``, 30; ``warehouse.gx_runner.prune_results``). With ``gx_root=None`` the GX
context is ephemeral and nothing is written. Great Expectations is imported inside the functions
(about 5 s), never at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from expectations.catalog import MartNotBuilt, active_rules, skipped_rules
from expectations.config import RulesConfig, load_config
from marts.build import built_as_of
from marts.templating import sql_literal
from warehouse.gx_runner import (
    DEFAULT_KEEP_RUNS,
    Check,
    CheckResult,
    SqlCheck,
    SuiteResult,
    validate,
)

if TYPE_CHECKING:
    import duckdb

SUITE_NAME = "recoup_rules"
FINDINGS = "mart.findings"
PARTLY = " (partly skipped)"
SKIPPED_PREFIX = "skipped: "

RuleStatus = Literal["pass", "fail", "skipped", "error"]


def _raises(message: str) -> str:
    """A query that fails inside DuckDB with ``message`` (how GX is told "not evaluated")."""
    return f"SELECT error({sql_literal(message)}) AS not_evaluated"


def _months_filter(service_months: Iterable[date] | None) -> str:
    """SQL condition on ``service_month`` (TRUE when no months are given), as run_rules has it."""
    months = sorted({month.replace(day=1) for month in service_months or ()})
    if not months:
        return "TRUE"
    return "service_month IN (" + ", ".join(sql_literal(month) for month in months) + ")"


def rule_checks(
    skipped: Mapping[str, str],
    not_evaluated: set[str] | frozenset[str] = frozenset(),
    service_months: Iterable[date] | None = None,
) -> list[SqlCheck]:
    """One check per rule id over ``mart.findings``; ``not_evaluated`` rules raise their reason.

    ``skipped`` maps rule ids to the catalog's reasons (whole or partial skips);
    ``service_months`` limits the findings read to those months (a partial run_rules).
    """
    months = _months_filter(service_months)
    checks: list[SqlCheck] = []
    for rule in active_rules():
        reason = skipped.get(rule.id)
        if rule.id in not_evaluated:
            checks.append(
                SqlCheck(
                    rule.id,
                    _raises(f"{SKIPPED_PREFIX}{reason or 'not evaluated'}"),
                    f"SKIPPED ({reason}). {rule.description}",
                    table=FINDINGS,
                )
            )
            continue
        checks.append(
            SqlCheck(
                rule.id,
                "SELECT claim_id, line_number, payer_id, code, CAST(net_paid AS VARCHAR) AS "
                "net_paid, CAST(exposure AS VARCHAR) AS exposure, time_barred, evidence "
                # No ORDER BY: GX fetches 200 rows of the whole query, a sort would cost more
                # than the rest of the suite at 10M lines.
                f"FROM {FINDINGS} WHERE rule = {sql_literal(rule.id)} AND {months}",
                rule.description,
                table=FINDINGS,
            )
        )
        if reason:
            checks.append(
                SqlCheck(
                    rule.id + PARTLY,
                    _raises(f"{SKIPPED_PREFIX}{reason}"),
                    f"{rule.id} was not evaluated everywhere: {reason}",
                    table=FINDINGS,
                )
            )
    return checks


def guard_checks(as_of: date, service_months: Iterable[date] | None = None) -> list[Check]:
    """Checks on ``mart.findings`` that must pass whatever the rules found (the as-of check only
    on ``service_months`` when given: other months keep the findings of their own run)."""
    # SqlChecks, not GX column expectations: through gx_runner those report an error (no
    # unexpected count) on an empty table, and a run without findings is a normal run.
    checks: list[Check] = [
        SqlCheck(
            f"findings: {column} present",
            f"SELECT claim_id, line_number, rule FROM {FINDINGS} WHERE {column} IS NULL",
            f"Every finding has its {column}.",
        )
        for column in ("claim_id", "line_number", "rule", "net_paid", "exposure", "time_barred")
    ]
    checks += [
        SqlCheck(
            "findings: rule in the catalog",
            f"SELECT claim_id, line_number, rule FROM {FINDINGS} "
            f"WHERE rule NOT IN ({', '.join(sql_literal(rule.id) for rule in active_rules())})",
            "Every finding names a rule of the catalog (expectations.catalog.active_rules).",
        ),
        SqlCheck(
            "findings: exposure between 0 and net paid",
            "SELECT claim_id, line_number, rule, CAST(net_paid AS VARCHAR) AS net_paid, "
            f"CAST(exposure AS VARCHAR) AS exposure FROM {FINDINGS} "
            "WHERE exposure < 0 OR exposure > net_paid",
            "A finding's exposure is never negative and never more than the line's net paid.",
        ),
        SqlCheck(
            "findings: of this as-of date",
            f"SELECT claim_id, line_number, rule, as_of FROM {FINDINGS} "
            f"WHERE as_of IS DISTINCT FROM {sql_literal(as_of)} "
            f"AND {_months_filter(service_months)}",
            f"Every finding was computed for {as_of.isoformat()}.",
        ),
    ]
    return checks


GUARD_NAMES: tuple[str, ...] = tuple(c.name for c in guard_checks(date(2000, 1, 1)))


@dataclass
class RulesSuiteResult(SuiteResult):
    """GX's results (``checks``, ``docs_index``, ...) read per rule."""

    as_of: date | None = None
    skipped: dict[str, str] = field(default_factory=dict)

    def rule_status(self, rule_id: str) -> RuleStatus:
        """pass (no finding), fail (findings), skipped (not evaluated, with its reason in
        ``skipped``) or error (GX could not evaluate the check)."""
        check = self.by_name()[rule_id]
        if check.status != "error":
            return check.status
        if check.error and SKIPPED_PREFIX in check.error and rule_id in self.skipped:
            return "skipped"
        return "error"

    def rule_counts(self) -> dict[str, int | None]:
        """Findings per evaluated rule as GX counted them (None for skipped rules)."""
        return {
            rule.id: None
            if self.rule_status(rule.id) in ("skipped", "error")
            else self.by_name()[rule.id].unexpected_count
            for rule in active_rules()
        }

    @property
    def guards_ok(self) -> bool:
        checks = self.by_name()
        return all(checks[name].status == "pass" for name in GUARD_NAMES)

    @property
    def unexpected_errors(self) -> list[str]:
        """Checks GX could not evaluate for a reason other than a reported skip."""
        return [
            c.name
            for c in self.checks
            if c.status == "error" and not (c.error and SKIPPED_PREFIX in c.error)
        ]


def validate_rules(
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    as_of: date,
    config: RulesConfig | None = None,
    *,
    gx_root: Path | None,
    build_docs: bool,
    service_months: Iterable[date] | None = None,
    sample_rows: int = 20,
    docs_when: Callable[[list[CheckResult]], bool] | None = None,
) -> RulesSuiteResult:
    """Validate the findings of ``as_of`` (``run_rules`` ran) through GX; see the module docstring.

    ``con`` is this process's open connection to ``db_path`` (GX runs on cursors of it, so it
    sees what ``con`` has committed). ``service_months``: the months ``run_rules`` replaced, when
    it ran for some only (a backfill). ``docs_when``: with ``build_docs``, build the Data Docs
    only when it is true of the results (``warehouse.gx_runner.validate``). Raises
    ``MartNotBuilt`` when the mart is not of ``as_of``.
    """
    config = config or load_config()
    built = built_as_of(con)
    if built != as_of:
        raise MartNotBuilt(
            f"the mart was built for {built or 'no date'}; run build_models and run_rules "
            f"for {as_of} first"
        )
    not_evaluated, reasons = skipped_rules(con, config, as_of)
    months = list(service_months or ())
    checks = [*rule_checks(reasons, not_evaluated, months), *guard_checks(as_of, months)]
    result = validate(
        db_path,
        SUITE_NAME,
        checks,
        gx_root=gx_root,
        build_docs=build_docs,
        con=con,
        sample_rows=sample_rows,
        keep_runs=config["gx.keep_runs"],
        docs_when=docs_when,
    )
    return RulesSuiteResult(
        suite_name=result.suite_name,
        checks=result.checks,
        seconds=result.seconds,
        docs_index=result.docs_index,
        gx_success=result.gx_success,
        as_of=as_of,
        skipped=dict(reasons),
    )


STAGING_SUITE_NAME = "recoup_staging"


def validate_staging(
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    *,
    gx_root: Path | None,
    build_docs: bool,
    sample_rows: int = 20,
    keep_runs: int = DEFAULT_KEEP_RUNS,
    docs_when: Callable[[list[CheckResult]], bool] | None = None,
) -> SuiteResult:
    """The structural checks (``loading.structural``, the same definitions that gate each
    file) over everything staged, as a second GX suite: gating checks pass by construction (a
    file that failed one was never loaded), so what shows here are the warnings, such as NPIs
    whose check digit is wrong. ``keep_runs``: runs of each suite kept under ``gx_root``;
    ``docs_when`` as in ``validate_rules``."""
    from loading.structural import structural_checks

    return validate(
        db_path,
        STAGING_SUITE_NAME,
        list(structural_checks()),
        gx_root=gx_root,
        build_docs=build_docs,
        con=con,
        sample_rows=sample_rows,
        keep_runs=keep_runs,
        docs_when=docs_when,
    )
