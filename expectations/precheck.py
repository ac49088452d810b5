"""``recoup check``: judge claims that have not been sent yet against what the warehouse knows.

The pending claims (an 837P, or a claims CSV/Parquet in the README's schema) are read with the
loaders the inbox uses (``loading.ingest.read_file``), structural gate included. The warehouse is
never written: an in-memory DuckDB database attaches it READ_ONLY (as ``wh``) and lays an overlay
over it, schema by schema, under the names the rule queries read:

* ``ref.*``, ``mart.*`` (eligibility checks, coverage segments and spans, allowed amounts, payer
  policies): views of the warehouse's tables, as built by the last run;
* ``mart.claim_lines``: the pending lines plus the warehouse's;
* ``mart.paid_lines``: the pending lines taken as paid at their charge (what the payer would be
  asked for), plus the paid lines of the same clients (duplicates, a second timed code that day,
  an add-on without its primary, step-down); for ``coding.high_level_outlier`` every paid line,
  so the rendering provider's 90837 share is computed with the pending lines added;
* ``mart.sessions_by_line``: the pending lines' notes from the sessions feed (the warehouse's,
  plus ``--sessions FILE`` when given) chosen by the mart's own model, plus the warehouse's.

A pending replacement (frequency 7) or void (8) takes the place of the warehouse claim it
continues (``_pending_replaces_sql``): that claim's lines leave ``claim_lines`` and ``paid_lines``;
a void's own lines are listed but never checked (not sent for payment).

Then the shipped rule queries run unchanged (``Rule.sql``) and only the findings on pending lines
are kept. Nothing starts Prefect; nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from expectations.config import RulesConfig, load_config
from expectations.definition import Rule

OUTLIER_RULE = "coding.high_level_outlier"
# the overlay's own tables: everything else of mart/ref is a view of the warehouse
_OWN_MART = {"claim_lines", "paid_lines", "sessions_by_line", "findings", "line_exposure"}
CHECK_SCHEMA_VERSION = 1


class BadInput(ValueError):
    """The pending file (or --sessions file) cannot be read; the message names file and place."""


class NoWarehouse(RuntimeError):
    """The warehouse holds no marts to check against (never run)."""


@dataclass(frozen=True)
class Risk:
    """One finding on a pending line: the rule, dollars at stake and the sentence to act on."""

    rule: str
    at_stake: Decimal
    problem: str
    fix: str
    evidence: dict[str, Any]

    @property
    def sentence(self) -> str:
        return f"{self.problem}: {self.fix}"


@dataclass
class PendingLine:
    claim_id: str
    line_number: int
    date_of_service: date
    code: str
    modifiers: list[str]
    member_id: str | None
    payer_id: str | None
    rendering_npi: str | None
    billing_npi: str | None
    charge: Decimal
    claim_key: str
    risks: list[Risk] = field(default_factory=list)
    void: bool = False  # frequency 8: cancels a claim, nothing of it is paid or checked
    replaces: str | None = None  # the warehouse claim (claim_key) a replacement or void continues

    @property
    def at_stake(self) -> Decimal:
        """Like a paid line's exposure: the largest among its findings, never above the charge."""
        return min(self.charge, max((r.at_stake for r in self.risks), default=Decimal(0)))


@dataclass
class CheckResult:
    file: Path
    as_of: date
    lines: list[PendingLine]
    skipped: dict[str, str]

    @property
    def at_risk(self) -> list[PendingLine]:
        return [line for line in self.lines if line.risks]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_pending(path: Path) -> dict[str, Any]:
    """The pending claims as staging tables (``stg.claims``, ``stg.claim_lines``); ``BadInput``
    naming the file and the place when it cannot be read or a claim in it is malformed."""
    from loading import feeds
    from loading.ingest import read_file
    from loading.structural import StructuralError
    from loading.x12 import X12Error

    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        _fmt, tables, parts = read_file("claims", path, data, "pending:" + _sha256(data)[:16])
    except (X12Error, feeds.FeedError, StructuralError) as exc:
        raise BadInput(_named(path, str(exc))) from exc
    if parts.rejected:
        sentence = parts.sentence(str(path)) or f"{path}: claims rejected"
        raise BadInput(
            sentence.replace("were not loaded", "cannot be checked").replace(
                "was not loaded", "cannot be checked"
            )
        )
    if not tables["stg.claim_lines"].num_rows:
        raise BadInput(f"{path}: holds no claim line")
    return tables


def read_pending_sessions(path: Path) -> dict[str, Any]:
    """A sessions CSV/Parquet (the SPEC's columns) for the pending claims' notes."""
    from loading import feeds
    from loading.ingest import read_file

    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        _fmt, tables, _parts = read_file("sessions", path, data, "pending:" + _sha256(data)[:16])
    except feeds.FeedError as exc:
        raise BadInput(_named(path, str(exc))) from exc
    return tables


def _named(path: Path, message: str) -> str:
    """The reader's message, naming the file by the path given (readers name it by its name)."""
    if message.startswith(path.name + ":"):
        return str(path) + message[len(path.name) :]
    return f"{path}: {message}"


@contextmanager
def overlay(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database with the warehouse ``db`` attached READ_ONLY as ``wh``."""
    from warehouse.connection import _lock_conflict, duckdb_config, preflight
    from warehouse.errors import WarehouseLocked

    preflight(db)
    con = duckdb.connect(":memory:", config=duckdb_config())
    try:
        target = str(db).replace("'", "''")
        try:
            con.execute(f"ATTACH '{target}' AS wh (READ_ONLY)")
        except duckdb.IOException as exc:
            if _lock_conflict(exc):
                raise WarehouseLocked(
                    f"the warehouse {db} is being written by another run: check again when it ends"
                ) from exc
            raise
        yield con
    finally:
        con.close()


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = 'wh' AND table_schema = ? ORDER BY 1",
        [schema],
    ).fetchall()
    return [str(row[0]) for row in rows]


def _pending_claim_lines_sql() -> str:
    # the columns of mart.claim_lines (marts/sql/mart_claim_lines.sql) for the pending claims;
    # claim_key marks them as pending so they never meet a warehouse claim's key
    return """
    WITH claims AS (
        SELECT * FROM pending_claims_keyed
    ),
    lines AS (
        SELECT l.*, list_filter(coalesce(l.modifiers, []::VARCHAR[]),
                                lambda m: m IS NOT NULL AND m <> '') AS clean_modifiers
        FROM pending_lines AS l
    )
    SELECT
        c.claim_key,
        l.claim_id,
        l.line_number,
        coalesce(c.patient_key, c.member_id) AS patient_key,
        c.member_id,
        c.payer_id,
        c.billing_npi,
        coalesce(l.rendering_npi, c.rendering_npi, c.billing_npi) AS rendering_npi,
        l.date_of_service,
        CAST(date_trunc('month', l.date_of_service) AS DATE) AS service_month,
        l.procedure_code AS code,
        l.clean_modifiers AS modifiers,
        array_to_string(list_sort(l.clean_modifiers), ':') AS modifier_set,
        CAST(coalesce(l.units, 1) AS DECIMAL(10,3)) AS units,
        l.charge,
        coalesce(l.place_of_service, c.place_of_service) AS place_of_service,
        coalesce(c.frequency_code, '1') AS frequency_code,
        l.line_control_number,
        c.submitted_date,
        c.file_sha256,
        'pending' AS file_name,
        CAST(NULL AS TIMESTAMP) AS received_at
    FROM lines AS l
    JOIN claims AS c
        ON c.file_sha256 = l.file_sha256 AND c.claim_id = l.claim_id
        AND coalesce(c.claim_seq, 0) = coalesce(l.claim_seq, 0)
    """


def _pending_replaces_sql() -> str:
    # the warehouse claim each pending replacement (7) or void (8) continues, found as
    # marts/sql/mart_claims.sql finds a submission's parent: a claim with the same CLM01 (from the
    # same billing provider) whose dates overlap those of the 835 claim named by REF*F8 (CLP01 =
    # CLM01, CLP07 = REF*F8); else one whose dates overlap the pending claim's; else the latest
    return """
    WITH pending AS (
        SELECT k.claim_key, k.claim_id, coalesce(k.frequency_code, '1') AS frequency_code,
               k.original_claim_ref, k.billing_npi,
               min(l.date_of_service) AS span_begin,
               max(coalesce(l.date_of_service_end, l.date_of_service)) AS span_end
        FROM pending_claims_keyed AS k
        JOIN pending_lines AS l
            ON l.file_sha256 = k.file_sha256 AND l.claim_id = k.claim_id
            AND coalesce(l.claim_seq, 0) = coalesce(k.claim_seq, 0)
        WHERE coalesce(k.frequency_code, '1') IN ('7', '8')
        GROUP BY ALL
    ),
    controls AS (
        SELECT
            rc.claim_id, rc.payer_claim_control,
            min(coalesce(rl.date_of_service, rc.statement_start, rc.statement_end)) AS span_begin,
            max(coalesce(rl.date_of_service_end, rl.date_of_service, rc.statement_end,
                         rc.statement_start)) AS span_end
        FROM wh.stg.remit_claims AS rc
        JOIN wh.stg.remit_payments AS p
            ON p.file_sha256 = rc.file_sha256 AND p.payment_id = rc.payment_id
        LEFT JOIN wh.stg.remit_lines AS rl
            ON rl.file_sha256 = rc.file_sha256 AND rl.payment_id = rc.payment_id
            AND rl.claim_seq = rc.claim_seq
        WHERE rc.claim_id IN (SELECT claim_id FROM pending)
          AND rc.payer_claim_control IS NOT NULL AND rc.payer_claim_control <> ''
          AND (p.payment_date IS NULL OR p.payment_date <= ?)
        GROUP BY rc.claim_id, rc.payer_claim_control
    ),
    candidates AS (
        SELECT m.claim_key AS parent_key, m.claim_id, m.span_begin, m.span_end, s.billing_npi,
               f.received_at, s.rowid AS position
        FROM wh.mart.claims AS m
        JOIN wh.stg.claims AS s
            ON s.file_sha256 = m.file_sha256 AND s.claim_id = m.claim_id
            AND coalesce(s.claim_seq, 0) = m.claim_seq
        LEFT JOIN wh.ledger.files AS f ON f.file_sha256 = m.file_sha256
        WHERE m.claim_id IN (SELECT claim_id FROM pending)
    )
    SELECT p.claim_key, p.frequency_code, c.parent_key
    FROM pending AS p
    JOIN candidates AS c
        ON c.claim_id = p.claim_id
        AND (p.billing_npi IS NULL OR c.billing_npi IS NULL OR c.billing_npi = p.billing_npi)
    LEFT JOIN controls AS r
        ON r.claim_id = p.claim_id AND r.payer_claim_control = p.original_claim_ref
    QUALIFY row_number() OVER (
        PARTITION BY p.claim_key
        ORDER BY
            coalesce(c.span_begin <= r.span_end AND r.span_begin <= c.span_end, FALSE) DESC,
            coalesce(c.span_begin <= p.span_end AND p.span_begin <= c.span_end, FALSE) DESC,
            c.received_at DESC NULLS LAST, c.position DESC
    ) = 1
    """


def _insert_shared_columns(con: duckdb.DuckDBPyConnection, table: str, source: str) -> None:
    """Insert ``source``'s rows into ``table`` by name, only the columns both have: a warehouse
    made by an older release lacks columns its readers now fill (the provider names of migration
    006), and check never migrates it (read-only); those columns are not read by the rules."""
    have = {str(row[0]) for row in con.execute(f"DESCRIBE {table}").fetchall()}
    shared = [str(row[0]) for row in con.execute(f"DESCRIBE {source}").fetchall()]
    columns = ", ".join(f'"{name}"' for name in shared if name in have)
    con.execute(f"INSERT INTO {table} BY NAME SELECT {columns} FROM {source}")


def _build_overlay(
    con: duckdb.DuckDBPyConnection, tables: dict[str, Any], sessions: dict[str, Any] | None
) -> date:
    """Lay the overlay (module docstring) over ``wh``; returns the as-of date of its marts."""
    from marts.build import MODELS_DIR, model_sql

    built = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_catalog = 'wh' AND table_schema = 'mart' AND table_name = 'build_info'"
    ).fetchone()
    if not built or not built[0]:
        raise NoWarehouse("the warehouse has no marts yet: run `recoup run` once before checking")
    row = con.execute("SELECT as_of FROM wh.mart.build_info").fetchone()
    if not row or row[0] is None:
        raise NoWarehouse("the warehouse has no marts yet: run `recoup run` once before checking")
    as_of: date = row[0]
    for schema in ("mart", "ref", "stg", "ledger"):
        con.execute(f"CREATE SCHEMA {schema}")
    for name in _tables(con, "ref"):
        con.execute(f"CREATE VIEW ref.{name} AS SELECT * FROM wh.ref.{name}")
    for name in _tables(con, "mart"):
        if name not in _OWN_MART:
            con.execute(f"CREATE VIEW mart.{name} AS SELECT * FROM wh.mart.{name}")
    # the warehouse's macros (migrations and marts/sql/macros.sql), under the same names
    for name, params, body in con.execute(
        "SELECT function_name, parameters, macro_definition FROM duckdb_functions() "
        "WHERE database_name = 'wh' AND schema_name = 'mart' AND function_type = 'macro'"
    ).fetchall():
        con.execute(f"CREATE OR REPLACE MACRO mart.{name}({', '.join(params)}) AS {body}")
    con.execute((MODELS_DIR / "macros.sql").read_text())
    con.register("pending_claims_arrow", tables["stg.claims"])
    con.register("pending_lines_arrow", tables["stg.claim_lines"])
    # the warehouse's staging columns (a CSV file has no claim_seq, for one)
    for table, source in (("claims", "pending_claims_arrow"), ("lines", "pending_lines_arrow")):
        stg = "claims" if table == "claims" else "claim_lines"
        con.execute(f"CREATE TABLE pending_{table} AS SELECT * FROM wh.stg.{stg} WHERE FALSE")
        _insert_shared_columns(con, f"pending_{table}", source)
    con.execute(
        "CREATE TABLE pending_claims_keyed AS SELECT c.*, "
        "c.claim_id || '~pending~' || row_number() OVER (ORDER BY c.rowid) AS claim_key "
        "FROM pending_claims AS c"
    )
    con.execute("CREATE TABLE pending_claim_lines AS " + _pending_claim_lines_sql())
    # a replacement (7) or void (8) takes the place of a warehouse claim: that claim's lines
    # leave the overlay, as the marts would drop them once the pending claim is loaded
    con.execute("CREATE TABLE pending_replaces AS " + _pending_replaces_sql(), [as_of])
    con.execute(
        "CREATE VIEW warehouse_paid AS SELECT * FROM wh.mart.paid_lines "
        "WHERE claim_key NOT IN (SELECT parent_key FROM pending_replaces)"
    )
    # sessions: the warehouse's feed plus the pending notes given with --sessions (newer)
    con.execute("CREATE TABLE pending_sessions AS SELECT * FROM wh.stg.sessions WHERE FALSE")
    if sessions is not None:
        con.register("pending_sessions_arrow", sessions["stg.sessions"])
        _insert_shared_columns(con, "pending_sessions", "pending_sessions_arrow")
    con.execute(
        "CREATE VIEW ledger.files AS SELECT file_sha256, file_name, received_at "
        "FROM wh.ledger.files UNION ALL SELECT DISTINCT file_sha256, 'pending sessions', "
        "CAST(now() AS TIMESTAMP) FROM pending_sessions"
    )
    # the pending lines' notes, chosen by the mart's own model over the pending lines only: its
    # stg.sessions is the rows naming a pending CLM01, in load order (the model reads rowid)
    con.execute(
        "CREATE TABLE stg.sessions AS SELECT * EXCLUDE (position) FROM ("
        "SELECT s.*, s.rowid AS position FROM wh.stg.sessions AS s "
        "SEMI JOIN pending_lines AS p ON p.claim_id = s.claim_id ORDER BY s.rowid) "
        "UNION ALL BY NAME SELECT * FROM pending_sessions"
    )
    con.execute("CREATE VIEW mart.claim_lines AS SELECT * FROM pending_claim_lines")
    con.execute(model_sql("mart_sessions_by_line", as_of))
    con.execute("DROP TABLE stg.sessions")
    con.execute(
        "CREATE VIEW stg.sessions AS SELECT * FROM wh.stg.sessions "
        "UNION ALL BY NAME SELECT * FROM pending_sessions"
    )
    con.execute("ALTER TABLE mart.sessions_by_line RENAME TO pending_notes")
    con.execute("CREATE TABLE pending_notes AS SELECT * FROM mart.pending_notes")
    con.execute("DROP TABLE mart.pending_notes")
    con.execute("DROP VIEW mart.claim_lines")
    con.execute(
        "CREATE VIEW mart.claim_lines AS SELECT * FROM pending_claim_lines "
        "WHERE frequency_code <> '8' UNION ALL BY NAME SELECT * FROM wh.mart.claim_lines "
        "WHERE claim_key NOT IN (SELECT parent_key FROM pending_replaces)"
    )
    # pending lines as paid at their charge; first payment unknown (sorts after every paid copy);
    # a void is not sent for payment: nothing of it to check
    con.execute(
        "CREATE TABLE pending_paid AS SELECT *, charge AS net_paid, "
        "CAST(NULL AS DATE) AS first_payment_date, CAST(NULL AS DATE) AS payment_date "
        "FROM pending_claim_lines WHERE frequency_code <> '8'"
    )
    con.execute(
        "CREATE TABLE related_paid AS SELECT * FROM warehouse_paid "
        "WHERE patient_key IN (SELECT patient_key FROM pending_paid)"
    )
    con.execute(
        "CREATE VIEW mart.sessions_by_line AS SELECT * FROM pending_notes "
        "UNION ALL BY NAME SELECT s.* FROM wh.mart.sessions_by_line AS s "
        "SEMI JOIN related_paid AS r USING (claim_key, line_number)"
    )
    return as_of


def _paid_lines(con: duckdb.DuckDBPyConnection, everyone: bool) -> None:
    """``mart.paid_lines``: pending plus the same clients' paid lines, or plus every paid line."""
    source = "warehouse_paid" if everyone else "related_paid"
    con.execute(
        "CREATE OR REPLACE VIEW mart.paid_lines AS SELECT * FROM pending_paid "
        f"UNION ALL BY NAME SELECT * FROM {source}"
    )


def _run(
    con: duckdb.DuckDBPyConnection, rules: list[Rule], config: RulesConfig, as_of: date
) -> tuple[list[tuple[Any, ...]], dict[str, str]]:
    from expectations.catalog import skipped_rules

    whole, reasons = skipped_rules(con, config, as_of, rules)
    rows: list[tuple[Any, ...]] = []
    for rule in rules:
        if rule.id in whole:
            continue
        sql = rule.sql(config, as_of)
        rows += con.execute(
            f"SELECT f.claim_key, f.line_number, f.rule, f.exposure, f.evidence FROM ({sql}) AS f "
            "SEMI JOIN pending_paid AS p USING (claim_key, line_number)"
        ).fetchall()
    return rows, reasons


def check_claims(
    path: Path,
    db: Path,
    *,
    sessions: Path | None = None,
    config: RulesConfig | None = None,
    rules: tuple[Rule, ...] | None = None,
) -> CheckResult:
    """Every rule that applies before sending, on every line of ``path``, against ``db``."""
    from expectations.catalog import active_rules
    from expectations.precheck_fixes import describe

    config = config or load_config()
    selected = list(rules if rules is not None else active_rules())
    tables = read_pending(path)
    notes = read_pending_sessions(sessions) if sessions is not None else None
    with overlay(db) as con:
        built = _build_overlay(con, tables, notes)
        latest = con.execute("SELECT max(date_of_service) FROM pending_paid").fetchone()
        as_of = max(built, latest[0]) if latest and latest[0] else built
        _paid_lines(con, everyone=False)
        rows, skipped = _run(con, [r for r in selected if r.id != OUTLIER_RULE], config, as_of)
        outlier = [r for r in selected if r.id == OUTLIER_RULE]
        if outlier:
            _paid_lines(con, everyone=True)
            more, reasons = _run(con, outlier, config, as_of)
            rows += more
            skipped.update(reasons)
        lines = {
            (row[0], row[1]): PendingLine(
                claim_id=row[2],
                line_number=row[1],
                date_of_service=row[3],
                code=row[4],
                modifiers=list(row[5] or []),
                member_id=row[6],
                payer_id=row[7],
                rendering_npi=row[8],
                billing_npi=row[9],
                charge=Decimal(row[10]),
                claim_key=row[0],
                void=row[11] == "8",
                replaces=row[12],
            )
            for row in con.execute(
                "SELECT l.claim_key, l.line_number, l.claim_id, l.date_of_service, l.code, "
                "l.modifiers, l.member_id, l.payer_id, l.rendering_npi, l.billing_npi, l.charge, "
                "l.frequency_code, r.parent_key FROM pending_claim_lines AS l "
                "LEFT JOIN pending_replaces AS r USING (claim_key) "
                "ORDER BY l.claim_key, l.line_number"
            ).fetchall()
        }
    order = {rule.id: rule.order for rule in selected}
    for claim_key, line_number, rule_id, exposure, evidence in sorted(
        rows, key=lambda r: (r[0], r[1], order.get(r[2], 0))
    ):
        line = lines[(claim_key, line_number)]
        facts = json.loads(evidence) if evidence else {}
        problem, fix = describe(rule_id, facts, line)
        line.risks.append(Risk(rule_id, Decimal(exposure), problem, fix, facts))
    ordered = sorted(
        lines.values(),
        key=lambda ln: (ln.claim_id, int(ln.claim_key.rsplit("~", 1)[-1]), ln.line_number),
    )
    return CheckResult(path, as_of, ordered, skipped)


# ---- output ---------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def line_heading(line: PendingLine) -> str:
    return (
        f"claim {line.claim_id} line {line.line_number} {line.date_of_service.isoformat()} "
        f"{line.code}{''.join(':' + m for m in line.modifiers)} member {line.member_id} "
        f"rendering {line.rendering_npi} charge {_money(line.charge)}"
    )


def to_text(result: CheckResult) -> str:
    """One block per pending line at risk, one risk per line under it; then a one-line total."""
    out: list[str] = []
    for line in result.at_risk:
        out.append(line_heading(line))
        for risk in line.risks:
            stake = "warning" if not risk.at_stake else f"{_money(risk.at_stake)} at stake"
            out.append(f"  {risk.rule} ({stake}): {risk.sentence}")
    for line in result.lines:
        if line.void:
            out.append(line_heading(line))
            voids = f" (voids claim {line.replaces})" if line.replaces else ""
            out.append(f"  void: nothing to check{voids}")
    risky = result.at_risk
    total = sum((line.at_stake for line in risky), Decimal(0))
    claims = len({line.claim_key for line in risky})
    all_claims = len({line.claim_key for line in result.lines})
    if risky:
        out.append(
            f"{len(risky)} of {len(result.lines)} lines ({claims} of {all_claims} claims) at "
            f"risk, {_money(total)} at stake: fix them before sending"
        )
    else:
        out.append(
            f"nothing at risk in {len(result.lines)} lines ({all_claims} claims) of "
            f"{result.file.name}: checked against the warehouse as of {result.as_of.isoformat()}"
        )
    for rule_id, reason in sorted(result.skipped.items()):
        out.append(f"not checked: {rule_id}: {reason}")
    return "\n".join(out) + "\n"


def to_json_document(result: CheckResult) -> dict[str, Any]:
    """The ``--format json`` document (README "recoup check": schema version 1)."""
    risky = result.at_risk
    return {
        "schema_version": CHECK_SCHEMA_VERSION,
        "file": str(result.file),
        "as_of": result.as_of.isoformat(),
        "at_risk": bool(risky),
        "totals": {
            "claims": len({line.claim_key for line in result.lines}),
            "lines": len(result.lines),
            "lines_at_risk": len(risky),
            "at_stake": float(sum((line.at_stake for line in risky), Decimal(0))),
        },
        "lines": [
            {
                "claim_id": line.claim_id,
                "line_number": line.line_number,
                "date_of_service": line.date_of_service.isoformat(),
                "code": line.code,
                "modifiers": line.modifiers,
                "member_id": line.member_id,
                "payer_id": line.payer_id,
                "rendering_npi": line.rendering_npi,
                "billing_npi": line.billing_npi,
                "charge": float(line.charge),
                "at_stake": float(line.at_stake),
                "void": line.void,
                "replaces": line.replaces,
                "risks": [
                    {
                        "rule": risk.rule,
                        "at_stake": float(risk.at_stake),
                        "problem": risk.problem,
                        "fix": risk.fix,
                        "evidence": risk.evidence,
                    }
                    for risk in line.risks
                ],
            }
            for line in result.lines
        ],
        "not_checked": dict(sorted(result.skipped.items())),
    }
