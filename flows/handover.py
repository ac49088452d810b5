"""What the flows hand from the rules layer to the reports: the ``RuleBook`` (rule ids in catalog
order, their titles, the run's thresholds). The reports never import ``expectations``.
"""

from __future__ import annotations

from expectations.catalog import rule_titles
from expectations.config import RulesConfig, load_config
from reporting.rulebook import RuleBook


def report_rules(config: RulesConfig | None = None) -> RuleBook:
    """The rule book for a report of this run: ``config`` as the run's thresholds (defaults.toml
    when None)."""
    return RuleBook(titles=rule_titles(), thresholds=config or load_config())
