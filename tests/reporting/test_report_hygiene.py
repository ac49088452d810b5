"""Ids a feed can carry, in the report (issue 9, items 4 and 6).

Claims and payments with hostile ids go in beside the clean bad-input demo inbox (20 claims),
through the in-process run (``tests/badinput/harness.load``) and ``write_reports``:

* item 4: a payer id ``PAY$\\undefinedmacro$X`` made Matplotlib parse the chart labels as math
  (``ValueError``), so every report failed from then on. Every label is plain text now: the
  payer ids reach the charts (the SVG names each drawn text in a comment) and the page as sent,
  HTML-escaped, and a later ``recoup report`` works;
* item 6: ``=HYPERLINK(...)``, ``=cmd|...``, ``+1+1``, ``@SUM(1)``, ``-1+1`` as claim and member ids
  came out of findings.csv and audit.csv as live spreadsheet formulas; text cells starting with
  ``= + - @`` (or a tab or CR) get a leading ``'``, amounts stay numbers, and findings.parquet
  keeps the values as sent.
"""

from __future__ import annotations

import csv
import html
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows.handover import report_rules
from reporting import Scope
from reporting.audit import write_audit
from reporting.cells import escape_cell
from reporting.charts import LABEL_CHARACTERS
from reporting.writer import write_reports
from tests.badinput import build as b
from tests.badinput.harness import AS_OF, demo_inbox, load
from tests.conftest import PATIENT
from warehouse.connection import open_warehouse

ROOT = Path(__file__).resolve().parents[2]

# (claim id, member id, payer id): every payer id breaks Matplotlib's math or HTML in its own way
HOSTILE = [
    ('=HYPERLINK("http://x")', "=cmd|' /C calc'!A0", "PAY$\\undefinedmacro$X"),
    ("+1+1", "@SUM(1)", "PAY\nLINE$x$"),
    ("-1+1", "-2+3", "100%<script>alert(1)</script>"),
    ("@SUM(1)", "+MBR7", "PAYÉ-Zürich-€"),
    ("CLMLONG", "=1+2", "P" + "AYER" * 40),
]
CLAIM_IDS = [claim for claim, _, _ in HOSTILE]
MEMBER_IDS = [member for _, member, _ in HOSTILE]
PAYER_IDS = [payer for _, _, payer in HOSTILE]


def _csv(header: str, rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header.split(","))
    writer.writerows(rows)
    return buffer.getvalue().encode()


def hostile_inbox(root: Path) -> Path:
    inbox = demo_inbox(root / "inbox")
    claims = [
        [claim, "1", member, payer, b.BILLING_NPI, b.RENDERING_NPI, "2025-12-02", "90834", "",
         "1", "150.00", "11"]
        for claim, member, payer in HOSTILE
    ]  # fmt: skip
    payments = [
        [f"TH{n}", "2025-12-20", payer, claim, "1", "90834", "2025-12-02", "100.00"]
        for n, (claim, _, payer) in enumerate(HOSTILE)
    ]
    (inbox / "claims" / "hostile.csv").write_bytes(_csv(b.CLAIMS_HEADER, claims))
    (inbox / "remittances" / "hostile.csv").write_bytes(_csv(b.REMITTANCES_HEADER, payments))
    return inbox


@dataclass
class Hostile:
    work: Path
    nightly: Path  # the nightly report folder
    backfill: Path  # a backfill folder auditing the hostile claims


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    root = tmp_path_factory.mktemp("hostile")
    work = root / "work"
    run = load(hostile_inbox(root), work)
    assert not run.report.by_status("rejected"), run.report.by_status("rejected")
    nightly = root / "reports" / str(AS_OF)
    backfill = root / "reports" / "backfill"
    audit_scope = Scope.backfill(date(2025, 12, 1), date(2025, 12, 31), claim_ids=CLAIM_IDS)
    with open_warehouse(work / "recoup.duckdb") as con:
        rules = report_rules()
        write_reports(con, nightly, as_of=AS_OF, scope=Scope.nightly(), skipped={}, rules=rules)
        write_reports(con, backfill, as_of=AS_OF, scope=audit_scope, skipped={}, rules=rules)
        write_audit(con, backfill, scope=audit_scope, as_of=AS_OF, rules=rules)
    return Hostile(work, nightly, backfill)


# ---- item 4: labels are plain text ---------------------------------------------------------------


def test_every_payer_id_is_drawn_and_shown_as_sent(hostile: Hostile) -> None:
    page = (hostile.nightly / "index.html").read_text(encoding="utf-8")
    payer_chart = page[page.index('<section id="chart-by-payer">') :]
    payer_chart = payer_chart[: payer_chart.index("</section>")]
    for payer in PAYER_IDS:
        # Matplotlib names each text it draws as paths in a comment, the text escaped for XML
        # (a label longer than LABEL_CHARACTERS is cut, with an ellipsis)
        label = payer if len(payer) <= LABEL_CHARACTERS else payer[: LABEL_CHARACTERS - 1] + "…"
        for line in label.split("\n"):  # a label of two lines is drawn line by line
            assert f"<!-- {html.escape(line, quote=False)} -->" in payer_chart, payer
        # and the page's tables show it escaped (never as markup)
        assert f"<td>{html.escape(payer)}</td>" in page, payer
    assert "<script>alert(1)</script>" not in page


def test_a_later_recoup_report_works(hostile: Hostile, tmp_path: Path) -> None:
    """The issue: once such a payer id was in the warehouse, every later run and ``recoup
    report`` failed with ``recoup: ValueError:``."""
    reports = tmp_path / "reports"
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", "report", "--db", str(hostile.work / "recoup.duckdb"),
         "--reports", str(reports), "--format", "html"],
        cwd=ROOT,
        env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")},
        capture_output=True,
        text=True,
        timeout=PATIENT,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    index = reports / str(AS_OF) / "index.html"
    assert run.stdout.strip().splitlines()[-1] == str(index)
    page = index.read_text(encoding="utf-8")
    assert f"<!-- {html.escape(PAYER_IDS[0], quote=False)} -->" in page
    assert (index.parent / "findings.csv").read_bytes() == (
        hostile.nightly / "findings.csv"
    ).read_bytes()


# ---- item 6: no live formula in a CSV ------------------------------------------------------------


def test_the_cell_rule() -> None:
    assert [escape_cell(v) for v in ("=1", "+1", "-1", "@A", "\tX", "\rX", "A=1", "", "'x")] == [
        "'=1", "'+1", "'-1", "'@A", "'\tX", "'\rX", "A=1", "", "'x"
    ]  # fmt: skip


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_findings_csv_escapes_formula_cells_and_keeps_amounts(hostile: Hostile) -> None:
    rows = _rows(hostile.nightly / "findings.csv")
    hostile_rows = [row for row in rows if row["claim_id"].lstrip("'") in CLAIM_IDS]
    by_claim = {row["claim_id"]: row for row in hostile_rows}
    assert sorted(by_claim) == sorted(
        ['\'=HYPERLINK("http://x")', "'+1+1", "'-1+1", "'@SUM(1)", "CLMLONG"]
    )
    members = {row["claim_id"]: row["member_id"] for row in hostile_rows}
    assert members == {
        '\'=HYPERLINK("http://x")': "'=cmd|' /C calc'!A0",
        "'+1+1": "'@SUM(1)",
        "'-1+1": "'-2+3",
        "'@SUM(1)": "'+MBR7",
        "CLMLONG": "'=1+2",
    }
    # no text cell of the whole file starts a formula; amounts are plain numbers
    for row in rows:
        for name, value in row.items():
            if name not in ("net_paid", "exposure"):
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (name, value)
    assert {row["net_paid"] for row in hostile_rows} == {"100.00"}
    assert all(row["payer_id"] in PAYER_IDS for row in hostile_rows)  # "P..." needs no escape


def test_findings_parquet_keeps_the_values_as_sent(hostile: Hostile) -> None:
    frame = pl.read_parquet(hostile.nightly / "findings.parquet")
    hostile_rows = frame.filter(pl.col("claim_id").is_in(CLAIM_IDS))
    pairs = set(zip(hostile_rows["claim_id"], hostile_rows["member_id"], strict=True))
    assert pairs == {(claim, member) for claim, member, _ in HOSTILE}
    # the same findings as the CSV, row for row
    assert frame.height == len(_rows(hostile.nightly / "findings.csv"))


def test_audit_csv_escapes_formula_cells(hostile: Hostile) -> None:
    rows = _rows(hostile.backfill / "audit.csv")
    assert sorted(row["claim_id"] for row in rows) == sorted(
        ['\'=HYPERLINK("http://x")', "'+1+1", "'-1+1", "'@SUM(1)", "CLMLONG"]
    )
    for row in rows:
        for name, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (name, value)
