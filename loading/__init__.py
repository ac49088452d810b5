"""Loading: files in, staging tables out. The X12 readers (``x12/``), the CSV/Parquet feeds, the
file ledger, the per-file and per-claim structural gate with its staging contracts
(``structural``), ``ingest`` (one inbox into staging) and the shipped reference data
(``reference``).

Imports only the warehouse core below it (docs/architecture.md).
"""
