"""Remark codes (RARCs) in the dispute assessment: an 835 whose reversals carry CAS, LQ*HE and
MOA remark codes, read by the X12 reader into stg.remit_remarks, gives each takeback its
``payer_remarks`` in plain words; N30 counts as an eligibility reason (as CARC 27) and M127 as a
documentation reason (as CARC 150/151), other remarks are reported only."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from expectations.config import load_config
from loading.x12 import read_x12
from reporting import disputes
from reporting.queries import scoped_tables
from reporting.scope import Scope
from tests.badinput import build as b
from tests.reporting.test_disputes import AS_OF, _paid_claim
from tests.rulekit import Kit, new_kit
from warehouse.connection import insert_tables

# two reversals of 120.00 on 2024-10-01 from payer P1: BPR02 240.00 debit = -120.00 - 120.00
REVERSALS = [
    "BPR*I*240.00*D*ACH*CCP*01*071000013*DA*9912345678*1462345678**01*075000022*DA*5566778899"
    "*20241001",
    "TRN*1*TRACE22*1462345678",
    "N1*PR*PAYER ONE*XV*P1",
    "N1*PE*CLINIC*XX*1111111111",
    "LX*1",
    # eligibility only: no new CAS, the line's LQ says the patient is not eligible
    "CLP*EN30*22*-120.00*-120.00**12*PCC1*11*1",
    "NM1*QC*1*X*Y****MI*M21",
    "SVC*HC:90837*-120.00*-120.00",
    "DTM*472*20240603",
    "LQ*HE*N30",
    # documentation: CAS CO-16 on the reversal, MOA M127 (checked) and N290 (reported only)
    "CLP*DM127*22*-120.00*-120.00**12*PCC2*11*1",
    "CAS*CO*16*120.00",
    "MOA***M127*N290",
    "NM1*QC*1*X*Y****MI*M22",
    "SVC*HC:90837*-120.00*-120.00",
    "DTM*472*20240603",
    "LQ*HE*N999",
]


@pytest.fixture(scope="module")
def judged() -> Iterator[tuple[Kit, dict[str, disputes.Assessment]]]:
    kit = new_kit(AS_OF)
    kit.insert("ref.payers", {"payer_id": "P1", "name": "P1", "lookback_months": 24,
                              "telehealth_modifier_required": False, "source": "t",
                              "appeal_days": 120})  # fmt: skip
    # active coverage; a provider that sends no sessions feed (documentation: no record)
    _paid_claim(kit, "EN30", "M21", session=False, billing_npi="3333333333")
    # active coverage and a signed note of 60 minutes
    _paid_claim(kit, "DM127", "M22")
    sha = kit.file("remittances")
    data = b.envelope([REVERSALS], kind="835", version="005010X221A1")
    result = read_x12(data, "reversals.835", sha)
    assert result.rejected == [] and result.warnings == []
    insert_tables(kit.con, result.tables)
    kit.run(as_of=AS_OF)
    config = load_config()
    with scoped_tables(kit.con, Scope.nightly(), AS_OF, config):
        ordered = disputes.assess(kit.con, as_of=AS_OF, thresholds=config)
    yield kit, {t.claim_id: t for t in ordered}


def test_the_remarks_are_staged(judged: tuple[Kit, dict[str, disputes.Assessment]]) -> None:
    kit, _ = judged
    rows = kit.rows(
        "SELECT c.claim_id, m.claim_seq, m.line_seq, m.level, m.source, m.code "
        "FROM stg.remit_remarks AS m JOIN stg.remit_claims AS c USING (file_sha256, payment_id, "
        "claim_seq) ORDER BY m.claim_seq, m.line_seq NULLS FIRST, m.source, m.code"
    )
    assert rows == [
        ("EN30", 1, 1, "line", "LQ02", "N30"),
        ("DM127", 2, None, "claim", "MOA03", "M127"),
        ("DM127", 2, None, "claim", "MOA04", "N290"),
        ("DM127", 2, 1, "line", "LQ02", "N999"),
    ]


def test_n30_is_an_eligibility_reason(
    judged: tuple[Kit, dict[str, disputes.Assessment]],
) -> None:
    t = judged[1]["EN30"]
    assert (t.kind, t.amount, t.payer_codes, t.payer_remarks) == ("reversal", 120, [], ["N30"])
    assert t.payer_said == "N30: the patient is not eligible for this service"
    # as CARC 27 would: only eligibility is needed, and the active 271 contradicts the payer
    # (without the remark, a bare reversal needs every record and the missing note says unknown)
    assert t.verdict == disputes.DISPUTABLE
    response = t.lines[0]["coverage_response_id"]
    assert t.reasons == [
        f"contradicts N30: 271 response {response} checked 2024-05-20 says coverage was active "
        "on 2024-06-03"
    ]
    assert (t.deadline, t.days_left) == (date(2025, 1, 29), 29)
    bare = disputes.Assessment(**{**t.__dict__, "payer_remarks": [], "checks": {}})
    disputes.judge(bare)
    assert bare.verdict == disputes.UNKNOWN


def test_m127_is_a_documentation_reason_and_other_remarks_are_reported(
    judged: tuple[Kit, dict[str, disputes.Assessment]], tmp_path: Path
) -> None:
    kit, by_claim = judged
    t = by_claim["DM127"]
    assert (t.payer_codes, t.payer_remarks) == (["CO-16"], ["M127", "N290", "N999"])
    assert t.verdict == disputes.DISPUTABLE
    assert t.reasons == [
        "contradicts CO-16, M127: line 1 (90837): note signed 2024-06-03 documents 60 min (at "
        "least 53)"
    ]
    remarks = (
        "M127: the patient's medical record for this service is missing; N290: the rendering "
        "provider's identifier is missing or invalid; remark code N999"
    )
    assert t.payer_said == f"CO-16: information is missing from the claim; {remarks}"
    folder = tmp_path / "report"
    folder.mkdir()
    disputes.write_disputes(kit.con, folder, list(by_claim.values()), as_of=AS_OF)
    with (folder / "disputes.csv").open(newline="") as handle:
        rows = {row["claim_id"]: row for row in csv.DictReader(handle)}
    assert list(rows["DM127"])[-1] == "payer_remarks"
    assert rows["DM127"]["payer_remarks"] == remarks
    assert rows["DM127"]["verdict"] == "disputable"
    assert rows["EN30"]["payer_remarks"] == "N30: the patient is not eligible for this service"
    page = (folder / rows["DM127"]["packet"] / "summary.html").read_text()
    assert '<ul id="remarks"><li>M127: the patient&#39;s medical record' in page
    assert "<li>remark code N999</li></ul>" in page
    assert "<li>CO-16: information is missing from the claim</li>" in page
