"""`recoup report` and the nightly share one orchestration path: the report flow runs the
nightly's tasks and writes the nightly's bytes; a run's --set thresholds reach its report."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import DEMO_AS_OF, DemoWarehouse
from tests.flows.fresh import recoup_fresh

REPORT_FILES = ("changes.csv", "exposure.json", "findings.csv", "index.html")
# a summary is SQL in DuckDB: no orchestration, no GX, no charts, no dataframes
NOT_FOR_A_SUMMARY = (
    "prefect",
    "great_expectations",
    "matplotlib",
    "pandas",
    "sqlalchemy",
    "polars",
    "pyarrow",
    "numpy",
)


@pytest.fixture(scope="module")
def nightly_run(prefect_harness: str, demo_warehouse: DemoWarehouse, tmp_path_factory) -> dict:
    from flows.nightly import nightly

    root = tmp_path_factory.mktemp("report-flow")
    db = demo_warehouse.copy_to(root)
    result = nightly(
        inbox=demo_warehouse.inbox, db=db, reports=root / "reports", as_of=DEMO_AS_OF, lock_wait=5
    )
    return {"root": root, "db": db, "result": result}


def same_page(folder: Path, name: str) -> bytes | None:
    """The nightly's file ``name`` as written from ``root/<folder>`` beside ``root/reports``:
    the same bytes, but for the link to the Data Docs, relative to the page's folder."""
    if not (folder / name).exists():
        return None
    data = (folder / name).read_bytes()
    if name != "index.html":
        return data
    # the nightly's page links to the Docs it built and names the folder of their results
    assert data.count(b'href="../gx/uncommitted/data_docs/local_site/index.html"') == 1
    assert data.count(b"../gx/uncommitted/") == 2
    return data.replace(b"../gx/uncommitted/", b"../reports/gx/uncommitted/")


def test_report_flow_writes_the_nightly_bytes_read_only(nightly_run: dict) -> None:
    from flows.report import report

    out = nightly_run["root"] / "again"
    result = report(db=nightly_run["db"], reports=nightly_run["root"] / "unused", out=out)
    assert (result.as_of, result.rebuilt, result.paths.folder) == (DEMO_AS_OF, False, out)
    assert result.skipped == nightly_run["result"].evaluation.skipped
    folder = nightly_run["result"].report_folder
    for name in REPORT_FILES:
        assert (out / name).read_bytes() == same_page(folder, name), name
    assert not (nightly_run["root"] / "unused").exists()


def test_report_flow_summary_only_is_exposure_json(nightly_run: dict) -> None:
    from flows.report import report
    from reporting import to_json

    result = report(db=nightly_run["db"], reports=nightly_run["root"] / "unused", write_files=False)
    assert result.paths is None
    written = (nightly_run["result"].report_folder / "exposure.json").read_text()
    assert to_json(result.summary) == written
    assert json.loads(written)["as_of"] == DEMO_AS_OF.isoformat()


def test_report_flow_without_marts_says_so(prefect_harness: str, tmp_path: Path) -> None:
    from flows.report import NoMarts, report
    from warehouse.connection import open_warehouse

    db = tmp_path / "empty.duckdb"
    with open_warehouse(db):
        pass
    with pytest.raises(NoMarts, match="has no marts yet: run `recoup run` first"):
        report(db=db, reports=tmp_path / "reports")
    assert not (tmp_path / "reports").exists()


def test_a_runs_outlier_override_reaches_the_reports_peer_chart(
    prefect_harness: str, demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    """--set outlier.z=2.75 reaches the rule and the HTML's peer sentence (it said 2.0 before)."""
    from flows.nightly import nightly

    db = demo_warehouse.copy_to(tmp_path)
    result = nightly(
        inbox=demo_warehouse.inbox,
        db=db,
        reports=tmp_path / "reports",
        as_of=DEMO_AS_OF,
        lock_wait=5,
        overrides={"outlier.z": 2.75, "outlier.share": 0.55, "outlier.min_lines": 5},
    )
    page = (result.report_folder / "index.html").read_text()
    assert "(robust z above 2.75 and share at least 55%) is flagged" in page
    assert "robust z above 2.0 " not in page


def test_recoup_report_json_reads_without_prefect_or_gx(nightly_run: dict) -> None:
    """The command prints exposure.json's bytes, with neither Prefect nor GX imported (nor
    matplotlib, pandas, Polars or Arrow: a summary draws nothing and reads a few rows)."""
    done = recoup_fresh(["report", "--db", str(nightly_run["db"]), "--format", "json"])
    assert (done.code, done.stderr) == (0, "")
    assert done.stdout == (nightly_run["result"].report_folder / "exposure.json").read_text()
    assert [name for name in done.imported if name in NOT_FOR_A_SUMMARY] == []


def test_recoup_report_writes_the_nightly_bytes_without_prefect_or_gx(nightly_run: dict) -> None:
    out = nightly_run["root"] / "by-command"
    done = recoup_fresh(["report", "--db", str(nightly_run["db"]), "--out", str(out)])
    assert (done.code, done.stdout, done.stderr) == (0, f"{out}\n", "")
    assert "prefect" not in done.imported
    assert "great_expectations" not in done.imported
    folder = nightly_run["result"].report_folder
    for name in REPORT_FILES:
        assert (out / name).read_bytes() == same_page(folder, name), name
    logs = sorted((nightly_run["db"].parent / "logs").glob("report-*-*.log"))
    assert logs, "the report keeps its run log"


def test_recoup_report_for_another_as_of_still_rebuilds_through_the_flow(
    nightly_run: dict, prefect_harness: str, tmp_path: Path
) -> None:
    db = tmp_path / "recoup.duckdb"
    shutil.copyfile(nightly_run["db"], db)
    args = ["report", "--db", str(db), "--as-of", "2026-10-31", "--format", "json"]
    done = recoup_fresh(args, PREFECT_API_URL=prefect_harness)
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout)["as_of"] == "2026-10-31"
    assert "prefect" in done.imported
    assert len(list((tmp_path / "logs").glob("report-*.log"))) == 1  # one run, one run log


def test_report_for_another_as_of_rebuilds_through_the_tasks(nightly_run: dict) -> None:
    from flows.report import report
    from marts.build import built_as_of
    from warehouse.connection import open_warehouse

    other = date(2026, 10, 31)
    assert other != DEMO_AS_OF
    out = nightly_run["root"] / "other"
    result = report(
        db=nightly_run["db"], reports=nightly_run["root"] / "unused", as_of=other, out=out
    )
    assert (result.as_of, result.rebuilt) == (other, True)
    assert json.loads((out / "exposure.json").read_text())["as_of"] == "2026-10-31"
    with open_warehouse(nightly_run["db"], read_only=True) as con:
        assert built_as_of(con) == other
        assert {
            row[0] for row in con.execute("SELECT DISTINCT as_of FROM mart.findings").fetchall()
        } == {other}
