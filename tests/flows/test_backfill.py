"""The backfill flow on the demo warehouse, under the session's Prefect API: month partitions, the
same warehouse as a nightly run for the same as-of date, the nightly findings restricted to the
window, identical bytes on a rerun, and the command's progress lines and audit files."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from marts.partitions import service_months
from tests.conftest import DEMO_AS_OF, DemoWarehouse
from warehouse.connection import open_warehouse

START, END, PAYER = date(2026, 3, 10), date(2026, 6, 30), "MCRDM"
REPORT_FILES = ("exposure.json", "findings.csv", "index.html")


def test_service_months() -> None:
    assert service_months(date(2025, 11, 20), date(2026, 2, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert service_months(date(2026, 3, 5), date(2026, 3, 5)) == [date(2026, 3, 1)]
    with pytest.raises(ValueError):
        service_months(date(2026, 3, 5), date(2026, 3, 4))


def _findings(db: Path) -> list[tuple]:
    with open_warehouse(db, read_only=True) as con:
        return con.execute(
            "SELECT * EXCLUDE (evidence), evidence FROM mart.findings "
            "ORDER BY claim_id, line_number, rule"
        ).fetchall()


def _stg_counts(db: Path) -> dict[str, int]:
    from loading.ingest import table_counts

    with open_warehouse(db, read_only=True) as con:
        return table_counts(con)


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def runs(prefect_harness: str, demo_warehouse: DemoWarehouse, tmp_path_factory) -> dict:
    """A nightly run, then the same backfill twice (beside it, and again), on one warehouse."""
    from flows.backfill import backfill
    from flows.nightly import nightly

    root = tmp_path_factory.mktemp("backfill")
    db = demo_warehouse.copy_to(root)
    reports = root / "reports"
    night = nightly(
        inbox=demo_warehouse.inbox, db=db, reports=reports, as_of=DEMO_AS_OF, lock_wait=5
    )
    after_nightly = _findings(db), _stg_counts(db)
    first = backfill(
        start=START,
        end=END,
        db=db,
        reports=reports,
        payer_id=PAYER,
        reason="test letter",
        inbox=demo_warehouse.inbox,
        as_of=DEMO_AS_OF,
        lock_wait=5,
    )
    first_bytes = {name: (first.report_folder / name).read_bytes() for name in REPORT_FILES}
    after_first = _findings(db), _stg_counts(db)
    second = backfill(
        start=START,
        end=END,
        db=db,
        reports=reports,
        payer_id=PAYER,
        reason="test letter",
        inbox=demo_warehouse.inbox,
        as_of=DEMO_AS_OF,
        lock_wait=5,
    )
    return {
        "db": db,
        "nightly": night,
        "first": first,
        "second": second,
        "first_bytes": first_bytes,
        "after_nightly": after_nightly,
        "after_first": after_first,
        "after_second": (_findings(db), _stg_counts(db)),
    }


def test_backfill_goes_month_by_month_into_its_folder(runs: dict) -> None:
    first = runs["first"]
    assert first.months == [date(2026, m, 1) for m in (3, 4, 5, 6)]
    assert list(first.findings_by_month) == ["2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01"]
    assert first.report_folder.parts[-2:] == ("backfill", "2026-03-10_2026-06-30_mcrdm")
    assert first.ingest is not None and not first.ingest.by_status("loaded")
    scope = first.summary["scope"]
    assert (scope["kind"], scope["start"], scope["end"], scope["payer_id"]) == (
        "backfill",
        "2026-03-10",
        "2026-06-30",
        "MCRDM",
    )
    assert first.audit is None and not (first.report_folder / "audit.json").exists()


def test_backfill_beside_a_nightly_run_leaves_the_same_warehouse(runs: dict) -> None:
    findings, counts = runs["after_nightly"]
    assert findings, "the demo has findings"
    assert runs["after_first"] == (findings, counts)
    assert runs["after_second"] == (findings, counts)


def test_backfill_twice_writes_identical_bytes(runs: dict) -> None:
    folder = runs["second"].report_folder
    for name in REPORT_FILES:
        assert (folder / name).read_bytes() == runs["first_bytes"][name], name


def test_backfill_report_is_the_nightly_findings_in_the_window(runs: dict) -> None:
    nightly_rows = _csv_rows((runs["nightly"].report_folder / "findings.csv").read_text())
    expected = [
        row
        for row in nightly_rows
        if START.isoformat() <= row["date_of_service"] <= END.isoformat()
        and row["payer_id"] == PAYER
    ]
    backfill_rows = _csv_rows((runs["first"].report_folder / "findings.csv").read_text())
    assert expected and backfill_rows == expected
    # by_rule (not time-barred findings, gross) follows from those rows, to the cent
    by_rule: dict[str, dict] = {}
    for row in expected:
        if row["time_barred"] == "false":
            body = by_rule.setdefault(row["rule"], {"lines": 0, "cents": 0})
            body["lines"] += 1
            body["cents"] += round(float(row["exposure"]) * 100)
    summary_rules = runs["first"].summary["by_rule"]
    for rule, body in summary_rules.items():
        want = by_rule.get(rule, {"lines": 0, "cents": 0})
        assert (body["lines"], round(body["exposure"] * 100)) == (want["lines"], want["cents"])


def test_backfill_command_shows_progress_and_writes_the_audit(
    runs: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main
    from reporting.scope import claims_tag

    db = runs["db"]
    with open_warehouse(db, read_only=True) as con:
        ids = [
            row[0]
            for row in con.execute(
                "SELECT DISTINCT claim_id FROM mart.claim_lines WHERE payer_id = ? "
                "AND date_of_service BETWEEN ? AND ? ORDER BY claim_id",
                [PAYER, START, END],
            ).fetchall()
        ]
    sample = tmp_path / "sample.txt"
    sample.write_text("\n".join(ids[::2]) + "\n")
    reports = tmp_path / "reports"
    code = main(
        [
            "backfill",
            "--start",
            START.isoformat(),
            "--end",
            END.isoformat(),
            "--payer",
            PAYER.lower(),  # ids match case-insensitively: the report is MCRDM's
            "--claims-file",
            str(sample),
            "--no-ingest",
            "--db",
            str(db),
            "--reports",
            str(reports),
            "--as-of",
            DEMO_AS_OF.isoformat(),
            "--via",
            "local",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("partition")] == [
        "partition 2026-03 (1/4)",
        "partition 2026-04 (2/4)",
        "partition 2026-05 (3/4)",
        "partition 2026-06 (4/4)",
    ]
    # an audit of named claims has its own folder: the whole window's report stays as it is
    folder = reports / "backfill" / f"2026-03-10_2026-06-30_mcrdm_{claims_tag(ids[::2])}"
    audit = json.loads((folder / "audit.json").read_text())
    assert audit["audited_claims"] == len(ids[::2])
    assert json.loads((folder / "exposure.json").read_text())["scope"]["payer_id"] == PAYER
    assert (
        json.loads((folder / "exposure.json").read_text())["audit"]["verdicts"]
        == (audit["verdicts"])
    )
    assert "audit:" in out and "point estimate" in out
    # the report's findings are the audited claims' (the scope names them)
    rows = _csv_rows((folder / "findings.csv").read_text())
    assert {row["claim_id"] for row in rows} <= set(ids[::2])
    # and the warehouse is still the nightly's
    assert _findings(db) == runs["after_nightly"][0]


def test_partition_runs_then_a_finishing_run_equal_one_run(
    prefect_harness: str, demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    """The steps `recoup backfill` runs through a server (one partition run per month, then the
    finishing run) leave the warehouse and the report one local run leaves, byte for byte; a
    second finishing run changes nothing."""
    from flows.backfill import backfill

    common = {
        "start": START,
        "end": END,
        "payer_id": PAYER,
        "reason": "test letter",
        "as_of": DEMO_AS_OF,
        "lock_wait": 5,
    }
    whole_db = demo_warehouse.copy_to(tmp_path / "whole")
    whole = backfill(
        db=whole_db, reports=tmp_path / "whole" / "reports", inbox=demo_warehouse.inbox, **common
    )
    db = demo_warehouse.copy_to(tmp_path / "steps")
    reports = tmp_path / "steps" / "reports"
    window = service_months(START, END)
    with pytest.raises(ValueError, match="months"):
        backfill(db=db, reports=reports, step="partition", months=[date(2025, 1, 1)], **common)
    parts = []
    for month in window:
        inbox = demo_warehouse.inbox if month == window[0] else None
        parts.append(
            backfill(
                db=db, reports=reports, inbox=inbox, step="partition", months=[month], **common
            )
        )
    assert [part.months for part in parts] == [[month] for month in window]
    assert all(part.report_folder is None for part in parts)
    assert parts[0].ingest is not None and parts[1].ingest is None
    assert {k: v for part in parts for k, v in part.findings_by_month.items()} == (
        whole.findings_by_month
    )
    assert not (reports / "backfill").exists()  # partitions write no report
    finish = backfill(db=db, reports=reports, step="finish", **common)
    assert finish.findings_by_month == {}  # nothing in the window was stale
    assert finish.skipped == whole.skipped and finish.summary == whole.summary
    assert whole.report_folder is not None and finish.report_folder is not None
    for name in REPORT_FILES:
        whole_bytes = (whole.report_folder / name).read_bytes()
        assert (finish.report_folder / name).read_bytes() == whole_bytes, name
    assert _findings(db) == _findings(whole_db)
    again = backfill(db=db, reports=reports, step="finish", **common)
    assert again.report_folder is not None
    for name in REPORT_FILES:
        assert (again.report_folder / name).read_bytes() == (
            whole.report_folder / name
        ).read_bytes(), name
    assert _findings(db) == _findings(whole_db)
