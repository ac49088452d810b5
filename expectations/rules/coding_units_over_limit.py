"""coding.units_over_limit: more units on a line than the code allows per day.

Catches a paid claim line whose units exceed its code's per-day limit (ref.unit_limits: 1 for
90791, 90792, 90832-90838, 90839 from data/reference/unit_limits.csv, overlaid by a CMS MUE file
when configured and by ``unit_limits.per_day``). The same code on several claims of one day is
billing.duplicate.

Why payers care: units above the MUE are denied or recouped (Novitas denies units > 1 for
90832-90838).

Exposure: net paid x (units - limit) / units, rounded to cents (half to even).
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Rule
from expectations.words import number


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    units, limit = number(e.get("units")), number(e.get("max_units_per_day"))
    return f"{units} units of {e.get('code')}; limit {limit} a day"


RULE = Rule.define(
    "coding.units_over_limit",
    __doc__,
    source=__file__,
    order=90,
    explain=explain,
    action=actions.CORRECT_AND_RESUBMIT,
)
