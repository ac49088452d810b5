"""Run data checks on the DuckDB warehouse through Great Expectations, one call, plain results.

    from warehouse.gx_runner import ColumnCheck, SqlCheck, validate

    result = validate(db_path, "mart_checks", [
        ColumnCheck("claim id present", "stg.claims", "claim_id", "not_null"),
        SqlCheck("finding without claim",
                 "SELECT f.* FROM mart.findings f ANTI JOIN stg.claims c USING (claim_id)",
                 "every finding points at a loaded claim"),
    ], gx_root=Path("gx"), build_docs=True, con=con)
    for check in result.checks:
        print(check.name, check.status, check.unexpected_count, check.error)

Checks are grouped by the table they run on (`ColumnCheck.table`, `SqlCheck.table`); each table
is one GX expectation suite and validation definition, all run by one GX checkpoint. A check
GX could not evaluate (an exception in `exception_info`, e.g. regex on DuckDB) has status
"error": it is never reported as a pass, nor as an ordinary failure.

The warehouse may be open in this process: pass the open connection as `con` (GX then runs on
cursors of it; see `gx_duckdb.shared`). Without `con`, GX opens the file read-only, and
`validate` raises `OpenFileConflict` if this process already holds it with another
configuration. Another *process* holding the file read-write always blocks (DuckDB file lock).

Retention: with a `gx_root`, each suite keeps the results of its newest `keep_runs` checkpoint
runs (default `DEFAULT_KEEP_RUNS`, 30; None keeps all). Before a run, `prune_results` deletes
the older runs of the suites about to be validated from `<gx_root>/uncommitted/validations/`
together with their Data Docs pages, so after the run `keep_runs` remain and the Data Docs index
GX rebuilds lists exactly those.

great_expectations is imported inside the functions (about 5 s), never at module import.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_ROWS = 20
DEFAULT_KEEP_RUNS = 30
"""Checkpoint runs whose validation results (and Data Docs pages) each suite keeps."""
# The folder GX names a run by: its run time, UTC (lexical order is time order).
_RUN_TIME = re.compile(r"\d{8}T\d{6}\.\d{6}Z")
GX_ROW_CAP = 200
"""GX returns at most 200 unexpected rows or values per expectation, whatever is asked for."""

ColumnKind = Literal["not_null", "unique", "in_set", "between", "regex"]
_KINDS: dict[str, str] = {
    "not_null": "ExpectColumnValuesToNotBeNull",
    "unique": "ExpectColumnValuesToBeUnique",
    "in_set": "ExpectColumnValuesToBeInSet",
    "between": "ExpectColumnValuesToBeBetween",
    # Not supported by GX 1.24.1 on DuckDB: always comes back as status "error". Kept so that
    # the failure is visible; write a SqlCheck with regexp_matches() instead.
    "regex": "ExpectColumnValuesToMatchRegex",
}
_QUALIFIED_TABLE = re.compile(
    r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*)\b", re.IGNORECASE
)


@dataclass
class SqlCheck:
    """A query returning the failing rows (any columns); passes when it returns none.

    Runs as a GX UnexpectedRowsExpectation on `table` (default: the first schema-qualified
    table after FROM/JOIN in `sql`). `sql` may join any table of the same file. It may use
    `{batch}` for that table; then other literal braces must be doubled (GX uses str.format).
    """

    name: str
    sql: str
    description: str = ""
    table: str | None = None

    def batch_table(self) -> str:
        if self.table:
            return self.table
        match = _QUALIFIED_TABLE.search(self.sql)
        if match is None:
            raise ValueError(f"SqlCheck {self.name!r}: set `table` (no schema.table in its SQL)")
        return match.group(1)

    def gx_query(self) -> str:
        if "{batch}" in self.sql:
            return self.sql
        # GX formats the query with str.format, so escape braces (DuckDB struct literals), and
        # mention {batch} so GX does not print its "should contain {batch}" warning.
        body = self.sql.strip().rstrip(";").replace("{", "{{").replace("}", "}}")
        return (
            "WITH _gx_batch AS (SELECT 1 FROM {batch} LIMIT 0)\n"
            f"SELECT * FROM (\n{body}\n) AS _failing_rows"
        )


@dataclass
class ColumnCheck:
    """A simple column expectation on `table` (schema-qualified, e.g. "stg.claims").

    kind: "not_null"; "unique"; "in_set" (`value_set`; NULLs are not checked, pair it with
    not_null); "between" (`min_value`/`max_value`, inclusive, either may be None); "regex"
    (`regex`; unsupported on DuckDB, reported as an error). `mostly`: the fraction that must
    pass (GX semantics). "unique" counts every row whose value occurs more than once. Sample
    rows are the failing values only ({column: value}); for keys, write a SqlCheck.
    """

    name: str
    table: str
    column: str
    kind: ColumnKind
    description: str = ""
    value_set: Sequence[Any] | None = None
    min_value: Any = None
    max_value: Any = None
    regex: str | None = None
    mostly: float = 1.0

    def batch_table(self) -> str:
        return self.table

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"ColumnCheck {self.name!r}: unknown kind {self.kind!r}")
        if self.kind == "in_set" and self.value_set is None:
            raise ValueError(f"ColumnCheck {self.name!r}: in_set needs value_set")
        if self.kind == "between" and self.min_value is None and self.max_value is None:
            raise ValueError(f"ColumnCheck {self.name!r}: between needs min_value or max_value")
        if self.kind == "regex" and not self.regex:
            raise ValueError(f"ColumnCheck {self.name!r}: regex needs regex")


Check = SqlCheck | ColumnCheck


@dataclass
class CheckResult:
    name: str
    description: str
    table: str
    kind: str  # "sql" or a ColumnCheck kind
    success: bool
    unexpected_count: int | None
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def status(self) -> Literal["pass", "fail", "error"]:
        if self.error is not None:
            return "error"
        return "pass" if self.success else "fail"


@dataclass
class SuiteResult:
    suite_name: str
    checks: list[CheckResult]
    seconds: float
    docs_index: Path | None = None
    gx_success: bool = False

    @property
    def success(self) -> bool:
        return all(c.status == "pass" for c in self.checks)

    @property
    def errors(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "error"]

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    def by_name(self) -> dict[str, CheckResult]:
        return {c.name: c for c in self.checks}


class OpenFileConflict(RuntimeError):
    """GX could not open the DuckDB file because this process already holds it differently."""


def _expectation(check: Check) -> Any:
    import great_expectations as gx

    meta = {"recoup_check": check.name}
    if isinstance(check, SqlCheck):
        return gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=check.gx_query(),
            description=check.description or check.name,
            meta=meta,
        )
    kwargs: dict[str, Any] = {"column": check.column, "mostly": check.mostly}
    if check.kind == "in_set":
        kwargs["value_set"] = list(check.value_set or [])
    elif check.kind == "between":
        kwargs["min_value"] = check.min_value
        kwargs["max_value"] = check.max_value
    elif check.kind == "regex":
        kwargs["regex"] = check.regex
    expectation_cls = getattr(gx.expectations, _KINDS[check.kind])
    return expectation_cls(
        **kwargs,
        description=check.description or check.name,
        meta=meta,
    )


def _error_text(exception_info: Any) -> str | None:
    """GX puts either one {raised_exception, exception_message} or one per failed metric."""
    if not exception_info:
        return None
    if "raised_exception" in exception_info:
        if not exception_info.get("raised_exception"):
            return None
        return str(exception_info.get("exception_message") or "GX raised an exception")
    messages = [
        str(info.get("exception_message") or key)
        for key, info in exception_info.items()
        if isinstance(info, dict) and info.get("raised_exception", True)
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def _check_result(check: Check, evr: Any, sample_rows: int) -> CheckResult:
    kind = "sql" if isinstance(check, SqlCheck) else check.kind
    res = dict(evr.result or {})
    error = _error_text(evr.exception_info)
    count: int | None
    rows: list[dict[str, Any]] = []
    if isinstance(check, SqlCheck):
        count = res.get("observed_value")
        rows = [dict(r) for r in (res.get("details") or {}).get("unexpected_rows") or []]
    else:
        count = res.get("unexpected_count")
        values = res.get("partial_unexpected_list") or res.get("unexpected_list") or []
        rows = [{check.column: v} for v in values]
    if error is None and count is None:
        # success=False with an empty result and no exception is still not a verdict.
        error = f"GX returned no unexpected count (success={evr.success}, result={res})"
    return CheckResult(
        name=check.name,
        description=check.description,
        table=check.batch_table(),
        kind=kind,
        success=bool(evr.success) and error is None,
        unexpected_count=count,
        sample_rows=rows[:sample_rows],
        error=error,
    )


def _context(gx_root: Path | None, show_progress: bool) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context: Any
    if gx_root is None:
        context = gx.get_context(mode="ephemeral")
    else:
        gx_root = Path(gx_root).resolve()
        gx_root.mkdir(parents=True, exist_ok=True)
        try:
            context = gx.get_context(mode="file", context_root_dir=str(gx_root))
        except Exception as exc:  # GX raises several kinds for a damaged file
            config = gx_root / "great_expectations.yml"
            if not config.exists():
                raise
            # GX rewrites great_expectations.yml in place (not atomically): a run killed while it
            # wrote leaves a truncated file that no later run can load. Everything recoup needs in
            # it is GX's defaults (suites and definitions are set up on every run), so the file is
            # set aside, never deleted, and GX writes a fresh one.
            kept = config.with_name(f"{config.name}.damaged-{os.getpid()}-{time.time_ns()}")
            config.rename(kept)
            log.warning(
                "the Great Expectations config %s could not be read (%s: %s); kept as %s and "
                "rebuilt",
                config,
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
                kept.name,
            )
            context = gx.get_context(mode="file", context_root_dir=str(gx_root))
    # In memory; a file context also writes it to great_expectations.yml on its next save.
    context.variables.progress_bars = ProgressBarsConfig(
        globally=show_progress, metric_calculations=show_progress
    )
    return context


def prune_results(gx_root: Path, keep: int, suites: Iterable[str] | None = None) -> list[Path]:
    """Delete all but the newest ``keep`` runs of each suite's validation results under
    ``<gx_root>/uncommitted/validations/`` (``<suite as folders>/<run name>/<run time>/``) and
    the Data Docs pages of the deleted runs. ``suites``: only these suite names (all when None).
    Returns the deleted run folders, oldest first."""
    if keep < 0:
        raise ValueError(f"keep must be 0 or more, got {keep}")
    store = Path(gx_root) / "uncommitted" / "validations"
    pages = Path(gx_root) / "uncommitted" / "data_docs" / "local_site" / "validations"
    wanted = None if suites is None else {tuple(name.split(".")) for name in suites}
    runs: dict[Path, set[Path]] = {}
    for result in store.rglob("*.json") if store.is_dir() else ():
        run = result.parent
        if not _RUN_TIME.fullmatch(run.name):
            continue
        if wanted is not None and run.parent.parent.relative_to(store).parts not in wanted:
            continue
        runs.setdefault(run.parent, set()).add(run)
    removed: list[Path] = []
    for found in runs.values():
        ordered = sorted(found, key=lambda run: run.name)
        removed += ordered[: max(0, len(ordered) - keep)]
    for run in sorted(removed, key=lambda run: (run.name, str(run))):
        shutil.rmtree(run)
        shutil.rmtree(pages / run.relative_to(store), ignore_errors=True)
    return sorted(removed, key=lambda run: (run.name, str(run)))


def validate(
    db_path: Path,
    suite_name: str,
    checks: Sequence[Check],
    *,
    gx_root: Path | None = None,
    build_docs: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    datasource_name: str = "warehouse",
    show_progress: bool = False,
    keep_runs: int | None = DEFAULT_KEEP_RUNS,
    docs_when: Callable[[list[CheckResult]], bool] | None = None,
) -> SuiteResult:
    """Run `checks` on the DuckDB file `db_path` in one GX checkpoint run.

    gx_root: a GX project folder (created if missing): the suites, validation definitions,
    checkpoint and validation results are kept there, and with `build_docs` Data Docs are
    updated at `<gx_root>/uncommitted/data_docs/local_site/index.html` (`docs_index`). Without
    it the context is ephemeral and nothing is written. con: this process's open connection to
    `db_path`, if any (see module docstring). sample_rows: samples kept per check (GX caps at 200).
    show_progress: GX's "Calculating Metrics" progress bars on stderr (off by default).
    keep_runs: with `gx_root`, the runs of each of this call's suites kept, this one included
    (`prune_results`; at least 1); None keeps every run. docs_when: with `build_docs`, the Data
    Docs pages of this run (and the index) are built only when `docs_when(checks)` is true, once
    the results are known (a run whose outcome is the last one's need not rebuild them); None
    builds them on every run.
    """
    from contextlib import nullcontext

    from warehouse import gx_duckdb

    if build_docs and gx_root is None:
        raise ValueError("build_docs needs gx_root (an ephemeral context has no Data Docs)")
    names = [c.name for c in checks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate check names: {duplicates}")
    if not checks:
        raise ValueError("no checks")
    if keep_runs is not None and keep_runs < 1:
        raise ValueError(f"keep_runs must be at least 1 (this run is kept), got {keep_runs}")
    sample_rows = max(0, min(sample_rows, GX_ROW_CAP))
    db_path = Path(db_path).resolve()
    if not db_path.exists():
        raise FileNotFoundError(db_path)

    started = time.perf_counter()
    gx_duckdb.install()
    import great_expectations as gx

    context = _context(gx_root, show_progress)
    by_table: dict[str, list[Check]] = {}
    for check in checks:
        by_table.setdefault(check.batch_table(), []).append(check)

    sharing = gx_duckdb.shared(con, db_path) if con is not None else nullcontext()
    source = None
    with sharing:
        try:
            try:
                source = gx_duckdb.datasource(context, db_path, name=datasource_name)
            except Exception as exc:
                if "different configuration" in str(exc):
                    raise OpenFileConflict(
                        f"{db_path} is already open in this process: pass that connection as "
                        "validate(..., con=con), or close it first"
                    ) from exc
                raise
            definitions = []
            suite_ids: list[str] = []
            for table, table_checks in by_table.items():
                schema, _, name = table.rpartition(".")
                with warnings.catch_warnings():
                    # GX 1.24 deprecates schema_name (wants it in the connection string, i.e.
                    # one schema per data source); it still works and the warehouse has several.
                    warnings.filterwarnings("ignore", "`schema_name` is deprecated")
                    asset = source.add_table_asset(
                        name=table, table_name=name, schema_name=schema or None
                    )
                batch = asset.add_batch_definition_whole_table("whole_table")
                suite_id = suite_name if len(by_table) == 1 else f"{suite_name}.{table}"
                suite = gx.ExpectationSuite(
                    name=suite_id,
                    expectations=[_expectation(c) for c in table_checks],
                )
                suite = context.suites.add_or_update(suite)
                definition = context.validation_definitions.add_or_update(
                    gx.ValidationDefinition(name=suite_id, data=batch, suite=suite)
                )
                definitions.append(definition)
                suite_ids.append(suite_id)
            actions: list[Any] = []
            if build_docs and docs_when is None:
                actions.append(gx.checkpoint.UpdateDataDocsAction(name="update_data_docs"))
            checkpoint = context.checkpoints.add_or_update(
                gx.Checkpoint(
                    name=suite_name,
                    validation_definitions=definitions,
                    actions=actions,
                    result_format={
                        "result_format": "COMPLETE",
                        "partial_unexpected_count": sample_rows,
                    },
                )
            )
            if gx_root is not None and keep_runs is not None:
                prune_results(gx_root, keep_runs - 1, suite_ids)
            run = checkpoint.run()
        finally:
            if source is not None:
                gx_duckdb.release(source)

    by_name = {c.name: c for c in checks}
    results: dict[str, CheckResult] = {}
    for suite_result in run.run_results.values():
        for evr in suite_result.results:
            check_name = (evr.expectation_config.meta or {}).get("recoup_check")
            if check_name in by_name:
                results[check_name] = _check_result(by_name[check_name], evr, sample_rows)
    missing = [n for n in names if n not in results]
    if missing:
        raise RuntimeError(f"GX returned no result for checks {missing}")

    checked = [results[n] for n in names]
    built = build_docs and gx_root is not None
    if built and docs_when is not None:
        built = bool(docs_when(checked))
        if built:  # what UpdateDataDocsAction does, once the outcome is known
            from great_expectations.data_context.types.resource_identifiers import (
                ExpectationSuiteIdentifier,
            )

            for result_id, suite_result in run.run_results.items():
                context.build_data_docs(
                    resource_identifiers=[
                        result_id,
                        ExpectationSuiteIdentifier(name=suite_result.suite_name),
                    ]
                )
    docs_index = None
    if built and gx_root is not None:
        docs_index = Path(gx_root).resolve() / "uncommitted/data_docs/local_site/index.html"
        if not docs_index.exists():
            raise RuntimeError(f"GX did not build Data Docs at {docs_index}")
    return SuiteResult(
        suite_name=suite_name,
        checks=checked,
        seconds=time.perf_counter() - started,
        docs_index=docs_index,
        gx_success=bool(run.success),
    )
