"""The 835 read by column (loading/x12/remittance_835_columns.py) builds exactly the tables of
the per-segment reader, and leaves every file it has any doubt about to it: same tables, same
rejected transaction sets, same error message with the same place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.fuzzing  # noqa: F401  (the hypothesis profile)
from benchmarks.bench_x12 import generate_835
from loading.x12 import X12Error, _columnar, read_x12
from loading.x12.tokenizer import decode, split
from tests.badinput import build as b

SAMPLES = Path(__file__).resolve().parents[3] / "shared/x12-samples/835_005010X221A1"
SHA = "c0ffee" * 10 + "abcd"

PAYMENT_1 = [
    "BPR*I*105.00*C*ACH*CCP*01*071000013*DA*9912345678*1462345678**01*075000022*DA*5566778899"
    "*20251220",
    "TRN*1*TRACE1*1462345678",
    "REF*2U*PAYERX",
    "DTM*405*20251219",
    "N1*PR*ACME*XV*ACMEH",
    "N1*PE*CLINIC*XX*1234567893",
    "LX*1",
    "CLP*C1*1*300.00*200.00*20.00*12*PCC1*11*1",
    "CAS*CO*45*50.00*1*253*2.5",
    "NM1*QC*1*DOE*JANE****MI*QCMEMBER",
    "NM1*IL*1*DOE*JOHN****MI*ILMEMBER",
    "NM1*82*1*SMITH*ALEX****XX*1111111111",
    "DTM*232*20251101",
    "DTM*233*20251102",
    "DTM*050*20251110",
    "SVC*HC:90834::95*150.00*100.00**2",
    "DTM*150*20251103",
    "DTM*472*20251104",
    "DTM*150*20251105",
    "DTM*151*20251106",
    "CAS*PR*2*20.00",
    "REF*6R*C1L1",
    "AMT*B6*120.00",
    "SVC*HC:90785*150.00*100.00***HC:90837",
    "REF*6R*",
    "CAS*CO*45*30.00**97*20.00*3",
    "CLP*C2*22*-150.00*-90.00",
    "NM1*QC*1*DOE*JANE****MI*QC2",
    "NM1*IL*1*DOE*JOHN****MI*",
    "SVC*HC:90832:GT*-150.00*-90.00",
    "DTM*150*20251001",
    "PLB*1234567893*20251231*WO:C1*10.00*72*-5.00",
]
PAYMENT_2 = [
    "BPR*I*50.00*C*ACH*CCP*01*071000013*DA*9912345678*1462345678**01*075000022*DA*5566778899"
    "*20251221",
    "TRN*1*TRACE2*1462345678",
    "N1*PR*ACME*XV*ACMEH",
    "CLP*C3*1*80.00*50.00",
    "SVC*HC:90791*80.00*50.00",
    "DTM*472*20251201",
]
RICH = b.envelope([PAYMENT_1, PAYMENT_2], kind="835", version="005010X221A1")


def outcome(data: bytes, columnar: bool) -> Any:
    """What ``read_x12`` makes of ``data``: the error message, or every table's rows and the
    transaction sets rejected on their own."""
    try:
        result = read_x12(data, "pay.835", SHA, columnar=columnar)
    except X12Error as exc:
        return str(exc)
    tables = {name: table.to_pylist() for name, table in result.tables.items()}
    return tables, result.rejected, result.segments, result.transactions


def by_column(data: bytes) -> bool:
    """True when the columnar reader takes the whole file (no fall-back)."""
    return _columnar(split(decode(data)), SHA) is not None


def test_rich_835_by_column_equals_per_segment_and_holds_the_values() -> None:
    assert by_column(RICH)
    fast = read_x12(RICH, "pay.835", SHA, columnar=True)
    slow = read_x12(RICH, "pay.835", SHA, columnar=False)
    for name, table in slow.tables.items():
        assert fast.tables[name].equals(table), name
    claims = fast.tables["stg.remit_claims"].to_pylist()
    assert [(c["claim_id"], c["claim_seq"], c["member_id"]) for c in claims] == [
        ("C1", 1, "ILMEMBER"),  # NM1*IL wins over the NM1*QC before it
        ("C2", 2, None),  # an NM1*IL without NM109: no member, the QC is not taken
        ("C3", 1, None),
    ]
    assert claims[0]["patient_responsibility"] == Decimal("20.00")
    assert claims[1]["patient_responsibility"] is None
    assert (claims[0]["statement_start"], claims[0]["statement_end"]) == (
        dt.date(2025, 11, 1),
        dt.date(2025, 11, 2),
    )
    assert claims[0]["received_date"] == dt.date(2025, 11, 10)
    lines = fast.tables["stg.remit_lines"].to_pylist()
    assert [
        (
            line["claim_seq"], line["line_seq"], line["procedure_code"], line["modifiers"],
            line["units"], line["original_procedure_code"], line["date_of_service"],
            line["date_of_service_end"], line["line_control_number"],
        )
        for line in lines
    ] == [
        (1, 1, "90834", ["95"], Decimal("2.000"), None, dt.date(2025, 11, 4),
         dt.date(2025, 11, 6), "C1L1"),  # DTM*472 wins over both DTM*150
        (1, 2, "90785", [], Decimal("1.000"), "90837", dt.date(2025, 11, 1), None, None),
        (2, 1, "90832", ["GT"], Decimal("1.000"), None, dt.date(2025, 10, 1), None, None),
        (1, 1, "90791", [], Decimal("1.000"), None, dt.date(2025, 12, 1), None, None),
    ]  # fmt: skip
    adjustments = fast.tables["stg.remit_adjustments"].to_pylist()
    assert [
        (a["claim_seq"], a["line_seq"], a["group_code"], a["reason_code"], a["amount"],
         a["quantity"])
        for a in adjustments
    ] == [
        (1, None, "CO", "45", Decimal("50.00"), Decimal("1.000")),
        (1, None, "CO", "253", Decimal("2.50"), None),
        (1, 1, "PR", "2", Decimal("20.00"), None),
        (1, 2, "CO", "45", Decimal("30.00"), None),
        (1, 2, "CO", "97", Decimal("20.00"), Decimal("3.000")),
    ]  # fmt: skip
    payments = fast.tables["stg.remit_payments"].to_pylist()
    assert [(p["total_paid"], p["trace_number"], p["payer_id"]) for p in payments] == [
        (Decimal("105.00"), "TRACE1", "ACMEH"),
        (Decimal("50.00"), "TRACE2", "ACMEH"),
    ]
    assert fast.tables["stg.remit_provider_adjustments"].num_rows == 2


def test_generated_835_by_column_equals_per_segment() -> None:
    data = generate_835(3_000, seed=11)
    assert by_column(data)
    assert outcome(data, True) == outcome(data, False)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("*200.00*20.00*", "*200.005*20.00*", "transaction set 0001 (segment CLP, line 11, col 1: "
         "CLP04 '200.005' is not a money amount (at most 2 decimals and 16 digits))"),
        ("DTM*151*20251106", "DTM*151*20251131", "transaction set 0001 (segment DTM, line 23, "
         "col 1: DTM02 '20251131' is not a real date (CCYYMMDD))"),
        ("CAS*PR*2*20.00", "CAS*PR*2*", "transaction set 0001 (segment CAS, line 24, col 1: "
         "CAS02/CAS03 reason or amount missing)"),
        ("SVC*HC:90785*", "SVC*HC*", "transaction set 0001 (segment SVC, line 27, col 1: SVC01 "
         "'HC' has no procedure code (SVC01-2); components are separated by ':' (ISA16))"),
        ("PLB*1234567893*20251231*WO:C1*10.00", "PLB*1234567893*20251231*WO:C1*11.00",
         "transaction set 0001 (segment BPR, line 4, col 1: BPR02 105.00 does not balance: sum "
         "of CLP04 110.00 minus PLB amounts 6.00 = 104.00)"),
        ("TRN*1*TRACE2*1462345678", "TRN*1**1462345678", "transaction set 0002 (segment TRN, "
         "line 39, col 1: TRN02 (check or EFT trace number) is empty)"),
        ("CLP*C3*1*80.00*50.00", "clp*C3*1*80.00*50.00", "transaction set 0002 (segment None, "
         "line 41, col 1: not a segment: it does not start with a segment id)"),
        ("SE*8*0002", "XE*8*0002", "pay.835: segment 45 (GE) at line 45, column 1: GE inside a "
         "transaction: the transaction has no SE before it"),
    ],
)  # fmt: skip
def test_a_defect_goes_to_the_per_segment_reader(old: str, new: str, message: str) -> None:
    """The columnar reader gives up; the per-segment reader rejects the transaction set (or
    the file) exactly as it always did."""
    data = RICH.replace(old.encode(), new.encode(), 1)
    assert data != RICH
    assert not by_column(data)
    fast, slow = outcome(data, True), outcome(data, False)
    assert fast == slow
    said = slow if isinstance(slow, str) else "; ".join(p.describe() for p in slow[1])
    assert said == message


def test_forms_the_reference_accepts_but_columns_do_not_read_the_same() -> None:
    """'.50' is an amount for the reference; the columnar reader leaves it to it."""
    data = RICH.replace(b"CAS*PR*2*20.00", b"CAS*PR*2*20.00*.50", 1)
    assert not by_column(data)
    tables = outcome(data, True)[0]
    assert tables == outcome(data, False)[0]
    assert [a["quantity"] for a in tables["stg.remit_adjustments"]][2] == Decimal("0.500")


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.835")), ids=lambda p: p.name)
def test_public_samples_read_the_same(path: Path) -> None:
    data = path.read_bytes()
    assert outcome(data, True) == outcome(data, False)


BYTES = st.sampled_from(list(b"*~:^0123456789.-ACDEPSTVX \n"))


@given(
    position=st.integers(min_value=0, max_value=len(RICH) - 1),
    operation=st.sampled_from(("flip", "insert", "delete")),
    byte=BYTES,
)
def test_mutations_read_the_same(position: int, operation: str, byte: int) -> None:
    if operation == "flip":
        data = RICH[:position] + bytes([byte]) + RICH[position + 1 :]
    elif operation == "insert":
        data = RICH[:position] + bytes([byte]) + RICH[position:]
    else:
        data = RICH[:position] + RICH[position + 1 :]
    assert outcome(data, True) == outcome(data, False)
