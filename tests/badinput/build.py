"""Small feed files for the bad-input corpus and the fuzz tests, written here from parameters.

X12 interchanges are built segment by segment with their envelope counted right (ISA13 = IEA02,
GS06 = GE02, ST02 = SE02, SE01 = the segments of the set), so a case breaks exactly the one thing
it is about. The claims, members and payments are made up: new claim ids (``BAD...``) that the
clean demo inbox never uses, so a file that loads adds only its own rows, and one that is
rejected leaves the warehouse as the clean run made it. Providers and payers are the demo's
(NPI 1833915527 bills, 1011602392 renders, payer ACMEH), so nothing new appears in the reports
by provider or payer.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

BILLING_NPI = "1833915527"
RENDERING_NPI = "1011602392"
PAYER = "ACMEH"


def isa(control: int, *, sender: str = "DEMOPRACTICE", receiver: str = "DEMOCLEARING") -> str:
    """An ISA segment (fixed width: 106 characters with its terminator)."""
    return (
        f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*251215*1800*^*00501*"
        f"{control:09d}*0*P*:"
    )


def envelope(
    sets: Sequence[Sequence[str]],
    *,
    kind: str,
    version: str,
    control: int = 900001,
    sep: str = "~\n",
) -> bytes:
    """One interchange, one group, a transaction set per item of ``sets`` (segments between ST
    and SE). ``kind`` is the ST01 (837, 271, 835); the group's GS01 follows from it."""
    gs01 = {"837": "HC", "271": "HB", "835": "HP"}[kind]
    gs = f"GS*{gs01}*DEMOPRACTICE*DEMOCLEARING*20251215*1800*{control}*X*{version}"
    segments = [isa(control), gs]
    for number, body in enumerate(sets, start=1):
        st = f"ST*{kind}*{number:04d}" + (f"*{version}" if kind != "835" else "")
        segments += [st, *body, f"SE*{len(body) + 2}*{number:04d}"]
    segments += [f"GE*{len(sets)}*{control}", f"IEA*1*{control:09d}"]
    return (sep.join(segments) + sep).encode()


@dataclass
class Line:
    code: str = "90834"
    charge: str = "150.00"
    units: str = "1"
    dos: str = "20251202"  # DTP*472 D8 (text: a case may make it impossible)
    extra: list[str] = field(default_factory=list)  # segments after DTP*472


@dataclass
class Claim:
    claim_id: str
    member_id: str
    lines: list[Line] = field(default_factory=lambda: [Line()])
    total: str | None = None  # CLM02; default: the sum of the line charges
    frequency: str = "1"


def claim_segments(claims: Sequence[Claim], submitted: date = date(2025, 12, 15)) -> list[str]:
    """The segments of an 837P transaction set (BHT to the last line), one subscriber per claim."""
    out = [
        f"BHT*0019*00*BADBATCH1*{submitted:%Y%m%d}*1800*CH",
        "NM1*41*2*NORTHPOINT BEHAVIORAL HEALTH*****46*DEMOPRACTICE",
        "PER*IC*BILLING OFFICE*TE*6085550100",
        "NM1*40*2*DEMO CLEARINGHOUSE*****46*DEMOCLEARING",
        "HL*1**20*1",
        f"NM1*85*2*NORTHPOINT BEHAVIORAL HEALTH*****XX*{BILLING_NPI}",
        "N3*88 NORTH AVE",
        "N4*COLUMBUS*OH*432151111",
        "REF*EI*462345678",
    ]
    for number, claim in enumerate(claims, start=2):
        total = claim.total
        if total is None:
            total = f"{sum(Decimal(line.charge) for line in claim.lines):.2f}"
        out += [
            f"HL*{number}*1*22*0",
            "SBR*P*18*******CI",
            f"NM1*IL*1*DOE*SAM****MI*{claim.member_id}",
            "N3*1 TEST ST",
            "N4*COLUMBUS*OH*43215",
            "DMG*D8*19700101*F",
            f"NM1*PR*2*ACME HEALTH INSURANCE*****PI*{PAYER}",
            f"CLM*{claim.claim_id}*{total}***11:B:{claim.frequency}*Y*A*Y*Y",
            "HI*ABK:F411",
            f"NM1*82*1*COSTA*MIGUEL****XX*{RENDERING_NPI}",
            "PRV*PE*PXC*363LP0808X",
        ]
        for index, line in enumerate(claim.lines, start=1):
            out += [
                f"LX*{index}",
                f"SV1*HC:{line.code}*{line.charge}*UN*{line.units}***1",
                f"DTP*472*D8*{line.dos}",
                *line.extra,
            ]
    return out


def x837(claims: Sequence[Claim], *, control: int = 900001, sep: str = "~\n") -> bytes:
    return envelope(
        [claim_segments(claims)], kind="837", version="005010X222A1", control=control, sep=sep
    )


def subscriber_segments(
    member_id: str, number: int, *, begin: str = "20250101", end: str = "20251231", eb01: str = "1"
) -> list[str]:
    return [
        f"HL*{number}*2*22*0",
        f"TRN*2*{member_id}-20251215*9462345678",
        f"NM1*IL*1*DOE*SAM****MI*{member_id}",
        "DMG*D8*19700101*F",
        f"EB*{eb01}*IND*30^MH",
        f"DTP*291*RD8*{begin}-{end}",
    ]


def x271(
    members: Sequence[str],
    *,
    control: int = 900101,
    check: str = "20251215",
    sep: str = "~\n",
    spans: Sequence[tuple[date, date, str]] | None = None,
) -> bytes:
    """A 271 of ``members`` (coverage 2025, active, unless ``spans`` gives each one's begin, end
    and EB01)."""
    body = [
        f"BHT*0022*11*BADINQ1*{check}*0700",
        "HL*1**20*1",
        f"NM1*PR*2*ACME HEALTH INSURANCE*****PI*{PAYER}",
        "HL*2*1*21*1",
        f"NM1*1P*2*NORTHPOINT BEHAVIORAL HEALTH*****XX*{BILLING_NPI}",
    ]
    for number, member in enumerate(members, start=3):
        if spans is None:
            body += subscriber_segments(member, number)
        else:
            begin, end, eb01 = spans[number - 3]
            body += subscriber_segments(
                member, number, begin=f"{begin:%Y%m%d}", end=f"{end:%Y%m%d}", eb01=eb01
            )
    return envelope([body], kind="271", version="005010X279A1", control=control, sep=sep)


@dataclass
class Payment:
    """One 835 CLP with one SVC (paid ``paid`` of ``charge``)."""

    claim_id: str
    paid: str = "90.00"
    charge: str = "150.00"
    code: str = "90834"
    status: str = "1"


def remittance_segments(
    payments: Sequence[Payment], *, total: str | None = None, trace: str = "BADTRACE1"
) -> list[str]:
    if total is None:
        total = f"{sum(Decimal(p.paid) for p in payments):.2f}"
    out = [
        f"BPR*I*{total}*C*ACH*CCP*01*071000013*DA*9912345678*1462345678**01*075000022*DA*"
        "5566778899*20251220",
        f"TRN*1*{trace}*1462345678",
        "DTM*405*20251220",
        f"N1*PR*ACME HEALTH INSURANCE*XV*{PAYER}",
        f"N1*PE*NORTHPOINT BEHAVIORAL HEALTH*XX*{BILLING_NPI}",
        "LX*1",
    ]
    for p in payments:
        adjustment = Decimal(p.charge) - Decimal(p.paid)
        out += [
            f"CLP*{p.claim_id}*{p.status}*{p.charge}*{p.paid}**12*PAYER{p.claim_id}*11*1",
            f"SVC*HC:{p.code}*{p.charge}*{p.paid}",
            "DTM*472*20251202",
            f"CAS*CO*45*{adjustment:.2f}",
        ]
    return out


def x835(
    payments: Sequence[Payment],
    *,
    control: int = 900201,
    total: str | None = None,
    sep: str = "~\n",
) -> bytes:
    return envelope(
        [remittance_segments(payments, total=total)],
        kind="835",
        version="005010X221A1",
        control=control,
        sep=sep,
    )


def csv(header: str, *rows: str) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


SESSIONS_HEADER = "claim_id,line_number,minutes,note_signed_at,phq9,gad7"
CLAIMS_HEADER = (
    "claim_id,line_number,member_id,payer_id,billing_npi,rendering_npi,date_of_service,"
    "procedure_code,modifiers,units,charge,place_of_service"
)
ELIGIBILITY_HEADER = "member_id,payer_id,check_date,status,coverage_begin,coverage_end"
REMITTANCES_HEADER = (
    "trace_number,payment_date,payer_id,claim_id,claim_status,procedure_code,date_of_service,"
    "paid_amount"
)


def claims_row(charge: str = "150.00", dos: str = "2025-12-02", modifiers: str = "") -> str:
    """One claims CSV row (claim BADCSV1, line 1) in the order of ``CLAIMS_HEADER``."""
    return (
        f"BADCSV1,1,BADMEMBER9,{PAYER},{BILLING_NPI},{RENDERING_NPI},{dos},90834,{modifiers},1,"
        f"{charge},11"
    )


def parquet(columns: dict[str, list[object]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def xlsx() -> bytes:
    """A minimal spreadsheet container (a ZIP with the OOXML parts' names), as a .xlsx renamed
    .csv starts: ``PK\\x03\\x04``."""
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
    return sink.getvalue()
