"""The demo inbox generator: determinism, NPIs, answer key, manifest, X12 validity."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from demo import practice as pr
from demo.generator import generate
from expectations.catalog import RULE_IDS as RULES
from loading.npi import npi_is_valid

ROOT = Path(__file__).resolve().parents[2]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _segments(path: Path) -> list[list[str]]:
    text = path.read_text()
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


@pytest.fixture(scope="module")
def default_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_default")
    generate(out, rules=RULES)
    return out


@pytest.fixture(scope="module")
def small_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_small")
    generate(out, rules=RULES, claims=300)
    return out


def test_every_demo_npi_is_valid() -> None:
    npis = [g.npi for g in pr.GROUPS] + [p.npi for p in pr.PROVIDERS]
    assert len(set(npis)) == len(npis) == 13
    assert all(npi_is_valid(n) and n[0] in "12" for n in npis)  # real NPIs start 1 or 2


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path, small_inbox: Path) -> None:
    again = tmp_path / "again"
    generate(again, rules=RULES, claims=300)
    assert _digest(again) == _digest(small_inbox)
    other = tmp_path / "other"
    generate(other, rules=RULES, seed=8, claims=300)
    assert _digest(other) != _digest(small_inbox)


def test_every_rule_is_in_the_key_at_the_default_size(default_inbox: Path) -> None:
    rows = list(csv.DictReader((default_inbox / "answer_key.csv").open()))
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["rule"]] += 1
    assert set(counts) == set(RULES)
    assert all(counts[rule] >= 3 for rule in RULES), counts
    assert {row["time_barred"] for row in rows} == {"true", "false"}


def test_manifest_totals_are_sums_over_the_key(default_inbox: Path) -> None:
    manifest = json.loads((default_inbox / "manifest.json").read_text())
    rows = list(csv.DictReader((default_inbox / "answer_key.csv").open()))
    by_rule: dict[str, list[Decimal]] = defaultdict(list)
    open_line: dict[tuple[str, str], Decimal] = {}
    barred_line: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        line, exposure = (row["claim_key"], row["line_number"]), Decimal(row["exposure"])
        target = barred_line if row["time_barred"] == "true" else open_line
        target[line] = max(target.get(line, Decimal(0)), exposure)
        if row["time_barred"] == "false":
            by_rule[row["rule"]].append(exposure)
    for rule in RULES:
        expected = manifest["rules"][rule]["expected"]
        assert expected["lines"] == len(by_rule[rule]), rule
        assert Decimal(str(expected["exposure"])) == sum(by_rule[rule], Decimal(0)), rule
    totals = manifest["totals"]
    assert totals["flagged_lines"] == len(open_line.keys() | barred_line.keys())
    # every exposure is at most its line's net paid, so the per-line cap never bites here
    assert Decimal(str(totals["open_exposure"])) == sum(open_line.values(), Decimal(0))
    assert Decimal(str(totals["time_barred_exposure"])) == sum(barred_line.values(), Decimal(0))
    payers = manifest["by_payer"]
    assert Decimal(str(totals["net_paid"])) == sum(
        (Decimal(str(p["net_paid"])) for p in payers.values()), Decimal(0)
    )
    assert totals["realized_recoupments"] > 0
    assert manifest["files"]["claims"] > 1 and manifest["claims"] == 2000


def test_sessions_header_and_the_silent_billing_provider(default_inbox: Path) -> None:
    files = sorted((default_inbox / "sessions").glob("*.csv"))
    assert files
    for path in files:
        assert (
            path.read_text().splitlines()[0]
            == "claim_id,line_number,minutes,note_signed_at,phq9,gad7"
        )
    silent = [g.npi for g in pr.GROUPS if not g.sends_sessions]
    assert silent and not any(npi in p.name for p in files for npi in silent)
    assert any(npi in p.name for p in (default_inbox / "claims").glob("*") for npi in silent)


def test_835_balances_and_payer_ids_line_up(default_inbox: Path) -> None:
    payer_ids = set()
    for path in (default_inbox / "claims").glob("*.837"):
        payer_ids |= {s[9] for s in _segments(path) if s[:2] == ["NM1", "PR"]}
    eligibility = set()
    for path in (default_inbox / "eligibility").glob("*.271"):
        eligibility |= {s[9] for s in _segments(path) if s[:2] == ["NM1", "PR"]}
    assert eligibility == payer_ids == {p.payer_id for p in pr.PAYERS}
    wo = []
    for path in (default_inbox / "remittances").glob("*.835"):
        total = clp = plb = None
        for s in [*_segments(path), ["ST"]]:
            if s[0] in ("ST", "SE") and total is not None:
                assert total == clp - plb, path.name
                total = None
            if s[0] == "BPR":
                total, clp, plb = Decimal(s[2]), Decimal(0), Decimal(0)
            elif s[0] == "CLP":
                clp += Decimal(s[4])
            elif s[0] == "PLB":
                plb += sum(Decimal(a) for a in s[4::2])
                wo += [r.split(":")[1] for r in s[3::2] if r.startswith("WO:")]
            elif s[0] == "N1" and s[1] == "PR":
                assert s[3] == "XV" and s[4] in payer_ids
    submitted = set()
    for path in (default_inbox / "claims").glob("*.837"):
        submitted |= {s[1] for s in _segments(path) if s[0] == "CLM"}
    assert wo and any(ref not in submitted for ref in wo)


def test_shipped_fee_schedule_covers_every_code(default_inbox: Path) -> None:
    shipped = (ROOT / "data/reference/fee_schedule.csv").read_text().splitlines()
    assert shipped[0].startswith("#")
    rows = list(csv.DictReader(io.StringIO("\n".join(shipped[1:]))))
    defaults = {r["code"]: Decimal(r["allowed_amount"]) for r in rows if r["payer_id"] == "*"}
    assert defaults == {code: Decimal(c) / 100 for code, c in pr.BASE_FEES.items()}
    used = set()
    for path in (default_inbox / "claims").glob("*.837"):
        used |= {s[1].split(":")[1] for s in _segments(path) if s[0] == "SV1"}
    assert used <= set(defaults)
    payers = (ROOT / "data/reference/payers.csv").read_text().splitlines()
    assert payers[0].startswith("#") and payers[1] == (
        "payer_id,name,lookback_months,telehealth_modifier_required,appeal_days"
    )


def test_x12_shapes(default_inbox: Path) -> None:
    claims = sorted((default_inbox / "claims").glob("*.837"))
    texts = [p.read_text() for p in claims]
    assert any("~\n" in t for t in texts) and any("~\n" not in t for t in texts)
    assert any(t.count("ISA*") > 1 for t in texts)
    joined = "".join(texts)
    assert re.search(r"SV1\*HC:\d{5}:95\*", joined) and "REF*6R*" in joined
    assert "NM1*82*" in joined and "DTP*472*D8*" in joined
    remits = "".join(p.read_text() for p in (default_inbox / "remittances").glob("*.835"))
    assert re.search(r"CLP\*[^*]+\*22\*-", remits) and re.search(r"CLP\*[^*]+\*4\*", remits)
    eligibility = "".join(p.read_text() for p in (default_inbox / "eligibility").glob("*.271"))
    for needle in ("EB*1*", "EB*6*", "DTP*346*D8*", "DTP*357*D8*", "DTP*291*RD8*"):
        assert needle in eligibility, needle


def _pyx12_errors(paths: list[Path]) -> list[str]:
    pyx12_params = pytest.importorskip("pyx12.params")
    pyx12_document = pytest.importorskip("pyx12.x12n_document")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    errors = []
    try:
        params = pyx12_params.params()
        for path in paths:
            ok = pyx12_document.x12n_document(
                param=params, src_file=str(path), fd_997=None, fd_html=None
            )
            if not ok or buffer.getvalue().strip():
                errors.append(f"{path.name}: {buffer.getvalue().strip()[:500]}")
            buffer.seek(0)
            buffer.truncate()
    finally:
        logger.removeHandler(handler)
    return errors


def test_pyx12_validates_837p_and_835(small_inbox: Path) -> None:
    paths = sorted((small_inbox / "claims").glob("*.837"))
    paths += sorted((small_inbox / "remittances").glob("*.835"))
    assert len(paths) > 10
    assert _pyx12_errors(paths) == []
