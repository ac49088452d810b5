"""Which takebacks to dispute, with what evidence (issue 12): ``disputes.csv`` and, per disputable
takeback, a packet under ``disputes/<claim>/`` a billing lead can attach to an appeal.

Every realized recoupment in the report's scope (a reversal, CLP02 = 22, or a PLB WO) is set
against recoup's own records (``sql/disputes.sql``), line by line:

* **eligibility**: the 271 statement that decides the date of service (as known at as_of):
  active supports the payment; inactive, or no statement about that date while responses for
  this member and payer speak about others (as ``coverage.lapsed`` reads it), supports the
  payer; no response at all says nothing;
* **documentation** (billing providers that send a sessions feed): a signed note whose minutes
  reach the timed code's band supports the payment; no note, no signature, no minutes or too
  few minutes support the payer; no sessions feed says nothing;
* **duplicate**: another claim for the same patient, provider, date, code and modifiers still
  paid supports the payer; none supports the payment.

What the payer said is the CAS it gave (``carc.py``) and its remark codes (RARCs: LQ*HE, MOA;
``rarc.py``); a remark counts as a reason only when it makes a checkable claim (N30 eligibility,
M127/N29 documentation), the others are reported. The verdict:

* ``not_disputable``: a record supports the payer (the takeback is right on recoup's own
  evidence, whatever reason the payer gave);
* ``disputable``: no record supports the payer, and every reason the payer gave is one recoup's
  records answer and they contradict it; a takeback with no reason (a bare reversal, a PLB WO)
  is disputable only when eligibility, note and claim history all support the payment;
* ``unknown``: anything else (a reason recoup cannot check, such as prior authorization or a
  re-pricing, or a record that is missing), with what is missing.

The appeal deadline is the remittance date plus the payer's ``appeal_days`` (payers.csv, default
60); ``days_left`` counts from the report's as-of date (negative: the deadline has passed).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from marts.templating import SqlValue, render_sql
from reporting import carc, rarc
from reporting.cells import escape_cell
from reporting.deidentify import pseudonym
from reporting.files import replacing, write_text

SQL = Path(__file__).parent / "sql" / "disputes.sql"
_NAME = re.compile(r"^-- name: ([a-z_]+)\s*$", re.MULTILINE)

DISPUTABLE, NOT_DISPUTABLE, UNKNOWN = "disputable", "not_disputable", "unknown"
# per check: what the record shows
PAYMENT, PAYER, NOTHING = "supports_payment", "supports_payer", "no_record"
CHECKS = (carc.COVERAGE, carc.DOCUMENTATION, carc.DUPLICATE)

CSV_COLUMNS = (
    "claim_id",
    "kind",
    "payer_id",
    "member_id",
    "rendering_npi",
    "dates_of_service",
    "codes",
    "remittance_date",
    "taken_back",
    "repaid",
    "amount",
    "payer_codes",
    "payer_said",
    "verdict",
    "reasons",
    "eligibility",
    "documentation",
    "duplicate",
    "appeal_days",
    "appeal_deadline",
    "days_left",
    "packet",
    "claim_key",
    "payment_id",
    "payer_remarks",
)
TEXT_COLUMNS = frozenset(
    ("claim_id", "payer_id", "member_id", "rendering_npi", "codes", "payer_codes", "payer_said",
     "reasons", "claim_key", "payment_id", "packet", "payer_remarks")
)  # fmt: skip


@cache
def _queries() -> dict[str, str]:
    parts = _NAME.split(SQL.read_text())
    return {parts[i]: parts[i + 1].strip().rstrip(";") for i in range(1, len(parts), 2)}


def _rows(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, SqlValue]
) -> list[dict[str, Any]]:
    result = con.execute(render_sql(_queries()[name], params))
    columns = [column[0] for column in result.description or []]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


@dataclass
class Assessment:
    """One takeback, what the payer said, what the records show, and the verdict."""

    kind: str  # reversal | plb_wo
    claim_id: str
    claim_key: str | None
    payment_id: str
    seq: int
    payer_id: str | None
    remittance_date: date | None
    taken_back: Decimal
    repaid: Decimal
    amount: Decimal  # what the payer kept: taken_back - repaid
    payer_codes: list[str]
    appeal_days: int
    as_of: date
    lines: list[dict[str, Any]] = field(default_factory=list)
    checks: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    verdict: str = UNKNOWN
    reasons: list[str] = field(default_factory=list)
    packet: str = ""
    payer_remarks: list[str] = field(default_factory=list)  # RARCs (LQ*HE, MOA): rarc.py

    @property
    def deadline(self) -> date | None:
        if self.remittance_date is None:
            return None
        return self.remittance_date + timedelta(days=self.appeal_days)

    @property
    def days_left(self) -> int | None:
        deadline = self.deadline
        return None if deadline is None else (deadline - self.as_of).days

    @property
    def member_id(self) -> str | None:
        return self.lines[0]["member_id"] if self.lines else None

    @property
    def remarks_said(self) -> str:
        """The remark codes in plain words ('N30: the patient is not eligible ...; ...')."""
        return "; ".join(rarc.meaning(code) for code in self.payer_remarks)

    @property
    def payer_said(self) -> str:
        if not self.payer_codes and self.payer_remarks:
            return self.remarks_said
        if not self.payer_codes:
            return (
                "no reason given (a PLB WO carries none)"
                if self.kind == "plb_wo"
                else "no reason given: the reversal only negates the original payment"
            )
        said = "; ".join(carc.meaning(code) for code in self.payer_codes)
        return f"{said}; {self.remarks_said}" if self.payer_remarks else said

    def check_text(self, name: str) -> str:
        state, facts = self.checks.get(name, (NOTHING, []))
        return f"{state}: {'; '.join(facts)}" if facts else state


def _eligibility(line: Mapping[str, Any]) -> tuple[str, str]:
    dos = line["date_of_service"].isoformat()
    status = line["coverage_status"]
    if status in ("active", "inactive"):
        said = (
            f"271 response {line['coverage_response_id']} checked "
            f"{line['coverage_check_date'].isoformat()} says coverage was {status} on {dos}"
        )
        return (PAYMENT if status == "active" else PAYER), said
    if line["has_eligibility"]:  # as coverage.lapsed: the responses on file cover other dates
        return PAYER, f"no 271 response on file shows coverage on {dos}"
    return NOTHING, "no 271 response for this member and payer"


def _documentation(line: Mapping[str, Any]) -> tuple[str, str]:
    label = f"line {line['line_number']} ({line['code']})"
    if not line["feeds_sessions"]:
        return NOTHING, f"{label}: the billing provider sends no sessions feed"
    if not line["session_row"]:
        return PAYER, f"{label}: no session note"
    if line["session_signed_at"] is None:
        if line["session_signed_before_service"] is not None:
            return PAYER, f"{label}: the note is dated before the session (not a signature)"
        return PAYER, f"{label}: the note is not signed"
    signed = f"signed {line['session_signed_at']:%Y-%m-%d}"
    minimum, minutes = line["min_minutes"], line["session_minutes"]
    if minimum is None:
        return PAYMENT, f"{label}: note {signed}"
    if minutes is None:
        return PAYER, f"{label}: note {signed} documents no minutes"
    if minutes < minimum:
        return PAYER, f"{label}: note {signed} documents {minutes} min, below {minimum}"
    return PAYMENT, f"{label}: note {signed} documents {minutes} min (at least {minimum})"


def _duplicate(line: Mapping[str, Any]) -> tuple[str, str]:
    label = f"line {line['line_number']} ({line['code']})"
    other = line["other_paid_claim_id"]
    if other is not None:
        return PAYER, f"{label}: the same service is still paid on claim {other}"
    return PAYMENT, f"{label}: no other claim paid for the same service"


def _combine(results: Sequence[tuple[str, str]]) -> tuple[str, list[str]]:
    """A claim's check from its lines': the payer's side wins, then a missing record."""
    states = {state for state, _ in results}
    state = PAYER if PAYER in states else NOTHING if NOTHING in states or not results else PAYMENT
    facts = list(dict.fromkeys(fact for s, fact in results if s == state))
    return state, facts


def judge(takeback: Assessment) -> None:
    """Set ``checks``, ``verdict`` and ``reasons`` of ``takeback`` from its lines and codes."""
    if not takeback.lines:
        takeback.checks = {name: (NOTHING, []) for name in CHECKS}
        takeback.verdict = UNKNOWN
        takeback.reasons = ["the claim it names is not in the warehouse (or has no lines)"]
        return
    takeback.checks = {
        carc.COVERAGE: _combine([_eligibility(line) for line in takeback.lines]),
        carc.DOCUMENTATION: _combine([_documentation(line) for line in takeback.lines]),
        carc.DUPLICATE: _combine([_duplicate(line) for line in takeback.lines]),
    }
    against = [fact for name in CHECKS for fact in _facts(takeback, name, PAYER)]
    if against:
        takeback.verdict = NOT_DISPUTABLE
        takeback.reasons = ["the records support the payer: " + fact for fact in against]
        return
    stated = {code: carc.category(code) for code in takeback.payer_codes}
    # a remark code joins the reasons only when it makes a claim recoup's records can check
    # (N30 eligibility as CARC 27/177, M127/N29 documentation as CARC 150/151); others are
    # reported in payer_said, never judged
    stated |= {
        code: rarc.category(code)
        for code in takeback.payer_remarks
        if rarc.category(code) != carc.OTHER
    }
    unchecked = [code for code, kind in stated.items() if kind == carc.OTHER]
    checked = sorted({kind for kind in stated.values() if kind != carc.OTHER}, key=CHECKS.index)
    needed = checked if stated else list(CHECKS)
    missing = [name for name in needed if takeback.checks[name][0] != PAYMENT]
    if unchecked or missing:
        takeback.verdict = UNKNOWN
        takeback.reasons = [
            f"recoup's records cannot answer {carc.meaning(code)}" for code in unchecked
        ] + [f"no {name} record: " + "; ".join(takeback.checks[name][1]) for name in missing]
        return
    takeback.verdict = DISPUTABLE
    codes = {name: [code for code, kind in stated.items() if kind == name] for name in needed}
    takeback.reasons = [
        (f"contradicts {', '.join(codes[name])}: " if codes[name] else "")
        + "; ".join(takeback.checks[name][1])
        for name in needed
    ]
    if not stated:
        takeback.reasons.insert(0, "the payer gave no reason and every record supports the payment")


def _facts(takeback: Assessment, name: str, state: str) -> list[str]:
    got, facts = takeback.checks[name]
    return facts if got == state else []


def assess(
    con: duckdb.DuckDBPyConnection, *, as_of: date, thresholds: Mapping[str, Any]
) -> list[Assessment]:
    """Every takeback of the report's scope, judged, ordered by amount kept (largest first),
    then appeal deadline (soonest first), then claim id. Needs the tables of
    ``reporting.queries.scoped_tables``; works on a read-only connection."""
    params: dict[str, SqlValue] = {
        "as_of": as_of,
        "coding.timed_minutes": list(thresholds["coding.timed_minutes"]),
    }
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dispute_takebacks AS "
        + render_sql(_queries()["takebacks"], params)
    )
    try:
        takebacks = _read_takebacks(con)
        lines: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
        for line in _rows(con, "lines", params):
            lines[(line["kind"], line["payment_id"], line["seq"])].append(line)
    finally:
        con.execute("DROP TABLE IF EXISTS temp.dispute_takebacks")
    out = []
    for row in takebacks:
        takeback = Assessment(
            kind=row["kind"],
            claim_id=row["claim_reference"],
            claim_key=row["claim_key"],
            payment_id=row["payment_id"],
            seq=row["seq"],
            payer_id=row["payer_id"],
            remittance_date=row["payment_date"],
            taken_back=row["taken_back"],
            repaid=row["repaid"],
            amount=row["amount"],
            payer_codes=list(row["payer_codes"] or []),
            appeal_days=int(row["appeal_days"]),
            as_of=as_of,
            lines=lines.get((row["kind"], row["payment_id"], row["seq"]), []),
            payer_remarks=list(row["payer_remarks"] or []),
        )
        judge(takeback)
        out.append(takeback)
    out.sort(
        key=lambda t: (
            -t.amount,
            t.deadline or date.max,
            t.claim_id,
            t.claim_key or "",
            t.payment_id,
            t.seq,
        )
    )
    return out


def flagged_lines(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The findings with an exposure in the report's scope, for ``reporting.reserve``."""
    return _rows(con, "flagged_lines", {})


def _read_takebacks(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    result = con.execute("SELECT * FROM dispute_takebacks")
    columns = [column[0] for column in result.description or []]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


# ---- files ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return " ".join(str(item) for item in value)
    return str(value)


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with (
        replacing(path) as temporary,
        temporary.open("w", newline="", encoding="utf-8") as handle,
    ):
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(
                escape_cell(_text(value)) if isinstance(value, (str, list, tuple)) else _text(value)
                for value in row
            )


def _member(member_id: str | None, key: bytes | None) -> str:
    if member_id is None:
        return ""
    return member_id if key is None else pseudonym(key, member_id)


def csv_row(t: Assessment, key: bytes | None = None) -> dict[str, Any]:
    dates = sorted({line["date_of_service"] for line in t.lines})
    return {
        "claim_id": t.claim_id,
        "kind": t.kind,
        "payer_id": t.payer_id or "",
        "member_id": _member(t.member_id, key),
        "rendering_npi": " ".join(sorted({line["rendering_npi"] for line in t.lines})),
        "dates_of_service": " ".join(day.isoformat() for day in dates),
        "codes": " ".join(line["code"] for line in t.lines),
        "remittance_date": _text(t.remittance_date),
        "taken_back": t.taken_back,
        "repaid": t.repaid,
        "amount": t.amount,
        "payer_codes": " ".join(t.payer_codes),
        "payer_said": t.payer_said,
        "verdict": t.verdict,
        "reasons": " | ".join(t.reasons),
        "eligibility": t.check_text(carc.COVERAGE),
        "documentation": t.check_text(carc.DOCUMENTATION),
        "duplicate": t.check_text(carc.DUPLICATE),
        "appeal_days": t.appeal_days,
        "appeal_deadline": _text(t.deadline),
        "days_left": "" if t.days_left is None else t.days_left,
        "packet": t.packet,
        "claim_key": t.claim_key or "",
        "payment_id": t.payment_id,
        "payer_remarks": t.remarks_said,
    }


def _folder_name(claim_id: str, taken: set[str]) -> str:
    """A safe folder name for ``claim_id`` (letters, digits, '.', '_', '-'), unique in ``taken``."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", claim_id).lstrip(".") or "claim"
    base = base[:80]
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}-{number}"
    taken.add(name)
    return name


def write_disputes(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    takebacks: Sequence[Assessment],
    *,
    as_of: date,
    pseudonym_key: bytes | None = None,
) -> Path:
    """Write ``disputes.csv`` and the packets of the disputable takebacks under ``folder``
    (the report folder being written); returns the CSV's path."""
    (folder / "disputes").mkdir(exist_ok=True)  # always there, empty when none is disputable
    taken: set[str] = set()
    packets = [t for t in takebacks if t.verdict == DISPUTABLE and t.claim_key is not None]
    for t in packets:
        t.packet = f"disputes/{_folder_name(t.claim_id, taken)}/"
    records = _packet_records(con, packets, as_of)
    for t in packets:
        write_packet(folder / t.packet, t, records, as_of=as_of, key=pseudonym_key)
    path = folder / "disputes.csv"
    _write_csv(path, CSV_COLUMNS, [list(csv_row(t, pseudonym_key).values()) for t in takebacks])
    return path


Records = dict[str, dict[str, list[dict[str, Any]]]]  # query -> claim_key -> rows


def _packet_records(
    con: duckdb.DuckDBPyConnection, packets: Sequence[Assessment], as_of: date
) -> Records:
    """The rows every packet quotes, by query and claim key (three queries for all packets)."""
    keys = {(t.claim_key, t.member_id, t.lines[0]["payer_id"]) for t in packets}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dispute_packets "
        "(claim_key VARCHAR, member_id VARCHAR, payer_id VARCHAR)"
    )
    try:
        if keys:
            con.executemany("INSERT INTO dispute_packets VALUES (?, ?, ?)", sorted(keys))
        records: Records = {}
        for name in ("packet_eligibility", "packet_sessions", "packet_payments"):
            grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in _rows(con, name, {"as_of": as_of}):
                grouped[row.pop("claim_key")].append(row)
            records[name] = grouped
        return records
    finally:
        con.execute("DROP TABLE IF EXISTS temp.dispute_packets")


def write_packet(
    folder: Path,
    t: Assessment,
    records: Records,
    *,
    as_of: date,
    key: bytes | None = None,
) -> None:
    """One takeback's packet: ``summary.html`` (one self-contained page) and the records it
    quotes as CSV (``claim_lines.csv``, ``payments.csv``, ``eligibility.csv``,
    ``sessions.csv``). Only this claim's and this member's rows; no name, birth date or
    address (the warehouse keeps none in the tables read here)."""
    from reporting.html import environment

    folder.mkdir(parents=True, exist_ok=True)
    claim_key = t.claim_key or ""
    shown_member = _member(t.member_id, key)
    eligibility = [{**row, "member_id": shown_member}
                   for row in records["packet_eligibility"].get(claim_key, [])]  # fmt: skip
    sessions = records["packet_sessions"].get(claim_key, [])
    payments = records["packet_payments"].get(claim_key, [])
    claim_lines = [
        {
            "claim_id": line["claim_id"],
            "line_number": line["line_number"],
            "date_of_service": line["date_of_service"],
            "code": line["code"],
            "modifiers": line["modifiers"],
            "units": line["units"],
            "charge": line["charge"],
            "taken_back": line["line_taken_back"],
            "payer_id": line["payer_id"],
            "member_id": shown_member,
            "rendering_npi": line["rendering_npi"],
            "billing_npi": line["billing_npi"],
        }
        for line in t.lines
    ]
    tables = {
        "claim_lines.csv": claim_lines,
        "payments.csv": payments,
        "eligibility.csv": eligibility,
        "sessions.csv": sessions,
    }
    headers = {
        "claim_lines.csv": list(claim_lines[0]) if claim_lines else [],
        "payments.csv": ["payment_date", "status_code", "line_number", "procedure_code", "amount",
                         "adjustments", "payment_id"],
        "eligibility.csv": ["response_id", "check_date", "payer_id", "member_id", "benefit_seq",
                            "eligibility_code", "coverage_status", "service_types",
                            "coverage_begin", "coverage_end", "answered_for", "date_qualifiers"],
        "sessions.csv": ["claim_id", "line_number", "session_level", "minutes", "note_signed_at",
                         "signed_before_service", "phq9", "gad7"],
    }  # fmt: skip
    for name, rows in tables.items():
        _write_csv(folder / name, headers[name], [[row[c] for c in headers[name]] for row in rows])
    page = (
        environment()
        .get_template("dispute.html.j2")
        .render(
            t=t,
            member=shown_member,
            codes=[carc.meaning(code) for code in t.payer_codes],
            remarks=[rarc.meaning(code) for code in t.payer_remarks],
            checks=[(name, *t.checks[name]) for name in CHECKS],
            claim_lines=claim_lines,
            payments=payments,
            eligibility=eligibility,
            sessions=sessions,
            as_of=as_of,
            text=_text,
        )
    )
    write_text(folder / "summary.html", page)


def section(takebacks: Sequence[Assessment], shown: int = 20) -> dict[str, Any]:
    """What index.html shows: counts and amounts per verdict, and the first ``shown`` rows."""
    totals: dict[str, dict[str, Any]] = {
        verdict: {"count": 0, "amount": Decimal(0)}
        for verdict in (DISPUTABLE, UNKNOWN, NOT_DISPUTABLE)
    }
    for t in takebacks:
        totals[t.verdict]["count"] += 1
        totals[t.verdict]["amount"] += t.amount
    rows = [
        {
            "claim_id": t.claim_id,
            "kind": t.kind,
            "payer_id": t.payer_id,
            "amount": t.amount,
            "verdict": t.verdict,
            "payer_said": ", ".join([*t.payer_codes, *t.payer_remarks]) or "no reason",
            "reason": t.reasons[0] if t.reasons else "",
            "deadline": _text(t.deadline),
            "days_left": t.days_left,
            "packet": t.packet,
        }
        for t in takebacks[:shown]
    ]
    return {"totals": totals, "rows": rows, "count": len(takebacks)}
