"""coding.time_unsupported: a timed psychotherapy code the documented minutes do not reach.

Catches 90832/90834/90837 and the add-ons +90833/+90836/+90838 whose session minutes are below the
code's minimum (``coding.timed_minutes``: 16/38/53 for the three bands of each family).

Why payers care: upcoding by time (a 60-minute code for a 45-minute session) is the commonest
audit finding in psychotherapy; the payer downcodes to what the minutes support and takes the
difference, or all of it under 16 minutes (not billable).

Exposure: net paid minus the payer's allowed amount for the highest code of the same family those
minutes support (never below 0; allowed amount from ref.fee_schedule, payer row else '*'); the
whole net paid under 16 minutes or when that code has no allowed amount.
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Rule
from expectations.preconditions import SESSIONS
from expectations.words import money


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    text = (
        f"note documents {e.get('minutes')} minutes; {e.get('code')} needs {e.get('code_minimum')}"
    )
    if e.get("supported_code"):
        text += f" (supports {e['supported_code']}"
        if e.get("allowed_amount") is not None:
            text += f", allowed {money(e['allowed_amount'])}"
        elif e.get("priced") is False:
            text += ", which has no allowed amount"
        text += ")"
    else:
        text += " (too short for any timed code)"
    return text


RULE = Rule.define(
    "coding.time_unsupported",
    __doc__,
    thresholds=("coding.timed_minutes",),
    source=__file__,
    order=30,
    explain=explain,
    action=actions.CORRECT_AND_RESUBMIT,
    preconditions=(SESSIONS,),
)
