"""Great Expectations 1.x on a DuckDB file through duckdb-engine: two small patches and a source.

Written against great-expectations==1.24.1 (with duckdb-engine==0.17.0, SQLAlchemy 2.1,
duckdb 2.0.1). `install()` applies the patches; it is idempotent, and it raises
`GXInternalsChanged` if the GX internals it replaces are gone, so an upgrade fails loudly.

Patch 1, `SqlAlchemyExecutionEngine.get_connection`
(great_expectations/execution_engine/sqlalchemy_execution_engine.py), GX issues #11579 and
#10738: every metric fails with "IndexError: list index out of range" (the expectation comes
back `success=False` with an empty result). `execute_query()` runs the query inside
`with self.get_connection()`, which for most dialects is `with engine.connect()`; the
connection goes back to the pool (pool reset = ROLLBACK) *before* the caller fetches. A
duckdb-engine cursor is its connection, so the ROLLBACK discards the pending result and
`fetchall()` returns `[]`. GX already keeps one persistent connection per execution engine for
SQLite, SQL Server, BigQuery and Databricks (`_PERSISTED_CONNECTION_DIALECTS`); the patch does
the same for the "duckdb" dialect and delegates every other dialect to the original method.
It also rolls the persistent connection back after a failed statement: DuckDB aborts the
transaction on error, and without the rollback one unsupported expectation would make every
later metric of the run fail too.

Patch 2, `column_reflection_fallback` (great_expectations/expectations/metrics/util.py), no GX
issue found: the `table.column_types` metric (a dependency of every column expectation) first
asks the SQLAlchemy inspector, which fails on duckdb-engine 0.17 + SQLAlchemy 2.1 (the
PostgreSQL reflection query joins `pg_catalog.pg_collation`, which DuckDB does not have). GX
then falls back to `SELECT * FROM <table> LIMIT 1` but drops the schema (it only qualifies the
name for Redshift), so every column expectation on `stg.claims` fails with "Table with name
claims does not exist". The patch passes a schema-qualified `sqlalchemy.Table` instead; the
fallback returns column names (no types), which is all these expectations need.

`release(datasource)` closes the persistent connection and disposes the engines, so the DuckDB
file is not left open (and locked) after a validation.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

GX_VERSION = "1.24.1"
"""The great-expectations version the patches were written against and tested with."""

_MARK = "_recoup_duckdb_patch"
_originals: dict[str, Any] = {}


class GXInternalsChanged(RuntimeError):
    """The GX internals patched here are missing or changed: re-check GX issues 11579/10738."""


def _targets() -> tuple[Any, Any]:
    """Return (SqlAlchemyExecutionEngine, metrics util module), checking what the patches need."""
    import great_expectations as gx
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see
    from great_expectations.expectations.metrics import util

    problems = []
    engine_cls = getattr(see, "SqlAlchemyExecutionEngine", None)
    if engine_cls is None or not callable(getattr(engine_cls, "get_connection", None)):
        problems.append("SqlAlchemyExecutionEngine.get_connection is missing")
    elif "self._connection" not in inspect.getsource(engine_cls.__init__):
        problems.append("SqlAlchemyExecutionEngine no longer keeps a persisted `_connection`")
    if not hasattr(see, "_PERSISTED_CONNECTION_DIALECTS"):
        problems.append("sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS is missing")
    fallback = getattr(util, "column_reflection_fallback", None)
    if fallback is None:
        problems.append("metrics.util.column_reflection_fallback is missing")
    else:
        params = list(inspect.signature(fallback).parameters)
        if params[:4] != ["selectable", "dialect", "sqlalchemy_engine", "schema_name"]:
            problems.append(f"column_reflection_fallback signature changed: {params}")
    if problems:
        raise GXInternalsChanged(
            f"great_expectations {gx.__version__}: cannot patch for DuckDB (written against "
            f"{GX_VERSION}): " + "; ".join(problems) + ". Check whether GX issues 11579/10738 "
            "are fixed upstream and update or remove warehouse/gx_duckdb.py."
        )
    if gx.__version__ != GX_VERSION:
        warnings.warn(
            f"warehouse.gx_duckdb was written against great_expectations {GX_VERSION}, "
            f"found {gx.__version__}; run tests/test_gx_duckdb.py",
            stacklevel=3,
        )
    return engine_cls, util


def is_installed() -> bool:
    engine_cls, util = _targets()
    return bool(
        getattr(engine_cls.get_connection, _MARK, False)
        and getattr(util.column_reflection_fallback, _MARK, False)
    )


def install() -> None:
    """Apply both patches (idempotent). Raises GXInternalsChanged if GX changed underneath."""
    engine_cls, util = _targets()

    if not getattr(engine_cls.get_connection, _MARK, False):
        original_get_connection = engine_cls.get_connection

        @contextmanager
        def get_connection(self: Any) -> Iterator[Any]:
            if self.dialect_name != "duckdb":
                with original_get_connection(self) as connection:
                    yield connection
                return
            # Same as GX does for _PERSISTED_CONNECTION_DIALECTS: keep one connection, so it
            # is not returned to the pool (and rolled back) before the caller fetches.
            if self._connection is None or self._connection.closed:
                self._connection = self.engine.connect()
            connection = self._connection
            try:
                yield connection
            except Exception:
                # DuckDB aborts the transaction on error; clear it for the next metric.
                try:
                    connection.rollback()
                except Exception:
                    self._connection = None
                raise

        setattr(get_connection, _MARK, True)
        _originals["get_connection"] = original_get_connection
        engine_cls.get_connection = get_connection

    if not getattr(util.column_reflection_fallback, _MARK, False):
        original_fallback = util.column_reflection_fallback

        def column_reflection_fallback(
            selectable: Any,
            dialect: Any,
            sqlalchemy_engine: Any,
            schema_name: str | None = None,
        ) -> Any:
            if dialect.name.lower() == "duckdb" and schema_name and isinstance(selectable, str):
                import sqlalchemy as sa

                selectable = sa.Table(str(selectable), sa.MetaData(), schema=schema_name)
            return original_fallback(selectable, dialect, sqlalchemy_engine, schema_name)

        setattr(column_reflection_fallback, _MARK, True)
        _originals["column_reflection_fallback"] = original_fallback
        util.column_reflection_fallback = column_reflection_fallback


def uninstall() -> None:
    """Restore GX's own functions (used by the test that documents the bug)."""
    engine_cls, util = _targets()
    if "get_connection" in _originals:
        engine_cls.get_connection = _originals.pop("get_connection")
    if "column_reflection_fallback" in _originals:
        util.column_reflection_fallback = _originals.pop("column_reflection_fallback")


_shared: dict[Path, duckdb.DuckDBPyConnection] = {}


def _do_connect(dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> Any:
    """SQLAlchemy `do_connect` hook: hand duckdb-engine a cursor of a shared connection."""
    if dialect.name != "duckdb":
        return None
    database = cparams.get("database")
    if not database or database == ":memory:":
        return None
    con = _shared.get(Path(database).resolve())
    if con is None:
        return None  # SQLAlchemy goes on to duckdb-engine's own connect()
    from duckdb_engine import ConnectionWrapper

    return ConnectionWrapper(con.cursor())


def _install_connect_hook() -> None:
    import duckdb_engine
    import sqlalchemy as sa

    # On the dialect class: a listener on the `Engine` class is not called for do_connect.
    if not sa.event.contains(duckdb_engine.Dialect, "do_connect", _do_connect):
        sa.event.listen(duckdb_engine.Dialect, "do_connect", _do_connect)


def database_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file behind a DuckDB connection's current database (None for in-memory)."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return Path(row[0]).resolve() if row and row[0] else None


@contextmanager
def shared(con: duckdb.DuckDBPyConnection, db_path: Path | str) -> Iterator[None]:
    """While inside, every SQLAlchemy connection to `db_path` is a cursor of `con`.

    In one process a second `duckdb.connect()` of a file that is already open fails with "Can't
    open a connection to same database file with a different configuration" (duckdb-engine
    always adds a `custom_user_agent`, and a read-only open differs from a read-write one), so
    GX must share the caller's database instance. A cursor is a new connection to the same
    database: it sees what the caller has committed (DuckDB autocommits unless the caller ran
    BEGIN), not the caller's open transaction. This goes through a SQLAlchemy `do_connect`
    listener rather than `create_engine(creator=...)`, because a file context writes the data
    source's engine kwargs to great_expectations.yml and a function is not serialisable.
    """
    path = Path(db_path).resolve()
    held = database_path(con)
    if held != path:
        raise ValueError(f"con is connected to {held}, not {path}")
    if path in _shared and _shared[path] is not con:
        raise RuntimeError(f"another connection to {path} is already shared")
    _install_connect_hook()
    _shared[path] = con
    try:
        yield
    finally:
        _shared.pop(path, None)


def datasource(
    context: Any,
    db_path: Path | str,
    *,
    name: str = "warehouse",
    read_only: bool = True,
) -> Any:
    """Add (or replace) a GX SQL data source for a DuckDB file, through duckdb-engine.

    Installs the patches first. GX opens the file itself (read-only by default), which fails if
    this process already holds the file open, unless the caller's connection is lent with
    `shared(con, db_path)` around the validation. Call `release()` when done.
    """
    install()
    path = Path(db_path).resolve()
    connection_string = f"duckdb:///{path}"
    if read_only:
        connection_string += "?access_mode=read_only"
    return context.data_sources.add_or_update_sql(name=name, connection_string=connection_string)


def release(source: Any) -> None:
    """Close the persistent connection and dispose the engines of a data source from here."""
    execution_engine = getattr(source, "_execution_engine", None)
    if execution_engine is not None:
        connection = getattr(execution_engine, "_connection", None)
        if connection is not None:
            try:
                connection.close()
            finally:
                execution_engine._connection = None
        execution_engine.engine.dispose()
    engine = getattr(source, "_engine", None)
    if engine is not None:
        engine.dispose()
