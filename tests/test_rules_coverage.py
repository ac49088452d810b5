"""coverage.lapsed and coverage.unverified: exact findings at the date boundaries."""

from __future__ import annotations

import json
from datetime import date

from tests.rulekit import Kit, finding, new_kit

LAPSED = "coverage.lapsed"
UNVERIFIED = "coverage.unverified"


def paid_on(kit: Kit, claim_id: str, dos: date, **options: object) -> None:
    kit.paid_line(claim_id, "90834", "100.00", date_of_service=dos, **options)  # type: ignore[arg-type]


def test_dos_on_the_coverage_end_date_is_covered_the_day_after_is_not() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 2), [("active", date(2024, 1, 1), date(2024, 6, 30))])
    paid_on(kit, "C-END", date(2024, 6, 30))
    paid_on(kit, "C-AFTER", date(2024, 7, 1))
    kit.run()
    assert kit.findings(LAPSED) == [finding("C-AFTER", LAPSED, "100.00")]


def test_dos_before_coverage_began_is_lapsed() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 3, 1), [("active", date(2024, 3, 1), None)])
    paid_on(kit, "C-BEFORE", date(2024, 2, 29))
    paid_on(kit, "C-FIRST", date(2024, 3, 1))
    kit.run()
    assert kit.findings(LAPSED) == [finding("C-BEFORE", LAPSED, "100.00")]
    evidence = json.loads(
        kit.rows("SELECT evidence FROM mart.findings WHERE rule = ?", [LAPSED])[0][0]
    )
    assert evidence["covered_from"] == "2024-03-01"
    assert evidence["status_on_date"] == "no response speaks about this date"


def test_retro_termination_learned_later_makes_a_paid_line_lapsed() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 2), [("active", date(2024, 1, 1), None)])
    paid_on(kit, "C-MAY", date(2024, 5, 6))
    paid_on(kit, "C-MAR", date(2024, 3, 4))
    kit.run()
    assert kit.findings(LAPSED) == []
    retro = kit.eligibility(date(2024, 9, 1), [("active", date(2024, 1, 1), date(2024, 3, 31))])
    kit.run()
    assert kit.findings(LAPSED) == [finding("C-MAY", LAPSED, "100.00")]
    evidence = json.loads(
        kit.rows("SELECT evidence FROM mart.findings WHERE rule = ?", [LAPSED])[0][0]
    )
    assert evidence["decided_by_response"] == retro
    assert evidence["decided_by_check_date"] == "2024-09-01"
    assert evidence["covered_until"] == "2024-03-31"


def test_lapsed_only_for_member_and_payer_with_eligibility_data_and_partial_skip_named() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 2), [("active", date(2024, 1, 1), date(2024, 1, 31))])
    paid_on(kit, "C-M1", date(2024, 6, 3))
    paid_on(kit, "C-M2", date(2024, 6, 3), member_id="M2")  # no response for M2: not evaluated
    paid_on(kit, "C-P2", date(2024, 6, 3), payer_id="P2")  # no response for P2 at all
    result = kit.run()
    assert kit.findings(LAPSED) == [finding("C-M1", LAPSED, "100.00")]
    assert result.skipped[LAPSED] == (
        "partial: not evaluated for 1 payer(s) with no eligibility response about coverage: P2"
    )


def test_unverified_30_days_before_is_verified_31_is_not() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 5, 4), [("active", date(2024, 1, 1), None)])
    paid_on(kit, "C-30", date(2024, 6, 3))  # 30 days after the check
    paid_on(kit, "C-31", date(2024, 6, 4))  # 31 days
    paid_on(kit, "C-EARLY", date(2024, 5, 3))  # the only check is after the DOS
    kit.run()
    assert kit.findings(UNVERIFIED) == [
        finding("C-31", UNVERIFIED, "0.00"),
        finding("C-EARLY", UNVERIFIED, "0.00"),
    ]
    assert kit.findings(LAPSED) == []


def test_unverified_window_is_configurable() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 5, 4), [("active", date(2024, 1, 1), None)])
    paid_on(kit, "C-30", date(2024, 6, 3))
    kit.run({"coverage.unverified_days": 29})
    assert kit.findings(UNVERIFIED) == [finding("C-30", UNVERIFIED, "0.00")]


def test_no_eligibility_data_skips_both_coverage_rules() -> None:
    kit = new_kit()
    paid_on(kit, "C1", date(2024, 6, 3))
    result = kit.run()
    reason = "no eligibility data: the warehouse holds no eligibility response"
    assert result.skipped[LAPSED] == reason
    assert result.skipped[UNVERIFIED] == reason
    assert LAPSED not in result.counts
    assert kit.findings(LAPSED) == kit.findings(UNVERIFIED) == []
