"""``recoup demo --takebacks``: planted takebacks, wrongful and rightful, and the verdicts due.

After a client is simulated and its findings checked, a few of its paid claims are taken back:

* **wrongful** (the records support the payment, so ``disputable``): a clean claim (no finding on
  any line, a signed note whose minutes support the code, an active 271 on the date, no other
  claim for the same service) reversed with CO-27 (coverage ended), CO-150 (documentation does
  not support the level) or CO-18 (duplicate), or recovered by a PLB WO without a reason;
* **rightful** (``not_disputable``): a claim whose own findings support the payer: coverage
  lapsed (CO-27), minutes below the code's band (CO-152), a duplicate copy (CO-18), or a PLB WO
  on a claim whose note is missing;
* **unverifiable** (``unknown``): a clean claim reversed for a reason recoup's records cannot
  answer (CO-197, prior authorization absent).

A reversal (CLP02 = 22) negates the original payment and is followed in the same 835 by the
payer's new adjudication (CLP02 = 4, paid 0, the whole charge adjusted with the reason): how a
payer says why it took the money back. The reversed lines leave open exposure (net paid 0), so
their planted findings leave the answer key; the client is evaluated again and a takeback whose
removal would change any other finding is not planted. Reversals are only planted on dates of
service outside the outlier rule's 12-month window (the provider shares stay as they were).

Nothing here draws from the random stream: without ``--takebacks`` the demo is unchanged.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from demo import practice as pr
from demo.answer_key import Finding, evaluate_client, in_outlier_window
from demo.payments import negate, next_weekday
from demo.records import Adjustment, Claim, ClientTruth, ProviderAdjustment

# days to appeal a takeback, per demo payer (written to reference/payers.csv with --takebacks)
APPEAL_DAYS = {"MCRDM": 120, "BSTAR": 60, "ACMEH": 90, "KEYMU": 45}

# kind -> (how the payer says it, the expected verdict, what the records show)
KINDS: dict[str, tuple[str, str, str]] = {
    "wrongful_coverage": ("CO-27", "disputable", "an active 271 covers the date of service"),
    "wrongful_documentation": (
        "CO-150", "disputable", "a signed note whose minutes support the code",
    ),
    "wrongful_duplicate": ("CO-18", "disputable", "no other claim paid for the same service"),
    "wrongful_plb": ("", "disputable", "eligibility, note and claim history support the payment"),
    "rightful_coverage": ("CO-27", "not_disputable", "coverage had lapsed on the date"),
    "rightful_documentation": ("CO-152", "not_disputable", "the minutes are below the band"),
    "rightful_duplicate": ("CO-18", "not_disputable", "the same service is paid on another claim"),
    "rightful_plb": ("", "not_disputable", "no signed note for the session"),
    "unverifiable_auth": ("CO-197", "unknown", "prior authorization is not in recoup's records"),
}  # fmt: skip
PER_KIND = 2  # planted per kind at most
PLB_AMOUNT = 4000  # cents recovered by a planted PLB WO (at most the claim's net paid)

KEY_HEADER = ["claim_id", "claim_key", "kind", "takeback", "payer_codes", "remittance_date",
              "amount", "expected_verdict", "records_show"]  # fmt: skip


@dataclass
class Planted:
    claim: Claim
    kind: str
    takeback: str  # reversal | plb_wo
    when: date
    amount: int  # cents


@dataclass
class TakebackPlanter:
    """Plants takebacks client by client (``plant``) and keeps what it planted."""

    as_of: date
    fees: dict[tuple[str, str], int]
    planted: list[Planted] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def plant(self, truth: ClientTruth, findings: list[Finding]) -> bool:
        """Plant what this client can carry (its findings before); True when it planted any."""
        rules: dict[str, set[str]] = {}
        for f in findings:
            rules.setdefault(f.claim_key, set()).add(f.rule)
        planted = False
        for claim in list(truth.claims):
            kind = self._kind(truth, claim, rules.get(claim.claim_key, set()))
            if kind is not None and self._try(truth, claim, kind) is not None:
                planted = True
        return planted

    def _kind(self, truth: ClientTruth, claim: Claim, rules: set[str]) -> str | None:
        events = [e for e in truth.remits if e.claim_id == claim.claim_id]
        if len(events) != 1 or events[0].status != "1":
            return None
        if not all(ln.paid > 0 for ln in events[0].lines):
            return None
        if sum(c.claim_id == claim.claim_id for c in truth.claims) != 1:
            return None  # a reused CLM01 (account number): left alone
        group = pr.GROUP_BY_NPI[claim.billing_npi]
        dos = claim.lines[0].date_of_service
        same = [
            c for c in truth.claims
            if c is not claim and c.member_id == claim.member_id
            and c.rendering_npi == claim.rendering_npi
            and c.lines[0].date_of_service == dos
        ]  # fmt: skip
        if rules:
            wanted = [
                ("rightful_coverage", "coverage.lapsed" in rules),
                ("rightful_documentation", "coding.time_unsupported" in rules),
                ("rightful_duplicate", "billing.duplicate" in rules),
                ("rightful_plb", "documentation.note_missing" in rules),
            ]
        elif group.sends_sessions and not same:
            timed = any(ln.code == "90837" for ln in claim.lines)
            wanted = [
                ("wrongful_coverage", True),
                ("wrongful_documentation", timed),
                ("wrongful_duplicate", True),
                ("wrongful_plb", True),
                ("unverifiable_auth", True),
            ]
        else:
            return None
        for kind, fits in wanted:
            if not fits or self.counts[kind] >= PER_KIND:
                continue
            if not kind.endswith("_plb") and in_outlier_window(dos, self.as_of):
                continue
            return kind
        return None

    def _when(self, truth: ClientTruth, claim: Claim) -> date | None:
        paid = max(e.pay_date for e in truth.remits if e.claim_id == claim.claim_id)
        spread = timedelta(days=80 - 11 * (len(self.planted) % 7))  # deadlines open and passed
        start = max(paid + timedelta(days=30), self.as_of - spread)
        when = next_weekday(start, pr.PAYER_BY_ID[claim.payer_id].pay_weekday)
        return when if when <= self.as_of else None

    def _try(self, truth: ClientTruth, claim: Claim, kind: str) -> list[Finding] | None:
        when = self._when(truth, claim)
        if when is None:
            return None
        original = next(e for e in truth.remits if e.claim_id == claim.claim_id)
        net = sum(ln.paid for ln in original.lines)
        if kind.endswith("_plb"):
            amount = min(net, PLB_AMOUNT)
            adjustment = ProviderAdjustment(
                claim.payer_id, claim.billing_npi, when, "WO", claim.claim_id, amount
            )
            truth.provider_adjustments.append(adjustment)
            after = self._evaluate(truth, set())
            if after is None:
                truth.provider_adjustments.remove(adjustment)
                return None
            self._record(claim, kind, "plb_wo", when, amount)
            return after
        group, reason = KINDS[kind][0].split("-")
        reversal = original._replace(status="22", pay_date=when, lines=negate(original.lines))
        denial = original._replace(
            status="4",
            pay_date=when,
            payer_control=original.payer_control + "R",
            lines=tuple(
                ln._replace(paid=0, adjustments=(Adjustment(group, reason, ln.charge),))
                for ln in original.lines
            ),
        )
        truth.remits.extend([reversal, denial])
        dropped = {p for p in truth.planted if p[0] == claim.claim_key}
        truth.planted.difference_update(dropped)
        after = self._evaluate(truth, dropped)
        if after is None:
            del truth.remits[-2:]
            truth.planted.update(dropped)
            return None
        self._record(claim, kind, "reversal", when, net)
        return after

    def _evaluate(self, truth: ClientTruth, dropped: set[Any]) -> list[Finding] | None:
        """The client's findings after the takeback, or None when they are not exactly the
        planted ones (the takeback would have changed another line's findings)."""
        findings, _ = evaluate_client(truth, self.as_of, self.fees)
        found = {(f.claim_key, f.line_number, f.rule) for f in findings}
        return findings if found == truth.planted else None

    def _record(self, claim: Claim, kind: str, takeback: str, when: date, amount: int) -> None:
        self.counts[kind] += 1
        self.planted.append(Planted(claim, kind, takeback, when, amount))

    def write_key(self, path: Path) -> None:
        """``takebacks_key.csv``: every planted takeback with the verdict recoup should give."""
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(KEY_HEADER)
            for p in sorted(self.planted, key=lambda p: (p.kind, p.claim.claim_id)):
                codes, verdict, shows = KINDS[p.kind]
                writer.writerow(
                    [p.claim.claim_id, p.claim.claim_key, p.kind, p.takeback, codes,
                     p.when.isoformat(), f"{p.amount / 100:.2f}", verdict, shows]
                )  # fmt: skip

    def manifest(self) -> dict[str, Any]:
        return {
            "planted": len(self.planted),
            "by_kind": dict(sorted(self.counts.items())),
            "expected": dict(sorted(Counter(KINDS[p.kind][1] for p in self.planted).items())),
        }
