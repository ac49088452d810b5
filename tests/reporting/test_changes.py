"""Since last night, by reason (reporting/changes.py): a finding that shrank, and findings that
left because the payment passed the payer's look-back, the claim was replaced, or the rule no
longer fires; the previous night is the last one stored *before* the night reported, and storing
a night again replaces it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from expectations.config import load_config
from flows.handover import report_rules
from reporting import Scope, build_summary
from reporting.changes import Change, changes_csv, compare, store_night
from reporting.queries import scoped_tables
from tests.rulekit import AS_OF, Kit, Line, Remit, new_kit

NIGHT_A, NIGHT_B = AS_OF, date(2025, 1, 2)  # P9's 6-month look-back from 2024-07-01 ends between


def store(kit: Kit, as_of: date) -> int:
    result = kit.run(as_of=as_of)
    totals = build_summary(
        kit.con, as_of=as_of, scope=Scope.nightly(), skipped=result.skipped, rules=report_rules()
    )["totals"]
    with scoped_tables(kit.con, Scope.nightly(), as_of, load_config()) as con:
        return store_night(con, as_of, totals)


def night_a() -> Kit:
    """Four 90837 lines paid $142.30 (90834 allowed $85, 90832 $55), each with a short note."""
    kit = new_kit(NIGHT_A)
    kit.fee("90834", "85.00")
    kit.fee("90832", "55.00")
    kit.payer("P9", lookback_months=6)
    kit.paid_line(
        "BAR-1", "90837", "142.30", payer_id="P9", member_id="M-B"
    )  # time-barred on night B
    kit.paid_line("FIX-1", "90837", "142.30", member_id="M-F")  # replaced by a 90834 on night B
    kit.paid_line(
        "GONE-1", "90837", "142.30", member_id="M-G"
    )  # its note resent with 60 minutes on night B
    kit.paid_line(
        "LESS-1", "90837", "142.30", member_id="M-L"
    )  # 20 minutes, resent with 40 on night B
    for claim_id, minutes in (("BAR-1", 40), ("FIX-1", 40), ("GONE-1", 40), ("LESS-1", 20)):
        kit.session(claim_id, minutes=minutes)
    return kit


def test_reasons_and_shrunk_findings_between_two_nights() -> None:
    kit = night_a()
    assert store(kit, NIGHT_A) == 4
    stored = kit.rows("SELECT claim_id, rule, exposure FROM history.night_findings ORDER BY 1")
    assert stored == [
        ("BAR-1", "coding.time_unsupported", Decimal("57.30")),
        ("FIX-1", "coding.time_unsupported", Decimal("57.30")),
        ("GONE-1", "coding.time_unsupported", Decimal("57.30")),
        ("LESS-1", "coding.time_unsupported", Decimal("87.30")),
    ]
    assert kit.rows("SELECT * FROM history.nights") == [(NIGHT_A, Decimal("259.20"), 4, 4)]

    # night B: the replacement claim, the resent notes, and two days later
    kit.claim(
        "FIX-1", [Line("90834")], member_id="M-F", frequency_code="7", original_claim_ref="FIX-1"
    )
    resent = kit.file("sessions", received_at=datetime(2025, 1, 2))
    kit.session("GONE-1", minutes=60, file_sha256=resent)
    kit.session("LESS-1", minutes=40, file_sha256=resent)
    kit.pay("FIX-1", [Remit("90834", "85.00")], payment_date=date(2024, 12, 20))
    result = kit.run(as_of=NIGHT_B)
    with scoped_tables(kit.con, Scope.nightly(), NIGHT_B, load_config()) as con:
        night = compare(con, NIGHT_B, Decimal("57.30"))
    assert night.previous == NIGHT_A and night.open_before == Decimal("259.20")
    assert night.open_change == Decimal("-201.90")
    assert [(c.kind, c.claim_id, c.before, c.after, c.delta, c.reason) for c in night.changes] == [
        ("shrunk", "LESS-1", Decimal("87.30"), Decimal("57.30"), Decimal("-30.00"), None),
        ("resolved", "BAR-1", Decimal("57.30"), None, Decimal("-57.30"), "time-barred"),
        ("resolved", "FIX-1", Decimal("57.30"), None, Decimal("-57.30"), "corrected"),
        ("resolved", "GONE-1", Decimal("57.30"), None, Decimal("-57.30"), "no longer flagged"),
    ]
    tally = night.tally()
    assert tally["shrunk"] == {"count": 1, "dollars": Decimal("30.00")}
    assert tally["resolved"] == {"count": 3, "dollars": Decimal("171.90")}
    assert changes_csv(night).splitlines()[1] == (
        "shrunk,LESS-1,1,coding.time_unsupported,87.30,57.30,-30.00,,LESS-1~2024-06-03"
    )
    assert [point for point in night.trend] == [
        (NIGHT_A, Decimal("259.20")),
        (NIGHT_B, Decimal("57.30")),
    ]
    assert isinstance(night.changes[0], Change) and "coding.time_unsupported" not in result.skipped

    # storing night B, then night A again: A still compares with nothing stored before it
    assert store(kit, NIGHT_B) == 1
    kit.run(as_of=NIGHT_A)
    with scoped_tables(kit.con, Scope.nightly(), NIGHT_A, load_config()) as con:
        first = compare(con, NIGHT_A, Decimal("259.20"))
    assert first.previous is None and first.changes == []
    assert first.trend == [(NIGHT_A, Decimal("259.20"))]
    # replaced, not added (with today's data: BAR-1 and LESS-1 at 40 minutes)
    assert store(kit, NIGHT_A) == 2
    assert kit.rows("SELECT as_of, open_findings FROM history.nights ORDER BY 1") == [
        (NIGHT_A, 2),
        (NIGHT_B, 1),
    ]


def test_a_replacement_sent_before_the_previous_night_is_not_corrected_again() -> None:
    """Two claims whose current submission was already a replacement (frequency 7) on night A:
    on night B one is reversed in an 835 and the other's note is resent with 60 minutes. Neither
    submission changed since night A, so they resolved as paid back / no longer flagged; a third
    claim replaced on night B is the only one corrected."""
    kit = new_kit(NIGHT_A)
    kit.fee("90834", "85.00")
    for claim_id, member in (("REV-7", "M-R"), ("NOTE-7", "M-N"), ("NEW-7", "M-W")):
        kit.paid_line(
            claim_id,
            "90837",
            "142.30",
            member_id=member,
            frequency_code="7",
            original_claim_ref=f"{claim_id}-ICN",
        )
        kit.session(claim_id, minutes=40)
    assert store(kit, NIGHT_A) == 3
    assert kit.rows(
        "SELECT n.claim_id, n.submission = c.file_sha256 || ':' || c.claim_seq "
        "FROM history.night_findings AS n JOIN mart.claims AS c USING (claim_key) ORDER BY 1"
    ) == [("NEW-7", True), ("NOTE-7", True), ("REV-7", True)]

    kit.reverse("REV-7", [Remit("90837", "142.30")], payment_date=date(2024, 12, 20))
    resent = kit.file("sessions", received_at=datetime(2025, 1, 2))
    kit.session("NOTE-7", minutes=60, file_sha256=resent)
    kit.claim(
        "NEW-7", [Line("90834")], member_id="M-W", frequency_code="7", original_claim_ref="NEW-7"
    )
    kit.run(as_of=NIGHT_B)
    with scoped_tables(kit.con, Scope.nightly(), NIGHT_B, load_config()) as con:
        night = compare(con, NIGHT_B, Decimal("0.00"))
    assert [(c.kind, c.claim_id, c.before, c.reason) for c in night.changes] == [
        ("resolved", "NEW-7", Decimal("57.30"), "corrected"),
        ("resolved", "NOTE-7", Decimal("57.30"), "no longer flagged"),
        ("resolved", "REV-7", Decimal("57.30"), "paid back"),
    ]
    assert night.open_before == Decimal("171.90")
