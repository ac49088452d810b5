"""The bad-input corpus: one case per bad (or odd) file, what recoup must say about it, and what
it may add to the warehouse.

A case puts one file into a copy of the clean demo inbox (``path``, relative to the inbox; with
``replaces`` it takes the place of a clean file of that name) and states:

* ``status``: ``rejected`` (nothing of the file is staged; ledger, quarantine and the run say
  ``message``), ``loaded`` (``message`` is what the run prints about its parts: the sentence of
  parts rejected on their own, or "" when the file loaded whole), or ``ignored`` (never read;
  ``message`` is the run's note);
* ``rows``: the staging rows the file adds over the clean run (its parts that load), and
  ``claim_lines``: the claim lines it adds to exposure.json's count (new unpaid claims; nothing
  else of exposure.json may change).

Files are built by ``tests/badinput/build.py`` from parameters, or derived from a clean demo
file (``derive(inbox)``: the inbox's files are the demo's for a fixed seed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.badinput import build as b
from tests.badinput.build import Claim, Line, Payment

Derive = Callable[[Path], bytes]


@dataclass(frozen=True)
class Case:
    id: str
    path: str  # inbox-relative; with ``replaces``, the feed folder whose first clean file it is
    data: bytes | Derive
    status: str  # rejected | loaded | ignored
    message: str
    rows: dict[str, int] = field(default_factory=dict)
    claim_lines: int = 0  # new unpaid claim lines, all with a date of service in 2025-12
    summary: dict[str, float] = field(default_factory=dict)  # other exposure.json deltas
    replaces: bool = False
    symlink: bool = False  # ``path`` is a symlink to the file, kept outside the inbox

    def content(self, inbox: Path) -> bytes:
        return self.data if isinstance(self.data, bytes) else self.data(inbox)

    def summary_deltas(self) -> dict[str, float]:
        """exposure.json values this file changes, by dotted path, and by how much."""
        deltas = dict(self.summary)
        if self.claim_lines:
            deltas["totals.claim_lines"] = self.claim_lines
            deltas["by_service_month.2025-12.claim_lines"] = self.claim_lines
        return deltas


def rejected(id: str, path: str, data: bytes | Derive, message: str) -> Case:
    return Case(id, path, data, "rejected", message)


def loaded(id: str, path: str, data: bytes | Derive, message: str = "", **more: Any) -> Case:
    return Case(id, path, data, "loaded", message, **more)


# ---- clean files the cases start from ------------------------------------------------------------

ONE_CLAIM = b.x837([Claim("BAD00001", "BADMEM1")])
TWO_CLAIMS = [Claim("BAD00001", "BADMEM1"), Claim("BAD00002", "BADMEM2")]


def demo_file(inbox: Path, feed: str, index: int = 0) -> Path:
    return sorted((inbox / feed).iterdir())[index]


def demo(feed: str, index: int = 0) -> Derive:
    """A clean demo file's bytes, as sent."""
    return lambda inbox: demo_file(inbox, feed, index).read_bytes()


def replace(data: bytes, old: bytes, new: bytes, count: int = 1) -> bytes:
    assert data.count(old) >= count, (old, data[:200])
    return data.replace(old, new, count)


def x12_resent(inbox: Path) -> bytes:
    """The first demo 837 sent again under new control numbers (the same claims, a new file)."""
    data = demo_file(inbox, "claims").read_bytes().decode()
    control = re.search(r"\*00501\*(\d{9})\*", data)
    assert control is not None
    old = control.group(1)
    data = data.replace(f"*{old}*", "*000900999*").replace(f"IEA*1*{old}", "IEA*1*000900999")
    gs06 = str(int(old))
    data = re.sub(rf"(GS\*HC\*[^~]*\*){gs06}(\*X\*)", r"\g<1>900999\2", data)
    data = data.replace(f"GE*1*{gs06}~", "GE*1*900999~")
    return data.encode()


def predated_note(inbox: Path) -> bytes:
    """The issue's case (9a): the demo's session row that has no minutes (its line has a
    ``documentation.time_missing`` finding) sent again with minutes and its note signed 35 days
    before it was, i.e. before the session. The finding and its exposure must stay."""
    for path in sorted((inbox / "sessions").iterdir()):
        for row in path.read_text().splitlines()[1:]:
            claim_id, line, minutes, signed, *_ = row.split(",")
            if signed and not minutes and claim_id == TIME_MISSING_CLAIM:
                early = datetime.fromisoformat(signed) - timedelta(days=35)
                return b.csv(b.SESSIONS_HEADER, f"{claim_id},{line},60,{early:%Y-%m-%dT%H:%M:%S},,")
    raise AssertionError(f"no unsigned-minutes session row of {TIME_MISSING_CLAIM} in the demo")


# the clean demo's one documentation.time_missing finding (line 1, $96.70)
TIME_MISSING_CLAIM = "PCN00000002"


def crlf(data: bytes) -> bytes:
    return data.replace(b"~\n", b"~").replace(b"~", b"~\r\n")


GOOD_SESSIONS = b.csv(b.SESSIONS_HEADER, "BADCSV1,,50,2025-12-02T10:00:00,12,9")

NOT_X12 = (
    "not an X12 interchange: no ISA segment at its start, and not a {} CSV either: its first "
    "line names none of the {} columns (a file without its header?)"
)
SUPPORTED = (
    "recoup reads 837P (005010X222A1, 005010X222A2), 835 (005010X221A1) and 271 (005010X279A1)"
)
SESSIONS_HEADER_MUST = (
    "sessions header must be claim_id,line_number,minutes,note_signed_at,phq9,gad7"
)
NEW_CLAIM = {"stg.claims": 1, "stg.claim_lines": 1}
CONTROL_0 = (
    "control character 0x00 inside the segment: X12 text holds none (binary data or a damaged file)"
)


def not_x12(name: str, feed: str = "claims") -> str:
    return f"{name}: " + NOT_X12.format(feed, feed)


# A CSV sent without its header: the first line is a member's row (id, name, birth date). No
# reason may quote it (issue 9, item 5).
HEADERLESS_ROW = "BADMEM7,Jane Q Patient,1961-04-12,ACMEH,2025-12-15,active"
# One line of 50 MB: the "header" of a remittances CSV whose third name is a 50 MB blob; the
# reason once quoted every name (a 52 MB reason). Derived when placed, not held in the module.
HUGE_LINE_BYTES = 50_000_000


def huge_line(_inbox: Path) -> bytes:
    return b"claim_id,paid_amount," + b"A" * HUGE_LINE_BYTES + b"\n"


CASES: list[Case] = [
    # ---- 837P ------------------------------------------------------------------------------------
    rejected(
        "837-empty-file",
        "claims/empty.837",
        b"",
        "empty.837: the file is empty",
    ),
    rejected(
        "837-utf16",
        "claims/utf16.837",
        ONE_CLAIM.decode().encode("utf-16"),
        not_x12("utf16.837"),
    ),
    loaded("837-bom", "claims", lambda i: b"\xef\xbb\xbf" + demo("claims")(i), replaces=True),
    loaded("837-crlf", "claims", lambda i: crlf(demo("claims")(i)), replaces=True),
    rejected(
        "837-junk-after-iea",
        "claims/junk_after.837",
        ONE_CLAIM + b"THIS IS NOT X12",
        "junk_after.837: segment 30 at line 30, column 1: expected ISA after the IEA, found "
        "something that is not a segment",
    ),
    rejected(
        "837-truncated-isa",
        "claims/truncated_isa.837",
        ONE_CLAIM[:60],
        "truncated_isa.837: segment 1 (ISA) at line 1, column 1: ISA is incomplete: it has "
        "fewer than 16 elements (file truncated?)",
    ),
    rejected(
        "837-truncated-inside",
        "claims/truncated.837",
        ONE_CLAIM[:-200],
        "truncated.837: segment 20 (CLM) at line 20, column 1: the file ends inside "
        "transaction 0001 (ST at segment 3): no SE, GE or IEA follows; the file is "
        "truncated",
    ),
    rejected(
        "837-missing-iea",
        "claims/no_iea.837",
        replace(ONE_CLAIM, b"IEA*1*000900001~\n", b""),
        "no_iea.837: segment 28 (GE) at line 28, column 1: the file ends without IEA for "
        "interchange 000900001: truncated",
    ),
    rejected(
        "837-bad-control-number",
        "claims/bad_control.837",
        replace(ONE_CLAIM, b"IEA*1*000900001", b"IEA*1*000900002"),
        "bad_control.837: segment 29 (IEA) at line 29, column 1: IEA02 '000900002' does not "
        "match ISA13 '000900001'",
    ),
    rejected(
        "837-se-count-wrong",
        "claims/se_count.837",
        re.sub(rb"SE\*\d+\*", b"SE*99*", ONE_CLAIM),
        "se_count.837: segment 27 (SE) at line 27, column 1: SE01 '99' does not match the 25 "
        "segments from ST to SE",
    ),
    rejected(
        "837-wrong-separators",
        "claims/separators.837",
        ONE_CLAIM[:106] + ONE_CLAIM[106:].replace(b"*", b"|"),
        "separators.837: segment 2 at line 2, column 1: expected GS or IEA in interchange "
        "000900001, found something that is not a segment",
    ),
    rejected(
        "837-unknown-version",
        "claims/v4010.837",
        ONE_CLAIM.replace(b"005010X222A1", b"004010X098A1"),
        "v4010.837: segment 2 (GS) at line 2, column 1: GS08 '004010X098A1' is not a "
        f"supported version: {SUPPORTED}",
    ),
    rejected(
        "837-negative-clm02",
        "claims/negative_total.837",
        b.x837([Claim("BAD00001", "BADMEM1", total="-150.00")]),
        "negative_total.837: segment 20 (CLM) at line 20, column 1: CLM02 '-150.00' is "
        "negative: a claim's total charge cannot be",
    ),
    loaded(
        "837-negative-sv102",
        "claims/negative_line.837",
        b.x837(
            [TWO_CLAIMS[0], Claim("BAD00002", "BADMEM2", [Line(charge="-150.00")], total="150.00")]
        ),
        "1 of 2 claims in claims/negative_line.837 was not loaded: CLM01 BAD00002 (segment "
        "SV1, line 39, col 1: SV102 '-150.00' is negative: a line charge cannot be)",
        rows=NEW_CLAIM,
        claim_lines=1,
    ),
    rejected(
        "837-negative-units",
        "claims/negative_units.837",
        b.x837([Claim("BAD00001", "BADMEM1", [Line(units="-1")])]),
        "negative_units.837: segment 25 (SV1) at line 25, column 1: SV104 '-1' is not above "
        "0: a line bills at least one unit",
    ),
    loaded(
        "837-impossible-date",
        "claims/feb30.837",
        b.x837([TWO_CLAIMS[0], Claim("BAD00002", "BADMEM2", [Line(dos="20250230")])]),
        "1 of 2 claims in claims/feb30.837 was not loaded: CLM01 BAD00002 (segment DTP, line "
        "40, col 1: DTP03 '20250230' is not a real date (CCYYMMDD))",
        rows=NEW_CLAIM,
        claim_lines=1,
    ),
    loaded(
        "837-same-clm01-twice-in-one-file",
        "claims/clm01_twice.837",
        b.x837([Claim("BAD00001", "BADMEM1"), Claim("BAD00001", "BADMEM1")]),
        rows={"stg.claims": 2, "stg.claim_lines": 2},
        claim_lines=1,
    ),
    # the same claims sent again in a new file: the same claims (resubmissions), not new ones
    loaded(
        "837-same-claims-in-two-files",
        "claims/resent.837",
        x12_resent,
        rows={"stg.claims": 3, "stg.claim_lines": 4},
    ),
    rejected(
        "837-in-eligibility-folder",
        "eligibility/claims.837",
        ONE_CLAIM,
        "claims.837: eligibility/ expects X12 271 but the file holds 837P",
    ),
    rejected(
        "837-in-sessions-folder",
        "sessions/claims.837",
        ONE_CLAIM,
        "claims.837: X12 is not accepted in sessions/ (CSV/Parquet only)",
    ),
    rejected(
        "837-binary-junk",
        "claims/junk.837",
        bytes(range(256)) * 4,
        not_x12("junk.837"),
    ),
    rejected(
        "837-nul-bytes",
        "claims/nul.837",
        replace(ONE_CLAIM, b"CLM*BAD", b"CLM*B\x00AD"),
        f"nul.837: segment 20 (CLM) at line 20, column 1: {CONTROL_0}",
    ),
    loaded(
        "837-very-long-segment",
        "claims/long.837",
        re.sub(
            rb"SE\*\d+\*",
            b"SE*26*",
            replace(ONE_CLAIM, b"HI*ABK:F411~", b"HI*ABK:F411~\nNTE*ADD*" + b"A" * 200_000 + b"~"),
        ),
        rows=NEW_CLAIM,
        claim_lines=1,
    ),
    rejected(
        "835-in-claims-folder",
        "claims/pay.835",
        b.x835([Payment("BAD00001")]),
        "pay.835: claims/ expects X12 837P but the file holds 835",
    ),
    rejected(
        "claims-x12-without-isa",
        "claims/no_isa.837",
        ONE_CLAIM[107:],
        not_x12("no_isa.837"),
    ),
    rejected(
        "unknown-extension",
        "claims/scan.pdf",
        b"%PDF-1.4 not a feed",
        not_x12("scan.pdf"),
    ),
    # ---- 271 -------------------------------------------------------------------------------------
    rejected(
        "271-no-subscriber",
        "eligibility/empty.271",
        b.x271([]),
        "empty.271: segment 9 (SE) at line 9, column 1: transaction set 0001 has no "
        "subscriber (HL*22): a 271 answers for at least one (loop 2000C is required)",
    ),
    rejected(
        "271-impossible-check-date",
        "eligibility/feb30.271",
        b.x271(["BADMEM1"], check="20250230"),
        "feb30.271: segment 4 (BHT) at line 4, column 1: BHT04 '20250230' is not a real date "
        "(CCYYMMDD)",
    ),
    rejected(
        "271-truncated",
        "eligibility/truncated.271",
        b.x271(["BADMEM1"])[:-120],
        "truncated.271: segment 11 (NM1) at line 11, column 1: the file ends inside "
        "transaction 0001 (ST at segment 3): no SE, GE or IEA follows; the file is "
        "truncated",
    ),
    loaded(
        "271-one-bad-subscriber",
        "eligibility/one_bad.271",
        replace(
            b.x271(["BADMEM1", "BADMEM2"]),
            b"RD8*20250101-20251231~\nSE",
            b"RD8*20251231-20250101~\nSE",
        ),
        "1 of 2 subscribers in eligibility/one_bad.271 was not loaded: subscriber 2 (segment "
        "DTP, line 20, col 1: DTP03 '20251231-20250101' is a date range that ends before it "
        "begins)",
        rows={"stg.eligibility_responses": 1, "stg.eligibility_benefits": 1},
    ),
    rejected(
        "270-not-271",
        "eligibility/inquiry.271",
        b.x271(["BADMEM1"]).replace(b"ST*271", b"ST*270"),
        "inquiry.271: segment 3 (ST) at line 3, column 1: transaction set 270 is an "
        "eligibility inquiry, not a response: recoup reads 837P claims, 835 remittances and "
        "271 eligibility responses",
    ),
    rejected(
        "eligibility-csv-missing-column",
        "eligibility/no_status.csv",
        b.csv("member_id,payer_id,check_date", "BADMEM1,ACMEH,2025-12-15"),
        "no_status.csv (column 'status'): required column missing (header has: member_id, "
        "payer_id, check_date)",
    ),
    rejected(
        "eligibility-csv-end-before-begin",
        "eligibility/backwards.csv",
        b.csv(b.ELIGIBILITY_HEADER, "BADMEM1,ACMEH,2025-12-15,active,2025-12-31,2025-01-01"),
        "backwards.csv (line 2, column 'coverage_end'): coverage_end is before coverage_begin",
    ),
    rejected(
        "eligibility-csv-bad-status",
        "eligibility/status.csv",
        b.csv(b.ELIGIBILITY_HEADER, "BADMEM1,ACMEH,2025-12-15,maybe,,"),
        "status.csv (line 2, column 'status'): value is not active or inactive",
    ),
    rejected(
        "eligibility-csv-without-header",
        "eligibility/noheader.csv",
        (HEADERLESS_ROW + "\n").encode(),
        not_x12("noheader.csv", "eligibility"),
    ),
    # ---- 835 -------------------------------------------------------------------------------------
    rejected(
        "835-unbalanced",
        "remittances/unbalanced.835",
        b.x835([Payment("BAD00001")], total="100.00"),
        "unbalanced.835: segment 4 (BPR) at line 4, column 1: BPR02 100.00 does not balance: "
        "sum of CLP04 90.00 minus PLB amounts 0 = 90.00",
    ),
    rejected(
        "835-bad-amount",
        "remittances/amount.835",
        b.x835([Payment("BAD00001", paid="90.005")], total="90.00"),
        "amount.835: segment 10 (CLP) at line 10, column 1: CLP04 '90.005' is not a money "
        "amount (at most 2 decimals and 16 digits)",
    ),
    rejected(
        "835-no-payment-date",
        "remittances/no_date.835",
        replace(
            replace(b.x835([Payment("BAD00001")]), b"*20251220~", b"~"), b"DTM*405*20251220~\n", b""
        ).replace(b"SE*12*", b"SE*11*"),
        "no_date.835: segment 4 (BPR) at line 4, column 1: BPR16 (check or EFT effective "
        "date) is missing and there is no DTM*405 production date to stand in for it",
    ),
    rejected(
        "835-group-count-wrong",
        "remittances/ge.835",
        replace(b.x835([Payment("BAD00001")]), b"GE*1*", b"GE*2*"),
        "ge.835: segment 15 (GE) at line 15, column 1: GE01 '2' does not match the 1 "
        "transaction sets (ST) it closes",
    ),
    loaded(
        "835-one-unbalanced-set",
        "remittances/one_unbalanced.835",
        b.envelope(
            [
                b.remittance_segments([Payment("BAD00001")]),
                b.remittance_segments([Payment("BAD00002")], total="1.00", trace="BADT2"),
            ],
            kind="835",
            version="005010X221A1",
            control=900301,
        ),
        "1 of 2 transactions in remittances/one_unbalanced.835 was not loaded: transaction "
        "set 0002 (segment BPR, line 16, col 1: BPR02 1.00 does not balance: sum of CLP04 "
        "90.00 minus PLB amounts 0 = 90.00)",
        rows={
            "stg.remit_payments": 1,
            "stg.remit_claims": 1,
            "stg.remit_lines": 1,
            "stg.remit_adjustments": 1,
        },
        # the set that loads pays a claim recoup does not know: an unmatched remittance
        summary={"unmatched_remittances.count": 1, "unmatched_remittances.amount": 90.0},
    ),
    rejected(
        "remittance-csv-bad-decimal",
        "remittances/decimal.csv",
        b.csv(b.REMITTANCES_HEADER, 'T1,2025-12-20,ACMEH,BAD00001,1,90834,2025-12-02,"1,234.00"'),
        "decimal.csv (line 2, column 'paid_amount'): value is not an amount with at most "
        "two decimals",
    ),
    rejected(
        "remittance-csv-missing-column",
        "remittances/no_paid.csv",
        b.csv(
            b.REMITTANCES_HEADER.removesuffix(",paid_amount"),
            "T1,2025-12-20,ACMEH,BAD00001,1,90834,2025-12-02",
        ),
        "no_paid.csv (column 'paid_amount'): required column missing (header has: "
        "trace_number, payment_date, payer_id, claim_id, claim_status, procedure_code, "
        "date_of_service)",
    ),
    rejected(
        "remittance-csv-impossible-date",
        "remittances/feb30.csv",
        b.csv(b.REMITTANCES_HEADER, "T1,2026-02-30,ACMEH,BAD00001,1,90834,2025-12-02,90.00"),
        "feb30.csv (line 2, column 'payment_date'): value is not an ISO date (YYYY-MM-DD)",
    ),
    rejected(
        "remittances-csv-one-50mb-line",
        "remittances/huge.csv",
        huge_line,
        "huge.csv (column 'trace_number'): required column missing (header has: claim_id, "
        "paid_amount and 1 other name)",
    ),
    # ---- sessions --------------------------------------------------------------------------------
    rejected(
        "sessions-csv-without-header",
        "sessions/noheader.csv",
        (HEADERLESS_ROW + "\n").encode(),
        f"noheader.csv (column 'claim_id'): {SESSIONS_HEADER_MUST}",
    ),
    rejected(
        "sessions-phq9-28",
        "sessions/phq9.csv",
        b.csv(b.SESSIONS_HEADER, "BADCSV1,,50,2025-12-02T10:00:00,28,9"),
        "phq9.csv (line 2, column 'phq9'): value is outside 0-27",
    ),
    rejected(
        "sessions-gad7-negative",
        "sessions/gad7.csv",
        b.csv(b.SESSIONS_HEADER, "BADCSV1,,50,2025-12-02T10:00:00,12,-1"),
        "gad7.csv (line 2, column 'gad7'): value is outside 0-21",
    ),
    rejected(
        "sessions-zero-minutes",
        "sessions/zero.csv",
        b.csv(b.SESSIONS_HEADER, "BADCSV1,,0,2025-12-02T10:00:00,12,9"),
        "zero.csv (line 2, column 'minutes'): value is outside 1-1440 (empty = not documented)",
    ),
    rejected(
        "sessions-impossible-timestamp",
        "sessions/feb30.csv",
        b.csv(b.SESSIONS_HEADER, "BADCSV1,,50,2026-02-30T10:00:00,12,9"),
        "feb30.csv (line 2, column 'note_signed_at'): value is not an ISO timestamp",
    ),
    rejected(
        "sessions-duplicate-row",
        "sessions/twice.csv",
        b.csv(b.SESSIONS_HEADER, "BADCSV1,1,50,,,", "BADCSV1,1,55,,,"),
        "twice.csv (line 3, column 'line_number'): duplicate key (claim_id, line_number)",
    ),
    rejected(
        "sessions-utf16",
        "sessions/utf16.csv",
        GOOD_SESSIONS.decode().encode("utf-16"),
        "utf16.csv: is UTF-16 text (it starts with a UTF-16 byte order mark): save it as UTF-8",
    ),
    rejected(
        "sessions-xlsx-renamed-csv",
        "sessions/workbook.csv",
        b.xlsx(),
        "workbook.csv: is a ZIP archive (a spreadsheet such as .xlsx?), not CSV text",
    ),
    rejected(
        "sessions-nul-bytes",
        "sessions/nul.csv",
        replace(GOOD_SESSIONS, b"BADCSV1", b"BAD\x00CSV1"),
        "nul.csv (line 2): holds a NUL byte (binary data, not CSV text)",
    ),
    rejected(
        "sessions-ragged-row",
        "sessions/ragged.csv",
        b.csv(b.SESSIONS_HEADER, "BADCSV1,,50,2025-12-02T10:00:00,12,9,EXTRA"),
        "ragged.csv (line 2): 7 fields where the header has 6",
    ),
    rejected(
        "sessions-missing-column",
        "sessions/no_gad7.csv",
        b.csv(b.SESSIONS_HEADER.removesuffix(",gad7"), "BADCSV1,,50,,"),
        f"no_gad7.csv (column 'gad7'): {SESSIONS_HEADER_MUST}",
    ),
    rejected("sessions-empty-file", "sessions/empty.csv", b"", "empty.csv: the file is empty"),
    loaded(
        "sessions-bom", "sessions", lambda i: b"\xef\xbb\xbf" + demo("sessions")(i), replaces=True
    ),
    # issue 9, 9a: a row signed before its session loads, and changes no finding
    loaded(
        "sessions-note-signed-before-session",
        "sessions/predated.csv",
        predated_note,
        rows={"stg.sessions": 1},
    ),
    # ---- reference -------------------------------------------------------------------------------
    rejected(
        "payers-negative-lookback",
        "reference/payers_neg.csv",
        b.csv("payer_id,name,lookback_months,telehealth_modifier_required", "ACMEH,ACME,-1,false"),
        "payers_neg.csv (line 2, column 'lookback_months'): look-back cannot be negative",
    ),
    rejected(
        "fee-schedule-bad-amount",
        "reference/fees_abc.csv",
        b.csv("payer_id,code,allowed_amount", "ACMEH,90834,abc"),
        "fees_abc.csv (line 2, column 'allowed_amount'): value is not an amount with at most "
        "two decimals",
    ),
    rejected(
        "fee-schedule-duplicate-key",
        "reference/fees_twice.csv",
        b.csv("payer_id,code,allowed_amount", "ACMEH,90834,90.00", "ACMEH,90834,95.00"),
        "fees_twice.csv (line 3, column 'code'): duplicate key (payer_id, code)",
    ),
    rejected(
        "reference-unknown-header",
        "reference/other.csv",
        b.csv("a,b,c", "1,2,3"),
        "other.csv: not a reference file: expected the header of fee_schedule.csv "
        "(payer_id,code,allowed_amount) or payers.csv (payer_id,name,lookback_months,"
        "telehealth_modifier_required)",
    ),
    # ---- claims CSV and Parquet ------------------------------------------------------------------
    rejected(
        "claims-csv-negative-charge",
        "claims/negative.csv",
        b.csv(b.CLAIMS_HEADER, b.claims_row(charge="-150.00")),
        "negative.csv (line 2, column 'charge'): value is negative: a charge cannot be",
    ),
    rejected(
        "claims-csv-impossible-date",
        "claims/feb30.csv",
        b.csv(b.CLAIMS_HEADER, b.claims_row(dos="2026-02-30")),
        "feb30.csv (line 2, column 'date_of_service'): value is not an ISO date (YYYY-MM-DD)",
    ),
    rejected(
        "claims-parquet-missing-column",
        "claims/no_charge.parquet",
        b.parquet({"claim_id": ["BADPQ1"], "line_number": [1]}),
        "no_charge.parquet (column 'member_id'): required column missing (header has: "
        "claim_id, line_number)",
    ),
    rejected(
        "claims-parquet-bad-charge",
        "claims/charge.parquet",
        b.parquet(
            dict(
                zip(
                    b.CLAIMS_HEADER.split(","),
                    ([v] for v in b.claims_row(charge="abc").split(",")),
                    strict=True,
                )
            )
        ),
        "charge.parquet (line 2, column 'charge'): value is not an amount with at most two "
        "decimals",
    ),
    rejected(
        "parquet-truncated",
        "claims/truncated.parquet",
        b.parquet({"claim_id": ["BADPQ1"]})[:40],
        "truncated.parquet: cannot be read as parquet: parquet: File out of specification: "
        "The file must end with PAR1 or PARE",
    ),
    rejected(
        "sessions-parquet-phq9-99",
        "sessions/scores.parquet",
        b.parquet(
            {
                "claim_id": ["BADPQ1"],
                "line_number": [None],
                "minutes": [50],
                "note_signed_at": ["2025-12-02T10:00:00"],
                "phq9": [99],
                "gad7": [1],
            }
        ),
        "scores.parquet (line 2, column 'phq9'): value is outside 0-27",
    ),
    # ---- folders ---------------------------------------------------------------------------------
    Case(
        "file-in-a-folder-that-is-no-feed",
        "misc/claims.837",
        ONE_CLAIM,
        "ignored",
        "misc/: not a feed folder (expected one of reference, claims, eligibility, remittances, "
        "sessions)",
    ),
    # paths lane (issue 9, item 7): a symlink to a file outside the inbox is never read
    Case(
        "symlink-to-a-file-outside-the-inbox",
        "claims/passwd.csv",
        b.csv(b.CLAIMS_HEADER, b.claims_row()),
        "ignored",
        "claims/passwd.csv: symlink: not followed",
        symlink=True,
    ),
]
