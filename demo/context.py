"""The state shared across the demo's clients: planted-problem targets, counters, claim numbers.

Its own module so that ``simulate`` (one client's course of care) and ``sessions`` (one
session's rows) both read it without importing each other.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from demo import practice as pr

#: Planted problems: (findings per 1000 claims, minimum count).
SESSION_KINDS: dict[str, tuple[float, int]] = {
    "tu37": (1.5, 2),
    "tu52": (1.5, 2),
    "tu12": (1.0, 2),
    "tmiss": (3, 4),
    "nrow": (2, 2),
    "nsig": (2, 2),
    "late8": (3, 4),
    "late7": (1, 2),
    "addon33": (1.5, 2),
    "addon85": (1.5, 2),
    "multi": (2.5, 4),
    "units": (2.5, 4),
    "dup": (2.5, 4),
    "tele": (3, 4),
    "stepdown": (3, 4),
}
CLIENT_KINDS: dict[str, tuple[float, int]] = {
    "unv31": (2, 4),
    "unv30": (1, 2),
    "jl_late": (0.8, 3),
    "retro": (0.8, 3),
    "precov": (1, 3),
}


class Quotas:
    """Planted counts that track the share of claims generated so far."""

    def __init__(self, claims: int) -> None:
        kinds = {**SESSION_KINDS, **CLIENT_KINDS}
        self.target = {k: max(low, round(rate * claims / 1000)) for k, (rate, low) in kinds.items()}
        self.done: Counter[str] = Counter()

    def open(self, kind: str, progress: float) -> bool:
        """True while ``kind`` is behind its target for this point of the generation."""
        done = self.done[kind]
        return done < self.target[kind] and done < self.target[kind] * progress + 1


@dataclass
class Context:
    """State shared across clients: targets, counters and the fee schedule."""

    seed: int
    as_of: date
    claims: int
    fees: dict[tuple[str, str], int] = field(default_factory=pr.fee_schedule)
    quotas: Quotas = field(init=False)
    counters: dict[str, list[int]] = field(default_factory=dict)  # npi -> [sessions, 90837s]
    claims_done: int = 0
    next_claim: int = 1
    #: CLM01 of the clients whose practice bills under the client's account number
    accounts: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.quotas = Quotas(self.claims)

    @property
    def progress(self) -> float:
        """Share of the claim target generated so far."""
        return self.claims_done / max(1, self.claims)

    def claim_id(self) -> str:
        """A new CLM01 patient control number."""
        self.next_claim += 1
        return f"PCN{self.next_claim - 1:08d}"

    def account_or_new(self, index: int) -> str:
        """The CLM01 of a client's next claim: its account number when its practice reuses
        account numbers as patient control numbers (every claim of that client), else a new one."""
        return self.accounts.get(index) or self.claim_id()
