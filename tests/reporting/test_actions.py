"""Issue 14, item 1: every finding says what to do about it (an action owned by its rule) and by
when (``act_by``: the last day the payer can still recoup the payment), with the payer's and the
rendering provider's names, in findings.csv/parquet, exposure.json (``by_action``) and the page
("Work by action"). Checked on the demo's 300 claims (seed 7, as of 2026-11-15), whose amounts
must not move: open exposure $3,481.41, 57 of 374 claim lines flagged."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from expectations import actions
from expectations.catalog import RULES, run_rules
from expectations.definition import Rule
from flows.handover import report_rules
from loading.x12 import read_x12
from marts.build import build_models
from reporting import Scope, write_reports
from tests.conftest import DEMO_AS_OF, DemoWarehouse
from warehouse.connection import open_warehouse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "x12"

# The rule -> action vocabulary, as the rules define it (13 rules, 6 actions, each used).
EXPECTED_ACTIONS = {
    "coverage.lapsed": "re-verify eligibility",
    "coverage.unverified": "re-verify eligibility",
    "coding.time_unsupported": "correct the code and resubmit",
    "documentation.time_missing": "add the minutes to the note",
    "documentation.note_missing": "get the note signed",
    "documentation.late_signature": "keep, with the evidence for an audit",
    "coding.addon_without_primary": "correct the code and resubmit",
    "coding.multiple_timed_codes": "correct the code and resubmit",
    "coding.units_over_limit": "correct the code and resubmit",
    "billing.duplicate": "void the claim",
    "coding.high_level_outlier": "keep, with the evidence for an audit",
    "necessity.no_step_down": "keep, with the evidence for an audit",
    "telehealth.modifier_missing": "correct the code and resubmit",
}


@pytest.fixture(scope="module")
def report(demo_warehouse: DemoWarehouse, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("actions")
    db = demo_warehouse.copy_to(root / "wh")
    folder = root / "reports" / DEMO_AS_OF.isoformat()
    with open_warehouse(db) as con:
        build_models(con, DEMO_AS_OF)
        result = run_rules(con, DEMO_AS_OF)
        write_reports(
            con, folder, as_of=DEMO_AS_OF, scope=Scope.nightly(), skipped=result.skipped,
            rules=report_rules(),
        )  # fmt: skip
    with (folder / "findings.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    parquet = duckdb.sql(f"SELECT * FROM '{folder / 'findings.parquet'}'")
    return {
        "rows": rows,
        "header": list(rows[0]),
        "parquet_columns": parquet.columns,
        "parquet_types": [str(t) for t in parquet.types],
        "summary": json.loads((folder / "exposure.json").read_text()),
        "html": (folder / "index.html").read_text(),
    }


def finding(report: dict, claim_id: str, line: int, rule: str) -> dict[str, str]:
    (row,) = [
        r for r in report["rows"]
        if (r["claim_id"], r["line_number"], r["rule"]) == (claim_id, str(line), rule)
    ]  # fmt: skip
    return row


def test_each_rule_owns_exactly_one_action_of_the_vocabulary() -> None:
    assert {rule.id: rule.action for rule in RULES} == EXPECTED_ACTIONS
    assert set(EXPECTED_ACTIONS.values()) == set(actions.ACTIONS)  # all six are used
    assert report_rules().actions == EXPECTED_ACTIONS


def test_a_rule_with_an_action_outside_the_vocabulary_is_refused() -> None:
    source = Path(__file__).parents[2] / "expectations" / "rules" / "billing_duplicate.py"
    with pytest.raises(ValueError, match=r"action 'refund' is not one of: re-verify eligibility"):
        Rule.define(
            "billing.duplicate", None, source=str(source), order=100, explain=str, action="refund"
        )


def test_the_amounts_did_not_move(report: dict) -> None:
    totals = report["summary"]["totals"]
    assert totals["open_exposure"] == 3481.41
    assert totals["time_barred_exposure"] == 256.02
    assert (totals["flagged_lines"], totals["claim_lines"]) == (57, 374)
    assert totals["findings"] == len(report["rows"]) == 59  # a line can carry several findings


def test_findings_csv_appends_the_worklist_columns_after_the_old_ones(report: dict) -> None:
    assert report["header"] == [
        "claim_id", "line_number", "payer_id", "member_id", "rendering_npi", "billing_npi",
        "date_of_service", "code", "rule", "net_paid", "exposure", "time_barred",
        "payment_date", "lookback_months", "evidence", "claim_key",
        "action", "act_by", "payer_name", "provider_name",
    ]  # fmt: skip
    assert report["parquet_columns"][-4:] == ["action", "act_by", "payer_name", "provider_name"]
    assert report["parquet_types"][-3] == "DATE"


@pytest.mark.parametrize(
    ("claim_id", "line", "rule", "action", "act_by", "payer_name", "provider_name"),
    [
        # paid 2025-12-23, MCRDM looks back 12 months
        ("PCN00000004", 1, "coverage.lapsed", "re-verify eligibility", "2026-12-23",
         "DEMO MEDICARE PART B", "VARGAS, LUCIA"),
        ("PCN00000004", 2, "coding.multiple_timed_codes", "correct the code and resubmit",
         "2026-12-23", "DEMO MEDICARE PART B", "VARGAS, LUCIA"),
        ("PCN00000084", 1, "billing.duplicate", "void the claim", "2027-08-25",
         "DEMO MEDICARE PART B", "COSTA, MIGUEL"),
        ("PCN00000036", 1, "documentation.note_missing", "get the note signed", "2027-06-30",
         "DEMO MEDICARE PART B", "MATSUDA, KEN"),
        ("PCN00000033", 1, "documentation.time_missing", "add the minutes to the note",
         "2027-06-09", "DEMO MEDICARE PART B", "MATSUDA, KEN"),
        # paid 2026-10-01, BSTAR looks back 24 months
        ("PCN00000133", 1, "necessity.no_step_down", "keep, with the evidence for an audit",
         "2028-10-01", "BLUE STAR HEALTH PLAN", "OKAFOR, DANIEL"),
        ("ACCT0000018", 1, "telehealth.modifier_missing", "correct the code and resubmit",
         "2028-04-30", "BLUE STAR HEALTH PLAN", "NOVAK, HANA"),
        # time-barred: paid 2025-11-04 + 12 months is before 2026-11-15
        ("PCN00000007", 1, "documentation.time_missing", "add the minutes to the note",
         "2026-11-04", "DEMO MEDICARE PART B", "OKAFOR, DANIEL"),
    ],
)  # fmt: skip
def test_demo_findings_say_what_to_do_and_by_when(
    report: dict,
    claim_id: str,
    line: int,
    rule: str,
    action: str,
    act_by: str,
    payer_name: str,
    provider_name: str,
) -> None:
    row = finding(report, claim_id, line, rule)
    assert (row["action"], row["act_by"]) == (action, act_by)
    assert (row["payer_name"], row["provider_name"]) == (payer_name, provider_name)
    assert row["time_barred"] == ("true" if act_by < DEMO_AS_OF.isoformat() else "false")


def test_act_by_is_payment_date_plus_look_back_and_splits_open_from_time_barred(
    report: dict,
) -> None:
    for row in report["rows"]:
        assert row["action"] == EXPECTED_ACTIONS[row["rule"]]
        assert (row["act_by"] < DEMO_AS_OF.isoformat()) == (row["time_barred"] == "true"), row
    barred = sorted(
        (r["claim_id"], r["line_number"], r["act_by"])
        for r in report["rows"]
        if r["time_barred"] == "true"
    )
    assert barred == [
        ("PCN00000007", "1", "2026-11-04"),
        ("PCN00000008", "1", "2026-11-04"),
        ("PCN00000098", "2", "2026-11-11"),
        ("PCN00000099", "1", "2026-11-11"),
        ("PCN00000113", "1", "2026-07-22"),
        ("PCN00000116", "1", "2026-08-12"),
    ]


def test_exposure_json_by_action_counts_and_sums_to_the_cent(report: dict) -> None:
    by_action = report["summary"]["by_action"]
    assert by_action == {
        "re-verify eligibility": {
            "findings": 16, "exposure": 1483.68, "first_act_by": "2026-12-23"
        },
        "correct the code and resubmit": {
            "findings": 19, "exposure": 1046.08, "first_act_by": "2026-12-16"
        },
        "void the claim": {"findings": 5, "exposure": 430.15, "first_act_by": "2027-08-25"},
        "get the note signed": {"findings": 5, "exposure": 357.80, "first_act_by": "2027-05-19"},
        "add the minutes to the note": {
            "findings": 3, "exposure": 240.90, "first_act_by": "2027-06-09"
        },
        "keep, with the evidence for an audit": {
            "findings": 5, "exposure": 21.20, "first_act_by": "2026-11-18"
        },
    }  # fmt: skip
    # the same findings as by_rule (not time-barred, gross), regrouped by the rules' actions
    regrouped: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for rule, body in report["summary"]["by_rule"].items():
        regrouped[EXPECTED_ACTIONS[rule]][0] += body["lines"]
        regrouped[EXPECTED_ACTIONS[rule]][1] += Decimal(str(body["exposure"]))
    for action, (count, exposure) in regrouped.items():
        assert by_action[action]["findings"] == count
        assert Decimal(str(by_action[action]["exposure"])) == exposure


def test_the_page_groups_the_work_by_action_money_first_then_deadline(report: dict) -> None:
    html = report["html"]
    section = html.split('<section id="work-by-action">', 1)[1].split("</section>", 1)[0]
    headings = re.findall(r'<h3 id="action-\d+">([^<]+?) <span', section)
    assert headings == [
        "Re-verify eligibility",
        "Correct the code and resubmit",
        "Void the claim",
        "Get the note signed",
        "Add the minutes to the note",
        "Keep, with the evidence for an audit",
    ]
    assert "16 finding(s) · $1,483.68 · first deadline 2026-12-23" in section
    # within "void the claim": the largest exposure first, then the nearest deadline
    void = section.split("Void the claim", 1)[1].split("<h3", 1)[0]
    rows = re.findall(
        r'<td class="mono"><strong>([\d-]+)</strong></td>\s*<td class="mono">(\w+)</td>.*?'
        r'<td class="num">(\$[\d,.]+)</td>\s*</tr>',
        void,
        re.S,
    )
    assert rows == [
        ("2028-07-30", "PCN00000122", "$124.10"),
        ("2028-09-03", "PCN00000126", "$124.10"),
        ("2028-05-14", "PCN00000163", "$77.90"),
        ("2027-08-25", "PCN00000084", "$58.25"),
        ("2027-08-25", "PCN00000084", "$45.80"),
    ]
    # names beside payer ids and NPIs; time-barred findings are not work
    assert "DEMO MEDICARE PART B" in void and "COSTA, MIGUEL" in void
    assert "PCN00000113" not in section
    # never a member id (nor a member name: the readers do not stage them)
    for row in report["rows"]:
        assert row["member_id"] not in html


def test_837p_provider_names_come_from_nm1_85_and_82_never_a_member() -> None:
    result = read_x12((FIXTURES / "good.837").read_bytes(), "good.837", "0" * 64)
    claims = result.tables["stg.claims"].to_pylist()
    lines = result.tables["stg.claim_lines"].to_pylist()
    assert {c["billing_provider_name"] for c in claims} == {"MINDFUL THERAPY GROUP"}
    named = {(line["rendering_npi"], line["rendering_provider_name"]) for line in lines}
    assert named == {
        ("1111111112", "SMITH, ALEX"),  # the claim's NM1*82
        ("2222222227", "JONES, PAT"),  # a line's own NM1*82
        ("1234567893", "MINDFUL THERAPY GROUP"),  # no NM1*82: the billing provider renders
    }
    staged = json.dumps([claims, lines], default=str)
    for member_name in ("DOE", "JANE", "ROE", "RICHARD", "MARY"):  # NM1*IL / NM1*QC
        assert member_name not in staged


def test_names_prefer_payers_csv_then_the_835_and_the_latest_file(tmp_path: Path) -> None:
    from tests.rulekit import RENDERING_NPI, new_kit

    kit = new_kit()
    kit.con.execute(
        "INSERT INTO ref.payers"
        " (payer_id, name, lookback_months, telehealth_modifier_required, source)"
        " VALUES ('P2', 'PAYERS CSV NAME', 18, false, 'test')"
    )
    # copies of one 90834 (same member, provider and day): billing.duplicate on the later-paid
    kit.paid_line("C1", "90834", "100.00", payment_date=date(2024, 7, 1))
    kit.paid_line("C2", "90834", "100.00", payment_date=date(2024, 7, 5))
    kit.paid_line(
        "C3", "90834", "90.00", payment_date=date(2024, 7, 1), payer_id="P2", member_id="M2"
    )
    kit.paid_line(
        "C4", "90834", "90.00", payment_date=date(2024, 7, 9), payer_id="P2", member_id="M2"
    )
    kit.con.execute("UPDATE stg.claims SET payer_name = 'NAME IN THE 837P'")
    kit.con.execute("UPDATE stg.remit_payments SET payer_name = 'NAME IN THE 835'")
    kit.con.execute(  # the claims' NM1*82 (2310B); C4's file is the latest
        "UPDATE stg.claims SET rendering_provider_name = CASE claim_id "
        "WHEN 'C1' THEN 'SMITH, OLD' WHEN 'C4' THEN 'SMITH, ALEX' END"
    )
    kit.con.execute(
        "UPDATE stg.claims SET billing_provider_name = 'MINDFUL GROUP' WHERE claim_id = 'C1'"
    )
    result = kit.run()
    folder = tmp_path / "report"
    paths = write_reports(
        kit.con, folder, as_of=kit.as_of, scope=Scope.nightly(), skipped=result.skipped,
        rules=report_rules(),
    )  # fmt: skip
    with (folder / "findings.csv").open(newline="") as handle:
        rows = [
            (
                r["claim_id"],
                r["rule"],
                r["action"],
                r["act_by"],
                r["payer_name"],
                r["provider_name"],
            )
            for r in csv.DictReader(handle)
        ]
    assert rows == [
        # P1: no payers.csv row: the 835's name; 24 months (the default) after 2024-07-05
        ("C2", "billing.duplicate", "void the claim", "2026-07-05", "NAME IN THE 835",
         "SMITH, ALEX"),
        # P2: payers.csv names it and looks back 18 months from 2024-07-09
        ("C4", "billing.duplicate", "void the claim", "2026-01-09", "PAYERS CSV NAME",
         "SMITH, ALEX"),
    ]  # fmt: skip
    assert paths.summary["by_action"]["void the claim"] == {
        "findings": 2, "exposure": 190.0, "first_act_by": "2026-01-09"
    }  # fmt: skip
    html = (folder / "index.html").read_text()
    assert f'{RENDERING_NPI}</span><br><span class="muted">SMITH, ALEX</span>' in html
    with open_warehouse(tmp_path / "names.duckdb") as con:  # a warehouse of this version
        columns = {
            (table, column)
            for table, column in con.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE column_name LIKE '%provider_name'"
            ).fetchall()
        }
    assert columns == {
        ("claims", "billing_provider_name"),
        ("claims", "rendering_provider_name"),
        ("claim_lines", "rendering_provider_name"),
    }
