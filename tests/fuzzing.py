"""Hypothesis settings of the property and fuzz tests (``tests/loading/test_fuzz_*.py``).

Profiles, chosen by ``RECOUP_HYPOTHESIS_PROFILE``:

* ``ci`` (the default): 200 examples a test, derandomized (the same examples on every run, so a
  CI failure reproduces), no example database written;
* ``dev``: 25 examples, for a quick look;
* ``long``: 5,000 random examples a test with the example database, to hunt (run it now and
  then: ``RECOUP_HYPOTHESIS_PROFILE=long uv run pytest tests/loading/test_fuzz_*.py``).

Every example has a deadline of 10 s (a small file reads in milliseconds: a hang fails the test,
it does not stall CI); the machine is shared and loaded, hence no tighter one.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

DEADLINE = timedelta(seconds=10)
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=DEADLINE,
    suppress_health_check=_SLOW_OK,
    print_blob=True,
)
settings.register_profile(
    "dev", max_examples=25, derandomize=True, database=None, deadline=DEADLINE
)
settings.register_profile(
    "long", max_examples=5000, deadline=DEADLINE, suppress_health_check=_SLOW_OK
)
settings.load_profile(os.environ.get("RECOUP_HYPOTHESIS_PROFILE", "ci"))
