"""coding.addon_without_primary: an add-on code billed without its primary, or with a forbidden one.

Catches a paid add-on (+90785, +90833, +90836, +90838, +90840) with no paid qualifying primary
line for the same patient, rendering provider and date on any claim (E/M for +90833/36/38; 90839
for +90840; 90791/90792/90832-90838/90853 for +90785), or +90785 billed with 90839, 90840, 90846 or
90847. Primaries come from data/reference/addon_primaries.csv.

Why payers care: an add-on is only payable with its primary; add-on billing (psychotherapy with
E/M) has drawn OIG audits and a False Claims Act settlement.

Exposure: net paid of the add-on line.
"""

from expectations.definition import Rule

RULE = Rule.define("coding.addon_without_primary", __doc__)
