"""Render the simulated truth as X12 5010: 837P (X222A1), 271 (X279A1) and 835 (X221A1).

Writers return segment lists; ``interchange`` wraps transactions in ISA/GS/GE/IEA envelopes.
Delimiters: ``*`` elements, ``:`` components, ``^`` repetitions, ``~`` segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from demo import practice as pr
from demo.records import ACTIVE, Claim, ProviderAdjustment, RemitClaim, Response
from warehouse.money import amount_text

SUBMITTER = "DEMOPRACTICE"
CLEARINGHOUSE = "DEMOCLEARING"


def d8(day: date) -> str:
    """CCYYMMDD."""
    return day.strftime("%Y%m%d")


def seg(*elements: object) -> str:
    """Join elements, dropping trailing empty ones."""
    parts = ["" if e is None else str(e) for e in elements]
    while parts and parts[-1] == "":
        parts.pop()
    return "*".join(parts)


def interchange(
    transactions: Sequence[list[str]],
    *,
    functional_id: str,
    version: str,
    control: int,
    sender: str,
    receiver: str,
    stamp: datetime,
) -> list[str]:
    """ISA/GS ... GE/IEA around already numbered transactions (each ST..SE)."""
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*"
        f"{stamp:%y%m%d}*{stamp:%H%M}*^*00501*{control:09d}*0*P*:"
    )
    gs = seg(
        "GS", functional_id, sender, receiver, d8(stamp), f"{stamp:%H%M}", control, "X", version
    )
    body = [isa, gs]
    for transaction in transactions:
        body.extend(transaction)
    body += [seg("GE", len(transactions), control), seg("IEA", 1, f"{control:09d}")]
    return body


def _close(segments: list[str], st: str) -> list[str]:
    segments.append(seg("SE", len(segments) + 1, st))
    return segments


def _name(kind: str, entity: str, last: str, first: str, qualifier: str, ident: str) -> str:
    return seg("NM1", kind, entity, last, first, "", "", "", qualifier, ident)


def claim_transaction(claims: Sequence[Claim], st: int, submitted: date) -> list[str]:
    """One 837P transaction for claims of one billing provider."""
    group = pr.GROUP_BY_NPI[claims[0].billing_npi]
    street, city, state, zip9 = group.city
    control = f"{st:04d}"
    out = [
        seg("ST", "837", control, "005010X222A1"),
        seg("BHT", "0019", "00", f"{group.tax_id}{d8(submitted)}{st}", d8(submitted), "1800", "CH"),
        seg("NM1", "41", "2", group.name, "", "", "", "", "46", SUBMITTER),
        seg("PER", "IC", "BILLING OFFICE", "TE", "6085550100"),
        seg("NM1", "40", "2", "DEMO CLEARINGHOUSE", "", "", "", "", "46", CLEARINGHOUSE),
        seg("HL", 1, "", "20", 1),
        seg("NM1", "85", "2", group.name, "", "", "", "", "XX", group.npi),
        seg("N3", street),
        seg("N4", city, state, zip9),
        seg("REF", "EI", group.tax_id),
    ]
    providers = {p.npi: p for p in pr.PROVIDERS}
    for hl, claim in enumerate(claims, start=2):
        payer = pr.PAYER_BY_ID[claim.payer_id]
        patient, rendering = claim.patient, providers[claim.rendering_npi]
        out += [
            seg("HL", hl, 1, "22", 0),
            seg("SBR", "P", "18", "", "", "", "", "", "", payer.filing_indicator),
            _name("IL", "1", patient.last, patient.first, "MI", claim.member_id),
            seg("N3", f"{10 + int(claim.member_id[-3:])} ELM ST"),
            seg("N4", city, state, zip9[:5]),
            seg("DMG", "D8", d8(patient.birth_date), patient.sex),
            seg("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.payer_id),
            seg(
                "CLM",
                claim.claim_id,
                amount_text(sum(ln.charge for ln in claim.lines)),
                "",
                "",
                f"{claim.place_of_service}:B:1",
                "Y",
                "A",
                "Y",
                "Y",
            ),
            seg(
                "HI",
                *(f"{'ABK' if i == 0 else 'ABF'}:{dx}" for i, dx in enumerate(claim.diagnoses)),
            ),
        ]
        render = [
            _name("82", "1", rendering.last, rendering.first, "XX", rendering.npi),
            seg("PRV", "PE", "PXC", rendering.taxonomy),
        ]
        on_line = claim.lines[0].rendering_on_line
        if not on_line:
            out += render
        for ln in claim.lines:
            procedure = ":".join(("HC", ln.code, *ln.modifiers))
            pos = ln.place_of_service if ln.line_number % 2 == 0 or ln.modifiers else ""
            out += [
                seg("LX", ln.line_number),
                seg("SV1", procedure, amount_text(ln.charge), "UN", ln.units, pos, "", "1"),
                seg("DTP", "472", "D8", d8(ln.date_of_service)),
            ]
            if ln.line_control:
                out.append(seg("REF", "6R", ln.line_control))
            if on_line:
                out += render
    return _close(out, control)


def _coverage_segments(r: Response) -> tuple[list[str], list[str], list[str]]:
    """(2100C DTPs, EB segment(s), 2110C DTPs) in the payer's own style."""
    sub: list[str] = []
    after: list[str] = []
    active = r.status == ACTIVE
    eb = [seg("EB", r.status, "IND", "30^MH")]
    if r.payer_id in ("MCRDM", "KEYMU"):
        begin_q, end_q = ("346", "347") if r.payer_id == "MCRDM" else ("356", "357")
        if r.begin:
            sub.append(seg("DTP", begin_q, "D8", d8(r.begin)))
        if r.end:
            sub.append(seg("DTP", end_q, "D8", d8(r.end)))
    elif r.payer_id == "BSTAR":
        if r.begin and active:
            after.append(seg("DTP", "356", "D8", d8(r.begin)))
        if r.end:
            after.append(seg("DTP", "357", "D8", d8(r.end)))
    elif r.begin and r.end:
        after.append(seg("DTP", "291", "RD8", f"{d8(r.begin)}-{d8(r.end)}"))
    elif r.end:
        after.append(seg("DTP", "291", "D8", d8(r.end)))
    if r.payer_id == "BSTAR" and active:
        after.append(seg("EB", "B", "", "MH", "PR", "GOLD PPO", "27", "25.00"))
    return sub, eb, after


def eligibility_transaction(responses: Sequence[Response], st: int) -> list[str]:
    """One 271 transaction: answers of one payer on one check date (BHT04), by receiver."""
    payer = pr.PAYER_BY_ID[responses[0].payer_id]
    check = responses[0].check_date
    control = f"{st:04d}"
    out = [
        seg("ST", "271", control, "005010X279A1"),
        seg("BHT", "0022", "11", f"{payer.payer_id}{d8(check)}{st}", d8(check), "0700"),
        seg("HL", 1, "", "20", 1),
        seg("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.payer_id),
    ]
    hl = 1
    for npi in sorted({r.billing_npi for r in responses}):
        hl += 1
        receiver = hl
        group = pr.GROUP_BY_NPI[npi]
        out += [
            seg("HL", hl, 1, "21", 1),
            seg("NM1", "1P", "2", group.name, "", "", "", "", "XX", npi),
        ]
        for r in (r for r in responses if r.billing_npi == npi):
            hl += 1
            sub, eb, after = _coverage_segments(r)
            out += [
                seg("HL", hl, receiver, "22", 0),
                seg("TRN", "2", f"{r.member_id}-{d8(check)}", "9" + group.tax_id),
                _name("IL", "1", r.patient.last, r.patient.first, "MI", r.member_id),
                seg("DMG", "D8", d8(r.patient.birth_date), r.patient.sex),
                *sub,
                *eb,
                *after,
            ]
    return _close(out, control)


def remittance_transaction(
    events: Sequence[RemitClaim],
    adjustments: Sequence[ProviderAdjustment],
    st: int,
    payer_id: str,
    payee_npi: str,
    pay_date: date,
    total: int,
) -> list[str]:
    """One 835 transaction for one payee: BPR02 = ``total`` = sum CLP04 - sum PLB."""
    payer = pr.PAYER_BY_ID[payer_id]
    group = pr.GROUP_BY_NPI[payee_npi]
    control = f"{st:04d}"
    trace = f"{payer_id}{d8(pay_date)}{st:04d}"
    if total > 0:
        bpr = seg(
            "BPR",
            "I",
            amount_text(total),
            "C",
            "ACH",
            "CCP",
            "01",
            "071000013",
            "DA",
            "9912345678",
            "1" + group.tax_id,
            "",
            "01",
            "075000022",
            "DA",
            "5566778899",
            d8(pay_date),
        )
    else:
        bpr = seg("BPR", "H", amount_text(0), "C", "NON", *[""] * 11, d8(pay_date))
    out = [
        seg("ST", "835", control),
        bpr,
        seg("TRN", "1", trace, "1" + group.tax_id),
        seg("DTM", "405", d8(pay_date)),
        seg("N1", "PR", payer.name, "XV", payer.payer_id),
        seg("N3", "PO BOX 4400"),
        seg("N4", "HARRISBURG", "PA", "17101"),
        seg("PER", "BL", "PROVIDER SERVICES", "TE", "8005550199"),
        seg("N1", "PE", group.name, "XX", group.npi),
        seg("REF", "TJ", group.tax_id),
    ]
    if events:
        out.append(seg("LX", 1))
    providers = {p.npi: p for p in pr.PROVIDERS}
    for ev in events:
        charge = sum(ln.charge for ln in ev.lines)
        paid = sum(ln.paid for ln in ev.lines)
        patient_share = sum(a.amount for ln in ev.lines for a in ln.adjustments if a.group == "PR")
        rendering = providers[ev.rendering_npi]
        out += [
            seg(
                "CLP",
                ev.claim_id,
                ev.status,
                amount_text(charge),
                amount_text(paid),
                amount_text(patient_share),
                "MB" if payer.filing_indicator == "MB" else "12",
                ev.payer_control,
                ev.place_of_service,
                "1",
            ),
            _name("QC", "1", ev.patient.last, ev.patient.first, "MI", ev.member_id),
            _name("82", "1", rendering.last, rendering.first, "XX", rendering.npi),
        ]
        for ln in ev.lines:
            procedure = ":".join(("HC", ln.code, *ln.modifiers))
            units = "" if ln.units == 1 else ln.units
            out += [
                seg("SVC", procedure, amount_text(ln.charge), amount_text(ln.paid), "", units),
                seg("DTM", "472", d8(ln.date_of_service)),
            ]
            out += [seg("CAS", a.group, a.reason, amount_text(a.amount)) for a in ln.adjustments]
            if ln.line_control:
                out.append(seg("REF", "6R", ln.line_control))
    for start in range(0, len(adjustments), 6):
        pairs: list[str] = []
        for adj in adjustments[start : start + 6]:
            pairs += [f"{adj.reason}:{adj.reference}", amount_text(adj.amount)]
        out.append(seg("PLB", payee_npi, f"{pay_date.year}1231", *pairs))
    return _close(out, control)
