"""Rebuild only the claims that changed (issue 10 item 1: a nightly that costs what changed).

The claim models (``CLAIM_MODELS``) hold rows that depend only on the staged rows of one CLM01
(CLP01 for an 835 claim, the PLB reference for a takeback, the claim id of a session) and on
which 835s are known at the as-of date. ``build_models(..., incremental=True)`` therefore:

1. reads ``mart.build_basis``, written by every build in the same transaction as the marts: the
   as-of date, a digest of the code that makes the marts (``marts/``, the migrations), the
   staged files the build read and a digest of their ledger rows;
2. takes the *dirty* CLM01s: those named by a staged row of a file the basis does not hold
   (claims, claim lines, 835 claims, PLB adjustments, sessions), and those of 835s whose
   payment date lies between the two as-of dates (known on one date and not the other);
3. deletes the claim models' rows of the dirty CLM01s and inserts them anew from the same SQL
   filtered to them; the other models (eligibility, coverage, fee schedules, policies) are
   cheap and rebuilt whole.

Anything the basis cannot vouch for builds everything: no basis (a warehouse built before this
release), other code or migrations, a staged file gone, a ledger row changed, marts built since
by anything else, or more than ``MAX_DIRTY_SHARE`` of the claims dirty (a whole build is then as
fast). The result equals a whole build row for row (tests/marts/test_incremental_marts.py and
tests/flows/test_incremental.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

MARTS_DIR = Path(__file__).parent
MIGRATIONS_DIR = MARTS_DIR.parent / "warehouse" / "migrations"
BASIS_TABLE = "mart.build_basis"
BASIS_FILES = "mart.build_basis_files"
# model -> the column naming its CLM01
CLAIM_MODELS: dict[str, str] = {
    "mart_claims": "claim_id",
    "mart_claim_lines": "claim_id",
    "mart_line_payment_events": "claim_id",
    "mart_line_payments": "claim_id",
    "mart_unmatched_remittances": "claim_id",
    "mart_paid_lines": "claim_id",
    "mart_realized_recoupments": "claim_reference",
    "mart_sessions_by_line": "claim_id",
}
# staged tables with a file_sha256 column: which files a build read
STAGED_TABLES = (
    "stg.claims",
    "stg.claim_lines",
    "stg.remit_payments",
    "stg.remit_claims",
    "stg.remit_lines",
    "stg.remit_adjustments",
    "stg.remit_provider_adjustments",
    "stg.remit_remarks",
    "stg.eligibility_responses",
    "stg.eligibility_benefits",
    "stg.sessions",
)
MAX_DIRTY_SHARE = 0.3
# a CLM01 is compared as coalesce(CLM01, chr(0)), so a NULL CLM01 is a CLM01 like any other
NULL_CLAIM = "chr(0)"


def code_digest() -> str:
    """What makes the marts: their SQL and Python, the warehouse's migrations, and the DuckDB
    release that runs them (another engine may order ties or round differently)."""
    digest = hashlib.sha256(f"duckdb {duckdb.__version__}\x00".encode())
    root = MARTS_DIR.parent
    files = sorted(
        [*MARTS_DIR.rglob("*.sql"), *MARTS_DIR.rglob("*.py"), *MIGRATIONS_DIR.glob("*.sql")]
    )
    for path in files:
        name = path.relative_to(root).as_posix()
        digest.update(name.encode() + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def _staged_files_sql() -> str:
    return " UNION ".join(f"SELECT DISTINCT file_sha256 FROM {t}" for t in STAGED_TABLES)


def _ledger_digest(con: duckdb.DuckDBPyConnection, files_table: str) -> str:
    """The ledger rows (every column) of the files in ``files_table``: a file's arrival decides
    which submission of a claim is current."""
    row = con.execute(
        f"SELECT count(*), coalesce(sum(hash(f)::HUGEINT), 0), coalesce(bit_xor(hash(f)), 0) "
        f"FROM ledger.files AS f SEMI JOIN {files_table} AS b ON b.file_sha256 = f.file_sha256"
    ).fetchone()
    return repr(row)


def _staged_rows(con: duckdb.DuckDBPyConnection, less_new_files: bool) -> str:
    """Rows per staged table (less those of ``temp.new_files``): a staged row of a kept file
    deleted or added since the basis changes them."""
    counts = []
    for table in STAGED_TABLES:
        sql = f"SELECT count(*) FROM {table}"
        if less_new_files:
            sql += " WHERE file_sha256 NOT IN (SELECT file_sha256 FROM temp.new_files)"
        row = con.execute(sql).fetchone()
        counts.append(f"{table}={int(row[0]) if row else 0}")
    return ",".join(counts)


@dataclass
class Basis:
    as_of: date
    code: str
    ledger: str
    staged_rows: str
    built_at: datetime


def read_basis(con: duckdb.DuckDBPyConnection) -> Basis | None:
    if not (_exists(con, BASIS_TABLE) and _exists(con, BASIS_FILES)):
        return None
    try:
        row = con.execute(
            f"SELECT as_of, code, ledger, staged_rows, built_at FROM {BASIS_TABLE}"
        ).fetchone()
    except duckdb.BinderException:  # a basis of an earlier layout: build whole
        return None
    return Basis(*row) if row else None


def write_basis(con: duckdb.DuckDBPyConnection, as_of: date, code: str) -> None:
    """Record what this build read (inside the build's transaction)."""
    con.execute(f"CREATE OR REPLACE TABLE {BASIS_FILES} AS {_staged_files_sql()}")
    built = con.execute("SELECT built_at FROM mart.build_info").fetchone()
    con.execute(
        f"CREATE OR REPLACE TABLE {BASIS_TABLE} AS SELECT ? AS as_of, ? AS code, ? AS ledger, "
        "? AS staged_rows, CAST(? AS TIMESTAMP) AS built_at",
        [
            as_of,
            code,
            _ledger_digest(con, BASIS_FILES),
            _staged_rows(con, less_new_files=False),
            built[0] if built else None,
        ],
    )


def _built_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    if not _exists(con, "mart.build_info"):
        return None
    row = con.execute("SELECT built_at FROM mart.build_info").fetchone()
    return row[0] if row else None


def dirty_claims(con: duckdb.DuckDBPyConnection, as_of: date, code: str) -> tuple[int, int] | None:
    """Fill ``temp.dirty_claims`` with the CLM01s to rebuild for ``as_of`` and return how many
    of how many CLM01s, or None when only a whole build is safe (the module docstring)."""
    basis = read_basis(con)
    if basis is None or basis.code != code or basis.built_at != _built_at(con):
        return None
    if not all(_exists(con, "mart." + m.removeprefix("mart_")) for m in CLAIM_MODELS):
        return None
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE new_files AS SELECT file_sha256 FROM "
        f"({_staged_files_sql()}) EXCEPT SELECT file_sha256 FROM {BASIS_FILES}"
    )
    gone = con.execute(
        f"SELECT count(*) FROM (SELECT file_sha256 FROM {BASIS_FILES} "
        f"EXCEPT SELECT file_sha256 FROM ({_staged_files_sql()}))"
    ).fetchone()
    if (gone and gone[0]) or _ledger_digest(con, BASIS_FILES) != basis.ledger:
        return None
    if _staged_rows(con, less_new_files=True) != basis.staged_rows:
        return None
    low, high = min(basis.as_of, as_of), max(basis.as_of, as_of)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE dirty_claims AS
        WITH flipped AS (  -- 835s known on one of the two as-of dates and not on the other
            SELECT file_sha256, payment_id FROM stg.remit_payments
            WHERE payment_date > $low AND payment_date <= $high
        )
        SELECT DISTINCT coalesce(claim_id, chr(0)) AS claim_id FROM (
            SELECT claim_id FROM stg.claims SEMI JOIN new_files USING (file_sha256)
            UNION ALL
            SELECT claim_id FROM stg.claim_lines SEMI JOIN new_files USING (file_sha256)
            UNION ALL
            SELECT claim_id FROM stg.sessions SEMI JOIN new_files USING (file_sha256)
            UNION ALL
            SELECT claim_id FROM stg.remit_claims SEMI JOIN new_files USING (file_sha256)
            UNION ALL
            SELECT reference_id FROM stg.remit_provider_adjustments
            SEMI JOIN new_files USING (file_sha256)
            UNION ALL
            SELECT claim_id FROM stg.remit_claims SEMI JOIN flipped USING (file_sha256, payment_id)
            UNION ALL
            SELECT reference_id FROM stg.remit_provider_adjustments
            SEMI JOIN flipped USING (file_sha256, payment_id)
        )
        """,
        {"low": low, "high": high},
    )
    counts = con.execute(
        "SELECT (SELECT count(*) FROM temp.dirty_claims), "
        "(SELECT count(DISTINCT claim_id) FROM stg.claims)"
    ).fetchone()
    dirty, claims = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    if claims and dirty > MAX_DIRTY_SHARE * claims:
        return None
    return dirty, claims


def in_dirty(column: str) -> str:
    """The SQL condition: ``column`` names a dirty CLM01."""
    return f"coalesce({column}, {NULL_CLAIM}) IN (SELECT claim_id FROM temp.dirty_claims)"
