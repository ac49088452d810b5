"""Health data stays with its owner (issue 9, item 5 and "Owner-only data").

Two ``recoup run``s of the 20-claim bad-input demo inbox (plus a CSV sent without its header,
whose first row is a member's id, name and birth date), each into a warehouse and a reports
folder that recoup creates:

* the default: everything recoup creates (warehouse, landing/, quarantine/ and the reasons,
  the report folder, reports/gx/ validation results) is 600 (files) / 700 (folders);
  with ``RECOUP_UMASK=022``: 644 / 755; an invalid value stops before anything runs (exit 2);
* the header-less CSV is rejected with a reason that quotes none of its values, on standard
  output, in the ledger and in its ``.reason.txt``;
* ``--deidentify``: the report folder holds ``M-`` + 16 hex of HMAC-SHA256(key, member id) and no
  member id anywhere (findings.csv/.parquet, the evidence JSON, exposure.json, index.html), the
  same pseudonyms on both runs (same key), the real ids in the warehouse; without the key:
  exit 2 with the message, before anything runs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from tests.badinput import build as b
from tests.badinput.harness import AS_OF, demo_inbox
from tests.conftest import PATIENT
from warehouse.connection import open_warehouse

ROOT = Path(__file__).resolve().parents[2]
KEY = "test-only key: not a secret"
UNVERIFIED = "MBRPRIV1"
HEADERLESS_VALUES = ("MBR90211", "Jane Q Patient", "1961-04-12")
HEADERLESS_REASON = (
    "noheader.csv: not an X12 interchange: no ISA segment at its start, and not a eligibility "
    "CSV either: its first line names none of the eligibility columns (a file without its "
    "header?)"
)


def recoup(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENT,
        check=False,
    )


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("RECOUP_UMASK", "RECOUP_DEIDENTIFY_KEY")
    }
    return {**env, "PREFECT_HOME": str(home), **extra}


@dataclass
class Run:
    work: Path  # holds the warehouse, landing/ and quarantine/
    reports: Path
    result: subprocess.CompletedProcess
    home: Path  # the run's PREFECT_HOME (its database keeps flow-run parameters and logs)

    @property
    def folder(self) -> Path:
        return self.reports / str(AS_OF)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inbox = demo_inbox(tmp_path_factory.mktemp("private") / "inbox")
    row = ",".join(HEADERLESS_VALUES) + ",ACMEH,2025-12-15,active\n"
    (inbox / "eligibility" / "noheader.csv").write_text(row)
    # a paid claim of a member with no eligibility check: coverage.unverified names the member
    # in its evidence
    claim = f"PRIV1,1,{UNVERIFIED},{b.PAYER},{b.BILLING_NPI},,2025-12-02,90834,,1,150.00,11"
    (inbox / "claims" / "unverified.csv").write_bytes(b.csv(b.CLAIMS_HEADER, claim))
    payment = f"TPRIV1,2025-12-20,{b.PAYER},PRIV1,1,90834,2025-12-02,100.00"
    (inbox / "remittances" / "unverified.csv").write_bytes(b.csv(b.REMITTANCES_HEADER, payment))
    return inbox


def _run(root: Path, inbox: Path, **extra: str) -> Run:
    work, reports = root / "work", root / "reports"
    result = recoup(
        "run", "--inbox", str(inbox), "--db", str(work / "recoup.duckdb"), "--reports",
        str(reports), "--as-of", str(AS_OF), "--deidentify",
        env=environment(root / "prefect-home", RECOUP_DEIDENTIFY_KEY=KEY, **extra),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return Run(work, reports, result, root / "prefect-home")


@pytest.fixture(scope="module")
def owner_only(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(tmp_path_factory.mktemp("owner"), inbox)


@pytest.fixture(scope="module")
def shared(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(tmp_path_factory.mktemp("shared"), inbox, RECOUP_UMASK="022")


def modes(*roots: Path) -> dict[str, int]:
    """Permission bits of each root and of everything under it."""
    found = {}
    for root in roots:
        for path in [root, *root.rglob("*")]:
            found[str(path)] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _made_by_recoup(run: Run) -> dict[str, int]:
    found = modes(run.work, run.reports)
    for expected in ("recoup.duckdb", "landing", "quarantine"):
        assert str(run.work / expected) in found
    assert any("/gx/" in path for path in found)  # GX validation results
    assert any(path.endswith(".reason.txt") for path in found)
    return found


def test_everything_recoup_creates_is_owner_only_by_default(owner_only: Run) -> None:
    found = _made_by_recoup(owner_only)
    wrong = {
        path: oct(mode)
        for path, mode in found.items()
        if mode != (0o700 if Path(path).is_dir() else 0o600)
    }
    assert wrong == {}


def test_recoup_umask_022_gives_the_usual_modes(shared: Run) -> None:
    """Everything follows the umask except the run logs (flows/runlog.py), which stay 600/700
    whatever it says: a traceback can quote a value of the data."""
    found = _made_by_recoup(shared)
    logs = shared.work / "logs"

    def expected(path: Path) -> int:
        if path == logs or logs in path.parents:
            return 0o700 if path.is_dir() else 0o600
        return 0o755 if path.is_dir() else 0o644

    assert str(logs) in found and any(path.endswith(".log") for path in found)
    wrong = {path: oct(mode) for path, mode in found.items() if mode != expected(Path(path))}
    assert wrong == {}


def test_an_invalid_umask_stops_before_anything_runs(inbox: Path, tmp_path: Path) -> None:
    result = recoup(
        "run", "--inbox", str(inbox), "--db", str(tmp_path / "recoup.duckdb"),
        env=environment(tmp_path / "home", RECOUP_UMASK="rw-r--r--"),
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "recoup: RECOUP_UMASK='rw-r--r--' is not an octal umask such as 077 (owner only) or 022\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_headerless_csv_is_rejected_without_its_values(owner_only: Run) -> None:
    out = owner_only.result.stdout + owner_only.result.stderr
    assert f"  rejected eligibility/noheader.csv: {HEADERLESS_REASON}\n" in out
    [reason_file] = (owner_only.work / "quarantine").glob("*__noheader.csv.reason.txt")
    assert reason_file.read_text() == HEADERLESS_REASON + "\n"
    with open_warehouse(owner_only.work / "recoup.duckdb", read_only=True) as con:
        [(error,)] = con.execute(
            "SELECT error FROM ledger.files WHERE file_name = 'noheader.csv'"
        ).fetchall()
    assert error == HEADERLESS_REASON
    for value in HEADERLESS_VALUES:
        assert value not in out


def _pseudonym(member_id: str) -> str:
    return "M-" + hmac.new(KEY.encode(), member_id.encode(), hashlib.sha256).hexdigest()[:16]


def test_deidentified_findings_carry_the_keyed_pseudonym(owner_only: Run) -> None:
    with open_warehouse(owner_only.work / "recoup.duckdb", read_only=True) as con:
        members = dict(
            con.execute("SELECT DISTINCT claim_key, member_id FROM mart.claim_lines").fetchall()
        )  # the warehouse keeps the real ids
    findings = pl.read_parquet(owner_only.folder / "findings.parquet")
    assert findings.height > 0
    for claim_key, member_id in zip(findings["claim_key"], findings["member_id"], strict=True):
        assert member_id == _pseudonym(members[claim_key])
    csv_members = pl.read_csv(owner_only.folder / "findings.csv", infer_schema=False)["member_id"]
    assert csv_members.to_list() == findings["member_id"].to_list()
    # the coverage rules name the member in their evidence: the pseudonym there too
    unverified = findings.filter(pl.col("rule") == "coverage.unverified")
    assert unverified["claim_id"].to_list() == ["PRIV1"]
    [evidence] = unverified["evidence"].to_list()
    assert f'"member_id":"{_pseudonym(UNVERIFIED)}"' in evidence
    assert UNVERIFIED not in evidence


def test_no_member_id_in_any_file_of_the_report_folder(owner_only: Run) -> None:
    with open_warehouse(owner_only.work / "recoup.duckdb", read_only=True) as con:
        member_ids = {
            m for (m,) in con.execute("SELECT DISTINCT member_id FROM stg.claims").fetchall()
        }
    assert len(member_ids) == 4 and UNVERIFIED in member_ids  # the demo's 3 members and ours
    files = [path for path in owner_only.folder.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {
        "exposure.json", "findings.csv", "findings.parquet", "index.html"
    }  # fmt: skip
    for path in files:
        data = path.read_bytes()
        assert [m for m in member_ids if m.encode() in data] == [], path.name


def test_the_same_key_gives_the_same_pseudonyms(owner_only: Run, shared: Run) -> None:
    first = pl.read_parquet(owner_only.folder / "findings.parquet")["member_id"].to_list()
    second = pl.read_parquet(shared.folder / "findings.parquet")["member_id"].to_list()
    assert first == second
    assert all(member.startswith("M-") and len(member) == 18 for member in first)


@pytest.mark.parametrize("command", ["run", "report", "backfill"])
@pytest.mark.parametrize("key", [None, ""])
def test_deidentify_without_a_key_stops_before_anything_runs(
    command: str, key: str | None, tmp_path: Path
) -> None:
    extra = {"RECOUP_DEIDENTIFY_KEY": key} if key is not None else {}
    args = {
        "run": ["--inbox", str(tmp_path / "inbox")],
        "report": [],
        "backfill": ["--start", "2025-01-01", "--end", "2025-12-31", "--no-ingest"],
    }[command]
    result = recoup(
        command, *args, "--db", str(tmp_path / "recoup.duckdb"), "--deidentify",
        env=environment(tmp_path / "home", **extra),
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "recoup: --deidentify needs a key: set RECOUP_DEIDENTIFY_KEY in the environment (keep "
        "it outside the repository; changing it changes every pseudonym)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_key_is_never_written_anywhere(owner_only: Run) -> None:
    assert KEY not in owner_only.result.stdout + owner_only.result.stderr
    files = [
        path
        for root in (owner_only.work, owner_only.reports, owner_only.home)
        for path in root.rglob("*")
        if path.is_file()
    ]
    assert any(path.suffix == ".db" for path in files)  # Prefect's database was searched too
    assert [path for path in files if KEY.encode() in path.read_bytes()] == []


def test_an_invalid_memory_limit_stops_before_anything_runs(inbox: Path, tmp_path: Path) -> None:
    result = recoup(
        "run", "--inbox", str(inbox), "--db", str(tmp_path / "recoup.duckdb"),
        env=environment(tmp_path / "home", RECOUP_MEMORY_LIMIT="half"),
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "recoup: RECOUP_MEMORY_LIMIT='half' is not a memory size of at least 64 MiB "
        "such as 4GB, 512MiB or 6 GiB\n"
    )
    assert list(tmp_path.iterdir()) == []
