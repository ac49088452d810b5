"""Property tests (hypothesis): valid X12 built from generated values reads back to exactly those
values: claim ids, members, amounts as Decimal, units, dates, codes (837P); payments, claims and
line amounts (835); members and coverage dates (271). With and without line breaks. Example
counts and the CI profile: ``tests/fuzzing.py``."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

import tests.fuzzing  # noqa: F401  (the hypothesis profile)
from loading.x12 import X12Result, read_x12
from tests.badinput import build as b

SUBMITTED = date(2025, 12, 15)  # BHT04 of build.x837: no date of service after it
IDS = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20).filter(
    lambda s: s[0] != "-"
)
CODES = st.sampled_from(["90791", "90832", "90834", "90837", "90833", "90785", "99214", "H0031"])
CENTS = st.integers(min_value=0, max_value=99_999_999)  # up to 999,999.99
SEPARATORS = st.sampled_from(["~\n", "~", "~\r\n"])


def money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def read(data: bytes, name: str) -> X12Result:
    return read_x12(data, name, hashlib.sha256(data).hexdigest())


def rows(result: X12Result, table: str, *columns: str) -> list[tuple]:
    return [tuple(row[c] for c in columns) for row in result.tables[table].to_pylist()]


lines = st.builds(
    lambda code, cents, units, days: b.Line(
        code, money(cents), str(units), f"{SUBMITTED - timedelta(days=days):%Y%m%d}"
    ),
    CODES,
    CENTS,
    st.integers(min_value=1, max_value=99),
    st.integers(min_value=0, max_value=3650),
)
claims = st.builds(
    lambda claim_id, member, claim_lines: b.Claim(claim_id, member, claim_lines),
    IDS,
    IDS,
    st.lists(lines, min_size=1, max_size=5),
)


@given(st.lists(claims, min_size=1, max_size=8), SEPARATORS)
def test_837p_reads_back_to_the_generated_claims(generated: list[b.Claim], sep: str) -> None:
    result = read(b.x837(generated, sep=sep), "gen.837")
    assert result.kind == "837p"
    assert result.rejected == []
    assert rows(result, "stg.claims", "claim_id", "claim_seq", "member_id", "total_charge") == [
        (c.claim_id, seq, c.member_id, sum(Decimal(line.charge) for line in c.lines))
        for seq, c in enumerate(generated, start=1)
    ]
    assert rows(
        result,
        "stg.claim_lines",
        "claim_id",
        "claim_seq",
        "line_number",
        "procedure_code",
        "charge",
        "units",
        "date_of_service",
        "rendering_npi",
    ) == [
        (
            c.claim_id,
            seq,
            number,
            line.code,
            Decimal(line.charge),
            Decimal(line.units),
            date(int(line.dos[:4]), int(line.dos[4:6]), int(line.dos[6:])),
            b.RENDERING_NPI,
        )
        for seq, c in enumerate(generated, start=1)
        for number, line in enumerate(c.lines, start=1)
    ]
    assert set(rows(result, "stg.claims", "billing_npi", "payer_id", "submitted_date")) == {
        (b.BILLING_NPI, b.PAYER, SUBMITTED)
    }


payments = st.builds(
    lambda claim_id, paid, extra, code, status: b.Payment(
        claim_id, money(paid), money(paid + extra), code, status
    ),
    IDS,
    CENTS,
    st.integers(min_value=0, max_value=1_000_000),
    CODES,
    st.sampled_from(["1", "2", "4"]),
)


@given(st.lists(payments, min_size=1, max_size=8), SEPARATORS)
def test_835_reads_back_to_the_generated_payments(generated: list[b.Payment], sep: str) -> None:
    result = read(b.x835(generated, sep=sep), "gen.835")
    assert result.kind == "835"
    total = sum(Decimal(p.paid) for p in generated)
    assert rows(result, "stg.remit_payments", "total_paid", "payment_date", "payer_id") == [
        (total, date(2025, 12, 20), b.PAYER)
    ]
    assert rows(result, "stg.remit_claims", "claim_id", "status_code", "paid_amount") == [
        (p.claim_id, p.status, Decimal(p.paid)) for p in generated
    ]
    assert rows(
        result, "stg.remit_lines", "procedure_code", "charge", "paid_amount", "date_of_service"
    ) == [(p.code, Decimal(p.charge), Decimal(p.paid), date(2025, 12, 2)) for p in generated]
    assert rows(result, "stg.remit_adjustments", "group_code", "reason_code", "amount") == [
        ("CO", "45", Decimal(p.charge) - Decimal(p.paid)) for p in generated
    ]


spans = st.tuples(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=4000),
    st.sampled_from(list("12345678")),
).map(lambda t: (t[0], t[0] + timedelta(days=t[1]), t[2]))


@given(st.lists(st.tuples(IDS, spans), min_size=1, max_size=8), SEPARATORS)
def test_271_reads_back_to_the_generated_members_and_spans(
    generated: list[tuple[str, tuple[date, date, str]]], sep: str
) -> None:
    members = [member for member, _ in generated]
    result = read(b.x271(members, spans=[s for _, s in generated], sep=sep), "gen.271")
    assert result.kind == "271"
    assert result.rejected == []
    assert rows(result, "stg.eligibility_responses", "member_id", "check_date", "payer_id") == [
        (member, SUBMITTED, b.PAYER) for member in members
    ]
    assert rows(
        result, "stg.eligibility_benefits", "eligibility_code", "coverage_begin", "coverage_end"
    ) == [(eb01, begin, end) for _, (begin, end, eb01) in generated]
