"""Docs generated from the code must match it."""

from __future__ import annotations

from pathlib import Path

from expectations import docs

ROOT = Path(__file__).resolve().parents[1]


def test_rules_page_is_generated_from_the_definitions() -> None:
    page = (ROOT / "docs" / "rules.md").read_text()
    assert page == docs.render(), "regenerate: uv run python -m expectations.docs > docs/rules.md"
    assert "## coverage.lapsed" in page and "`coding.timed_minutes` = [16, 38, 53]" in page
