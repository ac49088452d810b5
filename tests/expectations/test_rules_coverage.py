"""coverage.lapsed and coverage.unverified: exact findings at the date boundaries."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

from loading.x12 import read_x12
from tests.rulekit import Kit, finding, new_kit

LAPSED = "coverage.lapsed"
UNVERIFIED = "coverage.unverified"


def paid_on(kit: Kit, claim_id: str, dos: date, **options: object) -> None:
    kit.paid_line(claim_id, "90834", "100.00", date_of_service=dos, **options)  # type: ignore[arg-type]


def test_dos_on_the_coverage_end_date_is_covered_the_day_after_is_not() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 2), [("active", date(2024, 1, 1), date(2024, 6, 30))])
    paid_on(kit, "C-END", date(2024, 6, 30))
    paid_on(kit, "C-AFTER", date(2024, 7, 1))
    kit.run()
    assert kit.findings(LAPSED) == [finding("C-AFTER", LAPSED, "100.00")]


def test_dos_before_coverage_began_is_lapsed() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 3, 1), [("active", date(2024, 3, 1), None)])
    paid_on(kit, "C-BEFORE", date(2024, 2, 29))
    paid_on(kit, "C-FIRST", date(2024, 3, 1))
    kit.run()
    assert kit.findings(LAPSED) == [finding("C-BEFORE", LAPSED, "100.00")]
    evidence = json.loads(
        kit.rows("SELECT evidence FROM mart.findings WHERE rule = ?", [LAPSED])[0][0]
    )
    assert evidence["covered_from"] == "2024-03-01"
    assert evidence["status_on_date"] == "no response speaks about this date"


def test_retro_termination_learned_later_makes_a_paid_line_lapsed() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 2), [("active", date(2024, 1, 1), None)])
    paid_on(kit, "C-MAY", date(2024, 5, 6))
    paid_on(kit, "C-MAR", date(2024, 3, 4))
    kit.run()
    assert kit.findings(LAPSED) == []
    retro = kit.eligibility(date(2024, 9, 1), [("active", date(2024, 1, 1), date(2024, 3, 31))])
    kit.run()
    assert kit.findings(LAPSED) == [finding("C-MAY", LAPSED, "100.00")]
    evidence = json.loads(
        kit.rows("SELECT evidence FROM mart.findings WHERE rule = ?", [LAPSED])[0][0]
    )
    assert evidence["decided_by_response"] == retro
    assert evidence["decided_by_check_date"] == "2024-09-01"
    assert evidence["covered_until"] == "2024-03-31"


def test_lapsed_only_for_member_and_payer_with_eligibility_data_and_partial_skip_named() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 1, 2), [("active", date(2024, 1, 1), date(2024, 1, 31))])
    paid_on(kit, "C-M1", date(2024, 6, 3))
    paid_on(kit, "C-M2", date(2024, 6, 3), member_id="M2")  # no response for M2: not evaluated
    paid_on(kit, "C-P2", date(2024, 6, 3), payer_id="P2")  # no response for P2 at all
    result = kit.run()
    assert kit.findings(LAPSED) == [finding("C-M1", LAPSED, "100.00")]
    assert result.skipped[LAPSED] == (
        "partial: not evaluated for 1 payer(s) with no eligibility response about coverage: P2"
    )


def test_unverified_30_days_before_is_verified_31_is_not() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 5, 4), [("active", date(2024, 1, 1), None)])
    paid_on(kit, "C-30", date(2024, 6, 3))  # 30 days after the check
    paid_on(kit, "C-31", date(2024, 6, 4))  # 31 days
    paid_on(kit, "C-EARLY", date(2024, 5, 3))  # the only check is after the DOS
    kit.run()
    assert kit.findings(UNVERIFIED) == [
        finding("C-31", UNVERIFIED, "0.00"),
        finding("C-EARLY", UNVERIFIED, "0.00"),
    ]
    assert kit.findings(LAPSED) == []


def test_unverified_window_is_configurable() -> None:
    kit = new_kit()
    kit.eligibility(date(2024, 5, 4), [("active", date(2024, 1, 1), None)])
    paid_on(kit, "C-30", date(2024, 6, 3))
    kit.run({"coverage.unverified_days": 29})
    assert kit.findings(UNVERIFIED) == [finding("C-30", UNVERIFIED, "0.00")]


def test_no_eligibility_data_skips_both_coverage_rules() -> None:
    kit = new_kit()
    paid_on(kit, "C1", date(2024, 6, 3))
    result = kit.run()
    reason = "no eligibility data: the warehouse holds no eligibility response"
    assert result.skipped[LAPSED] == reason
    assert result.skipped[UNVERIFIED] == reason
    assert LAPSED not in result.counts
    assert kit.findings(LAPSED) == kit.findings(UNVERIFIED) == []


# ---- a Medicare-shaped 271 (005010X279A1) written for these tests: fixtures/x12/medicare.271
# 2100C DTP*307*RD8*20191230-20191230 is the date CMS answered for; the Part A/B EBs carry their own
# 2110C DTP*291*D8*20150701 (entitlement began) and no end.
MEDICARE = Path(__file__).parent.parent / "fixtures" / "x12" / "medicare.271"
PART_AB = "1EG4TE5MK73"  # active A and B since 2015-07-01, own dates
INACTIVE = "2EG4TE5MK74"  # EB*6, no own dates, 2100C one-day DTP*307
RANGE = "3EG4TE5MK75"  # EB*1, no own dates, 2100C DTP*291*RD8*20190101-20191231
OWN_END = "4EG4TE5MK76"  # 2100C DTP*291 RD8 range, EB*1 with its own DTP*347*D8*20190630


def load_271(kit: Kit, path: Path) -> None:
    """Stage every table of a real 271 file under a new ledger file of the kit."""
    data = path.read_bytes()
    result = read_x12(data, path.name, hashlib.sha256(data).hexdigest())
    sha = kit.file("eligibility")
    for table, arrow in result.tables.items():
        for row in arrow.to_pylist():
            kit.insert(table, {**row, "file_sha256": sha})


def medicare_kit() -> Kit:
    kit = new_kit()
    load_271(kit, MEDICARE)
    return kit


def test_medicare_answer_date_is_not_an_end_date_and_own_begin_still_holds() -> None:
    kit = medicare_kit()
    paid_on(kit, "C-AFTER", date(2020, 3, 1), member_id=PART_AB, payer_id="CMS")
    paid_on(kit, "C-ANSWERED", date(2019, 12, 30), member_id=PART_AB, payer_id="CMS")
    paid_on(kit, "C-2016", date(2016, 2, 1), member_id=PART_AB, payer_id="CMS")
    paid_on(kit, "C-BEFORE", date(2015, 6, 30), member_id=PART_AB, payer_id="CMS")
    kit.run()
    assert kit.findings(LAPSED) == [finding("C-BEFORE", LAPSED, "100.00")]
    assert kit.rows(
        "SELECT span_start, span_end FROM mart.coverage_spans WHERE member_id = ?", [PART_AB]
    ) == [(date(2015, 7, 1), None)]
    evidence = json.loads(
        kit.rows("SELECT evidence FROM mart.findings WHERE rule = ?", [LAPSED])[0][0]
    )
    assert evidence["covered_from"] == "2015-07-01"


def test_medicare_inactive_eb_without_own_dates_is_inactive_from_the_check_date() -> None:
    kit = medicare_kit()
    paid_on(kit, "C-DAY-BEFORE", date(2019, 12, 29), member_id=INACTIVE, payer_id="CMS")
    paid_on(kit, "C-ON", date(2019, 12, 30), member_id=INACTIVE, payer_id="CMS")
    paid_on(kit, "C-LATER", date(2020, 3, 1), member_id=INACTIVE, payer_id="CMS")
    kit.run()
    # C-DAY-BEFORE: no response speaks about it, so it is lapsed too (no active coverage known)
    assert kit.findings(LAPSED) == [
        finding("C-DAY-BEFORE", LAPSED, "100.00"),
        finding("C-LATER", LAPSED, "100.00"),
        finding("C-ON", LAPSED, "100.00"),
    ]
    statuses = kit.rows(
        "SELECT segment_start, segment_end, status FROM mart.coverage_segments WHERE member_id = ?",
        [INACTIVE],
    )
    assert statuses == [(date(2019, 12, 30), date(9999, 12, 31), "inactive")]


def test_2100_range_with_different_dates_is_a_span_when_ebs_have_no_own_dates() -> None:
    kit = medicare_kit()
    paid_on(kit, "C-JAN1", date(2019, 1, 1), member_id=RANGE, payer_id="CMS")
    paid_on(kit, "C-DEC31", date(2019, 12, 31), member_id=RANGE, payer_id="CMS")
    paid_on(kit, "C-2020", date(2020, 1, 1), member_id=RANGE, payer_id="CMS")
    paid_on(kit, "C-2018", date(2018, 12, 31), member_id=RANGE, payer_id="CMS")
    kit.run()
    assert kit.findings(LAPSED) == [
        finding("C-2018", LAPSED, "100.00"),
        finding("C-2020", LAPSED, "100.00"),
    ]
    assert kit.rows(
        "SELECT span_start, span_end FROM mart.coverage_spans WHERE member_id = ?", [RANGE]
    ) == [(date(2019, 1, 1), date(2019, 12, 31))]


def test_eb_with_its_own_end_ends_there_whatever_the_2100_dates() -> None:
    kit = medicare_kit()
    paid_on(kit, "C-JUN30", date(2019, 6, 30), member_id=OWN_END, payer_id="CMS")
    paid_on(kit, "C-JUL1", date(2019, 7, 1), member_id=OWN_END, payer_id="CMS")
    paid_on(kit, "C-2018", date(2018, 3, 1), member_id=OWN_END, payer_id="CMS")
    kit.run()
    # the 2100 range (2019-01-01..2019-12-31) is not mixed in: no begin (open-started), own end
    assert kit.findings(LAPSED) == [finding("C-JUL1", LAPSED, "100.00")]
    assert kit.rows(
        "SELECT span_start, span_end FROM mart.coverage_spans WHERE member_id = ?", [OWN_END]
    ) == [(None, date(2019, 6, 30))]


def test_one_day_2100_date_alone_makes_an_active_eb_active_that_day_and_silent_after() -> None:
    kit = new_kit()
    response = kit.eligibility(date(2024, 5, 1), [("active", None, None)])
    kit.con.execute(
        "UPDATE stg.eligibility_benefits SET answered_for = DATE '2024-05-01' "
        "WHERE response_id = ?",
        [response],
    )
    kit.eligibility(date(2024, 1, 2), [("active", date(2024, 1, 1), date(2024, 3, 31))])
    paid_on(kit, "C-MAR", date(2024, 3, 4))
    paid_on(kit, "C-APR", date(2024, 4, 15))
    paid_on(kit, "C-ANSWERED", date(2024, 5, 1))
    paid_on(kit, "C-JUN", date(2024, 6, 3))
    kit.run()
    # the older span ends 2024-03-31; the newer response says active on 2024-05-01 only and
    # nothing about June, so June stays as the older response left it (not covered)
    assert kit.findings(LAPSED) == [
        finding("C-APR", LAPSED, "100.00"),
        finding("C-JUN", LAPSED, "100.00"),
    ]
