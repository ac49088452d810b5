"""The file ledger: content hashes, the immutable landing area and the quarantine.

Inbox files are only ever read. An accepted file is copied once to ``landing/<sha[:2]>/<sha><ext>``;
a rejected one to ``quarantine/<sha>__<name>`` with a ``.reason.txt`` beside it. Copies are
written to a temporary name and renamed, so an interrupted copy never leaves a partial file under
the final name. The ledger row is written in the same transaction as the file's staged rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from transforms.warehouse import fetch_one


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


def _atomic_copy(source: Path, target: Path) -> None:
    if target.exists():
        return  # content-addressed: an existing copy holds the same bytes
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


def land(store: Path, source: Path, file_sha256: str) -> Path:
    """Copy an accepted file into the landing area; returns the landed path."""
    target = store / "landing" / file_sha256[:2] / f"{file_sha256}{source.suffix.lower()}"
    _atomic_copy(source, target)
    return target


def quarantine(store: Path, source: Path, file_sha256: str, reason: str) -> Path:
    """Copy a rejected file into quarantine with its reason beside it; returns the copy's path."""
    target = store / "quarantine" / f"{file_sha256[:16]}__{source.name}"
    _atomic_copy(source, target)
    reason_file = target.with_name(target.name + ".reason.txt")
    if not reason_file.exists():
        reason_file.write_text(reason + "\n")
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
) -> None:
    """Write the ledger row (inside the caller's transaction)."""
    con.execute(
        "INSERT INTO ledger.files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        ],
    )
