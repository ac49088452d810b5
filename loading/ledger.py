"""The file ledger: content hashes, the immutable landing area and the quarantine.

Inbox files are only ever read. An accepted file is copied once to ``landing/<sha[:2]>/<sha><ext>``;
a rejected one to ``quarantine/<sha>__<name>`` with a ``.reason.txt`` beside it. Copies are
written to a temporary name and renamed, so an interrupted copy never leaves a partial file under
the final name, and a failed one removes its temporary file. The ledger row is written in the
same transaction as the file's staged rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from warehouse.connection import fetch_one

if TYPE_CHECKING:
    from loading.x12 import RejectedPart


@dataclass
class Parts:
    """What a loaded file held part by part (837P claims, 271 subscribers, 835 transaction
    sets): how many were read (``total``), which were rejected on their own while the rest
    loaded, and what was accepted leniently (``warnings``)."""

    kind: str | None = None  # claims | subscribers | transactions
    total: int | None = None
    rejected: list[RejectedPart] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def sentence(self, where: str) -> str | None:
        """``2 of 140 claims in claims/batch.837 were not loaded: CLM01 A (...); ...``."""
        if not self.rejected:
            return None
        kind = self.kind or "parts"
        verb = "was" if len(self.rejected) == 1 else "were"
        listed = "; ".join(p.describe() for p in self.rejected)
        return f"{len(self.rejected)} of {self.total} {kind} in {where} {verb} not loaded: {listed}"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class LedgerEntry:
    file_sha256: str
    file_name: str
    status: str
    received_at: datetime
    error: str | None


def lookup(con: duckdb.DuckDBPyConnection, file_sha256: str) -> LedgerEntry | None:
    row = fetch_one(
        con,
        "SELECT file_sha256, file_name, status, received_at, error FROM ledger.files "
        "WHERE file_sha256 = ?",
        [file_sha256],
    )
    return LedgerEntry(*row) if row else None  # type: ignore[arg-type]


def _atomic_write(data: bytes, target: Path) -> None:
    """Write ``data`` to ``target`` whole or not at all: to ``.<name>.<pid>.partial`` first, then
    renamed. On any failure (a full disk, a signal) the partial file is removed and the error
    raised: a fault of the machine is not a verdict on the file (loading/stopping.py)."""
    if target.exists():
        return  # content-addressed: an existing copy holds the same bytes
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with open(temporary, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def land(store: Path, source: Path, file_sha256: str, data: bytes) -> Path:
    """Copy an accepted file (``data``, the bytes that were hashed and read, never the path
    again: it may have changed since) into the landing area; returns the landed path."""
    target = store / "landing" / file_sha256[:2] / f"{file_sha256}{source.suffix.lower()}"
    _atomic_write(data, target)
    return target


def quarantine(store: Path, source: Path, file_sha256: str, reason: str, data: bytes) -> Path:
    """Copy a rejected file (``data``) into quarantine with its reason beside it; returns the
    copy's path."""
    target = store / "quarantine" / f"{file_sha256[:16]}__{source.name}"
    _atomic_write(data, target)
    _atomic_write((reason + "\n").encode(), target.with_name(target.name + ".reason.txt"))
    return target


def record(
    con: duckdb.DuckDBPyConnection,
    *,
    file_sha256: str,
    path: Path,
    feed: str,
    fmt: str | None,
    status: str,
    received_at: datetime,
    row_counts: dict[str, int] | None,
    error: str | None,
    landing_path: Path | None,
    run_id: str,
    parts: Parts | None = None,
) -> None:
    """Write the ledger row, and the rows of its rejected parts (inside the caller's
    transaction)."""
    parts = parts or Parts()
    con.execute(
        "INSERT INTO ledger.files (file_sha256, file_name, source_path, feed, format, size_bytes, "
        "received_at, status, row_counts, error, landing_path, run_id, parts_total, part_kind, "
        "warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            file_sha256,
            path.name,
            str(path),
            feed,
            fmt,
            path.stat().st_size,
            received_at,
            status,
            json.dumps(row_counts, sort_keys=True) if row_counts is not None else None,
            error,
            str(landing_path) if landing_path else None,
            run_id,
            parts.total,
            parts.kind,
            json.dumps(parts.warnings) if parts.warnings else None,
        ],
    )
    for p in parts.rejected:
        con.execute(
            "INSERT INTO ledger.rejected_parts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [file_sha256, p.level, p.part, p.interchange_control, p.transaction_control,
             p.segment_index, p.segment_id, p.line, p.column, p.reason, run_id],
        )  # fmt: skip


def not_loaded(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[str]:
    """One sentence per file of the warehouse that did not load whole: rejected files with their
    reason, and loaded files with the parts rejected on their own ("2 of 140 claims in
    claims/batch.837 were not loaded: ..."). Newest first; at most ``limit``."""
    from loading.x12 import RejectedPart

    files = con.execute(
        "SELECT f.file_sha256, f.feed || '/' || f.file_name, f.status, f.error, f.part_kind, "
        "f.parts_total FROM ledger.files AS f WHERE f.status = 'rejected' OR EXISTS "
        "(SELECT 1 FROM ledger.rejected_parts AS p WHERE p.file_sha256 = f.file_sha256) "
        "ORDER BY f.received_at DESC, 2 LIMIT ?",
        [limit],
    ).fetchall()
    sentences = []
    for sha, where, status, error, kind, total in files:
        if status == "rejected":
            sentences.append(f"{where} was rejected: {error}")
            continue
        rejected = [
            RejectedPart(*row)
            for row in con.execute(
                "SELECT level, interchange_control, transaction_control, part, segment_index, "
                "segment_id, line, col, reason FROM ledger.rejected_parts "
                "WHERE file_sha256 = ? ORDER BY segment_index",
                [sha],
            ).fetchall()
        ]
        sentence = Parts(kind, total, rejected).sentence(where)
        if sentence:
            sentences.append(sentence)
    return sentences
