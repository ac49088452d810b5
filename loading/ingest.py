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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
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


@dataclass
class Staged:
    """What reading one file gave, before the structural gate (picklable: it may come back from
    a worker). ``detected`` is the format recognised by content (``x12``, ``csv``, ``parquet``:
    what the ledger names for a file rejected whole), ``fmt`` the format it was read as
    (``x12-837p``, ...). ``defect`` is the error that rejects the file whole, if any."""

    detected: str
    fmt: str
    tables: dict[str, pa.Table] = field(default_factory=dict)
    parts: ledger.Parts = field(default_factory=ledger.Parts)
    x12: X12Result | None = None
    defect: Exception | None = None


def read_staged(feed: str, path: Path, data: bytes, file_sha256: str) -> Staged:
    """Read one file of a feed into staging tables, without the structural gate: a pure function
    of its arguments (no warehouse, no files written), so ``ingest_inbox`` can map it over a
    batch of files, on workers too. A defect of the file comes back in ``Staged.defect``."""
    detected = detect_format(data[:512], path)
    try:
        return _read_tables(feed, path, data, file_sha256, detected)
    except _defects() as exc:
        return Staged(detected, detected, defect=exc)


def read_file(
    feed: str, path: Path, data: bytes, file_sha256: str
) -> tuple[str, dict[str, pa.Table], ledger.Parts]:
    """Parse one file of a feed into staging tables; raises on anything that should reject it
    whole. The parts it rejected on their own (837P claims, 271 subscribers, 835 transaction
    sets) and what it accepted leniently come back in ``Parts``."""
    staged = _read_tables(feed, path, data, file_sha256, detect_format(data[:512], path))
    try:
        structural.check_file(path.name, staged.tables)  # gating checks: loading/structural.py
    except structural.StructuralError as exc:
        _settle(path, staged, exc)
    return staged.fmt, staged.tables, staged.parts


def _read_tables(feed: str, path: Path, data: bytes, file_sha256: str, fmt: str) -> Staged:
    detected = fmt
    parts = ledger.Parts()
    result = None
    if fmt == "x12":
        from loading.x12 import read_x12

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
    return Staged(detected, fmt, tables, parts, result)


def _settle(path: Path, staged: Staged, exc: structural.StructuralError) -> None:
    """What the structural gate's ``exc`` means for a file: raised again (the file is rejected
    whole), or, for a defect inside claims of an 837P, those claims are taken out of ``staged``
    (named at their CLM) and the rest must pass the gate whole."""
    from loading.x12 import X12Error

    result = staged.x12
    if staged.fmt != "x12-837p" or exc.table not in structural.CLAIM_TABLES or result is None:
        raise exc
    result.reject_claims(structural.claim_problems(result.tables))
    tables = result.tables
    if not tables["stg.claims"].num_rows and result.rejected:
        # every claim is rejected: so is the file, named at the first claim's defect
        first = result.rejected[0]
        raise X12Error(
            path.name, f"CLM01 {first.part}: {first.reason}", segment_index=first.segment_index,
            segment_id=first.segment_id, line=first.line, column=first.column,
        ) from None  # fmt: skip
    if not tables["stg.claims"].num_rows:
        raise exc
    structural.check_file(path.name, tables)
    staged.tables, staged.parts = tables, x12_parts(result)


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


# A batch of files shares one structural-gate query and one transaction (rows and ledger rows):
# both cost about the same for one small file as for 64 (a COMMIT, a query plan), so 64 files
# take a small file's per-file cost from ~25-90 ms to a few ms. 64 MB of input bounds what a
# batch holds in memory at once (its bytes and their staged Arrow tables, ~3-5x the bytes), and
# a 1M-line 837P (~60 MB) still forms a batch alone.
BATCH_FILES = 64
BATCH_BYTES = 64 * 1024 * 1024

Mapper = Callable[..., Iterable[Staged]]


@dataclass
class _File:
    """One inbox file on its way through a batch."""

    index: int  # its place in the scan, from 1: the progress line's number
    feed: str
    path: Path
    data: bytes = b""
    sha: str = ""
    received_at: datetime | None = None
    outcome: FileOutcome | None = None  # decided (skipped, ignored, unreadable, or at commit)
    staged: Staged | None = None
    reason: str | None = None  # rejected: why
    copy: Path | None = None  # its landing or quarantine copy
    refused: bool = False  # rejected because DuckDB refused its rows

    @property
    def where(self) -> str:
        return f"{self.feed}/{self.path.name}"

    @property
    def fmt(self) -> str | None:
        """The ledger's format: as read when loaded or refused by DuckDB; as recognised by
        content when its reader or the gate rejected it."""
        if self.staged is None:
            return None
        if self.reason is None or self.refused:
            return self.staged.fmt
        return self.staged.detected

    def rows(self) -> dict[str, int]:
        if self.reason is not None or self.staged is None:
            return {}
        return {name: table.num_rows for name, table in self.staged.tables.items()}


@contextmanager
def _blame(item: _File) -> Iterator[None]:
    """Anything but a verdict raised here stops the run, naming ``item`` (as ``ingest_file``)."""
    try:
        yield
    except BaseException as exc:
        stopping.check(exc)  # a signal, also when DuckDB reports it as "Query interrupted"
        if isinstance(exc, stopping.Stopped | stopping.EnvironmentFault | stopping.UnexpectedError):
            raise
        if stopping.is_environment_fault(exc):
            raise stopping.EnvironmentFault(item.where, exc) from exc
        if isinstance(exc, Exception):
            raise stopping.UnexpectedError(item.where, exc) from exc
        raise


def _stop_if_requested(exc: BaseException) -> None:
    """A reader may turn what a signal broke into a "defect": after a stop request, no verdict."""
    signum = stopping.requested()
    if signum is not None:
        raise stopping.Stopped(signum) from exc


def ingest_inbox(
    con: duckdb.DuckDBPyConnection,
    inbox: Path,
    store: Path,
    run_id: str,
    on_file: Callable[[int, int, FileOutcome], None] | None = None,
    *,
    mapper: Mapper = map,
    batch_files: int | None = None,
    batch_bytes: int | None = None,
) -> IngestReport:
    """Load every new file of the inbox; ``on_file(done, total, outcome)`` reports progress.

    Files go in batches (``BATCH_FILES`` files or ``BATCH_BYTES`` bytes): each file is read
    (hashed, looked up in the ledger), ``read_staged`` is mapped over the batch's new files with
    ``mapper`` (``map``-like: ``mapper(read_staged, feeds, paths, datas, shas)`` yielding the
    results in order; the builtin by default), one structural-gate query judges the batch, and
    one transaction holds its rows and ledger rows. A file rejected by its reader or the gate is
    rejected alone (quarantined, in the ledger) and the batch goes on without it; when DuckDB
    refuses the batch's rows, the batch is taken again file by file so that the refusal lands
    on its file alone. A signal or a fault rolls the batch in progress back whole and stops the
    run (a fault while copying a file to landing or quarantine commits the files before it
    first). Progress is reported per file, in order, once its batch is committed."""
    files, ignored, unreadable = scan_inbox(inbox)
    report = IngestReport(ignored=ignored, unreadable=unreadable)
    most_files = batch_files or BATCH_FILES
    most_bytes = batch_bytes or BATCH_BYTES
    batch: list[_File] = []
    shas: set[str] = set()
    size = 0

    def finish() -> None:
        nonlocal size
        _ingest_batch(con, batch, store, run_id, mapper)
        for item in batch:
            outcome = item.outcome
            assert outcome is not None
            report.outcomes.append(outcome)
            if outcome.status == "ignored":
                shown = item.path.relative_to(inbox).as_posix()
                report.ignored.append(f"{shown}: {outcome.reason}")
            log.info("%s %s %s", outcome.status, item.where, outcome.reason or outcome.rows)
            if on_file is not None:
                on_file(item.index, len(files), outcome)
        batch.clear()
        shas.clear()
        size = 0

    for index, (feed, path) in enumerate(files, start=1):
        item = _File(index, feed, path)
        with _blame(item):
            _open(con, item)
            if item.outcome is None and item.sha in shas:  # a copy of a file of this batch:
                finish()  # commit the batch, then the copy is "already loaded as ..."
                _lookup(con, item)
        batch.append(item)
        if item.outcome is None:
            shas.add(item.sha)
            size += len(item.data)
        pending = len(shas)
        if pending >= most_files or size >= most_bytes:
            finish()
    if batch:
        finish()
    return report


def _open(con: duckdb.DuckDBPyConnection, item: _File) -> None:
    """Read, hash and look up one file; decide it when it is unreadable or already known."""
    try:
        item.data = _read(item.path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink put in its place after the scan
            item.outcome = FileOutcome(item.feed, item.path, "", "ignored", reason=SYMLINK)
            return
        # Unreadable now (permissions, vanished): not recorded, so the next run tries again.
        reason = f"{item.path.name}: cannot be read: {exc}"
        item.outcome = FileOutcome(item.feed, item.path, "", "rejected", reason=reason)
        return
    item.sha = ledger.sha256_bytes(item.data)
    _lookup(con, item)


def _lookup(con: duckdb.DuckDBPyConnection, item: _File) -> None:
    known = ledger.lookup(con, item.sha)
    if known is not None:
        why = f"already {known.status} as {known.file_name} on {known.received_at:%Y-%m-%d %H:%M}"
        item.outcome = FileOutcome(item.feed, item.path, item.sha, "skipped", reason=why)
        item.data = b""
    else:
        item.received_at = datetime.now()


def _ingest_batch(
    con: duckdb.DuckDBPyConnection, batch: list[_File], store: Path, run_id: str, mapper: Mapper
) -> None:
    """Read, judge, copy and commit the batch's new files; each ends with its ``outcome``."""
    todo = [item for item in batch if item.outcome is None]
    if not todo:
        return
    with _blame(todo[0]):
        results = iter(
            mapper(
                read_staged,
                [item.feed for item in todo],
                [item.path for item in todo],
                [item.data for item in todo],
                [item.sha for item in todo],
            )
        )
    for item in todo:
        with _blame(item):
            try:
                item.staged = next(results)
            except _defects() as exc:  # raised rather than returned: the same verdict
                detected = detect_format(item.data[:512], item.path)
                item.staged = Staged(detected, detected, defect=exc)
            if item.staged.defect is not None:
                _stop_if_requested(item.staged.defect)
                item.reason = _reason(item.path, item.staged.defect)
    gated = [item for item in todo if item.reason is None]
    if gated:
        with _blame(gated[0]):
            errors = structural.check_files(
                [(item.sha, item.path.name, item.staged.tables) for item in gated if item.staged]
            )
        for item in gated:
            error = errors.get(item.sha)
            if error is None or item.staged is None:
                continue
            with _blame(item):
                try:
                    _settle(item.path, item.staged, error)
                except _defects() as exc:
                    _stop_if_requested(exc)
                    item.reason = _reason(item.path, exc)
    for done, item in enumerate(todo):
        try:
            with _blame(item):
                if item.reason is None:
                    item.copy = ledger.land(store, item.path, item.sha, item.data)
                else:
                    reason = item.reason
                    item.copy = ledger.quarantine(store, item.path, item.sha, reason, item.data)
        except stopping.EnvironmentFault:
            _commit(con, todo[:done], store, run_id)  # the files before it are whole: keep them
            raise
    _commit(con, todo, store, run_id)
    for item in todo:
        item.data = b""  # let go of the bytes


def _commit(con: duckdb.DuckDBPyConnection, items: list[_File], store: Path, run_id: str) -> None:
    """One transaction: the rows of the loaded files, one INSERT per table (and Arrow schema),
    and every file's ledger row. When DuckDB refuses the rows (a constraint, a conversion), the
    files are committed one by one, so the refusal rejects its own file alone."""
    if not items:
        return
    with _blame(items[0]):
        con.execute("BEGIN TRANSACTION")
        try:
            loaded = [item for item in items if item.reason is None]
            try:
                for tables in _merged(loaded):
                    insert_tables(con, tables)
            except _defects() as exc:  # a verdict on one of the files: which one?
                with suppress(duckdb.TransactionException):
                    con.execute("ROLLBACK")
                _stop_if_requested(exc)
                if len(loaded) > 1:
                    for item in items:
                        _commit(con, [item], store, run_id)
                    return
                refused = loaded[0]
                refused.refused = True
                refused.reason = _reason(refused.path, exc)
                refused.copy = ledger.quarantine(
                    store, refused.path, refused.sha, refused.reason, refused.data
                )
                con.execute("BEGIN TRANSACTION")
            for item in items:
                _record(con, item, run_id)
            con.execute("COMMIT")
        except BaseException:
            # an interrupted COMMIT has already ended the transaction (committed or not, whole)
            with suppress(duckdb.TransactionException):
                con.execute("ROLLBACK")
            raise
    for item in items:
        item.outcome = FileOutcome(
            item.feed, item.path, item.sha, "loaded" if item.reason is None else "rejected",
            item.fmt, item.rows(), item.reason,
            item.staged.parts if item.reason is None and item.staged else ledger.Parts(),
        )  # fmt: skip


def _merged(items: list[_File]) -> Iterator[dict[str, pa.Table]]:
    """The staged tables of ``items``, one Arrow table per staging table (in file order);
    tables of differing Arrow schemas (CSV and X12 of one table) go in separate INSERTs."""
    runs: dict[str, list[list[pa.Table]]] = {}
    for item in items:
        assert item.staged is not None
        for name, table in item.staged.tables.items():
            same = runs.setdefault(name, [])
            if same and same[-1][0].schema.equals(table.schema):
                same[-1].append(table)
            else:
                same.append([table])
    depth = max((len(groups) for groups in runs.values()), default=0)
    for level in range(depth):
        yield {
            name: pa.concat_tables(groups[level])
            for name, groups in runs.items()
            if level < len(groups)
        }


def _record(con: duckdb.DuckDBPyConnection, item: _File, run_id: str) -> None:
    """The ledger row of ``item`` (and of its rejected parts), inside the caller's transaction."""
    assert item.received_at is not None and item.copy is not None
    loaded = item.reason is None
    ledger.record(con, file_sha256=item.sha, path=item.path, feed=item.feed, fmt=item.fmt,
                  status="loaded" if loaded else "rejected", received_at=item.received_at,
                  row_counts=item.rows() if loaded else None, error=item.reason,
                  landing_path=item.copy, run_id=run_id,
                  parts=item.staged.parts if loaded and item.staged else None)  # fmt: skip


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
