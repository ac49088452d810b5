"""What a payer's adjustment reason codes (CARC, X12) say, in recoup's own plain words, and which
of recoup's records can answer each (DOMAIN.md section 4). The code list is X12's; the wording
here is ours, so no licensed descriptor is shipped."""

from __future__ import annotations

# the claim a code makes, by what recoup's records can check
COVERAGE = "coverage"  # a 271 eligibility response
DOCUMENTATION = "documentation"  # the signed session note and its minutes
DUPLICATE = "duplicate"  # the claims and payments in the warehouse
OTHER = "other"  # nothing recoup holds can answer it

CARC: dict[str, tuple[str, str]] = {
    "4": ("the modifier is wrong or missing", OTHER),
    "5": ("the place of service does not fit the code", OTHER),
    "8": ("the provider type does not fit the code", OTHER),
    "11": ("the diagnosis does not fit the procedure", OTHER),
    "16": ("information is missing from the claim", DOCUMENTATION),
    "18": ("duplicate of a claim already paid", DUPLICATE),
    "22": ("another payer is primary (coordination of benefits)", OTHER),
    "26": ("the service came before coverage began", COVERAGE),
    "27": ("the service came after coverage ended", COVERAGE),
    "29": ("the filing deadline had passed", OTHER),
    "31": ("the patient is not a member of this plan", COVERAGE),
    "32": ("the dependent is not eligible", COVERAGE),
    "45": ("the charge is above the fee schedule or contract (re-priced)", OTHER),
    "50": ("not medically necessary", OTHER),
    "96": ("not a covered service", OTHER),
    "97": ("bundled into another service", OTHER),
    "119": ("the benefit maximum was reached", OTHER),
    "150": ("the documentation does not support the level of service", DOCUMENTATION),
    "151": ("the documentation does not support the frequency of service", DOCUMENTATION),
    "152": ("the documentation does not support the length of service", DOCUMENTATION),
    "185": ("the rendering provider is not eligible", OTHER),
    "197": ("prior authorization was absent", OTHER),
    "198": ("prior authorization was exceeded", OTHER),
    "200": ("coverage had lapsed", COVERAGE),
    "226": ("information requested was not provided", DOCUMENTATION),
    "236": ("an NCCI code pair that is not paid together", OTHER),
    "239": ("the claim spans a period the patient was not eligible", COVERAGE),
    "257": ("the ACA grace period (premium unpaid)", COVERAGE),
    "B7": ("the provider was not eligible on the date of service", OTHER),
    "B12": ("the service is not documented in the record", DOCUMENTATION),
    "B13": ("previously paid on another claim", DUPLICATE),
}

GROUPS = {
    "CO": "contractual (the provider is liable)",
    "PR": "patient responsibility",
    "OA": "other adjustment",
    "PI": "payer-initiated",
    "CR": "correction",
}


def split(code: str) -> tuple[str, str]:
    """'CO-27' -> ('CO', '27')."""
    group, _, reason = code.partition("-")
    return group, reason


def meaning(code: str) -> str:
    """'CO-27' -> 'CO-27: the service came after coverage ended'."""
    _, reason = split(code)
    known = CARC.get(reason)
    return f"{code}: {known[0] if known else 'a reason code recoup has no plain words for'}"


def category(code: str) -> str:
    """Which of recoup's records can answer ``code`` (``OTHER`` when none can)."""
    _, reason = split(code)
    known = CARC.get(reason)
    return known[1] if known else OTHER
