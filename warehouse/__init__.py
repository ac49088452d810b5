"""The warehouse core: the one place that opens DuckDB (``connection``), its versioned schema
(``migrations/NNN_*.sql``), and Great Expectations run on it (``gx_runner``, ``gx_duckdb``).

The bottom layer: it imports no other recoup package (docs/architecture.md).
"""
