"""Public conformance corpus: 58 837P/835/271 files from the test data of 7 open-source X12
projects go through ``ingest_inbox`` (the path ``recoup run`` takes), one file per fresh inbox and
warehouse. Each file is either loaded, loaded without some of its parts (837P claims, 835
transaction sets, 271 subscribers, rejected on their own), or rejected with a stated reason, and
the table below says why that outcome is right. For every 835 and 837P that loads, the staged
counts and sums (CLP and CLP04, SVC and SVC03, CLM and CLM02, SV1 and SV102) must equal what this
test counts by splitting the segments itself, with no project code.

The files are public data: they are kept outside the repository, under ``../shared/x12-public``
(or ``$RECOUP_X12_PUBLIC``); ``tests/fixtures/x12/public-sources.md`` lists each file with its
repository, path, commit and licence. Without that folder the corpus tests are skipped; the
checking itself still runs on this repository's hand-written fixtures.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loading.ingest import FileOutcome, ingest_inbox, table_counts
from tests.conftest import X12_PUBLIC
from warehouse.connection import open_warehouse
from warehouse.money import CENT

SOURCES = Path(__file__).resolve().parent.parent / "fixtures" / "x12" / "public-sources.md"
FEED = {".837": "claims", ".835": "remittances", ".271": "eligibility"}


@dataclass(frozen=True)
class Expect:
    status: str  # loaded | partial | rejected
    reason: str = ""  # rejected: a substring of the ledger's reason
    rejected_parts: tuple[str, ...] = ()  # partial: the rejected parts' ids (CLM01, ST02, ...)
    of: int = 0  # partial: how many parts the file held


def loaded() -> Expect:
    return Expect("loaded")


def partial(rejected: list[str], of: int) -> Expect:
    return Expect("partial", rejected_parts=tuple(rejected), of=of)


def rejected(reason: str) -> Expect:
    return Expect("rejected", reason=reason)


SE01 = "SE01 '25' does not match the"  # imsweb's test files all carry SE*25 whatever their size
NO_ISA = "not an X12 interchange: no ISA segment"

# file -> expected outcome, and why it is right
EXPECTED: list[Any] = [
    # --- edi-835-parser (MIT)
    # starts at ST: no ISA/GS envelope, so no delimiters, sender or control numbers to trust
    ("edi835parser-blue_cross_nc_sample.835", rejected(NO_ISA)),
    ("edi835parser-emedny_sample.835", loaded()),  # 5010 835, balanced, delimiters as declared
    ("edi835parser-united_healthcare_legacy_sample.835", loaded()),  # 5010 835, ISA16 '>'
    # --- imsweb x12-parser (BSD-3-Clause): every 837 says SE*25 whatever its segment count
    # (a count error rejects the transaction set: 999 IK5 code 4; one set per file or all bad)
    ("imsweb-x12_bad_valid_code.837", rejected(SE01 + " 34 segments")),
    ("imsweb-x12_complex.837", rejected(SE01 + " 147 segments")),
    ("imsweb-x12_many_claims.837", rejected(SE01 + " 11486 segments")),
    ("imsweb-x12_missing_elements.837", rejected(SE01 + " 34 segments")),
    ("imsweb-x12_multiple_gs.837", rejected(SE01 + " 34 segments")),
    ("imsweb-x12_multiple_isa.837", rejected(SE01 + " 34 segments")),
    ("imsweb-x12_multiple_st.837", rejected(SE01 + " 34 segments")),
    ("imsweb-x12_multiple_transactions.837", rejected(SE01 + " 34 segments")),
    ("imsweb-x12_no_errors.837", rejected(SE01 + " 41 segments")),
    ("imsweb-x12_segments_out_of_order.837", rejected(SE01 + " 34 segments")),
    ("imsweb-x12_valid.837", rejected(SE01 + " 34 segments")),
    ("imsweb-x12_valid_different_separators.837", rejected(SE01 + " 34 segments")),
    ("imsweb-x12_writer_test.837", rejected(SE01 + " 31 segments")),
    # 4010 version: SPEC reads 5010 only
    ("imsweb-x271.271", rejected("ISA12 '00401': only X12 version 5010 (00501) is supported")),
    # --- LinuxForHealth x12 (Apache-2.0)
    ("lfh-demo.271", loaded()),
    ("lfh-demo.835", loaded()),
    ("lfh-demo.837", loaded()),
    ("lfh-dependent-health-benefit-check.271", loaded()),
    ("lfh-subscriber-health-benefit-check.271", loaded()),
    ("lfh-medicare-part-a.835", loaded()),
    ("lfh-demo.ambulance.example5.837", loaded()),
    ("lfh-demo.autoaccident.837", loaded()),
    ("lfh-demo.cob.example3.A.837", loaded()),
    ("lfh-demo.cob.example3.B.837", loaded()),
    ("lfh-demo.cob.example3.C.837", loaded()),
    ("lfh-demo.cob.example4.837", loaded()),
    ("lfh-demo.drug.example10.1.837", loaded()),
    ("lfh-demo.drug.example10.2.837", loaded()),
    ("lfh-demo.drug.example10.3.837", loaded()),
    ("lfh-demo.example1.837", loaded()),
    ("lfh-demo.example2.837", loaded()),  # billing NPI fails its check digit: a warning only
    ("lfh-demo.example7.837", loaded()),
    ("lfh-demo.example8.837", loaded()),
    # these declare ':' as component separator (ISA16) but write composites with '>': read as
    # declared, SVC01 has no procedure code / CLM05 no place of service, as a translator reads
    # them. An 835 syntax defect rejects its set; the 837Ps' only claim is rejected, so the file
    ("lfh-cob-contractural-adjustment.835", rejected("SVC01 'HC>55669' has no procedure code")),
    ("lfh-secondary-payment.835", rejected("SVC01 'HC>12345>26' has no procedure code")),
    ("lfh-tertiary-payment.835", rejected("SVC01 'HC' has no procedure code")),
    ("lfh-demo.cob.2ndary.example4.837", rejected("CLM05 '11>B>1' is not place of service")),
    ("lfh-demo.example11.837", rejected("CLM05 '11>B>1' is not place of service")),
    ("lfh-demo.example12.837", rejected("CLM05 '23>B>1' is not place of service")),
    ("lfh-demo.example6.837", rejected("CLM05 '11>B>1' is not place of service")),
    ("lfh-demo.example9.837", rejected("CLM05 '22>B>1' is not place of service")),
    # month 23: the payment date is no date, and a payment's date decides its period
    ("lfh-managed-care.835", rejected("BPR16 '20002316' is not a real date")),
    # envelope: SE02 must repeat ST02 (999 IK5 code 3); the set's trailer cannot be trusted
    ("lfh-subscriber-health-benefit-check-error.271", rejected("SE02 '4323' does not match ST02")),
    # --- moov-io x12 (Apache-2.0)
    # N1*PE*..*XX*NPI Number: a template's placeholder where the payee's NPI must be (N103 = XX)
    ("moov-835-sample1.835", rejected("payee_npi 'NPI Number' is not an NPI (10 digits)")),
    # day 80: the payment date is no date
    ("moov-835-sample2.835", rejected("BPR16 '20990080' is not a real date")),
    # every claim's rendering provider (2310B NM1*82*..*XX) has a 9-digit NPI, so no claim is left
    ("moov-837p-sample.837", rejected("'123456789' is not an NPI")),
    # --- pyx12 (BSD-3-Clause)
    ("pyx12-835_mult_loops.835", loaded()),
    # --- staedi (Apache-2.0)
    # a header fragment (BHT, REF, SE): an 837P without a billing provider or claim is empty
    ("staedi-837-header-ref-only.837", rejected("transaction 1001 holds no claim (CLM)")),
    # GS08 '005010' names no implementation guide: 837P is 005010X222A1 (or A2)
    ("staedi-sample837-HL-nested.837", rejected("GS08 '005010' is not a supported version")),
    # ISA12 00402 (a 4010-era envelope): SPEC reads 5010 only
    ("staedi-sample837-original.837", rejected("ISA12 '00402': only X12 version 5010")),
    ("staedi-sample837-small.837", rejected("ISA12 '00402': only X12 version 5010")),
    # --- TigerShark (BSD-3-Clause)
    ("tigershark-5010-835-example-1.835", loaded()),  # ISA16 '|'
    ("tigershark-5010-835-example-2.835", loaded()),
    ("tigershark-5010-835-example-3.835", loaded()),
    # SE01 says 74 segments, the set holds 73: a count error rejects the set (999 IK5 code 4)
    ("tigershark-5010-271-example-1.271", rejected("SE01 '74' does not match the 73 segments")),
]  # fmt: skip


def _name(entry: Any) -> str:
    return str(entry.values[0] if hasattr(entry, "values") else entry[0])


NAMES = [_name(entry) for entry in EXPECTED]

needs_corpus = pytest.mark.skipif(
    not X12_PUBLIC.is_dir(),
    reason=f"public X12 corpus not found at {X12_PUBLIC} (set RECOUP_X12_PUBLIC; the files and "
    "where they come from: tests/fixtures/x12/public-sources.md)",
)


# ---- an independent reading: split segments by the ISA's own delimiters, nothing else ----------


def split_segments(data: bytes) -> list[list[str]]:
    """Every segment of the file as its elements. Delimiters come from the first ISA: the
    element separator is byte 3 and the segment terminator byte 105 (the component separator,
    byte 104, is not needed: no counted amount is a composite); line breaks around segments are
    not part of them."""
    start = data.index(b"ISA")
    element, terminator = data[start + 3 : start + 4], data[start + 105 : start + 106]
    segments = []
    for raw in data[start:].split(terminator):
        segment = raw.strip(b"\r\n")
        if segment:
            segments.append(segment.decode("latin-1").split(element.decode("latin-1")))
    return segments


@dataclass
class Counted:
    """What the file holds by a plain count: (count, sum) per staged quantity."""

    items: dict[str, list[Decimal]] = field(default_factory=dict)

    def add(self, what: str, amount: str) -> None:
        self.items.setdefault(what, []).append(Decimal(amount))

    def figures(self, what: str) -> tuple[int, Decimal]:
        amounts = self.items.get(what, [])
        return len(amounts), sum(amounts, Decimal(0))  # exact: not rounded to the cent


def rejected_clms(segments: list[list[str]], rejected_claims: list[tuple[str, int]]) -> set[int]:
    """The positions of the rejected CLMs. A rejected part is (CLM01, 1-based index of the
    segment where the defect was found): it belongs to the last CLM at or before that segment,
    which must carry that CLM01 (CLM01 can repeat in a file, so the order decides)."""
    clms = [i for i, e in enumerate(segments) if e[0] == "CLM"]
    dropped = set()
    for clm01, segment_index in rejected_claims:
        owner = max(i for i in clms if i <= segment_index - 1)
        assert segments[owner][1] == clm01, (clm01, segment_index, segments[owner][1])
        dropped.add(owner)
    return dropped


def count_837p(segments: list[list[str]], rejected_claims: list[tuple[str, int]]) -> Counted:
    """CLM/CLM02 and SV1/SV102, leaving out the claims rejected on their own."""
    dropped = rejected_clms(segments, rejected_claims)
    counted, keep = Counted(), False
    for i, e in enumerate(segments):
        if e[0] == "CLM":
            keep = i not in dropped
            if keep:
                counted.add("CLM", e[2])
        elif e[0] in ("HL", "SE"):
            keep = False
        elif e[0] == "SV1" and keep:
            counted.add("SV1", e[2])
    return counted


def clm01s(segments: list[list[str]], rejected_claims: list[tuple[str, int]]) -> Counter[str]:
    """The CLM01s of the claims that should be staged (a multiset: CLM01 can repeat)."""
    dropped = rejected_clms(segments, rejected_claims)
    return Counter(e[1] for i, e in enumerate(segments) if e[0] == "CLM" and i not in dropped)


def count_835(segments: list[list[str]], rejected_sets: set[tuple[str, str]]) -> Counted:
    """CLP/CLP04 and SVC/SVC03, leaving out the transaction sets rejected on their own, known by
    (ISA13, ST02)."""
    counted, isa13, keep = Counted(), "", True
    for e in segments:
        if e[0] == "ISA":
            isa13 = e[13]
        elif e[0] == "ST":
            keep = (isa13, e[2]) not in rejected_sets
        elif e[0] == "CLP" and keep:
            counted.add("CLP", e[4])
        elif e[0] == "SVC" and keep:
            counted.add("SVC", e[3])
    return counted


STAGED = {
    "CLP": ("stg.remit_claims", "paid_amount"),  # CLP04
    "SVC": ("stg.remit_lines", "paid_amount"),  # SVC03
    "CLM": ("stg.claims", "total_charge"),  # CLM02
    "SV1": ("stg.claim_lines", "charge"),  # SV102
    "EB": ("stg.eligibility_benefits", "0"),  # 271 benefits: a count only
}


# ---- the test -----------------------------------------------------------------------------------


@dataclass
class Staged:
    """What one run of ``ingest_inbox`` did with one file."""

    outcome: FileOutcome
    figures: dict[str, tuple[int, Decimal]]  # (count, sum) per quantity of STAGED
    claim_ids: Counter[str]  # CLM01 of each staged claim
    stg_rows: int  # rows of every staging table together


def ingest_one(source: Path, tmp_path: Path) -> Staged:
    """Copy one file into a fresh inbox under its feed folder and run ``ingest_inbox`` into a
    fresh warehouse."""
    inbox = tmp_path / "inbox"
    (inbox / FEED[source.suffix]).mkdir(parents=True)
    shutil.copyfile(source, inbox / FEED[source.suffix] / source.name)
    with open_warehouse(tmp_path / "recoup.duckdb") as con:
        report = ingest_inbox(con, inbox, tmp_path / "store", "corpus")
        figures = {}
        for what, (table, column) in STAGED.items():
            query = f"SELECT count(*), coalesce(sum({column}), 0) FROM {table}"
            row = con.execute(query).fetchone()
            assert row is not None
            figures[what] = (int(row[0]), Decimal(row[1]).quantize(CENT))
        claim_ids = Counter(r[0] for r in con.execute("SELECT claim_id FROM stg.claims").fetchall())
        stg_rows = sum(table_counts(con, ("stg",)).values())
    assert len(report.outcomes) == 1, report.outcomes
    return Staged(report.outcomes[0], figures, claim_ids, stg_rows)


@needs_corpus
@pytest.mark.parametrize(("name", "expect"), EXPECTED, ids=NAMES)
def test_public_file(name: str, expect: Expect, tmp_path: Path) -> None:
    check(X12_PUBLIC / name, expect, tmp_path)


# the checking itself, on hand-written fixtures of this repository (run without the corpus too):
# one with a claim rejected on its own, one with a CLM01 used twice, 835s of one and two ISAs
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "x12"
OWN = [
    ("bad_date.837", partial(["CLM002"], of=2)),  # DTP03 20250230 in the second claim only
    ("duplicate_claim.837", loaded()),  # CLM01 CLM001 twice: two claims
    ("good.837", loaded()),
    ("good.835", loaded()),
    ("two_interchanges.835", loaded()),
    ("unbalanced.835", rejected("does not balance")),
]


@pytest.mark.parametrize(("name", "expect"), OWN, ids=[name for name, _ in OWN])
def test_the_check_on_own_fixtures(name: str, expect: Expect, tmp_path: Path) -> None:
    check(FIXTURES / name, expect, tmp_path)


def test_one_claims_bad_rendering_npi_rejects_that_claim_only(tmp_path: Path) -> None:
    """good.837 with the first claim's 2310B NPI cut to 9 digits (as in the moov 837P)."""
    text = (FIXTURES / "good.837").read_text()
    assert text.count("*XX*1111111112~") == 1
    source = tmp_path / "one_bad_npi.837"
    source.write_text(text.replace("*XX*1111111112~", "*XX*111111111~"))
    check(source, partial(["CLM001"], of=2), tmp_path / "run")


def test_the_check_leaves_out_an_835_set_rejected_alone(tmp_path: Path) -> None:
    """two_interchanges.835 with the second set's BPR02 one cent off: that set is rejected on
    its own, and the independent count leaves it out by (ISA13, ST02)."""
    lines = (FIXTURES / "two_interchanges.835").read_text().splitlines(keepends=True)
    assert lines[46].startswith("BPR*I*55.00*")
    lines[46] = lines[46].replace("BPR*I*55.00*", "BPR*I*55.01*")
    source = tmp_path / "second_set_unbalanced.835"
    source.write_text("".join(lines))
    check(source, partial(["transaction set 0002"], of=2), tmp_path / "run")


def check(source: Path, expect: Expect, tmp_path: Path) -> None:
    """Ingest ``source`` alone and hold its outcome and staged figures to ``expect`` and to the
    independent count."""
    staged = ingest_one(source, tmp_path)
    outcome, parts = staged.outcome, staged.outcome.parts
    if expect.status == "rejected":
        assert outcome.status == "rejected", (outcome.status, outcome.partly_rejected())
        assert outcome.reason is not None and expect.reason in outcome.reason, outcome.reason
        assert staged.stg_rows == 0  # nothing of a rejected file is staged
        return
    assert outcome.status == "loaded", outcome.reason
    if expect.status == "loaded":
        assert not parts.rejected, outcome.partly_rejected()
    else:
        rejected_ids = [p.part for p in parts.rejected]
        assert rejected_ids == list(expect.rejected_parts), outcome.partly_rejected()
        assert parts.total == expect.of, outcome.partly_rejected()
    segments = split_segments(source.read_bytes())
    if source.suffix == ".837":
        rejected_claims = [(p.part, p.segment_index) for p in parts.rejected]
        counted = count_837p(segments, rejected_claims)
        quantities = ("CLM", "SV1")
        assert staged.claim_ids == clm01s(segments, rejected_claims)
    elif source.suffix == ".835":
        sets = {(p.interchange_control, p.transaction_control) for p in parts.rejected}
        counted = count_835(segments, sets)
        quantities = ("CLP", "SVC")
    else:  # 271: no money, but every EB of a wholly loaded file is staged
        if not parts.rejected:
            assert staged.figures["EB"][0] == sum(1 for e in segments if e[0] == "EB") > 0
        return
    for what in quantities:
        assert staged.figures[what] == counted.figures(what), what
    assert counted.figures(quantities[0])[0] > 0  # a loaded file holds claims


def source_rows(text: str) -> list[tuple[str, ...]]:
    """The rows "| file | owner/repo | path | commit | licence |" of a sources list."""
    return re.findall(
        r"^\| (\S+\.(?:837|835|271)) \| ([\w.-]+/[\w.-]+) \| (\S+) \| ([0-9a-f]{40}) \| (\S+) \|$",
        text,
        re.MULTILINE,
    )


@needs_corpus
def test_every_file_of_the_folder_has_an_expectation_a_source_and_a_licence() -> None:
    on_disk = sorted(p.name for p in X12_PUBLIC.iterdir() if p.suffix in FEED)
    assert sorted(NAMES) == on_disk
    rows = source_rows((X12_PUBLIC / "SOURCES.md").read_text())
    assert sorted(rows) == sorted(source_rows(SOURCES.read_text()))
    for repo in {row[1] for row in rows}:
        assert (X12_PUBLIC / "LICENSES" / f"{repo.replace('/', '+')}.txt").is_file(), repo


def test_the_sources_list_names_every_file_with_its_origin_and_licence() -> None:
    """The committed list names exactly the files of the table: 40 or more, from at least 6
    projects, each with repository, path, commit and a licence that allows keeping a copy."""
    rows = source_rows(SOURCES.read_text())
    assert sorted(row[0] for row in rows) == sorted(NAMES)
    assert len(NAMES) >= 40 and len({row[1] for row in rows}) >= 6
    assert {row[4] for row in rows} <= {"BSD-3-Clause", "Apache-2.0", "MIT"}
