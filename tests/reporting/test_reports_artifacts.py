"""Prefect artifacts of a run: a markdown summary and a table of the lines to fix first, under
stable keys, read back from a Prefect test server (started once: it takes about 18 s)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from expectations.config import load_config
from flows.handover import report_rules
from reporting import Scope, artifact_key_prefix, build_summary, publish_artifacts
from reporting.artifacts import TABLE_COLUMNS, summary_markdown, top_findings_table
from reporting.exposure import top_lines_from_tables
from reporting.queries import scoped_tables
from tests.reporting.test_reports import AS_OF, build_scenario
from tests.rulekit import new_kit


@pytest.fixture(scope="module")
def report() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kit = new_kit(AS_OF)
    result = build_scenario(kit)
    scope = Scope.backfill(date(2024, 6, 1), date(2024, 6, 30), payer_id="P1", reason="audit")
    summary = build_summary(
        kit.con, as_of=AS_OF, scope=scope, skipped=result.skipped, rules=report_rules()
    )
    with scoped_tables(kit.con, scope, AS_OF, load_config()):
        top = top_lines_from_tables(kit.con, report_rules())
    return summary, top


def test_markdown_summary(report: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    summary, _ = report
    markdown = summary_markdown(summary)
    assert markdown.startswith("# recoup backfill report, as of 2024-12-31\n")
    assert "Scope: services 2024-06-01 to 2024-06-30, payer P1 (audit)." in markdown
    assert "| open exposure | $231.43 |" in markdown
    assert "| realized recoupments | $255.76 |" in markdown
    assert "| `documentation.note_missing` | 1 | $160.06 |" in markdown
    assert "| P1 | $511.43 | $231.43 | $255.76 |" in markdown
    assert "- `coverage.lapsed`: no eligibility data" in markdown


def test_top_findings_table_has_no_member_data(
    report: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    _, top = report
    table = top_findings_table(top)
    assert table == [
        {"claim_id": "C2", "line_number": 1, "payer_id": "P1", "rendering_npi": "2222222222",
         "date_of_service": "2024-06-03", "code": "90834",
         "rules": "coding.units_over_limit, documentation.note_missing", "open_exposure": 160.06},
        {"claim_id": "C1", "line_number": 1, "payer_id": "P1", "rendering_npi": "2222222222",
         "date_of_service": "2024-06-03", "code": "90837", "rules": "coding.time_unsupported",
         "open_exposure": 71.37},
    ]  # fmt: skip
    assert all(tuple(row) == TABLE_COLUMNS for row in table)
    assert "M1" not in repr(table) and "M2" not in repr(table)


def test_key_prefix_must_be_a_prefect_key() -> None:
    with pytest.raises(ValueError, match="lowercase"):
        publish_artifacts({}, [], key_prefix="Recoup Nightly")


def test_artifacts_are_published_under_stable_keys(
    prefect_harness: str, report: tuple[dict[str, Any], list[dict[str, Any]]]
) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    summary, top = report
    prefix = artifact_key_prefix(Scope.backfill(date(2024, 6, 1), date(2024, 6, 30), payer_id="P1"))

    @flow
    def report_run() -> dict[str, str]:
        return publish_artifacts(summary, top, key_prefix=prefix)

    first = report_run()
    second = report_run()  # a rerun adds to the same keys' history
    assert list(first) == ["recoup-backfill-p1-summary", "recoup-backfill-p1-top-findings"]
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=list(first)))
        )
    by_id = {str(artifact.id): artifact for artifact in artifacts}
    assert set(first.values()) | set(second.values()) == set(by_id)
    markdown = by_id[first["recoup-backfill-p1-summary"]]
    assert markdown.type == "markdown"
    assert markdown.flow_run_id is not None
    assert isinstance(markdown.data, str) and "| open exposure | $231.43 |" in markdown.data
    table = by_id[first["recoup-backfill-p1-top-findings"]]
    assert table.type == "table"
    assert '"claim_id": "C2"' in str(table.data) and "M2" not in str(table.data)
