"""835 (005010X221A1) reader: payments, claims, service lines, adjustments, provider adjustments.

Columnar: every staging column is a Python list appended to in one loop over the segments of a
transaction (no per-segment function call on the common path); values go through per-file caches.
A transaction is accepted only when BPR02 = sum(CLP04) - sum(PLB amounts), exactly in Decimal.

Why its own loop and not ``tokenizer.each_segment`` (which the 837P and 271 readers use): the
same loop body as a closure handed to ``each_segment`` (its state ``nonlocal``) builds identical
tables but reads slower. Measured 2026-12-04 on the 2-core dev machine, one process, the 835 of
``benchmarks/bench_x12.py`` (``generate_835(500_000, seed=7)``: 500,035 segments, 27,706 claims,
69,199 lines), ``read_x12`` alone, 9 alternating repetitions each, best of: this loop 0.441 s
(1,134,000 segments/s), on ``each_segment`` 0.529 s (945,000 segments/s), 20% slower; a first
run of 7 repetitions: 0.472 s against 0.535 s. (Warm reads: bench_x12's one cold read of the
same file took 0.95 s.) The 835 is the largest file recoup reads (a payer's remittances for every
claim), so the faster loop stays; it repeats what ``each_segment`` does at the end of a
transaction (SE, end of file, a bad value named at its element).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from loading.x12.errors import Problem
from loading.x12.tables import DATE, MONEY, QTY, STR, STRS, build
from loading.x12.tokenizer import Transaction, check_se, check_tag, closing_se, end_of_file
from loading.x12.values import ONE, Amounts, BadValue, Dates, Quantities

SCHEMAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "stg.remit_payments": [
        ("payment_id", STR), ("transaction_control", STR), ("handling_code", STR),
        ("total_paid", MONEY), ("credit_debit", STR), ("payment_method", STR),
        ("payment_date", DATE), ("trace_number", STR), ("payer_id", STR), ("payer_name", STR),
        ("payee_npi", STR), ("payee_id", STR), ("production_date", DATE),
    ],
    "stg.remit_claims": [
        ("payment_id", STR), ("claim_seq", pa.int32()), ("claim_id", STR), ("status_code", STR),
        ("total_charge", MONEY), ("paid_amount", MONEY), ("patient_responsibility", MONEY),
        ("filing_indicator", STR), ("payer_claim_control", STR), ("place_of_service", STR),
        ("frequency_code", STR), ("member_id", STR), ("rendering_npi", STR),
        ("statement_start", DATE), ("statement_end", DATE), ("received_date", DATE),
    ],
    "stg.remit_lines": [
        ("payment_id", STR), ("claim_seq", pa.int32()), ("line_seq", pa.int32()),
        ("procedure_qualifier", STR), ("procedure_code", STR), ("modifiers", STRS),
        ("charge", MONEY), ("paid_amount", MONEY), ("units", QTY),
        ("original_procedure_code", STR), ("date_of_service", DATE),
        ("date_of_service_end", DATE), ("line_control_number", STR),
    ],
    "stg.remit_adjustments": [
        ("payment_id", STR), ("claim_seq", pa.int32()), ("line_seq", pa.int32()),
        ("group_code", STR), ("reason_code", STR), ("amount", MONEY), ("quantity", QTY),
    ],
    "stg.remit_provider_adjustments": [
        ("payment_id", STR), ("adjustment_seq", pa.int32()), ("provider_id", STR),
        ("fiscal_period_date", DATE), ("reason_code", STR), ("reference_id", STR),
        ("amount", MONEY),
    ],
    "stg.remit_remarks": [
        ("payment_id", STR), ("claim_seq", pa.int32()), ("line_seq", pa.int32()),
        ("level", STR), ("source", STR), ("code", STR),
    ],
}  # fmt: skip
# MOA03..MOA07: the claim's remark codes (RARCs); LQ02 with LQ01 = HE: a service line's
MOA_REMARKS = (3, 4, 5, 6, 7)

ZERO = Decimal(0)
NO_MODIFIERS: list[str] = []  # shared by every service line without modifiers; never mutated


class Remittance835Reader:
    """Reads 835 transactions into the six ``stg.remit_*`` tables."""

    def __init__(self, file_sha256: str) -> None:
        self.file_sha256 = file_sha256
        self.cols: dict[str, dict[str, list[object]]] = {
            table: {name: [] for name, _ in schema} for table, schema in SCHEMAS.items()
        }
        self.amounts = Amounts()
        self.quantities = Quantities()
        self.dates = Dates()
        self.tags: set[str] = set()
        # payment_id and claim_seq of lines and adjustments: the row of their claim, taken from
        # the claims columns when the tables are built (one int per row instead of two values)
        self.line_claim: list[int] = []
        self.adjustment_claim: list[int] = []
        self.remark_claim: list[int] = []
        # (segment index, problem) of what was read leniently and reported, not rejected: an LQ
        # that is not a remark code (LQ01 other than HE, or no LQ02), an LQ outside a service
        # line, an MOA before any CLP (SPEC "Structural checks": only envelopes, syntax and an
        # unbalanced payment reject an 835 transaction set)
        self.warnings: list[tuple[int, str]] = []
        # transaction sets rejected on their own (the rest of the file loads), as 999 does: one
        # dict per set with level, interchange_control, transaction_control, part, index, reason
        self.rejected: list[dict[str, object]] = []

    def tables(self) -> dict[str, pa.Table]:
        """The six staging tables (empty ones included), each with ``file_sha256``."""
        claims = self.cols["stg.remit_claims"]
        pids = pa.array(claims["payment_id"], STR)
        seqs = pa.array(claims["claim_seq"], pa.int32())
        for table, rows in (
            ("stg.remit_lines", self.line_claim),
            ("stg.remit_adjustments", self.adjustment_claim),
            ("stg.remit_remarks", self.remark_claim),
        ):
            index = pa.array(rows, pa.int32())
            self.cols[table]["payment_id"] = pids.take(index)
            self.cols[table]["claim_seq"] = seqs.take(index)
        return {t: build(self.cols[t], SCHEMAS[t], self.file_sha256) for t in SCHEMAS}

    def transaction(self, segs: list[str], tx: Transaction) -> int:
        """Read one 835 transaction set, or reject it alone; returns the index of its SE.

        A defect inside a transaction set that its own SE closes (a payment that does not
        balance, a bad amount or date, a missing required element, a wrong SE01 count) rejects
        that set only, as a 999 acknowledges each set: nothing of it is staged, it goes to
        ``self.rejected``, and the file's other sets load. Without an SE before the next ST, GE
        or IEA (a truncated file) the problem is the file's.
        """
        staged: list[list[Any]] = [v for cols in self.cols.values() for v in cols.values()]
        staged += [self.line_claim, self.adjustment_claim, self.remark_claim]
        warned = len(self.warnings)
        marks = [len(values) for values in staged]
        try:
            return self._transaction(segs, tx)
        except Problem as problem:
            se = closing_se(segs, tx)
            if se is None:
                raise
            for values, mark in zip(staged, marks, strict=True):
                del values[mark:]
            del self.warnings[warned:]  # the set is rejected: its rejection says it all
            self.rejected.append({
                "level": "transaction", "interchange_control": tx.interchange_control,
                "transaction_control": tx.control, "part": f"transaction set {tx.control}",
                "index": tx.st_index if problem.index is None else problem.index,
                "reason": problem.problem,
            })  # fmt: skip
            return se

    def _transaction(self, segs: list[str], tx: Transaction) -> int:
        """Read one 835 (ST at ``tx.st_index``); returns the index of its SE.

        Raises Problem for a missing/invalid BPR, TRN or CLP field, a bad amount or date, a
        malformed SVC01 composite, an unclosed transaction, or a payment that does not balance.
        """
        sep, comp = tx.delimiters.element, tx.delimiters.component
        pid = f"{self.file_sha256[:16]}:{tx.interchange_control}:{tx.control}"
        A, Q, D = self.amounts, self.quantities, self.dates
        claims, lines = self.cols["stg.remit_claims"], self.cols["stg.remit_lines"]
        (c_pid, c_seq, c_id, c_status, c_charge, c_paid, c_resp, c_fil, c_pcc, c_pos, c_freq,
         c_member, c_rend, c_start, c_end, c_recv) = claims.values()  # fmt: skip
        (_, _, l_seq, l_qual, l_code, l_mods, l_charge, l_paid, l_units, l_orig, l_dos, l_end,
         l_lcn) = lines.values()  # fmt: skip
        (_, _, a_lseq, a_group, a_reason, a_amount, a_qty) = self.cols[
            "stg.remit_adjustments"
        ].values()
        (_, _, r_lseq, r_level, r_source, r_code) = self.cols["stg.remit_remarks"].values()
        l_claim, a_claim, tags = self.line_claim, self.adjustment_claim, self.tags
        r_claim, warn = self.remark_claim, self.warnings
        claim_row = -1  # row of the current claim in the claims columns

        st = tx.st_index
        if st + 1 >= len(segs):
            raise end_of_file(segs, tx)
        first = segs[st + 1].split(sep)
        if first[0] != "BPR":
            raise Problem(st + 1, "the 835 must start with BPR after ST")
        head = self._bpr(first, st + 1)
        claim_seq = line_seq = 0
        plb_seq, plb_start = 0, len(self.cols["stg.remit_provider_adjustments"]["amount"])
        in_line = il_seen = False
        dos_src = 0  # 0: the claim's DTM*232, 1: DTM*150, 2: DTM*472
        claim_dos = None
        clp_total = ZERO
        j = st + 2
        try:
            for j in range(st + 2, len(segs)):
                e = segs[j].split(sep)
                t = e[0]
                if t == "SVC":
                    n = len(e)
                    if n < 4 or not claim_seq:
                        raise Problem(j, "SVC needs a CLP before it and SVC01 to SVC03")
                    c = e[1].split(comp)
                    if len(c) < 2 or not c[0] or not c[1]:
                        raise Problem(
                            j,
                            f"SVC01 '{e[1]}' has no procedure code (SVC01-2); components are "
                            f"separated by '{comp}' (ISA16)",
                        )
                    line_seq += 1
                    in_line = True
                    dos_src = 0
                    l_claim.append(claim_row)
                    l_seq.append(line_seq)
                    l_qual.append(c[0])
                    l_code.append(c[1])
                    if len(c) > 2:
                        mods = c[2:6]
                        l_mods.append([m for m in mods if m] if "" in mods else mods)
                    else:
                        l_mods.append(NO_MODIFIERS)
                    l_charge.append(A[e[2]])
                    l_paid.append(A[e[3]])
                    l_units.append(Q[e[5]] if n > 5 and e[5] else ONE)
                    if n > 6 and e[6]:
                        c = e[6].split(comp)
                        if len(c) < 2 or not c[1]:
                            raise Problem(j, f"SVC06 '{e[6]}' has no procedure code (SVC06-2)")
                        l_orig.append(c[1])
                    else:
                        l_orig.append(None)
                    l_dos.append(claim_dos)
                    l_end.append(None)
                    l_lcn.append(None)
                elif t == "CAS":
                    n = len(e)
                    if n == 4 and claim_seq and e[1] and e[2] and e[3]:  # one triplet, no qty
                        a_claim.append(claim_row)
                        a_lseq.append(line_seq if in_line else None)
                        a_group.append(e[1])
                        a_reason.append(e[2])
                        a_amount.append(A[e[3]])
                        a_qty.append(None)
                        continue
                    if not claim_seq:
                        raise Problem(j, "CAS before any CLP")
                    group = e[1] if n > 1 else ""
                    if not group:
                        raise Problem(j, "CAS01 (group code) is empty")
                    for k in range(2, min(n, 20), 3):
                        reason = e[k]
                        v = e[k + 1] if k + 1 < n else ""
                        if not reason or not v:
                            if reason or v:
                                raise Problem(
                                    j, f"CAS{k:02d}/CAS{k + 1:02d} reason or amount missing"
                                )
                            continue
                        a_claim.append(claim_row)
                        a_lseq.append(line_seq if in_line else None)
                        a_group.append(group)
                        a_reason.append(reason)
                        a_amount.append(A[v])
                        v = e[k + 2] if k + 2 < n else ""
                        a_qty.append(Q[v] if v else None)
                elif t == "DTM":
                    if len(e) < 3:
                        raise Problem(j, "DTM needs a qualifier and a date")
                    q, v = e[1], e[2]
                    d = D[v]
                    if q == "472":
                        if in_line:
                            l_dos[-1] = d
                            dos_src = 2
                    elif q == "150":
                        if in_line and dos_src < 2:
                            l_dos[-1] = d
                            dos_src = 1
                    elif q == "151":
                        if in_line:
                            l_end[-1] = d
                    elif q == "232":
                        if claim_seq and not in_line:
                            c_start[-1] = claim_dos = d
                    elif q == "233":
                        if claim_seq and not in_line:
                            c_end[-1] = d
                    elif q == "050":
                        if claim_seq and not in_line:
                            c_recv[-1] = d
                    elif q == "405" and not claim_seq:
                        head.production_date = d
                elif t == "REF":
                    q = e[1] if len(e) > 1 else ""
                    if q == "6R":
                        if in_line and len(e) > 2:
                            l_lcn[-1] = e[2] or None
                    elif q == "2U" and not claim_seq and len(e) > 2:
                        head.ref_2u = e[2]
                elif t == "CLP":
                    if len(e) < 5 or not e[1] or not e[2] or not e[3] or not e[4]:
                        raise Problem(j, "CLP needs CLP01 claim id, CLP02 status, CLP03 and CLP04")
                    claim_seq += 1
                    line_seq = 0
                    in_line = il_seen = False
                    claim_dos = None
                    claim_row = len(c_id)
                    c_pid.append(pid)
                    c_seq.append(claim_seq)
                    c_id.append(e[1])
                    c_status.append(e[2])
                    c_charge.append(A[e[3]])
                    paid = A[e[4]]
                    c_paid.append(paid)
                    clp_total += paid
                    n = len(e)
                    v = e[5] if n > 5 else ""
                    c_resp.append(A[v] if v else None)
                    c_fil.append((e[6] or None) if n > 6 else None)
                    c_pcc.append((e[7] or None) if n > 7 else None)
                    c_pos.append((e[8] or None) if n > 8 else None)
                    c_freq.append((e[9] or None) if n > 9 else None)
                    c_member.append(None)
                    c_rend.append(None)
                    c_start.append(None)
                    c_end.append(None)
                    c_recv.append(None)
                elif t == "NM1":
                    if claim_seq and len(e) > 9:
                        q = e[1]
                        if q == "IL":
                            c_member[-1] = e[9] or None
                            il_seen = True
                        elif q == "QC":
                            if not il_seen:
                                c_member[-1] = e[9] or None
                        elif q == "82" and e[8] == "XX":
                            c_rend[-1] = e[9] or None
                elif t == "AMT":
                    if len(e) < 3:
                        raise Problem(j, "AMT needs a qualifier and an amount")
                    A[e[2]]  # validated, not stored
                elif t == "LQ":
                    q = e[1] if len(e) > 1 else ""
                    v = e[2] if len(e) > 2 else ""
                    if not in_line:
                        warn.append(
                            (j, "LQ outside a service line (loop 2110 after SVC); not read")
                        )
                    elif q != "HE":
                        warn.append((j, f"LQ01 '{q}' is not HE (remark code); not read as a RARC"))
                    elif not v:
                        warn.append((j, "LQ02 (remark code) is empty"))
                    else:
                        r_claim.append(claim_row)
                        r_lseq.append(line_seq)
                        r_level.append("line")
                        r_source.append("LQ02")
                        r_code.append(v)
                elif t == "MOA":
                    if not claim_seq:
                        warn.append((j, "MOA before any CLP; not read"))
                        continue
                    for k in MOA_REMARKS:
                        if k < len(e) and e[k]:
                            r_claim.append(claim_row)
                            r_lseq.append(None)
                            r_level.append("claim")
                            r_source.append(f"MOA{k:02d}")
                            r_code.append(e[k])
                elif t == "SE":
                    break
                elif t == "TRN" and head.trace_number is None:
                    if len(e) < 3 or not e[2]:
                        raise Problem(j, "TRN02 (check or EFT trace number) is empty")
                    head.trace_number = e[2]
                    head.trn03 = e[3] if len(e) > 3 else ""
                elif t == "N1":
                    self._n1(e, head)
                elif t == "PLB":
                    head.plb_total += self._plb(e, j, pid, plb_seq, comp)
                    plb_seq = len(self.cols["stg.remit_provider_adjustments"]["amount"]) - plb_start
                elif t not in tags:
                    check_tag(t, j, tags)
            else:
                raise end_of_file(segs, tx)
        except BadValue as exc:
            raise Problem(j, exc.describe(segs[j].split(sep))) from None
        check_se(segs, tx, j)
        self._payment(head, pid, tx, clp_total)
        return j

    def _bpr(self, e: list[str], index: int) -> _Payment:
        """The payment header of a BPR segment; BPR02 is required.

        BPR16 (the check or EFT date) drives the look-back; when it is missing (some public
        samples shift it into BPR15) the DTM*405 production date stands in, and a transaction
        with neither is rejected when it ends (see ``_payment``).
        """
        if len(e) < 3 or not e[2]:
            raise Problem(index, "BPR02 (total paid) is empty")
        try:
            total = self.amounts[e[2]]
            paid_on = e[16] if len(e) > 16 else ""
            pay_date = self.dates[paid_on] if paid_on else None
        except BadValue as exc:
            raise Problem(index, exc.describe(e)) from None
        return _Payment(
            bpr_index=index,
            handling_code=e[1] or None,
            total_paid=total,
            credit_debit=(e[3] or None) if len(e) > 3 else None,
            payment_method=(e[4] or None) if len(e) > 4 else None,
            payment_date=pay_date,
        )

    @staticmethod
    def _n1(e: list[str], head: _Payment) -> None:
        q = e[1] if len(e) > 1 else ""
        if q == "PR" and not head.seen_payer:
            head.seen_payer = True
            head.payer_name = e[2] if len(e) > 2 and e[2] else None
            head.n1_payer_id = e[4] if len(e) > 4 else ""
        elif q == "PE" and not head.seen_payee:
            head.seen_payee = True
            head.payee_id = e[4] if len(e) > 4 and e[4] else None
            head.payee_npi = head.payee_id if len(e) > 3 and e[3] == "XX" else None

    def _plb(self, e: list[str], index: int, pid: str, seq: int, comp: str) -> Decimal:
        """Append one row per PLB reason/amount pair; returns the sum of the amounts."""
        cols = self.cols["stg.remit_provider_adjustments"]
        provider = e[1] if len(e) > 1 and e[1] else None
        try:
            fiscal = e[2] if len(e) > 2 else ""
            fiscal_date = self.dates[fiscal] if fiscal else None
            total = ZERO
            for k in range(3, min(len(e), 15), 2):
                reason = e[k]
                text = e[k + 1] if k + 1 < len(e) else ""
                if not reason and not text:
                    continue
                if not reason or not text:
                    raise Problem(index, f"PLB{k:02d}/PLB{k + 1:02d} reason or amount missing")
                code, _, ref = reason.partition(comp)
                if not code:
                    raise Problem(index, f"PLB{k:02d} has no adjustment reason code")
                value = self.amounts[text]
                seq += 1
                for name, item in (
                    ("payment_id", pid), ("adjustment_seq", seq), ("provider_id", provider),
                    ("fiscal_period_date", fiscal_date), ("reason_code", code),
                    ("reference_id", ref.split(comp, 1)[0] or None), ("amount", value),
                ):  # fmt: skip
                    cols[name].append(item)
                total += value
        except BadValue as exc:
            raise Problem(index, exc.describe(e)) from None
        return total

    def _payment(self, head: _Payment, pid: str, tx: Transaction, clp: Decimal) -> None:
        """Check the TRN and the balance, then append the payment row."""
        if head.trace_number is None:
            raise Problem(tx.st_index, f"transaction {tx.control} has no TRN (trace number)")
        if head.payment_date is None:
            if head.production_date is None:
                raise Problem(
                    head.bpr_index,
                    "BPR16 (check or EFT effective date) is missing and there is no DTM*405 "
                    "production date to stand in for it",
                )
            head.payment_date = head.production_date
        total, plb = head.total_paid, head.plb_total
        signed = -total if head.credit_debit == "D" else total
        if signed != clp - plb:
            raise Problem(
                head.bpr_index,
                f"BPR02 {total} does not balance: sum of CLP04 {clp} minus PLB amounts {plb} "
                f"= {clp - plb}",
            )
        head.payment_id, head.transaction_control = pid, tx.control
        head.payer_id = head.n1_payer_id or head.ref_2u or head.trn03 or None
        for name, values in self.cols["stg.remit_payments"].items():
            values.append(getattr(head, name))


@dataclass(slots=True)
class _Payment:
    """The payment header of one 835 transaction (BPR, TRN, REF*2U, DTM*405, N1*PR, N1*PE)."""

    bpr_index: int
    handling_code: str | None
    total_paid: Decimal
    credit_debit: str | None
    payment_method: str | None
    payment_date: dt.date | None
    payment_id: str = ""
    transaction_control: str = ""
    trace_number: str | None = None
    trn03: str = ""
    ref_2u: str = ""
    n1_payer_id: str = ""
    payer_id: str | None = None
    payer_name: str | None = None
    payee_npi: str | None = None
    payee_id: str | None = None
    production_date: dt.date | None = None
    plb_total: Decimal = ZERO
    seen_payer: bool = False
    seen_payee: bool = False
