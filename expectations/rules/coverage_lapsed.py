"""coverage.lapsed: a paid service on a date the member had no active coverage with that payer.

Catches dates of service inside no active coverage span of the billed payer for that member, as
known at the as-of date: retroactive terminations learned after payment (a later 271 with an
earlier end date cuts the span) and dates before coverage began. Only evaluated for a member and
payer with at least one eligibility response that speaks about coverage.

Why payers care: a payer that learns coverage had ended reverses the claim (CLP02 = 22, CARC
27/200/26); the whole payment comes back.

Exposure: net paid.
"""

from __future__ import annotations

from dataclasses import replace

from expectations import actions
from expectations.definition import Evidence, Rule
from expectations.preconditions import ELIGIBILITY

# Besides any eligibility response at all: not evaluated for the payers with paid lines but no
# response that speaks about coverage.
_UNCHECKED_PAYERS = """
    SELECT DISTINCT coalesce(l.payer_id, '(none)') FROM mart.paid_lines AS l
    WHERE l.payer_id IS NULL OR l.payer_id NOT IN (
        SELECT payer_id FROM mart.eligibility_checks
        WHERE speaks_about_coverage AND payer_id IS NOT NULL
    )
    ORDER BY 1
"""
_PARTIAL = (
    "partial: not evaluated for {listed} payer(s) with no eligibility response about coverage: "
    "{names}"
)


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    status = e.get("status_on_date") or "no active coverage"
    text = f"no active coverage on {e.get('date_of_service')} ({status}"
    if e.get("decided_by_check_date"):
        text += f", per the eligibility response of {e['decided_by_check_date']}"
    text += ")"
    if e.get("covered_until"):
        text += f"; coverage ended {e['covered_until']}"
    if e.get("covered_from"):
        text += f"; coverage began {e['covered_from']}"
    return text


RULE = Rule.define(
    "coverage.lapsed",
    __doc__,
    source=__file__,
    order=10,
    explain=explain,
    action=actions.REVERIFY_ELIGIBILITY,
    preconditions=(replace(ELIGIBILITY, partial_sql=_UNCHECKED_PAYERS, partial=_PARTIAL),),
)
