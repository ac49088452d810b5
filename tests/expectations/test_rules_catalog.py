"""The catalog: rule definitions, configuration, findings rows, time-barred exposure, per-line
exposure, paid-only evaluation and partial replacement by service month."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date

import pytest

from expectations.catalog import RULES, MartNotBuilt, run_rules
from expectations.code_lists import REFERENCE_DIR, read_code_list
from expectations.config import DEFAULTS_PATH, load_config
from expectations.definition import FINDING_COLUMNS, RULES_DIR
from tests.rulekit import Line, Remit, finding, money, new_kit

TIME = "coding.time_unsupported"
NOTE = "documentation.note_missing"
UNITS = "coding.units_over_limit"

SPEC_RULE_IDS = {
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
}


# ---- definitions and configuration --------------------------------------------------------------


def test_every_spec_rule_is_defined_once_with_a_description_and_a_renderable_query() -> None:
    assert len(RULES) == len({rule.id for rule in RULES})
    rule_files = sorted(path.stem for path in RULES_DIR.glob("*.py") if path.stem != "__init__")
    assert rule_files == sorted(rule.id.replace(".", "_") for rule in RULES)
    assert {rule.id for rule in RULES} >= SPEC_RULE_IDS  # the SPEC's, and any added since
    assert [rule.order for rule in RULES] == sorted({rule.order for rule in RULES})
    config = load_config()
    kit = new_kit()
    kit.build()
    kit.con.execute("BEGIN TRANSACTION")
    for rule in RULES:
        assert rule.description.startswith(rule.id + ":")
        assert "Exposure" in rule.description
        sql = rule.sql(config, date(2024, 12, 31))
        assert "{{" not in sql
        columns = [c[0] for c in kit.con.execute(f"DESCRIBE {sql}").fetchall()]
        assert tuple(columns) == FINDING_COLUMNS, rule.id
    kit.con.execute("ROLLBACK")


def test_config_overrides_flat_or_nested_and_rejects_unknown_keys() -> None:
    config = load_config({"outlier.z": 3, "step_down": {"score": 8}})
    assert config["outlier.z"] == 3.0
    assert config["step_down.score"] == 8
    assert config["outlier.share"] == 0.6
    assert load_config({"unit_limits.per_day": {"90853": 2}})["unit_limits.per_day"]["90837"] == 1
    with pytest.raises(ValueError, match=r"unknown threshold 'outlier\.zz'"):
        load_config({"outlier.zz": 1})
    with pytest.raises(ValueError, match=r"threshold coverage\.unverified_days"):
        load_config({"coverage.unverified_days": "thirty"})


def test_spec_defaults_and_the_shipped_lists_agree() -> None:
    config = load_config()
    assert config["coding.timed_minutes"] == [16, 38, 53]
    assert (config["coverage.unverified_days"], config["documentation.late_signature_days"]) == (
        30,
        7,
    )
    assert (config["outlier.min_lines"], config["outlier.z"], config["outlier.share"]) == (
        30,
        2.0,
        0.6,
    )
    assert (config["outlier.mad_scale"], config["outlier.min_peers"]) == (1.4826, 3)
    assert config["outlier.window_months"] == 12
    assert (config["step_down.score"], config["step_down.sessions"]) == (10, 3)
    limits = read_code_list(REFERENCE_DIR / "unit_limits.csv")
    assert (
        dict(zip(limits["code"], map(int, limits["max_units_per_day"]), strict=True))
        == (config["unit_limits.per_day"])
    )
    telehealth = read_code_list(REFERENCE_DIR / "telehealth.csv")
    by_kind = {
        kind: list(telehealth.filter(telehealth["kind"] == kind)["code"])
        for kind in ("place_of_service", "modifier")
    }
    assert by_kind == {
        "place_of_service": config["telehealth.places_of_service"],
        "modifier": config["telehealth.modifiers"],
    }
    with DEFAULTS_PATH.open("rb") as handle:
        assert tomllib.load(handle)["lookback"]["default_months"] == 24


def test_reference_csvs_say_where_they_came_from() -> None:
    for name in ("timed_codes", "addon_primaries", "unit_limits", "telehealth"):
        text = (REFERENCE_DIR / f"{name}.csv").read_text()
        header = [line for line in text.splitlines() if line.startswith("#")]
        assert header, name
        assert re.search(r"Source|source", " ".join(header)), name
        assert "our own" in " ".join(header) or "Codes only" in " ".join(header), name


def test_rules_refuse_a_mart_built_for_another_date() -> None:
    kit = new_kit()
    kit.build(date(2024, 6, 30))
    with pytest.raises(MartNotBuilt, match="2024-06-30"):
        run_rules(kit.con, date(2024, 12, 31), load_config())


# ---- findings rows ------------------------------------------------------------------------------


def test_only_paid_lines_are_evaluated_a_reversed_line_is_realized_instead() -> None:
    kit = new_kit()
    kit.paid_line("C-REVERSED", "90837", "150.00")
    kit.reverse("C-REVERSED", [Remit("90837", "150.00")], payment_date=date(2024, 9, 1))
    kit.session("C-REVERSED", minutes=10)
    kit.paid_line("C-PAID", "90837", "150.00")
    kit.session("C-PAID", minutes=10)
    kit.run()
    assert kit.findings() == [finding("C-PAID", TIME, "150.00")]
    assert kit.rows("SELECT sum(amount) FROM mart.realized_recoupments") == [(money("150.00"),)]


def test_claim_level_payment_allocated_by_charge_feeds_the_rules() -> None:
    kit = new_kit()
    kit.claim("C1", [Line("90837", charge="300.00", units=2), Line("90785", charge="100.00")])
    kit.pay("C1", claim_paid="200.00")  # 150.00 and 50.00
    kit.session("C1", minutes=60)
    kit.run()
    assert kit.findings(UNITS) == [finding("C1", UNITS, "75.00")]


def test_findings_carry_the_line_identity_and_evidence() -> None:
    kit = new_kit()
    kit.fee("90834", "100.00")
    kit.paid_line("C1", "90837", "150.00", member_id="M7", payer_id="P3")
    kit.session("C1", minutes=45)
    kit.run()
    row = kit.rows(
        "SELECT claim_id, line_number, payer_id, member_id, rendering_npi, billing_npi, "
        "date_of_service, service_month, code, rule, net_paid, exposure, time_barred, "
        "payment_date, lookback_months, evidence FROM mart.findings"
    )
    assert row[0][:15] == (
        "C1",
        1,
        "P3",
        "M7",
        "2222222222",
        "1111111111",
        date(2024, 6, 3),
        date(2024, 6, 1),
        "90837",
        TIME,
        money("150.00"),
        money("50.00"),
        False,
        date(2024, 7, 1),
        24,
    )
    assert json.loads(row[0][15]) == {
        "code": "90837",
        "minutes": 45,
        "code_minimum": 53,
        "supported_code": "90834",
        "allowed_amount": 100.0,
        "priced": True,
        "net_paid": 150.0,
    }


def test_time_barred_after_the_payer_look_back_strictly() -> None:
    kit = new_kit(as_of=date(2024, 12, 31))
    kit.payer("P1", lookback_months=12)
    kit.payer("*", lookback_months=18)
    kit.paid_line(
        "C-ANNIVERSARY",
        "90837",
        "150.00",
        payment_date=date(2023, 12, 31),
        date_of_service=date(2023, 12, 1),
    )
    kit.paid_line(
        "C-DAY-BEFORE",
        "90837",
        "150.00",
        payment_date=date(2023, 12, 30),
        date_of_service=date(2023, 12, 1),
    )
    kit.paid_line(
        "C-DEFAULT-ROW",
        "90837",
        "150.00",
        payer_id="P2",
        payment_date=date(2023, 6, 29),
        date_of_service=date(2023, 6, 1),
    )
    kit.paid_line(
        "C-DEFAULT-OPEN",
        "90837",
        "150.00",
        payer_id="P2",
        payment_date=date(2023, 7, 1),
        date_of_service=date(2023, 6, 1),
    )
    for claim_id in ("C-ANNIVERSARY", "C-DAY-BEFORE", "C-DEFAULT-ROW", "C-DEFAULT-OPEN"):
        kit.session(claim_id, minutes=10)
    kit.run()
    assert kit.findings(TIME) == [
        finding("C-ANNIVERSARY", TIME, "150.00"),
        finding("C-DAY-BEFORE", TIME, "150.00", barred=True),
        finding("C-DEFAULT-OPEN", TIME, "150.00"),  # '*' row: 18 months, to 2025-01-01
        finding("C-DEFAULT-ROW", TIME, "150.00", barred=True),  # to 2024-12-29
    ]


def test_default_lookback_is_24_months_without_payer_rows() -> None:
    kit = new_kit(as_of=date(2024, 12, 31))
    kit.paid_line(
        "C-OLD",
        "90837",
        "150.00",
        payment_date=date(2022, 12, 30),
        date_of_service=date(2022, 12, 1),
    )
    kit.session("C-OLD", minutes=10)
    kit.run()
    assert kit.findings(TIME) == [finding("C-OLD", TIME, "150.00", barred=True)]


def test_line_exposure_is_the_largest_finding_capped_at_net_paid() -> None:
    kit = new_kit()
    kit.fee("90834", "100.00")
    kit.paid_line("C1", "90837", "150.00")
    kit.session("C1", minutes=45, signed=None)  # time_unsupported 50, note_missing 150
    kit.paid_line("C2", "90837", "150.00", member_id="M2")
    kit.session("C2", minutes=45)
    kit.run()
    assert kit.rows(
        "SELECT claim_id, exposure, open_exposure, time_barred_exposure, rules "
        "FROM mart.line_exposure ORDER BY claim_id"
    ) == [
        ("C1", money("150.00"), money("150.00"), money("0.00"), [TIME, NOTE]),
        ("C2", money("50.00"), money("50.00"), money("0.00"), [TIME]),
    ]


def test_service_months_replace_only_their_findings() -> None:
    kit = new_kit()
    kit.paid_line("C-JUN", "90837", "150.00", date_of_service=date(2024, 6, 3))
    kit.session("C-JUN", minutes=10)
    kit.paid_line("C-JUL", "90837", "150.00", date_of_service=date(2024, 7, 1))
    kit.session("C-JUL", minutes=10)
    kit.run()
    kit.con.execute("UPDATE stg.sessions SET minutes = 60")
    kit.build()
    result = run_rules(kit.con, kit.as_of, load_config(), service_months=[date(2024, 7, 15)])
    assert result.counts[TIME] == 0
    assert kit.findings(TIME) == [finding("C-JUN", TIME, "150.00")]


def test_result_counts_and_gross_exposure_per_rule() -> None:
    kit = new_kit()
    kit.paid_line("C1", "90837", "150.00")
    kit.session("C1", minutes=10, signed=None)
    result = kit.run()
    assert result.counts[TIME] == 1 and result.counts[NOTE] == 1
    assert result.exposure[TIME] == money("150.00")
    assert result.findings == 2


def test_the_downcode_exposure_is_one_macro_the_three_downcode_rules_use() -> None:
    users = sorted(rule.id for rule in RULES if "mart.downcode_exposure(" in rule.template)
    assert users == [
        "coding.high_level_outlier",
        "coding.time_unsupported",
        "necessity.no_step_down",
    ]
    for rule in RULES:  # nobody writes the formula again
        assert "net_paid - a.allowed_amount" not in rule.template, rule.id
    kit = new_kit()
    kit.build()
    assert kit.con.execute(
        "SELECT mart.downcode_exposure(150.00, 98.00), mart.downcode_exposure(60.00, 98.00), "
        "mart.downcode_exposure(60.00, NULL)"
    ).fetchone() == (money("52.00"), money("0.00"), money("60.00"))


def test_preconditions_are_the_rules_own_data() -> None:
    by_id = {rule.id: rule for rule in RULES}
    sessions = {rule.id for rule in RULES if rule.needs == "sessions"}
    assert sessions == {
        "coding.time_unsupported",
        "documentation.time_missing",
        "documentation.note_missing",
        "documentation.late_signature",
        "necessity.no_step_down",
    }
    lapsed, unverified = by_id["coverage.lapsed"], by_id["coverage.unverified"]
    assert lapsed.needs == unverified.needs == "eligibility"
    assert lapsed.preconditions[0].partial_sql and not unverified.preconditions[0].partial_sql
    (peers,) = by_id["coding.high_level_outlier"].preconditions
    assert peers.needs is None and peers.at_least == "outlier.min_peers"
