"""Opening the warehouse file (warehouse/connection.py): recoup writes only into a warehouse it
made, never into another program's database; a file that is not DuckDB fails at once, without
DuckDB reaching for an extension; each migration lands whole or not at all."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import duckdb
import pytest

from warehouse import connection
from warehouse.connection import WarehouseRefused, open_warehouse

KNOWN = connection.migrations()[-1][0]
# every shipped version, in order (lanes reserve numbers, so a branch may skip some)
SHIPPED = [version for version, _ in connection.migrations()]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions(path: Path) -> list[int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT version FROM ledger.schema_migrations ORDER BY 1").fetchall()
        return [v for (v,) in rows]
    finally:
        con.close()


def test_another_programs_duckdb_file_is_refused_and_left_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
    con.execute("CREATE SCHEMA billing")
    con.execute("CREATE VIEW billing.open_items AS SELECT 1 AS x")
    con.execute("INSERT INTO customers VALUES (1, 'x')")
    con.close()
    before = digest(path)
    with pytest.raises(WarehouseRefused) as refused, open_warehouse(path):
        pass
    assert str(refused.value) == (
        f"warehouse {path} is a DuckDB database that recoup did not create (it has no "
        "ledger.schema_migrations; it holds billing.open_items, main.customers); recoup will "
        "not write into it: give --db recoup's warehouse file, or a new path to start one"
    )
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.duckdb"]
    with pytest.raises(WarehouseRefused):  # read-only opens refuse it too
        connection.connect(path, read_only=True)
    assert digest(path) == before


def test_a_sqlite_file_is_refused_before_duckdb_sees_it(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "recoup.duckdb"
    lite = sqlite3.connect(path)
    lite.execute("CREATE TABLE t (a)")
    lite.commit()
    lite.close()
    before = digest(path)

    def no_duckdb(*args: object, **kwargs: object) -> None:
        raise AssertionError("duckdb.connect was called on a SQLite file")

    monkeypatch.setattr(connection.duckdb, "connect", no_duckdb)
    with pytest.raises(WarehouseRefused) as refused:
        connection.connect(path, wait_seconds=30)
    assert str(refused.value) == (
        f"warehouse {path} is a SQLite database, not a DuckDB warehouse made by recoup; recoup "
        "will not open it: give --db recoup's warehouse file, or a new path to start one"
    )
    assert digest(path) == before


def test_duckdb_never_installs_or_loads_an_extension_on_its_own(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "recoup.duckdb") as con:
        settings = con.execute(
            "SELECT current_setting('autoinstall_known_extensions'), "
            "current_setting('autoload_known_extensions')"
        ).fetchall()
    assert settings == [(False, False)]


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (bytes(range(256)) * 40, "it does not start with a DuckDB header"),
        (b"claim_id,line_number\nC1,1\n", "it does not start with a DuckDB header"),
        (b"DUCK", "it does not start with a DuckDB header"),
    ],
)
def test_a_file_that_is_not_duckdb_fails_at_once(tmp_path: Path, content: bytes, what: str) -> None:
    path = tmp_path / "recoup.duckdb"
    path.write_bytes(content)
    started = time.monotonic()
    with pytest.raises(WarehouseRefused) as refused:
        connection.connect(path, wait_seconds=60)
    assert time.monotonic() - started < 5  # not the lock-wait loop
    assert str(refused.value) == (
        f"warehouse {path} is not a DuckDB database ({what}); recoup will not open it: "
        "give --db recoup's warehouse file, or a new path to start one"
    )
    assert path.read_bytes() == content


def test_a_folder_is_not_a_warehouse_file(tmp_path: Path) -> None:
    with pytest.raises(WarehouseRefused) as refused:
        connection.connect(tmp_path, wait_seconds=60)
    assert str(refused.value) == (
        f"warehouse {tmp_path} is a folder, not a file: give --db the warehouse file's path"
    )


@pytest.mark.parametrize("make", ["missing", "empty", "duckdb-empty"])
def test_a_missing_or_empty_file_becomes_a_new_warehouse(tmp_path: Path, make: str) -> None:
    path = tmp_path / "new" / "recoup.duckdb"
    if make != "missing":
        path.parent.mkdir()
        if make == "empty":
            path.touch()  # e.g. from mktemp
        else:
            duckdb.connect(str(path)).close()  # a valid DuckDB file holding nothing
    with open_warehouse(path) as con:
        assert connection.count_rows(con, "ledger.files") == 0
    assert versions(path) == SHIPPED


def test_a_warehouse_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "recoup.duckdb"
    with open_warehouse(path) as con:
        con.execute(
            "INSERT INTO ledger.schema_migrations VALUES (?, '099_future.sql', now()::TIMESTAMP)",
            [KNOWN + 94],
        )
    before = digest(path)
    for read_only in (False, True):
        with pytest.raises(WarehouseRefused) as refused:
            connection.connect(path, read_only=read_only)
        assert str(refused.value) == (
            f"warehouse {path} was made by a newer release of recoup (schema version "
            f"{KNOWN + 94}; this release knows versions up to {KNOWN}): upgrade recoup to "
            "open it; nothing was written to it"
        )
    assert digest(path) == before


def test_a_failing_migration_leaves_the_warehouse_at_the_previous_version(
    tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "recoup.duckdb"
    with open_warehouse(path) as con:
        con.execute(
            "INSERT INTO stg.sessions (file_sha256, claim_id, minutes) VALUES ('f', 'C1', 55)"
        )
    sql = tmp_path / "migrations"
    sql.mkdir()
    for _, source in connection.migrations():
        (sql / source.name).write_bytes(source.read_bytes())
    broken = f"{KNOWN + 1:03d}_half_done.sql"
    (sql / broken).write_text(
        "CREATE TABLE ledger.half_done (x INTEGER);\n"
        "ALTER TABLE stg.sessions ADD COLUMN oops INTEGER;\n"
        "INSERT INTO ledger.half_done VALUES (1);\n"
        "SELECT * FROM stg.no_such_table;\n"
    )
    monkeypatch.setattr(connection, "SQL_DIR", sql)
    with pytest.raises(connection.MigrationFailed) as failed, open_warehouse(path):
        pass
    assert str(failed.value).startswith(
        f"warehouse {path}: migration {broken} failed and was rolled back (the warehouse stays "
        f"at version {KNOWN}): Catalog Error: Table with name no_such_table does not exist!"
    )
    monkeypatch.undo()
    assert versions(path) == SHIPPED
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        columns = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'sessions'"
            ).fetchall()
        ]
        rows = con.execute("SELECT claim_id, minutes FROM stg.sessions").fetchall()
    finally:
        con.close()
    assert "half_done" not in tables
    assert "oops" not in columns
    assert rows == [("C1", 55)]


def test_a_real_lock_conflict_is_still_waited_for(tmp_path: Path) -> None:
    """Only a lock conflict is retried: another process holding the file makes connect wait the
    whole wait_seconds, then say so (WarehouseLocked, exit code 3)."""
    import subprocess
    import sys

    path = tmp_path / "recoup.duckdb"
    with open_warehouse(path):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(600)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(connection.WarehouseLocked, match="in use by another process"):
            connection.connect(path, wait_seconds=1.5)
        assert time.monotonic() - started >= 1.5
    finally:
        holder.kill()
        holder.wait()


def test_a_refused_insert_raises_the_refusal_not_the_aborted_transaction() -> None:
    """Inside a transaction, the refused INSERT aborts it and the clean-up of the registered
    Arrow table fails too; the caller must still see DuckDB's refusal (a verdict on the file)."""
    import pyarrow as pa

    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE t (a VARCHAR NOT NULL, b INTEGER)")
    con.execute("BEGIN TRANSACTION")
    with pytest.raises(duckdb.ConstraintException) as refused:
        connection.insert_arrow(con, "t", pa.table({"a": pa.nulls(1, pa.string()), "b": [1]}))
    assert str(refused.value) == "Constraint Error: NOT NULL constraint failed: t.a"
    con.execute("ROLLBACK")
    assert connection.insert_arrow(con, "t", pa.table({"a": ["x"], "b": [2]})) == 1
    assert con.execute("SELECT * FROM t").fetchall() == [("x", 2)]
