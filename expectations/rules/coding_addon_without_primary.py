"""coding.addon_without_primary: an add-on code billed without its primary, or with a forbidden one.

Catches a paid add-on (+90785, +90833, +90836, +90838, +90840) with no paid qualifying primary
line for the same patient, rendering provider and date on any claim (E/M for +90833/36/38; 90839
for +90840; 90791/90792/90832-90838/90853 for +90785), or +90785 billed with 90839, 90840, 90846 or
90847. Primaries come from data/reference/addon_primaries.csv.

Why payers care: an add-on is only payable with its primary; add-on billing (psychotherapy with
E/M) has drawn OIG audits and a False Claims Act settlement.

Exposure: net paid of the add-on line.
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Rule
from expectations.words import codes


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    if e.get("forbidden_codes_found"):
        return (
            f"add-on {e.get('addon_code')} billed with {codes(e['forbidden_codes_found'])}, "
            "which it may not accompany"
        )
    return f"add-on {e.get('addon_code')} with no paid primary code that day"


RULE = Rule.define(
    "coding.addon_without_primary",
    __doc__,
    source=__file__,
    order=70,
    explain=explain,
    action=actions.CORRECT_AND_RESUBMIT,
)
