"""The one place that opens the DuckDB warehouse.

Schema changes are versioned SQL files in ``warehouse/migrations`` named ``NNN_*.sql``;
``open_warehouse`` applies the ones the file has not seen yet, in order, each in its own
transaction, and records them in ``ledger.schema_migrations``. Every other module receives a
connection from here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

SQL_DIR = Path(__file__).parent / "migrations"
_MIGRATION = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


class WarehouseLocked(RuntimeError):
    """Another process holds the warehouse file (DuckDB allows one writer per file)."""


def migrations() -> list[tuple[int, Path]]:
    """The versioned DDL files, in order."""
    found = []
    for path in sorted(SQL_DIR.glob("*.sql")):
        match = _MIGRATION.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations this database has not seen; returns the versions applied."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ledger")
    con.execute(
        "CREATE TABLE IF NOT EXISTS ledger.schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {
        row[0] for row in con.execute("SELECT version FROM ledger.schema_migrations").fetchall()
    }
    applied = []
    for version, path in migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text())
            con.execute(
                "INSERT INTO ledger.schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                [version, path.name],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def connect(
    path: str | Path, *, read_only: bool = False, wait_seconds: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, waiting up to ``wait_seconds`` for another writer to let go.

    Raises WarehouseLocked with the holder's message when the lock is still held.
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLocked(
                    f"warehouse {path} is in use by another process: {exc}"
                ) from exc
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))


@contextmanager
def open_warehouse(
    path: str | Path, *, read_only: bool = False, wait_seconds: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open (and, when writable, migrate) the warehouse; close it on exit."""
    con = connect(path, read_only=read_only, wait_seconds=wait_seconds)
    try:
        if not read_only:
            migrate(con)
        yield con
    finally:
        con.close()


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> tuple[object, ...] | None:
    """The first row of a query, with the result fully consumed.

    DuckDB 2.0 keeps a result open after ``fetchone()`` and then refuses ``register`` and other
    work on the connection ("unfinished result"); fetching everything closes it.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def count_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = fetch_one(con, f"SELECT count(*) FROM {table}")
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def insert_arrow(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> int:
    """Append an Arrow table to ``table`` by column name; returns rows inserted.

    Columns missing from ``data`` are left to their defaults (NULL); the caller owns the
    transaction, so a file's tables land together or not at all.
    """
    if data.num_rows == 0:
        return 0
    columns = ", ".join(f'"{name}"' for name in data.column_names)
    con.register("_recoup_insert", data)
    try:
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _recoup_insert")
    finally:
        con.unregister("_recoup_insert")
    return data.num_rows


def insert_tables(con: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """Insert several staging tables (``{"stg.claims": table, ...}``); returns rows per table."""
    return {name: insert_arrow(con, name, data) for name, data in tables.items()}
