"""A nightly that costs what changed (issue 10 item 1): the incremental path equals a full rebuild
on two demo nights, an unchanged rerun reuses marts, rules and both GX suites, and any change of
input, as-of date or configuration recomputes.

Night 1 is the demo inbox without its files of October 2026 and later (claims by service month,
271s and 835s by date), as of the demo's date; night 2 is the whole demo inbox a day later.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import DEMO_AS_OF, DemoWarehouse
from warehouse.connection import open_warehouse

NIGHT_2 = DEMO_AS_OF + timedelta(days=1)
ALL_STEPS = ["marts", "rules", "gx-rules", "gx-staging"]
DOCS = Path("uncommitted/data_docs/local_site/index.html")


def _night_one_inbox(inbox: Path, target: Path) -> Path:
    """The demo inbox less the files named for October 2026 or later."""
    shutil.copytree(inbox, target)
    for path in sorted(target.rglob("*")):
        stamp = re.search(r"_(\d{6})(\d{2})?\.", path.name)
        if path.is_file() and stamp and stamp.group(1) >= "202610":
            path.unlink()
    return target


def _findings(db: Path) -> list[tuple]:
    with open_warehouse(db, read_only=True) as con:
        return con.execute(
            "SELECT * FROM mart.findings ORDER BY claim_key, line_number, rule"
        ).fetchall()


def _exposure(reports: Path, as_of: date) -> bytes:
    return (reports / as_of.isoformat() / "exposure.json").read_bytes()


@pytest.fixture(scope="module")
def nights(
    prefect_harness: str, demo_warehouse: DemoWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    from flows.nightly import nightly

    root = tmp_path_factory.mktemp("incremental")
    first = _night_one_inbox(demo_warehouse.inbox, root / "night-1")
    held_back = sorted(p.name for p in demo_warehouse.inbox.rglob("*") if p.is_file()) != sorted(
        p.name for p in first.rglob("*") if p.is_file()
    )
    out: dict = {"held_back": held_back}
    for name, reuse in (("incremental", True), ("full", False)):
        db, reports = root / name / "recoup.duckdb", root / name / "reports"
        one = nightly(
            inbox=first, db=db, reports=reports, as_of=DEMO_AS_OF, lock_wait=5, reuse=reuse
        )
        two = nightly(
            inbox=demo_warehouse.inbox, db=db, reports=reports, as_of=NIGHT_2, lock_wait=5,
            reuse=reuse,
        )  # fmt: skip
        out[name] = {
            "db": db,
            "reports": reports,
            "nights": (one, two),
            "findings": _findings(db),
            "exposure": _exposure(reports, NIGHT_2),
        }
    db, reports = root / "scratch" / "recoup.duckdb", root / "scratch" / "reports"
    nightly(inbox=demo_warehouse.inbox, db=db, reports=reports, as_of=NIGHT_2, lock_wait=5)
    out["scratch"] = {"findings": _findings(db), "exposure": _exposure(reports, NIGHT_2)}
    incremental = out["incremental"]
    rerun = nightly(
        inbox=demo_warehouse.inbox, db=incremental["db"], reports=incremental["reports"],
        as_of=NIGHT_2, lock_wait=5,
    )  # fmt: skip
    incremental["rerun"] = rerun
    incremental["elsewhere"] = nightly(
        inbox=demo_warehouse.inbox, db=incremental["db"], reports=root / "elsewhere",
        as_of=NIGHT_2, lock_wait=5,
    )  # fmt: skip
    incremental["elsewhere_exposure"] = _exposure(root / "elsewhere", NIGHT_2)
    incremental["asked"] = nightly(
        inbox=demo_warehouse.inbox, db=incremental["db"], reports=root / "asked",
        as_of=NIGHT_2, lock_wait=5, overrides={"gx.always_build_docs": True},
    )  # fmt: skip
    incremental["asked_reports"] = root / "asked"
    incremental["rerun_findings"] = _findings(incremental["db"])
    incremental["rerun_exposure"] = _exposure(incremental["reports"], NIGHT_2)
    return out


def test_night_two_brings_new_files_and_findings(nights: dict) -> None:
    assert nights["held_back"]
    one, two = nights["incremental"]["nights"]
    assert len(two.ingest.by_status("loaded")) > 0
    assert sum(two.evaluation.counts.values()) > sum(one.evaluation.counts.values())


def test_incremental_nights_equal_the_full_rebuild(nights: dict) -> None:
    incremental, full = nights["incremental"], nights["full"]
    assert incremental["findings"] == full["findings"]
    assert incremental["findings"]  # every column, and there are findings to compare
    with open_warehouse(incremental["db"], read_only=True) as con:
        assert con.execute("SELECT DISTINCT as_of FROM mart.findings").fetchall() == [(NIGHT_2,)]
    assert incremental["exposure"] == full["exposure"]


def test_two_nights_equal_one_run_of_every_file_from_scratch(nights: dict) -> None:
    assert nights["incremental"]["findings"] == nights["scratch"]["findings"]
    assert nights["incremental"]["exposure"] == nights["scratch"]["exposure"]


def test_the_full_rebuild_reuses_nothing(nights: dict) -> None:
    assert [night.reused for night in nights["full"]["nights"]] == [[], []]
    assert all(night.validation.docs_built for night in nights["full"]["nights"])


def test_night_two_recomputes_what_its_files_changed(nights: dict) -> None:
    one, two = nights["incremental"]["nights"]
    assert one.reused == []
    assert two.reused == []  # new files and a new as-of date: marts, rules and both suites run


def test_an_unchanged_rerun_reuses_and_reports_the_same(nights: dict) -> None:
    incremental = nights["incremental"]
    rerun = incremental["rerun"]
    assert rerun.reused == ALL_STEPS
    assert rerun.ingest.by_status("loaded") == []
    assert incremental["rerun_findings"] == incremental["findings"]
    assert incremental["rerun_exposure"] == incremental["exposure"]
    two = incremental["nights"][1]
    assert rerun.evaluation.counts == two.evaluation.counts
    assert rerun.evaluation.skipped == two.evaluation.skipped
    assert rerun.validation.rules_found == two.validation.rules_found
    assert rerun.validation.staging_warnings == two.validation.staging_warnings
    assert rerun.validation.docs_built is False
    assert rerun.validation.docs_index == two.validation.docs_index
    assert rerun.validation.docs_index is not None and rerun.validation.docs_index.is_file()


def test_any_change_of_as_of_configuration_or_data_recomputes(nights: dict, tmp_path: Path) -> None:
    from flows import incremental

    db = nights["incremental"]["db"]
    copy = tmp_path / "recoup.duckdb"
    shutil.copyfile(db, copy)
    assert incremental.plan.fn(copy, NIGHT_2, 5, None).reuse_build is True
    assert incremental.plan.fn(copy, NIGHT_2 + timedelta(days=1), 5, None).reuse_build is False
    assert incremental.plan.fn(copy, NIGHT_2, 5, {"outlier.z": 2.5}).reuse_build is False
    assert incremental.plan.fn(copy, NIGHT_2, 5, None, reuse=False).reuse_build is False
    # Data Docs on every run is no input of the marts: asking for them keeps the reuse.
    assert incremental.plan.fn(copy, NIGHT_2, 5, {"gx.always_build_docs": True}).reuse_build
    with open_warehouse(copy) as con:
        con.execute("UPDATE stg.claim_lines SET units = units + 1 WHERE rowid = 0")
    assert incremental.plan.fn(copy, NIGHT_2, 5, None).reuse_build is False
    with open_warehouse(copy) as con:
        con.execute("UPDATE stg.claim_lines SET units = units - 1 WHERE rowid = 0")
    assert incremental.plan.fn(copy, NIGHT_2, 5, None).reuse_build is True
    with open_warehouse(copy) as con:
        deleted = con.execute(
            "DELETE FROM mart.findings WHERE rowid = (SELECT min(rowid) FROM mart.findings)"
        ).fetchall()
    assert deleted == [(1,)]
    assert incremental.plan.fn(copy, NIGHT_2, 5, None).reuse_build is False


def test_the_summary_says_the_docs_were_not_rebuilt(nights: dict) -> None:
    from flows.summaries import docs_line
    from flows.tasks import Validation

    rerun = nights["incremental"]["rerun"]
    assert docs_line(rerun.validation) == (
        f"data docs not rebuilt (results unchanged), last built at {rerun.validation.docs_index}"
    )
    two = nights["incremental"]["nights"][1]
    assert docs_line(two.validation) == f"data docs {two.validation.docs_index}"
    never = Validation([], [], True, [], {}, docs_index=None, docs_built=False)
    assert docs_line(never) == "no data docs built"


def test_another_reports_folder_reuses_and_points_to_the_last_docs(nights: dict) -> None:
    incremental = nights["incremental"]
    elsewhere = incremental["elsewhere"]
    assert elsewhere.reused == ALL_STEPS
    assert elsewhere.validation.docs_index == incremental["nights"][1].validation.docs_index
    assert incremental["elsewhere_exposure"] == incremental["exposure"]


def test_docs_asked_for_run_both_suites_on_reused_findings(nights: dict) -> None:
    asked = nights["incremental"]["asked"]
    assert asked.reused == ["marts", "rules"]
    assert asked.validation.docs_built is True
    expected = nights["incremental"]["asked_reports"] / "gx" / DOCS
    assert asked.validation.docs_index == expected.resolve()
    assert expected.is_file()
    assert asked.validation.rules_found == nights["incremental"]["nights"][1].validation.rules_found


def _rules_runs(gx_root: Path) -> list[Path]:
    store = gx_root / "uncommitted" / "validations" / "recoup_rules"
    return sorted(p for p in store.rglob("*.json"))


def _rules_pages(gx_root: Path) -> list[Path]:
    site = gx_root / "uncommitted" / "data_docs" / "local_site" / "validations" / "recoup_rules"
    return sorted(site.rglob("*.html"))


def test_a_suite_run_again_rebuilds_the_docs_only_when_its_outcome_changed(
    nights: dict, tmp_path: Path
) -> None:
    """GX Data Docs are built only when asked for or when results changed (issue 10, item 1):
    the rules suite run again on the same findings (its key made stale) concludes what it did
    last time, so no page is built; told its last outcome was another, it builds them."""
    from flows import incremental

    asked = nights["incremental"]["asked_reports"] / "gx"
    gx_root = tmp_path / "gx"
    shutil.copytree(asked, gx_root)
    db = tmp_path / "recoup.duckdb"
    shutil.copyfile(nights["incremental"]["db"], db)
    here = str((gx_root / DOCS).resolve())
    with open_warehouse(db) as con:
        con.execute("UPDATE mart.reuse_state SET rules_digest = 'stale', docs_index = ?", [here])
    runs, pages = len(_rules_runs(gx_root)), len(_rules_pages(gx_root))
    plan = incremental.plan.fn(db, NIGHT_2, 5, None)
    same = incremental.validate.fn(db, NIGHT_2, gx_root, 5, None, plan)
    assert same.reused == ["gx-staging"]
    assert len(_rules_runs(gx_root)) == runs + 1  # the suite ran
    assert same.docs_built is False
    assert len(_rules_pages(gx_root)) == pages  # and built no page
    assert same.docs_index == Path(here)
    assert same.rules_found == nights["incremental"]["nights"][1].validation.rules_found

    with open_warehouse(db) as con:
        con.execute(
            "UPDATE mart.reuse_state SET rules_digest = 'stale', "
            "rules_result = json_object('rules_found', [], 'rules_not_run', [], "
            "'guards_ok', true, 'unexpected_errors', [], 'outcome', 'another')::VARCHAR"
        )
    changed = incremental.validate.fn(db, NIGHT_2, gx_root, 5, None, plan)
    assert changed.reused == ["gx-staging"]
    assert changed.docs_built is True
    assert len(_rules_pages(gx_root)) == pages + 1
    assert changed.rules_found == same.rules_found
