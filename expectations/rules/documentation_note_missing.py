"""documentation.note_missing: a paid service with no note, or an unsigned one.

Catches paid lines with no session row, or a row whose ``note_signed_at`` is empty; evaluated only
for billing providers that send a sessions feed (at least one of their claims has a session row).

Why payers care: a service without a signed record is, to an auditor, a service not provided;
the whole payment is recouped (and extrapolated).

Exposure: net paid.
"""

from expectations.definition import Rule

RULE = Rule.define("documentation.note_missing", __doc__, needs="sessions")
