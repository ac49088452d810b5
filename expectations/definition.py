"""What a rule is: an id, a description, one SQL query returning the failing paid lines, and the
thresholds that query uses by name.

The query (``rules/<id with dots as underscores>.sql``) reads the mart and ref tables and returns
one row per failing paid claim line: ``claim_key, claim_id, line_number, rule,
exposure DECIMAL(18,2), evidence`` (JSON text); ``claim_key`` tells apart claims sharing a
CLM01. Thresholds appear in it as ``{{ section.name }}`` placeholders and the as-of date as
``{{ as_of }}``; ``Rule.sql`` renders them. The same text feeds the findings table
(``catalog.run_rules``), the data-quality suite and the documentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from expectations.config import RulesConfig
from marts.templating import SqlValue, placeholders, render_sql

RULES_DIR = Path(__file__).parent / "rules"
FINDING_COLUMNS = ("claim_key", "claim_id", "line_number", "rule", "exposure", "evidence")

Needs = Literal["sessions", "eligibility"]


@dataclass(frozen=True)
class Rule:
    """One rule: ``id`` (stable), ``description`` (what, why, formula), its query and thresholds."""

    id: str
    description: str
    template: str
    thresholds: tuple[str, ...]
    needs: Needs | None = None

    @classmethod
    def define(
        cls,
        rule_id: str,
        description: str | None,
        *,
        thresholds: tuple[str, ...] = (),
        needs: Needs | None = None,
    ) -> Rule:
        """The rule whose query is ``rules/<rule_id with dots as underscores>.sql``.

        Checks that the query uses exactly the declared thresholds (plus ``as_of``).
        """
        template = (RULES_DIR / (rule_id.replace(".", "_") + ".sql")).read_text()
        used = placeholders(template) - {"as_of"}
        if used != set(thresholds):
            raise ValueError(
                f"rule {rule_id}: query uses {sorted(used)}, declared {sorted(thresholds)}"
            )
        if f"'{rule_id}' AS rule" not in template:
            raise ValueError(f"rule {rule_id}: query must select '{rule_id}' AS rule")
        return cls(rule_id, (description or "").strip(), template, thresholds, needs)

    def sql(self, config: RulesConfig, as_of: date) -> str:
        """The failing-lines query with thresholds and the as-of date filled in."""
        params: dict[str, SqlValue] = {name: config[name] for name in self.thresholds}
        params["as_of"] = as_of
        return render_sql(self.template, params)
