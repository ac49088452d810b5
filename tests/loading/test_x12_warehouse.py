"""The X12 tables insert cleanly into a migrated warehouse, with exact DECIMAL values."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from loading.x12 import X12Result, read_x12
from warehouse.connection import insert_tables, open_warehouse

FIXTURES = Path(__file__).parent.parent / "fixtures" / "x12"


def read(name: str) -> X12Result:
    data = (FIXTURES / name).read_bytes()
    return read_x12(data, name, hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("name", ["good.835", "good.837", "good.271", "two_interchanges.835"])
def test_tables_match_the_warehouse_columns(tmp_path: Path, name: str) -> None:
    result = read(name)
    with open_warehouse(tmp_path / "w.duckdb") as con:
        for table, data in result.tables.items():
            schema, _, bare = table.partition(".")
            columns = [
                row[0]
                for row in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, bare],
                ).fetchall()
            ]
            assert data.column_names == columns, table
        con.execute("BEGIN TRANSACTION")
        counts = insert_tables(con, result.tables)
        con.execute("COMMIT")
        assert counts == result.row_counts()
        for table, rows in counts.items():
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (rows,)


def test_decimal_and_date_values_in_duckdb(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "w.duckdb") as con:
        con.execute("BEGIN TRANSACTION")
        for name in ("good.835", "good.837", "good.271"):
            insert_tables(con, read(name).tables)
        con.execute("COMMIT")
        assert con.execute(
            "SELECT total_paid, typeof(total_paid), payment_date FROM stg.remit_payments"
        ).fetchall() == [(Decimal("55.00"), "DECIMAL(18,2)", date(2025, 11, 5))]
        assert con.execute(
            "SELECT claim_id, paid_amount FROM stg.remit_claims ORDER BY claim_seq"
        ).fetchall() == [("CLM001", Decimal("200.00")), ("CLM000", Decimal("-100.00"))]
        # the 835 balances in the warehouse too: BPR02 = sum(CLP04) - sum(PLB)
        assert con.execute(
            "SELECT (SELECT sum(paid_amount) FROM stg.remit_claims)"
            " - (SELECT sum(amount) FROM stg.remit_provider_adjustments)"
        ).fetchone() == (Decimal("55.00"),)
        assert con.execute(
            "SELECT sum(paid_amount), sum(units), typeof(units) FROM stg.remit_lines GROUP BY ALL"
        ).fetchall() == [(Decimal("100.00"), Decimal("3.000"), "DECIMAL(10,3)")]
        assert con.execute(
            "SELECT claim_id, line_number, charge, modifiers, date_of_service "
            "FROM stg.claim_lines ORDER BY claim_id, line_number LIMIT 1"
        ).fetchone() == ("CLM001", 1, Decimal("180.00"), ["95"], date(2025, 10, 1))
        assert con.execute(
            "SELECT diagnosis_codes FROM stg.claims WHERE claim_id = 'CLM001'"
        ).fetchone() == (["F329", "F411"],)
        assert con.execute(
            "SELECT coverage_status, coverage_end, service_types FROM stg.eligibility_benefits "
            "WHERE eligibility_code = '6'"
        ).fetchone() == ("inactive", date(2025, 6, 30), ["MH"])
        assert con.execute(
            "SELECT amount FROM stg.remit_provider_adjustments WHERE reason_code = 'WO'"
        ).fetchone() == (Decimal("50.00"),)
