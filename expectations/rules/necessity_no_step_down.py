"""necessity.no_step_down: full-hour sessions continued after symptoms improved.

Catches a paid 90837 for a client whose ``step_down.sessions`` (3) most recent earlier sessions
with the same rendering provider that carry a PHQ-9 or GAD-7 score (paid lines; one per date, the
highest scores of that date) all scored below ``step_down.score`` (10) on every score present.

Why payers care: medical necessity; when a weekly full hour continues after symptoms improved, the
payer decides a shorter session was appropriate and takes the difference.

Exposure: net paid minus the payer's allowed amount for 90834 (never below 0; the whole net paid
when 90834 has no allowed amount).
"""

from expectations.definition import Rule

RULE = Rule.define(
    "necessity.no_step_down",
    __doc__,
    thresholds=("step_down.sessions", "step_down.score"),
    needs="sessions",
)
