"""necessity.no_step_down: full-hour sessions continued after symptoms improved.

Catches a paid 90837 for a client whose ``step_down.sessions`` (3) most recent earlier sessions
with the same rendering provider that carry a PHQ-9 or GAD-7 score (paid lines; one per date, the
highest scores of that date) all scored below ``step_down.score`` (10) on every score present.

Why payers care: medical necessity; when a weekly full hour continues after symptoms improved, the
payer decides a shorter session was appropriate and takes the difference.

Exposure: net paid minus the payer's allowed amount for 90834 (never below 0; the whole net paid
when 90834 has no allowed amount).
"""

from __future__ import annotations

from collections.abc import Mapping

from expectations import actions
from expectations.definition import Evidence, Rule
from expectations.preconditions import SESSIONS


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    sessions = e.get("earlier_scored_sessions")
    if isinstance(sessions, list):
        dates = [str(s.get("date_of_service")) for s in sessions if isinstance(s, Mapping)]
        earlier = f"last {len(sessions)} scored sessions ({', '.join(dates)})"
    else:
        earlier = f"last {sessions} scored sessions"
    return (
        f"{earlier} all scored below {e.get('score_threshold')} "
        f"(highest {e.get('highest_score')}): a 90834 would do"
    )


RULE = Rule.define(
    "necessity.no_step_down",
    __doc__,
    thresholds=("step_down.sessions", "step_down.score"),
    source=__file__,
    order=120,
    explain=explain,
    action=actions.KEEP_EVIDENCE,
    preconditions=(SESSIONS,),
)
