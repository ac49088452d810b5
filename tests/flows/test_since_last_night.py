"""Since last night (issue 14, item 2): two demo nights through `recoup run`.

Night 1 is the demo inbox as of 2026-11-15; `recoup demo --night2` adds the next day's files
(three reversals of flagged lines, two session notes sent again with fewer minutes) and
night2.json, the changes the answer key expects. Night 2's changes.csv, page section and stored
history state them to the cent; a rerun of night 2 changes nothing, and `recoup report` (read-only)
writes the same changes.csv."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from flows.cli import main
from tests.conftest import DemoWarehouse
from tests.reporting.test_reports_html import Ids

NIGHT1, NIGHT2 = "2026-11-15", "2026-11-16"
HEADER = "kind,claim_id,line_number,rule,before,after,delta,reason,claim_key\n"
CHANGES = HEADER + (
    "new,PCN00000012,1,coding.time_unsupported,,5.10,5.10,,PCN00000012~2025-11-12\n"
    "grown,PCN00000019,1,coding.time_unsupported,21.20,48.50,27.30,,PCN00000019~2026-05-08\n"
    "resolved,PCN00000109,1,coverage.lapsed,64.75,,-64.75,paid back,PCN00000109~2026-07-01\n"
    "resolved,PCN00000117,1,coverage.lapsed,148.25,,-148.25,paid back,PCN00000117~2026-06-02\n"
    "resolved,PCN00000146,1,coverage.lapsed,148.25,,-148.25,paid back,PCN00000146~2025-09-24\n"
)


def history(db: Path) -> tuple[list[tuple], list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        nights = con.execute("SELECT * FROM history.nights ORDER BY ALL").fetchall()
        findings = con.execute("SELECT * FROM history.night_findings ORDER BY ALL").fetchall()
        return nights, findings
    finally:
        con.close()


def open_findings(findings_csv: Path) -> int:
    with findings_csv.open(newline="") as handle:
        return sum(row["time_barred"] == "false" for row in csv.DictReader(handle))


@pytest.mark.integration
def test_two_demo_nights_state_what_changed_to_the_cent(
    prefect_harness: str,
    demo_warehouse: DemoWarehouse,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(demo_warehouse.inbox, inbox)
    db = demo_warehouse.copy_to(tmp_path / "wh")
    reports = tmp_path / "reports"
    run = ["run", "--inbox", str(inbox), "--db", str(db), "--reports", str(reports)]

    # night 1: the baseline, nothing to compare with
    assert main([*run, "--as-of", NIGHT1]) == 0, capsys.readouterr().err
    first = reports / NIGHT1
    assert (first / "changes.csv").read_text() == HEADER
    page = (first / "index.html").read_text()
    assert "No earlier nightly run is stored in this warehouse" in page
    assert page.index('id="since-last-night"') < page.index('id="open-exposure"')  # at the top
    nights, stored = history(db)
    assert [(str(n[0]), float(n[1]), n[2]) for n in nights] == [(NIGHT1, 3481.41, 47)]
    assert nights[0][3] == len(stored) == open_findings(first / "findings.csv")

    # the second night's files, and what the answer key expects of them
    capsys.readouterr()
    assert main(["demo", "--night2", "--out", str(inbox)]) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[0]
        .endswith("expected changes: grown 1, new 1, resolved 3")
    )
    expected = json.loads((inbox / "night2.json").read_text())
    assert expected["as_of"] == NIGHT2
    assert expected["by_kind"] == {
        "new": {"count": 1, "cents": 510},
        "grown": {"count": 1, "cents": 2730},
        "resolved": {"count": 3, "cents": 36125},
    }

    # night 2: exactly the expected changes, in changes.csv and at the top of the page
    assert main([*run, "--as-of", NIGHT2]) == 0, capsys.readouterr().err
    second = reports / NIGHT2
    changes = (second / "changes.csv").read_text()
    assert changes == CHANGES
    rows = list(csv.DictReader(changes.splitlines()))
    assert [(r["kind"], r["claim_key"], int(r["line_number"]), r["rule"]) for r in rows] == [
        (c["kind"], c["claim_key"], c["line_number"], c["rule"]) for c in expected["changes"]
    ]
    assert [(r["before"], r["after"]) for r in rows] == [
        (
            "" if c["before_cents"] is None else f"{c['before_cents'] / 100:.2f}",
            "" if c["after_cents"] is None else f"{c['after_cents'] / 100:.2f}",
        )
        for c in expected["changes"]
    ]
    totals = json.loads((second / "exposure.json").read_text())["totals"]
    assert totals["open_exposure"] == 3152.56  # 3481.41 + 5.10 + 27.30 - 361.25
    assert totals["realized_recoupments"] == 1171.15  # 809.90 + the three reversals, 361.25
    ids = Ids()
    ids.feed((second / "index.html").read_text())
    # a row's cells run together in the parsed text: "New", "1", "+$5.10"
    shown = {key: " ".join(ids.elements[key]["text"].split()) for key in (
        "previous-night", "open-before", "open-after", "open-change", "since-new", "since-grown",
        "since-shrunk", "since-resolved", "since-paid-back")}  # fmt: skip
    assert shown == {
        "previous-night": NIGHT1,
        "open-before": "$3,481.41",
        "open-after": "$3,152.56",
        "open-change": "−$328.85",
        "since-new": "New1+$5.10",
        "since-grown": "Grown1+$27.30",
        "since-shrunk": "Shrunk0$0.00",
        "since-resolved": "Resolved3−$361.25",
        "since-paid-back": (
            "paid back: the 835s took the money back (reversal, recoupment or refund)3−$361.25"
        ),
    }
    assert 'aria-label="open-exposure-trend"' in (second / "index.html").read_text()
    # the page links to the Data Docs this run built, and says plainly they need a network
    docs = ids.elements["link-data-docs"]["href"]
    assert docs == "../gx/uncommitted/data_docs/local_site/index.html"
    assert (second / docs).resolve().is_file()
    assert "They need a network:" in (second / "index.html").read_text()
    assert ids.elements["link-findings-csv"]["href"] == "findings.csv"
    nights, stored = history(db)
    assert [(str(n[0]), float(n[1]), n[2]) for n in nights] == [
        (NIGHT1, 3481.41, 47),
        (NIGHT2, 3152.56, 45),
    ]
    assert nights[1][3] == open_findings(second / "findings.csv") == nights[0][3] - 3 + 1

    # a rerun of night 2 changes nothing: same rows stored, same bytes written
    page_before = (second / "index.html").read_bytes()
    assert main([*run, "--as-of", NIGHT2]) == 0, capsys.readouterr().err
    assert history(db) == (nights, stored)
    assert (second / "changes.csv").read_text() == CHANGES
    assert (second / "index.html").read_bytes() == page_before

    # `recoup report` reads the same history and writes the same changes.csv
    again = tmp_path / "again"
    assert main(["report", "--db", str(db), "--as-of", NIGHT2, "--out", str(again)]) == 0
    assert (again / "changes.csv").read_text() == CHANGES
