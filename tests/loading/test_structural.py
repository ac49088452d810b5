"""Structural checks: each one rejects a tiny file with its exact message; the same definitions
run over the warehouse; a bad file is rejected whole by ingest with that message."""

from __future__ import annotations

import hashlib
import pickle
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from loading import ingest, structural
from loading.feeds import FeedError
from loading.structural import (
    CHECKS,
    StructuralError,
    check_file,
    find_problems,
    structural_checks,
)
from warehouse.connection import insert_tables
from warehouse.gx_runner import SqlCheck

FILE = "batch.837"
GOOD_NPI = "1234567893"  # the CMS example NPI
OTHER_NPI = "1245319599"
MONEY = pa.decimal128(18, 2)


def claims(**changes: Any) -> dict[str, pa.Table]:
    """One claim C1 with two lines, valid in every way; ``changes`` replace columns."""
    claim = {
        "file_sha256": ["f" * 64],
        "claim_id": ["C1"],
        "submitted_date": [date(2025, 3, 10)],
        "billing_npi": [GOOD_NPI],
        "payer_id": ["P1"],
        "member_id": ["M1"],
        "place_of_service": ["11"],
        "rendering_npi": [OTHER_NPI],
    }
    lines = {
        "file_sha256": ["f" * 64] * 2,
        "claim_id": ["C1", "C1"],
        "line_number": pa.array([1, 2], pa.int32()),
        "procedure_code": ["90837", "H0031"],
        "modifiers": [["95"], ["HO", ""]],
        "place_of_service": ["02", None],
        "date_of_service": [date(2025, 3, 3), date(2025, 3, 4)],
        "date_of_service_end": [None, date(2025, 3, 4)],
        "rendering_npi": [OTHER_NPI, None],
    }
    for key, value in changes.items():
        table, _, column = key.partition("__")
        (claim if table == "claims" else lines)[column] = value
    return {"stg.claims": pa.table(claim), "stg.claim_lines": pa.table(lines)}


def remittance(**changes: Any) -> dict[str, pa.Table]:
    """One balanced 835 payment PAY1: a claim paid 90.00 on two lines, a PLB of 10.00."""
    payments = {
        "file_sha256": ["e" * 64],
        "payment_id": ["PAY1"],
        "total_paid": pa.array([Decimal("80.00")], MONEY),
        "credit_debit": ["C"],
        "payment_date": [date(2025, 4, 1)],
        "payee_npi": [GOOD_NPI],
    }
    remit_claims = {
        "file_sha256": ["e" * 64],
        "payment_id": ["PAY1"],
        "claim_seq": pa.array([1], pa.int32()),
        "claim_id": ["C1"],
        "status_code": ["1"],
        "paid_amount": pa.array([Decimal("90.00")], MONEY),
    }
    remit_lines = {
        "file_sha256": ["e" * 64] * 2,
        "payment_id": ["PAY1"] * 2,
        "claim_seq": pa.array([1, 1], pa.int32()),
        "line_seq": pa.array([1, 2], pa.int32()),
        "procedure_qualifier": ["HC", "HC"],
        "procedure_code": ["90837", "90785"],
        "modifiers": [[], ["95"]],
        "paid_amount": pa.array([Decimal("70.00"), Decimal("20.00")], MONEY),
        "date_of_service": [date(2025, 3, 3)] * 2,
    }
    plb = {
        "file_sha256": ["e" * 64],
        "payment_id": ["PAY1"],
        "adjustment_seq": pa.array([1], pa.int32()),
        "reason_code": ["WO"],
        "reference_id": ["C0"],
        "amount": pa.array([Decimal("10.00")], MONEY),
    }
    tables = {
        "stg.remit_payments": payments,
        "stg.remit_claims": remit_claims,
        "stg.remit_lines": remit_lines,
        "stg.remit_provider_adjustments": plb,
    }
    for key, value in changes.items():
        table, _, column = key.partition("__")
        tables["stg." + table][column] = value
    return {name: pa.table(columns) for name, columns in tables.items()}


def eligibility(begin: date, end: date, response_ids: tuple[str, ...] = ("R1",)) -> dict:
    return {
        "stg.eligibility_responses": pa.table(
            {
                "file_sha256": ["d" * 64] * len(response_ids),
                "response_id": list(response_ids),
                "check_date": [date(2025, 1, 2)] * len(response_ids),
                "payer_id": ["P1"] * len(response_ids),
                "member_id": ["M1"] * len(response_ids),
            }
        ),
        "stg.eligibility_benefits": pa.table(
            {
                "file_sha256": ["d" * 64],
                "response_id": ["R1"],
                "benefit_seq": pa.array([1], pa.int32()),
                "eligibility_code": ["1"],
                "coverage_status": ["active"],
                "coverage_begin": [begin],
                "coverage_end": [end],
            }
        ),
    }


def message(tables: dict[str, pa.Table], name: str = FILE) -> str:
    with pytest.raises(StructuralError) as caught:
        check_file(name, tables)
    return str(caught.value)


# ---- each check, on a tiny file ----------------------------------------------------------------


def test_valid_files_pass() -> None:
    check_file(FILE, claims())
    check_file("pay.835", remittance())
    check_file("elig.271", eligibility(date(2025, 1, 1), date(2025, 12, 31)))
    assert find_problems({"stg.claims": claims()["stg.claims"].slice(0, 0)}) == []


NPI_DIGIT = "fails the NPI check digit (Luhn with prefix 80840)"
PROCEDURE = "is not a procedure code (5 characters 0-9, A-Z)"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"claims__billing_npi": ["12345"]},
            "stg.claims row C1: billing_npi '12345' is not an NPI (10 digits)",
        ),
        ({"claims__member_id": [None]}, "stg.claims row C1: member_id is missing"),
        (
            {"lines__procedure_code": ["90837", None]},
            "stg.claim_lines row C1/2: procedure_code is missing",
        ),
        (
            {"lines__procedure_code": ["9083", "H0031"]},
            f"stg.claim_lines row C1/1: procedure_code '9083' {PROCEDURE}",
        ),
        (
            {"lines__procedure_code": ["90837", "h0031"]},
            f"stg.claim_lines row C1/2: procedure_code 'h0031' {PROCEDURE}",
        ),
        (
            {"lines__modifiers": [["95"], ["GT", "GTX"]]},
            "stg.claim_lines row C1/2: modifiers 'GTX' is not a modifier (2 characters 0-9, A-Z)",
        ),
        (
            {"lines__place_of_service": ["2", None]},
            "stg.claim_lines row C1/1: place_of_service '2' is not a place of service (2 digits)",
        ),
        (
            {"claims__place_of_service": ["1A"]},
            "stg.claims row C1: place_of_service '1A' is not a place of service (2 digits)",
        ),
        (
            {"lines__line_number": pa.array([1, 1], pa.int32())},
            "stg.claim_lines row C1/1: (claim_id, line_number) is not unique (2 rows)",
        ),
        (
            {
                "lines__date_of_service": [date(2025, 3, 3), date(2025, 3, 11)],
                "lines__date_of_service_end": [None, None],
            },
            "stg.claim_lines row C1/2: date_of_service 2025-03-11 is after the claim's submitted "
            "date (BHT04) 2025-03-10",
        ),
        (
            {"lines__date_of_service": [date(1899, 12, 31), date(2025, 3, 4)]},
            "stg.claim_lines row C1/1: date_of_service 1899-12-31 is outside "
            "1900-01-01..2100-12-31",
        ),
        (
            {"claims__submitted_date": [date(2101, 1, 1)]},
            "stg.claims row C1: submitted_date 2101-01-01 is outside 1900-01-01..2100-12-31",
        ),
        (
            {"lines__date_of_service_end": [None, date(2025, 3, 1)]},
            "stg.claim_lines row C1/2: date_of_service_end 2025-03-01 is before date_of_service "
            "2025-03-04",
        ),
        # issue 9 item 9b: rows that reach staging other ways than the readers are caught too
        (
            {"claims__total_charge": pa.array([Decimal("-300.00")], MONEY)},
            "stg.claims row C1: total_charge '-300.00' is negative",
        ),
        (
            {"lines__charge": pa.array([Decimal("180.00"), Decimal("-0.01")], MONEY)},
            "stg.claim_lines row C1/2: charge '-0.01' is negative",
        ),
        (
            {"lines__units": pa.array([Decimal("0.000"), Decimal(1)], pa.decimal128(10, 3))},
            "stg.claim_lines row C1/1: units '0.000' is not above 0",
        ),
    ],
)
def test_each_claim_check_names_file_row_column_and_problem(
    changes: dict[str, Any], expected: str
) -> None:
    assert message(claims(**changes)) == f"{FILE}: {expected}"


def test_submitted_date_is_optional_for_the_service_date_check() -> None:
    check_file(FILE, claims(claims__submitted_date=[None]))


def test_duplicate_claim_ids_in_one_file() -> None:
    tables = claims()
    doubled = pa.concat_tables([tables["stg.claims"], tables["stg.claims"]])
    only_claims = {"stg.claims": doubled}
    assert message(only_claims) == f"{FILE}: stg.claims row C1: claim_id is not unique (2 rows)"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"remit_payments__total_paid": pa.array([Decimal("90.00")], MONEY)},
            "stg.remit_payments row PAY1: total_paid 90.00 does not balance: sum of CLP04 90.00 "
            "minus PLB amounts 10.00 = 80.00",
        ),
        (
            {"remit_lines__line_seq": pa.array([1, 1], pa.int32())},
            "stg.remit_lines row PAY1/1/1: (payment_id, claim_seq, line_seq) is not unique "
            "(2 rows)",
        ),
        (
            {"remit_lines__procedure_code": ["9083", "90785"]},
            f"stg.remit_lines row PAY1/1/1: procedure_code '9083' {PROCEDURE}",
        ),
        ({"remit_claims__claim_id": [None]}, "stg.remit_claims row PAY1/1: claim_id is missing"),
    ],
)
def test_each_remittance_check(changes: dict[str, Any], expected: str) -> None:
    assert message(remittance(**changes), "pay.835") == f"pay.835: {expected}"


def test_debit_payment_balances_with_its_sign_and_other_qualifiers_skip_the_code_check() -> None:
    check_file(
        "debit.835",
        remittance(
            remit_payments__credit_debit=["D"],
            remit_payments__total_paid=pa.array([Decimal("10.00")], MONEY),
            remit_claims__paid_amount=pa.array([Decimal("0.00")], MONEY),
            remit_lines__procedure_qualifier=["NU", "HC"],
            remit_lines__procedure_code=["0912", "90785"],
        ),
    )


def test_duplicate_payment_ids() -> None:
    zero = pa.array([Decimal("0.00")], MONEY)  # no CLP, no PLB: balanced at 0
    payment = remittance(remit_payments__total_paid=zero)["stg.remit_payments"]
    assert message({"stg.remit_payments": pa.concat_tables([payment] * 2)}, "pay.835") == (
        "pay.835: stg.remit_payments row PAY1: payment_id is not unique (2 rows)"
    )


def test_eligibility_checks() -> None:
    assert message(eligibility(date(2025, 2, 1), date(2025, 1, 31)), "elig.271") == (
        "elig.271: stg.eligibility_benefits row R1/1: coverage_end 2025-01-31 is before "
        "coverage_begin 2025-02-01"
    )
    assert message(eligibility(date(2025, 1, 1), None, ("R1", "R1")), "elig.271") == (  # type: ignore[arg-type]
        "elig.271: stg.eligibility_responses row R1: response_id is not unique (2 rows)"
    )


def test_several_problems_first_one_named_and_the_rest_counted() -> None:
    tables = claims(
        claims__billing_npi=["123456789"],
        lines__procedure_code=["9083", "908"],
    )
    with pytest.raises(StructuralError) as caught:
        check_file(FILE, tables)
    error = caught.value
    assert str(error) == (
        f"{FILE}: stg.claim_lines row C1/1: procedure_code '9083' {PROCEDURE} (and 2 more problems)"
    )
    assert (error.table, error.place, error.column, error.more) == (
        "stg.claim_lines",
        "C1/1",
        "procedure_code",
        2,
    )
    assert isinstance(error, FeedError)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


# ---- one definition, two runners -------------------------------------------------------------


def test_gx_checks_are_the_same_definitions() -> None:
    gx_checks = structural_checks()
    assert len({c.name for c in gx_checks}) == len(gx_checks) == len(CHECKS)
    for gx_check, check in zip(gx_checks, CHECKS, strict=True):
        assert isinstance(gx_check, SqlCheck)
        assert (gx_check.name, gx_check.sql, gx_check.description, gx_check.batch_table()) == (
            check.name,
            check.sql,
            check.description,
            check.table,
        )
    required = {(c.table, c.column) for c in CHECKS if c.required}
    assert required == {
        (t, column) for t, columns in structural.REQUIRED.items() for column in columns
    }


def test_warehouse_queries_find_what_the_file_gate_finds(warehouse) -> None:
    tables = claims(lines__rendering_npi=[OTHER_NPI, "2222222222"])
    warehouse.execute("BEGIN TRANSACTION")
    insert_tables(warehouse, tables)
    warehouse.execute("COMMIT")
    failing = {}
    for check in CHECKS:
        rows = warehouse.execute(check.sql).fetchall()
        if rows:
            failing[check.name] = rows
    assert failing == {
        "stg.claim_lines: rendering_npi NPI check digit": [
            ("f" * 64, "C1/2", "rendering_npi", f"'2222222222' {NPI_DIGIT}")
        ]
    }


# ---- the gate in ingest ----------------------------------------------------------------------

CLAIMS_CSV = (
    "claim_id,line_number,member_id,payer_id,billing_npi,date_of_service,procedure_code,charge\n"
    f"C1,1,M1,P1,{GOOD_NPI},2025-03-04,90837,180.00\n"
    "C2,1,M2,P1,12345678,2025-03-05,90834,120.00\n"
    "C2,2,M2,P1,12345678,2025-03-05,90785,20.00\n"
)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"claims__billing_npi": ["1234567890"]}, "stg.claims row C1: billing_npi '1234567890'"),
        (
            {"claims__rendering_npi": ["1234567890"]},
            "stg.claims row C1: rendering_npi '1234567890'",
        ),
        (
            {"lines__rendering_npi": [OTHER_NPI, "2222222222"]},
            "stg.claim_lines row C1/2: rendering_npi '2222222222'",
        ),
    ],
)
def test_npi_check_digit_warns_but_never_gates(changes, expected) -> None:
    tables = claims(**changes)
    check_file(FILE, tables)  # loads: public X12 uses placeholder NPIs the payer still paid
    [problem] = find_problems(tables, CHECKS)
    assert problem.check.gating is False
    assert f"{problem.check.table} row {problem.place}: {problem.column} {problem.problem}" == (
        f"{expected} {NPI_DIGIT}"
    )


def test_ingest_rejects_a_claims_file_with_a_malformed_npi_whole(warehouse, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "claims").mkdir(parents=True)
    (inbox / "claims" / "april.csv").write_text(CLAIMS_CSV)
    report = ingest.ingest_inbox(warehouse, inbox, tmp_path / "store", "run-1")
    [outcome] = report.outcomes
    expected = (
        "april.csv: stg.claims row C2: billing_npi '12345678' is not an NPI (10 digits) "
        "(and 2 more problems)"  # the two lines inherit it as their rendering NPI
    )
    assert (outcome.status, outcome.reason) == ("rejected", expected)
    sha = hashlib.sha256(CLAIMS_CSV.encode()).hexdigest()
    assert warehouse.execute(
        "SELECT status, error FROM ledger.files WHERE file_sha256 = ?", [sha]
    ).fetchall() == [("rejected", expected)]
    for table in ("stg.claims", "stg.claim_lines"):
        assert warehouse.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)


def test_a_note_signed_before_its_session_is_a_warning_not_a_gate() -> None:
    """Issue 9 item 9a: the load now reports a note signed before the date of service of the
    claim line it documents (the warehouse-wide GX suite prints it as a staging warning); it
    does not reject the file, because the claims may come in another file."""
    sessions = pa.table(
        {
            "file_sha256": ["c" * 64] * 3,
            "claim_id": ["C1", "C1", "C9"],
            "line_number": pa.array([None, 2, None], pa.int32()),
            "note_signed_at": [datetime(2025, 1, 27, 9), datetime(2025, 3, 4, 0, 0), None],
        }
    )
    tables = {**claims(), "stg.sessions": sessions}
    check_file("sessions.csv", tables)  # not gating
    [problem] = find_problems(tables)
    assert (problem.check.name, problem.place, problem.column, problem.problem, problem.rows) == (
        "stg.sessions: note not signed before the date of service",
        "C1/?",
        "note_signed_at",
        "signed 2025-01-27, before the date of service 2025-03-03 of claim C1: taken as unsigned",
        1,
    )
