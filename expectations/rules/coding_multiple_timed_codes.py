"""coding.multiple_timed_codes: several psychotherapy time codes for one session.

Catches two or more different codes among 90832/90834/90837 for the same patient, rendering
provider and date (the same code twice is billing.duplicate or coding.units_over_limit).

Why payers care: one timed code per session (75 minutes is one 90837, not 90832 + 90834); the
extra lines are recouped.

Exposure: net paid of every such line except the highest-paid one (ties keep the smallest claim
id, line number).
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Rule
from expectations.words import codes


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    return (
        f"{codes(e.get('codes_that_day'))} billed the same day; only one is allowed "
        f"(kept {e.get('kept_code')} on claim {e.get('kept_claim_id')} "
        f"line {e.get('kept_line_number')})"
    )


RULE = Rule.define(
    "coding.multiple_timed_codes",
    __doc__,
    source=__file__,
    order=80,
    explain=explain,
    action=actions.CORRECT_AND_RESUBMIT,
)
