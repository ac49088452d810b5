"""The demo inbox through the whole pipeline, checked against the demo's answer key."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from demo.generator import generate
from expectations.catalog import RULE_IDS, RULES, run_rules
from loading import ingest, reference
from marts.build import build_models
from warehouse.connection import open_warehouse
from warehouse.money import CENT


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("e2e")
    inbox = root / "inbox"
    manifest = generate(inbox, rules=RULE_IDS, seed=7, claims=2000)
    as_of = date.fromisoformat(manifest["as_of"])
    db = root / "recoup.duckdb"
    with open_warehouse(db) as con:
        report = ingest.ingest_inbox(con, inbox, root, "e2e")
        con.execute("BEGIN TRANSACTION")
        reference.rebuild(con)
        con.execute("COMMIT")
        build_models(con, as_of)
        result = run_rules(con, as_of)
        # keyed by claim_key: the demo plants CLM01s reused on several claims
        found = {
            (claim_key, line, rule): (exposure, barred)
            for claim_key, line, rule, exposure, barred in con.execute(
                "SELECT claim_key, line_number, rule, exposure, time_barred FROM mart.findings"
            ).fetchall()
        }
    key = {}
    with (inbox / "answer_key.csv").open() as handle:
        for row in csv.DictReader(handle):
            key[(row["claim_key"], int(row["line_number"]), row["rule"])] = (
                Decimal(row["exposure"]),
                row["time_barred"].lower() in ("true", "1"),
            )
    return {
        "manifest": manifest,
        "report": report,
        "result": result,
        "found": found,
        "key": key,
        "db": db,
        "inbox": inbox,
        "as_of": as_of,
    }


def test_every_demo_file_loads(demo) -> None:
    report = demo["report"]
    assert report.by_status("rejected") == []
    files = demo["manifest"]["files"]
    expected = sum(
        files[feed] for feed in ("claims", "eligibility", "remittances", "sessions", "reference")
    )
    assert len(report.by_status("loaded")) == expected


def test_every_rule_is_planted(demo) -> None:
    planted = {rule for (_, _, rule) in demo["key"]}
    assert planted == {rule.id for rule in RULES}


@pytest.mark.parametrize("rule", [rule.id for rule in RULES])
def test_recall_and_precision_per_rule(demo, rule: str) -> None:
    expected = {k for k in demo["key"] if k[2] == rule}
    found = {k for k in demo["found"] if k[2] == rule}
    assert expected, f"the demo plants no {rule}"
    missed, unexplained = sorted(expected - found), sorted(found - expected)
    assert not missed and not unexplained, f"missed {missed[:5]}, unexplained {unexplained[:5]}"


def test_exposure_and_time_bar_match_the_key_to_the_cent(demo) -> None:
    wrong = {
        k: (demo["key"][k], demo["found"][k])
        for k in demo["key"]
        if k in demo["found"] and demo["found"][k] != demo["key"][k]
    }
    assert wrong == {}


def test_per_rule_totals_match_the_manifest(demo) -> None:
    totals: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for (_, _, rule), (exposure, barred) in demo["found"].items():
        if not barred:
            totals[rule][0] += 1
            totals[rule][1] += exposure
    for rule, expected in demo["manifest"]["rules"].items():
        lines, exposure = expected["expected"]["lines"], expected["expected"]["exposure"]
        assert totals[rule][0] == lines, rule
        assert totals[rule][1] == Decimal(str(exposure)).quantize(CENT), rule


def test_skipped_rules_name_the_provider_without_sessions(demo) -> None:
    skipped = demo["result"].skipped
    assert set(skipped) == {
        "coding.time_unsupported",
        "documentation.time_missing",
        "documentation.note_missing",
        "documentation.late_signature",
        "necessity.no_step_down",
    }
    assert all(
        reason.startswith("partial") and "1277450304" in reason for reason in skipped.values()
    )


def test_rerun_loads_nothing_and_changes_nothing(demo) -> None:
    with open_warehouse(demo["db"]) as con:
        before = ingest.table_counts(con, ("stg", "ledger"))
        again = ingest.ingest_inbox(con, demo["inbox"], demo["db"].parent, "e2e-2")
        assert {o.status for o in again.outcomes} == {"skipped"}
        assert ingest.table_counts(con, ("stg", "ledger")) == before


def test_flagged_lines_match_the_manifest(demo) -> None:
    manifest = json.loads((demo["inbox"] / "manifest.json").read_text())
    flagged = {(claim_id, line) for claim_id, line, _ in demo["found"]}
    assert len(flagged) == manifest["totals"]["flagged_lines"]


@pytest.fixture(scope="module")
def reports(demo, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from flows.handover import report_rules
    from reporting import Scope, write_reports

    folders = [tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")]
    with open_warehouse(demo["db"]) as con:
        write_reports(
            con,
            folders[0],
            as_of=demo["as_of"],
            scope=Scope.nightly(),
            skipped=demo["result"].skipped,
            rules=report_rules(),
        )
        # a rerun: the marts and findings rebuilt from the same warehouse, the reports rewritten
        build_models(con, demo["as_of"])
        result = run_rules(con, demo["as_of"])
        write_reports(
            con,
            folders[1],
            as_of=demo["as_of"],
            scope=Scope.nightly(),
            skipped=result.skipped,
            rules=report_rules(),
        )
    return {"folders": folders, "summary": json.loads((folders[0] / "exposure.json").read_text())}


def test_exposure_json_totals_equal_the_answer_key(demo, reports) -> None:
    expected = demo["manifest"]["totals"]
    totals = reports["summary"]["totals"]
    for field in (
        "claim_lines",
        "net_paid",
        "open_exposure",
        "time_barred_exposure",
        "realized_recoupments",
        "flagged_lines",
    ):
        assert totals[field] == expected[field], field


def test_exposure_json_by_rule_and_payer_equal_the_answer_key(demo, reports) -> None:
    by_rule = reports["summary"]["by_rule"]
    for rule, values in demo["manifest"]["rules"].items():
        assert by_rule[rule] == values["expected"], rule
    assert reports["summary"]["by_payer"] == demo["manifest"]["by_payer"]


def test_rerun_gives_byte_identical_exposure_json_and_findings_csv(reports) -> None:
    first, second = reports["folders"]
    for name in ("exposure.json", "findings.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_reused_clm01s_are_claims_of_their_own(demo) -> None:
    """The demo's Riverbend bills some clients under their account number: one CLM01 on many
    claims. Each is its own claim, every CLP finds its own claim, and the key covers them."""
    with open_warehouse(demo["db"]) as con:
        reused = con.execute(
            "SELECT claim_id, count(*) FROM mart.claims WHERE claim_id LIKE 'ACCT%' "
            "GROUP BY claim_id HAVING count(*) > 1"
        ).fetchall()
        unmatched = con.execute(
            "SELECT count(*) FROM mart.unmatched_remittances WHERE claim_id LIKE 'ACCT%'"
        ).fetchall()
        keys = con.execute(
            "SELECT count(DISTINCT claim_key), count(DISTINCT claim_id) FROM mart.paid_lines "
            "WHERE claim_id LIKE 'ACCT%'"
        ).fetchall()
    assert len(reused) >= 5 and sum(n for _, n in reused) >= 20
    assert unmatched == [(0,)]
    assert keys[0][0] > keys[0][1] > 0
    assert any(claim_key.startswith("ACCT") for claim_key, _, _ in demo["key"])
