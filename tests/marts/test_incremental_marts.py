"""The marts rebuilt for the changed claims only (marts/incremental.py) equal a whole build, row
for row, on the demo: a second night of files (new months of claims, 835s paying old claims,
sessions, 271s) a day later, the next night's reversals and corrected sessions, an as-of date
moved back; and anything the last build cannot vouch for builds whole."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

import marts.incremental
from demo.night2 import generate_night2
from loading import ingest, reference
from marts.build import MODELS, build_models
from tests.conftest import DEMO_AS_OF, DemoWarehouse
from tests.flows.test_incremental import _night_one_inbox
from warehouse.connection import open_warehouse

SKIP = {"mart.build_info"}  # when it was built


def _marts(db: Path) -> dict[str, list[tuple]]:
    with open_warehouse(db, read_only=True) as con:
        out = {}
        for name in MODELS:
            table = "mart." + name.removeprefix("mart_")
            if table not in SKIP:
                out[table] = sorted(con.execute(f"FROM {table}").fetchall(), key=repr)
        return out


def _load(db: Path, inbox: Path, store: Path) -> None:
    with open_warehouse(db) as con:
        report = ingest.ingest_inbox(con, inbox, store, "test")
        assert not report.by_status("rejected")
        con.execute("BEGIN TRANSACTION")
        reference.rebuild(con)
        con.execute("COMMIT")


def _build(db: Path, as_of: date, incremental: bool) -> str | None:
    with open_warehouse(db) as con:
        return build_models(con, as_of, incremental=incremental).changed


@pytest.fixture(scope="module")
def nights(demo_warehouse: DemoWarehouse, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Night 1 (the demo less October 2026 on), then the whole inbox, then night 2's files."""
    root = tmp_path_factory.mktemp("incremental-marts")
    first = _night_one_inbox(demo_warehouse.inbox, root / "night-1")
    whole = root / "whole"
    shutil.copytree(demo_warehouse.inbox, whole)
    db = root / "recoup.duckdb"
    _load(db, first, root / "store")
    assert _build(db, DEMO_AS_OF, incremental=True) is None  # nothing to build on yet
    return {"root": root, "db": db, "whole": whole}


def _same_as_whole(db: Path, as_of: date, tmp: Path) -> tuple[str | None, dict]:
    """Build ``db`` incrementally and a copy whole; both marts."""
    copy = tmp / "whole-build.duckdb"
    shutil.copyfile(db, copy)
    changed = _build(db, as_of, incremental=True)
    assert _build(copy, as_of, incremental=False) is None
    got, expected = _marts(db), _marts(copy)
    for table in expected:
        assert got[table] == expected[table], table
    return changed, expected


def test_the_next_nights_files_a_day_later_rebuild_their_claims_only(
    nights: dict, tmp_path: Path
) -> None:
    _load(nights["db"], nights["whole"], nights["root"] / "store")
    changed, marts = _same_as_whole(nights["db"], DEMO_AS_OF + timedelta(days=1), tmp_path)
    assert changed is not None
    dirty, total = (int(n.replace(",", "")) for n in changed.split(" CLM01s")[0].split(" of "))
    assert 0 < dirty < total
    assert len(marts["mart.line_payment_events"]) > 300


def test_reversals_and_corrected_sessions_of_night_two(nights: dict, tmp_path: Path) -> None:
    expected = generate_night2(nights["whole"])
    assert expected["changes"], "night 2 plants changes"
    _load(nights["db"], nights["whole"], nights["root"] / "store")
    changed, _ = _same_as_whole(nights["db"], DEMO_AS_OF + timedelta(days=1), tmp_path)
    assert changed is not None


def test_an_as_of_date_moved_back_unknows_the_later_payments(nights: dict, tmp_path: Path) -> None:
    changed, _ = _same_as_whole(nights["db"], DEMO_AS_OF - timedelta(days=90), tmp_path)
    assert changed is not None
    assert not changed.startswith("0 of")
    changed, _ = _same_as_whole(nights["db"], DEMO_AS_OF + timedelta(days=1), tmp_path)
    assert changed is not None


def test_a_large_change_is_rebuilt_in_slices_of_its_claims(
    nights: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 4 lines a slice: the whole demo takes about a hundred slices, its changed claims a few
    monkeypatch.setattr(marts.build, "ROWS_PER_SLICE", 4)
    built: list[str] = []
    real = marts.build.model_sql

    def spy(name: str, as_of: date, slices: int = 1, slice_: int = 0, **kw: bool) -> str:
        if kw.get("dirty") and name == "mart_line_payment_events":
            built.append(f"{slice_}/{slices}")
        return real(name, as_of, slices, slice_, **kw)

    monkeypatch.setattr(marts.build, "model_sql", spy)
    changed, _ = _same_as_whole(nights["db"], DEMO_AS_OF - timedelta(days=30), tmp_path)
    assert changed is not None
    assert len(built) >= 2 and built[0] == f"0/{len(built)}", built


def test_the_code_digest_holds_the_duckdb_release(monkeypatch: pytest.MonkeyPatch) -> None:
    before = marts.incremental.code_digest()
    monkeypatch.setattr(marts.incremental.duckdb, "__version__", "0.0.0-other")
    assert marts.incremental.code_digest() != before


def test_what_the_last_build_cannot_vouch_for_builds_whole(
    nights: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = nights["db"]
    monkeypatch.setattr(marts.incremental, "code_digest", lambda: "other code")
    monkeypatch.setattr(marts.build, "code_digest", lambda: "other code")
    assert _build(db, DEMO_AS_OF, incremental=True) is None  # other code
    assert (
        _build(db, DEMO_AS_OF, incremental=True) == f"0 of {_claims(db)} CLM01s changed"
    )  # same code, nothing new: nothing dirty
    with open_warehouse(db) as con:  # a ledger row changed
        con.execute(
            "UPDATE ledger.files SET received_at = received_at + INTERVAL 1 DAY "
            "WHERE file_sha256 = (SELECT min(file_sha256) FROM stg.claims)"
        )
    assert _build(db, DEMO_AS_OF, incremental=True) is None
    assert _build(db, DEMO_AS_OF, incremental=True) is not None
    with open_warehouse(db) as con:  # a staged row of a kept file gone
        con.execute("DELETE FROM stg.sessions WHERE rowid = (SELECT max(rowid) FROM stg.sessions)")
    assert _build(db, DEMO_AS_OF, incremental=True) is None
    with open_warehouse(db) as con:  # marts built by something else since
        con.execute("UPDATE mart.build_info SET built_at = built_at + INTERVAL 1 SECOND")
    assert _build(db, DEMO_AS_OF, incremental=True) is None
    monkeypatch.setattr(marts.incremental, "MAX_DIRTY_SHARE", 0.0)
    with open_warehouse(db) as con:
        con.execute("DELETE FROM mart.build_basis_files WHERE file_sha256 IN "
                    "(SELECT file_sha256 FROM stg.claims LIMIT 1)")  # fmt: skip
    assert _build(db, DEMO_AS_OF, incremental=True) is None  # too many dirty for the share


def _claims(db: Path) -> str:
    with open_warehouse(db, read_only=True) as con:
        row = con.execute("SELECT count(DISTINCT claim_id) FROM stg.claims").fetchone()
    return f"{int(row[0]) if row else 0:,}"
