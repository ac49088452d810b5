"""Structural checks: hand-written good and bad files (tests/fixtures/x12), each bad one rejected
whole at an exact segment with a message naming the problem; and no input ever crashes."""

from __future__ import annotations

import hashlib
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from loading.x12 import X12Error, X12Result, is_x12, read_x12

FIXTURES = Path(__file__).parent.parent / "fixtures" / "x12"


def read(name: str, data: bytes | None = None) -> X12Result:
    data = (FIXTURES / name).read_bytes() if data is None else data
    return read_x12(data, name, hashlib.sha256(data).hexdigest())


def reject(name: str, data: bytes | None = None) -> X12Error:
    with pytest.raises(X12Error) as caught:
        read(name, data)
    return caught.value


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


# fixture -> (segment index, segment id, words of the problem); one segment per line in these
BAD = {
    "truncated.835": (20, "DTM", "the file ends inside transaction 0001 (ST at segment 3)"),
    "bad_se_count.835": (41, "SE", "SE01 '38' does not match the 39 segments from ST to SE"),
    "bad_control.835": (43, "IEA", "IEA02 '000000999' does not match ISA13 '000000101'"),
    "bad_amount.835": (14, "CLP", "CLP04 'abc' is not an amount"),
    "unbalanced.835": (4, "BPR", "BPR02 55.01 does not balance: sum of CLP04 100.00 minus PLB "
                                 "amounts 45.00 = 55.00"),
    "unknown_version.837": (2, "GS", "GS08 '005010X223A2' is not a supported version"),
    "version_4010.837": (1, "ISA", "ISA12 '00401': only X12 version 5010 (00501) is supported"),
    "bad_birth_date.837": (44, "DMG", "DMG02 is not a real date"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_fixture_is_rejected_at_its_segment(name: str) -> None:
    index, seg_id, words = BAD[name]
    err = reject(name)
    assert (err.file_name, err.segment_index, err.segment_id) == (name, index, seg_id)
    assert (err.line, err.column) == (index, 1)
    assert words in err.problem
    assert (
        str(err) == f"{name}: segment {index} ({seg_id}) at line {index}, column 1: {err.problem}"
    )


def test_birth_dates_and_names_never_appear_in_messages() -> None:
    assert "20150631" not in str(reject("bad_birth_date.837"))
    data = text("good.837").replace("NM1*IL*1*DOE*JANE****MI*MEM001", "NM1*IL*1*DOE*JANE")
    err = reject("no_member.837", data.encode())
    assert err.segment_id == "NM1" and err.segment_index == 16
    assert "no member id in NM109" in err.problem
    assert "DOE" not in str(err) and "JANE" not in str(err)


def test_good_835_values() -> None:
    result = read("good.835")
    assert (result.kind, result.segments, result.interchanges, result.transactions) == (
        "835", 43, 1, 1,
    )  # fmt: skip
    [payment] = result.tables["stg.remit_payments"].to_pylist()
    assert payment["total_paid"] == Decimal("55.00")
    assert (payment["payer_id"], payment["payee_npi"], payment["trace_number"]) == (
        "ACME01", "1234567893", "EFT0001",
    )  # fmt: skip
    claims = result.tables["stg.remit_claims"].to_pylist()
    assert [
        (c["claim_id"], c["status_code"], c["paid_amount"], c["member_id"]) for c in claims
    ] == [
        ("CLM001", "1", Decimal("200.00"), "MEM001"),
        ("CLM000", "22", Decimal("-100.00"), "SUB002"),  # NM1*IL wins over NM1*QC
    ]
    assert claims[0]["received_date"] == date(2025, 10, 10)
    lines = result.tables["stg.remit_lines"].to_pylist()
    assert [
        (x["claim_seq"], x["line_seq"], x["procedure_code"], x["modifiers"], x["paid_amount"],
         x["units"], x["date_of_service"], x["date_of_service_end"], x["line_control_number"],
         x["original_procedure_code"])
        for x in lines
    ] == [
        (1, 1, "90837", ["95"], Decimal("120.00"), Decimal(1), date(2025, 10, 1), None,
         "CLM001L1", None),
        (1, 2, "90785", [], Decimal("80.00"), Decimal(1), date(2025, 10, 1), None, "CLM001L2",
         None),
        (2, 1, "90834", ["95", "GT"], Decimal("-100.00"), Decimal(1), date(2025, 9, 1),
         date(2025, 9, 2), None, "90837"),
    ]  # fmt: skip
    adjustments = result.tables["stg.remit_adjustments"].to_pylist()
    assert [
        (a["claim_seq"], a["line_seq"], a["group_code"], a["reason_code"], a["amount"],
         a["quantity"])
        for a in adjustments
    ] == [
        (1, None, "OA", "23", Decimal("0.00"), None),
        (1, 1, "CO", "45", Decimal("40.00"), None),
        (1, 1, "PR", "2", Decimal("20.00"), None),
        (1, 2, "CO", "45", Decimal("30.00"), Decimal(1)),
        (1, 2, "CO", "253", Decimal("10.00"), None),
        (2, None, "CO", "45", Decimal("-50.00"), None),
        (2, 1, "CO", "45", Decimal("-50.00"), None),
    ]  # fmt: skip
    plb = result.tables["stg.remit_provider_adjustments"].to_pylist()
    assert [
        (p["adjustment_seq"], p["reason_code"], p["reference_id"], p["amount"]) for p in plb
    ] == [
        (1, "WO", "CLM777", Decimal("50.00")),
        (2, "L6", None, Decimal("-5.00")),
    ]


def test_good_837_values() -> None:
    result = read("good.837")
    claims = result.tables["stg.claims"].to_pylist()
    assert [c["claim_id"] for c in claims] == ["CLM001", "CLM002"]
    first, second = claims
    assert (first["prior_auth"], first["diagnosis_codes"], first["rendering_npi"]) == (
        "AUTH77", ["F329", "F411"], "1111111112",
    )  # fmt: skip
    assert first["patient_is_subscriber"] is True and first["patient_key"] == "MEM001"
    assert second["member_id"] == "SUB002"  # not the 2330A other subscriber
    assert second["patient_is_subscriber"] is False
    digest = hashlib.sha256(b"ROE|LILY|20150615").hexdigest()[:12]
    assert second["patient_key"] == f"SUB002~{digest}"
    assert (second["place_of_service"], second["frequency_code"]) == ("02", "7")
    assert second["original_claim_ref"] == "PAYERCLM999"
    lines = result.tables["stg.claim_lines"].to_pylist()
    assert [
        (x["claim_id"], x["line_number"], x["place_of_service"], x["date_of_service"],
         x["date_of_service_end"], x["rendering_npi"])
        for x in lines
    ] == [
        ("CLM001", 1, "11", date(2025, 10, 1), None, "1111111112"),  # claim rendering (2310B)
        ("CLM001", 2, "02", date(2025, 10, 1), None, "2222222227"),  # SV105; 2420A
        ("CLM002", 1, "02", date(2025, 9, 10), date(2025, 9, 12), "1234567893"),  # claim DTP
        ("CLM002", 2, "02", date(2025, 9, 15), None, "1234567893"),  # billing NPI
    ]  # fmt: skip


def test_a_repeated_clm01_is_two_claims_not_a_defect() -> None:
    # practices reuse account numbers as patient control numbers (SPEC "Structural checks")
    result = read("duplicate_claim.837")
    claims = result.tables["stg.claims"].to_pylist()
    assert [
        (c["claim_id"], c["claim_seq"], c["total_charge"], c["frequency_code"]) for c in claims
    ] == [
        ("CLM001", 1, Decimal("300.00"), "1"),
        ("CLM001", 2, Decimal("250.00"), "7"),
    ]  # fmt: skip
    lines = result.tables["stg.claim_lines"].to_pylist()
    assert [(x["claim_id"], x["claim_seq"], x["line_number"], x["procedure_code"], x["charge"])
            for x in lines] == [
        ("CLM001", 1, 1, "90837", Decimal("180.00")),
        ("CLM001", 1, 2, "90785", Decimal("120.00")),
        ("CLM001", 2, 1, "90834", Decimal("130.00")),
        ("CLM001", 2, 2, "90834", Decimal("120.00")),
    ]  # fmt: skip


def test_good_271_values() -> None:
    result = read("good.271")
    responses = result.tables["stg.eligibility_responses"].to_pylist()
    assert [
        (r["response_id"].split(":", 1)[1], r["member_id"], r["is_dependent"], r["trace_number"],
         r["rejection_reason"])
        for r in responses
    ] == [
        ("0001:1", "MEM001", False, "TRACE001", None),
        ("0001:2", "SUB002", True, "TRACE003", None),
        ("0001:3", "MEM404", False, "TRACE004", "72"),
    ]  # fmt: skip
    benefits = result.tables["stg.eligibility_benefits"].to_pylist()
    assert [
        (b["eligibility_code"], b["coverage_status"], b["service_types"], b["coverage_begin"],
         b["coverage_end"], b["date_qualifiers"])
        for b in benefits
    ] == [
        ("1", "active", ["30", "MH"], date(2025, 1, 1), None, "346"),
        # its own 2110 DTP*347 is its only date: the 2100 DTP*346 is not mixed in
        ("6", "inactive", ["MH"], None, date(2025, 6, 30), "347"),
        ("B", None, ["MH"], date(2025, 1, 1), None, "346"),
        ("1", "active", ["30"], date(2025, 1, 1), date(2025, 12, 31), "291"),
    ]  # fmt: skip


def _same_tables(a: X12Result, b: X12Result) -> None:
    for name, table in a.tables.items():
        assert table.drop(["file_sha256"]).equals(b.tables[name].drop(["file_sha256"])), name


@pytest.mark.parametrize("name", ["no_line_breaks.835", "crlf.835"])
def test_line_breaks_do_not_matter(name: str) -> None:
    plain, other = read("good.835"), read(name)
    assert other.segments == plain.segments
    for table, data in other.tables.items():
        assert data.num_rows == plain.tables[table].num_rows
    # payment ids carry the file hash: compare the rest
    strip = {t: d.drop(["payment_id"]) for t, d in plain.tables.items()}
    assert all(strip[t].drop(["file_sha256"]).equals(
        d.drop(["payment_id", "file_sha256"])) for t, d in other.tables.items())  # fmt: skip


def test_line_and_column_without_line_breaks() -> None:
    raw = text("no_line_breaks.835").replace(
        "CLP*CLM001*1*300.00*200.00", "CLP*CLM001*1*300.00*1e3"
    )
    err = reject("flat.835", raw.encode())
    assert (err.segment_index, err.segment_id, err.line) == (14, "CLP", 1)
    assert err.column == raw.index("CLP*CLM001") + 1
    assert err.problem == "CLP04 '1e3' is not an amount"


def test_line_and_column_with_crlf_and_indentation() -> None:
    raw = text("good.835").replace("\n", "\r\n").replace("CLP*CLM000*22", "  CLP*CLM000*22")
    raw = raw.replace("-100.00**12", "-100.001**12")
    err = reject("crlf_bad.835", raw.encode())
    assert (err.segment_index, err.segment_id, err.line, err.column) == (31, "CLP", 31, 3)
    assert "CLP04 '-100.001' is not a money amount" in err.problem


def test_two_interchanges() -> None:
    result = read("two_interchanges.835")
    assert (result.interchanges, result.transactions, result.segments) == (2, 2, 86)
    ids = result.tables["stg.remit_payments"].column("payment_id").to_pylist()
    assert [i.split(":", 1)[1] for i in ids] == ["000000101:0001", "000000102:0002"]


def test_mixed_kinds_are_rejected() -> None:
    data = (text("good.835") + text("good.271")).encode()
    err = reject("mixed.x12", data)
    assert (err.segment_index, err.segment_id) == (46, "ST")
    assert "mixes 835 and 271" in err.problem


@pytest.mark.parametrize(
    ("old", "new", "index", "seg_id", "words"),
    [
        ("GE*1*11", "GE*2*11", 42, "GE", "GE01 '2' does not match the 1 transaction sets"),
        ("GE*1*11", "GE*1*12", 42, "GE", "GE02 '12' does not match GS06 '11'"),
        ("IEA*1*", "IEA*2*", 43, "IEA", "IEA01 '2' does not match the 1 functional groups"),
        ("SE*39*0001", "SE*39*0002", 41, "SE", "SE02 '0002' does not match ST02 '0001'"),
        ("TRN*1*EFT0001*1512345678~\n", "", 40, "SE", "SE01 '39' does not match the 38"),
        ("DTM*405*20251104", "DTM*405*2025110", 7, "DTM", "DTM02 '2025110' is not a date"),
        ("SVC*HC:90785*", "SVC*HC>90785*", 27, "SVC", "SVC01 'HC>90785' has no procedure code"),
        ("CAS*PR*2*20.00", "CAS*PR*2*", 24, "CAS", "CAS02/CAS03 reason or amount missing"),
        ("*L6*-5.00", "*L6*-5,00", 40, "PLB", "PLB06 '-5,00' is not an amount"),
        ("ST*835*0001~\nBPR", "ST*835*0001~\nTRN*1*X~\nBPR", 4, "TRN", "must start with BPR"),
        ("GE*1*11~\nIEA*1*000000101~\n", "", 41, "SE", "the file ends without GE for group 11"),
        ("IEA*1*000000101~\n", "", 42, "GE", "the file ends without IEA for interchange"),
    ],
)
def test_835_envelope_and_values(old: str, new: str, index: int, seg_id: str, words: str) -> None:
    raw = text("good.835")
    assert old in raw
    err = reject("bad.835", raw.replace(old, new).encode())
    assert (err.segment_index, err.segment_id) == (index, seg_id)
    assert words in err.problem


def test_835_without_trn_is_rejected() -> None:
    raw = text("good.835").replace("TRN*1*EFT0001*1512345678~\n", "").replace("SE*39*", "SE*38*")
    err = reject("no_trn.835", raw.encode())
    assert (err.segment_index, err.segment_id) == (3, "ST")
    assert "has no TRN" in err.problem


@pytest.mark.parametrize(
    ("old", "new", "index", "seg_id", "words"),
    [
        ("SV1*HC:90785*120.00*UN*1*02**1~\n", "", 30, "LX", "LX 2 of claim 'CLM001' has no SV1"),
        (
            "DTP*472*RD8*20250910-20250912~\n",
            "",
            51,
            "LX",
            "LX 1 of claim 'CLM002' has no date of service",
        ),
        ("SV1*HC:90834*130.00", "SV1*HC*130.00", 53, "SV1", "SV101 'HC' has no procedure code"),
        ("CLM*CLM001*300.00", "CLM*CLM001*", 21, "CLM", "CLM needs CLM01 (claim id) and CLM02"),
        (
            "NM1*PR*2*ACME HEALTH PLAN*****PI*ACME01~\nCLM*CLM001",
            "CLM*CLM001",
            20,
            "CLM",
            "the claim has no payer NM1*PR",
        ),
        ("BHT*0019*00*BATCH1*20251001*0900*CH~\n", "", 4, "NM1", "must start with BHT"),
        (
            "DTP*472*RD8*20250910-20250912",
            "DTP*472*RD8*20250912-20250910",
            46,
            "DTP",
            "ends before it begins",
        ),
        ("HI*ABK:F900", "HI*ABK>F900", 48, "HI", "HI01 is not a qualifier:code composite"),
        # issue 9 item 9b: negative charges and unit counts were loaded
        ("CLM*CLM001*300.00", "CLM*CLM001*-300.00", 21, "CLM", "CLM02 '-300.00' is negative"),
        ("SV1*HC:90834*130.00", "SV1*HC:90834*-130.00", 53, "SV1", "SV102 '-130.00' is negative"),
        ("90834*130.00*UN*1*", "90834*130.00*UN*-1*", 53, "SV1", "SV104 '-1' is not above 0"),
        ("90834*130.00*UN*1*", "90834*130.00*UN*0*", 53, "SV1", "SV104 '0' is not above 0"),
    ],
)
def test_837_required_content(old: str, new: str, index: int, seg_id: str, words: str) -> None:
    """A defect inside one claim rejects that claim only; the other claim loads exactly."""
    raw = text("good.837")
    assert old in raw
    removed = old.count("~") - new.count("~")
    raw = raw.replace(old, new).replace("SE*55*", f"SE*{55 - removed}*")
    if index == 4:  # BHT is the transaction's, not a claim's: the file is rejected
        err = reject("bad.837", raw.encode())
        assert (err.segment_index, err.segment_id) == (index, seg_id)
        assert words in err.problem
        return
    result = read("bad.837", raw.encode())
    [part] = result.rejected
    assert (part.segment_index, part.segment_id, part.line, part.column) == (
        index,
        seg_id,
        index,
        1,
    )
    assert words in part.reason
    bad = part.part
    good = read("good.837")
    for table in ("stg.claims", "stg.claim_lines"):
        kept = [
            c for c in good.tables[table].drop(["file_sha256"]).to_pylist() if c["claim_id"] != bad
        ]
        assert kept
        assert result.tables[table].drop(["file_sha256"]).to_pylist() == kept
    assert bad not in result.tables["stg.claim_lines"].column("claim_id").to_pylist()


def test_bad_date_rejects_its_claim_only() -> None:
    result = read("bad_date.837")
    [part] = result.rejected
    assert (part.level, part.part, part.segment_index, part.segment_id) == (
        "claim", "CLM002", 56, "DTP",
    )  # fmt: skip
    assert "DTP03 '20250230' is not a real date" in part.reason
    assert result.tables["stg.claims"].column("claim_id").to_pylist() == ["CLM001"]
    assert result.tables["stg.claim_lines"].column("charge").to_pylist() == [
        Decimal("180.00"),
        Decimal("120.00"),
    ]


def test_repeated_clm01_is_not_a_defect() -> None:
    result = read("duplicate_claim.837")
    assert result.rejected == []
    claims = result.tables["stg.claims"].to_pylist()
    assert [(c["claim_id"], c["total_charge"]) for c in claims] == [
        ("CLM001", Decimal("300.00")),
        ("CLM001", Decimal("250.00")),
    ]


@pytest.mark.parametrize(
    ("old", "new", "index", "seg_id", "words"),
    [
        ("BHT*0022*11*INQ1*20251001*0800", "BHT*0022*11*INQ1", 4, "BHT", "BHT04 (check date)"),
        ("BHT*0022*11*INQ1*20251001", "BHT*0022*11*INQ1*20251301", 4, "BHT", "not a real date"),
    ],
)
def test_271_required_content(old: str, new: str, index: int, seg_id: str, words: str) -> None:
    """The BHT is the transaction's: its defects reject the file. A defect inside one subscriber
    rejects that subscriber only (tests/loading/test_x12_271_subscribers.py)."""
    err = reject("bad.271", text("good.271").replace(old, new).encode())
    assert (err.segment_index, err.segment_id) == (index, seg_id)
    assert words in err.problem


@pytest.mark.parametrize(
    ("data", "index", "words"),
    [
        (b"", None, "the file is empty"),
        (b"hello world", None, "it does not start with ISA"),
        (b"ISA*00*    *00*", 1, "ISA is incomplete"),
        (b"\xef\xbb\xbf  ISA*00*", 1, "ISA is incomplete"),
    ],
)
def test_not_an_interchange(data: bytes, index: int | None, words: str) -> None:
    err = reject("junk.x12", data)
    assert err.segment_index == index
    assert words in err.problem


def test_bom_and_leading_whitespace_are_accepted() -> None:
    data = b"\xef\xbb\xbf\r\n  " + (FIXTURES / "good.271").read_bytes()
    assert read("bom.271", data).tables["stg.eligibility_responses"].num_rows == 3


def test_270_is_rejected() -> None:
    raw = text("good.271").replace("*HB*", "*HS*").replace("ST*271", "ST*270")
    err = reject("inquiry.270", raw.encode())
    assert (err.segment_index, err.segment_id) == (3, "ST")
    assert "270 is an eligibility inquiry" in err.problem


def test_is_x12() -> None:
    assert is_x12((FIXTURES / "good.835").read_bytes()[:16])
    assert is_x12(b"\xef\xbb\xbf\n ISA*00")
    assert not is_x12(b"claim_id,line_number\n")
    assert not is_x12(b"ISAAC")
    assert not is_x12(b"")


def test_no_input_crashes() -> None:
    """Random damage to good files: every outcome is a result or an X12Error with a place."""
    rng = random.Random(20251105)
    sources = [(FIXTURES / n).read_bytes() for n in ("good.835", "good.837", "good.271")]
    for _ in range(1500):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data))
            action = rng.random()
            if action < 0.3:
                del data[pos : pos + rng.randint(1, 20)]
            elif action < 0.6:
                data[pos] = rng.choice(b"*:^~\n0123456789AZ-.\xff ")
            elif action < 0.8:
                data.insert(pos, rng.choice(b"*:^~"))
            else:
                data = data[:pos]
        try:
            read("fuzz.x12", bytes(data))
        except X12Error as err:
            assert "could not be read" not in err.problem, (err, bytes(data))


def test_dependent_without_trn_takes_its_subscribers_trace() -> None:
    raw = text("good.271").replace("TRN*2*TRACE003*9877281234~\n", "").replace("SE*28*", "SE*27*")
    responses = read("no_trn.271", raw.encode()).tables["stg.eligibility_responses"].to_pylist()
    assert [r["trace_number"] for r in responses] == ["TRACE001", "TRACE002", "TRACE004"]


def test_missing_se_between_two_transactions() -> None:
    raw = text("good.835")
    body = raw[raw.index("ST*835") : raw.index("GE*")]
    two = raw.replace(body, body.replace("SE*39*0001~\n", "") + body.replace("*0001", "*0002"))
    err = reject("two_st.835", two.replace("GE*1*11", "GE*2*11").encode())
    assert (err.segment_index, err.segment_id) == (41, "ST")
    assert "ST inside a transaction: the transaction has no SE before it" in err.problem


def test_other_amounts_and_envelope_dates_are_checked() -> None:
    err = reject("amt.835", text("good.835").replace("AMT*B6*140.00", "AMT*B6*14O.00").encode())
    assert (err.segment_index, err.segment_id, err.problem) == (
        26, "AMT", "AMT02 '14O.00' is not an amount",
    )  # fmt: skip
    err = reject(
        "gs04.835", text("good.835").replace("*20251105*1200*11*", "*20251305*1200*11*").encode()
    )
    assert (err.segment_index, err.segment_id) == (2, "GS")
    assert "GS04 '20251305' is not a real date" in err.problem


def test_missing_bpr16_falls_back_to_the_production_date() -> None:
    raw = text("good.835").replace("*DA*98765*20251105", "*DA*98765*")
    payment = read("no_bpr16.835", raw.encode()).tables["stg.remit_payments"].to_pylist()[0]
    assert payment["payment_date"] == payment["production_date"] == date(2025, 11, 4)


def test_missing_bpr16_and_dtm405_is_rejected() -> None:
    raw = text("good.835").replace("*DA*98765*20251105", "*DA*98765*")
    raw = raw.replace("DTM*405*20251104~\n", "").replace("SE*39*", "SE*38*")
    err = reject("no_dates.835", raw.encode())
    assert (err.segment_index, err.segment_id) == (4, "BPR")
    assert "BPR16 (check or EFT effective date) is missing and there is no DTM*405" in err.problem


def _two_sets(second: str) -> str:
    """good.835 with a second transaction set (ST02 0002) after its first: ``second`` is the
    text of that set's body (ST..SE of good.835, edited by the caller)."""
    raw = text("good.835")
    body = raw[raw.index("ST*835") : raw.index("GE*")]
    return raw.replace(body, body + second).replace("GE*1*11", "GE*2*11")


def test_an_unbalanced_transaction_set_is_rejected_alone() -> None:
    raw = text("good.835")
    body = raw[raw.index("ST*835") : raw.index("GE*")].replace("*0001~", "*0002~")
    unbalanced = body.replace("BPR*I*", "BPR*I*1", 1)  # BPR02 gains a leading 1: 1xxx.xx
    result = read("two_sets.835", _two_sets(unbalanced).encode())
    assert result.transactions == 2
    # the first set loads exactly as good.835 alone does (payment ids carry the file hash)
    good = read("good.835")
    for table, data in result.tables.items():
        assert data.drop(["file_sha256", "payment_id"]).equals(
            good.tables[table].drop(["file_sha256", "payment_id"])
        ), table
    # the second is not staged at all, and named with its place and reason
    [part] = result.rejected
    bpr_index = body.split("~\n").index(next(s for s in body.split("~\n") if s.startswith("BPR")))
    assert (part.level, part.part, part.transaction_control, part.segment_id) == (
        "transaction", "transaction set 0002", "0002", "BPR",
    )  # fmt: skip
    assert part.segment_index == part.line == 2 + 39 + bpr_index + 1
    assert part.reason.startswith("BPR02 1") and "does not balance" in part.reason


def test_every_set_rejected_rejects_the_file_at_the_first() -> None:
    raw = text("unbalanced.835")
    body = raw[raw.index("ST*835") : raw.index("GE*")]
    two = raw.replace(body, body + body.replace("*0001~", "*0002~")).replace("GE*1*11", "GE*2*11")
    err = reject("both_bad.835", two.encode())
    assert (err.segment_index, err.segment_id) == (4, "BPR")
    assert "does not balance" in err.problem


@pytest.mark.parametrize(
    ("bad_date", "line", "words"),
    [
        (False, 30, "not a segment: it does not start with a segment id"),
        (False, 30, "GS inside a transaction: the transaction has no SE before it"),
        # CLM001 is rejected at line 28; its skipped segments are still read for syntax
        (True, 30, "not a segment: it does not start with a segment id"),
    ],
)
def test_syntax_inside_a_claim_rejects_the_file(bad_date: bool, line: int, words: str) -> None:
    raw = text("good.837")
    if bad_date:
        raw = raw.replace("DTP*472*D8*20251001~\nREF*6R*CLM001L1", "DTP*472*D8*20251301~\n"
                          "REF*6R*CLM001L1")  # fmt: skip
    junk = "GS*HC*X~" if "GS" in words else "12*34~"
    raw = raw.replace("LX*2~", junk + "\nLX*2~")
    err = reject("syntax.837", raw.encode())
    assert (err.segment_index, err.line) == (line, line)
    assert err.problem == words


def test_a_271_without_subscriber_is_rejected() -> None:
    """Found by the bad-input corpus: a 271 whose only HLs are the payer and the provider
    loaded as a response about nobody (0 rows, status loaded)."""
    lines = text("good.271").splitlines(keepends=True)
    raw = "".join(lines[:8] + lines[29:]).replace("SE*28*0001", "SE*7*0001")
    err = reject("nobody.271", raw.encode())
    assert (err.segment_index, err.segment_id, err.line, err.column) == (9, "SE", 9, 1)
    assert err.problem == (
        "transaction set 0001 has no subscriber (HL*22): a 271 answers for at least one "
        "(loop 2000C is required)"
    )


def test_a_nul_byte_inside_a_segment_is_rejected_at_its_segment() -> None:
    """Found by the bad-input corpus: a NUL inside CLM01 loaded as part of the claim id."""
    raw = text("good.837").replace("CLM*CLM002", "CLM*CLM\x00002")
    err = reject("nul.837", raw.encode())
    assert (err.segment_index, err.segment_id, err.line, err.column) == (45, "CLM", 45, 1)
    assert err.problem == (
        "control character 0x00 inside the segment: X12 text holds none (binary data or a "
        "damaged file)"
    )


def test_control_characters_used_as_delimiters_are_not_damage() -> None:
    raw = text("good.835").replace("~\n", "\x07")  # BEL ends each segment
    tables, good = read("delimited.835", raw.encode()).tables, read("good.835").tables
    for table, column in [("stg.remit_claims", "claim_id"), ("stg.remit_lines", "paid_amount")]:
        assert tables[table].column(column) == good[table].column(column)
