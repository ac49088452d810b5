"""A defect inside one 271 subscriber rejects that subscriber only (SPEC "Structural checks"):
nothing of it is staged, its place and reason are recorded ("subscriber N", never a name or a
member id), and the other subscribers load exactly as a file without it gives them. Envelope,
syntax and HL hierarchy defects still reject the file, and so does a file whose every subscriber
is bad."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from loading import ingest, ledger
from loading.x12 import RejectedPart, X12Error, X12Result, read_x12

HEAD = [
    "ISA*00*          *00*          *ZZ*ACME           *ZZ*MINDFUL        *251105*1200*^*00501*"
    "000000401*0*P*:",
    "GS*HB*ACME*MINDFUL*20251105*1200*41*X*005010X279A1",
    "ST*271*0001*005010X279A1",
    "BHT*0022*11*INQ1*20251001*0800",
    "HL*1**20*1",
    "NM1*PR*2*ACME HEALTH PLAN*****PI*ACME01",
    "HL*2*1*21*1",
    "NM1*1P*2*MINDFUL THERAPY GROUP*****XX*1234567893",
]
# subscriber 1: 2100C one-day date answered for, an EB with its own 2110C end
FIRST = [
    "HL*3*2*22*0",  # segment 9
    "TRN*2*TRACE001*9877281234",
    "NM1*IL*1*DOE*JANE****MI*MEM001",
    "DMG*D8*19800101*F",
    "DTP*307*RD8*20251001-20251001",
    "EB*1*IND*30^MH**GOLD PLAN",
    "EB*6*IND*MH",
    "DTP*347*D8*20250630",
]
# subscriber 2 with a dependent: its own response is staged when HL 23 opens, so a defect in
# the dependent must take that back too
SECOND = [
    "HL*4*2*22*1",  # segment 17
    "TRN*2*TRACE002*9877281234",
    "NM1*IL*1*ROE*RICHARD****MI*SUB002",  # 19
    "DMG*D8*19750505*M",  # 20
    "DTP*346*D8*20250101",  # 21
    "EB*1*IND*30",  # 22
    "HL*5*4*23*0",  # 23
    "TRN*2*TRACE003*9877281234",
    "NM1*03*1*ROE*LILY",
    "DTP*291*D8*20250301",  # 26
    "EB*1**30",  # 27
]
# subscriber 3 with a dependent without TRN (it takes its subscriber's)
THIRD = [
    "HL*6*2*22*1",  # segment 28
    "TRN*2*TRACE004*9877281234",
    "NM1*IL*1*POE*EDGAR****MI*MEM003",
    "EB*1*IND*30",
    "DTP*346*D8*20250101",
    "HL*7*6*23*0",
    "NM1*03*1*POE*ANNA",
    "DTP*291*RD8*20250101-20251231",
    "EB*1**30",
]


def x12(*subscribers: list[str]) -> bytes:
    """A 271 with these subscribers, one segment per line (a segment's position is its line)."""
    body = HEAD + [seg for sub in subscribers for seg in sub]
    count = len(body) - 2 + 1  # ST..SE
    tail = [f"SE*{count}*0001", "GE*1*41", "IEA*1*000000401"]
    return "".join(f"{seg}~\n" for seg in body + tail).encode()


def read(data: bytes, name: str = "three.271") -> X12Result:
    return read_x12(data, name, hashlib.sha256(data).hexdigest())


def swap(block: list[str], old: str, new: str | None) -> list[str]:
    """``block`` with segment ``old`` replaced by ``new`` (None: removed)."""
    assert old in block
    return [s for seg in block for s in ([new] if seg == old else [seg]) if s is not None]


def rows(result: X12Result) -> dict[str, list[dict[str, object]]]:
    """Staged rows without the file hash (response ids keep their transaction and number)."""
    out = {}
    for name, table in result.tables.items():
        listed = table.drop(["file_sha256"]).to_pylist()
        for row in listed:
            row["response_id"] = row["response_id"].split(":", 1)[1]
        out[name] = listed
    return out


def test_three_good_subscribers() -> None:
    result = read(x12(FIRST, SECOND, THIRD))
    assert (result.rejected, result.parts_loaded) == ([], 3)
    assert [
        (r["response_id"], r["member_id"], r["is_dependent"], r["trace_number"])
        for r in rows(result)["stg.eligibility_responses"]
    ] == [
        ("0001:1", "MEM001", False, "TRACE001"),
        ("0001:2", "SUB002", False, "TRACE002"),
        ("0001:3", "SUB002", True, "TRACE003"),
        ("0001:4", "MEM003", False, "TRACE004"),
        ("0001:5", "MEM003", True, "TRACE004"),
    ]  # fmt: skip
    assert [
        (b["response_id"], b["eligibility_code"], b["coverage_begin"], b["coverage_end"],
         b["date_qualifiers"], b["answered_for"])
        for b in rows(result)["stg.eligibility_benefits"]
    ] == [
        # the 2100C one-day 307 is the date answered for, never mixed with the EB's own 347
        ("0001:1", "1", None, None, None, date(2025, 10, 1)),
        ("0001:1", "6", None, date(2025, 6, 30), "347", None),
        ("0001:2", "1", date(2025, 1, 1), None, "346", None),
        ("0001:3", "1", None, None, None, date(2025, 3, 1)),  # a one-day 2100D 291 too
        ("0001:4", "1", date(2025, 1, 1), None, "346", None),
        ("0001:5", "1", date(2025, 1, 1), date(2025, 12, 31), "291", None),
    ]  # fmt: skip


def test_an_impossible_date_rejects_its_subscriber_only() -> None:
    bad = swap(SECOND, "DTP*346*D8*20250101", "DTP*346*D8*20250230")
    result = read(x12(FIRST, bad, THIRD))
    assert result.rejected == [
        RejectedPart(
            "subscriber", "000000401", "0001", "subscriber 2", 21, "DTP", 21, 1,
            "DTP03 '20250230' is not a real date (CCYYMMDD)",
        )
    ]  # fmt: skip
    assert result.rejected[0].describe() == (
        "subscriber 2 (segment DTP, line 21, col 1: DTP03 '20250230' is not a real date (CCYYMMDD))"
    )
    assert result.parts_loaded == 2
    # the first and third load exactly as a file without the second gives them
    assert rows(result) == rows(read(x12(FIRST, THIRD)))
    members = result.tables["stg.eligibility_responses"].column("member_id").to_pylist()
    assert members == ["MEM001", "MEM003", "MEM003"]
    assert result.tables["stg.eligibility_benefits"].num_rows == 4


@pytest.mark.parametrize(
    ("old", "new", "index", "seg_id", "reason"),
    [
        # in the dependent (2000D): the subscriber's response, already staged, goes too
        ("DTP*291*D8*20250301", "DTP*291*D8*20250431", 26, "DTP",
         "DTP03 '20250431' is not a real date (CCYYMMDD)"),
        ("DTP*291*D8*20250301", "DTP*291*D6*20250301", 26, "DTP",
         "DTP02 'D6' is not a date format qualifier (D8 or RD8)"),
        ("DTP*346*D8*20250101", "DTP*346*RD8*20250601-20250101", 21, "DTP",
         "DTP03 '20250601-20250101' is a date range that ends before it begins"),
        ("DTP*346*D8*20250101", "DTP*346*D8", 21, "DTP", "DTP has too few elements"),
        ("EB*1*IND*30", "EB**IND*30", 22, "EB", "EB01 (eligibility or benefit code) is empty"),
        ("EB*1*IND*30", "EB*ZZ*IND*30", 22, "EB",
         "EB01 'ZZ' is not an eligibility or benefit code"),
        ("EB*1**30", "EB*active**30", 27, "EB",
         "EB01 'active' is not an eligibility or benefit code"),
        # names and member ids are never quoted: the element is named instead
        ("NM1*IL*1*ROE*RICHARD****MI*SUB002", "NM1*IL*1*ROE*RICHARD", 19, "NM1",
         "NM1*IL (subscriber, 2100C) has no member id in NM109"),
        ("NM1*IL*1*ROE*RICHARD****MI*SUB002", None, 17, "HL",
         "the subscriber loop (HL 22) has no NM1*IL (2100C)"),
        ("DMG*D8*19750505*M", "DMG*D8*19750532*M", 20, "DMG",
         "DMG02 is not a real date (CCYYMMDD)"),
    ],
)  # fmt: skip
def test_a_defect_inside_a_subscriber_rejects_it_alone(
    old: str, new: str | None, index: int, seg_id: str, reason: str
) -> None:
    result = read(x12(FIRST, swap(SECOND, old, new), THIRD))
    [part] = result.rejected
    assert (part.level, part.part, part.segment_index, part.segment_id, part.line, part.column) == (
        "subscriber", "subscriber 2", index, seg_id, index, 1,
    )  # fmt: skip
    assert part.reason == reason
    assert "ROE" not in part.describe() and "SUB002" not in part.describe()
    assert result.parts_loaded == 2
    assert rows(result) == rows(read(x12(FIRST, THIRD)))


def test_a_member_the_payer_could_not_find_may_have_no_member_id() -> None:
    """NM1*IL without NM109 is accepted when the loop carries the payer's AAA (it explains)."""
    unknown = swap(SECOND[:5], "NM1*IL*1*ROE*RICHARD****MI*SUB002", "NM1*IL*1*ROE*RICHARD")
    unknown = swap(unknown, "DTP*346*D8*20250101", "AAA*Y**75*N")
    unknown[0] = "HL*4*2*22*0"
    result = read(x12(FIRST, unknown, THIRD))
    assert (result.rejected, result.parts_loaded) == ([], 3)
    responses = result.tables["stg.eligibility_responses"].to_pylist()
    assert [(r["member_id"], r["rejection_reason"]) for r in responses] == [
        ("MEM001", None), (None, "75"), ("MEM003", None), ("MEM003", None),
    ]  # fmt: skip


def test_subscriber_numbers_count_across_transactions() -> None:
    """``subscriber N`` is the subscriber's order in the file, not in its transaction."""
    one = x12(FIRST, SECOND).decode().split("\n")
    bad_third = swap(THIRD, "DTP*346*D8*20250101", "DTP*346*D8*2025")
    two = x12(bad_third, THIRD).decode().split("\n")
    second_tx = [seg.replace("*0001", "*0002") for seg in two[2:-3]]
    text = "\n".join(one[:-3] + second_tx + ["GE*2*41~", "IEA*1*000000401~", ""])
    result = read(text.encode())
    [part] = result.rejected
    assert (part.part, part.transaction_control, part.segment_id) == (
        "subscriber 3", "0002", "DTP",
    )  # fmt: skip
    assert part.reason == "DTP03 '2025' is not a date (CCYYMMDD)"
    assert result.parts_loaded == 3


def test_every_subscriber_bad_rejects_the_file_at_the_first_defect() -> None:
    first = swap(FIRST, "EB*6*IND*MH", "EB*?*IND*MH")
    second = swap(SECOND, "DTP*346*D8*20250101", "DTP*346*D8*20250230")
    with pytest.raises(X12Error) as caught:
        read(x12(first, second), "all_bad.271")
    err = caught.value
    assert (err.segment_index, err.segment_id, err.line, err.column) == (15, "EB", 15, 1)
    assert str(err) == (
        "all_bad.271: segment 15 (EB) at line 15, column 1: EB01 '?' is not an eligibility or "
        "benefit code"
    )


@pytest.mark.parametrize(
    ("old", "new", "index", "seg_id", "words"),
    [
        # a broken hierarchy rejects the file, even inside a subscriber already rejected
        ("HL*4*2*22*1", "HL*4*2*24*1", 17, "HL", "HL03 '24' is not 20, 21, 22 or 23"),
        ("HL*5*4*23*0", "HL*5*4*99*0", 23, "HL", "HL03 '99' is not 20, 21, 22 or 23"),
        # syntax: an envelope segment or a line that is not a segment
        ("NM1*03*1*ROE*LILY", "GE*1*41", 25, "GE", "GE inside a transaction"),
        ("NM1*03*1*ROE*LILY", "123*X", 25, None, "not a segment"),
    ],
)
def test_hierarchy_and_syntax_still_reject_the_file(
    old: str, new: str, index: int, seg_id: str | None, words: str
) -> None:
    # the subscriber is already rejected (segment 21) before the later defects
    second = swap(SECOND, "DTP*346*D8*20250101", "DTP*346*D8*20250230")
    if index == 17:
        second = SECOND
    with pytest.raises(X12Error) as caught:
        read(x12(FIRST, swap(second, old, new), THIRD))
    err = caught.value
    assert (err.segment_index, err.segment_id) == (index, seg_id)
    assert words in err.problem


def test_a_dependent_before_any_subscriber_rejects_the_file() -> None:
    with pytest.raises(X12Error) as caught:
        read(x12(["HL*3*2*23*0", "NM1*03*1*ROE*LILY", "EB*1**30"], THIRD))
    assert (caught.value.segment_index, caught.value.segment_id) == (9, "HL")
    assert "dependent HL (23) outside a subscriber HL (22)" in caught.value.problem


def test_ingest_records_the_rejected_subscriber(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "eligibility").mkdir(parents=True)
    bad = swap(SECOND, "DTP*346*D8*20250101", "DTP*346*D8*20250230")
    (inbox / "eligibility" / "october.271").write_bytes(x12(FIRST, bad, THIRD))
    report = ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    [outcome] = report.outcomes
    assert (outcome.status, outcome.fmt) == ("loaded", "x12-271")
    assert outcome.rows == {"stg.eligibility_responses": 3, "stg.eligibility_benefits": 4}
    assert outcome.partly_rejected() == (
        "1 of 3 subscribers in eligibility/october.271 was not loaded: subscriber 2 (segment "
        "DTP, line 21, col 1: DTP03 '20250230' is not a real date (CCYYMMDD))"
    )
    assert warehouse.execute(
        "SELECT f.file_name, f.status, f.part_kind, f.parts_total, p.level, p.part, "
        "p.interchange_control, p.transaction_control, p.segment_index, p.segment_id, p.line, "
        "p.col, p.reason, p.run_id FROM ledger.rejected_parts p JOIN ledger.files f "
        "USING (file_sha256)"
    ).fetchall() == [
        ("october.271", "loaded", "subscribers", 3, "subscriber", "subscriber 2", "000000401",
         "0001", 21, "DTP", 21, 1, "DTP03 '20250230' is not a real date (CCYYMMDD)", "run-1"),
    ]  # fmt: skip
    assert warehouse.execute(
        "SELECT member_id, is_dependent, trace_number FROM stg.eligibility_responses ORDER BY rowid"
    ).fetchall() == [("MEM001", False, "TRACE001"), ("MEM003", False, "TRACE004"),
                     ("MEM003", True, "TRACE004")]  # fmt: skip
    # the run summary and the HTML report read the same sentence from the ledger
    assert ledger.not_loaded(warehouse) == [outcome.partly_rejected()]


def test_the_last_subscriber_is_checked_when_its_transaction_closes() -> None:
    last = ["HL*8*2*22*0", "NM1*IL*1*LOE*MAX", "EB*1*IND*30"]  # segments 26-28, then SE
    result = read(x12(FIRST, THIRD, last))
    assert result.rejected == [
        RejectedPart(
            "subscriber", "000000401", "0001", "subscriber 3", 27, "NM1", 27, 1,
            "NM1*IL (subscriber, 2100C) has no member id in NM109",
        )
    ]  # fmt: skip
    assert result.parts_loaded == 2
    assert rows(result) == rows(read(x12(FIRST, THIRD)))
