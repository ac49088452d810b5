"""Phase two: turn the bucket files into the inbox (X12 837P/271/835, sessions CSV, reference)."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime, time
from itertools import groupby
from pathlib import Path

from demo import practice as pr
from demo.buckets import Buckets
from demo.records import Claim, ProviderAdjustment, RemitClaim, Response, SessionRow
from demo.x12_writers import (
    CLEARINGHOUSE,
    SUBMITTER,
    claim_transaction,
    eligibility_transaction,
    interchange,
    remittance_transaction,
)
from warehouse.money import amount_text

CLAIMS_PER_TRANSACTION = 150
SESSIONS_HEADER = ["claim_id", "line_number", "minutes", "note_signed_at", "phq9", "gad7"]


class Controls:
    """Interchange control numbers, in writing order (deterministic)."""

    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        """The next ISA13 / GS06."""
        self.value += 1
        return self.value


def _write(path: Path, segments: list[str], line_breaks: bool) -> None:
    terminator = "~\n" if line_breaks else "~"
    path.write_text(terminator.join(segments) + terminator, encoding="ascii")


def write_claims(buckets: Buckets, out: Path, controls: Controls) -> int:
    """One 837P file per billing provider and month; one interchange per submission date."""
    folder = out / "claims"
    folder.mkdir(parents=True, exist_ok=True)
    for stem in sorted(buckets.stems["claims"]):
        claims: list[Claim] = sorted(buckets.read("claims", stem), key=lambda c: c.claim_id)
        claims.sort(key=lambda c: c.submitted)
        segments: list[str] = []
        for submitted, batch in groupby(claims, key=lambda c: c.submitted):
            chunk = list(batch)
            transactions = [
                claim_transaction(chunk[i : i + CLAIMS_PER_TRANSACTION], n, submitted)
                for n, i in enumerate(range(0, len(chunk), CLAIMS_PER_TRANSACTION), start=1)
            ]
            segments += interchange(
                transactions,
                functional_id="HC",
                version="005010X222A1",
                control=controls.next(),
                sender=SUBMITTER,
                receiver=CLEARINGHOUSE,
                stamp=datetime.combine(submitted, time(18, 0)),
            )
        _write(folder / f"{stem}.837", segments, line_breaks=pr.G2 not in stem)
    return len(buckets.stems["claims"])


def write_eligibility(buckets: Buckets, out: Path, controls: Controls) -> int:
    """One 271 file per payer and month; one transaction per check date."""
    folder = out / "eligibility"
    folder.mkdir(parents=True, exist_ok=True)
    for number, stem in enumerate(sorted(buckets.stems["eligibility"])):
        answers: list[Response] = buckets.read("eligibility", stem)
        answers.sort(key=lambda r: (r.check_date, r.billing_npi, r.member_id))
        transactions = [
            eligibility_transaction(list(batch), n)
            for n, (_, batch) in enumerate(groupby(answers, key=lambda r: r.check_date), start=1)
        ]
        payer = answers[0].payer_id
        segments = interchange(
            transactions,
            functional_id="HB",
            version="005010X279A1",
            control=controls.next(),
            sender=payer,
            receiver=SUBMITTER,
            stamp=datetime.combine(answers[-1].check_date, time(7, 0)),
        )
        _write(folder / f"{stem}.271", segments, line_breaks=number % 3 != 1)
    return len(buckets.stems["eligibility"])


def write_remittances(buckets: Buckets, out: Path, controls: Controls) -> dict[str, int]:
    """One 835 file per payer and payment date; one transaction per payee.

    BPR02 = sum CLP04 - sum PLB exactly. A payee whose week nets negative gets a PLB FB
    (forwarding balance) bringing the check to 0, recovered from its next payments.
    """
    folder = out / "remittances"
    folder.mkdir(parents=True, exist_ok=True)
    carry: dict[tuple[str, str], int] = defaultdict(int)
    forwarded = 0
    for number, stem in enumerate(sorted(buckets.stems["remittances"])):
        records = buckets.read("remittances", stem)
        events: dict[str, list[RemitClaim]] = defaultdict(list)
        adjustments: dict[str, list[ProviderAdjustment]] = defaultdict(list)
        for record in records:
            if isinstance(record, RemitClaim):
                events[record.payee_npi].append(record)
            else:
                adjustments[record.payee_npi].append(record)
        payer_id, pay_date = records[0].payer_id, records[0].pay_date
        transactions = []
        for st, payee in enumerate(sorted({*events, *adjustments}), start=1):
            claims = sorted(events[payee], key=lambda e: e.claim_id)
            plb = sorted(adjustments[payee], key=lambda a: a.reference)
            total = sum(ln.paid for e in claims for ln in e.lines) - sum(a.amount for a in plb)
            owed = carry[(payer_id, payee)]
            reference = f"{payee}{pay_date:%Y%m%d}"
            if owed and total > 0:
                recovered = min(owed, total)
                plb.append(
                    ProviderAdjustment(payer_id, payee, pay_date, "FB", reference, recovered)
                )
                carry[(payer_id, payee)] -= recovered
                total -= recovered
            if total < 0:
                plb.append(ProviderAdjustment(payer_id, payee, pay_date, "FB", reference, total))
                carry[(payer_id, payee)] -= total
                forwarded += 1
                total = 0
            transactions.append(
                remittance_transaction(claims, plb, st, payer_id, payee, pay_date, total)
            )
        segments = interchange(
            transactions,
            functional_id="HP",
            version="005010X221A1",
            control=controls.next(),
            sender=payer_id,
            receiver=SUBMITTER,
            stamp=datetime.combine(pay_date, time(6, 0)),
        )
        _write(folder / f"{stem}.835", segments, line_breaks=number % 4 != 2)
    return {"files": len(buckets.stems["remittances"]), "forwarded_balances": forwarded}


def write_sessions(buckets: Buckets, out: Path) -> int:
    """One sessions CSV per billing provider (that sends the feed) and month of service."""
    folder = out / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    for stem in sorted(buckets.stems["sessions"]):
        rows: list[SessionRow] = buckets.read("sessions", stem)
        rows.sort(key=lambda r: (r.claim_id, r.line_number or 0))
        with (folder / f"{stem}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(SESSIONS_HEADER)
            for r in rows:
                writer.writerow(
                    [
                        r.claim_id,
                        "" if r.line_number is None else r.line_number,
                        "" if r.minutes is None else r.minutes,
                        "" if r.signed_at is None else r.signed_at.isoformat(),
                        "" if r.phq9 is None else r.phq9,
                        "" if r.gad7 is None else r.gad7,
                    ]
                )
    return len(buckets.stems["sessions"])


def write_reference(out: Path, appeal_days: dict[str, int] | None = None) -> None:
    """The demo payers and their fee schedules, as inbox overrides of the shipped defaults;
    with ``appeal_days`` (``--takebacks``), payers.csv carries each payer's appeal window."""
    folder = out / "reference"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "payers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        header = ["payer_id", "name", "lookback_months", "telehealth_modifier_required"]
        writer.writerow(header + (["appeal_days"] if appeal_days else []))
        for p in pr.PAYERS:
            required = str(p.telehealth_modifier_required).lower()
            extra = [appeal_days[p.payer_id]] if appeal_days else []
            writer.writerow([p.payer_id, p.name, p.lookback_months, required, *extra])
    with (folder / "fee_schedule.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["payer_id", "code", "allowed_amount"])
        for (payer_id, code), cents in sorted(pr.fee_schedule().items()):
            if payer_id != "*":
                writer.writerow([payer_id, code, amount_text(cents)])
