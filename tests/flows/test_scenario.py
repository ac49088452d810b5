"""A hand-written scenario through the real commands: X12 that recoup did not write, figures
worked out by hand.

Member M001 of payer ACME01, rendering NPI 1245319599, as of 2025-12-31 (look-back 24 months:
nothing is time-barred). A 271 of 2025-03-01 says active since 2025-01-01; a 271 of 2025-06-10
says inactive, coverage ended 2025-05-31.

- A1 90837 on 2025-03-10, paid 120.00, 55 minutes: covered, checked 9 days before: no finding.
- A2 90837 on 2025-06-01, paid 120.00: the day after coverage ended -> coverage.lapsed 120.00;
  no check within 30 days on or before the date (03-01 is 92 days before, 06-10 after) ->
  coverage.unverified 0.00.
- A3 90834 on 2025-03-15, paid 90.00, 30 minutes: supports only 90832 (shipped allowed 72.00) ->
  coding.time_unsupported 90.00 - 72.00 = 18.00.
- PLB WO 25.00 naming claim Z9, which was never submitted: realized recoupment.
- A4 90837 on 2025-07-15, in the same 837P as A1-A3 but after its creation date (BHT04
  2025-07-01): that claim alone is rejected (SPEC "Structural checks"); A1-A3 load, and nothing
  of A4 reaches any figure below. The summary and the HTML report name it.
- The 271 of 2025-06-10 answers for M001 twice; its second subscriber says active (EB*1) with
  an impossible 2110C date (2025-06-31): that subscriber alone is rejected. Were its EB loaded,
  M001 would be active for good and A2's lapse would vanish from every figure below.

Open exposure 120.00 + 18.00 = 138.00 over 2 flagged lines; net paid 330.00; 90837 share 2/3.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PATIENT

FIXTURES = Path(__file__).parent.parent / "fixtures" / "scenario"
PLACES = {
    "claims.837.tpl": "claims/calm_care_0701.837",
    "early.271.tpl": "eligibility/acme_0301.271",
    "later.271.tpl": "eligibility/acme_0610.271",
    "april.835.tpl": "remittances/acme_0401.835",
    "june.835.tpl": "remittances/acme_0620.835",
}


def x12(template: str) -> str:
    """The template with SE01 filled in: segments from ST to SE inclusive."""
    segments = [s.strip() for s in template.split("~") if s.strip()]
    start = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    end = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    return template.replace("{SE}", str(end - start + 1))


def recoup(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_HOME": str(cwd / "prefect-home")}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENT,
        check=False,
    )


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("scenario")
    inbox = root / "inbox"
    for template, target in PLACES.items():
        (inbox / target).parent.mkdir(parents=True, exist_ok=True)
        (inbox / target).write_text(x12((FIXTURES / template).read_text()))
    (inbox / "sessions").mkdir()
    (inbox / "sessions" / "notes.csv").write_bytes((FIXTURES / "sessions.csv").read_bytes())
    db, reports = root / "recoup.duckdb", root / "reports"
    common = ["--db", str(db), "--as-of", "2025-12-31"]
    run = recoup("run", "--inbox", str(inbox), "--reports", str(reports), *common, cwd=root)
    report_json = recoup("report", "--format", "json", *common, cwd=root)
    folder = reports / "2025-12-31"
    return {"run": run, "report_json": report_json, "folder": folder}


def test_run_completes_and_loads_every_file(scenario) -> None:
    run = scenario["run"]
    assert run.returncode == 0, run.stderr
    assert "6 files loaded, 0 rejected, 0 skipped" in run.stdout
    # progress goes to standard error while the run works
    for step in (
        "loading new files from",
        "  file 6/6 loaded: sessions/notes.csv",
        "building marts and findings as of 2025-12-31",
        "validating with Great Expectations",
        "writing reports to",
    ):
        assert step in run.stderr


A4_NOT_LOADED = (
    "1 of 4 claims in claims/calm_care_0701.837 was not loaded: CLM01 A4 (segment DTP, line 40, "
    "col 1: date of service 2025-07-15 is after the file's creation date (BHT04) 2025-07-01)"
)


def test_a_claim_dated_after_its_file_is_rejected_alone_and_named(scenario) -> None:
    run = scenario["run"]
    assert f"  {A4_NOT_LOADED}\n" in run.stdout
    page = (scenario["folder"] / "index.html").read_text()
    assert A4_NOT_LOADED.replace("'", "&#39;") in page or A4_NOT_LOADED in page


SUBSCRIBER_NOT_LOADED = (
    "1 of 2 subscribers in eligibility/acme_0610.271 was not loaded: subscriber 2 (segment DTP, "
    "line 19, col 1: DTP03 '20250631' is not a real date (CCYYMMDD))"
)


def test_a_subscriber_with_an_impossible_date_is_rejected_alone_and_named(scenario) -> None:
    run = scenario["run"]
    assert f"  {SUBSCRIBER_NOT_LOADED}\n" in run.stdout
    page = (scenario["folder"] / "index.html").read_text()
    assert SUBSCRIBER_NOT_LOADED.replace("'", "&#39;") in page or SUBSCRIBER_NOT_LOADED in page


def test_exposure_json_equals_the_hand_computed_figures(scenario) -> None:
    summary = json.loads((scenario["folder"] / "exposure.json").read_text())
    assert summary["as_of"] == "2025-12-31"
    assert summary["scope"]["kind"] == "nightly"
    totals = {
        k: summary["totals"][k]
        for k in (
            "claim_lines",
            "net_paid",
            "open_exposure",
            "time_barred_exposure",
            "realized_recoupments",
            "flagged_lines",
        )
    }
    assert totals == {
        "claim_lines": 3,
        "net_paid": 330.0,
        "open_exposure": 138.0,
        "time_barred_exposure": 0.0,
        "realized_recoupments": 25.0,
        "flagged_lines": 2,
    }
    fired = {rule: values for rule, values in summary["by_rule"].items() if values["lines"]}
    assert fired == {
        "coverage.lapsed": {"lines": 1, "exposure": 120.0},
        "coverage.unverified": {"lines": 1, "exposure": 0.0},
        "coding.time_unsupported": {"lines": 1, "exposure": 18.0},
    }
    assert summary["by_payer"] == {
        "ACME01": {"net_paid": 330.0, "open_exposure": 138.0, "realized_recoupments": 25.0}
    }
    npi = summary["by_rendering_npi"]["1245319599"]
    assert (npi["net_paid"], npi["open_exposure"]) == (330.0, 138.0)
    assert npi["share_90837"] == 0.6667  # 2 of 3 paid 90832/90834/90837 lines, 4 places
    assert set(summary["rules_skipped"]) == {"coding.high_level_outlier"}


def test_findings_csv_lists_exactly_the_hand_computed_findings(scenario) -> None:
    with (scenario["folder"] / "findings.csv").open() as handle:
        rows = [
            (
                r["claim_id"],
                r["line_number"],
                r["rule"],
                r["net_paid"],
                r["exposure"],
                r["time_barred"],
                r["date_of_service"],
                r["code"],
                r["member_id"],
            )
            for r in csv.DictReader(handle)
        ]
    assert sorted(rows) == [
        ("A2", "1", "coverage.lapsed", "120.00", "120.00", "false", "2025-06-01", "90837", "M001"),
        (
            "A2",
            "1",
            "coverage.unverified",
            "120.00",
            "0.00",
            "false",
            "2025-06-01",
            "90837",
            "M001",
        ),
        (
            "A3",
            "1",
            "coding.time_unsupported",
            "90.00",
            "18.00",
            "false",
            "2025-03-15",
            "90834",
            "M001",
        ),
    ]


def test_report_command_prints_the_same_exposure_json(scenario) -> None:
    printed = scenario["report_json"]
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == (scenario["folder"] / "exposure.json").read_text()


def test_no_member_names_or_birth_dates_in_outputs(scenario) -> None:
    texts = [scenario["run"].stdout, scenario["run"].stderr]
    texts += [
        p.read_text()
        for p in scenario["folder"].iterdir()
        if p.suffix in (".json", ".csv", ".html")
    ]
    for text in texts:
        for secret in ("RIVERA", "Rivera", "19850704", "1985-07-04", "9 OAK AVE"):
            assert secret not in text
