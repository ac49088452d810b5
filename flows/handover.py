"""What the flows hand from the rules layer to the reports: the ``RuleBook`` (rule ids in catalog
order, their titles, the run's thresholds, each rule's plain-words reason). The reports never
import ``expectations``.
"""

from __future__ import annotations

from collections.abc import Iterable

from expectations.catalog import active_rules, rule_titles
from expectations.config import RulesConfig, load_config
from expectations.definition import Rule
from reporting.rulebook import RuleBook


def report_rules(
    config: RulesConfig | None = None, rules: Iterable[Rule] | None = None
) -> RuleBook:
    """The rule book for a report of this run: ``config`` as the run's thresholds (defaults.toml
    when None), ``rules`` those of ``active_rules()`` when None."""
    chosen = tuple(active_rules() if rules is None else rules)
    return RuleBook(
        titles=rule_titles(chosen),
        thresholds=config or load_config(),
        reasons={rule.id: rule.explain for rule in chosen},
        actions={rule.id: rule.action for rule in chosen},
    )
