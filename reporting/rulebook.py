"""What the reports know of the rules, handed to them by the caller.

The reports read findings, never the rule definitions: the flows build a ``RuleBook`` from the
rules layer (``flows/handover.py``) and pass it down, so ``reporting/`` imports nothing above the
marts (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Evidence = Mapping[str, Any]


@dataclass(frozen=True)
class RuleBook:
    """Every rule id, in catalog order, with its one-line title; the run's thresholds; and how
    each rule's evidence reads in plain words.

    ``titles`` gives the rows of the "by rule" figures (a rule with no finding shows zero);
    ``thresholds`` is the run's rule configuration, of which the reports read the outlier window
    and cut-offs (``outlier.*``) to scope the peer chart the way the rule did; ``reasons`` maps a
    rule id to its ``explain`` (the rule's own, handed over with it); ``actions`` maps a rule id
    to what to do about its findings (the rule's own, from a fixed vocabulary).
    """

    titles: Mapping[str, str]
    thresholds: Mapping[str, Any]
    reasons: Mapping[str, Callable[[Evidence], str]] = field(default_factory=dict)
    actions: Mapping[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> tuple[str, ...]:
        """The rule ids, in catalog order."""
        return tuple(self.titles)

    @property
    def action_names(self) -> tuple[str, ...]:
        """The actions the rules name, each once, in the order of the first rule naming it."""
        return tuple(dict.fromkeys(self.actions.values()))

    def title(self, rule: str) -> str:
        """The rule's title, or its id when the book does not know it."""
        return self.titles.get(rule, rule)

    def explain(self, rule: str, evidence: Evidence) -> str:
        """One sentence saying why ``rule`` fired, from its evidence ("note documents 37 minutes;
        90834 needs 38"). An unknown rule or missing values fall back to the rule id, never to an
        error: the report must render whatever the rules write."""
        writer = self.reasons.get(rule)
        if writer is None:
            return rule
        try:
            return writer(evidence)
        except (KeyError, TypeError, ValueError):
            return rule
