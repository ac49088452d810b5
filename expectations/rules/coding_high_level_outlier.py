"""coding.high_level_outlier: a provider who bills the 60-minute code far more than its peers.

Catches every paid 90837 line of a rendering provider whose share of 90837 among its paid
90832/90834/90837 lines with dates of service in the ``outlier.window_months`` (12) months up to
the as-of date is an outlier: at least ``outlier.min_lines`` (30) such lines, a robust z-score
(share - median) / (``outlier.mad_scale`` 1.4826 x MAD) above ``outlier.z`` (2) over the providers
with at least 30 lines, and a share of at least ``outlier.share`` (0.6). When MAD is 0,
``outlier.mean_ad_scale`` (1.2533) x mean absolute deviation is used instead; when that is 0 too,
nobody is an outlier. Skipped when fewer than ``outlier.min_peers`` (3) providers qualify.

Why payers care: billing the higher-paying code too often is the classic audit trigger (CMS
comparative billing reports; payers downcode outliers' visits one level).

Exposure: for each such 90837 line, net paid minus the payer's allowed amount for 90834 (never
below 0; the whole net paid when 90834 has no allowed amount).
"""

from __future__ import annotations

from expectations import actions
from expectations.definition import Evidence, Precondition, Rule

# Skipped when too few rendering providers have enough paid 90832/90834/90837 lines in the window
# to be scored (the peers the z-score is computed over).
_PEERS = Precondition(
    needs=None,
    count_sql="""
        SELECT count(*) FROM (
            SELECT rendering_npi FROM mart.paid_lines
            WHERE code IN ('90832', '90834', '90837')
              AND date_of_service > {{ as_of }} - to_months({{ outlier.window_months }})
              AND date_of_service <= {{ as_of }}
            GROUP BY rendering_npi HAVING count(*) >= {{ outlier.min_lines }}
        )
    """,
    at_least="outlier.min_peers",
    skipped=(
        "too few peers: {count} rendering provider(s) with at least {outlier.min_lines} paid "
        "90832/90834/90837 lines in the {outlier.window_months} months to {as_of}; "
        "at least {outlier.min_peers} needed"
    ),
)


def explain(e: Evidence) -> str:
    """The finding in plain words, from its evidence."""
    try:
        share = f"{float(e['share_90837']):.0%}"
        median = f"{float(e['peer_median_share']):.0%}"
        z = f"{float(e['robust_z']):.1f}"
    except (KeyError, TypeError, ValueError):
        return "provider bills 90837 far more often than peers"
    return (
        f"provider bills 90837 for {share} of {e.get('lines')} sessions; "
        f"peers' median {median} (robust z {z})"
    )


RULE = Rule.define(
    "coding.high_level_outlier",
    __doc__,
    thresholds=(
        "outlier.window_months",
        "outlier.min_lines",
        "outlier.min_peers",
        "outlier.z",
        "outlier.share",
        "outlier.mad_scale",
        "outlier.mean_ad_scale",
    ),
    source=__file__,
    order=110,
    explain=explain,
    action=actions.KEEP_EVIDENCE,
    preconditions=(_PEERS,),
)
