"""Owner-only files: everything recoup creates (warehouse, landing, quarantine, reports, GX
validation results) holds health data, so the process creates it 600/700 unless told otherwise.

The ``recoup`` command sets the process umask from ``RECOUP_UMASK`` (octal, default ``077``)
before anything runs; ``022`` gives the usual 644/755 for a folder shared on purpose. Files that
exist already keep their modes: the umask only governs what is created.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

UMASK_VARIABLE = "RECOUP_UMASK"
DEFAULT_UMASK = 0o077


def umask_from(environ: Mapping[str, str]) -> int:
    """The umask ``RECOUP_UMASK`` asks for (octal, 000-777), or 077; ``ValueError`` otherwise."""
    text = environ.get(UMASK_VARIABLE, "").strip()
    if not text:
        return DEFAULT_UMASK
    try:
        value = int(text, 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o777:
        raise ValueError(
            f"{UMASK_VARIABLE}={text!r} is not an octal umask such as 077 (owner only) or 022"
        )
    return value


def apply_umask(environ: Mapping[str, str] | None = None) -> int:
    """Set the process umask from ``environ`` (default: the process environment); returns it."""
    value = umask_from(os.environ if environ is None else environ)
    os.umask(value)
    return value
