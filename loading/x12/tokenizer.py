"""X12 tokenizer and envelope: delimiters from ISA, segments, and ISA/GS/ST control checks.

The file is decoded once, split into segment strings once (whitespace and line breaks between
segments are dropped), and walked interchange by interchange. Each ST..SE transaction is handed to
the reader of its kind, which splits its own segments into elements and returns the position of
the SE; the envelope then checks every control number and count. Line and column of a problem are
computed only when one occurs (``locate``).
"""

from __future__ import annotations

import datetime
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa

from loading.x12.errors import Problem
from loading.x12.values import BadValue, Dates

# GS08 versions recoup reads, and the transaction set (ST01) each one carries.
VERSIONS = {
    "005010X222A1": "837",
    "005010X222A2": "837",
    "005010X221A1": "835",
    "005010X279A1": "271",
}
KINDS = {"837": "837p", "835": "835", "271": "271"}
SUPPORTED_TEXT = (
    "recoup reads 837P (005010X222A1, 005010X222A2), 835 (005010X221A1) and 271 (005010X279A1)"
)
ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_WHITESPACE = " \t"
_LINE_BREAKS = "\r\n"


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four delimiters an ISA declares."""

    element: str
    repetition: str  # "" when ISA11 is not a repetition separator (a warning, not a rejection)
    component: str
    segment: str
    isa11: str = ""  # ISA11 as written (every ISA of the file must declare the same)


@dataclass(frozen=True, slots=True)
class Transaction:
    """What a reader knows about the ST..SE it is reading."""

    st_index: int  # 0-based position of the ST segment
    control: str  # ST02
    interchange_control: str  # ISA13
    version: str  # GS08
    delimiters: Delimiters


class Reader(Protocol):
    """A transaction-set reader (837P, 835 or 271)."""

    def transaction(self, segs: list[str], tx: Transaction) -> int:
        """Read the transaction starting at ``tx.st_index``; return the index of its SE."""
        ...

    def tables(self) -> dict[str, pa.Table]:
        """The staging tables of everything read so far."""
        ...


@dataclass(slots=True)
class Segments:
    """The segment strings of a file and how they were cut from its text."""

    text: str
    start: int  # offset of "ISA" in text
    delimiters: Delimiters
    stripped: bool  # spaces/tabs around segments were stripped
    items: list[str]
    warnings: list[str] = field(default_factory=list)  # accepted leniently (ledger notes)


def decode(data: bytes) -> str:
    """The text of ``data``: UTF-8 when it is valid UTF-8, else Latin-1 (never fails)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def is_x12(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts, after an optional BOM and
    whitespace, with an ISA segment whose element separator is not a letter, digit or space."""
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return len(body) >= 4 and body[:3] == b"ISA" and not chr(body[3]).isalnum() and body[3] > 32


def split(text: str) -> Segments:
    """Find the ISA, read its delimiters and cut the text into non-empty segment strings."""
    start = 0
    while start < len(text) and (text[start] == "\ufeff" or text[start].isspace()):
        start += 1
    if text[start : start + 3] != "ISA":
        what = "the file is empty" if start >= len(text) else "it does not start with ISA"
        raise Problem(None, f"not an X12 interchange: {what}")
    delimiters = _delimiters(text, start)
    delims = {delimiters.element, delimiters.repetition, delimiters.component, delimiters.segment}
    delims.discard("")
    warnings = []
    if not delimiters.repetition:
        warnings.append(
            f"ISA11 '{delimiters.isa11}' is not a repetition separator (00501 expects one); "
            "read as no repetition separator"
        )
    body = text[start:]
    for char in _LINE_BREAKS:
        if char not in delims and char in body:
            body = body.replace(char, "")
    term = delimiters.segment
    # a one-character scan first: most files hold no tab, and the two-character scans cost more
    stripped = any(
        (ws + term) in body or (term + ws) in body
        for ws in _WHITESPACE
        if ws not in delims and ws in body
    )
    items = body.split(term)
    if stripped:
        strip_chars = "".join(c for c in _WHITESPACE if c not in delims)
        items = [item.strip(strip_chars) for item in items]
    if items and not items[-1]:
        items.pop()  # the text after the last terminator: the usual (only) empty piece
    if "" in items:
        items = [item for item in items if item]
    return Segments(text, start, delimiters, stripped, items, warnings)


def check_characters(segs: Segments) -> None:
    """Raise a Problem at the first segment holding a C0 control character (or DEL) other than
    tab, a line break or one of the file's delimiters (some senders delimit with control
    characters): a NUL inside an element is damage, never data."""
    d = segs.delimiters
    delims = {d.element, d.repetition, d.component, d.segment}
    chars = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
    chars = [c for c in chars if c not in delims]
    # whether there is one at all, on the UTF-8 bytes: deleting bytes is a C loop, ~3x faster
    # than the regex over the text; no byte of a multi-byte UTF-8 character is below 0x80
    raw = segs.text[segs.start :].encode("utf-8", "surrogatepass")
    if len(raw.translate(None, "".join(chars).encode())) == len(raw):
        return
    control = re.compile("[" + "".join(re.escape(c) for c in chars) + "]")
    for index, item in enumerate(segs.items):
        found = control.search(item)
        if found:
            raise Problem(
                index,
                f"control character 0x{ord(found.group()):02x} inside the segment: X12 text "
                "holds none (binary data or a damaged file)",
            )


def _delimiters(text: str, start: int) -> Delimiters:
    """The delimiters of the ISA at ``start``: element = 4th character, component = ISA16,
    segment terminator = the character after ISA16, repetition = ISA11."""
    element = text[start + 3 : start + 4]
    if not element or element.isalnum() or element.isspace():
        raise Problem(0, "ISA element separator (4th character) is missing or not a delimiter")
    pos = start
    for _ in range(16):
        pos = text.find(element, pos + 1)
        if pos < 0:
            raise Problem(0, "ISA is incomplete: it has fewer than 16 elements (file truncated?)")
    if pos + 2 >= len(text):
        raise Problem(0, "ISA is incomplete: no ISA16 component separator and terminator")
    component, segment = text[pos + 1], text[pos + 2]
    fields = text[start:pos].split(element)
    repetition = fields[11] if len(fields) > 11 else ""
    if fields[12:13] != ["00501"]:
        version = fields[12] if len(fields) > 12 else ""
        raise Problem(
            0, f"ISA12 '{version}': only X12 version 5010 (00501) is supported; {SUPPORTED_TEXT}"
        )
    if len(component) != 1 or component.isalnum() or component == " ":
        raise Problem(
            0, f"ISA16 component separator '{component}' is not a single delimiter character"
        )
    if segment.isalnum() or segment == " ":
        raise Problem(0, f"segment terminator '{segment}' (after ISA16) is not a delimiter")
    isa11 = repetition
    if len(repetition) != 1 or repetition.isalnum() or repetition == " ":
        repetition = ""  # translators (and pyx12) warn and read on: so does recoup
    elif repetition in (element, component, segment):
        raise Problem(0, "ISA delimiters are not all different")
    if len({element, component, segment}) != 3:
        raise Problem(0, "ISA delimiters are not all different")
    return Delimiters(element, repetition, component, segment, isa11)


def locate(segs: Segments, index: int) -> tuple[int, int]:
    """Line and column (1-based) where segment ``index`` (0-based) starts in the text."""
    d = segs.delimiters
    delims = {d.element, d.repetition, d.component, d.segment} - {""}
    junk = "".join(c for c in _LINE_BREAKS if c not in delims)
    skip = junk + ("".join(c for c in _WHITESPACE if c not in delims) if segs.stripped else "")
    text, pos, count = segs.text, segs.start, -1
    for piece in text[segs.start :].split(d.segment):
        cleaned = piece.translate({ord(c): None for c in junk}) if junk else piece
        if segs.stripped:
            cleaned = cleaned.strip(skip)
        if cleaned:
            count += 1
            if count == index:
                k = 0
                while k < len(piece) and piece[k] in skip:
                    k += 1
                offset = pos + k
                line = text.count("\n", 0, offset) + 1
                return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
        pos += len(piece) + len(d.segment)
    return text.count("\n") + 1, 1


def segment_id(segment: str, element: str) -> str | None:
    """The segment id of a segment string, or None when it does not start with one."""
    tag = segment.split(element, 1)[0]
    return tag if _TAG.fullmatch(tag) else None


def check_tag(tag: str, index: int, seen: set[str]) -> None:
    """Raise a Problem when ``tag`` is not a well-formed segment id or is an envelope segment
    inside a transaction; remembers good tags in ``seen``."""
    if tag in ENVELOPE:
        raise Problem(index, f"{tag} inside a transaction: the transaction has no SE before it")
    if _TAG.fullmatch(tag) is None:
        raise Problem(index, "not a segment: it does not start with a segment id")
    seen.add(tag)


def check_se(segs: list[str], tx: Transaction, index: int) -> None:
    """Check the SE at ``index`` closes ``tx``: SE01 = segments ST..SE, SE02 = ST02."""
    e = segs[index].split(tx.delimiters.element)
    count = index - tx.st_index + 1
    se01 = e[1] if len(e) > 1 else ""
    se02 = e[2] if len(e) > 2 else ""
    if not (se01.isascii() and se01.isdigit()) or int(se01) != count:
        raise Problem(index, f"SE01 '{se01}' does not match the {count} segments from ST to SE")
    if se02 != tx.control:
        raise Problem(index, f"SE02 '{se02}' does not match ST02 '{tx.control}'")


def bht_date(
    segs: list[str], tx: Transaction, dates: Dates, kind: str, meaning: str
) -> datetime.date:
    """The BHT04 date of the BHT that must follow ``tx``'s ST (837P: creation date; 271: check
    date); a missing BHT, BHT04 or a bad date is a Problem of the transaction."""
    st = tx.st_index
    if st + 1 >= len(segs):
        raise end_of_file(segs, tx)
    e = segs[st + 1].split(tx.delimiters.element)
    if e[0] != "BHT":
        raise Problem(st + 1, f"the {kind} must start with BHT after ST")
    try:
        value = dates[e[4]] if len(e) > 4 and e[4] else None
    except BadValue as exc:
        raise Problem(st + 1, exc.describe(e)) from None
    if value is None:
        raise Problem(st + 1, f"BHT04 ({meaning}) is missing")
    return value


def closing_se(segs: list[str], tx: Transaction) -> int | None:
    """The index of the SE that closes ``tx`` (the first SE after its ST, before any ST, GE or
    IEA), or None when the transaction set has no end of its own (a truncated file)."""
    prefixes = tuple(tag + tx.delimiters.element for tag in ("SE", "ST", "GE", "IEA"))
    for j in range(tx.st_index + 1, len(segs)):
        if segs[j].startswith(prefixes):
            return j if segs[j].startswith(prefixes[0]) else None
    return None


def end_of_file(segs: list[str], tx: Transaction) -> Problem:
    """The problem of a file that ends inside transaction ``tx``."""
    return Problem(
        len(segs) - 1,
        f"the file ends inside transaction {tx.control} (ST at segment {tx.st_index + 1}): "
        "no SE, GE or IEA follows; the file is truncated",
    )


# Segments that carry names, addresses or birth dates: errors name the element, never the value.
PRIVATE = frozenset({"NM1", "N3", "N4", "DMG", "PER"})


def each_segment(
    segs: list[str], tx: Transaction, start: int, handle: Callable[[list[str], int], None]
) -> int:
    """Hand every segment from ``start`` up to the transaction's SE to ``handle(elements,
    index)``; a bad value or a short segment becomes a Problem at that segment. Returns the SE's
    index (the caller checks it with ``check_se`` once it has closed its loops)."""
    element = tx.delimiters.element
    j = start
    for j in range(start, len(segs)):
        e = segs[j].split(element)
        if e[0] == "SE":
            return j
        try:
            handle(e, j)
        except BadValue as exc:
            raise Problem(j, exc.describe(e, quote=e[0] not in PRIVATE)) from None
        except IndexError:
            raise Problem(j, f"{e[0]} has too few elements") from None
    raise end_of_file(segs, tx)


@dataclass(slots=True)
class Walk:
    """What walking the envelope found."""

    kind: str
    reader: Reader
    interchanges: int
    transactions: int


def walk(segs: Segments, make_reader: Callable[[str], Reader]) -> Walk:
    """Walk every interchange, group and transaction, checking control numbers and counts,
    and hand each transaction to the reader of its kind (made once by ``make_reader``)."""
    items, d = segs.items, segs.delimiters
    sep, n = d.element, len(items)
    i = interchanges = transactions = 0
    kind: str | None = None
    reader: Reader | None = None
    while i < n:
        e = items[i].split(sep)
        if e[0] != "ISA":
            raise Problem(i, f"expected ISA after the IEA, found {_shown(e[0])}")
        isa13 = _isa(e, i, d)
        interchanges += 1
        groups = 0
        i += 1
        while True:
            if i >= n:
                raise Problem(
                    n - 1, f"the file ends without IEA for interchange {isa13}: truncated"
                )
            e = items[i].split(sep)
            if e[0] == "IEA":
                _count(e, 1, groups, "functional groups (GS)", i)
                if _el(e, 2) != isa13:
                    raise Problem(i, f"IEA02 '{_el(e, 2)}' does not match ISA13 '{isa13}'")
                i += 1
                break
            if e[0] != "GS":
                raise Problem(i, f"expected GS or IEA in interchange {isa13}, found {_shown(e[0])}")
            version, gs06 = _el(e, 8), _el(e, 6)
            _date(_el(e, 4), "GS04", i)
            if version not in VERSIONS:
                raise Problem(i, f"GS08 '{version}' is not a supported version: {SUPPORTED_TEXT}")
            if not gs06:
                raise Problem(i, "GS06 (group control number) is empty")
            groups += 1
            sets = 0
            i += 1
            while True:
                if i >= n:
                    raise Problem(n - 1, f"the file ends without GE for group {gs06}: truncated")
                e = items[i].split(sep)
                if e[0] == "GE":
                    _count(e, 1, sets, "transaction sets (ST)", i)
                    if _el(e, 2) != gs06:
                        raise Problem(i, f"GE02 '{_el(e, 2)}' does not match GS06 '{gs06}'")
                    i += 1
                    break
                if e[0] != "ST":
                    raise Problem(i, f"expected ST or GE in group {gs06}, found {_shown(e[0])}")
                this = _transaction_kind(e, version, i)
                if kind is None:
                    kind, reader = this, make_reader(this)
                elif this != kind:
                    raise Problem(
                        i, f"the file mixes {kind} and {this} transaction sets; one kind per file"
                    )
                if not _el(e, 2):
                    raise Problem(i, "ST02 (transaction control number) is empty")
                tx = Transaction(i, _el(e, 2), isa13, version, d)
                assert reader is not None
                i = reader.transaction(items, tx) + 1
                sets += 1
                transactions += 1
    if kind is None or reader is None:
        raise Problem(None, "the file holds no transaction set (ST)")
    return Walk(kind, reader, interchanges, transactions)


def _transaction_kind(e: list[str], version: str, index: int) -> str:
    st01 = _el(e, 1)
    if st01 == "270":
        raise Problem(
            index,
            "transaction set 270 is an eligibility inquiry, not a response: "
            "recoup reads 837P claims, 835 remittances and 271 eligibility responses",
        )
    if st01 not in KINDS:
        raise Problem(index, f"transaction set {st01!r} is not supported: {SUPPORTED_TEXT}")
    if VERSIONS[version] != st01:
        raise Problem(index, f"ST01 '{st01}' does not match GS08 '{version}'")
    return KINDS[st01]


def _isa(e: list[str], index: int, d: Delimiters) -> str:
    if len(e) != 17:
        raise Problem(index, f"ISA has {len(e) - 1} elements; it must have 16")
    if e[11] != d.isa11 or e[16] != d.component:
        raise Problem(index, "this ISA declares other delimiters than the first ISA of the file")
    if e[12] != "00501":
        raise Problem(index, f"ISA12 '{e[12]}': only X12 version 5010 (00501) is supported")
    _date("20" + e[9], "ISA09", index, shown=e[9])
    isa13 = e[13]
    if len(isa13) != 9 or not (isa13.isascii() and isa13.isdigit()):
        raise Problem(index, f"ISA13 '{isa13}' is not a 9-digit interchange control number")
    return isa13


def _count(e: list[str], pos: int, actual: int, what: str, index: int) -> None:
    value = _el(e, pos)
    if not (value.isascii() and value.isdigit()) or int(value) != actual:
        raise Problem(index, f"{e[0]}0{pos} '{value}' does not match the {actual} {what} it closes")


def _date(text: str, element: str, index: int, shown: str | None = None) -> None:
    """Raise a Problem unless ``text`` is a real CCYYMMDD date."""
    ok = len(text) == 8 and text.isdigit() and text.isascii()
    try:
        ok = ok and bool(dt.date(int(text[:4]), int(text[4:6]), int(text[6:])))
    except ValueError:
        ok = False
    if not ok:
        raise Problem(index, f"{element} '{text if shown is None else shown}' is not a real date")


def _el(e: list[str], pos: int) -> str:
    return e[pos] if len(e) > pos else ""


def _shown(tag: str) -> str:
    return tag if _TAG.fullmatch(tag) else "something that is not a segment"
