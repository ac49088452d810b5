"""index.html: rendered in headless Chromium (Debian's ``chromium``) from a small but realistic
warehouse: it opens offline with no console message at all, shows exposure.json's figures, and
carries claim ids but no member ids."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest

from expectations.catalog import RulesResult
from flows.handover import report_rules
from reporting import ReportPaths, Scope, write_reports
from tests.conftest import PATIENT
from tests.rulekit import Kit, Line, Remit, new_kit
from warehouse.connection import insert_arrow

AS_OF = date(2024, 12, 31)
PROVIDERS = {  # rendering NPI -> (90832, 90834, 90837 lines) in the outlier window
    "1000000001": (2, 2, 36),  # the outlier: 90% of its sessions are 90837
    "1000000002": (8, 18, 10),
    "1000000003": (6, 20, 12),
    "1000000004": (10, 17, 8),
    "1000000005": (3, 4, 3),  # too few lines to be scored
}
PAID = {"90832": "61.20", "90834": "98.75", "90837": "142.30"}
MINUTES = {"90832": 30, "90834": 45, "90837": 56}


def realistic_kit() -> tuple[Kit, RulesResult]:
    """Five providers, two payers, a year of sessions with their notes, and the usual trouble:
    short notes, an unsigned note, late signatures, a reversal, takebacks (one for a claim the
    practice never sent), a time-barred payment and a remittance matching nothing."""
    kit = new_kit(AS_OF)
    kit.fee("90832", "55.00")
    kit.fee("90834", "85.00")
    kit.fee("90837", "125.00")
    kit.payer("P2", lookback_months=6)
    rows: list[tuple[str, str, str, date, str]] = []
    for npi, counts in PROVIDERS.items():
        serial = 0
        for code, count in zip(("90832", "90834", "90837"), counts, strict=True):
            for _ in range(count):
                serial += 1
                dos = date(2024, 1, 8) + timedelta(days=(serial * 7 + int(npi[-1]) * 3) % 350)
                rows.append((f"{npi[-1]}-{serial:03d}", code, npi, dos, PAID[code]))
    kit.bulk_paid_lines([row for row in rows if int(row[0][-3:]) % 3], payer_id="P1")
    kit.bulk_paid_lines([row for row in rows if not int(row[0][-3:]) % 3], payer_id="P2")
    sessions = kit.file("sessions")
    minutes, signed = [], []
    for claim_id, code, _npi, dos, _paid in rows:
        serial = int(claim_id[-3:])
        short = serial % 11 == 0  # documented time below the code's minimum
        minutes.append(MINUTES[code] - (10 if short else 0))
        late = serial % 13 == 0
        signed.append(
            datetime.combine(dos + timedelta(days=12 if late else 1), datetime.min.time())
        )
    signed[5] = None  # an unsigned note
    insert_arrow(
        kit.con,
        "stg.sessions",
        pa.table(
            {
                "file_sha256": [sessions] * len(rows),
                "claim_id": [row[0] for row in rows],
                "minutes": pa.array(minutes, pa.int32()),
                "note_signed_at": pa.array(signed, pa.timestamp("us")),
            }
        ),
    )
    # a claim paid then reversed, a corrected one, and takebacks
    kit.paid_line("R-001", "90837", "142.30", rendering_npi="1000000002", member_id="M-R1")
    kit.reverse("R-001", [Remit("90837", "142.30")], payment_date=date(2024, 8, 2))
    kit.session("R-001")
    kit.claim("R-002", [Line("90834"), Line("90785", charge="20.00")], member_id="M-R2",
              rendering_npi="1000000003")  # fmt: skip
    kit.pay("R-002", [Remit("90834", "98.75"), Remit("90785", "14.10")])
    kit.session("R-002")
    takebacks = kit.payment(payment_date=date(2024, 10, 4))
    kit.plb(takebacks, "R-002", "40.00")
    kit.plb(takebacks, "NEVER-SENT-17", "63.45")
    # paid long ago by a payer with a short look-back: time-barred
    kit.paid_line(
        "T-001",
        "90837",
        "142.30",
        payment_date=date(2024, 2, 1),
        payer_id="P2",
        member_id="M-T1",
        rendering_npi="1000000004",
        date_of_service=date(2024, 1, 3),
    )
    kit.session("T-001", minutes=35, signed=date(2024, 1, 4))
    kit.pay("GHOST-1", [Remit("90834", "98.75")])
    return kit, kit.run(as_of=AS_OF)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    kit, result = realistic_kit()
    out = tmp_path_factory.mktemp("report")
    return write_reports(
        kit.con,
        out,
        as_of=AS_OF,
        scope=Scope.nightly(),
        skipped=result.skipped,
        rules=report_rules(),
    )


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("Debian's chromium is needed to render the report (apt-get install chromium)")
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing may be fetched
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=PATIENT,
        check=True,
    )


def console_messages(stderr: str) -> list[str]:
    """Chromium's log lines for page console output (errors, CSP violations, failed loads)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


class Ids(HTMLParser):
    """Text and attributes of every element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: dict[str, dict[str, str]] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        element_id = values.get("id")
        if element_id:
            self.elements[element_id] = {**values, "text": ""}
        if tag not in ("meta", "br", "img", "input", "link"):
            self._open.append(element_id)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag not in ("meta", "br", "img", "input", "link"):
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element_id in self._open:
            if element_id:
                self.elements[element_id]["text"] += data


def test_the_console_check_sees_errors(tmp_path: Path) -> None:
    """A control: a page with a script error and a blocked fetch must be caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
        '<script>undefinedFunction();</script><img src="http://example.invalid/a.png"></body></html>'
    )
    run = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile")
    messages = console_messages(run.stderr)
    assert any("undefinedFunction" in message for message in messages)
    assert any("example.invalid" in message for message in messages)


def test_page_renders_offline_with_no_console_message_and_the_json_figures(
    report: ReportPaths, tmp_path: Path
) -> None:
    run = chromium("--dump-dom", report.index_html.as_uri(), profile=tmp_path / "profile")
    assert console_messages(run.stderr) == []
    page = Ids()
    page.feed(run.stdout)
    totals = report.summary["totals"]
    assert totals["open_exposure"] > 0 and totals["time_barred_exposure"] > 0
    shown = page.elements["open-exposure"]
    assert float(shown["data-value"]) == totals["open_exposure"]
    assert shown["text"].strip() == f"${totals['open_exposure']:,.2f}"
    for element_id, key in (
        ("time-barred-exposure", "time_barred_exposure"),
        ("realized-recoupments", "realized_recoupments"),
        ("net-paid", "net_paid"),
    ):
        assert page.elements[element_id]["text"].strip() == f"${totals[key]:,.2f}", element_id
    assert page.elements["claim-lines"]["text"].strip() == f"{totals['claim_lines']:,}"
    assert page.elements["flagged-lines"]["text"].strip() == f"{totals['flagged_lines']:,}"
    assert page.elements["unmatched-count"]["text"].strip() == "1"
    for section in ("top-claims", "chart-by-rule", "chart-by-payer", "chart-by-provider",
                    "chart-by-month", "provider-shares", "realized", "unmatched", "rules",
                    "skipped"):  # fmt: skip
        assert section in page.elements, section


def test_page_content(report: ReportPaths) -> None:
    html = report.index_html.read_text()
    summary = report.summary
    # the outlier rule ran and its provider is named as flagged
    assert "coding.high_level_outlier" not in summary["rules_skipped"]
    assert summary["by_rule"]["coding.high_level_outlier"]["lines"] == 36
    assert "1000000001" in html
    # the top claim and its reason in plain words
    assert "note documents 46 minutes; 90837 needs 53" in html
    # recoupments: the reversal, the takeback for a known claim and for an unknown one
    assert "R-001" in html and "NEVER-SENT-17" in html and "unknown claim" in html
    assert summary["totals"]["realized_recoupments"] == 245.75  # 142.30 + 40.00 + 63.45
    # what was skipped, and why
    assert "no eligibility data" in html
    # self-contained: no script, no external resource, no link to fetch
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert not re.search(r"url\((?!#)", html)  # only references inside the page


def test_page_shows_claim_ids_but_no_member_ids(report: ReportPaths) -> None:
    html = report.index_html.read_text()
    assert "M-R1" not in html and "M-T1" not in html
    assert not re.search(r"\bM-\d-\d{3}\b", html)  # the bulk claims' member ids
    assert re.search(r"\bM-\d-\d{3}\b", report.findings_csv.read_text())  # the extract has them


def test_screenshot(report: ReportPaths, tmp_path: Path) -> None:
    """A full-page picture for people to look at (kept beside the report)."""
    shot = report.folder / "index.png"
    chromium(
        f"--screenshot={shot}",
        "--window-size=1280,2400",
        report.index_html.as_uri(),
        profile=tmp_path / "profile",
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a blank page is a few kilobytes
