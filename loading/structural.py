"""Structural checks: the expectations that gate loading, defined once as data.

A file whose staging tables fail any of these is rejected whole (nothing of it is loaded, the
ledger keeps the reason); the same definitions run over the whole warehouse through Great
Expectations after loading (``structural_checks()``), so a row that reached staging some other way
is still caught.

Each ``StructuralCheck`` is a name, a description, the staging table it guards and one DuckDB
query over the ``stg.*`` tables returning the failing rows as ``file_sha256, place, "column",
problem``. ``place`` is the row's key (``claim_id/line_number`` for claim lines, ``payment_id``
for payments, ...), so a message reads::

    march.csv: stg.claim_lines row C1/1: rendering_npi '1234567890' fails the NPI check digit ...

The checks (``CHECKS``), per staging table:

* keys unique within a file: claim_id (837 claims), (claim_id, line_number), response_id,
  (response_id, benefit_seq), payment_id, (payment_id, claim_seq), (payment_id, claim_seq,
  line_seq), (payment_id, adjustment_seq), sessions (claim_id, line_number);
* required fields present (``REQUIRED``);
* codes well formed: procedure codes 5 characters [0-9A-Z] (835 lines: when the qualifier is HC),
  modifiers 2 characters [0-9A-Z], places of service 2 digits, NPIs 10 digits with a valid check
  digit (``loading/npi.py``: Luhn over ``80840`` + the NPI, CMS NPI standard) for billing and
  rendering NPIs of claims and payee NPIs of 835s;
* dates in range: every date between 1900-01-01 and 2100-12-31; a line's date of service not
  after its claim's submitted date (837 BHT04) when there is one, nor after its own end date;
  coverage_begin <= coverage_end;
* amounts of claims not negative: total charge, line charge; units above 0;
* a warning (not a gate: it needs the claims, which another file may bring): a session note
  signed before the date of service of the claim line it documents;
* amounts balanced: per 835 payment, BPR02 (negated when BPR03 = D) = sum of CLP04 - sum of PLB
  amounts. The X12 reader already refuses an unbalanced transaction (with its segment); this
  repeats it on the staged rows, where CSV remittances and direct loads are caught too.

``check_file(file_name, tables)`` runs the checks of the tables a file produced, in one in-memory
DuckDB over the registered Arrow tables (no copy; tables the file does not hold are empty), and
raises ``StructuralError`` naming the first failing row (checks in ``CHECKS`` order, then key
order) and how many more there are. ``loading.ingest`` treats it like any ``FeedError``.
Cost, measured: one statement per file (row-level checks of a table share one scan; NPIs are
tested once per distinct value) on a per-thread connection kept between files: about 20 ms for a
small file, 0.3-0.4 s for a 1M-line 837 (500k claims).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa

from loading.feeds import FeedError
from loading.npi import npi_is_valid_sql
from warehouse.gx_runner import ColumnCheck, SqlCheck

FIRST_DATE = "1900-01-01"
LAST_DATE = "2100-12-31"

# The key of a row in each staging table: what a message names, what must be unique per file.
KEYS: dict[str, tuple[str, ...]] = {
    "stg.claims": ("claim_id",),
    "stg.claim_lines": ("claim_id", "line_number"),
    "stg.eligibility_responses": ("response_id",),
    "stg.eligibility_benefits": ("response_id", "benefit_seq"),
    "stg.remit_payments": ("payment_id",),
    "stg.remit_claims": ("payment_id", "claim_seq"),
    "stg.remit_lines": ("payment_id", "claim_seq", "line_seq"),
    "stg.remit_adjustments": ("payment_id", "claim_seq", "line_seq"),
    "stg.remit_provider_adjustments": ("payment_id", "adjustment_seq"),
    "stg.sessions": ("claim_id", "line_number"),
}
UNIQUE_KEYS = tuple(table for table in KEYS if table != "stg.remit_adjustments")  # CAS: no seq
# A CLM01 may repeat in one 837P (practices reuse account numbers): what must be unique there is
# the CLM's position (claim_seq); CSV claims have none and stay unique by claim_id.
UNIQUE_BY: dict[str, tuple[str, ...]] = {
    "stg.claims": ("claim_id", "claim_seq"),
    "stg.claim_lines": ("claim_id", "claim_seq", "line_number"),
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "stg.claims": ("claim_id", "member_id", "payer_id", "billing_npi"),
    "stg.claim_lines": ("claim_id", "line_number", "procedure_code", "date_of_service"),
    "stg.eligibility_responses": ("response_id", "check_date"),
    "stg.eligibility_benefits": ("response_id", "benefit_seq", "eligibility_code"),
    "stg.remit_payments": ("payment_id", "total_paid", "payment_date"),
    "stg.remit_claims": ("payment_id", "claim_seq", "claim_id", "status_code"),
    "stg.remit_lines": ("payment_id", "claim_seq", "line_seq", "procedure_code", "paid_amount"),
    "stg.remit_adjustments": ("payment_id", "claim_seq", "group_code", "reason_code", "amount"),
    "stg.remit_provider_adjustments": ("payment_id", "adjustment_seq", "reason_code", "amount"),
    "stg.sessions": ("claim_id",),
}

NPIS: tuple[tuple[str, str], ...] = (
    ("stg.claims", "billing_npi"),
    ("stg.claims", "rendering_npi"),
    ("stg.claim_lines", "rendering_npi"),
    ("stg.remit_payments", "payee_npi"),
)

DATES: tuple[tuple[str, str], ...] = (
    ("stg.claims", "submitted_date"),
    ("stg.claim_lines", "date_of_service"),
    ("stg.claim_lines", "date_of_service_end"),
    ("stg.eligibility_responses", "check_date"),
    ("stg.eligibility_benefits", "coverage_begin"),
    ("stg.eligibility_benefits", "coverage_end"),
    ("stg.remit_payments", "payment_date"),
    ("stg.remit_payments", "production_date"),
    ("stg.remit_claims", "statement_start"),
    ("stg.remit_claims", "statement_end"),
    ("stg.remit_claims", "received_date"),
    ("stg.remit_lines", "date_of_service"),
    ("stg.remit_lines", "date_of_service_end"),
    ("stg.remit_provider_adjustments", "fiscal_period_date"),
    ("stg.sessions", "note_signed_at"),
)


@dataclass(frozen=True)
class StructuralCheck:
    """One gating check: ``sql`` returns ``file_sha256, place, "column", problem`` per failing row.

    A row-level check (a test of each row on its own) also keeps its parts: ``condition`` (true
    for a failing row of ``table`` aliased ``t``), ``column`` and ``problem`` (a text
    expression), so the file gate can test every row-level check of a table in one scan.
    ``required`` marks the "value present" checks. ``gating`` is false for checks that only
    warn (they run in the warehouse-wide GX suite but never reject a file).
    """

    name: str
    description: str
    table: str
    sql: str
    column: str | None = None
    condition: str | None = None
    problem: str | None = None
    required: bool = False
    gating: bool = True


class StructuralError(FeedError):
    """A file whose staging rows fail a structural check; the file is rejected whole.

    ``str()`` is ``"<file>: <table> row <key>: <column> <problem>"``, followed by
    ``" (and N more problems)"`` when other rows or checks fail too.
    """

    def __init__(
        self,
        file_name: str,
        table: str,
        place: str,
        column: str,
        problem: str,
        *,
        check: str = "",
        more: int = 0,
    ) -> None:
        self.file_name, self.table, self.place, self.column = file_name, table, place, column
        self.problem, self.check, self.more, self.row = problem, check, more, None
        message = f"{file_name}: {table} row {place}: {column} {problem}"
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        Exception.__init__(self, message)

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (Prefect results)
        fields = (self.file_name, self.table, self.place, self.column, self.problem)
        return (_rebuild, (*fields, self.check, self.more))


def _rebuild(
    file_name: str, table: str, place: str, column: str, problem: str, check: str, more: int
) -> StructuralError:
    return StructuralError(file_name, table, place, column, problem, check=check, more=more)


# ---- the query builders ----------------------------------------------------------------------


def _place(table: str, alias: str = "t") -> str:
    parts = [f"coalesce(CAST({alias}.{key} AS VARCHAR), '?')" for key in KEYS[table]]
    return " || '/' || ".join(parts)


def _quoted(expr: str) -> str:
    return f"'''' || CAST({expr} AS VARCHAR) || ''''"


def _row_check(
    name: str,
    description: str,
    table: str,
    column: str,
    condition: str,
    problem: str,
    *,
    required: bool = False,
) -> StructuralCheck:
    sql = (
        f"SELECT t.file_sha256, {_place(table)} AS place, '{column}' AS \"column\", "
        f"{problem} AS problem\nFROM {table} AS t\nWHERE {condition}"
    )
    return StructuralCheck(name, description, table, sql, column, condition, problem, required)


def _unique(table: str) -> StructuralCheck:
    named = KEYS[table]
    label = named[0] if len(named) == 1 else f"({', '.join(named)})"
    listed = ", ".join(UNIQUE_BY.get(table, named))
    return StructuralCheck(
        name=f"{table}: {label} unique per file",
        description=f"Each row of {table} has its own {label} within its file.",
        table=table,
        sql=(
            f"SELECT t.file_sha256, {_place(table)} AS place, '{label}' AS \"column\", "
            f"'is not unique (' || count(*) || ' rows)' AS problem\n"
            f"FROM {table} AS t\nGROUP BY t.file_sha256, {listed}\nHAVING count(*) > 1"
        ),
    )


def _required(table: str, column: str) -> StructuralCheck:
    return _row_check(
        f"{table}: {column} present",
        f"{table}.{column} is required.",
        table,
        column,
        f"t.{column} IS NULL",
        "'is missing'",
        required=True,
    )


def _pattern(
    table: str, column: str, regex: str, what: str, *, when: str | None = None, title: str = ""
) -> StructuralCheck:
    condition = f"t.{column} IS NOT NULL AND NOT regexp_full_match(t.{column}, '{regex}')"
    return _row_check(
        f"{table}: {column} well formed",
        title or f"{table}.{column} is {what}.",
        table,
        column,
        f"{when} AND {condition}" if when else condition,
        f"{_quoted('t.' + column)} || ' is not {what}'",
    )


def _modifiers(table: str) -> StructuralCheck:
    bad = "list_filter(t.modifiers, lambda m: m <> '' AND NOT regexp_full_match(m, '[0-9A-Z]{2}'))"
    return _row_check(
        f"{table}: modifiers well formed",
        f"Every modifier of {table} is 2 characters [0-9A-Z] (empty ones are ignored).",
        table,
        "modifiers",
        f"len({bad}) > 0",
        f"{_quoted(bad + '[1]')} || ' is not a modifier (2 characters 0-9, A-Z)'",
    )


def _npi_form(table: str, column: str) -> StructuralCheck:
    return _pattern(table, column, "[0-9]{10}", "an NPI (10 digits)")


def _npi(table: str, column: str) -> StructuralCheck:
    # Distinct NPIs are few (providers, not lines): test each once, then name the rows using it.
    problem = f"{_quoted('t.' + column)} || ' fails the NPI check digit (Luhn with prefix 80840)'"
    # any_value() keeps DuckDB from pushing the test below the grouping (once per row: 15x).
    sql = (
        f"WITH bad AS (\n    SELECT npi FROM (\n        SELECT any_value({column}) AS npi "
        f"FROM {table} GROUP BY {column}\n    ) WHERE regexp_full_match(npi, '[0-9]{{10}}') "
        f"AND NOT {npi_is_valid_sql('npi')}\n)\n"
        f"SELECT t.file_sha256, {_place(table)} AS place, '{column}' AS \"column\", "
        f"{problem} AS problem\nFROM {table} AS t\nSEMI JOIN bad ON bad.npi = t.{column}"
    )
    return StructuralCheck(
        name=f"{table}: {column} NPI check digit",
        description=(
            f"{table}.{column}'s check digit is right (Luhn over 80840 + the NPI, as CMS defines "
            "it). A warning: it never rejects a file."
        ),
        table=table,
        sql=sql,
        # A warning, not a gate: public X12 (the implementation guides' own examples) carries
        # placeholder NPIs that fail the check digit, and a payer that paid the claim accepted
        # the NPI; rejecting the file would hide paid money from every rule.
        gating=False,
    )


# Payers send 9999-12-31 for "no end date"; it is open-ended, not out of range.
OPEN_END = "9999-12-31"


def _date_range(table: str, column: str) -> StructuralCheck:
    open_end = f" AND t.{column} <> DATE '{OPEN_END}'" if column == "coverage_end" else ""
    return _row_check(
        f"{table}: {column} in range",
        f"{table}.{column} is between {FIRST_DATE} and {LAST_DATE}"
        + (f" (or {OPEN_END}, no end)." if open_end else "."),
        table,
        column,
        f"(t.{column} < DATE '{FIRST_DATE}' OR t.{column} >= DATE '{LAST_DATE}' + 1){open_end}",
        f"CAST(t.{column} AS VARCHAR) || ' is outside {FIRST_DATE}..{LAST_DATE}'",
    )


def _line_after_submission() -> StructuralCheck:
    table = "stg.claim_lines"
    return StructuralCheck(
        name=f"{table}: date_of_service not after submission",
        description="A line's date of service is not after its claim's submitted date (BHT04).",
        table=table,
        sql=(
            f"SELECT t.file_sha256, {_place(table)} AS place, 'date_of_service' AS \"column\", "
            "CAST(t.date_of_service AS VARCHAR) || ' is after the claim''s submitted date (BHT04) '"
            " || CAST(c.submitted_date AS VARCHAR) AS problem\n"
            f"FROM {table} AS t\n"
            "JOIN stg.claims AS c ON c.file_sha256 = t.file_sha256 AND c.claim_id = t.claim_id\n"
            "    AND c.claim_seq IS NOT DISTINCT FROM t.claim_seq\n"
            "WHERE t.date_of_service > c.submitted_date"
        ),
    )


def _ordered(table: str, first: str, last: str, title: str) -> StructuralCheck:
    return _row_check(
        f"{table}: {first} <= {last}",
        title,
        table,
        last,
        f"t.{last} < t.{first}",
        f"CAST(t.{last} AS VARCHAR) || ' is before {first} ' || CAST(t.{first} AS VARCHAR)",
    )


def _balance() -> StructuralCheck:
    table = "stg.remit_payments"
    return StructuralCheck(
        name=f"{table}: total_paid balances",
        description=(
            "835 BPR02 (negative when BPR03 = D) equals the sum of CLP04 minus the sum of PLB "
            "amounts of the payment."
        ),
        table=table,
        sql=(
            "WITH claims AS (\n"
            "    SELECT file_sha256, payment_id, sum(paid_amount) AS clp FROM stg.remit_claims\n"
            "    GROUP BY ALL\n"
            "), plb AS (\n"
            "    SELECT file_sha256, payment_id, sum(amount) AS plb\n"
            "    FROM stg.remit_provider_adjustments GROUP BY ALL\n"
            "), sums AS (\n"
            "    SELECT t.*,\n"
            "        CASE WHEN t.credit_debit = 'D' THEN -t.total_paid ELSE t.total_paid END\n"
            "            AS signed_total,\n"
            "        CAST(coalesce(c.clp, 0) AS DECIMAL(18,2)) AS clp,\n"
            "        CAST(coalesce(p.plb, 0) AS DECIMAL(18,2)) AS plb\n"
            f"    FROM {table} AS t\n"
            "    LEFT JOIN claims AS c USING (file_sha256, payment_id)\n"
            "    LEFT JOIN plb AS p USING (file_sha256, payment_id)\n"
            ")\n"
            f"SELECT t.file_sha256, {_place(table)} AS place, 'total_paid' AS \"column\", "
            "CAST(t.total_paid AS VARCHAR) || ' does not balance: sum of CLP04 ' || "
            "CAST(t.clp AS VARCHAR) || ' minus PLB amounts ' || CAST(t.plb AS VARCHAR) || ' = ' "
            "|| CAST(t.clp - t.plb AS VARCHAR) AS problem\n"
            "FROM sums AS t\nWHERE t.signed_total <> t.clp - t.plb"
        ),
    )


def _not_negative(table: str, column: str, *, strict: bool = False) -> StructuralCheck:
    above = "above 0" if strict else "not negative"
    return _row_check(
        f"{table}: {column} {above}",
        f"{table}.{column} is {above} (a claim bills a charge and units; it never pays back).",
        table,
        column,
        f"t.{column} {'<=' if strict else '<'} 0",
        f"{_quoted('t.' + column)} || ' is {'not above 0' if strict else 'negative'}'",
    )


def _signed_before_service() -> StructuralCheck:
    table = "stg.sessions"
    return StructuralCheck(
        name=f"{table}: note not signed before the date of service",
        description=(
            "A session note is not signed before the date of service of a claim line it "
            "documents (claims with its CLM01). A warning: the rules take such a note as "
            "unsigned (docs/decisions.md, Sessions); it never rejects a file."
        ),
        table=table,
        sql=(
            f"SELECT t.file_sha256, {_place(table)} AS place, 'note_signed_at' AS \"column\", "
            "'signed ' || CAST(CAST(t.note_signed_at AS DATE) AS VARCHAR) || ', before the date "
            "of service ' || CAST(min(l.date_of_service) AS VARCHAR) || ' of claim ' || "
            "t.claim_id || ': taken as unsigned' AS problem\n"
            f"FROM {table} AS t\n"
            "JOIN stg.claim_lines AS l ON l.claim_id = t.claim_id\n"
            "    AND (t.line_number IS NULL OR l.line_number = t.line_number)\n"
            "WHERE CAST(t.note_signed_at AS DATE) < l.date_of_service\n"
            "GROUP BY t.file_sha256, t.claim_id, t.line_number, t.note_signed_at"
        ),
        gating=False,
    )


def _checks() -> list[StructuralCheck]:
    checks = [_unique(table) for table in UNIQUE_KEYS]
    checks += [_required(table, column) for table in REQUIRED for column in REQUIRED[table]]
    procedure = "a procedure code (5 characters 0-9, A-Z)"
    checks += [
        _pattern("stg.claim_lines", "procedure_code", "[0-9A-Z]{5}", procedure),
        _pattern(
            "stg.remit_lines",
            "procedure_code",
            "[0-9A-Z]{5}",
            procedure,
            when="coalesce(t.procedure_qualifier, 'HC') = 'HC'",
            title="stg.remit_lines.procedure_code is a procedure code (5 characters 0-9, A-Z) "
            "when SVC01-1 is HC (CPT/HCPCS).",
        ),
        _modifiers("stg.claim_lines"),
        _modifiers("stg.remit_lines"),
        _pattern("stg.claims", "place_of_service", "[0-9]{2}", "a place of service (2 digits)"),
        _pattern(
            "stg.claim_lines", "place_of_service", "[0-9]{2}", "a place of service (2 digits)"
        ),
    ]
    checks += [_npi_form(table, column) for table, column in NPIS]
    checks += [_npi(table, column) for table, column in NPIS]
    checks += [_date_range(table, column) for table, column in DATES]
    checks += [
        _line_after_submission(),
        _ordered(
            "stg.claim_lines",
            "date_of_service",
            "date_of_service_end",
            "A line's service date range does not end before it starts.",
        ),
        _ordered(
            "stg.eligibility_benefits",
            "coverage_begin",
            "coverage_end",
            "A coverage statement does not end before it begins.",
        ),
        _balance(),
        _not_negative("stg.claims", "total_charge"),
        _not_negative("stg.claim_lines", "charge"),
        _not_negative("stg.claim_lines", "units", strict=True),
        _signed_before_service(),
    ]
    return checks


CHECKS: list[StructuralCheck] = _checks()
GATING: list[StructuralCheck] = [check for check in CHECKS if check.gating]


# ---- the file gate ---------------------------------------------------------------------------


@cache
def _schemas() -> dict[str, pa.Schema]:
    """The Arrow schema of every staging table, from the versioned DDL."""
    from warehouse.connection import migrate

    con = duckdb.connect(":memory:")
    try:
        migrate(con)
        names = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'stg' "
                "ORDER BY 1"
            ).fetchall()
        ]
        return {
            f"stg.{name}": con.sql(f"SELECT * FROM stg.{name}").to_arrow_table().schema
            for name in names
        }
    finally:
        con.close()


def _alias(table: str) -> str:
    return "_file_" + table.removeprefix("stg.")


_local = threading.local()


def _gate_connection() -> duckdb.DuckDBPyConnection:
    """This thread's in-memory DuckDB whose ``stg.*`` views read the registered Arrow tables.

    Kept between files: a connection and its views cost more than checking a small file.
    """
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(":memory:")
        con.execute("CREATE SCHEMA stg")
        for table, schema in _schemas().items():
            con.register(_alias(table), schema.empty_table())
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM {_alias(table)}")
        _local.con = con
    return con


def _conformed(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """``data`` with the warehouse's columns in order; columns it lacks are NULL (as on insert)."""
    present = set(data.column_names)
    columns = [
        data.column(name) if name in present else pa.nulls(data.num_rows, schema.field(name).type)
        for name in schema.names
    ]
    return pa.Table.from_arrays(columns, names=schema.names)


def _gate_sql(selected: Sequence[StructuralCheck], *, by_file: bool = False) -> str:
    """One statement for the checks: row-level checks of a table share one scan of it.

    ``by_file``: the results are per file too (``file_sha256`` first), for a batch of files."""
    parts: list[str] = []
    row_checks: dict[str, list[tuple[int, StructuralCheck]]] = {}
    sha = "file_sha256, " if by_file else ""
    for index, check in enumerate(selected):
        if check.condition is None:
            parts.append(
                f'SELECT {sha}{index} AS check_index, place, "column", problem FROM (\n'
                f"{check.sql}\n)"
            )
        else:
            row_checks.setdefault(check.table, []).append((index, check))
    for table, indexed in row_checks.items():
        failures = ",\n        ".join(
            f"CASE WHEN {check.condition} THEN {{'check_index': {index}, "
            f"'col': '{check.column}', 'problem': {check.problem}}} END"
            for index, check in indexed
        )
        any_failure = "\n    OR ".join(f"({check.condition})" for _, check in indexed)
        parts.append(
            f'SELECT {sha}f.check_index, place, f.col AS "column", f.problem FROM (\n'
            f"    SELECT {'t.file_sha256, ' if by_file else ''}{_place(table)} AS place,\n"
            f"    unnest(list_filter([\n        {failures}\n    ], lambda v: v IS NOT NULL)) AS f\n"
            f"    FROM {table} AS t\n    WHERE {any_failure}\n)"
        )
    union = "\nUNION ALL\n".join(parts)
    return (
        f"SELECT {sha}check_index, count(*) AS failing, "
        "min_by({'place': place, 'column': \"column\", 'problem': problem}, place) AS first\n"
        f"FROM (\n{union}\n)\nGROUP BY {sha}check_index ORDER BY {sha}check_index"
    )


@dataclass(frozen=True)
class Problem:
    """One failing check in a file: its first failing row (in key order) and how many fail."""

    check: StructuralCheck
    place: str
    column: str
    problem: str
    rows: int


def find_problems(
    tables: Mapping[str, pa.Table], checks: Sequence[StructuralCheck] | None = None
) -> list[Problem]:
    """Run the checks that concern ``tables`` (a file's staging tables, by ``stg.*`` name).

    Tables the file does not hold are empty. Returns the failing checks in ``checks`` order.
    """
    schemas = _schemas()
    unknown = sorted(set(tables) - set(schemas))
    if unknown:
        raise ValueError(f"not staging tables: {', '.join(unknown)}")
    present = {name for name, data in tables.items() if data.num_rows > 0}
    selected = [c for c in (CHECKS if checks is None else checks) if c.table in present]
    if not selected:
        return []
    con = _gate_connection()
    try:
        for name in present:
            con.register(_alias(name), _conformed(tables[name], schemas[name]))
        rows = con.execute(_gate_sql(selected)).fetchall()
    finally:  # let go of the file's tables
        for name in present:
            con.register(_alias(name), schemas[name].empty_table())
    return [
        Problem(selected[index], first["place"], first["column"], first["problem"], int(count))
        for index, count, first in rows
    ]


def check_file(file_name: str, tables: Mapping[str, pa.Table]) -> None:
    """Raise ``StructuralError`` when a file's staging tables fail any gating structural check."""
    problems = find_problems(tables, GATING)
    if problems:
        raise _error(file_name, problems)


def check_files(
    files: Sequence[tuple[str, str, Mapping[str, pa.Table]]],
) -> dict[str, StructuralError]:
    """The gate of ``check_file`` over a batch of files in one statement: ``files`` are
    ``(file_sha256, file_name, tables)``; returns the ``StructuralError`` of each failing file
    (by ``file_sha256``), the very error ``check_file`` raises for it alone.

    The checks compare rows of one file only (keys, sums and joins go by ``file_sha256``), so
    one query over the batch's rows is the per-file gate of each. Each file's rows are tagged
    with its own ``file_sha256`` here, whatever its tables say. Tables whose Arrow types differ
    between files (which one concatenation cannot hold) fall back to one query per file.
    """
    schemas = _schemas()
    names = {sha: name for sha, name, _ in files}
    merged: dict[str, list[pa.Table]] = {}
    for sha, _, tables in files:
        unknown = sorted(set(tables) - set(schemas))
        if unknown:
            raise ValueError(f"not staging tables: {', '.join(unknown)}")
        for name, data in tables.items():
            if data.num_rows:
                conformed = _conformed(data, schemas[name])
                tagged = conformed.set_column(
                    0, "file_sha256", pa.array([sha] * data.num_rows, conformed.schema[0].type)
                )
                merged.setdefault(name, []).append(tagged)
    try:
        batch = {
            name: pa.concat_tables(parts, promote_options="permissive")
            for name, parts in merged.items()
        }
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _check_one_by_one(files)
    selected = [c for c in GATING if c.table in batch]
    if not selected:
        return {}
    con = _gate_connection()
    try:
        for name, data in batch.items():
            con.register(_alias(name), data)
        rows = con.execute(_gate_sql(selected, by_file=True)).fetchall()
    finally:
        for name in batch:
            con.register(_alias(name), schemas[name].empty_table())
    found: dict[str, list[Problem]] = {}
    for sha, index, count, first in rows:
        found.setdefault(sha, []).append(
            Problem(selected[index], first["place"], first["column"], first["problem"], int(count))
        )
    return {sha: _error(names[sha], problems) for sha, problems in found.items()}


def _check_one_by_one(
    files: Sequence[tuple[str, str, Mapping[str, pa.Table]]],
) -> dict[str, StructuralError]:
    errors: dict[str, StructuralError] = {}
    for sha, name, tables in files:
        try:
            check_file(name, tables)
        except StructuralError as exc:
            errors[sha] = exc
    return errors


def _error(file_name: str, problems: Sequence[Problem]) -> StructuralError:
    """The error of a file's failing checks (in ``GATING`` order): the first, and how many more."""
    first = problems[0]
    return StructuralError(
        file_name,
        first.check.table,
        first.place,
        first.column,
        first.problem,
        check=first.check.name,
        more=sum(p.rows for p in problems) - 1,
    )


CLAIM_TABLES = ("stg.claims", "stg.claim_lines")


def claim_problems(tables: Mapping[str, pa.Table]) -> dict[tuple[str, int], str]:
    """The 837P claims (keyed CLM01, claim_seq) whose own rows fail a gating check of a claim
    or its lines, each with its first failure in words ("line 2: procedure_code '9083' is not
    ..."): a defect inside one claim rejects that claim only (SPEC "Structural checks").

    Only for tables with ``claim_seq`` (X12 837P); runs when ``check_file`` found a problem in
    a claim table, so a clean file pays nothing for it. Checks of the whole file stay the
    file's.
    """
    claims = tables.get("stg.claims")
    if claims is None or "claim_seq" not in claims.column_names:
        return {}
    schemas = _schemas()
    parts = []
    for index, check in enumerate(GATING):
        if check.table not in CLAIM_TABLES or check.condition is None:
            continue
        where = "'line ' || t.line_number || ': ' || " if check.table == "stg.claim_lines" else ""
        parts.append(
            f"SELECT t.claim_id, t.claim_seq, {index} AS k, {where}'{check.column} ' || "
            f"{check.problem} AS reason FROM {check.table} AS t WHERE {check.condition}"
        )
    parts.append(  # a line number twice in one claim (the file-wide key check, per claim)
        "SELECT claim_id, claim_seq, -1 AS k, 'line ' || line_number || ': line_number is not "
        "unique within the claim (' || count(*) || ' lines)' AS reason FROM stg.claim_lines "
        "GROUP BY claim_id, claim_seq, line_number HAVING count(*) > 1"
    )
    union = "\nUNION ALL\n".join(parts)
    sql = (
        f"SELECT claim_id, claim_seq, min_by(reason, k) FROM (\n{union}\n) "
        "WHERE claim_seq IS NOT NULL GROUP BY ALL"
    )
    con = _gate_connection()
    present = [name for name in CLAIM_TABLES if name in tables]
    try:
        for name in present:
            con.register(_alias(name), _conformed(tables[name], schemas[name]))
        rows = con.execute(sql).fetchall()
    finally:
        for name in present:
            con.register(_alias(name), schemas[name].empty_table())
    return {(claim_id, int(seq)): reason for claim_id, seq, reason in rows}


# ---- the same checks through Great Expectations ----------------------------------------------


def structural_checks() -> list[SqlCheck | ColumnCheck]:
    """The structural checks as GX checks over the warehouse's ``stg`` tables (all files).

    Every check is its own query as a GX UnexpectedRowsExpectation (rows name the file by
    ``file_sha256``, the place, the column and the problem). "Present" checks are not GX column
    expectations: through ``gx_runner`` those report an error on an empty table (no unexpected
    count), and an empty staging table (no 271 loaded yet) is normal.
    """
    return [
        SqlCheck(check.name, check.sql, check.description, table=check.table) for check in CHECKS
    ]
