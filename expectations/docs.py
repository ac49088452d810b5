"""docs/rules.md, written from the rule definitions themselves (one definition per rule: its
docstring is its documentation), so the page cannot drift from the code.

    uv run python -m expectations.docs > docs/rules.md
"""

from __future__ import annotations

from collections.abc import Iterable

from expectations.catalog import active_rules
from expectations.config import RulesConfig, load_config
from expectations.definition import Rule, fill


def render(rules: Iterable[Rule] | None = None) -> str:
    """The page, for ``rules`` (``active_rules()`` when None)."""
    chosen = tuple(active_rules() if rules is None else rules)
    config = load_config()
    parts = [
        "# The rules\n",
        "Generated from `expectations/rules/*.py` by `uv run python -m expectations.docs`; "
        "a test fails when this page and the definitions disagree. Thresholds are the defaults "
        "of `expectations/defaults.toml` (override per run); `docs/decisions.md` says how the "
        "SPEC's open points are read.\n",
        "| rule | thresholds (default) | needs | what to do about a finding |",
        "| --- | --- | --- | --- |",
    ]
    for rule in chosen:
        values = ", ".join(f"`{name}` = {config[name]!r}" for name in rule.thresholds) or "none"
        parts.append(
            f"| [`{rule.id}`](#{rule.id.replace('.', '')}) | {values} | "
            f"{rule.needs or 'claims and remittances'} | {rule.action} |"
        )
    for rule in chosen:
        title, _, body = rule.description.strip().partition("\n")
        parts.append(f"\n## {rule.id}\n\n{title.split(': ', 1)[-1]}\n{body.rstrip()}\n")
        skips = _skips(rule, config)
        if skips:
            parts.append("Not evaluated (the reason the reports give):\n\n" + skips)
    return "\n".join(parts) + "\n"


def _skips(rule: Rule, config: RulesConfig) -> str:
    """The rule's preconditions as the reasons it is skipped with, thresholds at their defaults
    and what depends on the data left as ``{placeholders}``."""
    lines: list[str] = []
    for pre in rule.preconditions:
        values: dict[str, object] = {name: config[name] for name in pre.threshold_names()}
        for name in ("count", "listed", "names", "as_of"):
            values[name] = "{" + name + "}"
        lines.append(f"- wholly: `{fill(pre.skipped, values)}`")
        if pre.partial_sql:
            lines.append(f"- partly: `{fill(pre.partial, values)}`")
    return "\n".join(lines) + "\n" if lines else ""


if __name__ == "__main__":
    print(render(), end="")
