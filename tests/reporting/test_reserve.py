"""Expected recoupments (issue 12 item 3, docs/reserve.md): rates per rule x payer with the beta
prior, the reserve per payer and the backtest, on hand-made claims with hand-computed values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from reporting import reserve
from reporting.reserve import Unit

AS_OF = date(2026, 11, 15)
A, B = "coverage.lapsed", "documentation.note_missing"


def unit(key, payer, rules, paid, open_exposure="0", taken=()):
    return Unit(key, payer, set(rules), paid, Decimal(open_exposure),
                [(day, Decimal(amount)) for day, amount in taken])  # fmt: skip


CLAIMS = [
    unit("a1", "P1", [A], date(2026, 1, 10), taken=[(date(2026, 3, 1), "100.00")]),
    unit("a2", "P1", [A], date(2026, 1, 10), taken=[(date(2026, 4, 1), "50.00")]),
    unit("a3", "P1", [A], date(2026, 1, 10), "80.00"),
    unit("a4", "P1", [A], date(2026, 1, 10), "20.00"),
    unit("a5", "P2", [A], date(2026, 2, 1), "60.00"),
    unit("a6", "P2", [A], date(2026, 9, 1), "40.00"),  # too young to be watched
    # taken back 8 months after payment: not within the 6-month horizon
    unit("b1", "P1", [B], date(2026, 2, 1), taken=[(date(2026, 10, 1), "70.00")]),
]


def test_rates_shrink_toward_the_rules_rate() -> None:
    table = reserve.rates(CLAIMS, AS_OF)
    # rule A: 2 of 5 watched claims taken back -> prior m = (2 + 1/2) / (5 + 1)
    prior = 2.5 / 6
    assert table[(A, "P1")].taken == 2 and table[(A, "P1")].watched == 4
    assert table[(A, "P1")].probability == pytest.approx((2 + 10 * prior) / 14)
    assert table[(A, "P2")].watched == 1 and table[(A, "P2")].taken == 0
    assert table[(A, "P2")].probability == pytest.approx(10 * prior / 11)
    assert table[(B, "P1")].probability == pytest.approx((0 + 10 * 0.25) / 11)
    assert all(rate.thin for rate in table.values())  # fewer than 10 claims each


def test_reserve_per_payer() -> None:
    got = {
        payer: {key: value for key, value in row.items() if key != "by_month"}
        for payer, row in reserve.reserve(CLAIMS, AS_OF)["by_payer"].items()
    }
    # P1: 80 and 20 at 0.440476 -> 35.24 + 8.81; P2: 60 and 40 at 0.378788 -> 22.73 + 15.15
    assert got == {
        "P1": {"claims": 2, "open_exposure": Decimal("100.00"), "expected": Decimal("44.05"),
               "thin": [A]},
        "P2": {"claims": 2, "open_exposure": Decimal("100.00"), "expected": Decimal("37.88"),
               "thin": [A]},
    }  # fmt: skip


def test_reserve_per_payer_and_month_ahead() -> None:
    got = reserve.reserve(CLAIMS, AS_OF)
    # (2026-11-15, 2027-05-15] is 181 days: Nov 15, Dec 31, Jan 31, Feb 28, Mar 31, Apr 30, May 15;
    # P1 44.05 * days / 181 -> 3.65, 7.54, 7.54, 6.81, 7.54, 7.30, rest 3.67
    # P2 37.88 * days / 181 -> 3.14, 6.49, 6.49, 5.86, 6.49, 6.28, rest 3.13
    months = ["2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04", "2027-05"]
    assert got["months"] == months
    p1 = ["3.65", "7.54", "7.54", "6.81", "7.54", "7.30", "3.67"]
    p2 = ["3.14", "6.49", "6.49", "5.86", "6.49", "6.28", "3.13"]
    total = ["6.79", "14.03", "14.03", "12.67", "14.03", "13.58", "6.80"]
    assert got["by_payer"]["P1"]["by_month"] == dict(zip(months, map(Decimal, p1), strict=True))
    assert got["by_payer"]["P2"]["by_month"] == dict(zip(months, map(Decimal, p2), strict=True))
    assert got["total_by_month"] == dict(zip(months, map(Decimal, total), strict=True))
    assert sum(got["total_by_month"].values()) == Decimal("81.93")  # 44.05 + 37.88


def test_backtest_predicted_vs_realized_per_month() -> None:
    claims = [
        unit("u1", "P1", [A], date(2025, 10, 1), taken=[(date(2026, 1, 10), "100.00")]),
        unit("u2", "P1", [A], date(2025, 10, 1), "50.00"),
        unit("u3", "P1", [A], date(2026, 3, 1), taken=[(date(2026, 7, 20), "120.00")]),
        unit("u4", "P1", [A], date(2026, 4, 1), "30.00"),
        unit("u5", "P1", [A], date(2026, 6, 1), "99.00"),  # paid after the cutoff
    ]
    got = reserve.backtest(claims, AS_OF)
    # as of 2026-05-15: u1 (taken) and u2 watched -> p = (1 + 10 * 0.5) / 12 = 0.5; at risk:
    # u2 50, u3 120 (taken later), u4 30 -> predicted 100.00, spread over 184 days
    assert (got["as_of"], got["predicted"], got["realized"]) == (
        "2026-05-15", Decimal("100.00"), Decimal("120.00"),
    )  # fmt: skip
    assert [(m["month"], m["predicted"], m["realized"]) for m in got["by_month"]] == [
        ("2026-05", Decimal("8.70"), Decimal("0")),
        ("2026-06", Decimal("16.30"), Decimal("0")),
        ("2026-07", Decimal("16.85"), Decimal("120.00")),
        ("2026-08", Decimal("16.85"), Decimal("0")),
        ("2026-09", Decimal("16.30"), Decimal("0")),
        ("2026-10", Decimal("16.85"), Decimal("0")),
        ("2026-11", Decimal("8.15"), Decimal("0")),
    ]
    assert got["thin"] == [A]


def test_a_takeback_is_attributed_to_the_rules_its_records_show() -> None:
    line = {
        "coverage_status": None, "has_eligibility": True, "feeds_sessions": True,
        "session_row": True, "session_signed_at": date(2026, 1, 2), "session_minutes": 40,
        "min_minutes": 53, "other_paid_claim_id": "C9", "first_payment_date": date(2026, 1, 20),
    }  # fmt: skip
    assert reserve.attributed_rules(line) == {
        "coverage.lapsed", "coding.time_unsupported", "billing.duplicate",
    }  # fmt: skip
    flagged = [
        {"claim_key": "K1", "line_number": 1, "rule": A, "payer_id": "P1",
         "open_exposure": Decimal("10.00"), "first_payment_date": date(2026, 2, 1)},
        {"claim_key": "K1", "line_number": 1, "rule": B, "payer_id": "P1",
         "open_exposure": Decimal("10.00"), "first_payment_date": date(2026, 2, 1)},
    ]  # fmt: skip
    taken = SimpleNamespace(lines=[line], claim_key="K2", payer_id="P1",
                            remittance_date=date(2026, 5, 1), amount=Decimal("33.00"))  # fmt: skip
    k1, k2 = reserve.units(flagged, [taken])
    assert (k1.rules, k1.open_exposure, k1.first_paid) == ({A, B}, Decimal("10.00"),
                                                           date(2026, 2, 1))  # fmt: skip
    assert (k2.rules, k2.first_paid, k2.taken) == (
        {"coverage.lapsed", "coding.time_unsupported", "billing.duplicate"},
        date(2026, 1, 20), [(date(2026, 5, 1), Decimal("33.00"))],
    )  # fmt: skip
