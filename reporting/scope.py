"""What a report covers: the whole warehouse (nightly) or an audit window (backfill).

A scope selects **claim lines** (current submissions, docs/decisions.md) by date of service in
``[start, end]`` (either bound may be open), billed payer and, when the audit letter names them,
claim ids. Everything else in a report follows from the lines it selects; what cannot be tied to a
line (recoupments and unmatched remittances naming unknown claims) follows the rules in
``reporting/sql/scope.sql``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

ScopeKind = Literal["nightly", "backfill"]


@dataclass(frozen=True)
class Scope:
    """The lines a report covers. Filters that are None do not filter."""

    kind: ScopeKind
    start: date | None = None
    end: date | None = None
    payer_id: str | None = None
    reason: str | None = None
    claim_ids: list[str] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("nightly", "backfill"):
            raise ValueError(f"scope kind must be nightly or backfill, not {self.kind!r}")
        if self.kind == "backfill" and (self.start is None or self.end is None):
            raise ValueError("a backfill scope needs a start and an end date")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"scope start {self.start} is after its end {self.end}")
        if self.claim_ids is not None:
            # sorted and unique, so the same audit letter always gives the same report
            object.__setattr__(self, "claim_ids", sorted(set(self.claim_ids)))

    @classmethod
    def nightly(cls) -> Scope:
        return cls("nightly")

    @classmethod
    def backfill(
        cls,
        start: date,
        end: date,
        *,
        payer_id: str | None = None,
        reason: str | None = None,
        claim_ids: Iterable[str] | None = None,
    ) -> Scope:
        return cls(
            "backfill",
            start,
            end,
            payer_id,
            reason,
            list(claim_ids) if claim_ids is not None else None,
        )

    @property
    def is_everything(self) -> bool:
        """True when no filter is set: the report covers the whole warehouse."""
        return (
            self.start is None
            and self.end is None
            and self.payer_id is None
            and self.claim_ids is None
        )

    def to_json(self) -> dict[str, Any]:
        """The ``scope`` object of exposure.json (dates as ISO strings)."""
        return {
            "kind": self.kind,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "payer_id": self.payer_id,
            "reason": self.reason,
            "claim_ids": self.claim_ids,
        }


def slug(text: str) -> str:
    """Lowercase letters, digits and dashes only (Prefect artifact keys, folder names)."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-") or "x"


def claims_tag(claim_ids: Iterable[str]) -> str:
    """``claims-`` and the first 12 hex digits of the SHA-256 of the claim list (sorted, unique,
    one id a line): the same audit sample gives the same tag, whatever its file's order or
    format; another sample, another tag."""
    text = "".join(f"{claim_id}\n" for claim_id in sorted(set(claim_ids)))
    return "claims-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def report_dir(root: Path, scope: Scope, as_of: date) -> Path:
    """The SPEC's folder for a run: ``<root>/<as_of>/`` (nightly) or
    ``<root>/backfill/<start>_<end>[_<payer>]/``; an audit of named claims (``--claims-file``)
    gets its own, ``<root>/backfill/<start>_<end>[_<payer>]_claims-<12 hex>/`` (``claims_tag``),
    so it never replaces the whole window's report, nor another sample's."""
    if scope.kind == "nightly":
        return root / as_of.isoformat()
    assert scope.start is not None and scope.end is not None
    name = f"{scope.start.isoformat()}_{scope.end.isoformat()}"
    if scope.payer_id:
        name += "_" + slug(scope.payer_id)
    if scope.claim_ids is not None:
        name += "_" + claims_tag(scope.claim_ids)
    return root / "backfill" / name


def artifact_key_prefix(scope: Scope) -> str:
    """Stable Prefect artifact key prefix, so every run of the same job shares a history:
    ``recoup-nightly``, ``recoup-backfill`` or ``recoup-backfill-<payer>``."""
    if scope.kind == "nightly":
        return "recoup-nightly"
    return "recoup-backfill" + (f"-{slug(scope.payer_id)}" if scope.payer_id else "")
