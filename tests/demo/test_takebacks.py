"""``recoup demo --takebacks`` through the pipeline (issue 12): every planted takeback gets the
verdict and the reasons its plant stands for; the demo's other feeds are untouched; the answer
key still matches the findings; a disputable takeback's packet opens offline in Chromium."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from demo.generator import generate
from expectations.catalog import RULE_IDS, run_rules
from flows.handover import report_rules
from loading import ingest, reference
from marts.build import build_models
from reporting import Scope, write_reports
from tests.reporting.test_disputes import chromium_dom
from warehouse.connection import open_warehouse

CLAIMS = 600  # the smallest demo of seed 7 that carries every kind of planted takeback

# claim -> (planted kind, payer's codes, verdict, amount kept, appeal deadline, days left,
#           reasons); "<id>" stands for the 271 response id (it names the file's hash)
EXPECTED = {
    "PCN00000001": ("wrongful_coverage", "CO-27", "disputable", "112.25", "2026-12-30", 45, [
        "contradicts CO-27: 271 response <id> checked 2025-11-02 says coverage was active on "
        "2025-11-02"]),
    "PCN00000002": ("wrongful_coverage", "CO-27", "disputable", "96.70", "2027-01-06", 52, [
        "contradicts CO-27: 271 response <id> checked 2025-11-02 says coverage was active on "
        "2025-11-09"]),
    "PCN00000041": ("wrongful_documentation", "CO-150", "disputable", "96.70", "2027-01-20", 66, [
        "contradicts CO-150: line 1 (90837): note signed 2025-07-23 documents 59 min "
        "(at least 53)"]),
    "PCN00000043": ("wrongful_documentation", "CO-150", "disputable", "96.70", "2027-02-10", 87, [
        "contradicts CO-150: line 1 (90837): note signed 2025-08-08 documents 60 min "
        "(at least 53)"]),
    "PCN00000005": ("wrongful_duplicate", "CO-18", "disputable", "112.25", "2027-01-20", 66, [
        "contradicts CO-18: line 1 (90791): no other claim paid for the same service"]),
    "PCN00000006": ("wrongful_duplicate", "CO-18", "disputable", "66.30", "2027-01-27", 73, [
        "contradicts CO-18: line 1 (90834): no other claim paid for the same service"]),
    "PCN00000012": ("wrongful_plb", "", "disputable", "40.00", "2027-02-10", 87, [
        "the payer gave no reason and every record supports the payment",
        "271 response <id> checked 2025-12-10 says coverage was active on 2025-11-12",
        "line 1 (90834): note signed 2025-11-15 documents 40 min (at least 38)",
        "line 1 (90834): no other claim paid for the same service"]),
    "PCN00000013": ("wrongful_plb", "", "disputable", "40.00", "2027-02-24", 101, [
        "the payer gave no reason and every record supports the payment",
        "271 response <id> checked 2025-12-10 says coverage was active on 2025-11-19",
        "line 1 (90837): note signed 2025-11-22 documents 55 min (at least 53)",
        "line 1 (90837): no other claim paid for the same service"]),
    "PCN00000198": ("rightful_coverage", "CO-27", "not_disputable", "89.76", "2026-12-19", 34, [
        "the records support the payer: 271 response <id> checked 2025-10-03 says coverage was "
        "inactive on 2025-09-12"]),
    "PCN00000199": ("rightful_coverage", "CO-27", "not_disputable", "60.64", "2026-10-17", -29, [
        "the records support the payer: 271 response <id> checked 2025-10-03 says coverage was "
        "inactive on 2025-09-26"]),
    "PCN00000100": ("rightful_documentation", "CO-152", "not_disputable", "66.30", "2027-02-24",
                    101, [
        "the records support the payer: line 1 (90834): note signed 2025-10-25 documents 37 min, "
        "below 38"]),
    "PCN00000303": ("rightful_duplicate", "CO-18", "not_disputable", "89.76", "2026-10-24", -22, [
        "the records support the payer: line 1 (90834): the same service is still paid on claim "
        "PCN00000302"]),
    "PCN00000036": ("rightful_plb", "", "not_disputable", "40.00", "2027-03-03", 108, [
        "the records support the payer: line 1 (99214): the note is not signed",
        "the records support the payer: line 2 (90833): the note is not signed"]),
    "PCN00000037": ("rightful_plb", "", "not_disputable", "40.00", "2026-12-30", 45, [
        "the records support the payer: line 1 (90834): the note is not signed"]),
    "PCN00000040": ("unverifiable_auth", "CO-197", "unknown", "112.25", "2027-01-06", 52, [
        "recoup's records cannot answer CO-197: prior authorization was absent"]),
    "PCN00000042": ("unverifiable_auth", "CO-197", "unknown", "68.00", "2027-01-27", 73, [
        "recoup's records cannot answer CO-197: prior authorization was absent"]),
}  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("takebacks")
    inbox = root / "inbox"
    manifest = generate(inbox, rules=RULE_IDS, seed=7, claims=CLAIMS, takebacks=True)
    as_of = date.fromisoformat(manifest["as_of"])
    with open_warehouse(root / "recoup.duckdb") as con:
        ingest.ingest_inbox(con, inbox, root, "takebacks")
        con.execute("BEGIN TRANSACTION")
        reference.rebuild(con)
        con.execute("COMMIT")
        build_models(con, as_of)
        result = run_rules(con, as_of)
        findings = {
            (key, line, rule): (exposure, barred)
            for key, line, rule, exposure, barred in con.execute(
                "SELECT claim_key, line_number, rule, exposure, time_barred FROM mart.findings"
            ).fetchall()
        }
        write_reports(con, root / "reports", as_of=as_of, scope=Scope.nightly(),
                      skipped=result.skipped, rules=report_rules())  # fmt: skip
    return {"root": root, "inbox": inbox, "manifest": manifest, "findings": findings,
            "reports": root / "reports"}  # fmt: skip


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_planted_takeback_gets_its_verdict_and_reasons(run: dict) -> None:
    key = {row["claim_id"]: row for row in _csv(run["inbox"] / "takebacks_key.csv")}
    assert {claim: row["kind"] for claim, row in key.items()} == {
        claim: expected[0] for claim, expected in EXPECTED.items()
    }
    assert run["manifest"]["takebacks"]["expected"] == {
        "disputable": 8, "not_disputable": 6, "unknown": 2,
    }  # fmt: skip
    rows = {row["claim_id"]: row for row in _csv(run["reports"] / "disputes.csv")}
    for claim, (_kind, codes, verdict, amount, deadline, left, reasons) in EXPECTED.items():
        row = rows[claim]
        got = [re.sub(r"271 response \S+ checked", "271 response <id> checked", reason)
               for reason in row["reasons"].split(" | ")]  # fmt: skip
        assert (row["payer_codes"], row["verdict"], row["amount"], row["appeal_deadline"],
                int(row["days_left"]), got) == (codes, verdict, amount, deadline, left, reasons), (
            claim
        )  # fmt: skip
        assert row["verdict"] == key[claim]["expected_verdict"]
        assert row["kind"] == key[claim]["takeback"]
        assert row["packet"] == (f"disputes/{claim}/" if verdict == "disputable" else "")


def test_the_takebacks_keep_the_answer_key_and_the_totals(run: dict) -> None:
    key = {
        (row["claim_key"], int(row["line_number"]), row["rule"]): (
            Decimal(row["exposure"]), row["time_barred"] == "true",
        )
        for row in _csv(run["inbox"] / "answer_key.csv")
    }  # fmt: skip
    assert run["findings"] == key
    exposure = json.loads((run["reports"] / "exposure.json").read_text())
    totals = run["manifest"]["totals"]
    assert exposure["totals"]["realized_recoupments"] == totals["realized_recoupments"]
    assert exposure["totals"]["net_paid"] == totals["net_paid"]
    assert exposure["totals"]["open_exposure"] == totals["open_exposure"]


CONTROL_NUMBERS = {"ISA": 13, "GS": 6, "GE": 2, "IEA": 2}


def _content(path: Path) -> bytes:
    """The file without its interchange and group control numbers (ISA13, GS06, GE02, IEA02):
    they count the files written before it, and the takebacks add 835 files."""
    if path.suffix not in (".837", ".271"):
        return path.read_bytes()
    text = path.read_text()
    element, segment_end = text[3], text[105]
    segments = []
    for segment in text.split(segment_end):
        parts = segment.split(element)
        index = CONTROL_NUMBERS.get(parts[0].strip())
        if index is not None and index < len(parts):
            parts[index] = ""
        segments.append(element.join(parts))
    return segment_end.join(segments).encode()


def test_only_remittances_and_payers_differ_from_the_plain_demo(run: dict, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    generate(plain, rules=RULE_IDS, seed=7, claims=CLAIMS)
    ours = {
        str(path.relative_to(run["inbox"])): _content(path)
        for path in run["inbox"].rglob("*")
        if path.is_file() and path.name not in ("manifest.json", "answer_key.csv")
    }
    theirs = {
        str(path.relative_to(plain)): _content(path)
        for path in plain.rglob("*")
        if path.is_file() and path.name not in ("manifest.json", "answer_key.csv")
    }
    differ = sorted(name for name in ours.keys() | theirs.keys()
                    if ours.get(name) != theirs.get(name))  # fmt: skip
    assert "takebacks_key.csv" in differ and "reference/payers.csv" in differ
    others = [n for n in differ if n not in ("takebacks_key.csv", "reference/payers.csv")]
    assert others and all(name.startswith("remittances/") for name in others), others
    assert (plain / "reference" / "payers.csv").read_text().splitlines()[0] == (
        "payer_id,name,lookback_months,telehealth_modifier_required"
    )
    assert (run["inbox"] / "reference" / "payers.csv").read_text().splitlines()[:2] == [
        "payer_id,name,lookback_months,telehealth_modifier_required,appeal_days",
        "MCRDM,DEMO MEDICARE PART B,12,true,120",
    ]


def test_a_packet_opens_offline_and_quotes_the_records(run: dict, tmp_path: Path) -> None:
    folder = run["reports"] / "disputes" / "PCN00000041"
    assert sorted(p.name for p in folder.iterdir()) == [
        "claim_lines.csv", "eligibility.csv", "payments.csv", "sessions.csv", "summary.html",
    ]  # fmt: skip
    sessions = _csv(folder / "sessions.csv")
    assert [(r["claim_id"], r["line_number"], r["minutes"]) for r in sessions] == [
        ("PCN00000041", "1", "59")
    ]
    payments = _csv(folder / "payments.csv")
    assert [(r["status_code"], r["amount"]) for r in payments] == [
        ("1", "96.70"), ("22", "-96.70"), ("4", "0.00"),
    ]  # fmt: skip
    assert payments[2]["adjustments"].startswith("CO-150 ")
    members = {r["member_id"] for r in _csv(folder / "eligibility.csv")}
    assert members == {r["member_id"] for r in _csv(folder / "claim_lines.csv")}
    assert len(members) == 1
    dom = chromium_dom(folder / "summary.html", tmp_path / "profile")
    assert '<span id="claim">PCN00000041</span>' in dom
    assert "CO-150: the documentation does not support the level of service" in dom
    assert "note signed 2025-07-23 documents 59 min (at least 53)" in dom
    assert '<table id="eligibility">' in dom and '<table id="sessions">' in dom
    page = (run["reports"] / "index.html").read_text()
    assert '<section id="disputes">' in page
    assert 'href="disputes/PCN00000041/summary.html"' in page
    assert '<section id="reserve">' in page and "Backtest as of 2026-05-15" in page
