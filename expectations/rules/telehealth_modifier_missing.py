"""telehealth.modifier_missing: a telehealth session billed without a telehealth modifier.

Catches a paid line with place of service 02 or 10 (SV105, else CLM05-1) and none of the modifiers
95, 93, GT or FQ, for a payer whose policy requires one (payers.csv
``telehealth_modifier_required``; payer row else '*'). Lists in data/reference/telehealth.csv,
overlaid by ``telehealth.places_of_service`` and ``telehealth.modifiers``.

Why payers care: the modifier tells the payer the service was delivered remotely (and how);
without it the claim misstates the service and is recouped.

Exposure: net paid.
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Rule


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    return (
        f"telehealth (place of service {e.get('place_of_service')}) without modifier "
        f"{'/'.join(str(m) for m in e.get('accepted_modifiers') or []) or '95'}"
    )


RULE = Rule.define(
    "telehealth.modifier_missing",
    __doc__,
    source=__file__,
    order=130,
    explain=explain,
    action=actions.CORRECT_AND_RESUBMIT,
)
