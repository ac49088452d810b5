"""Reference data: the shipped defaults under ``data/reference/`` plus the inbox's overrides.

``ref.fee_schedule`` and ``ref.payers`` are rebuilt whole on every run: first the shipped CSVs,
then every loaded override file in the order the ledger received them; a later row replaces an
earlier one with the same key (``payer_id, code`` / ``payer_id``). Rebuilding from the staged
overrides (which name their file) keeps a rerun identical and lets an override be traced.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from loading import feeds
from warehouse.connection import count_rows

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "reference"
DEFAULT_LOOKBACK_MONTHS = 24
DEFAULT_APPEAL_DAYS = 60  # a payer without appeal_days (nor a '*' row giving one): 60 days


def _shipped(name: str) -> pa.Table:
    path = SHIPPED / name
    frame = feeds.read_frame(path.read_bytes(), f"data/reference/{name}", "csv")
    return next(iter(feeds.read_reference(frame, f"data/reference/{name}", "shipped").values()))


def rebuild(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Replace ref.fee_schedule and ref.payers (caller owns the transaction); rows per table."""
    con.register("shipped_fee_schedule", _shipped("fee_schedule.csv"))
    con.register("shipped_payers", _shipped("payers.csv"))
    con.execute("DELETE FROM ref.fee_schedule")
    con.execute(
        """
        INSERT INTO ref.fee_schedule
        WITH candidates AS (
            SELECT payer_id, code, allowed_amount, 'shipped' AS source,
                   TIMESTAMP '1970-01-01' AS received_at
            FROM shipped_fee_schedule
            UNION ALL
            SELECT o.payer_id, o.code, o.allowed_amount, f.file_name, f.received_at
            FROM stg.ref_fee_schedule o JOIN ledger.files f USING (file_sha256)
        )
        SELECT payer_id, upper(code), allowed_amount, source FROM candidates
        QUALIFY row_number() OVER (PARTITION BY payer_id, upper(code)
                                   ORDER BY received_at DESC, source DESC) = 1
        ORDER BY payer_id, code
        """
    )
    con.execute("DELETE FROM ref.payers")
    con.execute(
        f"""
        INSERT INTO ref.payers (payer_id, name, lookback_months, telehealth_modifier_required,
                                source, appeal_days)
        WITH candidates AS (
            SELECT payer_id, name, lookback_months, telehealth_modifier_required,
                   'shipped' AS source, TIMESTAMP '1970-01-01' AS received_at, appeal_days
            FROM shipped_payers
            UNION ALL
            SELECT o.payer_id, o.name, o.lookback_months, o.telehealth_modifier_required,
                   f.file_name, f.received_at, o.appeal_days
            FROM stg.ref_payers o JOIN ledger.files f USING (file_sha256)
        ),
        latest AS (
            SELECT * FROM candidates
            QUALIFY row_number() OVER (PARTITION BY payer_id
                                       ORDER BY received_at DESC, source DESC) = 1
        ),
        defaults AS (
            SELECT coalesce(max(lookback_months), {DEFAULT_LOOKBACK_MONTHS}) AS lookback_months,
                   coalesce(bool_or(telehealth_modifier_required), false) AS telehealth,
                   coalesce(max(appeal_days), {DEFAULT_APPEAL_DAYS}) AS appeal_days
            FROM latest WHERE payer_id = '*'
        )
        SELECT l.payer_id, l.name,
               coalesce(l.lookback_months, d.lookback_months),
               coalesce(l.telehealth_modifier_required, d.telehealth),
               l.source,
               coalesce(l.appeal_days, d.appeal_days)
        FROM latest l CROSS JOIN defaults d
        ORDER BY l.payer_id
        """
    )
    con.unregister("shipped_fee_schedule")
    con.unregister("shipped_payers")
    return {
        "ref.fee_schedule": count_rows(con, "ref.fee_schedule"),
        "ref.payers": count_rows(con, "ref.payers"),
    }
