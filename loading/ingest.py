"""Take the inbox into the warehouse: one file at a time, whole or not at all.

For each file under ``<inbox>/<feed>/``: hash it; skip it when the ledger already knows the hash
(whatever its name); recognise its format by content (ISA header -> X12, ``PAR1`` -> Parquet,
else CSV); read and check it; then, in one transaction, insert its staged rows and its ledger row.
A problem of the file (envelope, syntax, a check of the whole file) rejects it whole: nothing of
it is staged, it is copied to quarantine and the ledger says why. A defect inside one part (an
837P claim, a 271 subscriber, an unbalanced 835 transaction set) rejects that part only: the rest
loads and ``ledger.rejected_parts`` names the part, its place and the reason. Other files go on.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import duckdb
import pyarrow as pa

from loading import feeds, ledger, stopping, structural
from warehouse.connection import count_rows, insert_tables

if TYPE_CHECKING:
    from loading.x12 import X12Result

log = logging.getLogger(__name__)

# Reference first (it prices everything else), then the feeds in the order a claim lives.
FEEDS = ("reference", "claims", "eligibility", "remittances", "sessions")
X12_KIND_FOR_FEED = {"claims": "837p", "eligibility": "271", "remittances": "835"}
X12_FORMAT = {"837p": "x12-837p", "271": "x12-271", "835": "x12-835"}
# What a part of each X12 kind is, and the staging table with one row per loaded part.
X12_PARTS = {
    "837p": ("claims", "stg.claims"),
    "271": ("subscribers", None),
    "835": ("transactions", None),
}


@dataclass
class FileOutcome:
    feed: str
    path: Path
    file_sha256: str
    status: str  # loaded | rejected | skipped | ignored (replaced by a symlink after the scan)
    fmt: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    parts: ledger.Parts = field(default_factory=ledger.Parts)

    def partly_rejected(self) -> str | None:
        """``2 of 140 claims in claims/batch.837 were not loaded: ...`` or None."""
        return self.parts.sentence(f"{self.feed}/{self.path.name}")


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    # the inbox entries that could not be read (also in ``ignored``): the run is incomplete
    unreadable: list[str] = field(default_factory=list)

    def by_status(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    def incomplete(self) -> str | None:
        """None when every inbox entry could be read; else the one sentence that fails the run
        (exit 1 from the command, a Failed state for a served run)."""
        if not self.unreadable:
            return None
        names = ", ".join(note.split(": ", 1)[0] for note in self.unreadable)
        count = len(self.unreadable)
        them = "it" if count == 1 else "them"
        return (
            f"{count} inbox {'entry' if count == 1 else 'entries'} could not be read ({names}): "
            f"what could be read was loaded and reported; nothing was recorded for {them}, so "
            f"the next run tries {them} again"
        )

    def rows_loaded(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for outcome in self.by_status("loaded"):
            for table, count in outcome.rows.items():
                totals[table] = totals.get(table, 0) + count
        return totals


class InboxError(RuntimeError):
    """The inbox itself cannot be read (missing, not a folder, unreadable)."""


class InboxScan(NamedTuple):
    files: list[tuple[str, Path]]  # (feed, path) in load order
    ignored: list[str]  # what was passed over, with why (the run summary's "ignored" lines)
    unreadable: list[str]  # those of ``ignored`` that could not be read: the run must fail


SYMLINK = "symlink: not followed"
RETRY = "the next run tries again"
_KINDS = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def scan_inbox(inbox: Path) -> InboxScan:
    """The feed files to consider, in load order, and what was passed over (with why).

    Symlinks are never followed (a feed folder, a subfolder or a file; docs/decisions.md "Inbox
    paths"), nor is anything but a regular file read (a named pipe would block the run). A
    subfolder or file that cannot be read is named in ``unreadable`` (and ``ignored``): the rest
    loads, the run fails, nothing is recorded for it. Names starting with ``.`` (uploads in
    progress) are left out silently."""
    if not inbox.is_dir():
        raise InboxError(f"inbox {inbox} does not exist or is not a folder")
    files: list[tuple[str, Path]] = []
    ignored: list[str] = []
    unreadable: list[str] = []
    try:
        entries = sorted(inbox.iterdir())
    except OSError as exc:
        raise InboxError(f"inbox {inbox} cannot be read: {exc}") from exc
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.name in FEEDS and entry.is_symlink():
            ignored.append(f"{entry.name}: {SYMLINK}")
        elif entry.is_dir() and entry.name not in FEEDS:
            ignored.append(f"{entry.name}/: not a feed folder (expected one of {', '.join(FEEDS)})")
    for feed in FEEDS:
        folder = inbox / feed
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in sorted(_walk(folder, inbox, ignored, unreadable)):
            files.append((feed, path))
    return InboxScan(files, ignored, unreadable)


def _walk(folder: Path, inbox: Path, ignored: list[str], unreadable: list[str]) -> Iterator[Path]:
    """The readable regular files under ``folder``, depth first by name, never through a symlink;
    what is passed over goes to ``ignored`` with why, what cannot be read to ``unreadable`` too."""

    def cannot_read(shown: str, exc: OSError, what: str) -> None:
        note = f"{shown}: cannot be read ({exc.strerror or exc}): {what}; {RETRY}"
        ignored.append(note)
        unreadable.append(note)

    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        cannot_read(folder.relative_to(inbox).as_posix() + "/", exc, "nothing in it was loaded")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        shown = path.relative_to(inbox).as_posix()
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            cannot_read(shown, exc, "not loaded")
            continue
        if stat.S_ISLNK(mode):
            ignored.append(f"{shown}: {SYMLINK}")
        elif stat.S_ISDIR(mode):
            yield from _walk(path, inbox, ignored, unreadable)
        elif not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "not a file")
            ignored.append(f"{shown}: not a regular file ({kind}): not read")
        else:
            try:  # readable now (a file that fails later is rejected unrecorded, see ingest_file)
                os.close(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK))
            except OSError as exc:
                cannot_read(shown, exc, "not loaded")
                continue
            yield path


def detect_format(head: bytes, path: Path) -> str:
    from loading.x12 import is_x12

    if is_x12(head):
        return "x12"
    if head.startswith(b"PAR1"):
        return "parquet"
    return "csv"


def read_file(
    feed: str, path: Path, data: bytes, file_sha256: str
) -> tuple[str, dict[str, pa.Table], ledger.Parts]:
    """Parse one file of a feed into staging tables; raises on anything that should reject it
    whole. The parts it rejected on their own (837P claims, 271 subscribers, 835 transaction
    sets) and what it accepted leniently come back in ``Parts``."""
    fmt = detect_format(data[:512], path)
    parts = ledger.Parts()
    if fmt == "x12":
        from loading.x12 import X12Error, read_x12

        expected = X12_KIND_FOR_FEED.get(feed)
        if expected is None:
            raise feeds.FeedError(path.name, f"X12 is not accepted in {feed}/ (CSV/Parquet only)")
        result = read_x12(data, path.name, file_sha256)
        if result.kind != expected:
            raise feeds.FeedError(
                path.name,
                f"{feed}/ expects X12 {expected.upper()} but the file holds {result.kind.upper()}",
            )
        fmt, tables = X12_FORMAT[result.kind], result.tables
        parts = x12_parts(result)
    elif fmt == "csv" and feed in X12_KIND_FOR_FEED and not _has_feed_header(data, feed):
        if not data.removeprefix(b"\xef\xbb\xbf").strip():
            raise feeds.FeedError(path.name, "the file is empty")
        # Never quote the file's start: a CSV without its header starts with a member's row.
        raise feeds.FeedError(
            path.name,
            f"not an X12 interchange: no ISA segment at its start, and not a {feed} CSV "
            f"either: its first line names none of the {feed} columns (a file without its header?)",
        )
    elif fmt == "csv" and path.suffix.lower() not in (".csv", ".txt", ".tsv", ""):
        raise feeds.FeedError(
            path.name, f"unrecognised format (not X12, Parquet or CSV): extension {path.suffix!r}"
        )
    else:
        frame = feeds.read_frame(data, path.name, fmt)
        tables = feeds.READERS[feed](frame, path.name, file_sha256)
    try:
        structural.check_file(path.name, tables)  # gating checks: loading/structural.py
    except structural.StructuralError as exc:
        if fmt != "x12-837p" or exc.table not in structural.CLAIM_TABLES:
            raise
        # a defect inside one claim of an 837P rejects that claim only: take the claims whose
        # own rows fail out (named at their CLM), then the rest must pass whole
        result.reject_claims(structural.claim_problems(tables))
        tables = result.tables
        if not tables["stg.claims"].num_rows and result.rejected:
            # every claim is rejected: so is the file, named at the first claim's defect
            first = result.rejected[0]
            raise X12Error(
                path.name, f"CLM01 {first.part}: {first.reason}", segment_index=first.segment_index,
                segment_id=first.segment_id, line=first.line, column=first.column,
            ) from None  # fmt: skip
        if not tables["stg.claims"].num_rows:
            raise
        structural.check_file(path.name, tables)
        parts = x12_parts(result)
    return fmt, tables, parts


# The CSV columns of each X12 feed folder: a file there without ISA whose first line names none
# of them is neither X12 nor that feed's CSV (e.g. an X12 file that lost its envelope).
FEED_COLUMNS = {
    "claims": {c.name for c in feeds.CLAIMS},
    "eligibility": {c.name for c in feeds.ELIGIBILITY},
    "remittances": {c.name for c in feeds.REMITTANCES + feeds.PROVIDER_ADJUSTMENTS},
}


def _has_feed_header(data: bytes, feed: str) -> bool:
    """Whether the first line that is not a # comment names at least one column of ``feed``."""
    for raw in data.removeprefix(b"\xef\xbb\xbf").splitlines():
        line = raw.decode("utf-8", errors="replace").strip()
        if line and not line.startswith("#"):
            names = {name.strip().strip('"').strip() for name in line.split(",")}
            return bool(names & FEED_COLUMNS[feed])
    return False


def x12_parts(result: X12Result) -> ledger.Parts:
    """How many parts the file held (loaded + rejected), which were rejected, and warnings."""
    kind, table = X12_PARTS[result.kind]
    if table is not None:
        loaded = result.tables[table].num_rows
    elif kind == "transactions":
        loaded = result.transactions - len(result.rejected)
    else:
        loaded = result.parts_loaded
    total = None if loaded is None else loaded + len(result.rejected)
    return ledger.Parts(kind, total, list(result.rejected), list(result.warnings))


def ingest_file(
    con: duckdb.DuckDBPyConnection, feed: str, path: Path, store: Path, run_id: str
) -> FileOutcome:
    """Load one file atomically (rows and ledger row in one transaction) or reject it whole.

    Only recoup's own input-defect errors reject it (``_defects``). A fault of the machine
    (``stopping.EnvironmentFault``), a signal (``stopping.Stopped``) or any other exception (a bug,
    ``stopping.UnexpectedError``) rolls the file back, records nothing and stops the run."""
    where = f"{feed}/{path.name}"
    try:
        try:
            data = _read(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a symlink put in its place after the scan
                return FileOutcome(feed, path, "", "ignored", reason=SYMLINK)
            # Unreadable now (permissions, vanished): not recorded, so the next run tries again.
            reason = f"{path.name}: cannot be read: {exc}"
            return FileOutcome(feed, path, "", "rejected", reason=reason)
        return _ingest_bytes(con, feed, path, data, store, run_id)
    except BaseException as exc:
        stopping.check(exc)  # a signal, also when DuckDB reports it as "Query interrupted"
        if stopping.is_environment_fault(exc):
            raise stopping.EnvironmentFault(where, exc) from exc
        if isinstance(exc, Exception):
            raise stopping.UnexpectedError(where, exc) from exc
        raise


def _read(path: Path) -> bytes:
    """The file's bytes, never through a symlink (``O_NOFOLLOW``: ELOOP) nor from anything but a
    regular file: the path was checked by the scan, but may have been replaced since."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return file.read()


def _defects() -> tuple[type[Exception], ...]:
    """The errors that are a verdict on a file: recoup's own (reader, structure) and DuckDB's
    refusal of its values (a constraint, a conversion, an invalid input)."""
    from loading.x12 import X12Error

    return (
        X12Error,
        feeds.FeedError,
        duckdb.DataError,
        duckdb.IntegrityError,
        duckdb.InvalidInputException,
    )


def _ingest_bytes(
    con: duckdb.DuckDBPyConnection, feed: str, path: Path, data: bytes, store: Path, run_id: str
) -> FileOutcome:
    file_sha256 = ledger.sha256_bytes(data)
    known = ledger.lookup(con, file_sha256)
    if known is not None:
        why = f"already {known.status} as {known.file_name} on {known.received_at:%Y-%m-%d %H:%M}"
        return FileOutcome(feed, path, file_sha256, "skipped", reason=why)
    received_at = datetime.now()
    fmt: str | None = None

    def record(
        status: str,
        rows: dict[str, int] | None,
        error: str | None,
        copy: Path,
        parts: ledger.Parts | None = None,
    ) -> None:
        ledger.record(con, file_sha256=file_sha256, path=path, feed=feed, fmt=fmt,
                      status=status, received_at=received_at, row_counts=rows, error=error,
                      landing_path=copy, run_id=run_id, parts=parts)  # fmt: skip

    try:
        fmt = detect_format(data[:512], path)  # the ledger names it even when rejected
        fmt, tables, parts = read_file(feed, path, data, file_sha256)
        landing = ledger.land(store, path, file_sha256, data)
        con.execute("BEGIN TRANSACTION")
        try:
            rows = insert_tables(con, tables)
            record("loaded", rows, None, landing, parts)
            con.execute("COMMIT")
        except BaseException:
            # an interrupted COMMIT has already ended the transaction (committed or not, whole)
            with suppress(duckdb.TransactionException):
                con.execute("ROLLBACK")
            raise
        return FileOutcome(feed, path, file_sha256, "loaded", fmt, rows, parts=parts)
    except _defects() as exc:  # a verdict on this file only: rejected, quarantined, recorded
        signum = stopping.requested()
        if signum is not None:  # a reader turned what the signal broke into a "defect"
            raise stopping.Stopped(signum) from exc
        reason = _reason(path, exc)
        quarantined = ledger.quarantine(store, path, file_sha256, reason, data)
        record("rejected", None, reason, quarantined)
        return FileOutcome(feed, path, file_sha256, "rejected", fmt, reason=reason)


REASON_LIMIT = 500  # characters: a reason names a place and a problem, it never carries data


def _reason(path: Path, exc: Exception) -> str:
    """Why a file was rejected, for the run's output, the ledger and the ``.reason.txt``: at
    most ``REASON_LIMIT`` characters whatever the exception says."""
    from loading.x12 import X12Error

    if isinstance(exc, X12Error | feeds.FeedError):
        reason = str(exc)
    elif isinstance(exc, duckdb.Error):
        reason = f"{path.name}: the warehouse refused its rows: {str(exc).splitlines()[0]}"
    else:
        reason = f"{path.name}: unexpected {type(exc).__name__}: {exc}"
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 3] + "..."


def ingest_inbox(
    con: duckdb.DuckDBPyConnection,
    inbox: Path,
    store: Path,
    run_id: str,
    on_file: Callable[[int, int, FileOutcome], None] | None = None,
) -> IngestReport:
    """Load every new file of the inbox; ``on_file(done, total, outcome)`` reports progress."""
    files, ignored, unreadable = scan_inbox(inbox)
    report = IngestReport(ignored=ignored, unreadable=unreadable)
    for index, (feed, path) in enumerate(files, start=1):
        outcome = ingest_file(con, feed, path, store, run_id)
        report.outcomes.append(outcome)
        if outcome.status == "ignored":
            report.ignored.append(f"{path.relative_to(inbox).as_posix()}: {outcome.reason}")
        log.info("%s %s/%s %s", outcome.status, feed, path.name, outcome.reason or outcome.rows)
        if on_file is not None:
            on_file(index, len(files), outcome)
    return report


def table_counts(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = ("stg", "ref")
) -> dict[str, int]:
    """Rows per table in the given layers, for summaries."""
    names = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN (SELECT unnest(?)) AND table_type = 'BASE TABLE' ORDER BY 1",
        [list(schemas)],
    ).fetchall()
    return {name: count_rows(con, name) for (name,) in names}
