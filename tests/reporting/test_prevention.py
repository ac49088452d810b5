# ruff: noqa: E501  (expected rows read best one finding per line)
"""The nightly's prevention outputs on the demo: reverify.csv, providers/<npi>.html, and their
section in index.html."""

from __future__ import annotations

import csv
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from expectations.catalog import run_rules
from flows.handover import report_rules
from marts.build import build_models
from reporting import Scope, write_reports
from reporting.prevention import reverify_rows
from tests.conftest import DEMO_AS_OF, DemoWarehouse
from warehouse.connection import open_warehouse

NPI = "1006771046"


@pytest.fixture(scope="module")
def report(demo_warehouse: DemoWarehouse, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("prevention")
    db = demo_warehouse.copy_to(root / "wh")
    folder = root / "reports" / DEMO_AS_OF.isoformat()
    with open_warehouse(db) as con:
        build_models(con, DEMO_AS_OF)
        result = run_rules(con, DEMO_AS_OF)
        write_reports(
            con, folder, as_of=DEMO_AS_OF, scope=Scope.nightly(), skipped=result.skipped,
            rules=report_rules(),
        )  # fmt: skip
    return {"db": db, "folder": folder}


def _text(path: Path) -> str:
    """The page's words, tags and blank lines out."""
    body = path.read_text().split("<body>", 1)[1]
    words = re.sub(r"<[^>]+>", " ", body).replace("&#39;", "'")
    return re.sub(r"[ \t]+", " ", words)


def test_reverify_lists_the_stale_clients_by_money_at_stake(report) -> None:
    with (report["folder"] / "reverify.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [
        (r["member_id"], r["payer_id"], r["last_seen"], r["last_billed"], r["lines"],
         r["at_stake"], r["last_check"], r["days_since_check"], r["reasons"])
        for r in rows
    ] == [
        ("BSX423886853", "BSTAR", "2026-10-20", "2026-10-31", "1", "227.00", "2026-10-06", "40",
         "last checked 2026-10-06, 40 days ago (over 30)"),
        ("1EG460353210", "MCRDM", "", "2026-10-31", "1", "227.00", "2026-10-02", "44",
         "last checked 2026-10-02, 44 days ago (over 30)"),
    ]  # fmt: skip
    assert {r["what_to_do"] for r in rows} == {
        "verify eligibility (270/271) before the next session is billed"
    }


def test_reverify_staleness_agrees_with_the_raw_feeds(report) -> None:
    """Independently of the mart: clients with a line seen or billed in the 30 days, whose
    latest answered 271 for that payer is more than 30 days old."""
    start = DEMO_AS_OF - timedelta(days=30)
    with open_warehouse(report["db"], read_only=True) as con:
        recent = con.execute(
            "SELECT DISTINCT c.member_id, c.payer_id FROM stg.claims AS c "
            "JOIN stg.claim_lines AS l USING (file_sha256, claim_id) "
            "WHERE (l.date_of_service > ? AND l.date_of_service <= ?) "
            "OR (c.submitted_date > ? AND c.submitted_date <= ?)",
            [start, DEMO_AS_OF, start, DEMO_AS_OF],
        ).fetchall()
        checks = dict(
            ((m, p), d)
            for m, p, d in con.execute(
                "SELECT member_id, payer_id, max(check_date) FROM stg.eligibility_responses "
                "WHERE rejection_reason IS NULL AND check_date <= ? GROUP BY ALL",
                [DEMO_AS_OF],
            ).fetchall()
        )
    stale = {
        pair for pair in recent if checks.get(pair) is None or (DEMO_AS_OF - checks[pair]).days > 30
    }
    with (report["folder"] / "reverify.csv").open() as handle:
        listed = {
            (r["member_id"], r["payer_id"])
            for r in csv.DictReader(handle)
            if "last checked" in r["reasons"]
        }
    assert listed == stale == {("BSX423886853", "BSTAR"), ("1EG460353210", "MCRDM")}


def test_a_payer_threshold_override_changes_the_list(report) -> None:
    thresholds = {
        "reverify.recent_days": 30,
        "reverify.days": 30,
        "reverify.payer_days": {"BSTAR": 10},
    }
    with open_warehouse(report["db"], read_only=True) as con:
        rows = reverify_rows(con, DEMO_AS_OF, thresholds)
    bstar = [
        (r["member_id"], r["days_since_check"], r["threshold_days"])
        for r in rows
        if r["payer_id"] == "BSTAR"
    ]
    assert ("BSX711943430", 13, 10) in bstar
    assert ("BSX423886853", 40, 10) in bstar
    assert all(days > 10 for _, days, _ in bstar)


def test_provider_page_is_a_note_with_curable_and_other_findings(report) -> None:
    page = report["folder"] / "providers" / f"{NPI}.html"
    text = _text(page)
    # the clinician's name from the 837s (NM1*82), with the NPI
    assert "<title>Notes to fix: MATSUDA, KEN (NPI 1006771046), as of 2026-11-15</title>" in (
        page.read_text()
    )
    assert "Notes to fix: MATSUDA, KEN (NPI 1006771046)" in text
    assert (
        "Hello MATSUDA, KEN: thank you for your notes. As of 2026-11-15, 6 of your paid\n"
        "sessions could be taken back by a payer ($352.40 in all)."
    ) in text
    assert "What your notes can still fix (7)" in text
    assert "What notes cannot fix: for the billing lead (1)" in text
    rows = re.findall(
        r"(PCN\d+) line (\d) (\d{4}-\d\d-\d\d) (\w+) (\w+) ([^(]+?) \(([a-z_.]+)\) (\$[\d.,]+)",
        text,
    )
    expected = [
        ("PCN00000033", "1", "2026-05-14", "90834", "1EG162261474",
         "add the session's start and end times to the note", "documentation.time_missing", "$66.30"),
        ("PCN00000036", "1", "2026-06-04", "99214", "1EG162261474",
         "sign the note, or write it if it is missing", "documentation.note_missing", "$82.70"),
        ("PCN00000036", "2", "2026-06-04", "90833", "1EG162261474",
         "sign the note, or write it if it is missing", "documentation.note_missing", "$45.80"),
        ("PCN00000037", "1", "2026-06-11", "90834", "1EG162261474",
         "sign the note, or write it if it is missing", "documentation.note_missing", "$66.30"),
        ("PCN00000165", "1", "2026-07-04", "90834", "BSX360989298",
         "add the session's start and end times to the note", "documentation.time_missing", "$77.90"),
        ("PCN00000166", "1", "2026-07-11", "99213", "BSX360989298",
         "keep a dated late-entry explanation with the note", "documentation.late_signature", "$0.00"),
        ("PCN00000166", "2", "2026-07-11", "90833", "BSX360989298",
         "keep a dated late-entry explanation with the note", "documentation.late_signature", "$0.00"),
        ("PCN00000031", "1", "2026-04-30", "90837", "1EG162261474",
         "send a corrected claim with the code the minutes support", "coding.time_unsupported", "$13.40"),
    ]  # fmt: skip
    assert rows == expected
    # the headline agrees with the mart's per-line exposure (each session once, capped)
    with open_warehouse(report["db"], read_only=True) as con:
        sessions, total = con.execute(
            "SELECT count(*), sum(open_exposure) FROM mart.line_exposure "
            "WHERE rendering_npi = ? AND open_exposure > 0",
            [NPI],
        ).fetchone()
        others = {
            npi
            for (npi,) in con.execute(
                "SELECT rendering_npi FROM mart.claim_lines UNION SELECT billing_npi FROM "
                "mart.claim_lines UNION SELECT payee_npi FROM stg.remit_payments"
            ).fetchall()
            if npi and npi != NPI
        }
        members = {
            m for (m,) in con.execute("SELECT DISTINCT member_id FROM mart.claim_lines").fetchall()
        }
    assert (sessions, Decimal(total)) == (6, Decimal("352.40"))
    html = page.read_text()
    assert [npi for npi in others if npi in html] == []  # no other provider's NPI
    assert sorted(m for m in members if m in html) == ["1EG162261474", "BSX360989298"]
    assert "<script" not in html and "http" not in html.replace("http-equiv", "")


def test_main_report_counts_and_links_the_pages(report) -> None:
    pages = sorted(p.name for p in (report["folder"] / "providers").iterdir())
    assert len(pages) == 8
    html = (report["folder"] / "index.html").read_text()
    section = html.split('<section id="prevention">', 1)[1].split("</section>", 1)[0]
    assert "2 client(s) to re-verify" in section
    assert "8 clinician fix-list page(s)" in section
    assert re.findall(r'href="providers/(\d+)\.html"', section)[0] == "1011602392"
    assert sorted(re.findall(r'href="(providers/\d+\.html)"', section)) == [
        f"providers/{name}" for name in pages
    ]
    assert (
        f'<a href="providers/{NPI}.html">{NPI}</a>: 6 session(s), $352.40 at stake; '
        "7 the notes can still fix, 1 they cannot" in section
    )
    # index.html stays free of member ids: reverify.csv carries them
    assert "BSX423886853" not in html


def _response(con, sha: str, rid: str, member: str, payer: str, check: str, *benefits) -> None:
    con.execute(
        "INSERT INTO stg.eligibility_responses (file_sha256, response_id, check_date, payer_id, "
        "member_id, is_dependent) VALUES (?, ?, ?, ?, ?, FALSE)",
        [sha, rid, check, payer, member],
    )
    for seq, (code, status, kind, plan, begin, end) in enumerate(benefits, start=1):
        con.execute(
            "INSERT INTO stg.eligibility_benefits (file_sha256, response_id, benefit_seq, "
            "eligibility_code, coverage_status, insurance_type, plan_description, coverage_begin, "
            "coverage_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sha, rid, seq, code, status, kind, plan, begin, end],
        )


def test_changes_in_the_latest_271_are_listed(
    demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    """A termination, a plan change and a new payer, each on a 271 newer than the demo's."""
    db = demo_warehouse.copy_to(tmp_path)
    with open_warehouse(db) as con:
        con.execute("BEGIN TRANSACTION")
        # BSX360989298 (BSTAR, checked 2026-11-14): coverage ended 2026-11-14
        _response(con, "t", "t:1", "BSX360989298", "BSTAR", "2026-11-15",
                  ("6", "inactive", None, None, None, "2026-11-14"),
                  ("B", None, "PR", "GOLD PPO", None, None))  # fmt: skip
        # BSX711943430 (BSTAR, GOLD PPO on 2026-11-02): now SILVER HMO
        _response(con, "t", "t:2", "BSX711943430", "BSTAR", "2026-11-10",
                  ("1", "active", None, None, "2024-02-26", None),
                  ("B", None, "HM", "SILVER HMO", None, None))  # fmt: skip
        # 1EG460353210 (MCRDM, stale): a newer answer from another payer
        _response(con, "t", "t:3", "1EG460353210", "KEYMU", "2026-11-12",
                  ("1", "active", None, None, "2026-11-01", None))  # fmt: skip
        con.execute("COMMIT")
        build_models(con, DEMO_AS_OF)
        rows = reverify_rows(con, DEMO_AS_OF, {})
    assert [(r["member_id"], r["payer_id"], r["at_stake"], r["reasons"]) for r in rows] == [
        ("BSX360989298", "BSTAR", Decimal("1375.00"),
         "termination: the 271 of 2026-11-15 shows coverage ended 2026-11-14"),
        ("BSX711943430", "BSTAR", Decimal("794.00"), "plan change: PR GOLD PPO -> HM SILVER HMO"),
        ("BSX423886853", "BSTAR", Decimal("227.00"),
         "last checked 2026-10-06, 40 days ago (over 30)"),
        ("1EG460353210", "MCRDM", Decimal("227.00"),
         "last checked 2026-10-02, 44 days ago (over 30); "
         "new payer: the latest 271 (2026-11-12) is from KEYMU"),
    ]  # fmt: skip
