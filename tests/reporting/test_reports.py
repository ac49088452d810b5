"""exposure.json, findings.csv/.parquet and the report folder, to the cent, over a tiny warehouse
whose every payment and finding is known (tests/rulekit.py):

  claim  payer  rendering  DOS         code   paid                            findings
  C1     P1     R1         2024-06-03  90837  151.37                          time_unsupported 71.37
  C2     P1     R1         2024-06-03  90834  160.06 (2 units, unsigned note) note_missing 160.06,
                                                                              units_over_limit 80.03
  C3     P1     R2         2024-06-03  90834  100.01, reversed to 0           (not paid)
  C4     P2     R2         2024-06-03  90837  140.00, reversed, then 120.45   late_signature 0.00
  C5     P2     R1         2024-02-05  90834  90.10 paid 2024-03-01 (P2 has a note_missing 90.10,
                                              6-month look-back)              time-barred
  C6     P1     R1         2024-06-03  90832  0.00 (denied)
  C7     P1     R3         2024-06-03  90791  200.00; PLB WO 25.50 names it
  C8     P1     R1         2024-06-03  90834  75.00, reversed, then voided (frequency 8)
  ZZ999  PLB WO 55.25 in a P1 835 for a claim the warehouse does not know
  XX1    an 835 line of 45.00 for a claim never submitted (unmatched)
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from expectations.catalog import RULE_IDS, RulesResult
from flows.handover import report_rules
from marts.build import build_models
from reporting import (
    ReportInputsStale,
    Scope,
    artifact_key_prefix,
    build_summary,
    report_dir,
    to_json,
    write_reports,
)
from reporting.extracts import FINDING_COLUMNS
from reporting.json_report import money
from tests.rulekit import Kit, Line, Remit, new_kit
from warehouse.connection import migrate

R1, R2, R3 = "2222222222", "3333333333", "4444444444"
AS_OF = date(2024, 12, 31)
JUNE = (date(2024, 6, 1), date(2024, 6, 30))


def build_scenario(kit: Kit) -> RulesResult:
    kit.payer("P2", lookback_months=6)
    kit.fee("90834", "80.00")
    kit.fee("90832", "50.00")
    kit.paid_line("C1", "90837", "151.37", rendering_npi=R1)
    kit.session("C1", minutes=40)
    kit.claim("C2", [Line("90834", units=2)], rendering_npi=R1, member_id="M2")
    kit.pay("C2", [Remit("90834", "160.06")])
    kit.session("C2", minutes=45, signed=None)
    kit.paid_line("C3", "90834", "100.01", rendering_npi=R2)
    kit.reverse("C3", [Remit("90834", "100.01")], payment_date=date(2024, 8, 1))
    kit.session("C3")
    kit.claim("C4", [Line("90837")], payer_id="P2", rendering_npi=R2)
    kit.pay("C4", [Remit("90837", "140.00")], payer_id="P2")
    kit.reverse("C4", [Remit("90837", "140.00")], payer_id="P2", payment_date=date(2024, 8, 1))
    kit.pay("C4", [Remit("90837", "120.45")], payer_id="P2", payment_date=date(2024, 8, 1))
    kit.session("C4", signed=date(2024, 6, 15))
    kit.paid_line(
        "C5",
        "90834",
        "90.10",
        payment_date=date(2024, 3, 1),
        payer_id="P2",
        rendering_npi=R1,
        date_of_service=date(2024, 2, 5),
    )
    kit.paid_line("C6", "90832", "0.00", rendering_npi=R1)
    kit.session("C6")
    kit.paid_line("C7", "90791", "200.00", rendering_npi=R3)
    kit.session("C7")
    takebacks = kit.payment(payment_date=date(2024, 9, 1))
    kit.plb(takebacks, "ZZ999", "55.25")
    kit.plb(takebacks, "C7", "25.50")
    kit.paid_line("C8", "90834", "75.00", rendering_npi=R1)
    kit.reverse("C8", [Remit("90834", "75.00")], payment_date=date(2024, 8, 1))
    kit.claim("C8", [Line("90834")], rendering_npi=R1, frequency_code="8")
    kit.pay("XX1", [Remit("90834", "45.00")])
    return kit.run(as_of=AS_OF)


@pytest.fixture(scope="module")
def scenario() -> tuple[Kit, RulesResult]:
    kit = new_kit(AS_OF)
    return kit, build_scenario(kit)


def summary_of(scenario: tuple[Kit, RulesResult], scope: Scope) -> dict[str, Any]:
    kit, result = scenario
    return build_summary(
        kit.con, as_of=AS_OF, scope=scope, skipped=result.skipped, rules=report_rules()
    )


def zero_rules(**fired: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {rule: {"lines": 0, "exposure": 0.0} for rule in RULE_IDS}
    for rule, body in fired.items():
        rules[rule.replace("__", ".")] = body
    return rules


# ---- exposure.json, nightly ----------------------------------------------------------------------


def test_nightly_totals_to_the_cent(scenario: tuple[Kit, RulesResult]) -> None:
    summary = summary_of(scenario, Scope.nightly())
    assert summary["as_of"] == "2024-12-31"
    assert summary["scope"] == {
        "kind": "nightly",
        "start": None,
        "end": None,
        "payer_id": None,
        "reason": None,
        "claim_ids": None,
    }
    assert summary["totals"] == {
        "claim_lines": 7,  # C8 was voided: its line left the claim
        "paid_lines": 5,
        "net_paid": 721.98,
        # C1 71.37 + C2 160.06 (max of 160.06 and 80.03, capped at its net paid 160.06)
        "open_exposure": 231.43,
        "open_exposure_lines": 2,
        "time_barred_exposure": 90.10,  # C5: paid 2024-03-01 + 6 months < as of
        # reversals C3 100.01 + C4 140.00 + C8 75.00, PLB WO C7 25.50 + unknown ZZ999 55.25
        "realized_recoupments": 395.76,
        "flagged_lines": 4,  # C1, C2, C4 (a warning) and C5 (time-barred)
        "findings": 5,  # those four lines' findings: C2 carries two
    }
    assert summary["realized_recoupments"] == {
        "reversals": 315.01,
        "plb_wo_known_claims": 25.50,
        "plb_wo_unknown_claims": 55.25,
        "unknown_claims": 55.25,
    }
    # XX1's 45.00, and C8's payment and reversal (C8 is no longer a current claim)
    assert summary["unmatched_remittances"] == {"count": 3, "amount": 45.00}


def test_by_rule_lists_every_rule_and_counts_findings_that_are_not_time_barred(
    scenario: tuple[Kit, RulesResult],
) -> None:
    summary = summary_of(scenario, Scope.nightly())
    assert summary["by_rule"] == zero_rules(
        coding__time_unsupported={"lines": 1, "exposure": 71.37},
        coding__units_over_limit={"lines": 1, "exposure": 80.03},
        documentation__note_missing={"lines": 1, "exposure": 160.06},  # not C5: time-barred
        documentation__late_signature={"lines": 1, "exposure": 0.0},
    )
    assert list(summary["by_rule"]) == list(RULE_IDS)  # every catalog id, even at zero


def test_by_payer_and_by_rendering_npi(scenario: tuple[Kit, RulesResult]) -> None:
    summary = summary_of(scenario, Scope.nightly())
    assert summary["by_payer"] == {
        "P1": {"net_paid": 511.43, "open_exposure": 231.43, "realized_recoupments": 255.76},
        "P2": {"net_paid": 210.55, "open_exposure": 0.0, "realized_recoupments": 140.00},
    }
    assert summary["by_rendering_npi"] == {
        # share: 1 of its 3 paid 90832/90834/90837 lines in the window (C1, C2, C5) is 90837
        R1: {"net_paid": 401.53, "open_exposure": 231.43, "share_90837": 0.3333},
        R2: {"net_paid": 120.45, "open_exposure": 0.0, "share_90837": 1.0},  # C3 is not paid
        R3: {"net_paid": 200.00, "open_exposure": 0.0, "share_90837": None},  # 90791 only
    }
    assert summary["by_service_month"] == {
        "2024-02": {
            "claim_lines": 1,
            "net_paid": 90.10,
            "open_exposure": 0.0,
            "time_barred_exposure": 90.10,
        },
        "2024-06": {
            "claim_lines": 6,
            "net_paid": 631.88,
            "open_exposure": 231.43,
            "time_barred_exposure": 0.0,
        },
    }


def test_rules_skipped_are_passed_through_sorted(scenario: tuple[Kit, RulesResult]) -> None:
    _, result = scenario
    summary = summary_of(scenario, Scope.nightly())
    assert set(summary["rules_skipped"]) == {
        "coverage.lapsed",
        "coverage.unverified",
        "coding.high_level_outlier",
    }
    assert summary["rules_skipped"] == result.skipped
    assert list(summary["rules_skipped"]) == sorted(result.skipped)


def test_summary_is_json_ready_and_money_prints_exact_cents(
    scenario: tuple[Kit, RulesResult],
) -> None:
    summary = summary_of(scenario, Scope.nightly())
    text = to_json(summary)
    assert json.loads(text) == summary
    assert '"open_exposure": 231.43,' in text
    assert '"time_barred_exposure": 90.1\n' in text
    assert money(Decimal("1234.50")) == 1234.5
    assert repr(money(Decimal("0.30"))) == "0.3"
    assert repr(money(Decimal("9999999999999.99"))) == "9999999999999.99"
    assert repr(money(Decimal("-0.00"))) == "0.0"
    assert money(Decimal("2.675")) == 2.68  # half to even at the cent, on the exact decimal
    with pytest.raises(ValueError, match="exactly"):
        money(Decimal("12345678901234567.89"))


# ---- backfill scopes -----------------------------------------------------------------------------


def test_backfill_of_one_payer_and_month(scenario: tuple[Kit, RulesResult]) -> None:
    scope = Scope.backfill(*JUNE, payer_id="P1", reason="audit letter 2025-01")
    summary = summary_of(scenario, scope)
    assert summary["scope"] == {
        "kind": "backfill",
        "start": "2024-06-01",
        "end": "2024-06-30",
        "payer_id": "P1",
        "reason": "audit letter 2025-01",
        "claim_ids": None,
    }
    assert summary["totals"] == {
        "claim_lines": 5,  # C1, C2, C3, C6, C7
        "paid_lines": 3,
        "net_paid": 511.43,
        "open_exposure": 231.43,
        "open_exposure_lines": 2,
        "time_barred_exposure": 0.0,
        # C3 100.01, voided C8 75.00, WO C7 25.50, and the unknown-claim WO of P1 paid after
        # the window began 55.25
        "realized_recoupments": 255.76,
        "flagged_lines": 2,
        "findings": 3,  # C1 one, C2 two (a line can carry several findings)
    }
    assert summary["by_payer"] == {
        "P1": {"net_paid": 511.43, "open_exposure": 231.43, "realized_recoupments": 255.76}
    }
    assert summary["by_rule"]["documentation.late_signature"] == {"lines": 0, "exposure": 0.0}
    assert set(summary["by_rendering_npi"]) == {R1, R2, R3}
    assert summary["by_rendering_npi"][R2] == {
        "net_paid": 0.0,
        "open_exposure": 0.0,
        "share_90837": 1.0,  # the share the outlier rule scores: all payers, whatever the scope
    }
    assert summary["unmatched_remittances"] == {"count": 3, "amount": 45.00}


def test_backfill_with_a_time_barred_line_only(scenario: tuple[Kit, RulesResult]) -> None:
    scope = Scope.backfill(date(2024, 1, 1), date(2024, 3, 31), payer_id="P2")
    summary = summary_of(scenario, scope)
    assert summary["totals"] == {
        "claim_lines": 1,
        "paid_lines": 1,
        "net_paid": 90.10,
        "open_exposure": 0.0,
        "open_exposure_lines": 0,
        "time_barred_exposure": 90.10,
        "realized_recoupments": 0.0,  # ZZ999's takeback came from P1
        "flagged_lines": 1,
        "findings": 1,
    }
    assert summary["by_rule"] == zero_rules()
    assert summary["unmatched_remittances"] == {"count": 0, "amount": 0.0}


def test_backfill_of_named_claims(scenario: tuple[Kit, RulesResult]) -> None:
    scope = Scope.backfill(*JUNE, claim_ids=["C4", "C1", "C4"])
    summary = summary_of(scenario, scope)
    assert summary["scope"]["claim_ids"] == ["C1", "C4"]
    assert summary["totals"]["claim_lines"] == 2
    assert summary["totals"]["net_paid"] == 271.82
    assert summary["totals"]["open_exposure"] == 71.37
    assert summary["totals"]["realized_recoupments"] == 140.00  # not ZZ999: not named
    assert summary["by_payer"] == {
        "P1": {"net_paid": 151.37, "open_exposure": 71.37, "realized_recoupments": 0.0},
        "P2": {"net_paid": 120.45, "open_exposure": 0.0, "realized_recoupments": 140.00},
    }


def test_backfill_of_an_empty_window(scenario: tuple[Kit, RulesResult]) -> None:
    summary = summary_of(scenario, Scope.backfill(date(2025, 1, 1), date(2025, 1, 31)))
    assert summary["totals"] == {
        "claim_lines": 0,
        "paid_lines": 0,
        "net_paid": 0.0,
        "open_exposure": 0.0,
        "open_exposure_lines": 0,
        "time_barred_exposure": 0.0,
        "realized_recoupments": 0.0,  # ZZ999 was taken back before the window began
        "flagged_lines": 0,
        "findings": 0,
    }
    assert summary["by_payer"] == {}
    assert summary["by_rendering_npi"] == {}
    assert summary["by_rule"] == zero_rules()


def test_scope_validation_folders_and_artifact_keys() -> None:
    with pytest.raises(ValueError, match="start and an end"):
        Scope("backfill", date(2024, 1, 1))
    with pytest.raises(ValueError, match="after its end"):
        Scope.backfill(date(2024, 2, 1), date(2024, 1, 1))
    backfill = Scope.backfill(date(2024, 1, 1), date(2024, 3, 31), payer_id="BCBS IL")
    assert report_dir(Path("reports"), backfill, AS_OF) == Path(
        "reports/backfill/2024-01-01_2024-03-31_bcbs-il"
    )
    assert report_dir(Path("reports"), Scope.nightly(), AS_OF) == Path("reports/2024-12-31")
    assert artifact_key_prefix(Scope.nightly()) == "recoup-nightly"
    assert artifact_key_prefix(backfill) == "recoup-backfill-bcbs-il"
    assert artifact_key_prefix(Scope.backfill(*JUNE)) == "recoup-backfill"


# ---- the report folder ---------------------------------------------------------------------------


def test_findings_csv_and_parquet_rows(scenario: tuple[Kit, RulesResult], tmp_path: Path) -> None:
    kit, result = scenario
    paths = write_reports(
        kit.con,
        tmp_path,
        as_of=AS_OF,
        scope=Scope.nightly(),
        skipped=result.skipped,
        rules=report_rules(),
    )
    rows = list(csv.reader(io.StringIO(paths.findings_csv.read_text())))
    assert tuple(rows[0]) == FINDING_COLUMNS
    identity = [row[:14] for row in rows[1:]]
    assert identity == [
        # claim, line, payer, member, rendering, billing, DOS, code, rule, net paid, exposure,
        # time-barred, payment date, look-back
        ["C1", "1", "P1", "M1", R1, "1111111111", "2024-06-03", "90837",
         "coding.time_unsupported", "151.37", "71.37", "false", "2024-07-01", "24"],
        ["C2", "1", "P1", "M2", R1, "1111111111", "2024-06-03", "90834",
         "coding.units_over_limit", "160.06", "80.03", "false", "2024-07-01", "24"],
        ["C2", "1", "P1", "M2", R1, "1111111111", "2024-06-03", "90834",
         "documentation.note_missing", "160.06", "160.06", "false", "2024-07-01", "24"],
        ["C4", "1", "P2", "M1", R2, "1111111111", "2024-06-03", "90837",
         "documentation.late_signature", "120.45", "0.00", "false", "2024-08-01", "6"],
        ["C5", "1", "P2", "M1", R1, "1111111111", "2024-02-05", "90834",
         "documentation.note_missing", "90.10", "90.10", "true", "2024-03-01", "6"],
    ]  # fmt: skip
    assert [row[15] for row in rows[1:]] == [  # claim_key: CLM01 ~ first date of service
        "C1~2024-06-03", "C2~2024-06-03", "C2~2024-06-03", "C4~2024-06-03", "C5~2024-02-05",
    ]  # fmt: skip
    evidence = [json.loads(row[14]) for row in rows[1:]]
    assert evidence[0]["minutes"] == 40 and evidence[0]["supported_code"] == "90834"
    parquet = duckdb.sql(
        f"SELECT claim_id, rule, net_paid, exposure, time_barred, typeof(exposure) "
        f"FROM '{paths.findings_parquet}'"
    ).fetchall()
    assert parquet == [
        ("C1", "coding.time_unsupported", Decimal("151.37"), Decimal("71.37"), False,
         "DECIMAL(18,2)"),
        ("C2", "coding.units_over_limit", Decimal("160.06"), Decimal("80.03"), False,
         "DECIMAL(18,2)"),
        ("C2", "documentation.note_missing", Decimal("160.06"), Decimal("160.06"), False,
         "DECIMAL(18,2)"),
        ("C4", "documentation.late_signature", Decimal("120.45"), Decimal("0.00"), False,
         "DECIMAL(18,2)"),
        ("C5", "documentation.note_missing", Decimal("90.10"), Decimal("90.10"), True,
         "DECIMAL(18,2)"),
    ]  # fmt: skip
    assert json.loads(paths.exposure_json.read_text()) == paths.summary
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "changes.csv",  # a nightly's: since the previous stored night
        "disputes",
        "disputes.csv",
        "exposure.json",
        "findings.csv",
        "findings.parquet",
        "index.html",
        "providers",  # a nightly's clinician pages and re-verification list
        "reverify.csv",
    ]


def test_a_second_write_is_byte_identical(
    scenario: tuple[Kit, RulesResult], tmp_path: Path
) -> None:
    kit, result = scenario
    scope = Scope.backfill(*JUNE, payer_id="P1")
    first = write_reports(
        kit.con,
        tmp_path / "a",
        as_of=AS_OF,
        scope=scope,
        skipped=result.skipped,
        rules=report_rules(),
    )
    second = write_reports(
        kit.con,
        tmp_path / "b",
        as_of=AS_OF,
        scope=scope,
        skipped=result.skipped,
        rules=report_rules(),
    )
    again = write_reports(
        kit.con,
        tmp_path / "a",
        as_of=AS_OF,
        scope=scope,
        skipped=result.skipped,
        rules=report_rules(),
    )
    for name in ("exposure.json", "findings.csv", "index.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first.summary == second.summary == again.summary
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".")]  # no temp left


def test_backfill_findings_extract_holds_only_lines_in_scope(
    scenario: tuple[Kit, RulesResult], tmp_path: Path
) -> None:
    kit, result = scenario
    paths = write_reports(
        kit.con,
        tmp_path,
        as_of=AS_OF,
        scope=Scope.backfill(date(2024, 1, 1), date(2024, 3, 31)),
        skipped=result.skipped,
        rules=report_rules(),
    )
    rows = list(csv.DictReader(io.StringIO(paths.findings_csv.read_text())))
    assert [(row["claim_id"], row["rule"], row["time_barred"]) for row in rows] == [
        ("C5", "documentation.note_missing", "true")
    ]


def test_reports_from_a_read_only_warehouse(tmp_path: Path) -> None:
    path = tmp_path / "recoup.duckdb"
    con = duckdb.connect(str(path))
    migrate(con)
    kit = Kit(con, AS_OF)
    result = build_scenario(kit)
    con.close()
    with duckdb.connect(str(path), read_only=True) as reader:
        paths = write_reports(
            reader,
            tmp_path / "out",
            as_of=AS_OF,
            scope=Scope.nightly(),
            skipped=result.skipped,
            rules=report_rules(),
        )
    assert paths.summary["totals"]["open_exposure"] == 231.43


def test_stale_inputs_are_refused(tmp_path: Path) -> None:
    kit = new_kit(AS_OF)
    result = build_scenario(kit)
    build_models(kit.con, date(2024, 11, 30))  # the mart no longer matches as of
    with pytest.raises(ReportInputsStale, match="built for 2024-11-30"):
        build_summary(
            kit.con,
            as_of=AS_OF,
            scope=Scope.nightly(),
            skipped=result.skipped,
            rules=report_rules(),
        )
    # a new payment after the rules ran: findings carry an old net paid
    kit.pay("C1", [Remit("90837", "10.00")], payment_date=date(2024, 12, 1))
    build_models(kit.con, AS_OF)
    with pytest.raises(ReportInputsStale, match="another net paid"):
        write_reports(
            kit.con,
            tmp_path,
            as_of=AS_OF,
            scope=Scope.nightly(),
            skipped=result.skipped,
            rules=report_rules(),
        )
    assert not tmp_path.joinpath("exposure.json").exists()


explain = report_rules().explain  # each rule's own plain words, handed over in the rule book


def test_reasons_in_plain_words() -> None:
    assert (
        explain(
            "coding.time_unsupported",
            {"code": "90834", "minutes": 37, "code_minimum": 38, "supported_code": "90832",
             "allowed_amount": 50.0, "priced": True},
        )
        == "note documents 37 minutes; 90834 needs 38 (supports 90832, allowed $50.00)"
    )  # fmt: skip
    assert explain("documentation.note_missing", {"session_row": False}) == (
        "no session note for this claim"
    )
    assert explain("coding.units_over_limit", {"code": "90837", "units": 3.0,
                                                "max_units_per_day": 1.0}) == (
        "3 units of 90837; limit 1 a day"
    )  # fmt: skip
    assert explain("coverage.unverified", {"last_check_on_or_before": None}) == (
        "eligibility never checked on or before the session"
    )
    # whatever a rule writes, the page still renders
    assert explain("coding.high_level_outlier", {}) == (
        "provider bills 90837 far more often than peers"
    )
    assert explain("some.new_rule", {"x": 1}) == "some.new_rule"


def test_an_empty_warehouse_still_gets_a_whole_report(tmp_path: Path) -> None:
    kit = new_kit(AS_OF)
    result = kit.run(as_of=AS_OF)
    paths = write_reports(
        kit.con,
        tmp_path,
        as_of=AS_OF,
        scope=Scope.nightly(),
        skipped=result.skipped,
        rules=report_rules(),
    )
    assert paths.summary["totals"] == {
        "claim_lines": 0,
        "paid_lines": 0,
        "net_paid": 0.0,
        "open_exposure": 0.0,
        "open_exposure_lines": 0,
        "time_barred_exposure": 0.0,
        "realized_recoupments": 0.0,
        "flagged_lines": 0,
        "findings": 0,
    }
    assert paths.summary["by_rule"] == zero_rules()
    assert paths.findings_csv.read_text() == ",".join(FINDING_COLUMNS) + "\n"
    html = paths.index_html.read_text()
    assert "No claim line carries open exposure." in html
    # every chart drawn, each saying there is nothing to show, and this night's open exposure
    assert html.count("<svg") == 6


def test_step_down_reason_lists_the_earlier_sessions() -> None:
    evidence = {
        "earlier_scored_sessions": [
            {"date_of_service": "2026-02-14", "phq9": 9, "gad7": 3},
            {"date_of_service": "2026-02-21", "phq9": 9, "gad7": None},
        ],
        "highest_score": 9,
        "score_threshold": 10,
    }
    assert explain("necessity.no_step_down", evidence) == (
        "last 2 scored sessions (2026-02-14, 2026-02-21) all scored below 10 (highest 9): "
        "a 90834 would do"
    )
