"""Since last night (issue 14, item 2): what changed between the previous stored nightly and this
one, for ``changes.csv`` and the top of the nightly page.

Each nightly report stores its open findings (not time-barred, warnings included: key and amount
at risk) and its open exposure in ``history.*`` (migration 007), replacing that night's rows, so
a rerun of a night changes nothing. A night is compared with the last stored night *before* its
as-of date: the report of a night reads the same whether it is written before or after that night
is stored, and ``recoup report`` (read-only) writes the nightly's bytes.

A finding is keyed by (claim, line, rule) and its amount at risk is its own exposure, gross (as
the page's rule table: a line flagged by two rules counts under both), so the dollars of the
changes need not add up to the change in open exposure, which counts each line once, capped at
its net paid; the page shows both.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from marts.templating import SqlValue
from reporting import sqlfiles
from reporting.cells import escape_cell
from reporting.files import write_text

KINDS = ("new", "grown", "shrunk", "resolved")
REASONS = ("paid back", "corrected", "time-barred", "no longer flagged")
CSV_COLUMNS = (
    "kind", "claim_id", "line_number", "rule", "before", "after", "delta", "reason", "claim_key"
)  # fmt: skip
REASON_WORDS = {
    "paid back": "paid back: the 835s took the money back (reversal, recoupment or refund)",
    "corrected": "corrected: the claim was replaced or voided",
    "time-barred": "time-barred: the payment is now past the payer's look-back",
    "no longer flagged": "no longer flagged: the rule no longer fires on the current data",
}


def _queries() -> dict[str, str]:
    return sqlfiles.blocks("changes.sql")


def _rows(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, SqlValue]
) -> list[dict[str, Any]]:
    return sqlfiles.run(con, "changes.sql", name, params)


@dataclass(frozen=True)
class Change:
    kind: str  # new | grown | shrunk | resolved
    claim_id: str
    line_number: int
    rule: str
    before: Decimal | None
    after: Decimal | None
    delta: Decimal
    reason: str | None  # resolved only: one of REASONS
    claim_key: str


@dataclass
class NightChanges:
    """This night against the previous stored one (``previous`` None: the first night)."""

    as_of: date
    previous: date | None
    open_before: Decimal | None
    open_after: Decimal
    changes: list[Change] = field(default_factory=list)
    trend: list[tuple[date, Decimal]] = field(default_factory=list)  # stored nights + this one

    def of(self, kind: str, reason: str | None = None) -> list[Change]:
        return [
            c for c in self.changes if c.kind == kind and (reason is None or c.reason == reason)
        ]

    def tally(self) -> dict[str, dict[str, Any]]:
        """Count and dollars (sum of |delta|) per kind, and per reason of the resolved."""
        out: dict[str, dict[str, Any]] = {}
        for kind in KINDS:
            chosen = self.of(kind)
            out[kind] = {
                "count": len(chosen),
                "dollars": sum((abs(c.delta) for c in chosen), Decimal(0)),
            }
        for reason in REASONS:
            chosen = self.of("resolved", reason)
            out[reason] = {
                "count": len(chosen),
                "dollars": sum((abs(c.delta) for c in chosen), Decimal(0)),
            }
        return out

    @property
    def open_change(self) -> Decimal | None:
        return None if self.open_before is None else self.open_after - self.open_before


def history_present(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has migration 007's tables (a read-only older warehouse has not)."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'history' "
        "AND table_name IN ('nights', 'night_findings') AND database_name = current_database()"
    ).fetchone()
    return bool(found and found[0] == 2)


def compare(con: duckdb.DuckDBPyConnection, as_of: date, open_after: Decimal) -> NightChanges:
    """This night's changes against the last stored night before ``as_of``. Needs the temporary
    tables of ``scoped_tables`` for a nightly scope; ``open_after``: this night's open exposure."""
    if not history_present(con):
        return NightChanges(as_of, None, None, open_after, [], [(as_of, open_after)])
    previous = _rows(con, "previous_night", {"as_of": as_of})[0]["as_of"]
    trend = [(row["as_of"], row["open_exposure"]) for row in _rows(con, "trend", {"as_of": as_of})]
    trend.append((as_of, open_after))
    if previous is None:
        return NightChanges(as_of, None, None, open_after, [], trend)
    before = _rows(con, "night_total", {"as_of": previous})[0]["open_exposure"]
    changes = [
        Change(
            kind=row["kind"],
            claim_id=row["claim_id"],
            line_number=row["line_number"],
            rule=row["rule"],
            before=row["before"],
            after=row["after"],
            delta=row["delta"],
            reason=row["reason"],
            claim_key=row["claim_key"],
        )
        for row in _rows(con, "compare", {"as_of": as_of, "previous": previous})
    ]
    return NightChanges(as_of, previous, before, open_after, changes, trend)


def store_night(con: duckdb.DuckDBPyConnection, as_of: date, totals: dict[str, Any]) -> int:
    """Store this night's open findings and open exposure (``totals`` of exposure.json),
    replacing what was stored for ``as_of``, in one transaction. Needs the temporary tables of
    ``scoped_tables`` for a nightly scope. Returns the findings stored."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM history.night_findings WHERE as_of = ?", [as_of])
        con.execute("DELETE FROM history.nights WHERE as_of = ?", [as_of])
        con.execute(
            "INSERT INTO history.night_findings "
            "(as_of, claim_key, claim_id, line_number, rule, exposure, net_paid, submission) "
            "SELECT CAST(? AS DATE), claim_key, claim_id, line_number, rule, exposure, net_paid, "
            f"submission FROM ({_queries()['open_findings']})",
            [as_of],
        )
        stored = con.execute(
            "SELECT count(*) FROM history.night_findings WHERE as_of = ?", [as_of]
        ).fetchone()
        count = int(stored[0]) if stored else 0
        con.execute(
            "INSERT INTO history.nights VALUES (?, ?, ?, ?)",
            [as_of, Decimal(str(totals["open_exposure"])), totals["open_exposure_lines"], count],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return count


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def changes_csv(night: NightChanges) -> str:
    """``changes.csv``: one row per change (header always; no row on a first night)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in night.changes:
        writer.writerow(
            [
                c.kind,
                escape_cell(c.claim_id),
                c.line_number,
                escape_cell(c.rule),
                _money(c.before),
                _money(c.after),
                _money(c.delta),
                c.reason or "",
                escape_cell(c.claim_key),
            ]
        )
    return buffer.getvalue()


def write_changes_csv(path: Path, night: NightChanges) -> Path:
    return write_text(path, changes_csv(night))
