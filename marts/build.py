"""The mart layer: models rebuilt from staging on every run, for one as-of date.

Each model is one file in ``marts/sql`` (``mart_<table>.sql``) holding one
``CREATE OR REPLACE TABLE mart.<table>`` statement. ``build_models`` runs them in dependency order
inside one transaction, so readers see either the previous build or the new one, never a mix.

``sql/macros.sql`` (scalar macros the rules share, such as ``mart.downcode_exposure``) runs first
in the same transaction.

SQL files take parameters as ``{{ name }}`` placeholders, filled by ``marts.templating``.

The models that pair claims with their submissions and remittances (``SLICED``) are built in
slices of CLM01 hashes when the warehouse is large (``slice_count``): every row they produce
depends only on the claims, lines and 835 claims of one CLM01 (CLP01 = CLM01), so the union of
the slices is the whole model, and each slice's joins and windows fit in memory instead of
spilling (docs/decisions.md "Marts in slices").
"""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import duckdb

from marts.incremental import CLAIM_MODELS, code_digest, dirty_claims, in_dirty, write_basis
from marts.templating import render_sql

MODELS_DIR = Path(__file__).parent / "sql"

# Dependency order: each model reads only staging, ref and the models above it.
MODELS: tuple[str, ...] = (
    "mart_claims",
    "mart_claim_lines",
    "mart_line_payment_events",
    "mart_line_payments",
    "mart_unmatched_remittances",
    "mart_paid_lines",
    "mart_realized_recoupments",
    "mart_eligibility_checks",
    "mart_coverage_segments",
    "mart_coverage_spans",
    "mart_sessions_by_line",
    "mart_allowed_amounts",
    "mart_payer_policies",
    "mart_build_info",
)

MACROS = "macros.sql"

# Models whose SQL marks its CLM01 columns with ``in_slice(column)`` (marts/incremental.py
# ``CLAIM_MODELS``): built in slices of CLM01 hashes, or for the changed CLM01s only.
SLICED = frozenset(CLAIM_MODELS)
# Staged claim or remittance lines per slice (measured at 10M lines: docs/decisions.md)
ROWS_PER_SLICE = 2_000_000
_CREATE = re.compile(r"^CREATE OR REPLACE TABLE (mart\.\w+) AS\s*$", re.MULTILINE)
_IN_SLICE = re.compile(r"\bin_slice\(([\w.]+)\)")


def model_sql(
    name: str, as_of: date, slices: int = 1, slice_: int = 0, *, dirty: bool = False
) -> str:
    """The rendered SQL of one model. For a sliced model: the rows of slice ``slice_`` of
    ``slices`` (the first slice creates the table, the others insert into it), or with ``dirty``
    the rows of the CLM01s in ``temp.dirty_claims``, inserted into the existing table."""
    template = (MODELS_DIR / f"{name}.sql").read_text()
    if slice_ > 0 or dirty:
        template = _CREATE.sub(r"INSERT INTO \1 BY NAME", template, count=1)
    column = r"\1"  # the marked column, as a backreference of the substitution below
    condition = f"hash({column}) % {slices} = {slice_}" if slices > 1 else "TRUE"
    if dirty:
        condition = f"{in_dirty(column)} AND {condition}"
    return render_sql(_IN_SLICE.sub(f"({condition})", template), {"as_of": as_of})


def slice_count(con: duckdb.DuckDBPyConnection) -> int:
    """How many slices the ``SLICED`` models are built in: one per ``ROWS_PER_SLICE`` staged
    claim lines or remittance lines, whichever are more."""
    row = con.execute(
        "SELECT greatest((SELECT count(*) FROM stg.claim_lines), "
        "(SELECT count(*) FROM stg.remit_lines))"
    ).fetchone()
    return max(1, math.ceil(int(row[0] if row else 0) / ROWS_PER_SLICE))


class BuildResult(dict[str, int]):
    """Rows per mart table (a dict), and how the build went: ``changed`` says which CLM01s an
    incremental build rebuilt, None for a whole build."""

    changed: str | None = None


def build_models(
    con: duckdb.DuckDBPyConnection, as_of: date, *, incremental: bool = False
) -> BuildResult:
    """Rebuild every mart model for ``as_of`` in one transaction; returns rows per table.

    Knowledge is as of ``as_of``: eligibility responses with a check date after it and 835s paid
    after it are left out (claims and sessions are taken as loaded). ``incremental``: rebuild
    the claim models only for the CLM01s whose inputs changed since the last build, when that
    build can vouch for the rest (marts/incremental.py); the result is the same.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        code = code_digest()
        dirty = dirty_claims(con, as_of, code) if incremental else None
        slices = slice_count(con)
        if dirty is not None:  # the dirty claims' share of the slices a whole build takes
            slices = max(1, math.ceil(slices * dirty[0] / max(dirty[1], 1)))
        con.execute((MODELS_DIR / MACROS).read_text())
        for name in MODELS:
            if name in SLICED and dirty is not None:
                table = "mart." + name.removeprefix("mart_")
                con.execute(f"DELETE FROM {table} WHERE {in_dirty(CLAIM_MODELS[name])}")
            if name not in SLICED:
                con.execute(model_sql(name, as_of))
                continue
            for slice_ in range(slices):
                con.execute(model_sql(name, as_of, slices, slice_, dirty=dirty is not None))
        write_basis(con, as_of, code)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    counts = BuildResult()
    counts.changed = None if dirty is None else f"{dirty[0]:,} of {dirty[1]:,} CLM01s changed"
    for name in MODELS:
        table = "mart." + name.removeprefix("mart_")
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def built_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The as-of date the mart was last built for, or None when it was never built."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'mart' AND table_name = 'build_info'"
    ).fetchone()
    if not exists or not exists[0]:
        return None
    row = con.execute("SELECT as_of FROM mart.build_info").fetchone()
    return row[0] if row else None
