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

from expectations.definition import Rule

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
)
