"""billing.duplicate: the same service paid on two claims.

Catches the same patient, rendering provider, date, code and modifiers (as a set) on two or more
different claims, neither a replacement or void (frequency 7/8), all lines net paid above 0.

Why payers care: a duplicate payment is recouped in full as soon as it is found (CARC 18, B13).

Exposure: net paid of every copy after the first (ordered by first payment date, then claim id,
then line number).
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Rule


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    return (
        f"same service already paid on claim {e.get('kept_claim_id')} "
        f"line {e.get('kept_line_number')} (first paid {e.get('kept_first_payment_date')})"
    )


RULE = Rule.define(
    "billing.duplicate",
    __doc__,
    source=__file__,
    order=100,
    explain=explain,
    action=actions.VOID_CLAIM,
)
