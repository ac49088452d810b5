"""``--deidentify``: member ids in report files replaced by keyed pseudonyms.

A member id becomes ``M-`` and the first 16 hex digits of HMAC-SHA256(key, member id). The key
comes from the environment (``RECOUP_DEIDENTIFY_KEY``), never from the command line, a flow
parameter or a log: the same key gives the same pseudonyms on every run (reports can be compared
and a finding traced back by whoever holds the key), another key gives other pseudonyms. The
warehouse keeps the real ids: it is the source of truth.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os

import duckdb

KEY_VARIABLE = "RECOUP_DEIDENTIFY_KEY"
PREFIX = "M-"
_FUNCTION = "recoup_pseudonym"


class MissingKey(ValueError):
    """``--deidentify`` without a key in the environment."""


def key_from_environment() -> bytes:
    """The key (UTF-8 bytes of ``RECOUP_DEIDENTIFY_KEY``); ``MissingKey`` when unset or empty."""
    key = os.environ.get(KEY_VARIABLE, "")
    if not key:
        raise MissingKey(
            f"--deidentify needs a key: set {KEY_VARIABLE} in the environment (keep it outside "
            "the repository; changing it changes every pseudonym)"
        )
    return key.encode("utf-8")


def pseudonym(key: bytes, member_id: str) -> str:
    """``M-`` + the first 16 hex digits of HMAC-SHA256(key, member_id)."""
    return PREFIX + hmac.new(key, member_id.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def register(con: duckdb.DuckDBPyConnection, key: bytes) -> str:
    """Make ``recoup_pseudonym(member_id)`` callable in ``con``'s SQL for ``key``; returns the
    function's name. Registered again (another key) it replaces the previous one."""
    with contextlib.suppress(duckdb.InvalidInputException, duckdb.CatalogException):
        con.remove_function(_FUNCTION)

    def apply(member_id: str) -> str:
        return pseudonym(key, member_id)

    con.create_function(_FUNCTION, apply, ["VARCHAR"], "VARCHAR")  # NULL in, NULL out
    return _FUNCTION
