"""The warehouse's refusals, in a module that imports no DuckDB: the ``recoup`` command maps them
to exit codes without paying DuckDB's import for commands that never open the warehouse (a
``--help``). ``warehouse.connection`` raises them and re-exports them.
"""

from __future__ import annotations


class WarehouseLocked(RuntimeError):
    """Another process holds the warehouse file (DuckDB allows one writer per file)."""


class WarehouseRefused(RuntimeError):
    """The file is not a warehouse recoup may open (not DuckDB, another program's, a newer
    release's); nothing was written to it."""
