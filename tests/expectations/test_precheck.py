"""``recoup check`` on the demo's pending batch: exactly the planted risks, with their fixes."""

from __future__ import annotations

import csv
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from demo.generator import generate
from expectations.catalog import RULE_IDS, run_rules
from flows.cli import main
from marts.build import build_models
from tests.conftest import DEMO_AS_OF, DEMO_CLAIMS, DemoWarehouse
from warehouse.connection import open_warehouse


@pytest.fixture(scope="module")
def batch(demo_warehouse: DemoWarehouse, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("precheck")
    pending = root / "pending"
    # the same demo (seed, claims, as-of) as the warehouse, with its pending batch beside it
    generate(
        root / "inbox", rules=RULE_IDS, seed=7, claims=DEMO_CLAIMS, as_of=DEMO_AS_OF,
        pending=pending,
    )  # fmt: skip
    db = demo_warehouse.copy_to(root / "wh")
    with open_warehouse(db) as con:
        build_models(con, DEMO_AS_OF)
        run_rules(con, DEMO_AS_OF)
    with (pending / "answer_key.csv").open() as handle:
        key = list(csv.DictReader(handle))
    return {"db": db, "pending": pending, "key": key, "inbox": root / "inbox"}


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_pending_batch_leaves_the_demo_inbox_unchanged(batch, demo_warehouse) -> None:
    def tree(root: Path) -> dict[str, str]:
        return {p.relative_to(root).as_posix(): _digest(p) for p in root.rglob("*") if p.is_file()}

    assert tree(batch["inbox"]) == tree(demo_warehouse.inbox)
    assert sorted(p.name for p in batch["pending"].iterdir()) == [
        "answer_key.csv", "claims.837", "clean.837", "sessions.csv",
    ]  # fmt: skip


def test_the_key_plants_every_risk_kind(batch) -> None:
    planted = {(row["claim_id"], row["rule"]) for row in batch["key"]}
    assert planted == {
        ("PND0000001", "coverage.lapsed"),
        ("PND0000001", "coverage.unverified"),
        ("PND0000002", "coding.time_unsupported"),
        ("PND0000003", "documentation.note_missing"),
        ("PND0000004", "telehealth.modifier_missing"),
        ("PND0000005", "coding.addon_without_primary"),
        ("PND0000006", "coding.units_over_limit"),
        ("PND0000007", "billing.duplicate"),
        ("PND0000008", "coding.multiple_timed_codes"),
    }


def test_check_reports_exactly_the_planted_risks_with_their_fixes(batch, capsys) -> None:
    before = _digest(batch["db"])
    code, out, err = _check(
        capsys,
        str(batch["pending"] / "claims.837"),
        "--db", str(batch["db"]),
        "--sessions", str(batch["pending"] / "sessions.csv"),
        "--format", "json",
    )  # fmt: skip
    assert code == 1, err
    document = json.loads(out)
    found = {
        (line["claim_id"], line["line_number"], risk["rule"]): risk
        for line in document["lines"]
        for risk in line["risks"]
    }
    expected = {
        (row["claim_id"], int(row["line_number"]), row["rule"]): row for row in batch["key"]
    }
    true_positives = found.keys() & expected.keys()
    assert len(true_positives) / len(found) == 1.0  # precision
    assert len(true_positives) / len(expected) == 1.0  # recall
    for line_key, row in expected.items():
        risk = found[line_key]
        assert Decimal(str(risk["at_stake"])) == Decimal(row["at_stake"]), line_key
        assert row["fix"] in risk["fix"], (line_key, risk["fix"])
    assert document["totals"] == {
        "claims": 11,
        "lines": 11,
        "lines_at_risk": 8,
        "at_stake": 1136.70,
    }
    assert _digest(batch["db"]) == before  # nothing written


def test_text_output_names_line_risk_and_fix(batch, capsys) -> None:
    code, out, _ = _check(
        capsys,
        str(batch["pending"] / "claims.837"),
        "--db", str(batch["db"]),
        "--sessions", str(batch["pending"] / "sessions.csv"),
    )  # fmt: skip
    assert code == 1
    lines = out.splitlines()
    at = lines.index(
        "claim PND0000002 line 1 2026-07-19 90837 member 1EG324522941 rendering 1011602392 "
        "charge $227.00"
    )
    assert lines[at + 1] == (
        "  coding.time_unsupported ($143.70 at stake): documented 45 minutes supports 90834, "
        "not 90837: bill 90834, or correct the note if the session was longer"
    )
    assert (
        "  coverage.lapsed ($157.00 at stake): coverage ended 2025-11-16 per the 271 of "
        "2025-11-30: verify eligibility before sending (bill the client's current payer)"
    ) in lines
    assert (
        "  billing.duplicate ($227.00 at stake): already billed on claim PCN00000138 line 1, "
        "paid 2026-09-29: do not send: it is a duplicate (send a replacement, frequency 7, to "
        "correct the first)"
    ) in lines
    assert (
        lines[-2]
        == "8 of 11 lines (8 of 11 claims) at risk, $1,136.70 at stake: fix them before sending"
    )


def test_clean_batch_exits_0(batch, capsys) -> None:
    code, out, err = _check(
        capsys,
        str(batch["pending"] / "clean.837"),
        "--db", str(batch["db"]),
        "--sessions", str(batch["pending"] / "sessions.csv"),
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[0] == (
        "nothing at risk in 3 lines (3 claims) of clean.837: checked against the warehouse as of "
        "2026-11-15"
    )


def test_json_schema(batch, capsys) -> None:
    code, out, _ = _check(
        capsys,
        str(batch["pending"] / "clean.837"),
        "--db", str(batch["db"]),
        "--sessions", str(batch["pending"] / "sessions.csv"),
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    document = json.loads(out)
    assert set(document) == {
        "schema_version", "file", "as_of", "at_risk", "totals", "lines", "not_checked",
    }  # fmt: skip
    assert document["schema_version"] == 1
    assert document["at_risk"] is False
    assert set(document["totals"]) == {"claims", "lines", "lines_at_risk", "at_stake"}
    line = document["lines"][0]
    assert set(line) == {
        "claim_id", "line_number", "date_of_service", "code", "modifiers", "member_id",
        "payer_id", "rendering_npi", "billing_npi", "charge", "at_stake", "void", "replaces",
        "risks",
    }  # fmt: skip
    assert (line["code"], line["charge"], line["at_stake"], line["risks"]) == (
        "90834", 157.0, 0.0, [],
    )  # fmt: skip
    assert isinstance(document["not_checked"], dict)


def test_bad_input_exits_2_naming_the_file(batch, capsys, tmp_path: Path) -> None:
    bad = tmp_path / "pending.csv"
    bad.write_text("claim_id,line_number\nX1,one\n")
    code, out, err = _check(capsys, str(bad), "--db", str(batch["db"]))
    assert code == 2
    assert out == ""
    assert err.startswith(f"recoup: {bad}:") and "pending.csv" in err
    late = tmp_path / "late.837"  # a date of service after the file's creation date
    late.write_text(
        (batch["pending"] / "claims.837")
        .read_text()
        .replace("DTP*472*D8*20261113", "DTP*472*D8*20271113")
    )
    code, out, err = _check(capsys, str(late), "--db", str(batch["db"]))
    assert (code, out) == (2, "")
    assert err.strip() == (
        f"recoup: 1 of 11 claims in {late} cannot be checked: CLM01 PND0000001 (segment DTP, "
        "line 142, col 1: date of service 2027-11-13 is after the file's creation date (BHT04) "
        "2026-11-15)"
    )
    missing = tmp_path / "nothing.837"
    code, _, err = _check(capsys, str(missing), "--db", str(batch["db"]))
    assert (code, err.strip()) == (2, f"recoup: {missing}: no such file")


def test_check_starts_no_prefect(batch) -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from flows.cli import main\n"
        f"code = main(['check', {str(batch['pending'] / 'clean.837')!r}, '--db', "
        f"{str(batch['db'])!r}, '--sessions', {str(batch['pending'] / 'sessions.csv')!r}])\n"
        "print(code, 'prefect' in sys.modules, 'great_expectations' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.stdout.splitlines()[-1] == "0 False False", done.stderr


def test_a_claims_csv_is_checked_like_an_837(batch, capsys, tmp_path: Path) -> None:
    """The README's claims CSV: a copy of a paid 90837 (duplicate) with no note for it."""
    with open_warehouse(batch["db"], read_only=True) as con:
        member, payer, billing, rendering, pos = con.execute(
            "SELECT member_id, payer_id, billing_npi, rendering_npi, place_of_service "
            "FROM mart.claim_lines WHERE claim_id = 'PCN00000138' AND line_number = 1"
        ).fetchone()
    pending = tmp_path / "pending.csv"
    pending.write_text(
        "claim_id,line_number,member_id,payer_id,billing_npi,rendering_npi,date_of_service,"
        "procedure_code,modifiers,units,charge,place_of_service\n"
        f"CSV0001,1,{member},{payer},{billing},{rendering},2026-09-06,90837,GT,1,227.00,{pos}\n"
    )
    code, out, err = _check(capsys, str(pending), "--db", str(batch["db"]), "--format", "json")
    assert code == 1, err
    (line,) = json.loads(out)["lines"]
    assert [(r["rule"], r["at_stake"], r["problem"]) for r in line["risks"]] == [
        ("documentation.note_missing", 227.0, "no note for this session"),
        ("billing.duplicate", 227.0, "already billed on claim PCN00000138 line 1, paid 2026-09-29"),
    ]


def test_a_void_and_a_replacement_take_the_place_of_the_warehouse_claim(
    batch, capsys, tmp_path: Path
) -> None:
    """A void (8) of the lapsed PCN00000107 is not sent for payment: nothing to check (it used to
    report coverage.lapsed again). A replacement (7) of PCN00000138 correcting its paid 90837 to
    90834 replaces that line: it no longer meets it the same day (coding.multiple_timed_codes)."""
    with open_warehouse(batch["db"], read_only=True) as con:
        assert con.execute(
            "SELECT claim_key, rule, exposure FROM mart.findings WHERE claim_id = 'PCN00000107'"
        ).fetchall() == [("PCN00000107~2026-06-17", "coverage.lapsed", Decimal("96.70"))]
        assert con.execute(
            "SELECT claim_key, code, net_paid FROM mart.paid_lines WHERE claim_id = 'PCN00000138'"
        ).fetchall() == [("PCN00000138~2026-09-06", "90837", Decimal("96.70"))]
    pending = tmp_path / "corrections.csv"
    pending.write_text(
        "claim_id,line_number,member_id,payer_id,billing_npi,rendering_npi,date_of_service,"
        "procedure_code,modifiers,units,charge,place_of_service,frequency_code\n"
        "PCN00000107,1,1EG649045875,MCRDM,1546201173,1002403917,2026-06-17,90837,95,1,227.00,10,8\n"
        "PCN00000138,1,1EG811307342,MCRDM,1546201173,1002403917,2026-09-06,90834,GT,1,95.00,10,7\n"
    )
    code, out, err = _check(capsys, str(pending), "--db", str(batch["db"]))
    assert code == 0, err
    assert out.splitlines()[:3] == [
        "claim PCN00000107 line 1 2026-06-17 90837:95 member 1EG649045875 rendering 1002403917 "
        "charge $227.00",
        "  void: nothing to check (voids claim PCN00000107~2026-06-17)",
        "nothing at risk in 2 lines (2 claims) of corrections.csv: checked against the warehouse "
        "as of 2026-11-15",
    ]
    code, out, err = _check(capsys, str(pending), "--db", str(batch["db"]), "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["totals"] == {"claims": 2, "lines": 2, "lines_at_risk": 0, "at_stake": 0.0}
    assert [
        (ln["claim_id"], ln["code"], ln["void"], ln["replaces"], ln["at_stake"], ln["risks"])
        for ln in document["lines"]
    ] == [
        ("PCN00000107", "90837", True, "PCN00000107~2026-06-17", 0.0, []),
        ("PCN00000138", "90834", False, "PCN00000138~2026-09-06", 0.0, []),
    ]
    # the same line sent as an original (frequency 1) is still a second timed code that day
    pending.write_text(pending.read_text().replace("10,7\n", "10,1\n"))
    code, out, err = _check(capsys, str(pending), "--db", str(batch["db"]), "--format", "json")
    assert code == 1, err
    (line,) = [ln for ln in json.loads(out)["lines"] if ln["risks"]]
    assert (line["claim_id"], line["replaces"]) == ("PCN00000138", None)
    assert [(r["rule"], r["at_stake"]) for r in line["risks"]] == [
        ("coding.multiple_timed_codes", 95.0)
    ]


def test_an_unreadable_sessions_file_exits_2_naming_it(batch, tmp_path: Path) -> None:
    """A real permission error (as root, in a child without the capabilities that bypass file
    modes): exit 2 with one line naming the file, never 1 ("at risk")."""
    import subprocess
    import sys

    from tests.loading.test_inbox_paths import without_override

    secret = tmp_path / "sessions.csv"
    secret.write_bytes((batch["pending"] / "sessions.csv").read_bytes())
    secret.chmod(0o000)
    db = batch["db"]
    script = (
        "import sys\n"
        "from flows.cli import main\n"
        f"sys.exit(main(['check', {str(batch['pending'] / 'clean.837')!r}, '--db', {str(db)!r}, "
        f"'--sessions', {str(secret)!r}]))\n"
    )
    done = subprocess.run(
        [*without_override(), sys.executable, "-c", script],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    secret.chmod(0o600)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.splitlines() == [f"recoup: {secret}: cannot be read (Permission denied)"]


def test_a_failure_that_is_no_verdict_exits_2_naming_the_file(
    batch, capsys, tmp_path: Path
) -> None:
    """A warehouse whose marts lack a table the rules read (a DuckDB catalog error inside the
    check): exit 2 with one line naming the pending file and the warehouse, not 1."""
    db = tmp_path / "broken.duckdb"
    db.write_bytes(batch["db"].read_bytes())
    with open_warehouse(db) as con:
        con.execute("DROP TABLE mart.paid_lines")
    pending = batch["pending"] / "clean.837"
    code, out, err = _check(capsys, str(pending), "--db", str(db))
    assert (code, out) == (2, "")
    (line,) = err.splitlines()
    assert line.startswith(
        f"recoup: {pending}: could not be checked against {db}: CatalogException: "
    ), line
    assert "paid_lines" in line


def _before_migration_006(db: Path) -> None:
    """A warehouse as made before migration 006: no provider-name columns in staging."""
    with open_warehouse(db) as con:
        for table, column in (
            ("claims", "billing_provider_name"),
            ("claims", "rendering_provider_name"),
            ("claim_lines", "rendering_provider_name"),
        ):
            con.execute(f"ALTER TABLE stg.{table} DROP COLUMN {column}")


def test_a_warehouse_from_before_migration_006_is_checked_and_reported(
    batch, capsys, tmp_path: Path
) -> None:
    """check inserts only the staging columns both sides have; report reads NULL names (the
    findings otherwise the same). Neither migrates the warehouse (read-only)."""
    new, old = tmp_path / "new" / "recoup.duckdb", tmp_path / "old" / "recoup.duckdb"
    for db in (new, old):
        db.parent.mkdir()
        db.write_bytes(batch["db"].read_bytes())
    _before_migration_006(old)
    before = _digest(old)
    documents = []
    for db in (new, old):
        code, out, err = _check(
            capsys,
            str(batch["pending"] / "claims.837"),
            "--db", str(db),
            "--sessions", str(batch["pending"] / "sessions.csv"),
            "--format", "json",
        )  # fmt: skip
        assert code == 1, err
        documents.append(json.loads(out))
    assert documents[1] == documents[0]
    assert documents[1]["totals"] == {
        "claims": 11, "lines": 11, "lines_at_risk": 8, "at_stake": 1136.70,
    }  # fmt: skip
    assert _digest(old) == before
    findings = []
    for db in (new, old):
        reports = tmp_path / f"reports-{len(findings)}"
        code = main(["report", "--db", str(db), "--reports", str(reports), "--format", "csv"])
        err = capsys.readouterr().err
        assert code == 0, err
        with (reports / "2026-11-15" / "findings.csv").open() as handle:
            findings.append(list(csv.DictReader(handle)))
    current, upgraded_never = findings
    assert len(current) == len(upgraded_never) > 0
    assert {row["provider_name"] for row in current} - {""}  # names from NM1*82 / NM1*85
    assert {row["provider_name"] for row in upgraded_never} == {""}
    for row in (*current, *upgraded_never):
        del row["provider_name"]
    assert upgraded_never == current
    with open_warehouse(old, read_only=True) as con:
        assert con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'stg' "
            "AND column_name LIKE '%provider_name'"
        ).fetchone() == (0,)


def test_the_readme_json_schema_types_every_line_field_as_the_code_does() -> None:
    """The README's schema lists every key of a JSON line, and a field the code may leave empty
    (typed ``X | None`` on ``PendingLine``) is documented ``str|null``."""
    import re
    from dataclasses import fields
    from typing import get_type_hints

    from expectations.precheck import PendingLine

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("`--format json` (for EHR and clearinghouse integrations)", 1)[1]
    block = block.split("```", 2)[1]
    lines_object = block.split('"lines": [{', 1)[1].split('"risks":', 1)[0]
    documented = dict(re.findall(r'"(\w+)": ([^,\n]+?)(?:,|\s*$)', lines_object, re.M))
    assert list(documented) == [
        "claim_id", "line_number", "date_of_service", "code", "modifiers", "member_id",
        "payer_id", "rendering_npi", "billing_npi", "charge", "at_stake", "void", "replaces",
    ]  # fmt: skip
    hints = get_type_hints(PendingLine)
    nullable = {
        f.name for f in fields(PendingLine) if type(None) in getattr(hints[f.name], "__args__", ())
    }
    assert {name for name, kind in documented.items() if kind.endswith("|null")} == nullable
    assert nullable == {"member_id", "payer_id", "rendering_npi", "billing_npi", "replaces"}


def test_a_replacement_continues_the_claim_of_its_dates_among_a_reused_clm01(
    batch, capsys, tmp_path: Path
) -> None:
    """ACCT0000018 (a reused account number) names 11 warehouse claims; a replacement of the
    2026-05-10 session continues that one (dates overlap), not the latest (2026-06-07). Sent as
    an original the same line is a duplicate of it."""
    with open_warehouse(batch["db"], read_only=True) as con:
        keys = con.execute(
            "SELECT claim_key FROM mart.claims WHERE claim_id = 'ACCT0000018' ORDER BY claim_key"
        ).fetchall()
    assert (len(keys), keys[-1][0]) == (11, "ACCT0000018~2026-06-07")
    pending = tmp_path / "replacement.csv"
    header = (
        "claim_id,line_number,member_id,payer_id,billing_npi,rendering_npi,date_of_service,"
        "procedure_code,modifiers,units,charge,place_of_service,frequency_code\n"
    )
    line = "ACCT0000018,1,BSX973568809,BSTAR,1277450304,1012987149,2026-05-10,90834,,1,157.00,11"
    found = {}
    for frequency in ("7", "1"):
        pending.write_text(f"{header}{line},{frequency}\n")
        code, out, err = _check(capsys, str(pending), "--db", str(batch["db"]), "--format", "json")
        assert err == ""
        ((only,),) = [json.loads(out)["lines"]]
        found[frequency] = (
            code,
            only["replaces"],
            [(r["rule"], r["at_stake"]) for r in only["risks"]],
        )
    assert found == {
        "7": (0, "ACCT0000018~2026-05-10", []),
        "1": (1, None, [("billing.duplicate", 157.0)]),
    }
