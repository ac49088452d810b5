"""CLM01 is not unique: practices reuse account numbers as patient control numbers. Two claims with
one CLM01 and different dates of service are two claims (claim_key), each paid by its own 835 CLP;
a replacement (7) or void (8) acts on the claim its REF*F8 names (CLP07), else on the one its dates
overlap, else on the latest (docs/decisions.md "Claim identity")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.rulekit import PAID_ON, Kit, Line, Remit, money, new_kit

JUNE_3 = date(2024, 6, 3)
JUNE_17 = date(2024, 6, 17)
JUNE_4 = date(2024, 6, 4)
FIRST = "A100~2024-06-03"
SECOND = "A100~2024-06-17"


def two_claims_one_clm01(kit: Kit, *, same_file: bool = True) -> None:
    """A100 on June 3 (90834, paid 120.00, CLP07 PCN1) and A100 on June 17 (90834 + 90785, paid
    95.50 + 20.25, CLP07 PCN2); the June 17 CLP arrives first, so order decides nothing."""
    sha = kit.file("claims") if same_file else None
    kit.claim(
        "A100", [Line("90834", charge="150.00")], date_of_service=JUNE_3, file_sha256=sha,
        claim_seq=1 if same_file else None,
    )  # fmt: skip
    kit.claim(
        "A100", [Line("90834", charge="150.00"), Line("90785", charge="30.00")],
        date_of_service=JUNE_17, file_sha256=sha, claim_seq=2 if same_file else None,
    )  # fmt: skip
    kit.pay(
        "A100",
        [Remit("90834", "95.50", date_of_service=JUNE_17),
         Remit("90785", "20.25", date_of_service=JUNE_17)],
        payer_claim_control="PCN2",
    )  # fmt: skip
    kit.pay("A100", [Remit("90834", "120.00", date_of_service=JUNE_3)], payer_claim_control="PCN1")


def net_paid(kit: Kit) -> list[tuple[str, str, int, Decimal]]:
    return [
        (r[0], r[1], r[2], r[3])
        for r in kit.rows(
            "SELECT claim_key, claim_id, line_number, net_paid FROM mart.line_payments "
            "ORDER BY claim_key, line_number"
        )
    ]


def claims(kit: Kit) -> list[tuple[str, str, bool, int]]:
    return [
        (r[0], r[1], r[2], r[3])
        for r in kit.rows(
            "SELECT claim_key, frequency_code, voided, submissions FROM mart.claims "
            "ORDER BY claim_key"
        )
    ]


def unmatched(kit: Kit) -> list[tuple[str, str | None, date | None, Decimal, str]]:
    return [
        (r[0], r[1], r[2], r[3], r[4])
        for r in kit.rows(
            "SELECT claim_id, procedure_code, remit_date_of_service, amount, unmatched_reason "
            "FROM mart.unmatched_remittances ORDER BY ALL"
        )
    ]


def test_two_claims_with_one_clm01_are_each_paid_by_their_own_clp() -> None:
    for same_file in (True, False):
        kit = new_kit()
        two_claims_one_clm01(kit, same_file=same_file)
        kit.run()
        assert claims(kit) == [(FIRST, "1", False, 1), (SECOND, "1", False, 1)]
        assert kit.rows(
            "SELECT claim_key, claim_id, line_number, date_of_service, code FROM mart.claim_lines "
            "ORDER BY ALL"
        ) == [
            (FIRST, "A100", 1, JUNE_3, "90834"),
            (SECOND, "A100", 1, JUNE_17, "90834"),
            (SECOND, "A100", 2, JUNE_17, "90785"),
        ]
        assert net_paid(kit) == [
            (FIRST, "A100", 1, money("120.00")),
            (SECOND, "A100", 1, money("95.50")),
            (SECOND, "A100", 2, money("20.25")),
        ]
        assert unmatched(kit) == []
        # one member, one provider, one code on two claims with one CLM01, but not one date:
        # no duplicate, and each line's findings stay its own
        assert kit.findings("billing.duplicate") == []
        assert (
            kit.rows(
                "SELECT claim_key, line_number, count(*) FROM mart.findings GROUP BY ALL "
                "HAVING count(*) > 1"
            )
            == []
        )


def test_a_true_duplicate_under_two_clm01s_still_fires_once() -> None:
    kit = new_kit()
    two_claims_one_clm01(kit)
    kit.claim("B200", [Line("90834")], date_of_service=JUNE_3)  # June 3 billed again
    kit.pay(
        "B200", [Remit("90834", "110.00", date_of_service=JUNE_3)],
        payment_date=date(2024, 7, 15),
    )  # fmt: skip
    kit.run()
    assert kit.rows(
        "SELECT claim_key, line_number, exposure, json_extract_string(evidence, '$.kept_claim_id') "
        "FROM mart.findings WHERE rule = 'billing.duplicate'"
    ) == [("B200~2024-06-03", 1, money("110.00"), "A100")]


def test_a_resubmission_with_the_same_dates_is_the_same_claim() -> None:
    kit = new_kit()
    two_claims_one_clm01(kit)
    kit.claim("A100", [Line("90837", charge="200.00")], date_of_service=JUNE_3)  # frequency 1 again
    kit.build()
    assert claims(kit) == [(FIRST, "1", False, 2), (SECOND, "1", False, 1)]
    assert kit.rows("SELECT claim_key, line_number, code FROM mart.claim_lines ORDER BY ALL") == [
        (FIRST, 1, "90837"),
        (SECOND, 1, "90834"),
        (SECOND, 2, "90785"),
    ]


def test_a_replacement_with_ref_f8_replaces_the_named_claim_only() -> None:
    kit = new_kit()
    two_claims_one_clm01(kit)
    # corrected date and code; REF*F8 = PCN1 names the June 3 claim (its dates overlap neither
    # claim, and without REF*F8 the latest claim, June 17, would be taken)
    kit.claim(
        "A100", [Line("90837", charge="210.00")], date_of_service=JUNE_4, frequency_code="7",
        original_claim_ref="PCN1",
    )  # fmt: skip
    kit.pay(
        "A100", [Remit("90837", "160.00", date_of_service=JUNE_4)], payer_claim_control="PCN1",
        payment_date=date(2024, 8, 1),
    )  # fmt: skip
    kit.run()
    assert claims(kit) == [(FIRST, "7", False, 2), (SECOND, "1", False, 1)]
    assert kit.rows(
        "SELECT claim_key, line_number, date_of_service, code FROM mart.claim_lines ORDER BY ALL"
    ) == [
        (FIRST, 1, JUNE_4, "90837"),
        (SECOND, 1, JUNE_17, "90834"),
        (SECOND, 2, JUNE_17, "90785"),
    ]
    assert net_paid(kit) == [
        (FIRST, "A100", 1, money("160.00")),
        (SECOND, "A100", 1, money("95.50")),
        (SECOND, "A100", 2, money("20.25")),
    ]
    # the first 835 paid a line the replacement no longer has: kept, unmatched, on its claim
    assert unmatched(kit) == [
        ("A100", "90834", JUNE_3, money("120.00"),
         "no line of the claim with this REF*6R or code, modifiers and date"),
    ]  # fmt: skip


def test_a_replacement_without_ref_f8_replaces_the_claim_its_dates_overlap() -> None:
    kit = new_kit()
    two_claims_one_clm01(kit)
    kit.claim("A100", [Line("90837")], date_of_service=JUNE_3, frequency_code="7")
    kit.build()
    assert claims(kit) == [(FIRST, "7", False, 2), (SECOND, "1", False, 1)]


def test_a_void_voids_the_claim_its_dates_overlap() -> None:
    kit = new_kit()
    two_claims_one_clm01(kit)
    kit.claim("A100", [Line("90834")], date_of_service=JUNE_17, frequency_code="8")
    kit.run()
    assert claims(kit) == [(FIRST, "1", False, 1), (SECOND, "8", True, 2)]
    assert net_paid(kit) == [(FIRST, "A100", 1, money("120.00"))]
    assert unmatched(kit) == [
        ("A100", "90785", JUNE_17, money("20.25"), "the claim was voided (frequency 8)"),
        ("A100", "90834", JUNE_17, money("95.50"), "the claim was voided (frequency 8)"),
    ]
    assert kit.rows("SELECT DISTINCT claim_key FROM mart.paid_lines") == [(FIRST,)]


def test_a_void_with_ref_f8_voids_the_named_claim_over_the_dates() -> None:
    kit = new_kit()
    two_claims_one_clm01(kit)
    # dates of June 17, but REF*F8 = PCN1 names the June 3 claim: the payer's number decides
    kit.claim(
        "A100", [Line("90834")], date_of_service=JUNE_17, frequency_code="8",
        original_claim_ref="PCN1",
    )  # fmt: skip
    kit.build()
    assert claims(kit) == [(FIRST, "8", True, 2), (SECOND, "1", False, 1)]
    assert net_paid(kit) == [
        (SECOND, "A100", 1, money("95.50")),
        (SECOND, "A100", 2, money("20.25")),
    ]
    assert unmatched(kit) == [
        ("A100", "90834", JUNE_3, money("120.00"), "the claim was voided (frequency 8)")
    ]


def test_a_claim_level_payment_goes_to_the_claim_its_clp07_names() -> None:
    kit = new_kit()
    two_claims_one_clm01(kit)
    kit.claim(
        "A100", [Line("90834")], date_of_service=JUNE_3, frequency_code="7",
        original_claim_ref="PCN1",
    )  # fmt: skip
    # a CLP without SVC lines or dates: only CLP07 (= the REF*F8 the practice sent) tells which;
    # without it the latest claim (June 17) would be taken
    kit.pay("A100", claim_paid="-20.00", payer_claim_control="PCN1", payment_date=PAID_ON)
    kit.build()
    assert net_paid(kit) == [
        (FIRST, "A100", 1, money("100.00")),
        (SECOND, "A100", 1, money("95.50")),
        (SECOND, "A100", 2, money("20.25")),
    ]
