"""Conformance: every public X12 sample loads with the values it holds, or is rejected with a
specific message at an exact segment. Values below were read off the sample files by hand."""

from __future__ import annotations

import hashlib
import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loading.x12 import X12Error, X12Result, read_x12

SAMPLES = Path(
    os.environ.get("RECOUP_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared/x12-samples")
)
ALL = sorted(
    p for p in SAMPLES.glob("*/*") if p.is_file() and p.suffix in {".270", ".271", ".835", ".837"}
)
pytestmark = pytest.mark.skipif(not ALL, reason=f"no X12 samples under {SAMPLES}")

# file name -> (segment index, segment id, words the message must hold)
REJECTED = {
    "dependent-health-benefit-check.270": (3, "ST", "270 is an eligibility inquiry"),
    "subscriber-health-benefit-check.270": (3, "ST", "270 is an eligibility inquiry"),
    "subscriber-health-benefit-check-error.271": (10, "SE", "SE02 '4323' does not match ST02"),
    "managed-care.835": (4, "BPR", "BPR16 '20002316' is not a real date"),
    # these declare ':' as component separator (ISA16) but write composites with '>'
    # (the three 835s also lack BPR16, which DTM*405 would have stood in for)
    "cob-contractural-adjustment.835": (21, "SVC", "SVC01 'HC>55669' has no procedure code"),
    "secondary-payment.835": (29, "SVC", "SVC01 'HC>12345>26' has no procedure code"),
    "tertiary-payment.835": (20, "SVC", "SVC01 'HC' has no procedure code"),
    "demo.cob.2ndary.example4.837": (21, "CLM", "CLM05 '11>B>1' is not place of service"),
    "demo.example11.837": (21, "CLM", "CLM05 '11>B>1' is not place of service"),
    "demo.example12.837": (26, "CLM", "CLM05 '23>B>1' is not place of service"),
    "demo.example6.837": (21, "CLM", "CLM05 '11>B>1' is not place of service"),
    "demo.example9.837": (20, "CLM", "CLM05 '22>B>1' is not place of service"),
}  # fmt: skip


TABLES = {
    "835": {"stg.remit_payments", "stg.remit_claims", "stg.remit_lines", "stg.remit_adjustments",
            "stg.remit_provider_adjustments", "stg.remit_remarks"},
    "837p": {"stg.claims", "stg.claim_lines"},
    "271": {"stg.eligibility_responses", "stg.eligibility_benefits"},
}  # fmt: skip


def load(name: str) -> X12Result:
    path = next(p for p in ALL if p.name == name)
    data = path.read_bytes()
    return read_x12(data, path.name, hashlib.sha256(data).hexdigest())


def rows(result: X12Result, table: str) -> list[dict[str, Any]]:
    return result.tables[table].drop(["file_sha256"]).to_pylist()


def test_every_sample_is_listed() -> None:
    assert {p.name for p in ALL} >= set(REJECTED)
    assert len(ALL) == 28


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_sample_loads_or_is_rejected_specifically(path: Path) -> None:
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if path.name in REJECTED:
        index, seg_id, words = REJECTED[path.name]
        with pytest.raises(X12Error) as caught:
            read_x12(data, path.name, sha)
        err = caught.value
        assert (err.segment_index, err.segment_id, err.line, err.column) == (
            index,
            seg_id,
            index,
            1,
        )
        assert words in err.problem
        assert str(err).startswith(f"{path.name}: segment {index} ({seg_id}) at line {index}")
        return
    result = read_x12(data, path.name, sha)
    assert result.kind == {".835": "835", ".837": "837p", ".271": "271"}[path.suffix]
    assert result.interchanges == result.transactions == 1
    assert set(result.tables) == TABLES[result.kind]
    for table in result.tables.values():
        assert set(table.column("file_sha256").to_pylist()) <= {sha}


def test_835_medicare_part_a_values() -> None:
    result = load("medicare-part-a.835")
    sha = hashlib.sha256(next(p for p in ALL if p.name == "medicare-part-a.835").read_bytes())
    pid = f"{sha.hexdigest()[:16]}:000000907:1234"
    [payment] = rows(result, "stg.remit_payments")
    assert payment == {
        "payment_id": pid, "transaction_control": "1234", "handling_code": "C",
        "total_paid": Decimal("150000.00"), "credit_debit": "C", "payment_method": "ACH",
        "payment_date": date(2002, 9, 13), "trace_number": "12345",
        "payer_id": "999",  # no N104 on N1*PR: REF*2U
        "payer_name": "INSURANCE COMPANY OF TIMBUCKTU", "payee_npi": "6543210903",
        "payee_id": "6543210903", "production_date": date(2002, 9, 16),
    }  # fmt: skip
    claims = rows(result, "stg.remit_claims")
    assert [
        (c["claim_seq"], c["claim_id"], c["status_code"], c["total_charge"], c["paid_amount"])
        for c in claims
    ] == [
        (1, "666123", "1", Decimal("211366.97"), Decimal("138018.40")),
        (2, "777777", "1", Decimal("15000.00"), Decimal("11980.33")),
    ]
    assert [(c["member_id"], c["filing_indicator"], c["place_of_service"]) for c in claims] == [
        ("666666666A", "MA", "11"),
        ("996669999B", "MB", "13"),
    ]
    assert claims[0]["statement_start"] == date(2002, 8, 16)
    assert claims[0]["statement_end"] == date(2002, 8, 24)
    assert claims[1]["statement_start"] == date(2002, 5, 12)
    assert claims[0]["payer_claim_control"] == "1999999444444"
    assert rows(result, "stg.remit_lines") == []
    assert [
        (a["claim_seq"], a["line_seq"], a["group_code"], a["reason_code"], a["amount"])
        for a in rows(result, "stg.remit_adjustments")
    ] == [(1, None, "CO", "45", Decimal("73348.57")), (2, None, "CO", "45", Decimal("3019.67"))]
    [plb] = rows(result, "stg.remit_provider_adjustments")
    assert plb == {
        "payment_id": pid, "adjustment_seq": 1, "provider_id": "6543210903",
        "fiscal_period_date": date(2002, 12, 31), "reason_code": "CV", "reference_id": "CP",
        "amount": Decimal("-1.27"),
    }  # fmt: skip
    # balanced: 150000.00 = 138018.40 + 11980.33 - (-1.27)


def test_271_subscriber_values() -> None:
    result = load("subscriber-health-benefit-check.271")
    [response] = rows(result, "stg.eligibility_responses")
    assert response["response_id"].endswith(":4321:1")
    assert {k: v for k, v in response.items() if k != "response_id"} == {
        "check_date": date(2006, 5, 1), "trace_number": "93175-012547",
        "payer_id": "841610001", "payer_name": "ABC COMPANY", "member_id": "123456789",
        "is_dependent": False, "rejection_reason": None,
    }  # fmt: skip
    benefits = rows(result, "stg.eligibility_benefits")
    many = ["1", "33", "35", "47", "86", "88", "98", "AL", "MH", "UC"]
    assert [
        (b["benefit_seq"], b["eligibility_code"], b["coverage_status"], b["service_types"])
        for b in benefits
    ] == [
        (1, "1", "active", ["30"]),
        (2, "L", None, []),
        (3, "1", "active", many),
        (4, "B", None, many),
        (5, "B", None, many),
    ]
    assert benefits[0]["plan_description"] == "GOLD 123 PLAN"
    assert benefits[3]["insurance_type"] == "HM"
    # 2100C DTP*346 (plan begin) applies to every EB; no end date: open-ended
    assert {(b["coverage_begin"], b["coverage_end"], b["date_qualifiers"]) for b in benefits} == {
        (date(2006, 1, 1), None, "346")
    }


def test_271_dependent_values() -> None:
    result = load("dependent-health-benefit-check.271")
    # the 2000C loop only introduces its dependent: one response, about the dependent
    [response] = rows(result, "stg.eligibility_responses")
    assert response["member_id"] == "123456789"  # the subscriber's id
    assert response["is_dependent"] is True
    assert response["trace_number"] == "93175-012547"
    assert response["payer_id"] == "841610001"
    assert response["check_date"] == date(2006, 5, 1)
    benefits = rows(result, "stg.eligibility_benefits")
    assert [b["coverage_status"] for b in benefits] == ["active", None, "active", None, None]
    assert benefits[0]["coverage_begin"] == date(2006, 1, 1)  # 2100D DTP*346
    assert benefits[0]["coverage_end"] is None


def _key(member: str, last: str, first: str, born: str) -> str:
    return f"{member}~{hashlib.sha256(f'{last}|{first}|{born}'.encode()).hexdigest()[:12]}"


# claim id -> (file, total, member, payer, billing NPI, claim rendering, patient key, POS, freq, dx)
CLAIMS = {
    "demo.ambulance.example5.837": ("051068", "766.50", "012345678A", "123245", "2366554859",
                                    None, "012345678A", "41", "1",
                                    ["8628", "E8888", "9592", "8540"]),
    "demo.autoaccident.837": ("900000032", "185.00", "B99977791G", "999888777", "1253695747",
                              "2366552595", _key("B99977791G", "DIMPSON", "DJ", "19480601"), "11",
                              "1", ["8540"]),
    "demo.cob.example3.A.837": ("26407789", "79.04", "111223333", "999996666", "1999996666",
                                "1999996666", _key("111223333", "SMITH", "TED", "19730501"), "11",
                                "1", ["4779", "2724", "2780", "53081"]),
    "demo.cob.example3.B.837": ("26407789", "79.04", "222334444", "567890", "1999996666",
                                "1999996666", _key("222334444", "SMITH", "TED", "19730501"), "11",
                                "1", ["4779", "2724", "2780", "53081"]),
    "demo.cob.example3.C.837": ("26407789", "79.04", "22233444", "567890", "1999996666",
                                "1999996666", _key("22233444", "SMITH", "TED", "19730501"), "11",
                                "1", ["4779", "2724", "2780", "53081"]),
    "demo.cob.example4.837": ("101KEN6055", "120.00", "102200221B1", "10234", "0100000009",
                              "9090909090", "102200221B1", "11", "1", ["71516", "71906"]),
    "demo.drug.example10.1.837": ("CLMNO12345", "103.37", "MBRID12345", "PLANID12345",
                                  "1234567893", "1122333341", "MBRID12345", "11", "1", ["03591"]),
    "demo.drug.example10.2.837": ("CLMNO12345", "2232.93", "MBRID01234", "PLANID12345",
                                  "1234567893", None, "MBRID01234", "12", "1", ["4659"]),
    "demo.drug.example10.3.837": ("CLMNO12345", "2232.93", "MBRID01234", "PLANID12345",
                                  "1234567893", None, "MBRID01234", "12", "1", ["4659"]),
    "demo.example1.837": ("26463774", "100.00", "JS00111223333", "999996666", "1912301953", None,
                          _key("JS00111223333", "SMITH", "TED", "19730501"), "11", "1",
                          ["0340", "V7389"]),
    "demo.example2.837": ("26462967", "100.00", "00221111", "741234", "9876543210", None,
                          "00221111", "11", "1", ["0340", "V7389"]),
    "demo.example7.837": ("R03996273 #01", "520.24", "111222333A", "99999", "9992233334", None,
                          "111222333A", "11", "1", ["496", "51881", "2859"]),
    "demo.example8.837": ("SMI123", "75.00", "987654321A", "99999", "7778889999", None,
                          "987654321A", "12", "1", ["436", "3449"]),
}  # fmt: skip

D = date
# file -> lines (number, code, modifiers, charge, units, DOS, DOS end, REF*6R, rendering, POS)
LINES = {
    "demo.ambulance.example5.837": [
        (1, "A0427", ["RH"], "700.00", "1", D(2005, 2, 8), None, "1001", "2366554859", "41"),
        (2, "A0425", ["RH"], "8.20", "21", D(2005, 2, 8), None, "1002", "2366554859", "41"),
        (3, "A0422", ["RH"], "46.00", "1", D(2005, 2, 8), None, "1003", "2366554859", "41"),
        (4, "A0382", ["RH"], "12.30", "1", D(2005, 2, 8), None, "1004", "2366554859", "41"),
    ],
    "demo.autoaccident.837": [
        (1, "99201", [], "150.00", "1", D(2005, 10, 31), None, None, "2366552595", "11"),
        (2, "26010", [], "35.00", "1", D(2005, 10, 31), None, None, "2366552595", "11"),
    ],
    "demo.cob.example3.C.837": [
        (1, "99213", [], "43.00", "1", D(2005, 10, 3), None, None, "1999996666", "11"),
        (2, "90782", [], "15.00", "1", D(2005, 10, 3), None, None, "1999996666", "11"),
        (3, "J3301", [], "21.04", "1", D(2005, 10, 3), None, None, "1999996666", "11"),
    ],
    "demo.cob.example4.837": [
        (1, "99203", ["25"], "120.00", "1", D(2005, 1, 19), None, None, "9090909090", "11"),
    ],
    "demo.drug.example10.1.837": [
        (1, "90782", [], "50.00", "1", D(2004, 7, 11), None, None, "1122333341", "11"),
        (2, "J1550", [], "53.37", "1", D(2004, 7, 11), None, None, "1122333341", "11"),
    ],
    "demo.drug.example10.2.837": [
        (n, code, [], charge, units, D(2004, 2, 1), D(2004, 2, 7), None, "1234567893", "12")
        for n, code, charge, units in [
            (1, "S9500", "1400.00", "7"), (2, "S5001", "682.50", "7"), (3, "S5000", "15.12", "14"),
            (4, "S5000", "67.69", "7"), (5, "S5000", "57.12", "14"), (6, "S5000", "10.50", "7"),
        ]
    ],
    "demo.example1.837": [
        (1, "99213", [], "40.00", "1", D(2006, 10, 3), None, None, "1912301953", "11"),
        (2, "87070", [], "15.00", "1", D(2006, 10, 3), None, None, "1912301953", "11"),
        (3, "99214", [], "35.00", "1", D(2006, 10, 10), None, None, "1912301953", "11"),
        (4, "86663", [], "10.00", "1", D(2006, 10, 10), None, None, "1912301953", "11"),
    ],
    "demo.example7.837": [
        (1, "E1390", ["RR"], "461.10", "1", D(2005, 3, 21), D(2005, 3, 21), None, "9992233334",
         "11"),
        (2, "E0431", ["RR"], "59.14", "1", D(2005, 3, 21), D(2005, 3, 21), None, "9992233334",
         "11"),
    ],
    "demo.example8.837": [
        (1, "K0001", ["RR", "KH", "BR"], "75.00", "1", D(2005, 3, 21), D(2005, 3, 21), None,
         "7778889999", "12"),
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_837_claim_values(name: str) -> None:
    result = load(name)
    [claim] = rows(result, "stg.claims")
    cid, total, member, payer, billing, rendering, key, pos, freq, dx = CLAIMS[name]
    assert claim["claim_id"] == cid
    assert claim["total_charge"] == Decimal(total)
    assert (claim["member_id"], claim["payer_id"]) == (member, payer)
    assert (claim["billing_npi"], claim["rendering_npi"]) == (billing, rendering)
    assert claim["patient_key"] == key
    assert claim["patient_is_subscriber"] is (key == member)
    assert (claim["place_of_service"], claim["frequency_code"]) == (pos, freq)
    assert claim["diagnosis_codes"] == dx
    assert claim["interchange_control"] == "000000907"
    lines = rows(result, "stg.claim_lines")
    assert all(line["claim_id"] == cid for line in lines)
    assert sum(line["charge"] for line in lines) == Decimal(total)
    if name in LINES:
        assert [
            (
                x["line_number"], x["procedure_code"], x["modifiers"], x["charge"], x["units"],
                x["date_of_service"], x["date_of_service_end"], x["line_control_number"],
                x["rendering_npi"], x["place_of_service"],
            )
            for x in lines
        ] == [
            (n, c, m, Decimal(ch), Decimal(u), d1, d2, ref, rnd, p)
            for n, c, m, ch, u, d1, d2, ref, rnd, p in LINES[name]
        ]  # fmt: skip


def test_837_submitted_dates_and_controls() -> None:
    claim = rows(load("demo.example1.837"), "stg.claims")[0]
    assert claim["submitted_date"] == date(2006, 10, 15)
    assert claim["transaction_control"] == "0021"
    assert claim["billing_tax_id"] == "587654321"
    claim = rows(load("demo.drug.example10.2.837"), "stg.claims")[0]
    assert claim["billing_tax_id"] == "10-1234567"
    assert claim["payer_name"] == "R&R Health Plan"
