"""A warehouse made by an earlier release opens with this one: the migrations it has not seen
are applied (each whole), its data reads back unchanged, and the current pipeline computes on it
what the earlier one did. The file tests/fixtures/warehouse/schema005.duckdb.gz was written by
recoup at schema version 5 (tests/fixtures/warehouse/make_warehouse.py: the 5-claim demo, loaded,
marts and findings built as of 2026-11-15)."""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from warehouse import connection

FIXTURE = Path(__file__).parents[1] / "fixtures" / "warehouse" / "schema005.duckdb.gz"
AS_OF = date(2026, 11, 15)
FINDINGS = (
    "SELECT rule, claim_id, claim_key, line_number, net_paid, exposure, time_barred, as_of "
    "FROM mart.findings ORDER BY ALL"
)


def unpack(folder: Path) -> Path:
    path = folder / "recoup.duckdb"
    with gzip.open(FIXTURE, "rb") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target)
    return path


def user_tables(con: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    rows = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
        "AND NOT (schema_name = 'ledger' AND table_name = 'schema_migrations') ORDER BY ALL",
        [database],
    ).fetchall()
    return [(schema, table) for schema, table in rows]


def columns(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [database, schema, table],
    ).fetchall()
    return [name for (name,) in rows]


def recompute(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    from expectations.catalog import run_rules
    from expectations.config import load_config
    from marts.build import build_models

    build_models(con, AS_OF)
    run_rules(con, AS_OF, load_config())
    return con.execute(FINDINGS).fetchall()


def test_a_warehouse_of_todays_schema_opens_and_reads_back(tmp_path: Path) -> None:
    path = unpack(tmp_path)
    con = connection.connect(path)
    try:
        applied = connection.migrate(con)
        assert applied == [v for v, _ in connection.migrations() if v > 5]  # none today
        from loading.ingest import table_counts

        assert table_counts(con, ("stg", "ledger")) == {
            "ledger.files": 10,
            "ledger.rejected_parts": 0,
            "ledger.schema_migrations": 5 + len(applied),
            "stg.claim_lines": 6,
            "stg.claims": 5,
            "stg.eligibility_benefits": 2,
            "stg.eligibility_responses": 2,
            "stg.ref_fee_schedule": 64,
            "stg.ref_payers": 4,
            "stg.remit_adjustments": 11,
            "stg.remit_claims": 5,
            "stg.remit_lines": 6,
            "stg.remit_payments": 5,
            "stg.remit_provider_adjustments": 2,
            "stg.remit_remarks": 0,
            "stg.sessions": 5,
        }
        stored = con.execute(FINDINGS).fetchall()
        assert stored == [
            ("coding.time_unsupported", "PCN00000003", "PCN00000003~2025-11-16", 1,
             Decimal("66.30"), Decimal("5.10"), False, AS_OF),
            ("coding.units_over_limit", "PCN00000004", "PCN00000004~2025-11-23", 1,
             Decimal("133.60"), Decimal("66.80"), False, AS_OF),
        ]  # fmt: skip
        assert recompute(con) == stored  # this release computes on it what the file's did
    finally:
        con.close()


def test_a_warehouse_of_the_previous_version_is_migrated_with_its_data_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous release (migrations 001-004) made a warehouse and loaded the same files;
    this release opens it, applies 005 (and any later one) alone, keeps every row and column it
    had, and finds what a warehouse made by this release finds."""
    today = unpack(tmp_path)
    previous = tmp_path / "previous.duckdb"
    shipped = connection.migrations()
    monkeypatch.setattr(connection, "migrations", lambda: shipped[:4])
    with connection.open_warehouse(previous) as con:
        con.execute(f"ATTACH '{today}' AS today (READ_ONLY)")
        for schema, table in user_tables(con, "previous"):
            names = ", ".join(f'"{c}"' for c in columns(con, "previous", schema, table))
            con.execute(
                f"INSERT INTO {schema}.{table} ({names}) SELECT {names} FROM today.{schema}.{table}"
            )
        before = {
            (schema, table): (
                columns(con, "previous", schema, table),
                con.execute(f"SELECT * FROM {schema}.{table} ORDER BY ALL").fetchall(),
            )
            for schema, table in user_tables(con, "previous")
        }
        con.execute("DETACH today")
    assert before[("stg", "claims")][1] and before[("mart", "findings")][1]
    assert "claim_seq" not in before[("stg", "claims")][0]
    monkeypatch.undo()

    con = connection.connect(previous)
    try:
        assert connection.migrate(con) == [v for v, _ in shipped if v > 4]
        for (schema, table), (names, rows) in before.items():
            quoted = ", ".join(f'"{c}"' for c in names)
            after = con.execute(f"SELECT {quoted} FROM {schema}.{table} ORDER BY ALL").fetchall()
            assert after == rows, f"{schema}.{table} changed"
        new = con.execute(
            "SELECT count(*) FILTER (claim_seq IS NOT NULL) FROM stg.claims UNION ALL "
            "SELECT count(*) FILTER (claim_key IS NOT NULL) FROM mart.findings"
        ).fetchall()
        assert new == [(0,), (0,)]  # the new columns start empty on old rows
        con.execute(f"ATTACH '{today}' AS today (READ_ONLY)")
        made_today = con.execute(FINDINGS.replace("mart.findings", "today.mart.findings"))
        expected = made_today.fetchall()
        con.execute("DETACH today")
        assert recompute(con) == expected
    finally:
        con.close()
