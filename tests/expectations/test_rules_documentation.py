"""Session-based rules: time bands, missing time, missing or unsigned notes, late signatures,
and the skips when no sessions feed exists."""

from __future__ import annotations

import json
from datetime import datetime

from tests.rulekit import BILLING_NPI, Kit, Line, Remit, finding, money, new_kit

TIME = "coding.time_unsupported"
TIME_MISSING = "documentation.time_missing"
NOTE = "documentation.note_missing"
LATE = "documentation.late_signature"


def priced_kit() -> Kit:
    kit = new_kit()
    kit.fee("90832", "60.00")
    kit.fee("90834", "90.00")
    kit.fee("90834", "95.00", payer_id="P1")  # the payer's own row wins over '*'
    kit.fee("90836", "80.00")
    return kit


def test_time_boundaries_37_38_and_52_53_minutes() -> None:
    kit = priced_kit()
    for claim_id, code, minutes in [
        ("C-90834-37", "90834", 37),
        ("C-90834-38", "90834", 38),
        ("C-90837-52", "90837", 52),
        ("C-90837-53", "90837", 53),
    ]:
        kit.paid_line(claim_id, code, "150.00")
        kit.session(claim_id, minutes=minutes)
    kit.run()
    assert kit.findings(TIME) == [
        finding("C-90834-37", TIME, "90.00"),  # 150 - 60 (90832, '*')
        finding("C-90837-52", TIME, "55.00"),  # 150 - 95 (90834, payer P1)
    ]


def test_under_16_minutes_is_the_whole_net_paid_and_addons_stay_in_their_family() -> None:
    kit = priced_kit()
    kit.paid_line("C-15", "90837", "150.00")
    kit.session("C-15", minutes=15)
    kit.claim("C-ADDON", [Line("99214"), Line("90838")])
    kit.pay("C-ADDON", [Remit("99214", "110.00"), Remit("90838", "100.00")])
    kit.session("C-ADDON", 2, minutes=40)
    kit.session("C-ADDON", 1, minutes=None)  # E/M line: not timed, no time finding
    kit.run()
    assert kit.findings(TIME) == [
        finding("C-15", TIME, "150.00"),
        finding("C-ADDON", TIME, "20.00", line=2),  # 100 - 80 (90836)
    ]
    assert kit.findings(TIME_MISSING) == []


def test_unpriced_downcode_costs_the_whole_net_paid_and_never_below_zero() -> None:
    kit = new_kit()
    kit.fee("90834", "200.00")
    kit.paid_line("C-NOFEE", "90834", "100.00", payer_id="P9")
    kit.session("C-NOFEE", minutes=30)  # 90832 has no allowed amount anywhere
    kit.paid_line("C-CHEAP", "90837", "150.00")
    kit.session("C-CHEAP", minutes=45)  # 90834 allowed 200 > net paid 150
    kit.run()
    assert kit.findings(TIME) == [
        finding("C-CHEAP", TIME, "0.00"),
        finding("C-NOFEE", TIME, "100.00"),
    ]


def test_time_missing_note_missing_and_unsigned() -> None:
    kit = new_kit()
    kit.paid_line("C-NOTIME", "90834", "100.00")
    kit.session("C-NOTIME", minutes=None)
    kit.paid_line("C-NOROW", "90834", "100.00")
    kit.paid_line("C-UNSIGNED", "90791", "180.00")
    kit.session("C-UNSIGNED", signed=None, minutes=None)  # 90791 is untimed: no time finding
    kit.paid_line("C-OK", "90834", "100.00")
    kit.session("C-OK", minutes=45)
    kit.run()
    assert kit.findings(TIME_MISSING) == [finding("C-NOTIME", TIME_MISSING, "100.00")]
    assert kit.findings(NOTE) == [
        finding("C-NOROW", NOTE, "100.00"),
        finding("C-UNSIGNED", NOTE, "180.00"),
    ]


def test_note_missing_only_for_billing_providers_that_send_sessions() -> None:
    kit = new_kit()
    kit.paid_line("C-FEEDS", "90834", "100.00")
    kit.session("C-FEEDS", minutes=45)
    kit.paid_line("C-FEEDS-NOROW", "90834", "100.00")
    kit.paid_line("C-SILENT", "90834", "100.00", billing_npi="9999999999")
    result = kit.run()
    assert kit.findings(NOTE) == [finding("C-FEEDS-NOROW", NOTE, "100.00")]
    assert result.skipped[NOTE] == (
        "partial: not evaluated for 1 billing provider(s) that send no sessions feed: 9999999999"
    )
    assert BILLING_NPI not in result.skipped[NOTE]


def test_signature_7_days_after_is_on_time_8_is_late() -> None:
    kit = new_kit()
    kit.paid_line("C-7", "90834", "100.00")
    kit.session("C-7", minutes=45, signed=datetime(2024, 6, 10, 23, 59))  # DOS 2024-06-03
    kit.paid_line("C-8", "90834", "100.00")
    kit.session("C-8", minutes=45, signed=datetime(2024, 6, 11, 0, 1))
    kit.run()
    assert kit.findings(LATE) == [finding("C-8", LATE, "0.00")]


def test_no_sessions_feed_skips_every_session_rule() -> None:
    kit = new_kit()
    kit.paid_line("C1", "90837", "150.00")
    result = kit.run()
    reason = "no sessions feed: the warehouse holds no session rows"
    assert result.skipped == {
        TIME: reason,
        TIME_MISSING: reason,
        NOTE: reason,
        LATE: reason,
        "necessity.no_step_down": reason,
        "coverage.lapsed": "no eligibility data: the warehouse holds no eligibility response",
        "coverage.unverified": "no eligibility data: the warehouse holds no eligibility response",
        "coding.high_level_outlier": (
            "too few peers: 0 rendering provider(s) with at least 30 paid 90832/90834/90837 "
            "lines in the 12 months to 2024-12-31; at least 3 needed"
        ),
    }
    assert kit.findings() == []


def test_a_note_signed_before_its_session_does_not_document_it() -> None:
    """Issue 9 item 9a: a note signed five weeks before its session (DOS 2024-06-03) was taken as
    documentation: it replaced the earlier row, removing its time_missing finding, and it was
    never flagged. A signature dated before the session supports nothing: the earlier row stays
    the line's documentation; a pre-dated row alone is an unsigned note (note_missing)."""
    kit = new_kit()
    kit.paid_line("C-NOTIME", "90834", "100.37", member_id="M1")
    kit.session("C-NOTIME", minutes=None)  # signed on the day, no minutes: time_missing
    kit.session("C-NOTIME", minutes=60, signed=datetime(2024, 4, 29, 9, 0))  # later, pre-dated
    kit.paid_line("C-PREDATED", "90837", "140.12", member_id="M2")
    kit.session("C-PREDATED", minutes=60, signed=datetime(2024, 4, 29, 9, 0))
    kit.paid_line("C-SAMEDAY", "90834", "90.00", member_id="M3")
    kit.session("C-SAMEDAY", minutes=45, signed=datetime(2024, 6, 3, 0, 0))  # the day itself
    kit.run()
    assert kit.findings() == [  # ordered by rule
        finding("C-PREDATED", NOTE, "140.12"),
        finding("C-NOTIME", TIME_MISSING, "100.37"),
    ]
    evidence = kit.rows(
        "SELECT evidence FROM mart.findings WHERE claim_id = 'C-PREDATED' AND rule = ?", [NOTE]
    )
    assert json.loads(evidence[0][0]) == {
        "billing_npi": BILLING_NPI,
        "session_row": True,
        "note_signed_at": None,
        "signed_before_service": "2024-04-29 09:00:00",
    }
    exposure = kit.rows("SELECT claim_id, exposure FROM mart.line_exposure ORDER BY 1")
    assert exposure == [("C-NOTIME", money("100.37")), ("C-PREDATED", money("140.12"))]
