"""Issue 14, item 4: no silent overwrite, no silent $0.

Found: a ``--claims-file`` run replaced the whole window's report in the same folder (and stale
``audit.*`` files stayed beside a newer report); a KEYMU backfill's partition lines totalled 45
findings while its summary said 9 of 150 lines flagged, with no word on why. Now an audit of
named claims writes ``<start>_<end>[_<payer>]_claims-<12 hex>/``, the whole window's report is
left byte for byte, and each figure says what it counts (checked here against the warehouse)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path

import pytest

from reporting import Scope, report_dir
from reporting.scope import claims_tag
from tests.conftest import DEMO_AS_OF, DemoWarehouse
from warehouse.connection import open_warehouse

START, END, PAYER = date(2026, 3, 1), date(2026, 5, 31), "KEYMU"
WINDOW = "2026-03-01_2026-05-31_keymu"
AUDIT_FILES = {"audit.json", "audit.csv", "audit.html"}


def test_a_claims_audit_has_its_own_folder_named_by_its_claim_list() -> None:
    root = Path("reports")
    window = Scope.backfill(START, END, payer_id=PAYER)
    sample = Scope.backfill(START, END, payer_id=PAYER, claim_ids=["C2", "C1", "C2"])
    digest = hashlib.sha256(b"C1\nC2\n").hexdigest()[:12]
    assert claims_tag(["C2", "C1"]) == f"claims-{digest}"
    assert report_dir(root, window, DEMO_AS_OF) == root / "backfill" / WINDOW
    assert report_dir(root, sample, DEMO_AS_OF) == root / "backfill" / f"{WINDOW}_claims-{digest}"
    # the same sample in another order is the same audit; another sample, another folder
    again = Scope.backfill(START, END, payer_id=PAYER, claim_ids=["C1", "C2"])
    other = Scope.backfill(START, END, payer_id=PAYER, claim_ids=["C1"])
    assert report_dir(root, again, DEMO_AS_OF) == report_dir(root, sample, DEMO_AS_OF)
    assert report_dir(root, other, DEMO_AS_OF) != report_dir(root, sample, DEMO_AS_OF)
    no_payer = Scope.backfill(START, END, claim_ids=["C1", "C2"])
    assert report_dir(root, no_payer, DEMO_AS_OF).name == f"2026-03-01_2026-05-31_claims-{digest}"


def _backfill(db: Path, reports: Path, *extra: str) -> None:
    from flows.cli import main

    args = ["backfill", "--start", START.isoformat(), "--end", END.isoformat()]
    args += ["--payer", PAYER.lower(), "--no-ingest", "--db", str(db), "--reports", str(reports)]
    args += ["--as-of", DEMO_AS_OF.isoformat(), "--via", "local", *extra]
    assert main(args) == 0


@pytest.mark.integration
def test_a_claims_audit_leaves_the_window_report_and_every_count_says_what_it_counts(
    prefect_harness: str,
    demo_warehouse: DemoWarehouse,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = demo_warehouse.copy_to(tmp_path / "wh")
    reports = tmp_path / "reports"

    # 1. the whole window of KEYMU (asked for as keymu)
    _backfill(db, reports)
    out = capsys.readouterr().out
    window = reports / "backfill" / WINDOW
    assert {p.name for p in window.iterdir()} == {
        "disputes", "disputes.csv", "exposure.json", "findings.csv", "findings.parquet",
        "index.html",
    }  # fmt: skip
    before = _contents(window)
    summary = json.loads(before["exposure.json"])
    totals = summary["totals"]

    # the partition lines count every payer's findings of each month; the summary counts the
    # window's KEYMU lines and the findings stored on them: both stated, both true
    with open_warehouse(db, read_only=True) as con:
        by_month = dict(
            con.execute(
                "SELECT strftime(service_month, '%Y-%m'), count(*) FROM mart.findings "
                "WHERE service_month BETWEEN ? AND ? GROUP BY 1",
                [START, END],
            ).fetchall()
        )
        (keymu_findings,) = con.execute(
            "SELECT count(*) FROM mart.findings WHERE payer_id = ? "
            "AND date_of_service BETWEEN ? AND ?",
            [PAYER, START, END],
        ).fetchone() or (0,)
        keymu_lines = con.execute(
            "SELECT count(*) FROM mart.claim_lines WHERE payer_id = ? "
            "AND date_of_service BETWEEN ? AND ?",
            [PAYER, START, END],
        ).fetchone()
    partitions = re.findall(
        r"^partition (\d{4}-\d{2}) \(\d/3\): (\d+) findings \(every payer's lines of the month\)$",
        out,
        re.M,
    )
    assert {month: int(n) for month, n in partitions} == {
        month: by_month.get(month, 0) for month in ("2026-03", "2026-04", "2026-05")
    }
    assert totals["findings"] == keymu_findings
    assert (totals["claim_lines"],) == keymu_lines
    assert sum(by_month.values()) > keymu_findings  # the two counts differ, and now say why
    assert (
        f"in scope: {totals['flagged_lines']:,} of {totals['claim_lines']:,} claim lines flagged; "
        f"{keymu_findings:,} findings stored on them (a line can carry several findings); the "
        "partition lines count the findings of every payer's lines of the month"
    ) in out

    # 2. the payer's audit sample: its own folder, the window's report untouched
    with open_warehouse(db, read_only=True) as con:
        ids = [
            row[0]
            for row in con.execute(
                "SELECT DISTINCT claim_id FROM mart.claim_lines WHERE payer_id = ? "
                "AND date_of_service BETWEEN ? AND ? ORDER BY 1",
                [PAYER, START, END],
            ).fetchall()
        ]
    sample = tmp_path / "sample.csv"
    sample.write_text("claim_id\n" + "\n".join(reversed(ids[::3])) + "\n")
    _backfill(db, reports, "--claims-file", str(sample))
    out = capsys.readouterr().out
    audit = reports / "backfill" / f"{WINDOW}_{claims_tag(ids[::3])}"
    assert f"reports: {audit}" in out
    assert {p.name for p in audit.iterdir()} >= AUDIT_FILES
    assert json.loads((audit / "audit.json").read_text())["audited_claims"] == len(ids[::3])
    assert _contents(window) == before  # byte for byte

    # 3. the whole window again: rewritten in place, still no audit file beside it
    _backfill(db, reports)
    assert _contents(window) == before
    assert not AUDIT_FILES & {p.name for p in window.iterdir()}
    assert sorted(p.name for p in (reports / "backfill").iterdir()) == [WINDOW, audit.name]


def _contents(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path: bytes), subfolders included."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
