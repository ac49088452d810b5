"""exposure.json: money as JSON numbers of exact cents, keys sorted, byte-identical on rerun.

Money leaves DuckDB as ``Decimal``; ``money`` rounds it to cents and turns it into the ``float``
whose shortest representation (what ``json.dumps`` writes) is that exact decimal: any amount with
at most 15 significant digits (below ten trillion dollars) round-trips, and ``money`` refuses the
rest rather than write a wrong digit.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from warehouse.money import CENT


def money(value: Decimal | int | None) -> float:
    """``value`` rounded to cents (half to even) as a float that prints exactly."""
    cents = Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_EVEN)
    number = float(cents)
    if Decimal(repr(number)) != cents:
        raise ValueError(f"{cents} cannot be written exactly as a JSON number")
    return number + 0.0  # -0.0 -> 0.0


def to_json(summary: dict[str, Any]) -> str:
    """The exposure.json text: indent 2, keys sorted, a final newline."""
    return json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
