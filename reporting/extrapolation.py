"""The stratified estimator a payer uses to extrapolate an audit sample to the whole window
(DOMAIN.md section 7; ``docs/audit.md`` has the formulas and a worked example).

T = sum_h N_h * mean_h; Var = sum_h N_h^2 * (1 - n_h/N_h) * s_h^2 / n_h; the demand is the lower
limit T - z * sqrt(Var) (z 1.2816: one-sided 90%, CMS contractors; 1.645: OIG). Exact decimals.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from reporting.json_report import money
from warehouse.money import dollars

# z of the lower limit of a one-sided 90% interval (CMS contractors, PIM 8.4.5.1), and of a
# two-sided 90% interval (OIG), DOMAIN.md section 7.
Z_CMS = Decimal("1.2816")
Z_OIG = Decimal("1.645")
# Paid-amount bands (claim net paid in the window): under $75, $75 to under $125, $125 and over.
DEFAULT_BOUNDS: tuple[Decimal, ...] = (Decimal("75"), Decimal("125"))


@dataclass
class Stratum:
    """One paid-amount band: frame size N, sample size n, and the sample's overpayments."""

    name: str
    low: Decimal | None
    high: Decimal | None
    frame_claims: int = 0
    frame_net_paid: Decimal = Decimal(0)
    overpayments: list[Decimal] = field(default_factory=list)

    @property
    def sampled_claims(self) -> int:
        return len(self.overpayments)

    @property
    def mean(self) -> Decimal | None:
        if not self.overpayments:
            return None
        return sum(self.overpayments, Decimal(0)) / len(self.overpayments)

    @property
    def variance_of_sample(self) -> Decimal | None:
        """s_h², with n_h - 1 in the denominator; None when fewer than two claims were sampled."""
        mean = self.mean
        if mean is None or len(self.overpayments) < 2:
            return None
        squares = sum(((y - mean) ** 2 for y in self.overpayments), Decimal(0))
        return squares / (len(self.overpayments) - 1)

    @property
    def total(self) -> Decimal | None:
        """N_h·ȳ_h, or None when nothing was sampled here (the stratum is not extrapolated)."""
        mean = self.mean
        return None if mean is None else self.frame_claims * mean

    @property
    def variance_of_total(self) -> Decimal | None:
        """N_h²·(1 - n_h/N_h)·s_h²/n_h (0 when the whole stratum was sampled)."""
        n, big_n = self.sampled_claims, self.frame_claims
        if n and n == big_n:
            return Decimal(0)
        s2 = self.variance_of_sample
        if s2 is None:
            return None
        return Decimal(big_n) ** 2 * (1 - Decimal(n) / Decimal(big_n)) * s2 / n

    def to_json(self) -> dict[str, Any]:
        s2 = self.variance_of_sample
        return {
            "stratum": self.name,
            "low": money(self.low) if self.low is not None else None,
            "high": money(self.high) if self.high is not None else None,
            "frame_claims": self.frame_claims,
            "frame_net_paid": money(self.frame_net_paid),
            "sampled_claims": self.sampled_claims,
            "sample_overpayment": money(sum(self.overpayments, Decimal(0))),
            "mean_overpayment": _cents(self.mean),
            "sd_overpayment": _cents(s2.sqrt()) if s2 is not None else None,
            "estimated_overpayment": _cents(self.total),
        }


@dataclass
class Estimate:
    strata: list[Stratum]
    point_estimate: Decimal
    variance: Decimal | None
    unsampled_strata: list[str]
    reason: str | None  # why the lower limits are missing, when they are

    @property
    def standard_error(self) -> Decimal | None:
        return None if self.variance is None else self.variance.sqrt()

    def lower_limit(self, z: Decimal) -> Decimal | None:
        se = self.standard_error
        return None if se is None else self.point_estimate - z * se

    def to_json(self) -> dict[str, Any]:
        cms, oig = self.lower_limit(Z_CMS), self.lower_limit(Z_OIG)
        return {
            "point_estimate": _cents(self.point_estimate),
            "standard_error": _cents(self.standard_error),
            "lower_limit_90": _cents(cms),
            "z": float(Z_CMS),
            "demand_at_lower_limit": _cents(max(cms, Decimal(0))) if cms is not None else None,
            "oig_lower_limit": _cents(oig),
            "oig_z": float(Z_OIG),
            "unsampled_strata": self.unsampled_strata,
            "reason": self.reason,
            "strata": [stratum.to_json() for stratum in self.strata],
        }


def _cents(value: Decimal | None) -> float | None:
    return None if value is None else money(value)


def band_names(bounds: Sequence[Decimal]) -> list[tuple[str, Decimal | None, Decimal | None]]:
    """(name, low, high) for each paid-amount band; low inclusive, high exclusive."""
    edges: list[Decimal | None] = [None, *bounds, None]
    bands = []
    for low, high in itertools.pairwise(edges):
        if low is None:
            name = f"under {dollars(high)}"
        elif high is None:
            name = f"{dollars(low)} and over"
        else:
            name = f"{dollars(low)} to under {dollars(high)}"
        bands.append((name, low, high))
    return bands


def stratum_index(net_paid: Decimal, bounds: Sequence[Decimal]) -> int:
    return sum(net_paid >= bound for bound in bounds)


def estimate(
    frame: Mapping[str, Decimal],
    overpayments: Mapping[str, Decimal],
    bounds: Sequence[Decimal] = DEFAULT_BOUNDS,
) -> Estimate:
    """The stratified estimate of the overpayment in ``frame`` (claim id -> net paid) from the
    audited claims' overpayments (claim id -> y). Sampled ids outside the frame are ignored.

    T = Σ N_h·ȳ_h over the strata with a sampled claim (a stratum nobody sampled cannot be
    extrapolated and is named in ``unsampled_strata``); Var = Σ N_h²·(1 - n_h/N_h)·s_h²/n_h; the
    lower limits need at least two sampled claims in every sampled stratum that was not sampled
    whole.
    """
    if list(bounds) != sorted(set(bounds)):
        raise ValueError(f"stratum bounds must increase: {list(bounds)}")
    with localcontext() as context:
        context.prec = 40
        strata = [Stratum(name, low, high) for name, low, high in band_names(bounds)]
        for claim_id, net_paid in frame.items():
            stratum = strata[stratum_index(net_paid, bounds)]
            stratum.frame_claims += 1
            stratum.frame_net_paid += net_paid
            if claim_id in overpayments:
                stratum.overpayments.append(Decimal(overpayments[claim_id]))
        sampled = [s for s in strata if s.sampled_claims]
        unsampled = [s.name for s in strata if s.frame_claims and not s.sampled_claims]
        point = sum((s.total or Decimal(0) for s in sampled), Decimal(0))
        reason: str | None = None
        variance: Decimal | None = None
        if not sampled:
            reason = "no audited claim is a paid claim of the window"
        else:
            parts = [s.variance_of_total for s in sampled]
            if any(part is None for part in parts):
                short = [s.name for s, part in zip(sampled, parts, strict=True) if part is None]
                reason = (
                    "a sampled stratum with one audited claim has no sample variance: "
                    + ", ".join(short)
                )
            else:
                variance = sum((part for part in parts if part is not None), Decimal(0))
        return Estimate(strata, point, variance, unsampled, reason)
