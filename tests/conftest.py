"""Shared fixtures: a fresh, migrated warehouse per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from transforms.warehouse import open_warehouse

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
X12_SAMPLES = Path(os.environ.get("RECOUP_X12_SAMPLES", SHARED / "x12-samples"))


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with open_warehouse(tmp_path / "recoup.duckdb") as con:
        yield con
