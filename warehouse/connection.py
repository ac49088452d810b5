"""The one place that opens the DuckDB warehouse.

Schema changes are versioned SQL files in ``warehouse/migrations`` named ``NNN_*.sql``;
``open_warehouse`` applies the ones the file has not seen yet, in order, each in its own
transaction, and records them in ``ledger.schema_migrations``. Every other module receives a
connection from here.

Before DuckDB sees a file, ``connect`` checks that it is one recoup may open: a missing or empty
file becomes a new warehouse; a file without DuckDB's header (a SQLite database, CSV, random bytes)
or a DuckDB database without ``ledger.schema_migrations`` (another program's) or with a version
above the highest migration shipped (a newer release's) is refused with ``WarehouseRefused``
(exit code 2) and left byte for byte. DuckDB never installs or loads an extension on its own
(a SQLite file would otherwise make it download ``sqlite_scanner``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from warehouse.errors import WarehouseLocked, WarehouseRefused

if TYPE_CHECKING:  # DuckDB reads Arrow tables itself; importing pyarrow here costs 0.3 s
    import pyarrow as pa

from warehouse.resources import memory_limit

SQL_DIR = Path(__file__).parent / "migrations"
_MIGRATION = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


class MigrationFailed(RuntimeError):
    """A migration failed and was rolled back: the warehouse stays at the version before it."""


# DuckDB's main header: an 8-byte checksum, then the magic bytes (duckdb/storage/storage_info.hpp)
DUCKDB_MAGIC = (8, b"DUCK")
SQLITE_MAGIC = b"SQLite format 3\x00"
# No network and no code that uv.lock does not pin: a file DuckDB cannot read must fail here, not
# make DuckDB fetch (or load) an extension that could read it.
CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def duckdb_config() -> dict[str, str | bool | int | float | list[str]]:
    """``CONFIG`` plus the memory bound of this process (warehouse/resources.py)."""
    return {**CONFIG, "memory_limit": memory_limit()}


WHAT_TO_DO = "give --db recoup's warehouse file, or a new path to start one"


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
    applied: list[int] = []
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
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            held = max(done | set(applied), default=0)
            raise MigrationFailed(
                f"warehouse {_database_path(con)}: migration {path.name} failed and was rolled "
                f"back (the warehouse stays at version {held}): {str(exc).splitlines()[0]}"
            ) from exc
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def _database_path(con: duckdb.DuckDBPyConnection) -> str:
    row = fetch_one(con, "SELECT path FROM duckdb_databases() WHERE database_name = "
                         "current_database()")  # fmt: skip
    return str(row[0]) if row and row[0] else ":memory:"


def check_file(path: Path) -> bool:
    """Whether ``path`` is an existing DuckDB file (False: none yet, or empty: a new warehouse);
    raises WarehouseRefused, without opening it, for anything DuckDB must not be given."""
    if path.is_dir():
        raise WarehouseRefused(
            f"warehouse {path} is a folder, not a file: give --db the warehouse file's path"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise WarehouseRefused(f"warehouse {path} cannot be read: {exc.strerror}") from exc
    if not head:
        return False
    if head.startswith(SQLITE_MAGIC):
        raise WarehouseRefused(
            f"warehouse {path} is a SQLite database, not a DuckDB warehouse made by recoup; "
            f"recoup will not open it: {WHAT_TO_DO}"
        )
    offset, magic = DUCKDB_MAGIC
    if head[offset : offset + len(magic)] != magic:
        raise WarehouseRefused(
            f"warehouse {path} is not a DuckDB database (it does not start with a DuckDB "
            f"header); recoup will not open it: {WHAT_TO_DO}"
        )
    return True


def check_ours(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a DuckDB database recoup did not make (tables but no ledger.schema_migrations) or
    one a newer release migrated past the highest version this release ships."""
    objects = sorted(
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND NOT internal "
            "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
            "WHERE database_name = current_database() AND NOT internal "
            "UNION ALL SELECT schema_name, sequence_name FROM duckdb_sequences() "
            "WHERE database_name = current_database()"
        ).fetchall()
    )
    if "ledger.schema_migrations" not in objects:
        if not objects:
            return  # an empty DuckDB file: a new warehouse
        shown = ", ".join(objects[:5])
        if len(objects) > 5:
            shown += f" and {len(objects) - 5} more"
        raise WarehouseRefused(
            f"warehouse {path} is a DuckDB database that recoup did not create (it has no "
            f"ledger.schema_migrations; it holds {shown}); recoup will not write into it: "
            f"{WHAT_TO_DO}"
        )
    row = fetch_one(con, "SELECT max(version) FROM ledger.schema_migrations")
    newest = int(row[0]) if row and row[0] is not None else 0  # type: ignore[call-overload]
    known = max((version for version, _ in migrations()), default=0)
    if newest > known:
        raise WarehouseRefused(
            f"warehouse {path} was made by a newer release of recoup (schema version {newest}; "
            f"this release knows versions up to {known}): upgrade recoup to open it; nothing "
            "was written to it"
        )


def connect(
    path: str | Path, *, read_only: bool = False, wait_seconds: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, waiting up to ``wait_seconds`` for another writer to let go.

    Raises WarehouseLocked with the holder's message when the lock is still held (the only
    error waited on), WarehouseRefused at once for a file recoup must not open (``check_file``,
    ``check_ours``).
    """
    path = Path(path)
    exists = check_file(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not exists and path.exists():
            path.unlink()  # an empty file (DuckDB refuses one): start the warehouse afresh
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
            break
        except duckdb.IOException as exc:
            if not _lock_conflict(exc):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLocked(
                    f"warehouse {path} is in use by another process: {exc}"
                ) from exc
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
    try:
        check_ours(con, path)
    except BaseException:
        con.close()
        raise
    return con


def preflight(path: str | Path) -> None:
    """Refuse, before a run starts anything, a warehouse file recoup must not open (the checks of
    ``connect``, read-only, nothing written). A file another process holds passes: the run waits
    for it. A DuckDB file that DuckDB itself cannot open (damaged, a newer storage format) is
    refused too, with DuckDB's reason."""
    path = Path(path)
    if not check_file(path):
        return
    try:
        con = duckdb.connect(str(path), read_only=True, config=CONFIG)
    except duckdb.ConnectionException as exc:
        if "same database file" in str(exc):
            return  # open in this process already, through connect(): checked then
        raise
    except duckdb.IOException as exc:
        if _lock_conflict(exc):
            return
        raise WarehouseRefused(
            f"warehouse {path} cannot be opened by DuckDB: {str(exc).splitlines()[0]}"
        ) from exc
    try:
        check_ours(con, path)
    finally:
        con.close()


def _lock_conflict(exc: duckdb.IOException) -> bool:
    """DuckDB's "Could not set lock on file ...: Conflicting lock is held in ..." (another
    process has the file open), as opposed to any other I/O error."""
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


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
        # after a refused INSERT the transaction is aborted and unregister fails too: that must
        # not hide the refusal (the caller rolls back; the next register replaces the name)
        with suppress(duckdb.TransactionException):
            con.unregister("_recoup_insert")
    return data.num_rows


def insert_tables(con: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """Insert several staging tables (``{"stg.claims": table, ...}``); returns rows per table."""
    return {name: insert_arrow(con, name, data) for name, data in tables.items()}
