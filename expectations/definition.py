"""What a rule is: an id, a description, one SQL query returning the failing paid lines, the
thresholds that query uses by name, what the rule needs to be evaluated (its preconditions) and
how its evidence reads in plain words.

A rule is one module pair in a rules folder (``expectations/rules``, see ``catalog.discover``):
``<id with dots as underscores>.py`` defines ``RULE = Rule.define(...)`` (its docstring is the
rule's documentation) and ``<same name>.sql`` holds the query. The query reads the mart and ref
tables and returns one row per failing paid claim line: ``claim_key, claim_id, line_number, rule,
exposure DECIMAL(18,2), evidence`` (JSON text); ``claim_key`` tells apart claims sharing a CLM01.
Thresholds appear in it as ``{{ section.name }}`` placeholders and the as-of date as
``{{ as_of }}``; ``Rule.sql`` renders them. The same text feeds the findings table
(``catalog.run_rules``), the data-quality suite and the documentation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from expectations.actions import check_action
from expectations.config import RulesConfig
from marts.templating import SqlValue, placeholders, render_sql

RULES_DIR = Path(__file__).parent / "rules"
FINDING_COLUMNS = ("claim_key", "claim_id", "line_number", "rule", "exposure", "evidence")

Evidence = Mapping[str, Any]
Explain = Callable[[Evidence], str]

_FIELD = re.compile(r"\{([A-Za-z_][\w.]*)\}")


def fill(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with every ``{name}`` (dotted names allowed: ``{outlier.min_lines}``) replaced
    by ``str(values[name])``; unknown names raise ``KeyError``."""
    return _FIELD.sub(lambda match: str(values[match.group(1)]), template)


@dataclass(frozen=True)
class Precondition:
    """What a rule needs from the warehouse to be evaluated, as data the rule owns.

    ``count_sql`` (a ``SELECT count(*)``; may use ``{{ as_of }}`` and thresholds) must reach
    ``at_least`` (a number, or a threshold name) or the rule is skipped wholly, with ``skipped``
    as the reason. Otherwise, when ``partial_sql`` names what the rule cannot be evaluated for
    (one column, sorted), the rule is partly skipped with ``partial`` as the reason. Reasons are
    templates: ``{count}`` (the count), ``{names}`` (the listed names), ``{listed}`` (how many),
    ``{as_of}`` and any threshold by name (``{outlier.min_lines}``).

    ``needs`` is the data source it stands for in docs/rules.md ("sessions", "eligibility"), or
    None for a condition on the claims themselves.
    """

    needs: str | None
    count_sql: str
    skipped: str
    at_least: int | str = 1
    partial_sql: str | None = None
    partial: str = ""

    def threshold_names(self) -> set[str]:
        names = placeholders(self.count_sql) | placeholders(self.partial_sql or "")
        names |= {name for name in _FIELD.findall(self.skipped + self.partial) if "." in name}
        if isinstance(self.at_least, str):
            names.add(self.at_least)
        return names - {"as_of"}


@dataclass(frozen=True)
class Rule:
    """One rule: ``id`` (stable), ``description`` (what, why, formula), its query and thresholds;
    ``order`` (its place in the catalog and the reports), ``preconditions`` (when it is skipped),
    ``explain`` (its evidence in plain words, for the person who fixes the claim) and ``action``
    (what to do about a finding: one of ``expectations.actions.ACTIONS``)."""

    id: str
    description: str
    template: str
    thresholds: tuple[str, ...]
    order: int
    explain: Explain
    preconditions: tuple[Precondition, ...] = ()
    action: str = ""

    @property
    def needs(self) -> str | None:
        """The data sources the rule needs beyond claims and remittances ("sessions"), or None."""
        sources = [p.needs for p in self.preconditions if p.needs]
        return ", ".join(dict.fromkeys(sources)) or None

    @classmethod
    def define(
        cls,
        rule_id: str,
        description: str | None,
        *,
        source: str,
        order: int,
        explain: Explain,
        action: str,
        thresholds: tuple[str, ...] = (),
        preconditions: tuple[Precondition, ...] = (),
    ) -> Rule:
        """The rule whose query is the ``.sql`` next to ``source`` (the module's ``__file__``),
        a file named after the rule id (dots as underscores).

        Checks that the query uses exactly the declared thresholds (plus ``as_of``) and that
        ``action`` is one of the vocabulary (``expectations.actions``).
        """
        path = Path(source).with_suffix(".sql")
        if path.stem != rule_id.replace(".", "_"):
            raise ValueError(f"rule {rule_id} is defined in {path.stem}.py")
        template = path.read_text()
        used = placeholders(template) - {"as_of"}
        if used != set(thresholds):
            raise ValueError(
                f"rule {rule_id}: query uses {sorted(used)}, declared {sorted(thresholds)}"
            )
        if f"'{rule_id}' AS rule" not in template:
            raise ValueError(f"rule {rule_id}: query must select '{rule_id}' AS rule")
        return cls(
            rule_id,
            (description or "").strip(),
            template,
            thresholds,
            order,
            explain,
            preconditions,
            check_action(rule_id, action),
        )

    def sql(self, config: RulesConfig, as_of: date) -> str:
        """The failing-lines query with thresholds and the as-of date filled in."""
        params: dict[str, SqlValue] = {name: config[name] for name in self.thresholds}
        params["as_of"] = as_of
        return render_sql(self.template, params)
