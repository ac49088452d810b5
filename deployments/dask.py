"""The nightly and backfill flows with the Dask task runner, for work-pool deployments: point a
deployment's ``entrypoint`` in ``prefect.yaml`` at ``deployments/dask.py:nightly_on_dask`` (or
``backfill_on_dask``) instead of the flow itself. The flow-run process reads, when it imports this
module, ``RECOUP_DASK_ADDRESS`` (a scheduler, ``tcp://HOST:PORT``; unset: a temporary local
cluster) and ``RECOUP_DASK_WORKERS`` (local workers, default 2): set them in the work pool's or
the deployment's ``job_variables.env``. Same flow names as the default flows, so ``recoup
backfill`` finds either deployment.
"""

from __future__ import annotations

import os
from typing import Any

from flows.backfill import backfill
from flows.distributed import DEFAULT_WORKERS, task_runner
from flows.nightly import nightly

ADDRESS_ENV = "RECOUP_DASK_ADDRESS"
WORKERS_ENV = "RECOUP_DASK_WORKERS"


def _runner() -> Any:  # a DaskTaskRunner (Prefect's stubs want TaskRunner[PrefectFuture])
    address = os.environ.get(ADDRESS_ENV) or None
    return task_runner(address, int(os.environ.get(WORKERS_ENV) or DEFAULT_WORKERS))


nightly_on_dask = nightly.with_options(task_runner=_runner())
backfill_on_dask = backfill.with_options(task_runner=_runner())
