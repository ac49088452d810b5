"""The bad-input corpus (issue 9): each bad file beside a clean demo inbox is rejected (or its
bad part is) with its exact message, and nothing else changes: the staging row counts and
exposure.json equal the clean run's, plus exactly what the file's good parts add.

The clean inbox is the demo for a fixed seed (20 claims, about 40 files), loaded once per session
in-process through ``ingest_inbox``, the marts, the rules and the report summary (no Prefect).
Each case runs a copy of the inbox with its one file into a copy of that warehouse (the clean
files are skipped by their hash, as in any later run; under a second a case); a case that
replaces a clean file (the same feed sent with a BOM, CRLF...) runs into a fresh warehouse. And
every rejected file of the corpus goes in at once beside the clean inbox into a fresh warehouse
(``test_every_rejected_file_at_once``): the same counts and exposure.json as the clean run.
``test_cli.py`` beside this drives cases through ``recoup run``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.badinput.cases import CASES, Case
from tests.badinput.harness import Run, copy_inbox, copy_warehouse, expected_summary, load, place


def test_the_corpus_is_large_and_covers_every_feed() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)
    folders = {case.path.split("/")[0] for case in CASES}
    assert {"claims", "eligibility", "remittances", "sessions", "reference"} <= folders
    names = " ".join(case.path for case in CASES)
    for kind in (".837", ".271", ".835", ".csv", ".parquet"):
        assert kind in names


def test_the_clean_inbox_loads_whole(clean: Run) -> None:
    assert {o.status for o in clean.report.outcomes} == {"loaded"}
    assert clean.report.ignored == []
    assert clean.counts["stg.claims"] == 20


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(
    case: Case, clean_inbox: Path, clean_work: Path, clean: Run, tmp_path: Path
) -> None:
    inbox = copy_inbox(clean_inbox, tmp_path / "inbox")
    target = place(case, inbox, clean_inbox)
    work = tmp_path / "work"
    run = load(inbox, work if case.replaces else copy_warehouse(clean_work, work))

    outcomes = [o for o in run.report.outcomes if o.path == target]
    if case.status == "ignored":
        assert outcomes == []
        assert run.report.ignored == [case.message]
    else:
        [outcome] = outcomes
        assert outcome.status == case.status
        if case.status == "rejected":
            assert outcome.reason == case.message
            assert (target.name, "rejected", case.message) in run.ledger
            copies = list((run.store / "quarantine").glob(f"*__{target.name}"))
            assert [c.read_bytes() for c in copies] == [target.read_bytes()]
            reason = copies[0].with_name(copies[0].name + ".reason.txt").read_text()
            assert reason == case.message + "\n"
            assert not (run.store / "landing").exists() or not list(
                (run.store / "landing").rglob(f"{outcome.file_sha256}*")
            )
        else:
            assert (outcome.partly_rejected() or "") == case.message
            assert outcome.parts.warnings == []
    # every other file is as in the clean run (loaded there: skipped here as known), and
    # nothing else changed
    others = [o for o in run.report.outcomes if o.path != target]
    assert {o.status for o in others} == {"loaded" if case.replaces else "skipped"}
    assert len(others) == len(clean.report.outcomes) - case.replaces
    expected_counts = {
        table: clean.counts[table] + case.rows.get(table, 0) for table in clean.counts
    }
    assert run.counts == expected_counts
    assert run.summary == expected_summary(clean.summary, case.summary_deltas())


def test_every_rejected_file_at_once(clean_inbox: Path, clean: Run, tmp_path: Path) -> None:
    """All rejected files of the corpus beside the clean inbox, in one run into a fresh
    warehouse: each rejected with its message, every clean file loaded, and the warehouse and
    exposure.json exactly as the clean run left them."""
    inbox = copy_inbox(clean_inbox, tmp_path / "inbox")
    contents: set[bytes] = set()
    bad = {}
    for case in CASES:
        content = case.content(clean_inbox)
        if case.status == "rejected" and content not in contents:  # a copy would be skipped
            contents.add(content)
            bad[place(case, inbox, clean_inbox)] = case
    assert len(bad) >= 40
    run = load(inbox, tmp_path / "work")
    statuses = {o.path: (o.status, o.reason) for o in run.report.outcomes}
    assert {path: statuses[path] for path in bad} == {
        path: ("rejected", case.message) for path, case in bad.items()
    }
    assert {s for path, (s, _) in statuses.items() if path not in bad} == {"loaded"}
    assert run.counts == clean.counts
    assert run.summary == clean.summary


def test_the_pre_dated_note_case_is_the_issues(clean: Run) -> None:
    """Issue 9, 9a: the clean run has the time_missing finding the pre-dated note used to
    remove; the case above proves exposure.json (this finding and its $96.70 included) stays."""
    assert clean.summary["by_rule"]["documentation.time_missing"] == {
        "lines": 1,
        "exposure": 96.7,
    }
