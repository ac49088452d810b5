# ruff: noqa: E501  (expected rows read best one client per line)
"""Who reverify.csv lists for a termination, and which 271 counts as the latest check
(reporting/prevention.py reverify_rows), on a small warehouse as of 2024-12-31 (window 30 days)."""

from __future__ import annotations

from datetime import date, datetime

from reporting.prevention import reverify_rows
from tests.rulekit import AS_OF, new_kit

SEEN = date(2024, 12, 16)  # each client's session, in the 30 days before AS_OF
CHECKED = date(2024, 12, 20)


def test_terminations_need_no_active_coverage_now_and_only_coverage_answers_are_checks() -> None:
    kit = new_kit(AS_OF)
    for member in ("M-OLD", "M-END", "M-SOON", "M-UV"):
        kit.paid_line(f"C-{member}", "90837", "142.30", member_id=member, date_of_service=SEEN)
    # M-OLD: a plan period that ended last year (EB*6) beside active coverage since 2024-01-01
    kit.eligibility(
        CHECKED,
        [("inactive", date(2023, 1, 1), date(2023, 12, 31)), ("active", date(2024, 1, 1), None)],
        member_id="M-OLD",
    )
    # M-END: coverage ended 2024-12-15, nothing active
    kit.eligibility(CHECKED, [("inactive", None, date(2024, 12, 15))], member_id="M-END")
    # M-SOON: the old period, and the active coverage ends 2025-01-15 (inside the 30 days ahead)
    kit.eligibility(
        CHECKED,
        [
            ("inactive", date(2023, 1, 1), date(2023, 12, 31)),
            ("active", date(2024, 1, 1), date(2025, 1, 15)),
        ],
        member_id="M-SOON",
    )
    # M-UV: active on 2024-11-01; the 271 of 2024-12-28 has no coverage statement (benefit
    # details only, like an EB*U/V-only answer), so the last check stays 2024-11-01
    kit.eligibility(date(2024, 11, 1), [("active", date(2024, 1, 1), None)], member_id="M-UV")
    kit.eligibility(
        date(2024, 12, 28),
        [("other", None, None)],
        member_id="M-UV",
        received_at=datetime(2024, 12, 28),
    )
    kit.run(as_of=AS_OF)
    rows = reverify_rows(kit.con, AS_OF, {})
    assert sorted((r["member_id"], str(r["last_check"]), r["reasons"]) for r in rows) == [
        ("M-END", "2024-12-20", "termination: the 271 of 2024-12-20 shows coverage ended 2024-12-15"),
        ("M-SOON", "2024-12-20", "termination: the 271 of 2024-12-20 ends coverage 2025-01-15"),
        ("M-UV", "2024-11-01", "last checked 2024-11-01, 60 days ago (over 30)"),
    ]  # fmt: skip
