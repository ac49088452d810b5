"""A rule is one folder entry: a throwaway rule, written into a temporary folder by this test and
nowhere else, flows into mart.findings, the GX suite, docs/rules.md and the report (exposure.json
by_rule, findings.csv, the reason on the HTML page), and is skipped by its own precondition.

Discovery is pointed at the folder through ``RECOUP_EXTRA_RULES`` (only tests set it)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from expectations import docs
from expectations.catalog import EXTRA_RULES_ENV, RULE_IDS, active_rules, discover
from expectations.suites import validate_rules
from flows.handover import report_rules
from reporting import Scope, write_reports
from tests.rulekit import AS_OF, Kit, Line, Remit, finding
from warehouse.connection import migrate

PROBE = "probe.long_session_paid"

PROBE_PY = '''"""probe.long_session_paid: a throwaway rule (tests/expectations/test_rule_folder.py).

Catches every paid 90837 line.

Exposure: net paid minus the payer's allowed amount for 90834 (the downcode macro).
"""

from expectations.definition import Evidence, Precondition, Rule
from expectations.words import money


def explain(e: Evidence) -> str:
    return f"probe: {e.get('code')} paid {money(e.get('net_paid'))}, 90834 allows " + money(
        e.get("allowed_amount_90834")
    )


RULE = Rule.define(
    "probe.long_session_paid",
    __doc__,
    source=__file__,
    order=1000,
    explain=explain,
    action="correct the code and resubmit",
    preconditions=(
        Precondition(
            needs=None,
            count_sql="SELECT count(*) FROM mart.paid_lines WHERE code = '90837'",
            at_least=2,
            skipped="only {count} paid 90837 line(s) to {as_of}; the probe needs 2",
        ),
    ),
)
'''

PROBE_SQL = """SELECT
    l.claim_key,
    l.claim_id,
    l.line_number,
    'probe.long_session_paid' AS rule,
    CAST(mart.downcode_exposure(l.net_paid, a.allowed_amount) AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'code', l.code, 'net_paid', l.net_paid, 'allowed_amount_90834', a.allowed_amount
    ) AS VARCHAR) AS evidence
FROM mart.paid_lines AS l
LEFT JOIN mart.allowed_amounts AS a ON a.payer_id = l.payer_id AND a.code = '90834'
WHERE l.code = '90837'
"""


@pytest.fixture
def probe_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "extra_rules"
    folder.mkdir()
    (folder / "probe_long_session_paid.py").write_text(PROBE_PY)
    (folder / "probe_long_session_paid.sql").write_text(PROBE_SQL)
    monkeypatch.setenv(EXTRA_RULES_ENV, str(folder))
    yield folder


def warehouse(path: Path) -> tuple[duckdb.DuckDBPyConnection, Kit]:
    con = duckdb.connect(str(path))
    migrate(con)
    kit = Kit(con)
    kit.fee("90834", "80.00", payer_id="P1")  # none for P2 (nor '*'): no allowed amount
    return con, kit


def test_discovery_orders_the_folder_and_leaves_the_shipped_rules_alone(probe_folder: Path) -> None:
    ids = [rule.id for rule in active_rules()]
    assert ids == [*RULE_IDS, PROBE]  # order 1000: after the shipped rules
    assert [rule.id for rule in discover()] == list(RULE_IDS)
    (probe_folder / "billing_duplicate.py").write_text(
        PROBE_PY.replace(PROBE, "billing.duplicate").replace("order=1000", "order=1001")
    )
    (probe_folder / "billing_duplicate.sql").write_text(
        PROBE_SQL.replace(PROBE, "billing.duplicate")
    )
    with pytest.raises(ValueError, match=r"two rules share the id billing\.duplicate"):
        discover(probe_folder)


def test_a_throwaway_rule_flows_into_findings_gx_docs_and_the_report(
    probe_folder: Path, tmp_path: Path
) -> None:
    con, kit = warehouse(tmp_path / "recoup.duckdb")
    kit.paid_line("L1", "90837", "150.00")  # P1: 150.00 - 80.00
    kit.paid_line("L2", "90837", "60.00", member_id="M2")  # P1: below the allowed amount: 0
    kit.paid_line("L3", "90837", "120.00", member_id="M3", payer_id="P2")  # unpriced: all of it
    kit.claim("L4", [Line("90834")], member_id="M4")  # a 90834: not the probe's
    kit.pay("L4", [Remit("90834", "90.00")])
    result = kit.run()

    # findings: the probe's rows next to the shipped rules', exposure through the macro
    assert kit.findings(PROBE) == [
        finding("L1", PROBE, "70.00"),
        finding("L2", PROBE, "0.00"),
        finding("L3", PROBE, "120.00"),
    ]
    assert result.counts[PROBE] == 3 and result.exposure[PROBE] == Decimal("190.00")
    assert PROBE not in result.skipped

    # GX: one check named after the rule, its description the docstring, counting its findings
    suite = validate_rules(con, tmp_path / "recoup.duckdb", AS_OF, gx_root=None, build_docs=False)
    assert suite.rule_status(PROBE) == "fail"
    assert suite.rule_counts()[PROBE] == 3
    assert suite.by_name()[PROBE].description.startswith(PROBE + ": a throwaway rule")
    assert suite.guards_ok  # "rule in the catalog" knows the probe

    # docs/rules.md, generated: a table row and a section
    page = docs.render()
    assert f"| [`{PROBE}`](#probelong_session_paid) | none | claims and remittances |" in page
    assert f"\n## {PROBE}\n\na throwaway rule (tests/expectations/test_rule_folder.py).\n" in page
    assert page.endswith(
        "- wholly: `only {count} paid 90837 line(s) to {as_of}; the probe needs 2`\n\n"
    )

    # the report: by_rule (open lines, gross exposure), findings.csv, the reason in plain words
    out = tmp_path / "report"
    write_reports(
        con, out, as_of=AS_OF, scope=Scope.nightly(), skipped=result.skipped, rules=report_rules()
    )
    summary = json.loads((out / "exposure.json").read_text())
    assert set(summary["by_rule"]) == {*RULE_IDS, PROBE}  # every rule, even at zero
    assert summary["by_rule"][PROBE] == {"lines": 3, "exposure": 190.0}
    with (out / "findings.csv").open(newline="") as handle:
        probe_rows = [row for row in csv.DictReader(handle) if row["rule"] == PROBE]
    assert sorted((row["claim_id"], row["exposure"]) for row in probe_rows) == [
        ("L1", "70.00"),
        ("L2", "0.00"),
        ("L3", "120.00"),
    ]
    html = (out / "index.html").read_text()
    assert "probe: 90837 paid $150.00, 90834 allows $80.00" in html
    con.close()


def test_the_throwaway_rule_is_skipped_by_its_own_precondition(
    probe_folder: Path, tmp_path: Path
) -> None:
    con, kit = warehouse(tmp_path / "recoup.duckdb")
    kit.paid_line("L1", "90837", "150.00")
    result = kit.run()
    reason = "only 1 paid 90837 line(s) to 2024-12-31; the probe needs 2"
    assert result.skipped[PROBE] == reason
    assert kit.findings(PROBE) == []
    suite = validate_rules(con, tmp_path / "recoup.duckdb", AS_OF, gx_root=None, build_docs=False)
    assert suite.rule_status(PROBE) == "skipped" and suite.skipped[PROBE] == reason
    con.close()
