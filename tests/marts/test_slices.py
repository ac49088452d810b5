"""Marts built in slices of CLM01 hashes (marts/build.py ``SLICED``) equal the marts built whole:
every row of every model, and the findings the rules draw from them, on the demo warehouse (which
reuses CLM01s, replaces and voids claims, reverses and takes back payments)."""

from __future__ import annotations

from pathlib import Path

import pytest

import marts.build
from expectations.catalog import run_rules
from marts.build import MODELS, SLICED, build_models, slice_count
from tests.conftest import DEMO_AS_OF, DemoWarehouse
from warehouse.connection import open_warehouse


def _tables(db: Path) -> dict[str, list[tuple]]:
    with open_warehouse(db, read_only=True) as con:
        tables = {}
        for name in (*MODELS, "mart_findings"):
            if name == "mart_build_info":  # when it was built
                continue
            table = "mart." + name.removeprefix("mart_")
            tables[table] = sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
        return tables


def _build(db: Path, rows_per_slice: int, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(marts.build, "ROWS_PER_SLICE", rows_per_slice)
    with open_warehouse(db) as con:
        slices = slice_count(con)
        build_models(con, DEMO_AS_OF)
        run_rules(con, DEMO_AS_OF)
    return slices


def test_sliced_marts_equal_the_whole_build_row_for_row(
    demo_warehouse: DemoWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = demo_warehouse.copy_to(tmp_path / "whole")
    sliced = demo_warehouse.copy_to(tmp_path / "sliced")
    assert _build(whole, 10**9, monkeypatch) == 1
    # the demo stages a few hundred lines: 40 a slice makes about ten slices
    assert _build(sliced, 40, monkeypatch) >= 8

    expected, got = _tables(whole), _tables(sliced)
    assert set(got) == set(expected)
    for table in expected:
        assert got[table] == expected[table], table
    assert len(expected["mart.line_payment_events"]) > 300
    assert len(expected["mart.findings"]) > 50


def test_every_sliced_model_filters_on_its_slice() -> None:
    for name in SLICED:
        sql = marts.build.model_sql(name, DEMO_AS_OF, 4, 3)
        assert "% 4 = 3" in sql, name
        assert sql.lstrip("-").find("INSERT INTO mart.") >= 0, name
        assert "CREATE OR REPLACE TABLE" not in sql, name
    first = marts.build.model_sql("mart_claims", DEMO_AS_OF, 4, 0)
    assert "CREATE OR REPLACE TABLE mart.claims AS" in first
