"""The simulated truth as compact, picklable records (one per X12 loop or CSV row).

The generator writes these to bucket files and the X12/CSV writers render them; the answer key
evaluates the same records, so what is written is exactly what is judged.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

ACTIVE, INACTIVE = "1", "6"


class Patient(NamedTuple):
    """The subscriber (always the patient in this demo)."""

    last: str
    first: str
    birth_date: date
    sex: str


class ClaimLine(NamedTuple):
    """One 2400 service line."""

    line_number: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: int  # cents, for all units
    place_of_service: str
    date_of_service: date
    line_control: str | None  # REF*6R
    rendering_on_line: bool  # render 2420A instead of relying on 2310B


class Claim(NamedTuple):
    """One 2300 claim as submitted."""

    claim_id: str
    billing_npi: str
    rendering_npi: str
    payer_id: str
    member_id: str
    patient: Patient
    submitted: date
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[ClaimLine, ...]

    @property
    def claim_key(self) -> str:
        """CLM01 + '~' + first date of service: tells apart claims that reuse one CLM01."""
        return f"{self.claim_id}~{min(ln.date_of_service for ln in self.lines).isoformat()}"


class Adjustment(NamedTuple):
    """A CAS triple."""

    group: str
    reason: str
    amount: int  # cents, signed


class RemitLine(NamedTuple):
    """One 835 SVC loop."""

    code: str
    modifiers: tuple[str, ...]
    units: int
    date_of_service: date
    line_control: str | None
    charge: int
    paid: int
    adjustments: tuple[Adjustment, ...]


class RemitClaim(NamedTuple):
    """One 835 CLP loop: an original payment, a denial, a reversal (22) or a correction."""

    claim_id: str
    status: str
    payer_id: str
    payee_npi: str
    pay_date: date
    member_id: str
    patient: Patient
    rendering_npi: str
    payer_control: str
    place_of_service: str
    lines: tuple[RemitLine, ...]


class ProviderAdjustment(NamedTuple):
    """A PLB amount (positive takes money back)."""

    payer_id: str
    payee_npi: str
    pay_date: date
    reason: str
    reference: str
    amount: int


class Response(NamedTuple):
    """One 271 subscriber answer with its single coverage statement (EB 1 or 6)."""

    payer_id: str
    check_date: date
    billing_npi: str
    member_id: str
    patient: Patient
    status: str  # ACTIVE | INACTIVE
    begin: date | None
    end: date | None


class SessionRow(NamedTuple):
    """One row of the EHR sessions feed."""

    billing_npi: str
    claim_id: str
    line_number: int | None
    minutes: int | None
    signed_at: datetime | None
    phq9: int | None
    gad7: int | None
    date_of_service: date


class ClientTruth(NamedTuple):
    """Everything one client produced, plus the findings planted on purpose."""

    claims: list[Claim]
    remits: list[RemitClaim]
    provider_adjustments: list[ProviderAdjustment]
    responses: list[Response]
    sessions: list[SessionRow]
    planted: set[tuple[str, int, str]]
