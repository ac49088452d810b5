"""X12 readers of recoup: 837P claims, 835 remittances and 271 eligibility responses.

``read_x12(data, file_name, file_sha256)`` turns the bytes of one file into the Arrow tables of
its ``stg.*`` staging tables, or rejects the whole file with an ``X12Error`` naming the segment
(position, id, line, column) and the problem. Load the result with
``warehouse.connection.insert_tables(con, result.tables)`` inside the caller's transaction.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from loading.x12.claims_837p import Claims837Reader
from loading.x12.eligibility_271 import Eligibility271Reader
from loading.x12.errors import Problem, X12Error
from loading.x12.remittance_835 import Remittance835Reader
from loading.x12.tokenizer import (
    Reader,
    Segments,
    Walk,
    check_characters,
    decode,
    is_x12,
    locate,
    segment_id,
    split,
    walk,
)

__all__ = ["RejectedPart", "X12Error", "X12Result", "is_x12", "read_x12"]

FORMATS = {"837p": "x12-837p", "271": "x12-271", "835": "x12-835"}


@dataclass(frozen=True)
class RejectedPart:
    """One claim (837P) or subscriber (271) rejected on its own: where and why. ``part`` is the
    CLM01 or the subscriber's position ("subscriber 3"); never a name."""

    level: str
    interchange_control: str
    transaction_control: str
    part: str
    segment_index: int
    segment_id: str | None
    line: int
    column: int
    reason: str

    def describe(self) -> str:
        """``CLM01 X (segment DTP, line 41, col 9: reason)``."""
        name = f"CLM01 {self.part}" if self.level == "claim" else self.part
        return (
            f"{name} (segment {self.segment_id}, line {self.line}, col {self.column}: "
            f"{self.reason})"
        )


@dataclass
class X12Result:
    """What one X12 file holds.

    ``kind`` is "837p", "271" or "835"; ``tables`` maps every staging table of that kind
    (``"stg.claims"``, ...) to an Arrow table whose columns are named like the warehouse columns,
    ``file_sha256`` included, empty tables included. ``segments``, ``interchanges`` and
    ``transactions`` count what the file held. ``rejected`` lists the parts (837P claims, 271
    subscribers) rejected on their own while the rest of the file loaded; ``warnings`` what was
    accepted leniently (e.g. an ISA11 that is not a repetition separator).
    """

    kind: str
    tables: dict[str, pa.Table]
    segments: int
    interchanges: int
    transactions: int
    rejected: list[RejectedPart] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # parts loaded, where no staging table has one row per part (271 subscribers)
    parts_loaded: int | None = None
    # 837P: the segment index of each CLM by claim_seq - 1, and the cut text, to place a claim
    # that a check of its staged rows rejects (``reject_claims``)
    claim_at: list[int] = field(default_factory=list, repr=False)
    segs: Segments | None = field(default=None, repr=False)

    def reject_claims(self, reasons: Mapping[tuple[str, int], str]) -> None:
        """Take the 837P claims keyed (CLM01, claim_seq) out of the tables, each recorded as a
        RejectedPart at its CLM segment with ``reasons[key]`` (a check of the staged rows, e.g.
        the structural gate, found the defect)."""
        if not reasons or self.kind != "837p" or self.segs is None:
            return
        segs = self.segs
        claims = self.tables["stg.claims"]
        ids, seqs = claims.column("claim_id").to_pylist(), claims.column("claim_seq").to_pylist()
        controls = zip(
            claims.column("interchange_control").to_pylist(),
            claims.column("transaction_control").to_pylist(),
            strict=True,
        )
        for claim_id, seq, (isa13, st02) in zip(ids, seqs, controls, strict=True):
            reason = reasons.get((claim_id, seq))
            if reason is None:
                continue
            index = self.claim_at[seq - 1]
            line, column = locate(segs, index)
            self.rejected.append(
                RejectedPart("claim", isa13, st02, claim_id, index + 1, "CLM", line, column, reason)
            )
        self.rejected.sort(key=lambda part: part.segment_index)
        for name in ("stg.claims", "stg.claim_lines"):
            table = self.tables[name]
            keys = zip(
                table.column("claim_id").to_pylist(),
                table.column("claim_seq").to_pylist(),
                strict=True,
            )
            keep = pa.array([key not in reasons for key in keys], pa.bool_())
            self.tables[name] = table.filter(keep)

    @property
    def format(self) -> str:
        """The ledger's format name (``x12-837p``, ``x12-271``, ``x12-835``)."""
        return FORMATS[self.kind]

    def row_counts(self) -> dict[str, int]:
        """Rows per staging table."""
        return {name: table.num_rows for name, table in self.tables.items()}


def _reader(kind: str, file_sha256: str) -> Reader:
    if kind == "835":
        return Remittance835Reader(file_sha256)
    if kind == "837p":
        return Claims837Reader(file_sha256)
    return Eligibility271Reader(file_sha256)


def _columnar(segs: Segments, file_sha256: str) -> tuple[Walk, dict[str, pa.Table]] | None:
    """The walk and tables of an 835 read by column, or None when the file is not an 835 or
    holds anything the columnar reader leaves to the per-segment one (which then reads it
    again and is the reference for every check and message: remittance_835_columns.py)."""
    # imported here: Polars only for the big files that are read by column
    from loading.x12.remittance_835_columns import ColumnarRemittance835Reader, NotPlain

    def make(kind: str) -> Reader:
        if kind != "835":
            raise NotPlain
        return ColumnarRemittance835Reader(file_sha256)

    try:
        found = walk(segs, make)
        return found, found.reader.tables()
    except MemoryError:
        raise
    except Exception:  # NotPlain, or a problem: the per-segment reader finds and names it
        return None


# An 835 of at least this many segments is read by column: below it the columnar reader's fixed
# cost (Polars frames, ~15 ms a file) outweighs what it saves (docs/decisions.md, "X12 by column").
COLUMNAR_MIN_SEGMENTS = 50_000


def read_x12(
    data: bytes, file_name: str, file_sha256: str, *, columnar: bool | None = None
) -> X12Result:
    """Read one X12 file (one or more interchanges, all of one kind) into staging tables.

    Promises: either every table of the file's kind, fully validated (envelope control numbers
    and counts, required segments, real dates, valid amounts, unique claim ids, balanced 835
    payments), or an ``X12Error`` and nothing else, whatever the bytes. ``columnar=False``
    reads an 835 with the per-segment reader only, ``True`` by column whatever its size (tests
    compare the two); by default by column from ``COLUMNAR_MIN_SEGMENTS`` segments.
    """
    text = decode(data)
    segs: Segments | None = None
    try:
        segs = split(text)
        check_characters(segs)
        if columnar is None:
            columnar = len(segs.items) >= COLUMNAR_MIN_SEGMENTS
        fast = _columnar(segs, file_sha256) if columnar else None
        if fast is None:
            found = walk(segs, lambda kind: _reader(kind, file_sha256))
            tables = found.reader.tables()
        else:
            found, tables = fast
        parts = getattr(found.reader, "rejected", [])
        parts_loaded = getattr(found.reader, "parts_loaded", None)
        nothing_loaded = (
            parts_loaded == 0
            if parts_loaded is not None
            else not any(table.num_rows for table in tables.values())
        )
        if parts and nothing_loaded:
            # every claim (subscriber) was rejected: the file is rejected, at the first defect
            raise Problem(parts[0]["index"], parts[0]["reason"])
        rejected = []
        for part in parts:
            index = min(part["index"], len(segs.items) - 1)
            line, column = locate(segs, index)
            rejected.append(
                RejectedPart(
                    part["level"], part["interchange_control"], part["transaction_control"],
                    part["part"], index + 1,
                    segment_id(segs.items[index], segs.delimiters.element), line, column,
                    part["reason"],
                )
            )  # fmt: skip
        warnings = list(segs.warnings)
        for index, reason in getattr(found.reader, "warnings", []):
            # read leniently, reported like a rejection's place (segment, line, column)
            line, column = locate(segs, index)
            seg_id = segment_id(segs.items[index], segs.delimiters.element)
            warnings.append(
                f"segment {seg_id} (segment {index + 1}, line {line}, col {column}): {reason}"
            )
        return X12Result(
            found.kind, tables, len(segs.items), found.interchanges, found.transactions,
            rejected, warnings, parts_loaded,
            list(getattr(found.reader, "claim_at", [])), segs,
        )  # fmt: skip
    except Problem as problem:
        raise _error(file_name, text, segs, problem.index, problem.problem) from None
    except MemoryError:
        raise  # the machine, not the file (loading/stopping.py)
    except Exception as exc:  # a reader bug must still reject the file, never crash the run
        # name the code, not the data: the exception's own message may quote health data
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise X12Error(
            file_name,
            f"the file could not be read ({type(exc).__name__} at "
            f"{Path(where.filename).name}:{where.lineno}); please report it",
        ) from None


def _error(
    file_name: str, text: str, segs: Segments | None, index: int | None, problem: str
) -> X12Error:
    """The X12Error of a problem at segment ``index``, with its line and column."""
    if index is None:
        return X12Error(file_name, problem)
    if segs is None:  # a problem in the ISA, found before the segments were cut
        start = len(text) - len(text.lstrip("\ufeff \t\r\n"))
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        return X12Error(
            file_name, problem, segment_index=1, segment_id="ISA", line=line, column=column
        )
    index = min(index, len(segs.items) - 1)
    line, column = locate(segs, index)
    seg_id = segment_id(segs.items[index], segs.delimiters.element)
    return X12Error(
        file_name,
        problem,
        segment_index=index + 1,
        segment_id=seg_id,
        line=line,
        column=column,
    )
