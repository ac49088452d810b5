"""documentation.late_signature: a note signed long after the session.

Catches paid lines whose note was signed more than ``documentation.late_signature_days`` (7) days
after the date of service (date of ``note_signed_at`` minus date of service).

Why payers care: late signatures are a signature-guidance failure in OIG audits and make the note
look written for the audit; alone they rarely cost the payment.

Exposure: 0 (a warning).
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Rule
from expectations.preconditions import SESSIONS


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    return (
        f"note signed {e.get('days_to_signature')} days after the session "
        f"(limit {e.get('max_days')})"
    )


RULE = Rule.define(
    "documentation.late_signature",
    __doc__,
    thresholds=("documentation.late_signature_days",),
    source=__file__,
    order=60,
    explain=explain,
    action=actions.KEEP_EVIDENCE,
    preconditions=(SESSIONS,),
)
