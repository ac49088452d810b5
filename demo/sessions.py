"""What happens in a session: the codes billed, minutes, place of service, scores and EHR rows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from demo import practice as pr
from demo.records import Claim, SessionRow

if TYPE_CHECKING:
    from demo.context import Context

MINUTES = {
    "90832": (20, 35),
    "90834": (39, 52),
    "90837": (53, 60),
    "90833": (18, 32),
    "90836": (40, 50),
    "90846": (45, 55),
    "90847": (45, 55),
    "90791": (55, 75),
}
INDIVIDUAL_PLANTS = {
    "tu37": ("90834", 37),
    "tu52": ("90837", 52),
    "tu12": ("90834", 12),
    "stepdown": ("90837", 56),
    "units": ("90834", 45),
}


@dataclass
class SessionPlan:
    """The client's clinical course: symptom trajectory and the scored, paid history."""

    provider: pr.Provider
    sends_rows: bool
    phq0: float
    gad0: float
    rate: float
    history: list[tuple[date, int | None, int | None]] = field(default_factory=list)

    @classmethod
    def start(cls, rng: random.Random, provider: pr.Provider, sends_rows: bool) -> SessionPlan:
        """A new client: moderate-to-severe scores that improve at a client-specific rate.

        The planted 90837 outliers document slower improvement (their notes keep the scores
        high), so their clients rarely reach the step-down point.
        """
        if provider.npi in pr.OUTLIER_NPIS:
            return cls(
                provider,
                sends_rows,
                rng.uniform(14, 24),
                rng.uniform(11, 18),
                rng.uniform(0.03, 0.2),
            )
        return cls(
            provider, sends_rows, rng.uniform(10, 22), rng.uniform(8, 17), rng.uniform(0.08, 0.45)
        )

    def improved(self) -> bool:
        """True when the three latest scored, paid sessions all scored below 10."""
        last = self.history[-3:]
        return len(last) == 3 and all(
            s < 10 for _, phq, gad in last for s in (phq, gad) if s is not None
        )

    def record(self, dos: date, session: Session, paid: bool) -> None:
        """Remember a paid session whose EHR row carries a score."""
        if paid and session.rows and (session.phq9 is not None or session.gad7 is not None):
            self.history.append((dos, session.phq9, session.gad7))


@dataclass
class Session:
    """One visit as billed and documented."""

    codes: list[tuple[str, int]]
    modifiers: tuple[str, ...]
    pos: str
    minutes: int | None
    phq9: int | None
    gad7: int | None
    rows: bool  # the EHR exports this visit
    line_rows: bool  # one row per claim line instead of one per claim
    signed_after: int | None  # days from the visit to the signature; None = unsigned
    kind: str | None


def _individual(rng: random.Random, ctx: Context, state: SessionPlan) -> str:
    if state.improved():
        return "90834" if rng.random() < 0.85 else "90832"
    counter = ctx.counters.setdefault(state.provider.npi, [0, 0])
    counter[0] += 1
    if counter[1] < round(state.provider.share_90837 * counter[0]):
        counter[1] += 1
        return "90837"
    return "90834" if rng.random() < 0.9 else "90832"


def _minutes(rng: random.Random, code: str) -> int:
    low, high = MINUTES.get(code, (50, 60))
    return rng.randint(low, high)


def choose_session(
    rng: random.Random,
    ctx: Context,
    state: SessionPlan,
    provider: pr.Provider,
    payer: pr.Payer,
    t: int,
    kind: str | None,
) -> Session:
    """Decide what visit ``t`` of the course bills, honouring a planted ``kind``."""
    phq = min(27, max(0, round(state.phq0 - state.rate * t + rng.gauss(0, 1.2))))
    gad = min(21, max(0, round(state.gad0 - state.rate * 0.8 * t + rng.gauss(0, 1.2))))
    presence = rng.random()
    phq9 = phq if presence < 0.85 else None
    gad7 = gad if presence < 0.75 else None
    roll = rng.random()
    if t == 0:
        codes = [("90791", 1)] + ([("90785", 1)] if roll < 0.15 else [])
    elif provider.prescriber and roll < 0.6:
        em = "99214" if rng.random() < 0.4 else "99213"
        codes = [(em, 1), ("90836" if rng.random() < 0.1 else "90833", 1)]
    elif rng.random() < 0.05:
        codes = [("90847" if rng.random() < 0.7 else "90846", 1)]
    else:
        codes = [(_individual(rng, ctx, state), 1)]
        if rng.random() < 0.04:
            codes.append(("90785", 1))
    minutes: int | None = _minutes(rng, codes[-1][0] if len(codes) > 1 else codes[0][0])
    if codes[0][0] == "90791" or codes[-1][0] == "90785":
        minutes = _minutes(rng, codes[0][0])
    if kind in INDIVIDUAL_PLANTS:
        code, minutes = INDIVIDUAL_PLANTS[kind]
        codes = [(code, 2 if kind == "units" else 1)]
    elif kind == "tmiss":
        codes, minutes = [(_individual(rng, ctx, state), 1)], None
    elif kind == "addon33":
        codes, minutes = [("90833", 1)], 25
    elif kind == "addon85":
        codes, minutes = [("90846", 1), ("90785", 1)], 50
    elif kind == "multi":
        codes, minutes = [("90834", 1), ("90832", 1)], 75
    place = rng.random()
    pos = "11" if place < 0.55 else "10" if place < 0.9 else "02"
    modifiers: tuple[str, ...] = ()
    if pos != "11":
        mod = rng.random()
        if payer.telehealth_modifier_required:
            modifiers = ("95",) if mod < 0.9 else ("93",) if mod < 0.95 else ("GT",)
        elif mod < 0.7:
            modifiers = ("95",)
    if kind == "tele":
        pos, modifiers = "10", ()
    signed: int | None = rng.choice((0, 0, 1, 1, 2, 3))
    if kind in ("late8", "late7"):
        signed = 8 if kind == "late8" else 7
    elif kind == "nsig":
        signed = None
    line_rows = len(codes) > 1 and kind is None and rng.random() < 0.25
    return Session(
        codes,
        modifiers,
        pos,
        minutes,
        phq9,
        gad7,
        state.sends_rows and kind != "nrow",
        line_rows,
        signed,
        kind,
    )


def session_rows(
    rng: random.Random,
    state: SessionPlan,
    session: Session,
    claim: Claim,
    billing_npi: str,
    dos: date,
) -> list[SessionRow]:
    """The EHR rows exported for ``claim`` (none when the visit is not exported)."""
    if not session.rows:
        return []
    signed = None
    if session.signed_after is not None:
        clock = time(rng.randint(8, 22), rng.randint(0, 59))
        signed = datetime.combine(dos + timedelta(days=session.signed_after), clock)
    if not session.line_rows:
        return [
            SessionRow(
                billing_npi,
                claim.claim_id,
                None,
                session.minutes,
                signed,
                session.phq9,
                session.gad7,
                dos,
            )
        ]
    return [
        SessionRow(
            billing_npi,
            claim.claim_id,
            line.line_number,
            session.minutes if line.code in pr.TIMED_MIN_MINUTES or line.code == "90791" else None,
            signed,
            session.phq9,
            session.gad7,
            dos,
        )
        for line in claim.lines
    ]
