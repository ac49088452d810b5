"""Named SQL blocks of the report's newer ``sql/*.sql`` files (``-- name: <query>`` each), run
with ``marts.templating`` parameters; rows as dicts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import duckdb

from marts.templating import SqlValue, render_sql
from reporting.queries import SQL_DIR

_NAME = re.compile(r"^-- name: ([a-z_]+)\s*$", re.MULTILINE)


@cache
def blocks(file_name: str) -> dict[str, str]:
    parts = _NAME.split((SQL_DIR / file_name).read_text())
    return {parts[i]: parts[i + 1].strip().rstrip(";") for i in range(1, len(parts), 2)}


def run(
    con: duckdb.DuckDBPyConnection,
    file_name: str,
    name: str,
    params: Mapping[str, SqlValue] | None = None,
) -> list[dict[str, Any]]:
    result = con.execute(render_sql(blocks(file_name)[name], params or {}))
    columns = [column[0] for column in result.description or []]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
