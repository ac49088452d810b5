"""Errors of the X12 readers.

``X12Error`` is the only exception ``read_x12`` lets out: the whole file is rejected, and the
message names the place (segment position, segment id, line, column) and the problem. Readers
raise the internal ``Problem`` with just a segment position; ``read_x12`` turns it into an
``X12Error``, computing line and column only then, so the hot loops never track them.

Messages never quote the contents of NM1, N3, N4, DMG or PER segments (names, addresses,
birth dates): they name the element position instead.
"""

from __future__ import annotations


class X12Error(Exception):
    """A structural problem: the whole file is rejected.

    ``segment_index`` is the 1-based position of the segment in the file (empty segments and
    whitespace between segments do not count); ``line`` and ``column`` (1-based) locate the start
    of that segment in the decoded text. All three are None when the problem is not tied to a
    segment (e.g. an empty file).
    """

    def __init__(
        self,
        file_name: str,
        problem: str,
        *,
        segment_index: int | None = None,
        segment_id: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.file_name = file_name
        self.problem = problem
        self.segment_index = segment_index
        self.segment_id = segment_id
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.segment_index is None:
            return f"{self.file_name}: {self.problem}"
        place = f"segment {self.segment_index}"
        if self.segment_id:
            place += f" ({self.segment_id})"
        if self.line is not None:
            place += f" at line {self.line}, column {self.column}"
        return f"{self.file_name}: {place}: {self.problem}"

    def __reduce__(self) -> tuple[object, ...]:  # keep keyword fields when pickled (Prefect)
        return (_rebuild, (self.file_name, self.problem, self.__dict__.copy()))


def _rebuild(file_name: str, problem: str, fields: dict[str, object]) -> X12Error:
    err = X12Error(file_name, problem)
    err.__dict__.update(fields)
    return err


class Problem(Exception):
    """Internal: a problem at segment ``index`` (0-based position in the segment list)."""

    def __init__(self, index: int | None, problem: str) -> None:
        super().__init__(problem)
        self.index = index
        self.problem = problem
