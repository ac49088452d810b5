"""The answer key: a plain, independent evaluation of every rule over the simulated truth.

It reads only the records that are written to the inbox (claims, 835 events, 271 answers, EHR
rows) and applies the SPEC's rules as ``docs/decisions.md`` resolves them. The generator checks
its result against the findings it planted on purpose; both must agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median
from typing import NamedTuple

from demo import practice as pr
from demo.records import INACTIVE, Claim, ClientTruth, Response, SessionRow

SCORE_LIMIT = 10
FAMILIES = (("90837", "90834", "90832"), ("90838", "90836", "90833"))


class Finding(NamedTuple):
    """One expected finding (exposure in cents); ``claim_key`` tells apart claims that share a
    CLM01 (CLM01 + '~' + first date of service, docs/decisions.md "Claim identity")."""

    claim_id: str
    line_number: int
    rule: str
    exposure: int
    time_barred: bool
    claim_key: str


@dataclass(slots=True)
class LineFacts:
    """A claim line with what the warehouse would derive for it."""

    claim: Claim
    line_number: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    dos: date
    place_of_service: str
    net: int = 0
    first_paid: date | None = None
    last_paid: date | None = None
    row: SessionRow | None = None

    @property
    def key(self) -> tuple[str, int]:
        """(claim_key, line_number)."""
        return (self.claim.claim_key, self.line_number)

    @property
    def order(self) -> tuple[str, str, int]:
        """How the rules order lines: claim id, claim key, line number."""
        return (self.claim.claim_id, self.claim.claim_key, self.line_number)


def allowed(fees: dict[tuple[str, str], int], payer_id: str, code: str) -> int | None:
    """The payer's allowed amount for ``code``, else the ``*`` row, else None."""
    return fees.get((payer_id, code), fees.get(("*", code)))


def downcode_exposure(fees: dict[tuple[str, str], int], fact: LineFacts, code: str) -> int:
    """Net paid minus the allowed amount of ``code`` (never below 0; whole net if unpriced)."""
    price = allowed(fees, fact.claim.payer_id, code)
    return fact.net if price is None else max(0, fact.net - price)


def line_facts(truth: ClientTruth) -> list[LineFacts]:
    """Every claim line with its net paid, payment dates and EHR row (decisions.md matching)."""
    facts = {}
    by_claim: dict[str, list[LineFacts]] = defaultdict(list)  # claim_key -> its lines
    keys_of: dict[str, list[str]] = defaultdict(list)  # CLM01 -> claim keys (a CLM01 may repeat)
    for claim in truth.claims:
        keys_of[claim.claim_id].append(claim.claim_key)
        for ln in claim.lines:
            fact = LineFacts(
                claim,
                ln.line_number,
                ln.code,
                ln.modifiers,
                ln.units,
                ln.date_of_service,
                ln.place_of_service,
            )
            facts[fact.key] = fact
            by_claim[claim.claim_key].append(fact)
    controls = {
        (c.claim_key, ln.line_control): ln.line_number
        for c in truth.claims
        for ln in c.lines
        if ln.line_control
    }
    for event in truth.remits:
        # the claim of this CLP: among the claims with its CLM01, the one whose lines have the
        # remittance lines' codes and dates
        key = max(
            keys_of[event.claim_id],
            key=lambda k: sum(
                any((f.code, f.dos) == (rl.code, rl.date_of_service) for f in by_claim[k])
                for rl in event.lines
            ),
        )
        for rl in event.lines:
            number = controls.get((key, rl.line_control)) if rl.line_control else None
            if number is None:
                number = next(
                    f.line_number
                    for f in by_claim[key]
                    if (f.code, f.modifiers, f.dos) == (rl.code, rl.modifiers, rl.date_of_service)
                )
            fact = facts[(key, number)]
            fact.net += rl.paid
            if rl.paid > 0:
                fact.first_paid = min(fact.first_paid or event.pay_date, event.pay_date)
                fact.last_paid = max(fact.last_paid or event.pay_date, event.pay_date)
    line_rows = {(r.claim_id, r.line_number): r for r in truth.sessions if r.line_number}
    claim_rows = {r.claim_id: r for r in truth.sessions if r.line_number is None}
    for fact in facts.values():
        # the sessions feed names a claim by CLM01 (decisions.md "Sessions and audit samples")
        claim_id = fact.claim.claim_id
        fact.row = line_rows.get((claim_id, fact.line_number), claim_rows.get(claim_id))
    return list(facts.values())


def covered(responses: list[Response], dos: date) -> bool:
    """Coverage on ``dos`` as known at the as-of date: the newest response speaking wins."""
    for r in responses:  # newest first
        if r.status == INACTIVE:
            if dos >= (r.end + timedelta(days=1) if r.end else r.check_date):
                return False
        elif (r.begin is None or r.begin <= dos) and (r.end is None or dos <= r.end):
            return True
    return False


def time_barred(fact: LineFacts, as_of: date) -> bool:
    """Payment date plus the payer's look-back strictly before as_of."""
    months = pr.PAYER_BY_ID[fact.claim.payer_id].lookback_months
    return fact.last_paid is not None and pr.add_months(fact.last_paid, months) < as_of


def evaluate_client(
    truth: ClientTruth, as_of: date, fees: dict[tuple[str, str], int]
) -> tuple[list[Finding], list[LineFacts]]:
    """Every finding of every rule except ``coding.high_level_outlier`` for one client."""
    facts = line_facts(truth)
    paid = [f for f in facts if f.net > 0]
    found: list[tuple[LineFacts, str, int]] = []
    answers: dict[tuple[str, str], list[Response]] = defaultdict(list)
    for r in sorted(truth.responses, key=lambda r: r.check_date, reverse=True):
        answers[(r.member_id, r.payer_id)].append(r)
    same_visit: dict[tuple[str, str, date], list[LineFacts]] = defaultdict(list)
    for f in paid:
        same_visit[(f.claim.member_id, f.claim.rendering_npi, f.dos)].append(f)
    for f in paid:
        claim, row = f.claim, f.row
        pair = answers.get((claim.member_id, claim.payer_id), [])
        if pair and not covered(pair, f.dos):
            found.append((f, "coverage.lapsed", f.net))
        if not any(f.dos - timedelta(days=30) <= r.check_date <= f.dos for r in pair):
            found.append((f, "coverage.unverified", 0))
        if f.code in pr.TIMED_MIN_MINUTES and row is not None:
            if row.minutes is None:
                found.append((f, "documentation.time_missing", f.net))
            elif row.minutes < pr.TIMED_MIN_MINUTES[f.code]:
                family = next(fam for fam in FAMILIES if f.code in fam)
                ok = [c for c in family if pr.TIMED_MIN_MINUTES[c] <= row.minutes]
                exposure = downcode_exposure(fees, f, ok[0]) if ok else f.net
                found.append((f, "coding.time_unsupported", exposure))
        if pr.GROUP_BY_NPI[claim.billing_npi].sends_sessions and (
            row is None or row.signed_at is None
        ):
            found.append((f, "documentation.note_missing", f.net))
        if (
            row is not None
            and row.signed_at is not None
            and ((row.signed_at.date() - f.dos).days > 7)
        ):
            found.append((f, "documentation.late_signature", 0))
        visit = same_visit[(claim.member_id, claim.rendering_npi, f.dos)]
        if f.code in pr.ADDON_CODES:
            primaries = pr.ADDON_PRIMARIES[f.code]
            has_primary = any(o.code in primaries for o in visit if o is not f)
            excluded = f.code == "90785" and any(o.code in pr.INTERACTIVE_EXCLUDED for o in visit)
            if excluded or not has_primary:
                found.append((f, "coding.addon_without_primary", f.net))
        limit = pr.UNIT_LIMITS.get(f.code)
        if limit is not None and f.units > limit:
            excess = f.net * (f.units - limit)
            found.append((f, "coding.units_over_limit", (2 * excess + f.units) // (2 * f.units)))
        if (
            pr.PAYER_BY_ID[claim.payer_id].telehealth_modifier_required
            and f.place_of_service in pr.TELEHEALTH_POS
            and not pr.TELEHEALTH_MODIFIERS.intersection(f.modifiers)
        ):
            found.append((f, "telehealth.modifier_missing", f.net))
        if f.code == "90837" and _no_step_down(f, paid):
            found.append((f, "necessity.no_step_down", downcode_exposure(fees, f, "90834")))
    for visit in same_visit.values():
        timed = [o for o in visit if o.code in pr.PSYCHOTHERAPY_CODES]
        if len({o.code for o in timed}) >= 2:
            keep = min(timed, key=lambda o: (-o.net, o.order))
            found.extend((o, "coding.multiple_timed_codes", o.net) for o in timed if o is not keep)
    copies: dict[tuple, list[LineFacts]] = defaultdict(list)
    for f in paid:
        c = f.claim
        copies[(c.member_id, c.rendering_npi, f.dos, f.code, tuple(sorted(f.modifiers)))].append(f)
    for group in copies.values():
        if len({o.claim.claim_key for o in group}) >= 2:
            ordered = sorted(group, key=lambda o: (o.first_paid, o.order))
            found.extend((o, "billing.duplicate", o.net) for o in ordered[1:])
    findings = [
        Finding(
            f.claim.claim_id,
            f.line_number,
            rule,
            exposure,
            time_barred(f, as_of),
            f.claim.claim_key,
        )
        for f, rule, exposure in found
    ]
    return findings, facts


def _no_step_down(line: LineFacts, paid: list[LineFacts]) -> bool:
    scored: dict[date, list[int | None]] = {}
    for o in paid:
        if (
            (o.claim.member_id, o.claim.rendering_npi)
            != (
                line.claim.member_id,
                line.claim.rendering_npi,
            )
            or o.dos >= line.dos
            or o.row is None
        ):
            continue
        if o.row.phq9 is None and o.row.gad7 is None:
            continue
        best = scored.setdefault(o.dos, [None, None])
        for i, score in enumerate((o.row.phq9, o.row.gad7)):
            if score is not None:
                best[i] = max(best[i] or 0, score)
    recent = sorted(scored)[-3:]
    return len(recent) == 3 and all(
        s < SCORE_LIMIT for d in recent for s in scored[d] if s is not None
    )


def in_outlier_window(dos: date, as_of: date) -> bool:
    """Dates of service in (as_of - 12 months, as_of]."""
    return pr.add_months(as_of, -12) < dos <= as_of


def outliers(shares: dict[str, tuple[int, int]], min_lines: int = 30) -> tuple[set[str], dict]:
    """Rendering NPIs whose 90837 share is a robust outlier; also the peer statistics.

    ``shares`` maps npi -> (psychotherapy lines in the window, 90837 lines among them).
    """
    peers = {npi: hits / total for npi, (total, hits) in shares.items() if total >= min_lines}
    stats: dict = {"peers": len(peers), "shares": peers}
    if len(peers) < 3:
        return set(), stats
    mid = median(peers.values())
    spread = 1.4826 * median(abs(s - mid) for s in peers.values())
    if spread == 0:
        spread = 1.2533 * sum(abs(s - mid) for s in peers.values()) / len(peers)
    stats.update(median=mid, scale=spread)
    if spread == 0:
        return set(), stats
    flagged = {npi for npi, s in peers.items() if (s - mid) / spread > 2 and s >= 0.6}
    stats["z"] = {npi: (s - mid) / spread for npi, s in peers.items()}
    return flagged, stats
