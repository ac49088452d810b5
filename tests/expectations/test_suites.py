"""The rules as a GX suite: per-rule results equal the catalog's counts, skipped rules are never a
pass, guards catch a broken mart, Data Docs are built; the structural checks run through GX too.

One module-scoped warehouse and GX run (importing GX takes about 6 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from expectations.catalog import RULES, MartNotBuilt, RulesResult, run_rules
from expectations.suites import GUARD_NAMES, PARTLY, RulesSuiteResult, validate_rules
from loading.structural import structural_checks
from tests.rulekit import AS_OF, Kit, Line, Remit
from warehouse.connection import migrate
from warehouse.gx_runner import SuiteResult, validate

SILENT_NPI = "1234567893"  # a billing provider that sends no sessions feed
WHOLLY_SKIPPED = {"coverage.lapsed", "coverage.unverified", "coding.high_level_outlier"}
PARTLY_SKIPPED = {
    "coding.time_unsupported",
    "documentation.time_missing",
    "documentation.note_missing",
    "documentation.late_signature",
    "necessity.no_step_down",
}
EXPECTED_COUNTS = {
    "coding.time_unsupported": 1,  # A1: 90837 with 45 minutes
    "documentation.time_missing": 1,  # A7: a session row without minutes
    "documentation.note_missing": 1,  # A6: no session row
    "documentation.late_signature": 1,  # A3: signed 17 days after the visit
    "coding.addon_without_primary": 1,  # A3: +90785 alone
    "coding.multiple_timed_codes": 1,  # MT1: 90832 and 90834 the same day, the cheaper one
    "coding.units_over_limit": 1,  # A2: 90834 x 2
    "billing.duplicate": 1,  # A5 repeats A4
    "necessity.no_step_down": 0,
    "telehealth.modifier_missing": 1,  # T1: place 02 without a modifier, payer P2 requires one
}


@dataclass
class Validated:
    kit: Kit
    db_path: Path
    gx_root: Path
    rules: RulesResult
    suite: RulesSuiteResult
    structural: SuiteResult


def build(kit: Kit) -> None:
    kit.fee("90834", "98.00")
    kit.payer("P2", telehealth_required=True)
    kit.paid_line("A1", "90837", "150.00", member_id="M1")
    kit.session("A1", minutes=45)
    kit.paid_line("A2", "90834", "200.00", member_id="M2", line=Line("90834", units=2))
    kit.session("A2", minutes=45)
    kit.paid_line("A3", "90785", "20.00", member_id="M3")
    kit.session("A3", signed=datetime(2024, 6, 20, 9, 0))
    kit.paid_line("A4", "90834", "100.00", member_id="M9")
    kit.paid_line("A5", "90834", "100.00", member_id="M9", payment_date=date(2024, 7, 2))
    kit.session("A4", minutes=50)
    kit.session("A5", minutes=50)
    kit.paid_line("A6", "90834", "100.00", member_id="M6")
    kit.paid_line("A7", "90834", "100.00", member_id="M7")
    kit.session("A7", minutes=None)
    kit.claim("MT1", [Line("90832"), Line("90834")], member_id="M8")
    kit.pay("MT1", [Remit("90832", "60.00"), Remit("90834", "90.00")])
    kit.session("MT1", minutes=50)
    kit.paid_line(
        "T1",
        "90834",
        "100.00",
        payer_id="P2",
        member_id="M5",
        line=Line("90834", place_of_service="02"),
    )
    kit.session("T1", minutes=50)
    kit.paid_line("B1", "90834", "100.00", member_id="M4", billing_npi=SILENT_NPI)


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Validated]:
    root = tmp_path_factory.mktemp("suites")
    db_path = root / "recoup.duckdb"
    con = duckdb.connect(str(db_path))
    migrate(con)
    kit = Kit(con)
    build(kit)
    rules = kit.run()
    gx_root = root / "reports" / "gx"
    suite = validate_rules(con, db_path, AS_OF, gx_root=gx_root, build_docs=True)
    structural = validate(db_path, "recoup_structural", structural_checks(), con=con)
    yield Validated(kit, db_path, gx_root, rules, suite, structural)
    con.close()


def test_gx_evaluated_every_check_it_was_meant_to(validated: Validated) -> None:
    # GX reports an expectation that raised as success=False: only the planned skips may raise.
    assert validated.suite.unexpected_errors == []
    errored = {c.name for c in validated.suite.checks if c.status == "error"}
    assert errored == WHOLLY_SKIPPED | {rule_id + PARTLY for rule_id in PARTLY_SKIPPED}
    assert validated.suite.guards_ok
    assert [c.status for c in validated.suite.checks if c.name in GUARD_NAMES] == ["pass"] * len(
        GUARD_NAMES
    )


def test_per_rule_results_equal_the_catalog_counts(validated: Validated) -> None:
    # a rule not named here (added since) finds nothing in this scenario
    found = {rule_id: n for rule_id, n in validated.rules.counts.items() if n}
    assert found == {rule_id: n for rule_id, n in EXPECTED_COUNTS.items() if n}
    assert set(EXPECTED_COUNTS) <= set(validated.rules.counts)
    counts = validated.suite.rule_counts()
    assert {rule_id: n for rule_id, n in counts.items() if n is not None} == (
        validated.rules.counts
    )
    for rule in RULES:
        check = validated.suite.by_name()[rule.id]
        assert check.description == rule.description or rule.id in WHOLLY_SKIPPED
        if rule.id in EXPECTED_COUNTS:
            expected = "fail" if EXPECTED_COUNTS[rule.id] else "pass"
            assert validated.suite.rule_status(rule.id) == expected
    duplicate = validated.suite.by_name()["billing.duplicate"].sample_rows
    assert [(r["claim_id"], r["line_number"], r["exposure"]) for r in duplicate] == [
        ("A5", 1, "100.00")
    ]


def test_skipped_rules_are_reported_with_their_reason_never_as_a_pass(
    validated: Validated,
) -> None:
    skipped = validated.rules.skipped
    assert set(skipped) == WHOLLY_SKIPPED | PARTLY_SKIPPED
    assert validated.suite.skipped == skipped
    for rule_id in WHOLLY_SKIPPED:
        check = validated.suite.by_name()[rule_id]
        assert (check.status, check.success, check.unexpected_count) == ("error", False, None)
        assert check.error is not None and f"skipped: {skipped[rule_id]}" in check.error
        assert validated.suite.rule_status(rule_id) == "skipped"
        assert validated.suite.rule_counts()[rule_id] is None
    for rule_id in PARTLY_SKIPPED:
        assert skipped[rule_id] == (
            "partial: not evaluated for 1 billing provider(s) that send no sessions feed: "
            + SILENT_NPI
        )
        check = validated.suite.by_name()[rule_id + PARTLY]
        assert check.status == "error"
        assert check.error is not None and skipped[rule_id] in check.error


def test_results_and_data_docs_are_kept_under_gx_root(validated: Validated) -> None:
    index = validated.suite.docs_index
    assert index == validated.gx_root.resolve() / "uncommitted/data_docs/local_site/index.html"
    assert index.is_file()
    assert "recoup_rules" in index.read_text()
    results = list((validated.gx_root / "uncommitted" / "validations").rglob("*.json"))
    assert len(results) == 1


def test_guards_catch_a_broken_mart(validated: Validated) -> None:
    con = validated.kit.con
    con.execute(
        "UPDATE mart.findings SET exposure = net_paid + 1, as_of = DATE '2020-01-01' "
        "WHERE claim_id = 'A2'"
    )
    try:
        broken = validate_rules(con, validated.db_path, AS_OF, gx_root=None, build_docs=False)
        failing = {c.name: c.unexpected_count for c in broken.checks if c.name in GUARD_NAMES}
        assert {name: n for name, n in failing.items() if n} == {
            "findings: exposure between 0 and net paid": 1,
            "findings: of this as-of date": 1,
        }
        assert not broken.guards_ok
        # a run_rules over May only: June's findings keep their own as-of date, May has none
        may = validate_rules(
            con,
            validated.db_path,
            AS_OF,
            gx_root=None,
            build_docs=False,
            service_months=[date(2024, 5, 1)],
        )
        assert set(may.rule_counts().values()) == {0, None}
        assert may.by_name()["findings: of this as-of date"].status == "pass"
        assert may.by_name()["findings: exposure between 0 and net paid"].status == "fail"
    finally:
        run_rules(con, AS_OF)


def test_a_mart_of_another_date_is_refused(validated: Validated) -> None:
    with pytest.raises(MartNotBuilt, match="built for 2024-12-31"):
        validate_rules(
            validated.kit.con,
            validated.db_path,
            date(2025, 1, 31),
            gx_root=None,
            build_docs=False,
        )


def test_structural_checks_run_through_gx_on_the_warehouse(validated: Validated) -> None:
    result = validated.structural
    assert result.errors == []  # every structural query is evaluable by GX on DuckDB
    claims = validated.kit.rows("SELECT count(*) FROM stg.claims")[0][0]
    payments = validated.kit.rows("SELECT count(*) FROM stg.remit_payments")[0][0]
    # rulekit's default NPIs (1111111111, 2222222222) fail the check digit; its payments carry
    # BPR02 = 0.00 whatever their claims paid.
    assert {c.name: c.unexpected_count for c in result.failures} == {
        "stg.claims: billing_npi NPI check digit": claims - 1,  # all but B1 (1234567893)
        "stg.claims: rendering_npi NPI check digit": claims,
        "stg.remit_payments: total_paid balances": payments,
    }
    sample = result.by_name()["stg.claims: billing_npi NPI check digit"].sample_rows[0]
    assert sample["column"] == "billing_npi"
    assert sample["problem"] == ("'1111111111' fails the NPI check digit (Luhn with prefix 80840)")


def test_a_warehouse_without_findings_passes_every_guard(
    tmp_path: Path, validated: Validated
) -> None:
    # (uses the module fixture only so that GX is imported once)
    db_path = tmp_path / "clean.duckdb"
    con = duckdb.connect(str(db_path))
    migrate(con)
    kit = Kit(con)
    kit.paid_line("C1", "90834", "100.00")
    kit.session("C1", minutes=50)
    result = kit.run()
    assert result.findings == 0
    suite = validate_rules(con, db_path, AS_OF, gx_root=None, build_docs=False)
    con.close()
    assert suite.unexpected_errors == []
    assert suite.guards_ok
    assert {n for n in suite.rule_counts().values()} == {0, None}
