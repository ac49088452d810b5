"""coverage.unverified: a paid service with no recent eligibility check.

Catches paid lines with no eligibility response for the member and payer dated within
``coverage.unverified_days`` (30) days on or before the date of service
(DOS - 30 days <= BHT04 <= DOS). Evaluated for every paid line when the warehouse holds any
eligibility response; skipped when it holds none.

Why payers care: coverage ends without the client saying so (job loss); an unchecked session is
where a retroactive termination lands. Not money by itself.

Exposure: 0 (a warning).
"""

from expectations.definition import Rule

RULE = Rule.define(
    "coverage.unverified",
    __doc__,
    thresholds=("coverage.unverified_days",),
    needs="eligibility",
)
