"""Coding, billing, necessity and telehealth rules: exact findings and exposures."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from tests.rulekit import Kit, Line, Remit, finding, new_kit

MULTIPLE = "coding.multiple_timed_codes"
UNITS = "coding.units_over_limit"
ADDON = "coding.addon_without_primary"
DUPLICATE = "billing.duplicate"
OUTLIER = "coding.high_level_outlier"
STEP_DOWN = "necessity.no_step_down"
TELEHEALTH = "telehealth.modifier_missing"


def test_multiple_timed_codes_keep_the_highest_paid_line() -> None:
    kit = new_kit()
    kit.paid_line("C-A", "90832", "80.00")
    kit.paid_line("C-B", "90837", "150.00")
    kit.paid_line("C-C", "90834", "100.00")
    kit.paid_line("C-OTHER-DAY", "90832", "80.00", date_of_service=date(2024, 6, 4))
    kit.paid_line("C-SAME-CODE-1", "90834", "100.00", member_id="M2")
    kit.paid_line("C-SAME-CODE-2", "90834", "100.00", member_id="M2")
    kit.run()
    assert kit.findings(MULTIPLE) == [
        finding("C-A", MULTIPLE, "80.00"),
        finding("C-C", MULTIPLE, "100.00"),
    ]


def test_a_second_copy_of_a_code_is_a_duplicate_not_a_multiple_timed_code() -> None:
    kit = new_kit()
    kit.paid_line("C-1", "90837", "150.00")
    kit.paid_line("C-2", "90837", "150.00", payment_date=date(2024, 7, 2))  # same session again
    kit.paid_line("C-3", "90834", "100.00")
    kit.run()
    assert kit.findings(MULTIPLE) == [finding("C-3", MULTIPLE, "100.00")]
    assert kit.findings(DUPLICATE) == [finding("C-2", DUPLICATE, "150.00")]


def test_multiple_timed_codes_tie_keeps_the_smallest_claim() -> None:
    kit = new_kit()
    kit.paid_line("C-2", "90834", "100.00")
    kit.paid_line("C-1", "90832", "100.00")
    kit.run()
    assert kit.findings(MULTIPLE) == [finding("C-2", MULTIPLE, "100.00")]


def test_units_2_cost_half_and_3_two_thirds_rounded_to_cents() -> None:
    kit = new_kit()
    kit.paid_line("C-2", "90837", "300.00", line=Line("90837", units=2))
    kit.paid_line("C-3", "90834", "100.00", line=Line("90834", units=3))
    kit.paid_line("C-1", "90834", "100.00")
    kit.paid_line("C-GROUP", "90853", "90.00", line=Line("90853", units=4))  # no limit
    kit.run()
    assert kit.findings(UNITS) == [
        finding("C-2", UNITS, "150.00"),
        finding("C-3", UNITS, "66.67"),
    ]


def test_unit_limit_from_a_cms_mue_file_overrides_the_shipped_one(tmp_path: Path) -> None:
    mue = tmp_path / "mue.csv"
    mue.write_text(
        '"CPT codes, descriptions and other data only are copyright of the AMA."\n'
        '"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator",'
        '"MUE Rationale"\n'
        '"90837","2","3 Date of Service Edit: Clinical","Clinical: Data"\n'
        '"90834","1","2 Date of Service Edit: Policy","Nature of Service/Procedure"\n'
    )
    kit = new_kit()
    kit.paid_line("C-2", "90837", "300.00", line=Line("90837", units=2))
    kit.paid_line("C-3", "90837", "300.00", line=Line("90837", units=3))
    kit.run({"unit_limits.mue_file": str(mue)})
    assert kit.findings(UNITS) == [finding("C-3", UNITS, "100.00")]
    assert kit.rows(
        "SELECT max_units_per_day, adjudication_indicator, source FROM ref.unit_limits "
        "WHERE code = '90837'"
    )[0][1:] == (3, "MUE mue.csv")


def test_addon_with_and_without_primary() -> None:
    kit = new_kit()
    kit.claim("C-OK", [Line("99214"), Line("90833")])
    kit.pay("C-OK", [Remit("99214", "110.00"), Remit("90833", "70.00")])
    kit.paid_line("C-ALONE", "90836", "85.00", member_id="M2")
    kit.paid_line("C-OTHER-CLAIM-EM", "99213", "90.00", member_id="M3")
    kit.paid_line("C-OTHER-CLAIM-ADDON", "90838", "95.00", member_id="M3")
    kit.claim("C-UNPAID-PRIMARY", [Line("99214"), Line("90833")], member_id="M4")
    kit.pay("C-UNPAID-PRIMARY", [Remit("99214", "0.00"), Remit("90833", "70.00")])
    kit.paid_line("C-CRISIS-ADDON", "90840", "60.00", member_id="M5")
    kit.run()
    assert kit.findings(ADDON) == [
        finding("C-ALONE", ADDON, "85.00"),
        finding("C-CRISIS-ADDON", ADDON, "60.00"),
        finding("C-UNPAID-PRIMARY", ADDON, "70.00", line=2),
    ]


def test_interactive_complexity_with_a_forbidden_companion() -> None:
    kit = new_kit()
    kit.claim("C-FAMILY", [Line("90846"), Line("90785")])
    kit.pay("C-FAMILY", [Remit("90846", "100.00"), Remit("90785", "15.00")])
    kit.claim("C-OK", [Line("90834"), Line("90785")], member_id="M2")
    kit.pay("C-OK", [Remit("90834", "100.00"), Remit("90785", "15.00")])
    kit.claim("C-BOTH", [Line("90834"), Line("90847"), Line("90785")], member_id="M3")
    kit.pay("C-BOTH", [Remit("90834", "100.00"), Remit("90847", "100.00"), Remit("90785", "15.00")])
    kit.run()
    assert kit.findings(ADDON) == [
        finding("C-BOTH", ADDON, "15.00", line=3),
        finding("C-FAMILY", ADDON, "15.00", line=2),
    ]
    evidence = json.loads(
        kit.rows(
            "SELECT evidence FROM mart.findings WHERE claim_id = 'C-BOTH' AND rule = ?", [ADDON]
        )[0][0]
    )
    assert evidence["primary_codes_found"] == ["90834"]
    assert evidence["forbidden_codes_found"] == ["90847"]


def test_duplicates_ordered_by_first_payment_date_then_claim() -> None:
    kit = new_kit()
    kit.paid_line("C-1", "90834", "100.00", payment_date=date(2024, 7, 20))
    kit.paid_line("C-2", "90834", "100.00", payment_date=date(2024, 7, 5))  # paid first: kept
    kit.paid_line("C-3", "90834", "100.00", payment_date=date(2024, 7, 20))
    kit.paid_line("C-MODS-A", "90837", "150.00", line=Line("90837", modifiers=["95", "HO"]))
    kit.paid_line("C-MODS-B", "90837", "150.00", line=Line("90837", modifiers=["HO", "95"]))
    kit.paid_line("C-REPL", "90791", "200.00", member_id="M2")
    kit.paid_line("C-REPL-7", "90791", "200.00", member_id="M2", frequency_code="7")
    kit.run()
    assert kit.findings(DUPLICATE) == [
        finding("C-1", DUPLICATE, "100.00"),
        finding("C-3", DUPLICATE, "100.00"),
        finding("C-MODS-B", DUPLICATE, "150.00"),
    ]


def test_duplicate_copy_reversed_to_zero_is_not_a_finding() -> None:
    kit = new_kit()
    kit.paid_line("C-1", "90834", "100.00")
    kit.paid_line("C-2", "90834", "100.00")
    kit.reverse("C-2", [Remit("90834", "100.00")], payment_date=date(2024, 8, 1))
    kit.run()
    assert kit.findings(DUPLICATE) == []


# ---- outlier ------------------------------------------------------------------------------------


def provider_lines(
    npi: str, lines: int, lines_90837: int, start: date = date(2024, 1, 2)
) -> list[tuple[str, str, str, date, str]]:
    """``lines`` paid lines of one provider, the first ``lines_90837`` of them 90837."""
    rows = []
    for index in range(lines):
        code = "90837" if index < lines_90837 else "90834"
        paid = "150.00" if code == "90837" else "100.00"
        rows.append((f"{npi}-{index:03d}", code, npi, start + timedelta(days=index % 300), paid))
    return rows


def outlier_kit(target_lines: int, target_90837: int, peers: list[tuple[int, int]]) -> Kit:
    kit = new_kit()
    kit.fee("90834", "100.00")
    rows = provider_lines("T", target_lines, target_90837)
    for number, (lines, lines_90837) in enumerate(peers):
        rows += provider_lines(f"N{number}", lines, lines_90837)
    kit.bulk_paid_lines(rows)
    return kit


def outlier_findings(npi: str, lines_90837: int) -> list[tuple[str, int, str, object, bool]]:
    return [finding(f"{npi}-{index:03d}", OUTLIER, "50.00") for index in range(lines_90837)]


def test_outlier_share_at_0_6_fires_just_below_does_not() -> None:
    peers = [(30, 12), (30, 12), (30, 13), (30, 14)]
    kit = outlier_kit(30, 18, peers)  # share 0.6, z = (18-13)/30 / (1.4826 x 1/30) = 3.37
    kit.run()
    assert kit.findings(OUTLIER) == outlier_findings("T", 18)
    kit = outlier_kit(30, 17, peers)  # share 0.567, z = 2.70: high z, share too low
    kit.run()
    assert kit.findings(OUTLIER) == []


def test_outlier_z_just_above_and_just_below_2() -> None:
    peers = [(100, 30), (100, 43), (100, 56), (100, 69)]
    kit = outlier_kit(100, 95, peers)  # MAD 0.13, z = 0.39 / (1.4826 x 0.13) = 2.0235
    kit.run()
    assert kit.findings(OUTLIER) == outlier_findings("T", 95)
    kit = outlier_kit(100, 94, peers)  # z = 0.38 / (1.4826 x 0.13) = 1.9716
    kit.run()
    assert kit.findings(OUTLIER) == []


def test_outlier_needs_30_lines_29_is_not_scored() -> None:
    peers = [(30, 12), (30, 12), (30, 13), (30, 14)]
    kit = outlier_kit(29, 18, peers)
    result = kit.run()
    assert kit.findings(OUTLIER) == []
    assert OUTLIER not in result.skipped  # 4 peers: evaluated, the 29-line provider is not scored
    kit = outlier_kit(30, 18, peers)
    kit.run()
    assert len(kit.findings(OUTLIER)) == 18


def test_outlier_skipped_with_fewer_than_3_peers() -> None:
    kit = outlier_kit(30, 30, [(30, 10), (29, 10)])
    result = kit.run()
    assert result.skipped[OUTLIER] == (
        "too few peers: 2 rendering provider(s) with at least 30 paid 90832/90834/90837 lines "
        "in the 12 months to 2024-12-31; at least 3 needed"
    )
    assert OUTLIER not in result.counts


def test_outlier_window_is_the_12_months_up_to_as_of() -> None:
    peers = [(30, 12), (30, 12), (30, 13), (30, 14)]
    kit = outlier_kit(30, 18, peers)  # dates of service 2024-01-02 .. 2024-01-31
    result = kit.run(as_of=date(2025, 1, 2))  # window (2024-01-02, 2025-01-02]: 29 lines each
    assert kit.findings(OUTLIER) == []
    assert result.skipped[OUTLIER].startswith("too few peers: 0 rendering provider(s)")
    kit.run(as_of=date(2025, 1, 1))
    assert kit.findings(OUTLIER) == outlier_findings("T", 18)


# ---- step-down ------------------------------------------------------------------------------


def scored_history(
    kit: Kit, scores: list[tuple[int | None, int | None]], member: str = "M1"
) -> None:
    for week, (phq9, gad7) in enumerate(scores):
        claim_id = f"H-{member}-{week}"
        kit.paid_line(
            claim_id,
            "90837",
            "150.00",
            date_of_service=date(2024, 5, 6) + timedelta(weeks=week),
            member_id=member,
        )
        kit.session(claim_id, phq9=phq9, gad7=gad7)


def test_step_down_three_low_sessions_fire_one_at_10_does_not() -> None:
    kit = new_kit()
    kit.fee("90834", "100.00")
    scored_history(kit, [(15, 12), (8, None), (None, 9), (6, 7)])
    kit.paid_line("C-NEXT", "90837", "150.00", date_of_service=date(2024, 6, 10))
    kit.session("C-NEXT", phq9=None, gad7=None)
    scored_history(kit, [(8, 4), (10, 3), (5, 5)], member="M2")
    kit.paid_line("C-NEXT-M2", "90837", "150.00", date_of_service=date(2024, 6, 10), member_id="M2")
    kit.session("C-NEXT-M2")
    kit.run()
    # C-NEXT: the three most recent scored sessions (8; 9; 6 and 7) are all below 10, the older
    # 15/12 no longer counts; H-M1-3 is preceded by the 15/12 session; M2 had a 10.
    assert kit.findings(STEP_DOWN) == [finding("C-NEXT", STEP_DOWN, "50.00")]


def test_step_down_needs_three_earlier_sessions_and_counts_one_per_date() -> None:
    kit = new_kit()
    kit.fee("90834", "100.00")
    scored_history(kit, [(5, None), (6, None)])
    kit.paid_line("H-SAME-DAY", "90834", "100.00", date_of_service=date(2024, 5, 13))
    kit.session("H-SAME-DAY", phq9=4)  # second row on 2024-05-13: still one date
    kit.paid_line("C-NEXT", "90837", "150.00", date_of_service=date(2024, 6, 10))
    kit.session("C-NEXT")
    kit.run()
    assert kit.findings(STEP_DOWN) == []


# ---- telehealth ---------------------------------------------------------------------------------


def test_telehealth_modifier_for_payers_that_require_it() -> None:
    kit = new_kit()
    kit.payer("P1", telehealth_required=True)
    kit.payer("*", telehealth_required=False)
    kit.paid_line("C-NOMOD", "90834", "100.00", line=Line("90834", place_of_service="10"))
    kit.paid_line(
        "C-95", "90834", "100.00", line=Line("90834", place_of_service="02", modifiers=["95"])
    )
    kit.paid_line("C-CLAIM-POS", "90834", "100.00", place_of_service="02")
    kit.paid_line("C-OFFICE", "90834", "100.00", line=Line("90834", place_of_service="11"))
    kit.paid_line(
        "C-P2", "90834", "100.00", payer_id="P2", line=Line("90834", place_of_service="10")
    )
    kit.run()
    assert kit.findings(TELEHEALTH) == [
        finding("C-CLAIM-POS", TELEHEALTH, "100.00"),
        finding("C-NOMOD", TELEHEALTH, "100.00"),
    ]
