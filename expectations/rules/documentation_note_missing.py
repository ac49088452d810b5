"""documentation.note_missing: a paid service with no note, or an unsigned one.

Catches paid lines with no session row, or a row whose ``note_signed_at`` is empty; evaluated only
for billing providers that send a sessions feed (at least one of their claims has a session row).

Why payers care: a service without a signed record is, to an auditor, a service not provided;
the whole payment is recouped (and extrapolated).

Exposure: net paid.
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Rule
from expectations.preconditions import SESSIONS


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    if e.get("session_row"):
        return "session note not signed"
    return "no session note for this claim"


RULE = Rule.define(
    "documentation.note_missing",
    __doc__,
    source=__file__,
    order=50,
    explain=explain,
    action=actions.SIGN_NOTE,
    preconditions=(SESSIONS,),
)
