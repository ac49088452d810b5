"""The clean demo inbox and its run, once per session, for the bad-input corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.badinput.harness import Run, demo_inbox, load


@pytest.fixture(scope="session")
def clean_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_inbox(tmp_path_factory.mktemp("badinput") / "inbox")


@pytest.fixture(scope="session")
def clean(clean_inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return load(clean_inbox, tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="session")
def clean_work(clean: Run) -> Path:
    """The clean run's folder (warehouse and store): each case copies it."""
    return clean.store.parent
