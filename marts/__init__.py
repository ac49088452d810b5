"""Marts: the SQL models rebuilt from staging for one as-of date (``models``, ``sql/``) and the
SQL templating every layer above uses (``templating``).

Imports only the warehouse core below it; reads the staging tables loading wrote
(docs/architecture.md).
"""
