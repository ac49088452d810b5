"""The mart layer: current claims, payments and their matching, recoupments, coverage spans and
sessions, each from a tiny staging table to the exact rows it must produce."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from tests.rulekit import DOS, PAID_ON, Kit, Line, Remit, money, new_kit


def line_payments(kit: Kit) -> list[tuple[str, int, Decimal, date | None, date | None]]:
    return [
        (r[0], r[1], r[2], r[3], r[4])
        for r in kit.rows(
            "SELECT claim_id, line_number, net_paid, first_payment_date, payment_date "
            "FROM mart.line_payments ORDER BY claim_id, line_number"
        )
    ]


# ---- current claims -----------------------------------------------------------------------------


def test_latest_submission_is_the_claim_and_a_void_removes_it() -> None:
    kit = new_kit()
    kit.claim("C1", [Line("90834"), Line("90785")])
    kit.claim("C1", [Line("90837")], frequency_code="7")  # replacement, received later
    kit.claim("C2", [Line("90834")])
    kit.claim("C2", [Line("90834")], frequency_code="8")  # void
    kit.build()
    assert kit.rows("SELECT claim_id, line_number, code, frequency_code FROM mart.claim_lines") == [
        ("C1", 1, "90837", "7")
    ]


def test_claim_line_identity_falls_back_from_line_to_claim_to_billing() -> None:
    kit = new_kit()
    kit.claim(
        "C1",
        [Line("90837", rendering_npi="3333333333", place_of_service="10"), Line("90785")],
        patient_key="M1~abcdef123456",
    )
    kit.claim("C2", [Line("90834", modifiers=["95", "", "GT"])], rendering_npi=None)
    kit.build()
    assert kit.rows(
        "SELECT claim_id, line_number, patient_key, rendering_npi, place_of_service, modifiers, "
        "modifier_set, service_month FROM mart.claim_lines ORDER BY ALL"
    ) == [
        ("C1", 1, "M1~abcdef123456", "3333333333", "10", [], "", date(2024, 6, 1)),
        ("C1", 2, "M1~abcdef123456", "2222222222", "11", [], "", date(2024, 6, 1)),
        ("C2", 1, "M1", "1111111111", "11", ["95", "GT"], "95:GT", date(2024, 6, 1)),
    ]


# ---- payments -----------------------------------------------------------------------------------


def test_svc_matched_by_code_modifiers_and_date_without_ref_6r() -> None:
    kit = new_kit()
    kit.claim(
        "C1",
        [
            Line("90791", date_of_service=date(2024, 6, 3)),
            Line("90837", modifiers=["95"], date_of_service=date(2024, 6, 10)),
            Line("90837", date_of_service=date(2024, 6, 10)),
        ],
    )
    kit.pay(
        "C1",
        [
            Remit("90837", "140.00", date_of_service=date(2024, 6, 10)),
            Remit("90837", "145.00", modifiers=["95"], date_of_service=date(2024, 6, 10)),
            Remit("90791", "200.00", date_of_service=date(2024, 6, 3)),
        ],
    )
    kit.build()
    assert line_payments(kit) == [
        ("C1", 1, money("200.00"), PAID_ON, PAID_ON),
        ("C1", 2, money("145.00"), PAID_ON, PAID_ON),
        ("C1", 3, money("140.00"), PAID_ON, PAID_ON),
    ]
    assert kit.rows("SELECT count(*) FROM mart.unmatched_remittances") == [(0,)]


def test_svc_matched_by_ref_6r_even_when_the_payer_changed_the_code() -> None:
    kit = new_kit()
    kit.claim(
        "C1", [Line("90837", line_control_number="A1"), Line("90834", line_control_number="A2")]
    )
    kit.pay(
        "C1",
        [
            Remit("90834", "90.00", line_control_number="A1"),
            Remit("90834", "95.00", line_control_number="A2"),
        ],
    )
    kit.build()
    assert [row[:3] for row in line_payments(kit)] == [
        ("C1", 1, money("90.00")),
        ("C1", 2, money("95.00")),
    ]


def test_claim_level_payment_is_allocated_by_charge_half_even_remainder_on_last_line() -> None:
    kit = new_kit()
    kit.claim("C1", [Line("90834", charge="50.00"), Line("90785", charge="50.00")])
    kit.claim("C2", [Line("90791", charge="100.00")] * 3)
    kit.pay("C1", claim_paid="10.25")  # 5.125 each: half-even 5.12, the last line takes 5.13
    kit.pay("C2", claim_paid="100.00")  # 33.33, 33.33, 33.34
    kit.build()
    assert [row[:3] for row in line_payments(kit)] == [
        ("C1", 1, money("5.12")),
        ("C1", 2, money("5.13")),
        ("C2", 1, money("33.33")),
        ("C2", 2, money("33.33")),
        ("C2", 3, money("33.34")),
    ]


def test_reversal_nets_to_zero_and_counts_as_realized() -> None:
    kit = new_kit()
    kit.claim("C1", [Line("90837")])
    kit.pay("C1", [Remit("90837", "150.00")], payment_date=date(2024, 7, 1))
    kit.reverse("C1", [Remit("90837", "150.00")], payment_date=date(2024, 9, 1))
    kit.build()
    assert line_payments(kit) == [("C1", 1, money("0.00"), date(2024, 7, 1), date(2024, 7, 1))]
    assert kit.rows("SELECT count(*) FROM mart.paid_lines") == [(0,)]
    assert kit.rows(
        "SELECT kind, claim_reference, claim_known, payer_id, payment_date, amount "
        "FROM mart.realized_recoupments"
    ) == [("reversal", "C1", True, "P1", date(2024, 9, 1), money("150.00"))]


def test_reversal_and_correction_keep_the_corrected_amount_and_restart_the_clock() -> None:
    kit = new_kit()
    kit.claim("C1", [Line("90837")])
    kit.pay("C1", [Remit("90837", "150.00")], payment_date=date(2024, 7, 1))
    correction_835 = kit.payment(payment_date=date(2024, 9, 1))
    kit.reverse("C1", [Remit("90837", "150.00")], payment=correction_835)
    kit.pay("C1", [Remit("90837", "120.00")], payment=correction_835)
    kit.build()
    assert line_payments(kit) == [("C1", 1, money("120.00"), date(2024, 7, 1), date(2024, 9, 1))]
    assert kit.rows("SELECT sum(amount) FROM mart.realized_recoupments") == [(money("150.00"),)]


def test_payments_after_as_of_are_not_known_yet() -> None:
    kit = new_kit(as_of=date(2024, 8, 1))
    kit.claim("C1", [Line("90837")])
    kit.pay("C1", [Remit("90837", "150.00")], payment_date=date(2024, 7, 1))
    kit.reverse("C1", [Remit("90837", "150.00")], payment_date=date(2024, 9, 1))
    kit.build()
    assert [row[:3] for row in line_payments(kit)] == [("C1", 1, money("150.00"))]
    assert kit.rows("SELECT count(*) FROM mart.realized_recoupments") == [(0,)]


def test_remittances_matching_nothing_are_kept_with_their_reason() -> None:
    kit = new_kit()
    kit.claim("C1", [Line("90834")])
    kit.pay("C1", [Remit("90834", "100.00"), Remit("90853", "40.00")])
    kit.pay("C9", [Remit("90837", "150.00")])
    kit.pay("C8", claim_paid="75.00")
    kit.build()
    assert kit.rows(
        "SELECT claim_id, source, procedure_code, amount, unmatched_reason "
        "FROM mart.unmatched_remittances ORDER BY claim_id"
    ) == [
        (
            "C1",
            "service_line",
            "90853",
            money("40.00"),
            "no line of the claim with this REF*6R or code, modifiers and date",
        ),
        ("C8", "claim_allocation", None, money("75.00"), "no current claim with this CLP01"),
        ("C9", "service_line", "90837", money("150.00"), "no current claim with this CLP01"),
    ]


def test_payments_of_a_voided_claim_say_so() -> None:
    kit = new_kit()
    kit.claim("C5", [Line("90834")])
    kit.claim("C5", [Line("90834")], frequency_code="8")  # void, received later
    kit.pay("C5", [Remit("90834", "100.00")])
    kit.pay("C5", claim_paid="100.00")
    kit.build()
    assert kit.rows(
        "SELECT claim_id, source, amount, unmatched_reason FROM mart.unmatched_remittances "
        "ORDER BY source"
    ) == [
        ("C5", "claim_allocation", money("100.00"), "the claim was voided (frequency 8)"),
        ("C5", "service_line", money("100.00"), "the claim was voided (frequency 8)"),
    ]


def test_plb_wo_is_realized_even_for_an_unknown_claim() -> None:
    kit = new_kit()
    kit.claim("C1", [Line("90837")], payer_id="P2")
    remit = kit.payment(payer_id="P1", payment_date=date(2024, 8, 15))
    kit.plb(remit, "C1", "150.00")
    kit.plb(remit, "UNKNOWN-7", "80.00")
    kit.plb(remit, "C1", "25.00", reason_code="L6")  # interest: not a recoupment
    kit.build()
    assert kit.rows(
        "SELECT kind, claim_reference, claim_known, payer_id, amount "
        "FROM mart.realized_recoupments ORDER BY claim_reference"
    ) == [
        ("plb_wo", "C1", True, "P2", money("150.00")),
        ("plb_wo", "UNKNOWN-7", False, "P1", money("80.00")),
    ]


# ---- coverage spans -----------------------------------------------------------------------------


def spans(kit: Kit, member_id: str = "M1") -> list[tuple[date | None, date | None]]:
    return [
        (r[0], r[1])
        for r in kit.rows(
            "SELECT span_start, span_end FROM mart.coverage_spans WHERE member_id = ? "
            "ORDER BY span_start NULLS FIRST",
            [member_id],
        )
    ]


def test_span_from_one_active_response() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 5), [("active", date(2024, 1, 1), date(2024, 12, 31))])
    kit.build()
    assert spans(kit) == [(date(2024, 1, 1), date(2024, 12, 31))]


def test_open_started_and_open_ended_spans_stay_open() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 5), [("active", None, None)])
    kit.eligibility(date(2024, 1, 5), [("active", None, date(2024, 5, 31))], member_id="M2")
    kit.build()
    assert spans(kit) == [(None, None)]
    assert spans(kit, "M2") == [(None, date(2024, 5, 31))]


def test_retro_termination_later_response_with_earlier_end_cuts_the_span() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 5), [("active", date(2024, 1, 1), None)])
    kit.eligibility(date(2024, 8, 1), [("active", date(2024, 1, 1), date(2024, 3, 31))])
    kit.build()
    assert spans(kit) == [(date(2024, 1, 1), date(2024, 3, 31))]


def test_later_inactive_response_cuts_from_its_end_or_check_date() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 5), [("active", date(2024, 1, 1), None)])
    kit.eligibility(date(2024, 6, 1), [("inactive", None, date(2024, 4, 30))])
    kit.eligibility(date(2024, 1, 5), [("active", date(2024, 1, 1), None)], member_id="M2")
    kit.eligibility(date(2024, 6, 1), [("inactive", None, None)], member_id="M2")
    kit.build()
    assert spans(kit) == [(date(2024, 1, 1), date(2024, 4, 30))]
    assert spans(kit, "M2") == [(date(2024, 1, 1), date(2024, 5, 31))]


def test_newer_response_restores_coverage_for_the_dates_it_speaks_about() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 5), [("active", date(2024, 1, 1), date(2024, 3, 31))])
    kit.eligibility(date(2024, 9, 1), [("active", date(2024, 6, 1), None)])
    kit.build()
    assert spans(kit) == [(date(2024, 1, 1), date(2024, 3, 31)), (date(2024, 6, 1), None)]


def test_inactive_beats_active_within_one_response() -> None:
    kit = new_kit()
    kit.eligibility(
        date(2024, 1, 5),
        [
            ("active", date(2024, 1, 1), date(2024, 12, 31)),
            ("inactive", None, date(2024, 6, 30)),  # mental health carve-out from July
            ("other", None, None),  # a copay row speaks about nothing
        ],
    )
    kit.build()
    assert spans(kit) == [(date(2024, 1, 1), date(2024, 6, 30))]


def test_order_is_check_date_then_received_time_not_load_order() -> None:
    kit = new_kit()
    kit.eligibility(
        date(2024, 8, 1),
        [("active", date(2024, 1, 1), date(2024, 3, 31))],
        received_at=datetime(2024, 8, 2),
    )
    kit.eligibility(  # loaded later, checked earlier: loses
        date(2024, 2, 1), [("active", date(2024, 1, 1), None)], received_at=datetime(2024, 9, 1)
    )
    kit.eligibility(  # same check date, received later: wins
        date(2024, 8, 1),
        [("active", date(2024, 1, 1), date(2024, 5, 31))],
        received_at=datetime(2024, 8, 3),
    )
    kit.build()
    assert spans(kit) == [(date(2024, 1, 1), date(2024, 5, 31))]


def test_responses_after_as_of_and_rejected_ones_are_ignored() -> None:
    kit = new_kit(as_of=date(2024, 6, 30))
    kit.eligibility(date(2024, 1, 5), [("active", date(2024, 1, 1), None)])
    kit.eligibility(date(2024, 8, 1), [("inactive", None, date(2024, 3, 31))])
    kit.eligibility(date(2024, 2, 1), [], rejection_reason="72")
    kit.build()
    assert spans(kit) == [(date(2024, 1, 1), None)]
    assert kit.rows("SELECT count(*) FROM mart.eligibility_checks") == [(1,)]


# ---- sessions -----------------------------------------------------------------------------------


def test_line_level_session_row_wins_over_claim_level() -> None:
    kit = new_kit()
    kit.claim("C1", [Line("90837"), Line("90785")])
    kit.session("C1", None, minutes=55)
    kit.session("C1", 2, minutes=None, signed=None)
    kit.build()
    assert kit.rows(
        "SELECT claim_id, line_number, session_level, minutes, note_signed_at "
        "FROM mart.sessions_by_line ORDER BY line_number"
    ) == [
        ("C1", 1, "claim", 55, datetime(2024, 6, 3, 18, 0)),
        ("C1", 2, "line", None, None),
    ]


def test_models_are_rebuilt_for_each_as_of() -> None:
    kit = new_kit()
    kit.claim("C1", [Line("90837")], date_of_service=DOS)
    kit.pay("C1", [Remit("90837", "150.00")])
    kit.build(date(2024, 6, 30))
    assert kit.rows("SELECT as_of FROM mart.build_info") == [(date(2024, 6, 30),)]
    assert kit.rows("SELECT count(*) FROM mart.paid_lines") == [(0,)]
    kit.build(date(2024, 12, 31))
    assert kit.rows("SELECT count(*) FROM mart.paid_lines") == [(1,)]
