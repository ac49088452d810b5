"""What the inbox scan takes and what it passes over (loading/ingest.py scan_inbox): symlinks are
never followed, other non-files are not read, and what cannot be read is named and fails the run
(exit 1) while everything readable still loads; nothing is recorded for it, so the next run
retries (docs/decisions.md "Inbox paths")."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loading import ingest
from tests.conftest import PATIENT

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = (
    "claim_id,line_number,member_id,payer_id,billing_npi,date_of_service,procedure_code,charge\n"
    "C1,1,M1,P1,1234567893,2025-03-04,90837,180.00\n"
)
MORE_CLAIMS = CLAIMS.replace("C1,1,M1", "C2,1,M2")
SESSIONS = "claim_id,line_number,minutes,note_signed_at,phq9,gad7\nC1,,55,2025-03-05,,\n"


def make_inbox(root: Path) -> Path:
    inbox = root / "inbox"
    (inbox / "claims" / "march").mkdir(parents=True)
    (inbox / "sessions").mkdir()
    (inbox / "claims" / "march" / "batch.csv").write_text(CLAIMS)
    (inbox / "sessions" / "notes.csv").write_text(SESSIONS)
    return inbox


def relative(files: list[tuple[str, Path]], inbox: Path) -> list[str]:
    return [path.relative_to(inbox).as_posix() for _, path in files]


def test_symlinks_to_files_and_folders_are_not_followed(warehouse, tmp_path: Path) -> None:
    inbox = make_inbox(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "more.csv").write_text(MORE_CLAIMS)
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (inbox / "claims" / "passwd.csv").symlink_to(outside / "passwd")
    (inbox / "claims" / "linked").symlink_to(outside, target_is_directory=True)
    (inbox / "claims" / "inside.csv").symlink_to(inbox / "claims" / "march" / "batch.csv")
    (inbox / "claims" / "dangling.csv").symlink_to(tmp_path / "gone.csv")
    (inbox / "remittances").symlink_to(outside, target_is_directory=True)  # a feed folder

    files, ignored = ingest.scan_inbox(inbox)[:2]
    assert relative(files, inbox) == ["claims/march/batch.csv", "sessions/notes.csv"]
    assert ignored == [
        "remittances: symlink: not followed",
        "claims/dangling.csv: symlink: not followed",
        "claims/inside.csv: symlink: not followed",
        "claims/linked: symlink: not followed",
        "claims/passwd.csv: symlink: not followed",
    ]
    store = tmp_path / "store"
    report = ingest.ingest_inbox(warehouse, inbox, store, "run-1")
    assert [(o.path.name, o.status) for o in report.outcomes] == [
        ("batch.csv", "loaded"),
        ("notes.csv", "loaded"),
    ]
    assert report.ignored == ignored and report.unreadable == []
    copied = sorted(p.name for p in store.rglob("*") if p.is_file())
    assert len(copied) == 2 and not any("passwd" in name or "more" in name for name in copied)
    assert not any(b"root:x:0" in p.read_bytes() for p in store.rglob("*") if p.is_file())
    rows = warehouse.execute("SELECT claim_id FROM stg.claims ORDER BY 1").fetchall()
    assert rows == [("C1",)]
    files_in_ledger = warehouse.execute("SELECT file_name FROM ledger.files ORDER BY 1").fetchall()
    assert files_in_ledger == [("batch.csv",), ("notes.csv",)]


def test_a_fifo_is_not_read(warehouse, tmp_path: Path) -> None:
    """A named pipe would block the run forever on read: passed over with the reason."""
    inbox = make_inbox(tmp_path)
    os.mkfifo(inbox / "sessions" / "pipe.csv")
    report = ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    assert [o.path.name for o in report.outcomes] == ["batch.csv", "notes.csv"]
    assert report.ignored == ["sessions/pipe.csv: not a regular file (a named pipe): not read"]
    assert report.unreadable == []


def test_hidden_entries_stay_silently_out(tmp_path: Path) -> None:
    inbox = make_inbox(tmp_path)
    (inbox / "claims" / ".upload.csv.partial").write_text(CLAIMS)
    (inbox / "claims" / ".staging").mkdir()
    (inbox / "claims" / ".staging" / "x.csv").write_text(CLAIMS)
    (inbox / "claims" / ".link").symlink_to(tmp_path)
    assert ingest.scan_inbox(inbox) == (
        [("claims", inbox / "claims/march/batch.csv"), ("sessions", inbox / "sessions/notes.csv")],
        [],
        [],
    )


# ---- unreadable entries: a real permission error ----------------------------------------------
# Root reads everything whatever the mode, so as root the scan runs in a child process without
# the capabilities that bypass file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH).


def without_override() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    return ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--"]


def lock_out(inbox: Path) -> None:
    """An unreadable subfolder (holding a good file) and an unreadable file."""
    locked = inbox / "claims" / "locked"
    locked.mkdir()
    (locked / "april.csv").write_text(MORE_CLAIMS)
    locked.chmod(0o000)
    secret = inbox / "sessions" / "secret.csv"
    secret.write_text(SESSIONS.replace("C1,,55", "C2,,60"))
    secret.chmod(0o000)


@pytest.fixture
def restore_modes(tmp_path: Path):
    yield
    for path in tmp_path.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o700)


SCAN = (
    "import json, sys; from pathlib import Path; from loading.ingest import scan_inbox; "
    "inbox = Path(sys.argv[1]); files, ignored, unreadable = scan_inbox(inbox); "
    "print(json.dumps([[p.relative_to(inbox).as_posix() for _, p in files], ignored, unreadable]))"
)


def test_an_unreadable_folder_or_file_is_named_not_skipped(tmp_path: Path, restore_modes) -> None:
    inbox = make_inbox(tmp_path)
    lock_out(inbox)
    (inbox / "eligibility").mkdir()  # a whole feed folder
    (inbox / "eligibility" / "resp.271").write_text("ISA*00*")
    (inbox / "eligibility").chmod(0o000)
    done = subprocess.run(
        [*without_override(), sys.executable, "-c", SCAN, str(inbox)],
        cwd=ROOT, capture_output=True, text=True, timeout=PATIENT, check=True,
    )  # fmt: skip
    files, ignored, unreadable = json.loads(done.stdout)
    assert files == ["claims/march/batch.csv", "sessions/notes.csv"]
    assert unreadable == [
        "claims/locked/: cannot be read (Permission denied): nothing in it was loaded; the next "
        "run tries again",
        "eligibility/: cannot be read (Permission denied): nothing in it was loaded; the next "
        "run tries again",
        "sessions/secret.csv: cannot be read (Permission denied): not loaded; the next run "
        "tries again",
    ]
    assert ignored == unreadable


def recoup(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run(
        [*without_override(), sys.executable, "-m", "flows.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=PATIENT, check=False,
    )  # fmt: skip


def test_a_run_with_an_unreadable_folder_loads_the_rest_and_exits_1(
    tmp_path: Path, restore_modes
) -> None:
    """The readable files load and the reports are written; the summary names what could not be
    read; the run exits 1 with one line; the ledger has nothing of it, so once it is readable the
    next run loads it."""
    import duckdb

    inbox = make_inbox(tmp_path)
    lock_out(inbox)
    db, reports, home = tmp_path / "recoup.duckdb", tmp_path / "reports", tmp_path / "prefect"
    args = ["run", "--inbox", str(inbox), "--db", str(db), "--reports", str(reports)]
    first = recoup(*args, "--as-of", "2025-06-30", home=home)
    assert first.returncode == 1, first.stderr
    assert first.stderr.strip().splitlines()[-1] == (
        "recoup: 2 inbox entries could not be read (claims/locked/, sessions/secret.csv): what "
        "could be read was loaded and reported; nothing was recorded for them, so the next run "
        "tries them again"
    )
    out = first.stdout.splitlines()
    assert out[0] == (
        "as of 2025-06-30: 2 files loaded, 0 rejected, 0 skipped (already in the ledger)"
    )
    assert out[1:3] == [
        "  ignored claims/locked/: cannot be read (Permission denied): nothing in it was loaded; "
        "the next run tries again",
        "  ignored sessions/secret.csv: cannot be read (Permission denied): not loaded; the next "
        "run tries again",
    ]
    assert (reports / "2025-06-30" / "exposure.json").is_file()

    def ledger() -> list[tuple[str, str]]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute("SELECT file_name, status FROM ledger.files ORDER BY 1").fetchall()
        finally:
            con.close()

    assert ledger() == [("batch.csv", "loaded"), ("notes.csv", "loaded")]
    (inbox / "claims" / "locked").chmod(0o700)
    (inbox / "sessions" / "secret.csv").chmod(0o600)
    second = recoup(*args, "--as-of", "2025-06-30", home=home)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[0] == (
        "as of 2025-06-30: 2 files loaded, 0 rejected, 2 skipped (already in the ledger)"
    )
    assert ledger() == [
        ("april.csv", "loaded"),
        ("batch.csv", "loaded"),
        ("notes.csv", "loaded"),
        ("secret.csv", "loaded"),
    ]


def test_the_one_line_names_a_single_unreadable_entry() -> None:
    from flows.cli import RunIncomplete, _fail_if_unreadable

    note = "claims/batch.837: cannot be read (Permission denied): not loaded; the next run tries"
    _fail_if_unreadable(ingest.IngestReport())  # nothing unreadable: the run stands
    with pytest.raises(RunIncomplete) as failed:
        _fail_if_unreadable(ingest.IngestReport(ignored=[note], unreadable=[note]))
    assert str(failed.value) == (
        "1 inbox entry could not be read (claims/batch.837): what could be read was loaded and "
        "reported; nothing was recorded for it, so the next run tries it again"
    )
