"""What the reports know of the rules, handed to them by the caller.

The reports read findings, never the rule definitions: the flows build a ``RuleBook`` from the
rules layer (``flows/handover.py``) and pass it down, so ``reporting/`` imports nothing above the
marts (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RuleBook:
    """Every rule id, in catalog order, with its one-line title; and the run's thresholds.

    ``titles`` gives the rows of the "by rule" figures (a rule with no finding shows zero);
    ``thresholds`` is the run's rule configuration, of which the reports read the outlier window
    and cut-offs (``outlier.*``) to scope the peer chart the way the rule did.
    """

    titles: Mapping[str, str]
    thresholds: Mapping[str, Any]

    @property
    def ids(self) -> tuple[str, ...]:
        """The rule ids, in catalog order."""
        return tuple(self.titles)

    def title(self, rule: str) -> str:
        """The rule's title, or its id when the book does not know it."""
        return self.titles.get(rule, rule)
