"""How a served run ends when the inbox could not be read whole.

Run from the command line, an incomplete inbox is exit 1 (flows/cli.py). A run of a deployment
(``recoup serve``, a work pool) has no exit code: whoever watches the Prefect UI or its
notifications sees the run's state. So such a run, having loaded and reported what it could,
ends **Failed** with the same one sentence, and the next scheduled run tries the entries again
(nothing was recorded for them). docs/decisions.md "Inbox paths".
"""

from __future__ import annotations

from typing import Any

from prefect.runtime import deployment
from prefect.states import Failed

from loading.ingest import IngestReport


def served_outcome(report: IngestReport | None, result: Any) -> Any:
    """``result`` unchanged, or, for a run of a deployment whose inbox was not read whole, a
    Failed state that says which entries and why (the result stays in the run's artifacts)."""
    sentence = report.incomplete() if report is not None else None
    if sentence is None or deployment.get_id() is None:
        return result
    return Failed(message=sentence)
