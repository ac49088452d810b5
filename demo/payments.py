"""How each payer adjudicates a claim: allowed amounts, CAS, and the 835 events of its fate."""

from __future__ import annotations

import random
from datetime import date, timedelta

from demo.practice import PAYER_BY_ID
from demo.records import Adjustment, Claim, RemitClaim, RemitLine

DENIAL_REASONS = ("50", "197", "96")


def next_weekday(day: date, weekday: int) -> date:
    """The first date on or after ``day`` that falls on ``weekday``."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def price(claim: Claim, fees: dict[tuple[str, str], int], cut: int = 0) -> tuple[RemitLine, ...]:
    """Adjudicate every line as paid: CO-45 down to the allowed amount, PR for the patient.

    ``cut`` lowers the first line's allowed amount (a corrected claim's re-pricing).
    """
    payer = PAYER_BY_ID[claim.payer_id]
    out = []
    for index, line in enumerate(claim.lines):
        allowed = fees[(payer.payer_id, line.code)] * line.units - (cut if index == 0 else 0)
        adjustments = [Adjustment("CO", "45", line.charge - allowed)]
        if payer.copay:
            patient = min(payer.copay, allowed) if index == 0 else 0
            reason = "3"
        else:
            patient = round(allowed * 0.2 / 100) * 100
            reason = "2"
        if patient:
            adjustments.append(Adjustment("PR", reason, patient))
        out.append(
            RemitLine(
                line.code,
                line.modifiers,
                line.units,
                line.date_of_service,
                line.line_control,
                line.charge,
                allowed - patient,
                tuple(adjustments),
            )
        )
    return tuple(out)


def deny(claim: Claim, reason: str) -> tuple[RemitLine, ...]:
    """Every line denied: paid 0, the whole charge adjusted CO-<reason>."""
    return tuple(
        RemitLine(
            ln.code,
            ln.modifiers,
            ln.units,
            ln.date_of_service,
            ln.line_control,
            ln.charge,
            0,
            (Adjustment("CO", reason, ln.charge),),
        )
        for ln in claim.lines
    )


def negate(lines: tuple[RemitLine, ...]) -> tuple[RemitLine, ...]:
    """The reversal of ``lines``: every amount and CAS negated (CLP02 = 22)."""
    return tuple(
        ln._replace(
            charge=-ln.charge,
            paid=-ln.paid,
            adjustments=tuple(a._replace(amount=-a.amount) for a in ln.adjustments),
        )
        for ln in lines
    )


def remit(
    claim: Claim, status: str, pay_date: date, lines: tuple[RemitLine, ...], control: str
) -> RemitClaim:
    """Wrap adjudicated lines into a CLP event."""
    return RemitClaim(
        claim.claim_id,
        status,
        claim.payer_id,
        claim.billing_npi,
        pay_date,
        claim.member_id,
        claim.patient,
        claim.rendering_npi,
        control,
        claim.place_of_service,
        lines,
    )


def adjudicate(
    rng: random.Random,
    claim: Claim,
    fees: dict[tuple[str, str], int],
    as_of: date,
    fate: str,
    pay: date,
    reverse_after: date | None = None,
) -> list[RemitClaim]:
    """The 835 events of a claim with the given fate, dropping those dated after ``as_of``.

    Fates: ``paid``, ``denied``, ``reversed`` (paid, later fully taken back), ``corrected``
    (paid, later reversed and re-paid lower in the same 835). ``reverse_after`` is the
    earliest date of a reversal (a retro-termination the payer learned of).
    """
    payer = PAYER_BY_ID[claim.payer_id]
    control = f"{claim.payer_id[:2]}{claim.claim_id[-8:]}{pay:%y%m}"
    if pay > as_of:
        return []
    if fate == "denied":
        reason = DENIAL_REASONS[rng.randrange(len(DENIAL_REASONS))]
        return [remit(claim, "4", pay, deny(claim, reason), control)]
    paid = price(claim, fees)
    events = [remit(claim, "1", pay, paid, control)]
    if fate in ("reversed", "corrected"):
        start = max(pay, reverse_after or pay) + timedelta(days=rng.randint(14, 90))
        when = next_weekday(start, payer.pay_weekday)
        if when <= as_of:
            events.append(remit(claim, "22", when, negate(paid), control))
            if fate == "corrected":
                cut = min(500, paid[0].paid)
                events.append(remit(claim, "1", when, price(claim, fees, cut), control + "C"))
    return events


def first_pay_date(rng: random.Random, submitted: date, payer_id: str) -> date:
    """When the payer first answers a claim submitted on ``submitted`` (1-3 weeks later)."""
    start = submitted + timedelta(days=rng.randint(7, 21))
    return next_weekday(start, PAYER_BY_ID[payer_id].pay_weekday)


def net_paid(events: list[RemitClaim]) -> int:
    """Net paid of a whole claim over its events (cents)."""
    return sum(ln.paid for ev in events for ln in ev.lines)
