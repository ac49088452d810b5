"""What a payer's remark codes (RARCs: 835 LQ*HE per service line, MOA03..MOA07 per claim) say,
in recoup's own plain words (the code list is X12's; the wording here is ours, so no licensed
descriptor is shipped), and which of recoup's records can answer the few that make a claim
recoup can check. A remark code supplements the CAS reason code; only N30 (eligibility, as CARC
27/177) and M127/N29 (documentation, as CARC 150/151) change a dispute's verdict: every other
remark is reported, not judged (reporting/disputes.py)."""

from __future__ import annotations

from reporting.carc import COVERAGE, DOCUMENTATION, OTHER

RARC: dict[str, tuple[str, str]] = {
    "M86": ("the service was denied because payment was already made for the same service", OTHER),
    "M127": ("the patient's medical record for this service is missing", DOCUMENTATION),
    "MA130": ("the claim has missing or invalid information and cannot be appealed as is", OTHER),
    "N29": ("documentation, records or notes are missing", DOCUMENTATION),
    "N30": ("the patient is not eligible for this service", COVERAGE),
    "N115": ("the decision follows a local coverage determination (LCD)", OTHER),
    "N290": ("the rendering provider's identifier is missing or invalid", OTHER),
    "N362": ("the number of days or units exceeds what is allowed", OTHER),
    "N381": ("see the contract or agreement for the terms of this payment", OTHER),
    "N657": ("this should be billed with the appropriate code for these services", OTHER),
    "M15": ("separately billed services were bundled", OTHER),
    "M80": ("not covered when performed during the same session as another service", OTHER),
}


def meaning(code: str) -> str:
    """'N30' -> 'N30: the patient is not eligible for this service'; an unknown code ->
    'remark code N123'."""
    known = RARC.get(code)
    return f"{code}: {known[0]}" if known else f"remark code {code}"


def category(code: str) -> str:
    """Which of recoup's records can answer ``code`` (``OTHER``: report it, do not judge it)."""
    known = RARC.get(code)
    return known[1] if known else OTHER
