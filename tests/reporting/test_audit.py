"""Audit mode: the claims file, the verdicts, and the stratified estimator against hand-computed
figures (docs/audit.md works the same example)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from flows.handover import report_rules
from reporting import Scope, write_reports
from reporting.audit import build_audit, read_claim_ids, verdict
from reporting.extrapolation import DEFAULT_BOUNDS, band_names, estimate
from warehouse.connection import open_warehouse

D = Decimal


def _frame() -> dict[str, Decimal]:
    # 4 claims under $75, 5 from $75 to under $125, 3 at $125 and over (bounds 75, 125)
    paid = [50, 60, 70, D("74.99"), 75, 80, 90, 100, D("124.99"), 125, 150, 200]
    return {f"C{i:02d}": D(str(p)) for i, p in enumerate(paid, start=1)}


def test_the_worked_example_to_the_cent() -> None:
    # Stratum "under $75": N=4, sample y = 10, 30: mean 20, s² = (10² + 10²)/1 = 200,
    #   N·mean = 80, variance 4²·(1 - 2/4)·200/2 = 800.
    # Stratum "$75 to under $125": N=5, sample y = 0, 0, 45: mean 15,
    #   s² = (15² + 15² + 30²)/2 = 675, N·mean = 75, variance 5²·(1 - 3/5)·675/3 = 2250.
    # Stratum "$125 and over": N=3, nothing sampled: not extrapolated.
    # T = 155; Var = 3050; SE = √3050 = 55.2268...; LL = 155 - 1.2816·55.2268 = 84.2213 -> 84.22;
    # OIG: 155 - 1.645·55.2268 = 64.1519 -> 64.15.
    sample = {"C01": D("10"), "C03": D("30"), "C05": D("0"), "C06": D("0"), "C09": D("45")}
    result = estimate(_frame(), sample).to_json()
    assert result["point_estimate"] == 155.00
    assert result["standard_error"] == 55.23
    assert result["lower_limit_90"] == 84.22
    assert result["demand_at_lower_limit"] == 84.22
    assert result["oig_lower_limit"] == 64.15
    assert result["unsampled_strata"] == ["$125.00 and over"]
    assert result["reason"] is None
    strata = {s["stratum"]: s for s in result["strata"]}
    low = strata["under $75.00"]
    assert (low["frame_claims"], low["sampled_claims"]) == (4, 2)
    assert (low["mean_overpayment"], low["sd_overpayment"]) == (20.00, 14.14)  # √200
    assert low["estimated_overpayment"] == 80.00
    assert low["frame_net_paid"] == 254.99
    middle = strata["$75.00 to under $125.00"]
    assert (middle["frame_claims"], middle["sampled_claims"]) == (5, 3)
    assert (middle["mean_overpayment"], middle["estimated_overpayment"]) == (15.00, 75.00)
    assert middle["sd_overpayment"] == 25.98  # √675
    assert strata["$125.00 and over"]["estimated_overpayment"] is None


def test_a_stratum_sampled_whole_adds_no_variance() -> None:
    # all 3 claims of the top stratum sampled (y = 5, 5, 20): N·mean = 30 exactly, variance 0;
    # with the worked example's other strata T = 185, Var = 3050 still.
    sample = {"C01": D("10"), "C03": D("30"), "C05": D("0"), "C06": D("0"), "C09": D("45")}
    sample |= {"C10": D("5"), "C11": D("5"), "C12": D("20")}
    result = estimate(_frame(), sample)
    assert result.point_estimate == D("185")
    assert result.variance == D("3050")
    assert result.to_json()["lower_limit_90"] == 114.22


def test_one_sampled_claim_in_a_stratum_leaves_no_lower_limit() -> None:
    result = estimate(_frame(), {"C01": D("10"), "C03": D("30"), "C06": D("12.50")})
    body = result.to_json()
    assert body["point_estimate"] == 80.00 + 62.50  # 4·20 + 5·12.50
    assert body["lower_limit_90"] is None and body["standard_error"] is None
    assert "$75.00 to under $125.00" in body["reason"]


def test_sampled_claims_outside_the_frame_are_ignored() -> None:
    result = estimate(_frame(), {"C01": D("10"), "C03": D("30"), "ELSEWHERE": D("999")})
    assert result.point_estimate == D("80")
    assert sum(s.sampled_claims for s in result.strata) == 2


def test_no_sampled_claim_in_the_frame() -> None:
    body = estimate(_frame(), {"ELSEWHERE": D("10")}).to_json()
    assert body["point_estimate"] == 0.0
    assert body["lower_limit_90"] is None
    assert body["reason"] == "no audited claim is a paid claim of the window"


def test_bands_and_bounds() -> None:
    assert [name for name, _, _ in band_names(DEFAULT_BOUNDS)] == [
        "under $75.00",
        "$75.00 to under $125.00",
        "$125.00 and over",
    ]
    with pytest.raises(ValueError, match="increase"):
        estimate(_frame(), {}, bounds=(D("125"), D("75")))


def test_claims_file_csv_or_plain_text(tmp_path: Path) -> None:
    csv_file = tmp_path / "sample.csv"
    csv_file.write_text("line,claim_id\n1,PCN2\n2, PCN1 \n3,PCN2\n")
    assert read_claim_ids(csv_file) == ["PCN1", "PCN2"]
    text_file = tmp_path / "sample.txt"
    text_file.write_text("# letter 2026-11\nPCN9\n\nPCN3,extra\n")
    assert read_claim_ids(text_file) == ["PCN3", "PCN9"]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(ValueError, match="no claim id"):
        read_claim_ids(empty)


def test_verdicts() -> None:
    def line(open_exposure: str, findings: int) -> dict:
        return {"open_exposure": D(open_exposure), "findings": findings}

    assert verdict([]) == "not_found"
    assert verdict([line("0", 0), line("0", 0)]) == "supported"
    assert verdict([line("0", 1)]) == "at_risk"  # a warning, or time-barred exposure
    assert verdict([line("0", 0), line("0.01", 1)]) == "unsupported"


@pytest.fixture(scope="module")
def evaluated_demo(demo_warehouse, tmp_path_factory):
    from expectations.catalog import run_rules
    from marts.build import build_models
    from tests.conftest import DEMO_AS_OF

    db = demo_warehouse.copy_to(tmp_path_factory.mktemp("audit"))
    with open_warehouse(db) as con:
        build_models(con, DEMO_AS_OF)
        run_rules(con, DEMO_AS_OF)
    return db


def test_audit_of_the_demo_agrees_with_the_findings(evaluated_demo: Path, tmp_path: Path) -> None:
    from tests.conftest import DEMO_AS_OF

    with open_warehouse(evaluated_demo, read_only=True) as con:
        window = con.execute(
            "SELECT DISTINCT claim_id FROM mart.claim_lines "
            "WHERE date_of_service BETWEEN DATE '2026-03-01' AND DATE '2026-06-30' "
            "AND payer_id = 'MCRDM' ORDER BY claim_id"
        ).fetchall()
        sampled = [row[0] for row in window[::3]] + ["UNKNOWN-1"]
        scope = Scope.backfill(
            DEMO_AS_OF.replace(month=3, day=1),
            DEMO_AS_OF.replace(month=6, day=30),
            payer_id="MCRDM",
            claim_ids=sampled,
        )
        audit = build_audit(con, scope, DEMO_AS_OF, rules=report_rules())
        exposure = dict(
            con.execute(
                "SELECT claim_id, sum(open_exposure) FROM mart.line_exposure "
                "WHERE date_of_service BETWEEN DATE '2026-03-01' AND DATE '2026-06-30' "
                "GROUP BY claim_id"
            ).fetchall()
        )
        folder = tmp_path / "report"
        paths = write_reports(
            con,
            folder,
            as_of=DEMO_AS_OF,
            scope=scope,
            skipped={},
            rules=report_rules(),
            audit=True,  # the audit files go into the same folder swap as the report
        )
    assert paths.audit == audit
    assert sorted(p.name for p in folder.iterdir()) == [
        "audit.csv",
        "audit.html",
        "audit.json",
        "disputes",
        "disputes.csv",
        "exposure.json",
        "findings.csv",
        "findings.parquet",
        "index.html",
    ]
    by_id = {claim["claim_id"]: claim for claim in audit["claims"]}
    assert by_id["UNKNOWN-1"]["verdict"] == "not_found"
    assert sum(audit["verdicts"].values()) == len(sampled)
    for claim_id, claim in by_id.items():
        open_exposure = float(exposure.get(claim_id) or 0)
        assert claim["open_exposure"] == open_exposure
        if claim["verdict"] == "unsupported":
            assert open_exposure > 0
        elif claim["verdict"] in ("supported", "at_risk"):
            assert open_exposure == 0
            assert (claim["verdict"] == "at_risk") == any(
                line["findings"] for line in claim["lines"]
            )
    assert audit["sample"]["overpayment"] == pytest.approx(
        sum(c["open_exposure"] for c in audit["claims"] if c["in_frame"]), abs=0.001
    )
    assert audit["estimate"]["point_estimate"] > 0
    # the files: audit.json equals the dict, exposure.json carries the summary under "audit"
    assert json.loads((folder / "audit.json").read_text()) == audit
    summary = json.loads((folder / "exposure.json").read_text())
    assert summary["audit"]["estimate"] == audit["estimate"]
    rows = (folder / "audit.csv").read_text().splitlines()
    assert rows[0].startswith("claim_id,verdict,in_frame,stratum")
    assert len(rows) == 1 + len(sampled)
    html = (folder / "audit.html").read_text()
    assert "What the payer could demand" in html and "UNKNOWN-1" in html
