"""837P (005010X222A1/A2) reader: a ``stg.claims`` row per CLM, a ``stg.claim_lines`` row per LX.

Loops are told apart by position: 2000A billing provider (HL 20: NM1*85, REF*EI), 2000B subscriber
(HL 22: SBR, NM1*IL, NM1*PR), 2000C patient (HL 23: NM1*QC, DMG), 2300 claim (CLM, DTP, REF*F8,
REF*G1, HI), 2310B rendering (NM1*82 before any 2320 SBR), 2320/2330 other payers (ignored),
2400 line (LX, SV1, DTP*472, REF*6R) and 2420A line rendering (NM1*82 after LX).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pyarrow as pa

from loading.x12.errors import Problem
from loading.x12.tables import DATE, MONEY, QTY, STR, STRS, build
from loading.x12.tokenizer import (
    PRIVATE,
    Transaction,
    bht_date,
    check_se,
    check_tag,
    each_segment,
)
from loading.x12.values import Amounts, BadValue, Dates, Quantities

SCHEMAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "stg.claims": [
        ("claim_id", STR), ("interchange_control", STR), ("transaction_control", STR),
        ("submitted_date", DATE), ("billing_npi", STR), ("billing_tax_id", STR),
        ("payer_id", STR), ("payer_name", STR), ("member_id", STR),
        ("patient_is_subscriber", pa.bool_()), ("patient_key", STR), ("total_charge", MONEY),
        ("place_of_service", STR), ("frequency_code", STR), ("original_claim_ref", STR),
        ("prior_auth", STR), ("rendering_npi", STR), ("diagnosis_codes", STRS),
        ("claim_seq", pa.int32()),  # order of the CLM in the file (a CLM01 may repeat)
        ("billing_provider_name", STR), ("rendering_provider_name", STR),  # NM1*85 / NM1*82
    ],
    "stg.claim_lines": [
        ("claim_id", STR), ("line_number", pa.int32()), ("procedure_code", STR),
        ("modifiers", STRS), ("charge", MONEY), ("units", QTY), ("place_of_service", STR),
        ("date_of_service", DATE), ("date_of_service_end", DATE),
        ("line_control_number", STR), ("rendering_npi", STR), ("claim_seq", pa.int32()),
        ("rendering_provider_name", STR),
    ],
}  # fmt: skip

DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})  # ICD-10 and ICD-9 principal/other

# where in the hierarchy the reader is
HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM, CLAIM_NM1, OTHER_PAYER, LINE, LINE_NM1 = range(9)


def provider_name(e: list[str]) -> str | None:
    """A provider's name from its NM1 (NM1*85, NM1*82 only: never a member's): NM103 for an
    organisation (NM102 = 2), ``LAST, FIRST`` for a person; None when NM103 is empty."""
    last = e[3].strip() if len(e) > 3 else ""
    first = e[4].strip() if len(e) > 4 else ""
    if not last:
        return None
    return f"{last}, {first}" if first and (len(e) < 3 or e[2] != "2") else last


def patient_key(member_id: str, last: str, first: str, birth_date: str) -> str:
    """The key of a 2000C dependent patient: member id + '~' + the first 12 hex digits of the
    SHA-256 of 'LAST|FIRST|CCYYMMDD' (names upper-cased and trimmed; no name is stored)."""
    text = f"{last.strip().upper()}|{first.strip().upper()}|{birth_date.strip()}"
    return f"{member_id}~{hashlib.sha256(text.encode()).hexdigest()[:12]}"


class Claims837Reader:
    """Reads 837P transactions into ``stg.claims`` and ``stg.claim_lines``."""

    def __init__(self, file_sha256: str) -> None:
        self.file_sha256 = file_sha256
        self.cols: dict[str, dict[str, list[object]]] = {
            table: {name: [] for name, _ in schema} for table, schema in SCHEMAS.items()
        }
        self.amounts, self.quantities, self.dates = Amounts(), Quantities(), Dates()
        self.claim_seq = 0  # CLMs read so far in this file (a CLM01 may repeat: see claim_seq)
        self.claim_at: list[int] = []  # segment index of each CLM, by claim_seq - 1
        self.tags: set[str] = set()
        # claims rejected on their own (the rest of the file loads): one dict per claim with
        # level, interchange_control, transaction_control, part (CLM01), index, reason
        self.rejected: list[dict[str, Any]] = []

    def tables(self) -> dict[str, pa.Table]:
        """``stg.claims`` and ``stg.claim_lines`` (possibly empty), each with ``file_sha256``."""
        return {t: build(self.cols[t], SCHEMAS[t], self.file_sha256) for t in SCHEMAS}

    def transaction(self, segs: list[str], tx: Transaction) -> int:
        """Read one 837P (ST at ``tx.st_index``); returns the index of its SE.

        A defect inside one claim (a bad or missing required element of its CLM, DTP, HI, LX or
        SV1, a date of service after BHT04, a line without SV1 or date of service) rejects that
        claim only: it goes to ``self.rejected`` and nothing of it is staged. Raises Problem for
        a missing BHT/BHT04, a broken hierarchy outside a claim, or an unclosed transaction.
        A repeated CLM01 is not a defect (practices reuse patient control numbers): each CLM gets
        its own ``claim_seq``, its order in the file.
        """
        st = tx.st_index
        submitted = bht_date(segs, tx, self.dates, "837P", "creation date")
        s = _State(tx, submitted)
        j = each_segment(segs, tx, st + 2, lambda e, j: self._guarded(s, e, j))
        self._guarded_close(s, j)
        check_se(segs, tx, j)
        if not s.claims and not s.rejected:
            raise Problem(st, f"transaction {tx.control} holds no claim (CLM)")
        return j

    def _guarded(self, s: _State, e: list[str], j: int) -> None:
        """``_segment``, but a defect inside a claim rejects that claim only and the segments up
        to the next HL or CLM are skipped. The syntax (every segment id; no envelope segment
        inside the transaction) is checked on every segment and rejects the file."""
        tag = e[0]
        if tag not in self.tags:  # the syntax is the file's, inside a claim or skipped too
            check_tag(tag, j, self.tags)
        if tag in ("HL", "CLM"):
            s.skipping = False
            self._guarded_close(s, j)
        elif s.skipping:
            return
        try:
            self._segment(s, e, j)
        except (Problem, BadValue, IndexError) as exc:
            if s.claim is None and tag != "CLM":
                raise
            if isinstance(exc, Problem):
                index, reason = (j if exc.index is None else exc.index), exc.problem
            elif isinstance(exc, BadValue):
                index, reason = j, exc.describe(e, quote=tag not in PRIVATE)
            else:
                index, reason = j, f"{tag} has too few elements"
            claim_id = s.claim["claim_id"] if s.claim is not None else (e[1] if len(e) > 1 else "")
            self._reject(s, claim_id, index, reason)
            s.skipping = True

    def _guarded_close(self, s: _State, j: int) -> None:
        """Close the open claim; a defect found on closing rejects that claim only."""
        if s.claim is None:
            return
        claim_id = s.claim["claim_id"]
        try:
            self._close_claim(s)
        except Problem as exc:
            self._reject(s, claim_id, j if exc.index is None else exc.index, exc.problem)

    def _reject(self, s: _State, claim_id: str, index: int, reason: str) -> None:
        """Drop everything staged of the open claim and record why."""
        for values in self.cols["stg.claim_lines"].values():
            del values[s.claim_mark :]
        s.claim = s.line = None
        s.rejected += 1
        self.rejected.append(
            {
                "level": "claim", "interchange_control": s.tx.interchange_control,
                "transaction_control": s.tx.control, "part": claim_id, "index": index,
                "reason": reason,
            }
        )  # fmt: skip

    def _segment(self, s: _State, e: list[str], j: int) -> None:
        tag, comp = e[0], s.tx.delimiters.component
        where = s.where
        n = len(e)
        if tag == "HL":
            self._close_claim(s)
            self._hl(s, e, j)
        elif tag == "NM1":
            q, ident = e[1], (e[9] if n > 9 else "")
            npi = ident if n > 9 and e[8] == "XX" and ident else None
            if where == BILLING and q == "85":
                s.billing_npi, s.billing_name = npi, provider_name(e)
            elif where == SUBSCRIBER and q == "IL":
                if not ident:
                    raise Problem(j, "NM1*IL (subscriber, 2010BA) has no member id in NM109")
                s.member_id = ident
            elif where == SUBSCRIBER and q == "PR":
                if not ident:
                    raise Problem(j, "NM1*PR (payer, 2010BB) has no payer id in NM109")
                s.payer_id, s.payer_name = ident, (e[3] or None)
            elif where == PATIENT and q == "QC":
                s.patient_name = (e[3] if n > 3 else "", e[4] if n > 4 else "")
            elif where in (CLAIM, CLAIM_NM1):
                if q == "82":
                    s.claim["rendering_npi"] = npi
                    s.claim["rendering_provider_name"] = provider_name(e)
                s.where = CLAIM_NM1
            elif where in (LINE, LINE_NM1):
                if q == "82":
                    s.line["rendering_npi"] = npi
                    s.line["rendering_provider_name"] = provider_name(e)
                s.where = LINE_NM1
        elif tag == "REF":
            q, value = e[1], (e[2] or None)
            if where == BILLING and q == "EI" and s.billing_tax_id is None:
                s.billing_tax_id = value
            elif where == CLAIM and q in ("F8", "G1"):
                s.claim["original_claim_ref" if q == "F8" else "prior_auth"] = value
            elif where == LINE and q == "6R":
                s.line["line_control_number"] = value
        elif tag == "DTP":
            begin, end = self.dates.period(e[2], e[3])
            if e[1] == "472":
                if begin is not None and begin > s.submitted:
                    raise Problem(
                        j,
                        f"date of service {begin} is after the file's creation date (BHT04) "
                        f"{s.submitted}",
                    )
                if where in (CLAIM, CLAIM_NM1):
                    s.claim["dos"] = (begin, end)
                elif where in (LINE, LINE_NM1):
                    s.line["dos"] = (begin, end)
        elif tag == "DMG":
            if n > 2 and e[2]:
                begin, _ = self.dates.period(e[1], e[2])
                if where == PATIENT:
                    s.birth_date = e[2]
        elif tag == "CLM":
            self._clm(s, e, j, comp)
        elif tag == "HI":
            if where in (CLAIM, CLAIM_NM1):
                self._hi(s, e, j, comp)
        elif tag == "LX":
            self._lx(s, e, j)
        elif tag == "SV1":
            self._sv1(s, e, j, comp)
        elif tag == "AMT":
            self.amounts[e[2]]  # validated, not stored
        elif tag == "SBR":
            if where == SUBSCRIBER:
                s.sbr02 = e[2] if n > 2 else ""
            elif where in (CLAIM, CLAIM_NM1, OTHER_PAYER):
                s.where = OTHER_PAYER
        elif tag not in self.tags:
            check_tag(tag, j, self.tags)

    def _hl(self, s: _State, e: list[str], j: int) -> None:
        level = e[3] if len(e) > 3 else ""
        if level == "20":
            s.billing_npi = s.billing_tax_id = s.billing_name = None
            s.where, s.has_billing = BILLING, True
        elif level == "22":
            if not s.has_billing:
                raise Problem(j, "subscriber HL (22) before any billing provider HL (20)")
            s.member_id = s.payer_id = s.payer_name = None
            s.where, s.sbr02, s.dependent = SUBSCRIBER, "", False
        elif level == "23":
            if s.where == BILLING or not s.has_billing or s.member_id is None:
                raise Problem(j, "patient HL (23) outside a subscriber HL (22)")
            s.where, s.dependent = PATIENT, True
            s.patient_name, s.birth_date = None, ""
        else:
            raise Problem(j, f"HL03 '{level}' is not 20, 22 or 23 (837P hierarchy)")

    def _clm(self, s: _State, e: list[str], j: int, comp: str) -> None:
        self._close_claim(s)
        self.claim_seq += 1  # counts rejected claims too: a claim's seq is its place in the file
        self.claim_at.append(j)  # where claim ``claim_seq`` begins, to name it later
        s.claim_mark = len(self.cols["stg.claim_lines"]["claim_id"])
        if s.where in (HEADER, BILLING):
            raise Problem(j, "CLM outside a subscriber or patient loop")
        if s.member_id is None:
            raise Problem(j, "the claim has no subscriber NM1*IL (2010BA) member id")
        if s.payer_id is None:
            raise Problem(j, "the claim has no payer NM1*PR (2010BB)")
        if len(e) < 3 or not e[1] or not e[2]:
            raise Problem(j, "CLM needs CLM01 (claim id) and CLM02 (total charge)")
        claim_id = e[1]
        if self.amounts[e[2]] < 0:
            raise Problem(j, f"CLM02 '{e[2]}' is negative: a claim's total charge cannot be")
        pos = freq = None
        if len(e) > 5 and e[5]:
            parts = e[5].split(comp)
            pos, freq = parts[0] or None, (parts[2] if len(parts) > 2 else "") or None
            if (pos and not (len(pos) == 2 and pos.isascii() and pos.isdigit())) or (
                freq and not (len(freq) == 1 and freq.isascii() and freq.isdigit())
            ):
                raise Problem(
                    j,
                    f"CLM05 '{e[5]}' is not place of service{comp}qualifier{comp}frequency "
                    f"(components are separated by '{comp}', ISA16)",
                )
        if s.dependent:
            if s.patient_name is None:
                raise Problem(j, "the patient loop (HL 23) has no NM1*QC before the claim")
            key = patient_key(s.member_id, *s.patient_name, s.birth_date)
        else:
            key = s.member_id
        s.claim = {
            "claim_id": claim_id, "claim_seq": self.claim_seq,
            "interchange_control": s.tx.interchange_control,
            "transaction_control": s.tx.control, "submitted_date": s.submitted,
            "billing_npi": s.billing_npi, "billing_tax_id": s.billing_tax_id,
            "payer_id": s.payer_id, "payer_name": s.payer_name, "member_id": s.member_id,
            "patient_is_subscriber": not s.dependent, "patient_key": key,
            "total_charge": self.amounts[e[2]], "place_of_service": pos, "frequency_code": freq,
            "original_claim_ref": None, "prior_auth": None, "rendering_npi": None,
            "diagnosis_codes": [], "dos": None, "index": j, "lines": 0,
            "billing_provider_name": s.billing_name, "rendering_provider_name": None,
        }  # fmt: skip
        s.where = CLAIM
        s.claims += 1

    def _hi(self, s: _State, e: list[str], j: int, comp: str) -> None:
        for pos in range(1, min(len(e), 13)):
            if not e[pos]:
                continue
            qualifier, sep, code = e[pos].partition(comp)
            if not sep:
                raise Problem(
                    j, f"HI{pos:02d} is not a qualifier{comp}code composite (ISA16 is '{comp}')"
                )
            if qualifier in DIAGNOSIS_QUALIFIERS:
                if not code.split(comp, 1)[0]:
                    raise Problem(j, f"HI{pos:02d} has no diagnosis code")
                s.claim["diagnosis_codes"].append(code.split(comp, 1)[0])

    def _lx(self, s: _State, e: list[str], j: int) -> None:
        if s.claim is None:
            raise Problem(j, "LX outside a claim")
        self._close_line(s)
        number = e[1] if len(e) > 1 else ""
        if not number.isdigit() or not number.isascii() or len(number) > 6:
            raise Problem(j, f"LX01 '{number}' is not a line number")
        s.line = {
            "line_number": int(number), "procedure_code": None, "modifiers": [],
            "charge": None, "units": None, "place_of_service": None, "dos": None,
            "line_control_number": None, "rendering_npi": None, "index": j,
            "rendering_provider_name": None,
        }  # fmt: skip
        s.where = LINE

    def _sv1(self, s: _State, e: list[str], j: int, comp: str) -> None:
        if s.where != LINE or s.line is None or s.line["procedure_code"] is not None:
            raise Problem(j, "SV1 must follow its LX (one SV1 per service line)")
        parts = e[1].split(comp) if len(e) > 1 else [""]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise Problem(
                j,
                f"SV101 '{e[1] if len(e) > 1 else ''}' has no procedure code (SV101-2); "
                f"components are separated by '{comp}' (ISA16)",
            )
        if len(e) < 3 or not e[2]:
            raise Problem(j, "SV102 (line charge) is empty")
        line = s.line
        line["procedure_code"] = parts[1]
        line["modifiers"] = [m for m in parts[2:6] if m]
        line["charge"] = self.amounts[e[2]]
        if line["charge"] < 0:
            raise Problem(j, f"SV102 '{e[2]}' is negative: a line charge cannot be")
        line["units"] = self.quantities[e[4]] if len(e) > 4 and e[4] else None
        if line["units"] is not None and line["units"] <= 0:
            raise Problem(j, f"SV104 '{e[4]}' is not above 0: a line bills at least one unit")
        pos = e[5] if len(e) > 5 else ""
        if pos and not (len(pos) == 2 and pos.isascii() and pos.isdigit()):
            raise Problem(j, f"SV105 '{pos}' is not a 2-digit place of service code")
        line["place_of_service"] = pos or None

    def _close_line(self, s: _State) -> None:
        line, claim = s.line, s.claim
        if line is None or claim is None:
            return
        s.line = None
        if line["procedure_code"] is None:
            raise Problem(
                line["index"], f"LX {line['line_number']} of claim '{claim['claim_id']}' has no SV1"
            )
        dos = line["dos"] or claim["dos"]
        if dos is None:
            raise Problem(
                line["index"],
                f"LX {line['line_number']} of claim '{claim['claim_id']}' has no date of service "
                "(DTP*472 on the line or the claim)",
            )
        cols = self.cols["stg.claim_lines"]
        row: dict[str, Any] = dict(line, claim_id=claim["claim_id"], claim_seq=claim["claim_seq"])
        row["date_of_service"], row["date_of_service_end"] = dos
        row["place_of_service"] = line["place_of_service"] or claim["place_of_service"]
        row["rendering_npi"] = line["rendering_npi"] or claim["rendering_npi"] or s.billing_npi
        # the name of the provider whose NPI that is (same order: line, claim, billing)
        if line["rendering_npi"]:
            row["rendering_provider_name"] = line["rendering_provider_name"]
        elif claim["rendering_npi"]:
            row["rendering_provider_name"] = claim["rendering_provider_name"]
        else:
            row["rendering_provider_name"] = s.billing_name
        for name, values in cols.items():
            values.append(row[name])
        claim["lines"] += 1

    def _close_claim(self, s: _State) -> None:
        self._close_line(s)
        claim = s.claim
        if claim is None:
            return
        s.claim = None
        if not claim["lines"]:
            raise Problem(claim["index"], f"claim '{claim['claim_id']}' has no service line (LX)")
        for name, values in self.cols["stg.claims"].items():
            values.append(claim[name])


class _State:
    """Where one transaction's reading stands (hierarchy and the open claim and line)."""

    def __init__(self, tx: Transaction, submitted: dt.date) -> None:
        self.tx, self.submitted = tx, submitted
        self.where, self.has_billing, self.dependent = HEADER, False, False
        self.billing_npi: str | None = None
        self.billing_tax_id: str | None = None
        self.billing_name: str | None = None  # NM1*85: an organisation or a clinician
        self.member_id: str | None = None
        self.payer_id: str | None = None
        self.payer_name: str | None = None
        self.sbr02 = ""
        self.patient_name: tuple[str, str] | None = None
        self.birth_date = ""
        self.claim: Any = None  # the open claim (dict) from CLM until the next CLM/HL/SE
        self.line: Any = None  # the open service line (dict) from LX until the next LX
        self.claims = 0
        self.rejected = 0  # claims of this transaction rejected on their own
        self.skipping = False  # inside a rejected claim: skip up to the next HL or CLM
        self.claim_mark = 0  # stg.claim_lines rows before the open claim's first line
