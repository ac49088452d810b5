"""``recoup demo --pending DIR``: a batch of claims not yet sent, for ``recoup check``.

While the demo simulates its clients (``generator.generate``), ``PendingPlanner.observe`` keeps a
few of them (reading their truth only: the demo's random stream and its inbox are untouched).
After the inbox is written, ``write`` plants one unsent claim per risk on those clients (coverage
that ended, minutes that support a lower code, no note, a telehealth session without the modifier
its payer requires, a duplicate of a paid claim, a second timed code that day, an add-on alone,
two units of a one-a-day code) and a few clean ones, and writes under DIR:

* ``claims.837``: every pending claim (one 837P, submitted on the as-of date);
* ``clean.837``: the clean claims alone (``recoup check`` exits 0 on it);
* ``sessions.csv``: the notes of the pending sessions (give it with ``--sessions``);
* ``answer_key.csv``: ``claim_id,line_number,rule,at_stake,fix``: every finding the rules must
  report on the batch, computed by the demo's independent answer key (``answer_key
  .evaluate_client``, the pending lines taken as paid at their charge) and, for each, the words
  the fix must contain.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path

from demo import practice as pr
from demo.answer_key import (
    Finding,
    LineFacts,
    allowed,
    evaluate_client,
    in_outlier_window,
    outliers,
)
from demo.inbox import SESSIONS_HEADER, Controls, _write
from demo.records import (
    ACTIVE,
    INACTIVE,
    Claim,
    ClaimLine,
    ClientTruth,
    RemitClaim,
    RemitLine,
    SessionRow,
)
from demo.x12_writers import CLEARINGHOUSE, SUBMITTER, claim_transaction, interchange

KEY_HEADER = ["claim_id", "line_number", "rule", "at_stake", "fix"]
# what the fix sentence of each rule must say (expectations/precheck_fixes.py words them)
FIX_WORDS = {
    "coverage.lapsed": "verify eligibility before sending",
    "coverage.unverified": "verify eligibility before sending",
    "coding.time_unsupported": "bill {supported}, or correct the note",
    "documentation.time_missing": "add the start and end times",
    "documentation.note_missing": "write and sign the note before sending",
    "documentation.late_signature": "sign notes within a week",
    "coding.addon_without_primary": "bill the primary service on the same claim",
    "coding.multiple_timed_codes": "bill one psychotherapy code",
    "coding.units_over_limit": "bill 1 unit",
    "billing.duplicate": "do not send: it is a duplicate",
    "coding.high_level_outlier": "bill 90837 only when the note documents 53 minutes",
    "necessity.no_step_down": "or bill 90834",
    "telehealth.modifier_missing": "add modifier 95",
}
KEEP = 60  # clients of each kind kept as candidates


@dataclass
class _Candidate:
    truth: ClientTruth
    facts: list[LineFacts]
    clean: bool


@dataclass
class PendingPlanner:
    """Keeps candidate clients during the simulation, then plants the pending batch."""

    as_of: date
    fees: dict[tuple[str, str], int]
    seed: int
    active: list[_Candidate] = field(default_factory=list)
    lapsed: list[_Candidate] = field(default_factory=list)
    shares: dict[str, list[int]] = field(default_factory=dict)

    def observe(self, truth: ClientTruth, findings: list[Finding], facts: list[LineFacts]) -> None:
        """Keep ``truth`` when it can carry a pending claim (read only)."""
        if not truth.claims or not truth.responses:
            return
        first = truth.claims[0]
        if not pr.GROUP_BY_NPI[first.billing_npi].sends_sessions:
            return
        if any(
            c.payer_id != first.payer_id or c.member_id != first.member_id for c in truth.claims
        ):
            return
        latest = max(truth.responses, key=lambda r: r.check_date)
        if latest.payer_id != first.payer_id:
            return
        candidate = _Candidate(truth, facts, clean=not findings)
        if latest.status == INACTIVE and len(self.lapsed) < KEEP:
            end = latest.end or latest.check_date
            if end < self.as_of - timedelta(days=5):
                self.lapsed.append(candidate)
        elif (
            latest.status == ACTIVE
            and (latest.end is None or latest.end >= latest.check_date + timedelta(days=2))
            and latest.check_date < self.as_of - timedelta(days=3)
            and len(self.active) < KEEP
        ):
            self.active.append(candidate)

    # ---- planting --------------------------------------------------------------------------

    def write(self, out: Path, shares: dict[str, list[int]]) -> dict[str, int]:
        """Plant the batch under ``out`` (module docstring); returns counts for the summary."""
        out.mkdir(parents=True, exist_ok=True)
        plants: list[tuple[_Candidate, list[Claim], list[SessionRow]]] = []
        used: set[int] = set()
        number = iter(range(1, 10_000))

        def claim_id() -> str:
            return f"PND{next(number):07d}"

        def pick(
            pool: Sequence[_Candidate],
            test: Callable[[_Candidate], bool] | None = None,
            clean: bool = True,
        ) -> _Candidate | None:
            for cand in pool:
                if id(cand) in used or (clean and not cand.clean):
                    continue
                if test is not None and not test(cand):
                    continue
                used.add(id(cand))
                return cand
            return None

        def session_day(cand: _Candidate) -> date:
            latest = max(cand.truth.responses, key=lambda r: r.check_date).check_date
            taken = {f.dos for f in cand.facts}
            day = min(self.as_of - timedelta(days=1), latest + timedelta(days=2))
            while day in taken:
                day -= timedelta(days=1)
            return day

        def new_claim(
            cand: _Candidate,
            dos: date,
            codes: Sequence[tuple[str, int]],
            pos: str = "11",
            modifiers: tuple[str, ...] = (),
            rendering: str | None = None,
        ) -> Claim:
            base = cand.truth.claims[-1]
            cid = claim_id()
            lines = tuple(
                ClaimLine(n, code, modifiers, units, pr.CHARGES[code] * units, pos, dos,
                          f"{cid}-{n}", False)
                for n, (code, units) in enumerate(codes, start=1)
            )  # fmt: skip
            return Claim(
                cid, base.billing_npi, rendering or base.rendering_npi, base.payer_id,
                base.member_id, base.patient, self.as_of, pos, base.diagnoses, lines,
            )  # fmt: skip

        def note(claim: Claim, minutes: int | None, signed: bool = True) -> SessionRow:
            dos = claim.lines[0].date_of_service
            at = datetime.combine(dos + timedelta(days=1), time(9, 30)) if signed else None
            return SessionRow(claim.billing_npi, claim.claim_id, None, minutes, at, None, None, dos)

        def plant(
            cand: _Candidate | None, claim_rows: list[tuple[Claim, SessionRow | None]]
        ) -> None:
            if cand is None:
                return
            plants.append(
                (cand, [c for c, _ in claim_rows], [r for _, r in claim_rows if r is not None])
            )

        # coverage ended before the session
        cand = pick(self.lapsed, clean=False)
        if cand is not None:
            c = new_claim(cand, self.as_of - timedelta(days=2), [("90834", 1)])
            plant(cand, [(c, note(c, 50))])
        # 45 minutes billed as 90837
        cand = pick(self.active, lambda x: x.truth.claims[-1].rendering_npi not in pr.OUTLIER_NPIS)
        if cand is not None:
            c = new_claim(cand, session_day(cand), [("90837", 1)])
            plant(cand, [(c, note(c, 45))])
        # no note at all
        cand = pick(self.active)
        if cand is not None:
            c = new_claim(cand, session_day(cand), [("90834", 1)])
            plant(cand, [(c, None)])
        # telehealth without the modifier its payer requires
        cand = pick(
            self.active,
            lambda x: pr.PAYER_BY_ID[x.truth.claims[0].payer_id].telehealth_modifier_required,
        )
        if cand is not None:
            c = new_claim(cand, session_day(cand), [("90834", 1)], pos="02")
            plant(cand, [(c, note(c, 50))])
        # an add-on alone
        cand = pick(self.active)
        if cand is not None:
            c = new_claim(cand, session_day(cand), [("90785", 1)])
            plant(cand, [(c, note(c, None))])
        # two units of a one-a-day code
        cand = pick(self.active)
        if cand is not None:
            c = new_claim(cand, session_day(cand), [("90834", 2)])
            plant(cand, [(c, note(c, 50))])

        # a duplicate of a paid line, and a second timed code on a paid line's day
        def paid_line(x: _Candidate, codes: set[str], above: int = 0) -> LineFacts | None:
            return next(
                (
                    f
                    for f in x.facts
                    if f.code in codes and f.net > above and len(f.claim.lines) == 1
                ),
                None,
            )

        for kind in ("duplicate", "second timed code"):
            codes = {"90834", "90837"}
            floor = pr.CHARGES["90832"] if kind != "duplicate" else 0
            has_line: Callable[[_Candidate], bool] = partial(
                _has_paid_line, paid_line, codes, floor
            )
            cand = pick(self.active, has_line)
            if cand is None:
                continue
            prior = paid_line(cand, codes, floor)
            assert prior is not None
            code = prior.code if kind == "duplicate" else "90832"
            c = new_claim(
                cand,
                prior.dos,
                [(code, 1)],
                pos=prior.place_of_service,
                modifiers=prior.modifiers,
                rendering=prior.claim.rendering_npi,
            )
            plant(cand, [(c, note(c, 55 if prior.code == "90837" else 45))])
        # clean claims: a 50-minute 90834 with a note signed the next day
        clean: list[Claim] = []
        for _ in range(3):
            cand = pick(self.active)
            if cand is None:
                break
            c = new_claim(cand, session_day(cand), [("90834", 1)])
            plant(cand, [(c, note(c, 50))])
            clean.append(c)
        return self._finish(out, plants, clean, shares)

    def _finish(
        self,
        out: Path,
        plants: list[tuple[_Candidate, list[Claim], list[SessionRow]]],
        clean: list[Claim],
        shares: dict[str, list[int]],
    ) -> dict[str, int]:
        expected: list[tuple[Finding, str]] = []
        outlier_candidates: list[tuple[Claim, ClaimLine]] = []
        counts = {npi: list(v) for npi, v in shares.items()}
        for cand, claims, rows in plants:
            mine = {c.claim_id for c in claims}
            truth = cand.truth
            remits = [_paid_in_full(c, self.as_of) for c in claims]
            combined = ClientTruth(
                truth.claims + claims,
                truth.remits + remits,
                [],
                truth.responses,
                truth.sessions + rows,
                set(),
            )
            findings, _facts = evaluate_client(combined, self.as_of, self.fees)
            for f in findings:
                if f.claim_id in mine:
                    expected.append((f, self._fix(f, claims)))
            for c in claims:
                for ln in c.lines:
                    if ln.code in pr.PSYCHOTHERAPY_CODES and in_outlier_window(
                        ln.date_of_service, self.as_of
                    ):
                        entry = counts.setdefault(c.rendering_npi, [0, 0])
                        entry[0] += 1
                        entry[1] += ln.code == "90837"
                    if ln.code == "90837":
                        outlier_candidates.append((c, ln))
        flagged, _stats = outliers({npi: (n, h) for npi, (n, h) in counts.items()})
        for c, ln in outlier_candidates:
            if c.rendering_npi in flagged and in_outlier_window(ln.date_of_service, self.as_of):
                price = allowed(self.fees, c.payer_id, "90834")
                exposure = ln.charge if price is None else max(0, ln.charge - price)
                f = Finding(c.claim_id, ln.line_number, "coding.high_level_outlier", exposure,
                            False, c.claim_key)  # fmt: skip
                expected.append((f, FIX_WORDS[f.rule]))
        every = [c for _, claims, _ in plants for c in claims]
        self._write_837(out / "claims.837", every)
        self._write_837(out / "clean.837", clean)
        with (out / "sessions.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(SESSIONS_HEADER)
            for _, _, rows in plants:
                for r in rows:
                    writer.writerow(
                        [r.claim_id, "", "" if r.minutes is None else r.minutes,
                         "" if r.signed_at is None else r.signed_at.isoformat(), "", ""]
                    )  # fmt: skip
        expected.sort(key=lambda pair: (pair[0].claim_id, pair[0].line_number, pair[0].rule))
        with (out / "answer_key.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(KEY_HEADER)
            for f, fix in expected:
                writer.writerow([f.claim_id, f.line_number, f.rule, f"{f.exposure / 100:.2f}", fix])
        return {"claims": len(every), "clean": len(clean), "findings": len(expected)}

    def _fix(self, f: Finding, claims: list[Claim]) -> str:
        words = FIX_WORDS[f.rule]
        if f.rule == "coding.time_unsupported":
            claim = next(c for c in claims if c.claim_id == f.claim_id)
            code = claim.lines[f.line_number - 1].code
            family = next(fam for fam in (("90837", "90834", "90832"),
                                          ("90838", "90836", "90833")) if code in fam)  # fmt: skip
            lower = family[family.index(code) + 1 :]
            return words.format(supported=lower[0] if lower else "no timed code")
        return words

    def _write_837(self, path: Path, claims: list[Claim]) -> None:
        controls = Controls()
        groups: dict[str, list[Claim]] = {}
        for claim in sorted(claims, key=lambda c: c.claim_id):
            groups.setdefault(claim.billing_npi, []).append(claim)
        segments = interchange(
            [
                claim_transaction(batch, n, self.as_of)
                for n, (_npi, batch) in enumerate(sorted(groups.items()), start=1)
            ],
            functional_id="HC",
            version="005010X222A1",
            control=controls.next(),
            sender=SUBMITTER,
            receiver=CLEARINGHOUSE,
            stamp=datetime.combine(self.as_of, time(18, 0)),
        )
        _write(path, segments, line_breaks=True)


def _has_paid_line(
    paid_line: Callable[[_Candidate, set[str], int], LineFacts | None],
    codes: set[str],
    floor: int,
    cand: _Candidate,
) -> bool:
    return paid_line(cand, codes, floor) is not None


def _paid_in_full(claim: Claim, as_of: date) -> RemitClaim:
    """The pending claim as the rules take it: paid at its charge, after every real payment."""
    return RemitClaim(
        claim.claim_id, "1", claim.payer_id, claim.billing_npi, as_of + timedelta(days=3650),
        claim.member_id, claim.patient, claim.rendering_npi, f"PENDING{claim.claim_id}",
        claim.place_of_service,
        tuple(
            RemitLine(ln.code, ln.modifiers, ln.units, ln.date_of_service, ln.line_control,
                      ln.charge, ln.charge, ())
            for ln in claim.lines
        ),
    )  # fmt: skip
