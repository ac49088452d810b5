"""``recoup report`` on marts already built for the asked date: plain reads of the warehouse, in
this process, with no Prefect and no Great Expectations (importing them costs seconds, STACK.md,
and a report only reads). The warehouse is opened once, read-only, so nothing is written to it and
no lease is taken; a writer holding the file is waited for up to ``lock_wait`` seconds as before.

When another as-of date is asked the marts must be rebuilt first: that is a write, so it stays a
run of the report flow (``flows/report.py``) through the nightly's tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from loading import stopping
from reporting import ReportPaths
from warehouse import connection


class NoMarts(Exception):
    """The warehouse was never evaluated and no as-of date was given: nothing to report on."""


@dataclass
class ReportResult:
    as_of: date
    rebuilt: bool  # the marts and findings were recomputed for as_of first
    skipped: dict[str, str]
    summary: dict
    paths: ReportPaths | None  # None when only the summary was asked for


def no_marts(db: Path) -> NoMarts:
    return NoMarts(f"warehouse {db} has no marts yet: run `recoup run` first")


def marts_as_of(db: Path, lock_wait: float) -> date | None:
    """The as-of date the marts were last built for (None: never built), read-only."""
    from marts.build import built_as_of

    with (
        stopping.stop_on_signals(),
        connection.open_warehouse(db, read_only=True, wait_seconds=lock_wait) as con,
    ):
        return built_as_of(con)


def read_report(
    db: Path,
    reports: Path,
    as_of: date | None = None,
    out: Path | None = None,
    lock_wait: float = 60.0,
    overrides: dict[str, object] | None = None,
    write_files: bool = True,
    deidentify: bool = False,
) -> ReportResult | None:
    """The nightly report of the marts as built, when they were built for ``as_of`` (None: for
    whatever date they were built): the same bytes the report flow writes (``out`` None:
    ``<reports>/<as-of>/``), or with ``write_files`` False only the summary (exposure.json's
    content). None when the marts were built for another date: the caller runs the report flow,
    which rebuilds them. Raises ``NoMarts`` when they were never built and no date is given."""
    from expectations.catalog import active_rules, skipped_rules
    from expectations.config import load_config
    from flows.handover import report_rules
    from marts.build import built_as_of
    from reporting import Scope, build_summary, report_dir, write_reports
    from reporting.deidentify import key_from_environment

    config = load_config(overrides)
    key = key_from_environment() if deidentify and write_files else None
    with (
        stopping.stop_on_signals(),
        connection.open_warehouse(db, read_only=True, wait_seconds=lock_wait) as con,
    ):
        built = built_as_of(con)
        if built is None and as_of is None:
            raise no_marts(db)
        if as_of is not None and as_of != built:
            return None
        assert built is not None
        _, reasons = skipped_rules(con, config, built)
        skipped = {rule.id: reasons[rule.id] for rule in active_rules() if rule.id in reasons}
        rules = report_rules(config)
        scope = Scope.nightly()
        if not write_files:
            summary = build_summary(con, as_of=built, scope=scope, skipped=skipped, rules=rules)
            return ReportResult(built, False, skipped, summary, paths=None)
        folder = out or report_dir(reports, scope, built)
        paths = write_reports(
            con, folder, as_of=built, scope=scope, skipped=skipped, rules=rules,
            pseudonym_key=key, audit=False,
        )  # fmt: skip
    return ReportResult(built, False, skipped, paths.summary, paths)


KNOWN_PAYERS = """
    SELECT payer_id FROM stg.claims WHERE payer_id IS NOT NULL
    UNION SELECT payer_id FROM stg.remit_payments WHERE payer_id IS NOT NULL
    UNION SELECT payer_id FROM ref.payers WHERE payer_id <> '*'
    UNION SELECT payer_id FROM stg.ref_payers WHERE payer_id <> '*'
    ORDER BY payer_id
"""


def known_payers(db: Path, lock_wait: float) -> list[str]:
    """The payer ids the warehouse knows (on claims, remittances, payers.csv), sorted; none when
    the warehouse does not exist yet."""
    if not Path(db).exists():
        return []
    with (
        stopping.stop_on_signals(),
        connection.open_warehouse(db, read_only=True, wait_seconds=lock_wait) as con,
    ):
        return [row[0] for row in con.execute(KNOWN_PAYERS).fetchall()]
