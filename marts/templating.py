"""SQL templates: ``{{ name }}`` placeholders replaced by DuckDB literals.

One templating for every SQL file of the project: the mart models (``marts/sql``), the rule
queries (``expectations/rules``) and the report queries (``reporting/sql``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")

SqlValue = (
    str | int | float | bool | date | Decimal | Sequence[str] | Sequence[int] | Sequence[date]
) | None


def sql_literal(value: SqlValue) -> str:
    """``value`` written as a DuckDB literal (strings quoted, dates typed, lists as lists)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return f"CAST('{value}' AS DECIMAL(18,4))"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, Sequence):
        items = [sql_literal(item) for item in value]
        return "[" + ", ".join(items) + "]" if items else "[]::VARCHAR[]"
    raise TypeError(f"cannot write {value!r} as a SQL literal")


def placeholders(template: str) -> set[str]:
    """The parameter names a SQL template uses."""
    return set(_PLACEHOLDER.findall(template))


def render_sql(template: str, params: Mapping[str, SqlValue]) -> str:
    """Replace every ``{{ name }}`` with the literal of ``params[name]``; unknown names raise."""
    missing = placeholders(template) - set(params)
    if missing:
        raise KeyError(f"SQL parameters not provided: {', '.join(sorted(missing))}")
    return _PLACEHOLDER.sub(lambda match: sql_literal(params[match.group(1)]), template)
