"""How much memory DuckDB may use: a bound that holds at 10M claim lines (issue 10: RSS < 6 GiB).

DuckDB's own default is 80% of the machine's memory, which a 10M-line run fills (and which leaves
nothing to a scheduler's other work). recoup sets ``memory_limit`` on every connection to
``RECOUP_MEMORY_LIMIT`` when given (DuckDB's size syntax: ``4GB``, ``512MiB``, ``6 GiB``), else the
smaller of 4 GiB and half the machine's memory. Work larger than the limit spills to DuckDB's
temporary folder beside the warehouse (``<db>.tmp``, owner-only like everything recoup creates);
the Python side of a run (Prefect, GX, Arrow buffers) comes on top of it, which is why the default
leaves room below the 6 GiB target.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

MEMORY_VARIABLE = "RECOUP_MEMORY_LIMIT"
DEFAULT_CAP_MIB = 4096
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}  # fmt: skip
SMALLEST = 64 * 2**20  # DuckDB cannot run recoup's marts in less


def physical_memory_mib() -> int | None:
    """The machine's memory in MiB, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        return None


def default_memory_limit() -> str:
    """4 GiB, or half the machine's memory when that is less."""
    physical = physical_memory_mib()
    cap = DEFAULT_CAP_MIB if physical is None else min(DEFAULT_CAP_MIB, physical // 2)
    return f"{max(cap, SMALLEST // 2**20)}MiB"


def memory_limit_from(environ: Mapping[str, str]) -> str:
    """The ``memory_limit`` DuckDB is given; ``ValueError`` naming the variable for a value that
    is not a size of at least 64 MiB."""
    text = environ.get(MEMORY_VARIABLE, "").strip()
    if not text:
        return default_memory_limit()
    match = _SIZE.match(text)
    if match is None or float(match.group(1)) * _UNITS[match.group(2).upper()] < SMALLEST:
        raise ValueError(
            f"{MEMORY_VARIABLE}={text!r} is not a memory size of at least 64 MiB "
            "such as 4GB, 512MiB or 6 GiB"
        )
    return f"{match.group(1)}{match.group(2)}"


def memory_limit() -> str:
    """``memory_limit_from`` the process environment."""
    return memory_limit_from(os.environ)
