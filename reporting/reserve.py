"""Expected recoupments (a reserve): how much of today's open exposure is likely to come back as
takebacks, estimated from this warehouse's own history (docs/reserve.md).

The unit is a claim. A claim is *flagged by* a rule when one of its lines has a finding of that
rule with an exposure (``report_findings``), or when a takeback of it shows the rule's problem in
recoup's records (``reporting.disputes``: coverage inactive -> ``coverage.lapsed``; no or
unsigned note -> ``documentation.note_missing``; no minutes -> ``documentation.time_missing``;
too few -> ``coding.time_unsupported``; still paid on another claim -> ``billing.duplicate``).

Rate per rule x payer, as of a cutoff date C, over a horizon of H months: among the claims
flagged by the rule and first paid on or before C - H (each was watched for H months), the
share the payer took back within H months of the first payment (by C). Shrunk toward the rule's
rate over all payers with a beta prior of strength ``PRIOR_STRENGTH`` claims:
``p = (x + k m) / (n + k)``, ``m = (X + 1/2) / (N + 1)`` (the rule's takebacks X of N, Jeffreys).
A pair with fewer than ``THIN`` claims is marked thin: its rate is mostly the prior.

Expected takebacks of an open claim within H months = the highest rate among its rules x its
open exposure; summed per payer. Backtest: the same as of C = as_of - H, for the claims open
then (paid by C, flagged, not taken back by C), against what was taken back after C.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

HORIZON_MONTHS = 6
PRIOR_STRENGTH = 10
THIN = 10


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` (the last day of the month when the day does not exist)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


@dataclass
class Unit:
    """One claim: its payer, the rules that flag it, when it was first paid, what is still open
    and what the payer took back (remittance date, amount)."""

    claim_key: str
    payer_id: str | None
    rules: set[str] = field(default_factory=set)
    first_paid: date | None = None
    open_exposure: Decimal = Decimal(0)
    taken: list[tuple[date, Decimal]] = field(default_factory=list)


@dataclass(frozen=True)
class Rate:
    rule: str
    payer_id: str | None
    taken: int  # x
    watched: int  # n
    prior: float  # m, the rule's rate over all payers
    probability: float  # (x + k m) / (n + k)

    @property
    def thin(self) -> bool:
        return self.watched < THIN


def attributed_rules(line: Mapping[str, Any]) -> set[str]:
    """The rules whose problem recoup's records show on a taken-back line (``disputes`` lines)."""
    rules = set()
    if line["coverage_status"] == "inactive" or (
        line["coverage_status"] is None and line["has_eligibility"]
    ):
        rules.add("coverage.lapsed")
    if line["feeds_sessions"]:
        if not line["session_row"] or line["session_signed_at"] is None:
            rules.add("documentation.note_missing")
        elif line["min_minutes"] is not None and line["session_minutes"] is None:
            rules.add("documentation.time_missing")
        elif line["min_minutes"] is not None and line["session_minutes"] < line["min_minutes"]:
            rules.add("coding.time_unsupported")
    if line["other_paid_claim_id"] is not None:
        rules.add("billing.duplicate")
    return rules


def units(flagged: Iterable[Mapping[str, Any]], takebacks: Iterable[Any]) -> list[Unit]:
    """Claims from the flagged lines (``flagged_lines``) and the judged takebacks
    (``disputes.Assessment``, those with lines)."""
    by_claim: dict[str, Unit] = {}
    seen_lines: set[tuple[str, int]] = set()

    def unit(claim_key: str, payer_id: str | None) -> Unit:
        return by_claim.setdefault(claim_key, Unit(claim_key, payer_id))

    for row in flagged:
        u = unit(row["claim_key"], row["payer_id"])
        u.rules.add(row["rule"])
        u.first_paid = _earliest(u.first_paid, row["first_payment_date"])
        if (row["claim_key"], row["line_number"]) not in seen_lines:
            seen_lines.add((row["claim_key"], row["line_number"]))
            u.open_exposure += row["open_exposure"]
    for t in takebacks:
        if not t.lines or t.claim_key is None or t.remittance_date is None:
            continue
        u = unit(t.claim_key, t.payer_id)
        for line in t.lines:
            u.rules |= attributed_rules(line)
            u.first_paid = _earliest(u.first_paid, line["first_payment_date"])
        u.taken.append((t.remittance_date, t.amount))
    return [by_claim[key] for key in sorted(by_claim)]


def _earliest(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else min(a, b)


def rates(claims: Sequence[Unit], cutoff: date) -> dict[tuple[str, str | None], Rate]:
    """Rate per (rule, payer) as of ``cutoff`` (module docstring)."""
    watched: dict[tuple[str, str | None], int] = defaultdict(int)
    taken: dict[tuple[str, str | None], int] = defaultdict(int)
    latest_paid = add_months(cutoff, -HORIZON_MONTHS)
    for u in claims:
        if u.first_paid is None or u.first_paid > latest_paid:
            continue
        until = add_months(u.first_paid, HORIZON_MONTHS)
        hit = any(day <= cutoff and day <= until for day, _ in u.taken)
        for rule in u.rules:
            watched[(rule, u.payer_id)] += 1
            taken[(rule, u.payer_id)] += hit
    by_rule_n: dict[str, int] = defaultdict(int)
    by_rule_x: dict[str, int] = defaultdict(int)
    for (rule, _), n in watched.items():
        by_rule_n[rule] += n
        by_rule_x[rule] += taken[(rule, _)]
    out = {}
    for (rule, payer), n in watched.items():
        prior = (by_rule_x[rule] + 0.5) / (by_rule_n[rule] + 1)
        x = taken[(rule, payer)]
        out[(rule, payer)] = Rate(
            rule, payer, x, n, prior, (x + PRIOR_STRENGTH * prior) / (n + PRIOR_STRENGTH)
        )
    return out


def probability(u: Unit, table: Mapping[tuple[str, str | None], Rate]) -> tuple[float, list[Rate]]:
    """The claim's chance to be taken back within the horizon: its highest rule rate (a rule
    never watched: the Jeffreys prior 1/2, marked thin)."""
    used = [
        table.get((rule, u.payer_id), Rate(rule, u.payer_id, 0, 0, 0.5, 0.5))
        for rule in sorted(u.rules)
    ]
    return max((r.probability for r in used), default=0.0), used


def _cents(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def reserve(claims: Sequence[Unit], as_of: date) -> dict[str, Any]:
    """Expected takebacks per payer of the open exposure, within the horizon."""
    table = rates(claims, as_of)
    payers: dict[str | None, dict[str, Any]] = {}
    for u in claims:
        if u.open_exposure <= 0 or not u.rules:
            continue
        chance, used = probability(u, table)
        row = payers.setdefault(
            u.payer_id,
            {"claims": 0, "open_exposure": Decimal(0), "expected": Decimal(0), "thin": set()},
        )
        row["claims"] += 1
        row["open_exposure"] += u.open_exposure
        row["expected"] += _cents(float(u.open_exposure) * chance)
        row["thin"] |= {r.rule for r in used if r.thin}
    end = add_months(as_of, HORIZON_MONTHS)
    by_payer = {
        payer or "(unknown)": {
            **row,
            "thin": sorted(row["thin"]),
            "by_month": _spread(row["expected"], as_of, end),
        }
        for payer, row in sorted(payers.items(), key=lambda item: item[0] or "")
    }
    months = [f"{day:%Y-%m}" for day in _days(as_of, end)]
    months = sorted(set(months))
    return {
        "horizon_months": HORIZON_MONTHS,
        "months": months,
        "by_payer": by_payer,
        "total_by_month": {
            month: sum((row["by_month"][month] for row in by_payer.values()), Decimal(0))
            for month in months
        },
        "rates": sorted(table.values(), key=lambda r: (r.rule, r.payer_id or "")),
    }


def backtest(claims: Sequence[Unit], as_of: date) -> dict[str, Any]:
    """As of ``as_of - horizon``: predicted takebacks over the horizon vs realized, in total and
    per month (``_by_month``)."""
    cutoff = add_months(as_of, -HORIZON_MONTHS)
    table = rates(claims, cutoff)
    predicted = Decimal(0)
    realized: dict[str, Decimal] = defaultdict(Decimal)
    for u in claims:
        if not u.rules or u.first_paid is None or u.first_paid > cutoff:
            continue
        if any(day <= cutoff for day, _ in u.taken):
            continue
        later = [(day, amount) for day, amount in u.taken if cutoff < day <= as_of]
        exposure = u.open_exposure + sum((amount for _, amount in later), Decimal(0))
        chance, _ = probability(u, table)
        predicted += _cents(float(exposure) * chance)
        for day, amount in later:
            realized[f"{day:%Y-%m}"] += amount
    return {
        "as_of": cutoff.isoformat(),
        "predicted": predicted,
        "realized": sum(realized.values(), Decimal(0)),
        "by_month": _by_month(predicted, realized, cutoff, as_of),
        "thin": sorted({r.rule for r in table.values() if r.thin}),
        "watched": sum(r.watched for r in table.values()),
    }


def _days(start: date, end: date) -> list[date]:
    """The days of (start, end]."""
    return [date.fromordinal(n) for n in range(start.toordinal() + 1, end.toordinal() + 1)]


def _spread(amount: Decimal, start: date, end: date) -> dict[str, Decimal]:
    """``amount`` spread over the months of (start, end] by their days (an even chance each day;
    the cents left by rounding go to the last month)."""
    days: dict[str, int] = defaultdict(int)
    for day in _days(start, end):
        days[f"{day:%Y-%m}"] += 1
    total = sum(days.values())
    parts, spent = {}, Decimal(0)
    months = sorted(days)
    for index, month in enumerate(months):
        last = index == len(months) - 1
        part = amount - spent if last else _cents(amount * days[month] / total)
        spent += part
        parts[month] = part
    return parts


def _by_month(
    predicted: Decimal, realized: Mapping[str, Decimal], cutoff: date, as_of: date
) -> list[dict[str, Any]]:
    """Predicted spread over the days of (cutoff, as_of] (``_spread``), realized by remittance
    month."""
    return [
        {"month": month, "predicted": part, "realized": realized.get(month, Decimal(0))}
        for month, part in _spread(predicted, cutoff, as_of).items()
    ]


def expected_recoupments(
    flagged: Iterable[Mapping[str, Any]], takebacks: Iterable[Any], as_of: date
) -> dict[str, Any]:
    """The reserve and its backtest, for the report page."""
    claims = units(flagged, takebacks)
    return {"reserve": reserve(claims, as_of), "backtest": backtest(claims, as_of)}
