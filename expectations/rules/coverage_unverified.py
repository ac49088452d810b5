"""coverage.unverified: a paid service with no recent eligibility check.

Catches paid lines with no eligibility response for the member and payer dated within
``coverage.unverified_days`` (30) days on or before the date of service
(DOS - 30 days <= BHT04 <= DOS). Evaluated for every paid line when the warehouse holds any
eligibility response; skipped when it holds none.

Why payers care: coverage ends without the client saying so (job loss); an unchecked session is
where a retroactive termination lands. Not money by itself.

Exposure: 0 (a warning).
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Rule
from expectations.preconditions import ELIGIBILITY


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    if not e.get("last_check_on_or_before"):
        return "eligibility never checked on or before the session"
    return (
        f"last eligibility check {e['last_check_on_or_before']}, "
        f"{e.get('days_since_check')} days before the session (limit {e.get('max_days')})"
    )


RULE = Rule.define(
    "coverage.unverified",
    __doc__,
    thresholds=("coverage.unverified_days",),
    source=__file__,
    order=20,
    explain=explain,
    action=actions.REVERIFY_ELIGIBILITY,
    preconditions=(ELIGIBILITY,),
)
