"""Remark codes (RARCs) of an 835: LQ*HE in a service line, MOA03..MOA07 of a claim, staged in
stg.remit_remarks by both 835 readers alike; an LQ that is not a remark code is reported with
its place, not staged, and the transaction set still loads (SPEC "Structural checks")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from loading.x12 import read_x12
from loading.x12.tokenizer import decode, split
from tests.badinput import build as b
from tests.loading.test_x12_columns import SHA, by_column, outcome

PAYMENT = [
    "BPR*I*0.00*C*ACH*CCP*01*071000013*DA*9912345678*1462345678**01*075000022*DA*5566778899"
    "*20260310",
    "TRN*1*TRACE9*1462345678",
    "N1*PR*ACME*XV*ACMEH",
    "N1*PE*CLINIC*XX*1234567893",
    "LX*1",
    "CLP*C1*22*-150.00*-120.00**12*PCC9*11*1",
    "CAS*CO*27*30.00",
    "MOA***M127*N29**MA130",
    "NM1*QC*1*DOE*JANE****MI*M1",
    "SVC*HC:90837*-150.00*-120.00",
    "DTM*472*20260105",
    "CAS*CO*27*-30.00",
    "LQ*HE*N30",
    "LQ*HE*N290",
    "SVC*HC:90785*0.00*0.00",
    "LQ*HE*M86",
    "CLP*C2*1*100.00*120.00",
    "SVC*HC:90837*100.00*120.00",
    "DTM*472*20260105",
]
FILE = b.envelope([PAYMENT], kind="835", version="005010X221A1")


def remarks(tables: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (r["payment_id"], r["claim_seq"], r["line_seq"], r["level"], r["source"], r["code"])
        for r in tables["stg.remit_remarks"]
    ]


def test_both_readers_stage_the_same_remark_codes() -> None:
    assert by_column(FILE)
    fast, slow = outcome(FILE, True), outcome(FILE, False)
    assert fast == slow
    pid = f"{SHA[:16]}:000900001:0001"
    assert remarks(fast[0]) == [
        (pid, 1, None, "claim", "MOA03", "M127"),
        (pid, 1, None, "claim", "MOA04", "N29"),
        (pid, 1, None, "claim", "MOA06", "MA130"),
        (pid, 1, 1, "line", "LQ02", "N30"),
        (pid, 1, 1, "line", "LQ02", "N290"),
        (pid, 1, 2, "line", "LQ02", "M86"),
    ]
    assert [r["file_sha256"] for r in fast[0]["stg.remit_remarks"]] == [SHA] * 6
    result = read_x12(FILE, "pay.835", SHA, columnar=True)
    assert result.warnings == []
    assert result.tables["stg.remit_remarks"].equals(
        read_x12(FILE, "pay.835", SHA, columnar=False).tables["stg.remit_remarks"]
    )
    # the CAS are staged as before, the remarks beside them
    assert [
        (a["claim_seq"], a["line_seq"], a["reason_code"], a["amount"])
        for a in fast[0]["stg.remit_adjustments"]
    ] == [(1, None, "27", Decimal("30.00")), (1, 1, "27", Decimal("-30.00"))]


def test_an_lq_that_is_not_a_remark_code_is_reported_not_rejected() -> None:
    data = FILE.replace(b"LQ*HE*N290", b"LQ*RX*N290", 1).replace(b"LQ*HE*M86", b"LQ*HE*", 1)
    assert not by_column(data)  # the columnar reader leaves it to the per-segment one
    fast, slow = outcome(data, True), outcome(data, False)
    assert fast == slow
    tables, rejected = slow[0], slow[1]
    assert rejected == []
    assert [r[-1] for r in remarks(tables)] == ["M127", "N29", "MA130", "N30"]
    assert len(tables["stg.remit_claims"]) == 2  # the transaction set loaded
    result = read_x12(data, "pay.835", SHA, columnar=False)
    lq_rx = next(i for i, s in enumerate(split(decode(data)).items) if "LQ*RX" in s) + 1
    assert result.warnings == [
        f"segment LQ (segment {lq_rx}, line {lq_rx}, col 1): LQ01 'RX' is not HE (remark "
        "code); not read as a RARC",
        f"segment LQ (segment {lq_rx + 2}, line {lq_rx + 2}, col 1): LQ02 (remark code) is empty",
    ]


def test_an_lq_outside_a_service_line_and_an_moa_before_a_clp_are_reported() -> None:
    segments = list(PAYMENT)
    segments.insert(segments.index("LX*1") + 1, "MOA***N30")
    segments.insert(segments.index("NM1*QC*1*DOE*JANE****MI*M1") + 1, "LQ*HE*N30")
    data = b.envelope([segments], kind="835", version="005010X221A1")
    fast, slow = outcome(data, True), outcome(data, False)
    assert fast == slow
    assert [r[-1] for r in remarks(slow[0])] == ["M127", "N29", "MA130", "N30", "N290", "M86"]
    warnings = read_x12(data, "pay.835", SHA).warnings
    assert [w.split(": ", 1)[1] for w in warnings] == [
        "MOA before any CLP; not read",
        "LQ outside a service line (loop 2110 after SVC); not read",
    ]
