"""Spill records to per-output-file bucket files so memory stays bounded at any size."""

from __future__ import annotations

import pickle
from collections import defaultdict
from pathlib import Path
from typing import Any

FLUSH_AT = 50_000


class Buckets:
    """Records grouped by (feed, output file stem), appended to pickle files in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pending: dict[tuple[str, str], list[Any]] = defaultdict(list)
        self.count = 0
        self.stems: dict[str, set[str]] = defaultdict(set)

    def add(self, feed: str, stem: str, record: Any) -> None:
        """Queue ``record`` for the output file ``feed/stem``."""
        self.pending[(feed, stem)].append(record)
        self.stems[feed].add(stem)
        self.count += 1
        if self.count >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        """Append every queued record to its bucket file."""
        for (feed, stem), records in sorted(self.pending.items()):
            path = self.root / feed / f"{stem}.pkl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("ab") as handle:
                pickle.dump(records, handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.pending.clear()
        self.count = 0

    def read(self, feed: str, stem: str) -> list[Any]:
        """Every record of one bucket, in the order added."""
        records: list[Any] = []
        path = self.root / feed / f"{stem}.pkl"
        if path.exists():
            with path.open("rb") as handle:
                while True:
                    try:
                        records.extend(pickle.load(handle))
                    except EOFError:
                        break
        records.extend(self.pending.get((feed, stem), []))
        return records
