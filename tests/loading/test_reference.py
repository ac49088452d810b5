"""Reference data: shipped defaults, overridden by inbox files, later files winning."""

from __future__ import annotations

import time
from decimal import Decimal

from loading import ingest, reference


def fee(con, payer: str, code: str):
    return con.execute(
        "SELECT allowed_amount, source FROM ref.fee_schedule WHERE payer_id = ? AND code = ?",
        [payer, code],
    ).fetchone()


def test_shipped_defaults_then_overrides(warehouse, tmp_path) -> None:
    reference.rebuild(warehouse)
    shipped_90834 = fee(warehouse, "*", "90834")
    assert shipped_90834 == (Decimal("98.00"), "shipped")
    assert warehouse.execute(
        "SELECT lookback_months, telehealth_modifier_required FROM ref.payers WHERE payer_id = '*'"
    ).fetchone() == (24, False)

    inbox = tmp_path / "inbox"
    (inbox / "reference").mkdir(parents=True)
    (inbox / "reference" / "fee_schedule.csv").write_text(
        "payer_id,code,allowed_amount\n*,90834,101.10\nACME,90837,140.00\n"
    )
    (inbox / "reference" / "payers.csv").write_text(
        "payer_id,name,lookback_months,telehealth_modifier_required\n"
        "*,,36,\nACME,Acme Health,,true\n"
    )
    ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    reference.rebuild(warehouse)
    assert fee(warehouse, "*", "90834") == (Decimal("101.10"), "fee_schedule.csv")
    assert fee(warehouse, "ACME", "90837") == (Decimal("140.00"), "fee_schedule.csv")
    assert fee(warehouse, "*", "90791") == (Decimal("165.00"), "shipped")
    # an empty look-back falls back to the '*' row, which the override set to 36
    assert warehouse.execute(
        "SELECT payer_id, lookback_months, telehealth_modifier_required FROM ref.payers "
        "ORDER BY payer_id"
    ).fetchall() == [("*", 36, False), ("ACME", 36, True)]

    time.sleep(0.01)  # a later file wins for the same key
    (inbox / "reference" / "fees_v2.csv").write_text(
        "payer_id,code,allowed_amount\n*,90834,99.99\n"
    )
    ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-2")
    reference.rebuild(warehouse)
    assert fee(warehouse, "*", "90834") == (Decimal("99.99"), "fees_v2.csv")
    # rebuilding again changes nothing
    before = warehouse.execute("SELECT * FROM ref.fee_schedule ORDER BY ALL").fetchall()
    reference.rebuild(warehouse)
    assert warehouse.execute("SELECT * FROM ref.fee_schedule ORDER BY ALL").fetchall() == before
