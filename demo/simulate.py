"""One client's course of care: sessions, claims, 271s, 835 events, EHR rows and plants.

Each client is simulated from its own random stream (seed and client index), so the whole
practice is deterministic and can be produced one client at a time in bounded memory.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from demo import practice as pr
from demo.context import CLIENT_KINDS, SESSION_KINDS, Context
from demo.coverage import CoveragePlan, plan_coverage
from demo.payments import adjudicate, first_pay_date, next_weekday
from demo.records import (
    Claim,
    ClaimLine,
    ClientTruth,
    Patient,
    ProviderAdjustment,
    RemitClaim,
    Response,
)
from demo.sessions import Session, SessionPlan, choose_session, session_rows

SESSION_RULES = {
    "tu37": "coding.time_unsupported",
    "tu52": "coding.time_unsupported",
    "tu12": "coding.time_unsupported",
    "tmiss": "documentation.time_missing",
    "nrow": "documentation.note_missing",
    "nsig": "documentation.note_missing",
    "late8": "documentation.late_signature",
    "units": "coding.units_over_limit",
    "tele": "telehealth.modifier_missing",
    "stepdown": "necessity.no_step_down",
}
NEEDS_ROWS = frozenset({"tu37", "tu52", "tu12", "tmiss", "nrow", "nsig", "late8", "late7"})
NEEDS_ROWS_STEP = NEEDS_ROWS | {"stepdown"}


def period_end(day: date, as_of: date) -> date:
    """The submission date of a claim: the end of its half-month batch (never after as_of)."""
    if day.day <= 15:
        end = day.replace(day=15)
    else:
        end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return min(end, as_of)


def _calendar(rng: random.Random, as_of: date, limit: int) -> list[date]:
    span = (as_of - pr.add_months(as_of, -18)).days
    day = as_of - timedelta(days=rng.randint(2, span))
    wanted = min(limit, 3 + int(rng.expovariate(1 / 13)))
    dates: list[date] = []
    while len(dates) < wanted and day <= as_of:
        dates.append(day)
        day += timedelta(days=14 if rng.random() < 0.1 else 7)
    return dates


def _responses(plan: CoveragePlan, payer: pr.Payer, make: dict[str, Any]) -> list[Response]:
    out = []
    for check in plan.checks:
        status, begin, end = plan.statement(check)
        if payer.payer_id == "ACMEH" and status == "1":  # plan-year answers (291 RD8)
            begin = max(begin, date(check.year, 1, 1)) if begin else None
            end = date(max(check.year, begin.year if begin else 0), 12, 31)
        out.append(Response(check_date=check, status=status, begin=begin, end=end, **make))
    return out


def simulate_client(ctx: Context, index: int, limit: int) -> ClientTruth:
    """Simulate client ``index`` with at most ``limit`` claims; returns its truth and plants."""
    rng = random.Random(f"{ctx.seed}/{index}")
    group = rng.choices(pr.GROUPS, [g.share for g in pr.GROUPS])[0]
    provider = rng.choice([p for p in pr.PROVIDERS if p.billing_npi == group.npi])
    payer = rng.choices(pr.PAYERS, [p.share for p in pr.PAYERS])[0]
    patient = Patient(
        rng.choice(pr.LAST_NAMES),
        rng.choice(pr.FIRST_NAMES),
        date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)),
        rng.choice("FM"),
    )
    member_id = f"{payer.member_prefix}{(index * 387_420_489 + ctx.seed) % 10**9:09d}"
    dates = _calendar(rng, ctx.as_of, limit)
    kind = None
    if len(dates) >= 8 and rng.random() < 0.5:
        open_kinds = [k for k in CLIENT_KINDS if ctx.quotas.open(k, ctx.progress)]
        if payer.payer_id == "ACMEH":
            open_kinds = [k for k in open_kinds if not k.startswith("unv")]
        kind = rng.choice(open_kinds) if open_kinds else None
    plan = plan_coverage(rng, dates, kind, ctx.quotas.done[kind] if kind else 0)
    if kind and (kind == "unv30" or plan.lapsed_dates or plan.unverified_date):
        ctx.quotas.done[kind] += 1
    if payer.payer_id == "ACMEH":  # checks at the first visit of each plan year
        firsts = {d.year: d for d in reversed(plan.billed)}
        plan.checks = sorted({*plan.checks, *firsts.values()})
    make = {
        "payer_id": payer.payer_id,
        "billing_npi": group.npi,
        "member_id": member_id,
        "patient": patient,
    }
    truth = ClientTruth([], [], [], _responses(plan, payer, make), [], set())
    diagnoses = tuple(rng.sample(pr.DIAGNOSES, rng.randint(1, 2)))
    if not group.sends_sessions and index % 2 == 0:
        # Riverbend bills every other client's sessions under the client's account number: one
        # CLM01 on many claims, each with its own date of service and its own 835 CLP (no draw
        # of the random stream changes, so every other figure of the demo stays as it was)
        ctx.accounts[index] = f"ACCT{index:07d}"
    state = SessionPlan.start(rng, provider, group.sends_sessions)
    for t, dos in enumerate(plan.billed):
        if ctx.claims_done >= ctx.claims:
            break
        _session(
            ctx,
            rng,
            truth,
            plan,
            state,
            t,
            dos,
            (group, provider, payer, patient, member_id, diagnoses, index),
        )
    return truth


def _session(
    ctx: Context,
    rng: random.Random,
    truth: ClientTruth,
    plan: CoveragePlan,
    state: SessionPlan,
    t: int,
    dos: date,
    who: tuple,
) -> None:
    group, provider, payer, patient, member_id, diagnoses, index = who
    submitted = period_end(dos, ctx.as_of)
    pay = first_pay_date(rng, submitted, payer.payer_id)
    roll = rng.random()
    fate = (
        "denied"
        if roll < 0.03
        else "reversed"
        if roll < 0.04
        else ("corrected" if roll < 0.055 else "paid")
    )
    reverse_after = None
    if plan.retro and dos in plan.lapsed_dates and rng.random() < 0.4:
        fate, reverse_after = "reversed", plan.reveal
    kind = None
    if pay <= ctx.as_of and fate in ("paid", "corrected") and t > 0 and rng.random() < 0.35:
        kind = _pick_kind(ctx, rng, state, payer, submitted, fate)
    session = choose_session(rng, ctx, state, provider, payer, t, kind)
    claims = [
        _claim(
            ctx,
            rng,
            session,
            dos,
            submitted,
            group,
            provider,
            payer,
            patient,
            member_id,
            diagnoses,
            ctx.account_or_new(index),
        )
    ]
    if kind == "dup":
        copy_submitted = period_end(submitted + timedelta(days=1), ctx.as_of)
        claims.append(claims[0]._replace(claim_id=ctx.claim_id(), submitted=copy_submitted))
    paid_any = False
    for number, claim in enumerate(claims):
        if number == 0:
            events = adjudicate(rng, claim, ctx.fees, ctx.as_of, fate, pay, reverse_after)
        else:  # the duplicate is paid a little later (or the same week)
            later = next_weekday(pay + timedelta(days=7), payer.pay_weekday)
            events = adjudicate(rng, claim, ctx.fees, ctx.as_of, "paid", later)
        truth.claims.append(claim)
        truth.remits.extend(events)
        ctx.claims_done += 1
        nets = [sum(ev.lines[i].paid for ev in events) for i in range(len(claim.lines))]
        paid_any = paid_any or any(nets)
        rows = session_rows(rng, state, session, claim, group.npi, dos)
        truth.sessions.extend(rows)
        _plant(truth, plan, session, claim, nets, dos, number, kind)
        _takeback(rng, ctx, truth, events, nets, claim, payer)
    state.record(dos, session, paid_any)


def _pick_kind(
    ctx: Context,
    rng: random.Random,
    state: SessionPlan,
    payer: pr.Payer,
    submitted: date,
    fate: str,
) -> str | None:
    kinds = []
    for kind in SESSION_KINDS:
        if not ctx.quotas.open(kind, ctx.progress):
            continue
        if kind in NEEDS_ROWS_STEP and not state.sends_rows:
            continue
        if kind == "tu52" and state.improved():
            continue
        if kind == "stepdown" and not state.improved():
            continue
        if kind == "addon33" and not state.provider.prescriber:
            continue
        if kind == "tele" and not payer.telehealth_modifier_required:
            continue
        if kind == "dup":
            copy_pay = submitted + timedelta(days=45)
            if copy_pay > ctx.as_of or fate != "paid" or ctx.claims_done + 2 > ctx.claims:
                continue
        kinds.append(kind)
    if not kinds:
        return None
    kind = rng.choice(kinds)
    ctx.quotas.done[kind] += 1
    return kind


def _claim(
    ctx: Context,
    rng: random.Random,
    session: Session,
    dos: date,
    submitted: date,
    group: pr.BillingGroup,
    provider: pr.Provider,
    payer: pr.Payer,
    patient: Patient,
    member_id: str,
    diagnoses: tuple[str, ...],
    claim_id: str,
) -> Claim:
    on_line = rng.random() < 0.1
    lines = []
    for number, (code, units) in enumerate(session.codes, start=1):
        control = f"{claim_id}-{number}" if rng.random() < 0.9 else None
        lines.append(
            ClaimLine(
                number,
                code,
                session.modifiers,
                units,
                pr.CHARGES[code] * units,
                session.pos,
                dos,
                control,
                on_line,
            )
        )
    return Claim(
        claim_id,
        group.npi,
        provider.npi,
        payer.payer_id,
        member_id,
        patient,
        submitted,
        session.pos,
        diagnoses,
        tuple(lines),
    )


def _plant(
    truth: ClientTruth,
    plan: CoveragePlan,
    session: Session,
    claim: Claim,
    nets: list[int],
    dos: date,
    number: int,
    kind: str | None,
) -> None:
    """Record the findings this claim was built to carry (only on lines that stay paid)."""
    rules: dict[int, set[str]] = {ln.line_number: set() for ln in claim.lines}
    every = set()
    if dos in plan.lapsed_dates:
        every.add("coverage.lapsed")
    if dos == plan.unverified_date:
        every.add("coverage.unverified")
    if kind in SESSION_RULES:
        every.add(SESSION_RULES[kind])
    for rule_set in rules.values():
        rule_set.update(every)
    if kind == "addon33" or kind == "addon85":
        rules[len(claim.lines)].add("coding.addon_without_primary")
    if kind == "multi":
        keep = max(range(len(nets)), key=lambda i: (nets[i], -i))
        for i in range(len(nets)):
            if i != keep:
                rules[i + 1].add("coding.multiple_timed_codes")
    if kind == "dup" and number == 1:
        for rule_set in rules.values():
            rule_set.add("billing.duplicate")
    for line_number, rule_set in rules.items():
        if nets[line_number - 1] > 0:
            truth.planted.update((claim.claim_key, line_number, r) for r in rule_set)


def _takeback(
    rng: random.Random,
    ctx: Context,
    truth: ClientTruth,
    events: list[RemitClaim],
    nets: list[int],
    claim: Claim,
    payer: pr.Payer,
) -> None:
    """Now and then the payer recovers part of a paid claim through a PLB WO later on."""
    if not events or sum(nets) <= 0 or rng.random() >= 0.006:
        return
    when = next_weekday(
        events[-1].pay_date + timedelta(days=rng.randint(30, 150)), payer.pay_weekday
    )
    if when <= ctx.as_of:
        amount = min(sum(nets), rng.randint(20, 80) * 100)
        truth.provider_adjustments.append(
            ProviderAdjustment(
                payer.payer_id, claim.billing_npi, when, "WO", claim.claim_id, amount
            )
        )
