"""Preconditions several rules share (``definition.Precondition``): the sessions feed and the
eligibility responses. A rule lists the ones it needs; a condition of its own (the outlier rule's
peers, the lapsed rule's payers) it defines in its own module."""

from __future__ import annotations

from expectations.definition import Precondition

# Rules that read the practice's sessions feed: skipped with no session row at all; partly skipped
# for the billing providers with paid lines that send no sessions.
SESSIONS = Precondition(
    needs="sessions",
    count_sql="SELECT count(*) FROM stg.sessions",
    skipped="no sessions feed: the warehouse holds no session rows",
    partial_sql="""
        SELECT DISTINCT l.billing_npi FROM mart.paid_lines AS l
        WHERE l.billing_npi NOT IN (
            SELECT cl.billing_npi FROM mart.claim_lines AS cl
            SEMI JOIN stg.sessions AS s ON s.claim_id = cl.claim_id
            WHERE cl.billing_npi IS NOT NULL
        )
        ORDER BY 1
    """,
    partial=(
        "partial: not evaluated for {listed} billing provider(s) that send no sessions feed: "
        "{names}"
    ),
)

# Rules that read eligibility responses: skipped when the warehouse holds none.
ELIGIBILITY = Precondition(
    needs="eligibility",
    count_sql="SELECT count(*) FROM mart.eligibility_checks",
    skipped="no eligibility data: the warehouse holds no eligibility response",
)
