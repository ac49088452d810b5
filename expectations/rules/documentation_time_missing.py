"""documentation.time_missing: a timed psychotherapy code whose session note records no minutes.

Catches paid lines of the timed codes (90832-90838) whose session row has no minutes. A line with
no session row at all is ``documentation.note_missing`` instead.

Why payers care: time not documented was the largest failure in the OIG's 2023 psychotherapy audit
(60 of 128 failed enrollee-days); without minutes the time-based code is unsupported.

Exposure: net paid.
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Rule
from expectations.preconditions import SESSIONS


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    return f"session note gives no minutes for timed code {e.get('code')}"


RULE = Rule.define(
    "documentation.time_missing",
    __doc__,
    source=__file__,
    order=40,
    explain=explain,
    action=actions.ADD_MINUTES,
    preconditions=(SESSIONS,),
)
