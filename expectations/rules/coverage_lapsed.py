"""coverage.lapsed: a paid service on a date the member had no active coverage with that payer.

Catches dates of service inside no active coverage span of the billed payer for that member, as
known at the as-of date: retroactive terminations learned after payment (a later 271 with an
earlier end date cuts the span) and dates before coverage began. Only evaluated for a member and
payer with at least one eligibility response that speaks about coverage.

Why payers care: a payer that learns coverage had ended reverses the claim (CLP02 = 22, CARC
27/200/26); the whole payment comes back.

Exposure: net paid.
"""

from expectations.definition import Rule

RULE = Rule.define("coverage.lapsed", __doc__, needs="eligibility")
