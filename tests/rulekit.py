"""Tiny warehouses for rule and model tests: insert staging rows directly, build, run, read back.

``Kit`` wraps a migrated in-memory DuckDB. Its helpers insert rows the way the readers would
(``claim``, ``pay``, ``reverse``, ``eligibility``, ``session``, ...), with defaults so a test
writes only what it is about. ``kit.run()`` builds the mart and runs the rules for ``kit.as_of``;
``kit.findings()`` returns ``(claim_id, line_number, rule, exposure, time_barred)`` tuples.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

from expectations.catalog import RulesResult, run_rules
from expectations.config import load_config
from marts.build import build_models
from warehouse.connection import insert_arrow, migrate
from warehouse.money import CENT

AS_OF = date(2024, 12, 31)
DOS = date(2024, 6, 3)
PAID_ON = date(2024, 7, 1)
BILLING_NPI = "1111111111"
RENDERING_NPI = "2222222222"

Finding = tuple[str, int, str, Decimal, bool]


def money(value: str | int | float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


@dataclass
class Line:
    """One 837P service line (``line_number`` defaults to its position in the claim)."""

    code: str
    charge: str | Decimal = "150.00"
    units: str | int = 1
    modifiers: Sequence[str] = ()
    date_of_service: date | None = None
    place_of_service: str | None = None
    line_control_number: str | None = None
    rendering_npi: str | None = None
    line_number: int | None = None


@dataclass
class Remit:
    """One 835 service line (SVC); ``date_of_service`` None means the claim's first line date."""

    code: str
    paid: str | Decimal
    modifiers: Sequence[str] = ()
    date_of_service: date | None = None
    line_control_number: str | None = None
    charge: str | Decimal | None = None


@dataclass
class Kit:
    con: duckdb.DuckDBPyConnection
    as_of: date = AS_OF
    result: RulesResult | None = None
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _claim_dates: dict[str, date] = field(default_factory=dict)

    # ---- plumbing -------------------------------------------------------------------------------
    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))

    def file(self, feed: str, received_at: datetime | None = None) -> str:
        """A ledger row for a new file of ``feed``; returns its hash."""
        serial = next(self._serial)
        sha = hashlib.sha256(f"{feed}-{serial}".encode()).hexdigest()
        self.insert(
            "ledger.files",
            {
                "file_sha256": sha,
                "file_name": f"{feed}-{serial}",
                "source_path": f"inbox/{feed}/{feed}-{serial}",
                "feed": feed,
                "size_bytes": 1,
                "received_at": received_at or datetime(2024, 1, 1) + timedelta(minutes=serial),
                "status": "loaded",
            },
        )
        return sha

    # ---- claims ---------------------------------------------------------------------------------
    def claim(
        self,
        claim_id: str,
        lines: Sequence[Line],
        *,
        date_of_service: date = DOS,
        payer_id: str = "P1",
        member_id: str = "M1",
        patient_key: str | None = None,
        billing_npi: str = BILLING_NPI,
        rendering_npi: str | None = RENDERING_NPI,
        place_of_service: str = "11",
        frequency_code: str = "1",
        file_sha256: str | None = None,
        original_claim_ref: str | None = None,
        claim_seq: int | None = None,
    ) -> str:
        """A claim (stg.claims + stg.claim_lines) in a new file, or in ``file_sha256`` at position
        ``claim_seq`` (give it when one file holds a CLM01 twice)."""
        sha = file_sha256 or self.file("claims")
        self.insert(
            "stg.claims",
            {
                "file_sha256": sha,
                "claim_id": claim_id,
                "billing_npi": billing_npi,
                "payer_id": payer_id,
                "member_id": member_id,
                "patient_is_subscriber": patient_key is None,
                "patient_key": patient_key or member_id,
                "total_charge": sum(Decimal(str(line.charge)) for line in lines),
                "place_of_service": place_of_service,
                "frequency_code": frequency_code,
                "rendering_npi": rendering_npi,
                "original_claim_ref": original_claim_ref,
                "claim_seq": claim_seq,
            },
        )
        for position, line in enumerate(lines, start=1):
            self.insert(
                "stg.claim_lines",
                {
                    "file_sha256": sha,
                    "claim_id": claim_id,
                    "line_number": line.line_number or position,
                    "procedure_code": line.code,
                    "modifiers": list(line.modifiers),
                    "charge": Decimal(str(line.charge)),
                    "units": Decimal(str(line.units)),
                    "place_of_service": line.place_of_service,
                    "date_of_service": line.date_of_service or date_of_service,
                    "line_control_number": line.line_control_number,
                    "rendering_npi": line.rendering_npi,
                    "claim_seq": claim_seq,
                },
            )
        self._claim_dates[claim_id] = (
            lines[0].date_of_service or date_of_service if lines else (date_of_service)
        )
        return sha

    # ---- remittances ----------------------------------------------------------------------------
    def payment(
        self, *, payment_date: date = PAID_ON, payer_id: str = "P1", total_paid: str = "0.00"
    ) -> tuple[str, str]:
        """An 835 transaction; returns (file_sha256, payment_id)."""
        sha = self.file("remittances")
        payment_id = f"{sha[:16]}:1:{next(self._serial)}"
        self.insert(
            "stg.remit_payments",
            {
                "file_sha256": sha,
                "payment_id": payment_id,
                "total_paid": Decimal(total_paid),
                "payment_date": payment_date,
                "payer_id": payer_id,
            },
        )
        return sha, payment_id

    def pay(
        self,
        claim_id: str,
        lines: Sequence[Remit] = (),
        *,
        claim_paid: str | Decimal | None = None,
        status: str = "1",
        payment_date: date = PAID_ON,
        payer_id: str = "P1",
        payment: tuple[str, str] | None = None,
        payer_claim_control: str | None = None,
    ) -> tuple[str, str]:
        """A CLP for ``claim_id`` with its SVC lines (none: a claim-level payment of claim_paid);
        ``payer_claim_control`` is its CLP07."""
        sha, payment_id = payment or self.payment(payment_date=payment_date, payer_id=payer_id)
        claim_seq = next(self._serial)
        paid = (
            Decimal(str(claim_paid))
            if claim_paid is not None
            else sum((Decimal(str(line.paid)) for line in lines), Decimal(0))
        )
        self.insert(
            "stg.remit_claims",
            {
                "file_sha256": sha,
                "payment_id": payment_id,
                "claim_seq": claim_seq,
                "claim_id": claim_id,
                "status_code": status,
                "paid_amount": paid,
                "payer_claim_control": payer_claim_control,
            },
        )
        for line_seq, line in enumerate(lines, start=1):
            self.insert(
                "stg.remit_lines",
                {
                    "file_sha256": sha,
                    "payment_id": payment_id,
                    "claim_seq": claim_seq,
                    "line_seq": line_seq,
                    "procedure_qualifier": "HC",
                    "procedure_code": line.code,
                    "modifiers": list(line.modifiers),
                    "charge": Decimal(str(line.charge)) if line.charge is not None else None,
                    "paid_amount": Decimal(str(line.paid)),
                    "units": Decimal(1),
                    "date_of_service": line.date_of_service or self._claim_dates.get(claim_id, DOS),
                    "line_control_number": line.line_control_number,
                },
            )
        return sha, payment_id

    def reverse(
        self,
        claim_id: str,
        lines: Sequence[Remit],
        *,
        payment_date: date = PAID_ON,
        payer_id: str = "P1",
        payment: tuple[str, str] | None = None,
    ) -> tuple[str, str]:
        """A reversal CLP (CLP02 = 22) negating ``lines`` (give the original, positive amounts)."""
        negated = [
            Remit(
                line.code,
                -Decimal(str(line.paid)),
                line.modifiers,
                line.date_of_service,
                line.line_control_number,
            )
            for line in lines
        ]
        return self.pay(
            claim_id,
            negated,
            status="22",
            payment_date=payment_date,
            payer_id=payer_id,
            payment=payment,
        )

    def plb(
        self,
        payment: tuple[str, str],
        reference_id: str,
        amount: str,
        reason_code: str = "WO",
    ) -> None:
        sha, payment_id = payment
        self.insert(
            "stg.remit_provider_adjustments",
            {
                "file_sha256": sha,
                "payment_id": payment_id,
                "adjustment_seq": next(self._serial),
                "provider_id": BILLING_NPI,
                "reason_code": reason_code,
                "reference_id": reference_id,
                "amount": Decimal(amount),
            },
        )

    def paid_line(
        self,
        claim_id: str,
        code: str,
        paid: str,
        *,
        payment_date: date = PAID_ON,
        line: Line | None = None,
        **claim_options: Any,
    ) -> None:
        """A one-line claim paid ``paid`` on ``payment_date``."""
        line = line or Line(code)
        self.claim(claim_id, [line], **claim_options)
        self.pay(
            claim_id,
            [Remit(code, paid, modifiers=line.modifiers)],
            payment_date=payment_date,
            payer_id=claim_options.get("payer_id", "P1"),
        )

    def bulk_paid_lines(
        self, rows: Sequence[tuple[str, str, str, date, str]], *, payer_id: str = "P1"
    ) -> None:
        """Many one-line claims, all paid in one 835: rows of
        (claim_id, code, rendering_npi, date_of_service, paid)."""
        claims_sha = self.file("claims")
        remit_sha, payment_id = self.payment(payer_id=payer_id)
        ids = [row[0] for row in rows]
        paid = [Decimal(row[4]) for row in rows]
        money_type = pa.decimal128(18, 2)
        insert_arrow(
            self.con,
            "stg.claims",
            pa.table(
                {
                    "file_sha256": [claims_sha] * len(rows),
                    "claim_id": ids,
                    "billing_npi": [BILLING_NPI] * len(rows),
                    "payer_id": [payer_id] * len(rows),
                    "member_id": [f"M-{claim_id}" for claim_id in ids],
                    "patient_key": [f"M-{claim_id}" for claim_id in ids],
                    "frequency_code": ["1"] * len(rows),
                    "rendering_npi": [row[2] for row in rows],
                }
            ),
        )
        insert_arrow(
            self.con,
            "stg.claim_lines",
            pa.table(
                {
                    "file_sha256": [claims_sha] * len(rows),
                    "claim_id": ids,
                    "line_number": [1] * len(rows),
                    "procedure_code": [row[1] for row in rows],
                    "charge": pa.array(paid, money_type),
                    "units": pa.array([Decimal(1)] * len(rows), pa.decimal128(10, 3)),
                    "date_of_service": [row[3] for row in rows],
                }
            ),
        )
        seqs = list(range(1, len(rows) + 1))
        insert_arrow(
            self.con,
            "stg.remit_claims",
            pa.table(
                {
                    "file_sha256": [remit_sha] * len(rows),
                    "payment_id": [payment_id] * len(rows),
                    "claim_seq": seqs,
                    "claim_id": ids,
                    "status_code": ["1"] * len(rows),
                    "paid_amount": pa.array(paid, money_type),
                }
            ),
        )
        insert_arrow(
            self.con,
            "stg.remit_lines",
            pa.table(
                {
                    "file_sha256": [remit_sha] * len(rows),
                    "payment_id": [payment_id] * len(rows),
                    "claim_seq": seqs,
                    "line_seq": [1] * len(rows),
                    "procedure_code": [row[1] for row in rows],
                    "paid_amount": pa.array(paid, money_type),
                    "date_of_service": [row[3] for row in rows],
                }
            ),
        )

    # ---- eligibility, sessions, reference -------------------------------------------------------
    def eligibility(
        self,
        check_date: date,
        benefits: Sequence[tuple[str, date | None, date | None]],
        *,
        member_id: str = "M1",
        payer_id: str = "P1",
        received_at: datetime | None = None,
        rejection_reason: str | None = None,
    ) -> str:
        """A 271 response with EBs given as (active|inactive|other, begin, end); returns its id."""
        sha = self.file("eligibility", received_at)
        response_id = f"{sha[:16]}:0001:{next(self._serial)}"
        self.insert(
            "stg.eligibility_responses",
            {
                "file_sha256": sha,
                "response_id": response_id,
                "check_date": check_date,
                "payer_id": payer_id,
                "member_id": member_id,
                "is_dependent": False,
                "rejection_reason": rejection_reason,
            },
        )
        for seq, (status, begin, end) in enumerate(benefits, start=1):
            self.insert(
                "stg.eligibility_benefits",
                {
                    "file_sha256": sha,
                    "response_id": response_id,
                    "benefit_seq": seq,
                    "eligibility_code": {"active": "1", "inactive": "6"}.get(status, "B"),
                    "coverage_status": status if status in ("active", "inactive") else None,
                    "coverage_begin": begin,
                    "coverage_end": end,
                },
            )
        return response_id

    def session(
        self,
        claim_id: str,
        line_number: int | None = None,
        *,
        minutes: int | None = 60,
        signed: datetime | date | None = datetime(2024, 6, 3, 18, 0),
        phq9: int | None = None,
        gad7: int | None = None,
        file_sha256: str | None = None,
    ) -> None:
        if isinstance(signed, date) and not isinstance(signed, datetime):
            signed = datetime(signed.year, signed.month, signed.day, 12, 0)
        self.insert(
            "stg.sessions",
            {
                "file_sha256": file_sha256 or self.file("sessions"),
                "claim_id": claim_id,
                "line_number": line_number,
                "minutes": minutes,
                "note_signed_at": signed,
                "phq9": phq9,
                "gad7": gad7,
            },
        )

    def fee(self, code: str, allowed: str, payer_id: str = "*") -> None:
        self.insert(
            "ref.fee_schedule",
            {
                "payer_id": payer_id,
                "code": code,
                "allowed_amount": Decimal(allowed),
                "source": "test",
            },
        )

    def payer(
        self, payer_id: str, *, lookback_months: int = 24, telehealth_required: bool = False
    ) -> None:
        self.insert(
            "ref.payers",
            {
                "payer_id": payer_id,
                "name": payer_id,
                "lookback_months": lookback_months,
                "telehealth_modifier_required": telehealth_required,
                "source": "test",
            },
        )

    # ---- run and read ---------------------------------------------------------------------------
    def build(self, as_of: date | None = None) -> None:
        build_models(self.con, as_of or self.as_of)

    def run(
        self, overrides: Mapping[str, Any] | None = None, as_of: date | None = None
    ) -> RulesResult:
        as_of = as_of or self.as_of
        build_models(self.con, as_of)
        self.result = run_rules(self.con, as_of, load_config(overrides))
        return self.result

    def findings(self, rule: str | None = None) -> list[Finding]:
        sql = "SELECT claim_id, line_number, rule, exposure, time_barred FROM mart.findings"
        params: list[Any] = []
        if rule:
            sql += " WHERE rule = ?"
            params.append(rule)
        rows = self.con.execute(sql + " ORDER BY rule, claim_id, line_number", params).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()


def new_kit(as_of: date = AS_OF) -> Kit:
    con = duckdb.connect(":memory:")
    migrate(con)
    return Kit(con, as_of)


def finding(
    claim_id: str, rule: str, exposure: str, *, line: int = 1, barred: bool = False
) -> Finding:
    return (claim_id, line, rule, money(exposure), barred)
