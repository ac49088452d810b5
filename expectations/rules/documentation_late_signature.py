"""documentation.late_signature: a note signed long after the session.

Catches paid lines whose note was signed more than ``documentation.late_signature_days`` (7) days
after the date of service (date of ``note_signed_at`` minus date of service).

Why payers care: late signatures are a signature-guidance failure in OIG audits and make the note
look written for the audit; alone they rarely cost the payment.

Exposure: 0 (a warning).
"""

from expectations.definition import Rule

RULE = Rule.define(
    "documentation.late_signature",
    __doc__,
    thresholds=("documentation.late_signature_days",),
    needs="sessions",
)
