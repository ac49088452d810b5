"""The page's links (issue 14, item 3), followed in headless Chromium with the network off: a
click on the open exposure figure leads to the claims to fix first, a click on the first claim
to its evidence block (its findings' values, 271 statements, session row and payments), with no
script on the page and no console message. Chromium is driven through the DevTools protocol
(``websockets``, which Prefect installs) so the clicks are real mouse events."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from flows.handover import report_rules
from reporting import ReportPaths, Scope, write_reports
from reporting.charts import provider_chart_title, rule_label
from tests.conftest import PATIENT
from tests.reporting.test_reports_html import AS_OF, realistic_kit


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    """The realistic page of tests/reporting/test_reports_html.py, as a nightly."""
    kit, result = realistic_kit()
    return write_reports(
        kit.con, tmp_path_factory.mktemp("report"), as_of=AS_OF, scope=Scope.nightly(),
        skipped=result.skipped, rules=report_rules(),
    )  # fmt: skip


class Browser:
    """One headless Chromium page, driven by DevTools commands."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=PATIENT))
            if message.get("id") == number:
                assert "error" not in message, message
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """Scroll ``selector`` into view and click its centre with the mouse."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
            "return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        time.sleep(0.3)  # a fragment navigation scrolls synchronously; let the frame settle


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("Debian's chromium is needed to render the report (apt-get install chromium)")
    process = subprocess.Popen(
        [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-port=0",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900", "about:blank",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + PATIENT
        port = None
        while port is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            port = int(found.group(1)) if found else None
        assert port is not None, "chromium did not start its DevTools endpoint"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
            pages = [t for t in json.load(answer) if t["type"] == "page"]
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=None) as socket:
            page = Browser(socket)
            page.send("Runtime.enable")
            page.send("Log.enable")
            page.send("Network.enable")
            page.send(
                "Network.emulateNetworkConditions",
                offline=True, latency=0, downloadThroughput=-1, uploadThroughput=-1,
            )  # fmt: skip
            yield page
    finally:
        process.terminate()
        process.wait(timeout=30)


def console_problems(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e.get("method") in ("Runtime.exceptionThrown", "Log.entryAdded", "Network.loadingFailed")
        or (e.get("method") == "Runtime.consoleAPICalled")
    ]


def test_a_click_leads_from_the_headline_to_a_findings_evidence_offline(
    report: ReportPaths,
    browser: Browser,
) -> None:
    browser.send("Page.enable")
    browser.send("Page.navigate", url=report.index_html.as_uri())
    deadline = time.monotonic() + PATIENT
    while browser.evaluate("document.readyState") != "complete":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert browser.evaluate("navigator.onLine") is False  # the network is off
    assert browser.evaluate("document.scripts.length") == 0

    browser.click("#open-exposure a")
    assert browser.evaluate("location.hash") == "#top-claims"
    first = report.top_lines[0]
    assert (
        browser.evaluate("document.querySelector('#top-claims tbody a').textContent")
        == (first["claim_id"])
    )

    browser.click("#top-claims tbody a")
    target = f"#{first['anchor']}"
    assert browser.evaluate("location.hash") == target
    # the evidence block is where the page scrolled to: its top at the top of the window
    top = browser.evaluate(f"document.querySelector('{target}').getBoundingClientRect().top")
    assert abs(top) < 5
    block = browser.evaluate(f"document.querySelector('{target}').innerText")
    assert block.startswith(f"{first['claim_id']} line {first['line_number']} · 90837")
    assert "271 ELIGIBILITY STATEMENTS" in block
    assert "SESSION NOTE" in block and "835 PAYMENTS" in block
    assert all(finding["rule"] in block for finding in first["findings"])
    assert console_problems(browser.events) == []


def test_evidence_blocks_carry_the_line_facts(report: ReportPaths) -> None:
    """The realistic page's top line (the outlier provider's 90837 with an unsigned note): its
    evidence names the rules' values, the session row, the payment, and no member id."""
    first = report.top_lines[0]
    evidence = first["evidence"]
    assert (first["claim_id"], first["line_number"]) == ("1-006", 1)
    assert [(f["rule"], f["exposure"]) for f in evidence["findings"]] == [
        ("documentation.note_missing", 142.30),
        ("coding.high_level_outlier", 57.30),
    ]
    assert evidence["findings"][0]["values"] == [
        ("billing npi", "1111111111"),
        ("session row", "True"),
        ("note signed at", "–"),
    ]
    assert ("lines 90837", "36") in evidence["findings"][1]["values"]
    assert [
        (r["session_level"], r["minutes"], r["note_signed_at"]) for r in evidence["sessions"]
    ] == [("claim", "56", "–")]
    assert [
        (r["payment_date"], r["status_code"], r["payer_id"], r["amount"])
        for r in evidence["payments"]
    ] == [("2024-07-01", "1", "P2", 142.30)]
    assert evidence["eligibility"] == []  # the kit holds no 271
    html = report.index_html.read_text()
    block = html[html.index(f'id="{first["anchor"]}"') :]
    block = block[: block.index('<div class="evidence"', 1)]
    assert "member id" not in block and not re.search(r"\bM-", block)  # kit ids: M-1-006, ...


def test_links_to_the_files_beside_the_page(report: ReportPaths) -> None:
    html = report.index_html.read_text()
    assert '<a href="findings.csv" id="link-findings-csv">' in html
    assert '<a href="changes.csv" id="link-changes-csv">' in html  # a nightly page
    for anchor in re.findall(r'href="#([^"]+)"', html):  # every in-page link has its target
        assert f'id="{anchor}"' in html, anchor


def test_chart_titles_and_labels_say_what_they_show() -> None:
    """Issue 14, "What was found": the "top 15" chart showed 10 bars; the rule chart named
    rules by id."""
    assert (
        provider_chart_title(10, 10)
        == "Open exposure by rendering provider (10 with open exposure)"
    )
    assert provider_chart_title(15, 40) == "Open exposure by rendering provider (top 15 of 40)"
    assert rule_label("a paid service with no note, or an unsigned one", 5) == (
        "A paid service with no note, or an\nunsigned one (5 lines)"
    )
