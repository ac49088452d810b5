"""Coverage stories and the practice's eligibility checks (the 271 responses) for one client.

A story decides which sessions get billed, when the practice checks eligibility (at a session
whenever its last check is more than 27 days old, so the baseline is always verified), what each
271 says, and which lines carry a planted ``coverage.*`` finding.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from demo.records import ACTIVE, INACTIVE

CHECK_EVERY_DAYS = 27
ONE_DAY = timedelta(days=1)


def schedule_checks(
    sessions: Sequence[date], forced: Iterable[date] = (), suppressed: Iterable[date] = ()
) -> list[date]:
    """Check dates: every forced date, plus each session date whose last check is >27 days old."""
    pending = sorted(set(forced))
    skip = set(suppressed)
    checks: list[date] = []
    last: date | None = None
    for day in sessions:
        while pending and pending[0] <= day:
            last = pending.pop(0)
            checks.append(last)
        if day in skip:
            continue
        if last is None or (day - last).days > CHECK_EVERY_DAYS:
            checks.append(day)
            last = day
    checks.extend(pending)
    return sorted(set(checks))


@dataclass
class CoveragePlan:
    """What the payer knows about one member, and what the practice does with it."""

    billed: list[date]
    checks: list[date]
    begin: date
    end: date | None = None  # the coverage end as finally known
    reveal: date | None = None  # the 271 (dated after ``end``) that says inactive
    lapsed_after: date | None = None  # planted: billed dates after this are coverage.lapsed
    lapsed_dates: set[date] = field(default_factory=set)  # planted lapsed dates of service
    unverified_date: date | None = None  # planted coverage.unverified date of service
    retro: bool = False  # the payer itself reverses some lapsed lines

    def statement(self, check: date) -> tuple[str, date | None, date | None]:
        """(status, begin, end) of the 271 dated ``check``."""
        if self.reveal is not None and check >= self.reveal:
            return INACTIVE, self.begin, self.end
        return ACTIVE, self.begin, None


def _regular(dates: Sequence[date]) -> list[date]:
    return schedule_checks(dates)


def plan_coverage(
    rng: random.Random, dates: list[date], kind: str | None, variant: int = 0
) -> CoveragePlan:
    """Build the coverage plan for a client's session calendar and its planted story ``kind``.

    ``kind`` is None (ongoing, sometimes a job loss the practice caught in time), or one of
    ``jl_late``, ``retro``, ``precov``, ``unv31``, ``unv30``. For ``jl_late`` an even
    ``variant`` ends coverage on a visit's date (that visit is covered), an odd one the day
    before it (that visit is the first lapsed one). Returns a plan whose planted
    fields are empty when the calendar cannot host the story.
    """
    begin = dates[0] - timedelta(days=rng.randint(15, 1200))
    if kind == "precov":
        begin = dates[0] + timedelta(days=rng.randint(3, 6))
        plan = CoveragePlan(dates, _regular(dates), begin)
        plan.lapsed_dates = {dates[0]}
        return plan
    if kind in ("unv31", "unv30"):
        k = rng.randint(4, len(dates) - 1)
        gap = 31 if kind == "unv31" else 30
        checks = schedule_checks(dates, [dates[k] - timedelta(days=gap)], [dates[k]])
        plan = CoveragePlan(dates, checks, begin)
        if kind == "unv31":
            plan.unverified_date = dates[k]
        return plan
    regular = _regular(dates)
    if kind == "jl_late":
        for k in range(2, len(dates) - 2):
            later = [c for c in regular if c > dates[k]]
            if dates[k] in regular or dates[k + 1] in regular or not later:
                continue
            end = dates[k] - ONE_DAY * (variant % 2)
            reveal = later[0]
            billed = [d for d in dates if d < reveal]
            plan = CoveragePlan(billed, [c for c in regular if c <= reveal], begin, end, reveal)
            plan.lapsed_after = end
            plan.lapsed_dates = {d for d in billed if d > end}
            return plan
    if kind == "retro":
        for k in range(2, len(dates) - 2):
            later = [c for c in regular if c > dates[k]]
            if len(later) < 2:
                continue
            end = dates[k] - ONE_DAY * rng.randint(1, 3)
            reveal = later[1]
            billed = [d for d in dates if d < reveal]
            plan = CoveragePlan(billed, [c for c in regular if c <= reveal], begin, end, reveal)
            plan.lapsed_after = end
            plan.lapsed_dates = {d for d in billed if d > end}
            plan.retro = True
            return plan
    if kind is None and len(dates) >= 4 and rng.random() < 0.06:
        j = rng.randint(2, len(dates) - 1)
        end = dates[j - 1] + timedelta(days=rng.randint(0, (dates[j] - dates[j - 1]).days - 1))
        billed = dates[:j]
        checks = sorted({*schedule_checks(billed), dates[j]})
        return CoveragePlan(billed, checks, begin, end, dates[j])
    return CoveragePlan(dates, regular, begin)
