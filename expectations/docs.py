"""docs/rules.md, written from the rule definitions themselves (one definition per rule: its
docstring is its documentation), so the page cannot drift from the code.

    uv run python -m expectations.docs > docs/rules.md
"""

from __future__ import annotations

from collections.abc import Iterable

from expectations.catalog import active_rules
from expectations.config import load_config
from expectations.definition import Rule


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
        "| rule | thresholds (default) | needs |",
        "| --- | --- | --- |",
    ]
    for rule in chosen:
        values = ", ".join(f"`{name}` = {config[name]!r}" for name in rule.thresholds) or "none"
        parts.append(
            f"| [`{rule.id}`](#{rule.id.replace('.', '')}) | {values} | "
            f"{rule.needs or 'claims and remittances'} |"
        )
    for rule in chosen:
        title, _, body = rule.description.strip().partition("\n")
        parts.append(f"\n## {rule.id}\n\n{title.split(': ', 1)[-1]}\n{body.rstrip()}\n")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(render(), end="")
