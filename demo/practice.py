"""The simulated practice's fixed facts: payers, fee schedules, providers, codes and names.

Everything here is invented for the demo (amounts are plausible, not CMS or AMA values). The
shipped defaults in ``data/reference/fee_schedule.csv`` carry the same ``*`` amounts as
``BASE_FEES`` (a test keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from loading.npi import make_npi

#: Default allowed amounts in cents (the ``*`` rows of the fee schedule).
BASE_FEES: dict[str, int] = {
    "90785": 1450,
    "90791": 16500,
    "90792": 18500,
    "90832": 7200,
    "90833": 6800,
    "90834": 9800,
    "90836": 8800,
    "90837": 14200,
    "90838": 11500,
    "90839": 15000,
    "90840": 7000,
    "90846": 9500,
    "90847": 10000,
    "90853": 3000,
    "99213": 8500,
    "99214": 12200,
}

TIMED_MIN_MINUTES: dict[str, int] = {
    "90832": 16,
    "90834": 38,
    "90837": 53,
    "90833": 16,
    "90836": 38,
    "90838": 53,
}
PSYCHOTHERAPY_CODES = ("90832", "90834", "90837")
ADDON_CODES = frozenset({"90785", "90833", "90836", "90838", "90840"})
EM_CODES = frozenset(f"992{n:02d}" for n in (2, 3, 4, 5, 11, 12, 13, 14, 15))
ADDON_PRIMARIES: dict[str, frozenset[str]] = {
    "90785": frozenset(
        {"90791", "90792", "90832", "90833", "90834", "90836", "90837", "90838", "90853"}
    ),
    "90833": EM_CODES,
    "90836": EM_CODES,
    "90838": EM_CODES,
    "90840": frozenset({"90839"}),
}
INTERACTIVE_EXCLUDED = frozenset({"90839", "90840", "90846", "90847"})
UNIT_LIMITS: dict[str, int] = {
    c: 1 for c in ("90791", "90792", "90832", "90833", "90834", "90836", "90837", "90838", "90839")
}
TELEHEALTH_POS = frozenset({"02", "10"})
TELEHEALTH_MODIFIERS = frozenset({"95", "93", "GT", "FQ"})
#: Practice charges: the base fee x 1.6 rounded to whole dollars.
CHARGES: dict[str, int] = {code: round(fee * 1.6 / 100) * 100 for code, fee in BASE_FEES.items()}


@dataclass(frozen=True, slots=True)
class Payer:
    """A demo payer: identity, recoupment look-back and remittance habits."""

    payer_id: str
    name: str
    lookback_months: int
    telehealth_modifier_required: bool
    fee_factor: float  # its fee schedule = BASE_FEES x factor
    filing_indicator: str  # SBR09 / CLP06
    pay_weekday: int  # weekday its 835s are dated (0 = Monday)
    copay: int  # cents, PR-3 on the first line; 0 = coinsurance instead
    member_prefix: str
    share: float  # share of the practice's clients


PAYERS: tuple[Payer, ...] = (
    Payer("MCRDM", "DEMO MEDICARE PART B", 12, True, 0.85, "MB", 1, 0, "1EG", 0.30),
    Payer("BSTAR", "BLUE STAR HEALTH PLAN", 24, True, 1.05, "BL", 3, 2500, "BSX", 0.30),
    Payer("ACMEH", "ACME HEALTH INSURANCE", 18, False, 1.00, "CI", 4, 3000, "ACM", 0.20),
    Payer("KEYMU", "KEYSTONE MUTUAL", 24, False, 1.12, "CI", 2, 2000, "KMU", 0.20),
)
PAYER_BY_ID = {p.payer_id: p for p in PAYERS}


def fee_schedule() -> dict[tuple[str, str], int]:
    """Allowed cents by (payer_id, code), including the ``*`` default rows."""
    fees = {("*", code): amount for code, amount in BASE_FEES.items()}
    for payer in PAYERS:
        for code, amount in BASE_FEES.items():
            fees[(payer.payer_id, code)] = round(amount * payer.fee_factor)
    return fees


@dataclass(frozen=True, slots=True)
class Provider:
    """A rendering clinician: who bills for them and how they code."""

    npi: str
    last: str
    first: str
    billing_npi: str
    share_90837: float  # target share of 90837 among sessions that are not stepped down
    prescriber: bool  # bills E/M + 90833 for medication-management visits
    taxonomy: str


@dataclass(frozen=True, slots=True)
class BillingGroup:
    """A billing provider (group NPI) and whether its EHR sends the sessions feed."""

    npi: str
    name: str
    tax_id: str
    sends_sessions: bool
    share: float
    city: tuple[str, str, str, str]  # street, city, state, zip9


def _npi(base: int) -> str:
    return make_npi(f"{base:09d}")


GROUPS: tuple[BillingGroup, ...] = (
    BillingGroup(
        _npi(154_620_117),
        "LAKESIDE COUNSELING GROUP",
        "461234567",
        True,
        0.40,
        ("120 LAKE ST", "MADISON", "WI", "537031234"),
    ),
    BillingGroup(
        _npi(183_391_552),
        "NORTHPOINT BEHAVIORAL HEALTH",
        "462345678",
        True,
        0.40,
        ("88 NORTH AVE", "COLUMBUS", "OH", "432151111"),
    ),
    BillingGroup(
        _npi(127_745_030),
        "RIVERBEND THERAPY ASSOCIATES",
        "463456789",
        False,
        0.20,
        ("5 RIVER RD", "DENVER", "CO", "802022222"),
    ),
)
G1, G2, G3 = (g.npi for g in GROUPS)
SOCIAL_WORKER, PSYCHOLOGIST, NURSE_PRACTITIONER = "1041C0700X", "103TC0700X", "363LP0808X"
PROVIDERS: tuple[Provider, ...] = (
    Provider(_npi(100_240_391), "HALVORSEN", "INGRID", G1, 0.95, False, SOCIAL_WORKER),
    Provider(_npi(100_388_275), "OKAFOR", "DANIEL", G1, 0.30, False, PSYCHOLOGIST),
    Provider(_npi(100_512_860), "BRENNAN", "CLAIRE", G1, 0.40, False, SOCIAL_WORKER),
    Provider(_npi(100_677_104), "MATSUDA", "KEN", G1, 0.25, True, NURSE_PRACTITIONER),
    Provider(_npi(100_803_448), "VARGAS", "LUCIA", G2, 0.95, False, SOCIAL_WORKER),
    Provider(_npi(100_915_526), "LINDQVIST", "PETER", G2, 0.35, False, PSYCHOLOGIST),
    Provider(_npi(101_047_883), "ADEYEMI", "GRACE", G2, 0.45, False, SOCIAL_WORKER),
    Provider(_npi(101_160_239), "COSTA", "MIGUEL", G2, 0.20, True, NURSE_PRACTITIONER),
    Provider(_npi(101_298_714), "NOVAK", "HANA", G3, 0.38, False, SOCIAL_WORKER),
    Provider(_npi(101_420_665), "QUINN", "ROSE", G3, 0.28, False, PSYCHOLOGIST),
)
#: The providers planted as 90837 outliers (their target share is far above their peers').
OUTLIER_NPIS = frozenset(p.npi for p in PROVIDERS if p.share_90837 >= 0.9)
GROUP_BY_NPI = {g.npi: g for g in GROUPS}

LAST_NAMES = [
    "ANDERSON",
    "BAKER",
    "CARTER",
    "DIAZ",
    "EVANS",
    "FOSTER",
    "GARCIA",
    "HUGHES",
    "IBARRA",
    "JENSEN",
    "KELLY",
    "LOPEZ",
    "MORGAN",
    "NGUYEN",
    "OWENS",
    "PATEL",
    "QUINTERO",
    "REYES",
    "SULLIVAN",
    "TURNER",
    "UPTON",
    "VANCE",
    "WALSH",
    "XIONG",
    "YOUNG",
    "ZIMMER",
    "ABBOTT",
    "BELL",
    "COLLINS",
    "DUNN",
    "ELLIS",
    "FLYNN",
    "GRANT",
    "HOLT",
    "IRWIN",
    "JOYCE",
    "KNIGHT",
    "LANE",
    "MEYER",
    "NASH",
]
FIRST_NAMES = [
    "ALEX",
    "BAILEY",
    "CAMERON",
    "DANA",
    "ELLIOT",
    "FRANCES",
    "GALE",
    "HARPER",
    "IVY",
    "JORDAN",
    "KAI",
    "LOGAN",
    "MORGAN",
    "NOEL",
    "OAKLEY",
    "PARKER",
    "QUINN",
    "REESE",
    "SAGE",
    "TAYLOR",
    "UMA",
    "VAL",
    "WREN",
    "XAVI",
    "YARA",
    "ZANE",
    "AVERY",
    "BLAIR",
    "CASEY",
    "DREW",
    "EMERY",
    "FINLEY",
    "GRAY",
    "HAYDEN",
    "INDIA",
    "JESSIE",
    "KENDALL",
    "LEE",
    "MARLO",
    "NICO",
]
DIAGNOSES = ("F411", "F331", "F4310", "F329", "F419", "F4323", "F401", "F332")


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day (like DuckDB)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return min(
        day.replace(year=year, month=month, day=1) + timedelta(days=day.day - 1),
        next_month - timedelta(days=1),
    )
