"""Fuzz tests (hypothesis): random byte mutations of valid feed files (flip, insert, delete,
duplicate, truncate; bytes drawn mostly from the delimiters, digits and signs that matter) end
in recoup's own verdict, never anything else:

* read level (every feed: 837P, 271, 835, claims/eligibility/remittance/sessions/reference
  CSV, Parquet): the file reads into staging tables that pass the structural gate, with no row
  of a rejected part (an 837P claim's lines without their claim), or it is refused with
  ``X12Error`` / ``FeedError`` (``StructuralError`` is one) whose message is not the readers'
  "please report it" catch-all;
* load level (837P, 271, 835, sessions and remittance CSV through ``ingest_file`` into one
  warehouse): a file is loaded with exactly its counted rows, or rejected with none of its rows
  staged; no "unexpected" reason.

A hang fails the example (the profile's deadline). Counts: ``tests/fuzzing.py``.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.fuzzing  # noqa: F401  (the hypothesis profile)
from loading import ingest, structural
from loading.feeds import FeedError
from loading.x12 import X12Error
from tests.badinput import build as b
from tests.badinput.build import Claim, Line, Payment
from warehouse.connection import open_warehouse

CLAIMS = [
    Claim("FZ001", "FZM1", [Line(), Line("90785", "20.00")]),
    Claim("FZ002", "FZM2", [Line("90837", "180.00", dos="20251130")]),
]
SEEDS: dict[str, tuple[str, bytes]] = {
    "837": ("claims", b.x837(CLAIMS)),
    "837-one-line": ("claims", b.x837(CLAIMS, sep="~")),
    "271": ("eligibility", b.x271(["FZM1", "FZM2"])),
    "835": ("remittances", b.x835([Payment("FZ001"), Payment("FZ002", "120.00", "180.00")])),
    "claims.csv": (
        "claims",
        b.csv(b.CLAIMS_HEADER, b.claims_row(), b.claims_row(charge="99.10").replace(",1,", ",2,")),
    ),
    "eligibility.csv": (
        "eligibility",
        b.csv(
            b.ELIGIBILITY_HEADER,
            "FZM1,ACMEH,2025-12-15,active,2025-01-01,2025-12-31",
            "FZM2,ACMEH,2025-12-15,inactive,,",
        ),
    ),
    "remittances.csv": (
        "remittances",
        b.csv(
            b.REMITTANCES_HEADER,
            "T1,2025-12-20,ACMEH,FZ001,1,90834,2025-12-02,90.00",
            "T1,2025-12-20,ACMEH,FZ002,22,90837,2025-11-30,-120.00",
        ),
    ),
    "sessions.csv": (
        "sessions",
        b.csv(b.SESSIONS_HEADER, "FZ001,,50,2025-12-02T10:00:00,12,9", "FZ002,1,,,,"),
    ),
    "fee_schedule.csv": (
        "reference",
        b.csv("payer_id,code,allowed_amount", "ACMEH,90834,90.00", "*,90837,120.00"),
    ),
    "payers.csv": (
        "reference",
        b.csv("payer_id,name,lookback_months,telehealth_modifier_required", "ACMEH,ACME,18,true"),
    ),
}
KEY = ("claim_id", "claim_seq")
EXTENSION = {"837": ".837", "837-one-line": ".837", "271": ".271", "835": ".835"}


def _parquet_seed() -> bytes:
    frame = pl.read_csv(io.BytesIO(SEEDS["sessions.csv"][1]), infer_schema=False)
    sink = io.BytesIO()
    frame.write_parquet(sink)
    return sink.getvalue()


SEEDS["sessions.parquet"] = ("sessions", _parquet_seed())

# bytes a mutation writes: mostly the ones that carry structure
INTERESTING = st.sampled_from([*b'*~:^\n\r,"-.0123456789 ', 0x00, 0xFF, 0xEF, 0x1C])
BYTES = st.one_of(INTERESTING, st.integers(min_value=0, max_value=255))


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        size = len(data)
        pos = draw(st.integers(min_value=0, max_value=max(size - 1, 0)))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "truncate"]))
        if kind == "flip" and size:
            data[pos] = draw(BYTES)
        elif kind == "insert":
            data[pos:pos] = bytes(draw(st.lists(BYTES, min_size=1, max_size=8)))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(min_value=1, max_value=16))]
        elif kind == "duplicate":
            piece = data[pos : pos + draw(st.integers(min_value=1, max_value=40))]
            data[pos:pos] = piece
        elif kind == "truncate":
            del data[pos:]
    return bytes(data)


def name_of(seed: str) -> str:
    return "fuzz" + EXTENSION.get(seed, "." + seed.rsplit(".", 1)[-1])


def verdict(feed: str, name: str, data: bytes) -> dict | None:
    """The staged tables of a file that reads, or None when recoup refuses it in its own words."""
    sha = hashlib.sha256(data).hexdigest()
    try:
        fmt, tables, parts = ingest.read_file(feed, Path(name), data, sha)
    except (X12Error, FeedError) as exc:
        assert "please report it" not in str(exc), str(exc)
        assert str(exc).startswith(name), str(exc)
        return None
    structural.check_file(name, tables)  # what read_file returns passed the gate
    for table in tables.values():
        assert set(table.column("file_sha256").to_pylist()) <= {sha}
    if fmt == "x12-837p":
        claims, lines = (
            set(zip(*(tables[t].column(c).to_pylist() for c in KEY), strict=True))
            for t in ("stg.claims", "stg.claim_lines")
        )
        assert lines == claims  # every claim has its lines, no line lost its claim
        assert len(claims) + len(parts.rejected) == parts.total
    return tables


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_the_seeds_are_valid(seed: str) -> None:
    feed, data = SEEDS[seed]
    tables = verdict(feed, name_of(seed), data)
    assert tables is not None and any(t.num_rows for t in tables.values())


@pytest.mark.parametrize("seed", sorted(SEEDS))
@given(data=st.data())
def test_a_mutated_file_reads_or_is_refused_in_recoups_words(
    seed: str, data: st.DataObject
) -> None:
    feed, original = SEEDS[seed]
    verdict(feed, name_of(seed), data.draw(mutated(original), label="file"))


class Warehouse:
    """One warehouse for all the examples of a test (hypothesis reruns the function body, so a
    fixture would be shared anyway); each example's file is told apart by its hash."""

    con: duckdb.DuckDBPyConnection | None = None
    root: Path | None = None


@pytest.fixture(scope="module")
def shared_warehouse(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("fuzz")
    with open_warehouse(root / "recoup.duckdb") as con:
        Warehouse.con, Warehouse.root = con, root
        yield
    Warehouse.con = Warehouse.root = None


def staged_rows(con: duckdb.DuckDBPyConnection, sha: str) -> int:
    total = 0
    for (table,) in con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.columns "
        "WHERE table_schema = 'stg' AND column_name = 'file_sha256'"
    ).fetchall():
        row = con.execute(f"SELECT count(*) FROM {table} WHERE file_sha256 = ?", [sha]).fetchone()
        total += row[0] if row else 0
    return total


@pytest.mark.parametrize("seed", ["837", "271", "835", "sessions.csv", "remittances.csv"])
@given(data=st.data())
def test_a_mutated_file_loads_whole_or_leaves_nothing(
    seed: str, data: st.DataObject, shared_warehouse: None
) -> None:
    feed, original = SEEDS[seed]
    con, root = Warehouse.con, Warehouse.root
    assert con is not None and root is not None
    content = data.draw(mutated(original), label="file")
    sha = hashlib.sha256(content).hexdigest()
    folder = root / "inbox" / feed
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (sha[:16] + name_of(seed))
    path.write_bytes(content)
    outcome = ingest.ingest_file(con, feed, path, root / "store", "fuzz")
    if outcome.status == "skipped":  # the same bytes were drawn before
        return
    assert "unexpected" not in (outcome.reason or ""), outcome.reason
    status = con.execute("SELECT status FROM ledger.files WHERE file_sha256 = ?", [sha]).fetchone()
    assert status == (outcome.status,)
    staged = staged_rows(con, sha)
    if outcome.status == "rejected":
        assert staged == 0
    else:
        # (a CSV cut right after its header loads as an empty file: CSV has no trailer to miss)
        assert staged == sum(outcome.rows.values())
