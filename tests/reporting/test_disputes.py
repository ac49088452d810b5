"""Dispute assessment (issue 12): each takeback of a tiny warehouse, the verdict and reasons it
gets, its appeal deadline, disputes.csv and the packets (rendered offline in headless Chromium)."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from expectations.config import load_config
from reporting import disputes
from reporting.queries import scoped_tables
from reporting.scope import Scope
from tests.rulekit import Kit, Line, Remit, new_kit

AS_OF = date(2024, 12, 31)
DOS = date(2024, 6, 3)
PAID = date(2024, 7, 1)
TAKEN = date(2024, 10, 1)
SIGNED = datetime(2024, 6, 3, 18, 0)


def _adjust(kit: Kit, payment: tuple[str, str], claim_id: str, status: str, *cas: str) -> None:
    """CAS on the CLP of ``claim_id`` with CLP02 ``status`` in ``payment`` ('CO-27 124.10')."""
    sha, payment_id = payment
    (seq,) = kit.rows(
        "SELECT claim_seq FROM stg.remit_claims WHERE payment_id = ? AND claim_id = ? "
        "AND status_code = ?",
        [payment_id, claim_id, status],
    )[0]
    for entry in cas:
        code, amount = entry.split(" ")
        group, reason = code.split("-")
        kit.insert(
            "stg.remit_adjustments",
            {"file_sha256": sha, "payment_id": payment_id, "claim_seq": seq, "group_code": group,
             "reason_code": reason, "amount": Decimal(amount)},
        )  # fmt: skip


def _paid_claim(
    kit: Kit,
    claim_id: str,
    member: str,
    *,
    code: str = "90837",
    minutes: int | None = 60,
    session: bool = True,
    billing_npi: str = "1111111111",
    payer_id: str = "P1",
    covered_until: date | None = None,
) -> None:
    kit.claim(claim_id, [Line(code)], member_id=member, billing_npi=billing_npi, payer_id=payer_id)
    kit.pay(claim_id, [Remit(code, "120.00")], payment_date=PAID, payer_id=payer_id)
    kit.eligibility(
        date(2024, 5, 20),
        [("active", date(2024, 1, 1), covered_until)],
        member_id=member,
        payer_id=payer_id,
    )
    if session:
        kit.session(claim_id, minutes=minutes, signed=SIGNED)


def _reverse(kit: Kit, claim_id: str, *cas: str, payer_id: str = "P1", code: str = "90837"):
    payment = kit.payment(payment_date=TAKEN, payer_id=payer_id)
    kit.reverse(claim_id, [Remit(code, "120.00")], payment=payment, payer_id=payer_id)
    if cas:
        _adjust(kit, payment, claim_id, "22", *cas)
    return payment


@dataclass
class Judged:
    kit: Kit
    by_claim: dict[str, disputes.Assessment]
    ordered: list[disputes.Assessment]


@pytest.fixture(scope="module")
def judged() -> Iterator[Judged]:
    kit = new_kit(AS_OF)
    kit.insert("ref.payers", {"payer_id": "*", "name": "any", "lookback_months": 24,
                              "telehealth_modifier_required": False, "source": "t",
                              "appeal_days": 60})  # fmt: skip
    kit.insert("ref.payers", {"payer_id": "P1", "name": "P1", "lookback_months": 24,
                              "telehealth_modifier_required": False, "source": "t",
                              "appeal_days": 120})  # fmt: skip
    # wrongful: coverage active on the date, note of 60 min; the payer says coverage ended
    _paid_claim(kit, "WCOV", "M1")
    _reverse(kit, "WCOV", "CO-27 120.00")
    # rightful: coverage ended 2024-05-31, before the session
    _paid_claim(kit, "RCOV", "M2", covered_until=date(2024, 5, 31))
    _reverse(kit, "RCOV", "CO-27 120.00")
    # wrongful: the payer re-adjudicates to 0 with CO-150; the note documents 55 minutes
    _paid_claim(kit, "WDOC", "M3", minutes=55)
    payment = _reverse(kit, "WDOC")
    kit.pay("WDOC", [Remit("90837", "0.00")], status="4", payment=payment)
    _adjust(kit, payment, "WDOC", "4", "CO-150 150.00")
    # rightful: 45 minutes do not support a 90837 (53)
    _paid_claim(kit, "RDOC", "M4", minutes=45)
    _reverse(kit, "RDOC", "CO-152 120.00")
    # rightful duplicate: the same service is still paid on RDUP-A
    _paid_claim(kit, "RDUP-A", "M5")
    kit.claim("RDUP-B", [Line("90837")], member_id="M5")
    kit.pay("RDUP-B", [Remit("90837", "120.00")], payment_date=date(2024, 7, 8))
    kit.session("RDUP-B", minutes=60, signed=SIGNED)
    _reverse(kit, "RDUP-B", "CO-18 120.00")
    # wrongful duplicate: no other claim for the service
    _paid_claim(kit, "WDUP", "M6")
    _reverse(kit, "WDUP", "CO-18 120.00")
    # unknown: prior authorization, which recoup does not hold
    _paid_claim(kit, "UAUTH", "M7")
    _reverse(kit, "UAUTH", "CO-197 120.00")
    # PLB WO without a reason on a clean claim of payer P2 (appeal days from the '*' row: 60)
    _paid_claim(kit, "WPLB", "M8", payer_id="P2")
    kit.plb(kit.payment(payment_date=date(2024, 11, 4), payer_id="P2"), "WPLB", "40.00")
    # PLB WO on a claim of a provider that sends no sessions feed: documentation unknown
    _paid_claim(kit, "UPLB", "M9", session=False, billing_npi="3333333333")
    kit.plb(kit.payment(payment_date=date(2024, 11, 4)), "UPLB", "30.00")
    # a correction in the same 835 re-pays 115.00 with CO-45: the payer kept 5.00, re-priced
    _paid_claim(kit, "CORR", "M10")
    payment = _reverse(kit, "CORR")
    kit.pay("CORR", [Remit("90837", "115.00")], payment=payment)
    _adjust(kit, payment, "CORR", "1", "CO-45 35.00", "PR-2 0.00")
    # PLB WO naming a claim the warehouse does not know
    kit.plb(kit.payment(payment_date=date(2024, 11, 4)), "NOSUCH", "25.00")
    kit.run(as_of=AS_OF)
    config = load_config()
    with scoped_tables(kit.con, Scope.nightly(), AS_OF, config):
        ordered = disputes.assess(kit.con, as_of=AS_OF, thresholds=config)
    yield Judged(kit, {t.claim_id: t for t in ordered}, ordered)
    kit.con.close()


def test_each_takeback_gets_its_verdict_and_reasons(judged: Judged) -> None:
    got = {claim: (t.verdict, t.payer_codes) for claim, t in judged.by_claim.items()}
    assert got == {
        "WCOV": ("disputable", ["CO-27"]),
        "RCOV": ("not_disputable", ["CO-27"]),
        "WDOC": ("disputable", ["CO-150"]),
        "RDOC": ("not_disputable", ["CO-152"]),
        "RDUP-B": ("not_disputable", ["CO-18"]),
        "WDUP": ("disputable", ["CO-18"]),
        "UAUTH": ("unknown", ["CO-197"]),
        "WPLB": ("disputable", []),
        "UPLB": ("unknown", []),
        "NOSUCH": ("unknown", []),
        "CORR": ("unknown", ["CO-45"]),
    }
    t = judged.by_claim
    (response_m1,) = judged.kit.rows(
        "SELECT response_id FROM stg.eligibility_responses WHERE member_id = 'M1'"
    )[0]
    assert t["WCOV"].reasons == [
        f"contradicts CO-27: 271 response {response_m1} checked 2024-05-20 says coverage was "
        "active on 2024-06-03"
    ]
    (response_m2,) = judged.kit.rows(
        "SELECT response_id FROM stg.eligibility_responses WHERE member_id = 'M2'"
    )[0]
    assert t["RCOV"].reasons == [
        f"the records support the payer: 271 response {response_m2} checked 2024-05-20 says "
        "coverage was inactive on 2024-06-03"
    ]
    assert t["WDOC"].reasons == [
        "contradicts CO-150: line 1 (90837): note signed 2024-06-03 documents 55 min (at least 53)"
    ]
    assert t["RDOC"].reasons == [
        "the records support the payer: line 1 (90837): note signed 2024-06-03 documents 45 min, "
        "below 53"
    ]
    assert t["RDUP-B"].reasons == [
        "the records support the payer: line 1 (90837): the same service is still paid on "
        "claim RDUP-A"
    ]
    assert t["WDUP"].reasons == [
        "contradicts CO-18: line 1 (90837): no other claim paid for the same service"
    ]
    assert t["UAUTH"].reasons == [
        "recoup's records cannot answer CO-197: prior authorization was absent"
    ]
    assert t["WPLB"].reasons[0] == (
        "the payer gave no reason and every record supports the payment"
    )
    assert t["UPLB"].reasons == [
        "no documentation record: line 1 (90837): the billing provider sends no sessions feed"
    ]
    assert t["CORR"].reasons == [
        "recoup's records cannot answer CO-45: the charge is above the fee schedule or contract "
        "(re-priced)"
    ]
    assert t["NOSUCH"].reasons == ["the claim it names is not in the warehouse (or has no lines)"]


def test_amounts_deadlines_and_order(judged: Judged) -> None:
    t = judged.by_claim
    # the correction in the same 835 paid 0: the payer kept the whole 120.00
    assert (t["WDOC"].taken_back, t["WDOC"].repaid, t["WDOC"].amount) == (
        Decimal("120.00"), Decimal("0.00"), Decimal("120.00"),
    )  # fmt: skip
    # P1 gives 120 days: 2024-10-01 + 120 = 2025-01-29, 29 days after as-of
    assert (t["WCOV"].deadline, t["WCOV"].days_left) == (date(2025, 1, 29), 29)
    # P2 has no row: the '*' row's 60 days from 2024-11-04
    assert (t["WPLB"].appeal_days, t["WPLB"].deadline, t["WPLB"].days_left) == (
        60, date(2025, 1, 3), 3,
    )  # fmt: skip
    assert [(x.claim_id, x.amount) for x in judged.ordered] == [
        ("RCOV", Decimal("120.00")),
        ("RDOC", Decimal("120.00")),
        ("RDUP-B", Decimal("120.00")),
        ("UAUTH", Decimal("120.00")),
        ("WCOV", Decimal("120.00")),
        ("WDOC", Decimal("120.00")),
        ("WDUP", Decimal("120.00")),
        ("WPLB", Decimal("40.00")),
        ("UPLB", Decimal("30.00")),
        ("NOSUCH", Decimal("25.00")),
        ("CORR", Decimal("5.00")),
    ]
    assert (t["CORR"].taken_back, t["CORR"].repaid) == (Decimal("120.00"), Decimal("115.00"))


def chromium_dom(page: Path, profile: Path) -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("Debian's chromium is needed to render the packet (apt-get install chromium)")
    run = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={profile}", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def test_disputes_csv_and_packets(judged: Judged, tmp_path: Path) -> None:
    kit = judged.kit
    config = load_config()
    with scoped_tables(kit.con, Scope.nightly(), AS_OF, config):
        ordered = disputes.assess(kit.con, as_of=AS_OF, thresholds=config)
        disputes.write_disputes(kit.con, tmp_path, ordered, as_of=AS_OF)
    with (tmp_path / "disputes.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(disputes.CSV_COLUMNS)
    first = rows[0]
    shown = ("claim_id", "kind", "payer_id", "member_id", "verdict", "amount", "payer_codes",
             "appeal_deadline", "days_left", "packet")  # fmt: skip
    assert [first[k] for k in shown] == [
        "RCOV", "reversal", "P1", "M2", "not_disputable", "120.00", "CO-27", "2025-01-29", "29", "",
    ]  # fmt: skip
    packets = {row["claim_id"]: row["packet"] for row in rows if row["packet"]}
    assert packets == {
        "WCOV": "disputes/WCOV/",
        "WDOC": "disputes/WDOC/",
        "WDUP": "disputes/WDUP/",
        "WPLB": "disputes/WPLB/",
    }
    folder = tmp_path / "disputes" / "WDOC"
    assert sorted(p.name for p in folder.iterdir()) == [
        "claim_lines.csv", "eligibility.csv", "payments.csv", "sessions.csv", "summary.html",
    ]  # fmt: skip
    payments = list(csv.DictReader((folder / "payments.csv").open(newline="")))
    columns = ("payment_date", "status_code", "amount", "adjustments")
    assert [tuple(r[c] for c in columns) for r in payments] == [
        ("2024-07-01", "1", "120.00", ""),
        ("2024-10-01", "22", "-120.00", ""),
        ("2024-10-01", "4", "0.00", "CO-150 150.00"),
    ]  # fmt: skip
    sessions = list(csv.DictReader((folder / "sessions.csv").open(newline="")))
    assert [(r["claim_id"], r["minutes"], r["note_signed_at"]) for r in sessions] == [
        ("WDOC", "55", "2024-06-03 18:00:00")
    ]
    eligibility = list(csv.DictReader((folder / "eligibility.csv").open(newline="")))
    assert [(r["member_id"], r["coverage_status"], r["coverage_begin"]) for r in eligibility] == [
        ("M3", "active", "2024-01-01")
    ]
    # nothing of another member or claim in any packet file
    claims = {"WCOV", "RCOV", "WDOC", "RDOC", "RDUP-A", "RDUP-B", "WDUP", "UAUTH", "WPLB", "UPLB",
              "CORR"}  # fmt: skip
    members = {f"M{n}" for n in range(1, 11)}
    for packet in (tmp_path / "disputes").iterdir():
        own = {"WCOV": "M1", "WDOC": "M3", "WDUP": "M6", "WPLB": "M8"}[packet.name]
        for path in packet.iterdir():
            text = path.read_text()
            assert [c for c in sorted(claims - {packet.name}) if c in text] == [], path
            assert [m for m in sorted(members - {own}) if re.search(rf"\b{m}\b", text)] == []
    dom = chromium_dom(folder / "summary.html", tmp_path / "profile")
    assert '<span id="claim">WDOC</span>' in dom
    assert '<dd class="verdict" id="verdict">disputable</dd>' in dom
    assert "CO-150: the documentation does not support the level of service" in dom
    assert "note signed 2024-06-03 documents 55 min (at least 53)" in dom
    assert '<td class="num">55</td>' in dom and "2024-06-03 18:00:00" in dom
    assert "http" not in (folder / "summary.html").read_text().replace(
        "http-equiv", ""
    )  # nothing to fetch
