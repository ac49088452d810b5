"""Prefect flows, tasks and the ``recoup`` command.

Importing this package sets recoup's patient start-up default for Prefect's temporary server
before any module here imports Prefect (Prefect reads its settings once, at import).
"""

from flows.settings import patient_startup

patient_startup()
