"""DuckDB's memory bound (warehouse/resources.py): 4 GiB or half the machine by default,
``RECOUP_MEMORY_LIMIT`` when given, checked before a run starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse import resources
from warehouse.connection import open_warehouse


def test_the_default_is_4_gib_or_half_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "physical_memory_mib", lambda: 24_000)
    assert resources.memory_limit_from({}) == "4096MiB"
    monkeypatch.setattr(resources, "physical_memory_mib", lambda: 6_000)
    assert resources.memory_limit_from({}) == "3000MiB"
    monkeypatch.setattr(resources, "physical_memory_mib", lambda: None)
    assert resources.memory_limit_from({"RECOUP_MEMORY_LIMIT": "  "}) == "4096MiB"


@pytest.mark.parametrize(
    ("given", "passed"),
    [("6GB", "6GB"), ("6 GiB", "6GiB"), ("512mib", "512mib"), ("2.5GB", "2.5GB")],
)
def test_a_size_is_passed_to_duckdb(given: str, passed: str) -> None:
    assert resources.memory_limit_from({"RECOUP_MEMORY_LIMIT": given}) == passed


@pytest.mark.parametrize("given", ["lots", "4", "-1GB", "10MB", "4 G", "80%"])
def test_anything_else_is_refused_naming_the_variable(given: str) -> None:
    with pytest.raises(ValueError) as raised:
        resources.memory_limit_from({"RECOUP_MEMORY_LIMIT": given})
    assert str(raised.value) == (
        f"RECOUP_MEMORY_LIMIT={given!r} is not a memory size of at least 64 MiB "
        "such as 4GB, 512MiB or 6 GiB"
    )


def test_every_warehouse_connection_carries_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOUP_MEMORY_LIMIT", "768MiB")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone() == ("768.0 MiB",)
    monkeypatch.delenv("RECOUP_MEMORY_LIMIT")
    monkeypatch.setattr(resources, "physical_memory_mib", lambda: 2_000)
    with open_warehouse(tmp_path / "w.duckdb", read_only=True) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone() == ("1000.0 MiB",)
