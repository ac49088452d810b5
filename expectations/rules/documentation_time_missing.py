"""documentation.time_missing: a timed psychotherapy code whose session note records no minutes.

Catches paid lines of the timed codes (90832-90838) whose session row has no minutes. A line with
no session row at all is ``documentation.note_missing`` instead.

Why payers care: time not documented was the largest failure in the OIG's 2023 psychotherapy audit
(60 of 128 failed enrollee-days); without minutes the time-based code is unsupported.

Exposure: net paid.
"""

from expectations.definition import Rule

RULE = Rule.define("documentation.time_missing", __doc__, needs="sessions")
