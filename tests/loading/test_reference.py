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


def test_appeal_days_default_override_and_old_files(warehouse, tmp_path) -> None:
    """appeal_days (issue 12): the shipped '*' row says 60; a payers.csv without the column (an
    older file) keeps working and its payers take the default; a '*' row or a payer's own row
    overrides it; a value below 1 rejects the file."""
    reference.rebuild(warehouse)
    assert warehouse.execute(
        "SELECT appeal_days FROM ref.payers WHERE payer_id = '*'"
    ).fetchone() == (60,)
    inbox = tmp_path / "inbox"
    (inbox / "reference").mkdir(parents=True)
    (inbox / "reference" / "payers.csv").write_text(
        "payer_id,name,lookback_months,telehealth_modifier_required\nOLDP,Old Payer,12,false\n"
    )
    ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    reference.rebuild(warehouse)
    assert warehouse.execute(
        "SELECT payer_id, lookback_months, appeal_days FROM ref.payers ORDER BY payer_id"
    ).fetchall() == [("*", 24, 60), ("OLDP", 12, 60)]

    time.sleep(0.01)
    (inbox / "reference" / "payers_v2.csv").write_text(
        "payer_id,name,lookback_months,telehealth_modifier_required,appeal_days\n"
        "*,,,,90\nACME,Acme Health,,,30\nOLDP,Old Payer,12,false,\n"
    )
    ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-2")
    reference.rebuild(warehouse)
    assert warehouse.execute(
        "SELECT payer_id, appeal_days FROM ref.payers ORDER BY payer_id"
    ).fetchall() == [("*", 90), ("ACME", 30), ("OLDP", 90)]

    (inbox / "reference" / "payers_bad.csv").write_text(
        "payer_id,name,lookback_months,telehealth_modifier_required,appeal_days\nX,,,,0\n"
    )
    ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-3")
    status, error = warehouse.execute(
        "SELECT status, error FROM ledger.files WHERE file_name = 'payers_bad.csv'"
    ).fetchone()
    assert status == "rejected"
    assert "appeal days must be at least 1" in error and "appeal_days" in error
