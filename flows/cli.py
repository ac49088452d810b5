"""The ``recoup`` console script.

Exit codes: 0 when the run completed (findings are results, not failures); 2 for bad arguments,
an unreadable inbox or a ``--db`` file that is not recoup's warehouse (another program's database,
a SQLite or non-DuckDB file, a newer release's warehouse: refused before anything runs); 3 when
the warehouse is locked by another run; 1 for anything else that stopped the run (a full disk or
another fault of the machine: nothing is recorded for the file in progress, the next run retries
it); 143 for SIGTERM and 130 for SIGINT (the file in progress rolled back). Errors are one line on
standard error; an unexpected one inside a flow adds the path of the run log holding its
traceback (flows/runlog.py). Prefect and GX are imported only by the commands that need them, so
``--help`` stays fast.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from cyclopts import App, Parameter

from flows import settings
from flows.summaries import echo, print_backfill, print_summary

if TYPE_CHECKING:
    from loading.ingest import IngestReport


def _version() -> str:
    """``recoup <version>``, from the installed package's metadata (pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"recoup {version('recoup')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "recoup (version unknown: not installed)"


app = App(
    name="recoup",
    help="Find behavioral-health insurance payments at risk of recoupment, before the payer does.",
    version=_version,
    version_flags=["--version"],
    help_format="plaintext",
)


class UsageError(Exception):
    """Bad arguments or inputs the user can fix; exit code 2."""


class RunIncomplete(Exception):
    """The run completed on what it could read but some inbox entries could not be read; exit
    code 1, so a scheduler sees the night as failed (docs/decisions.md "Inbox paths")."""


def _fail_if_unreadable(report: IngestReport | None) -> None:
    sentence = report.incomplete() if report is not None else None
    if sentence:
        raise RunIncomplete(sentence)


HOME = "under RECOUP_HOME when it is set, else under the current folder"
Inbox = Annotated[
    Path | None,
    Parameter(
        help=f"The inbox: one folder per feed (claims/, eligibility/, remittances/, "
        f"sessions/ ...). Default: data/inbox {HOME}."
    ),
]
Db = Annotated[
    Path | None,
    Parameter(
        help=f"The warehouse file (DuckDB); landing/ and quarantine/ sit beside it. "
        f"Default: data/recoup.duckdb {HOME}."
    ),
]
Reports = Annotated[
    Path | None, Parameter(help=f"The folder of report folders. Default: reports {HOME}.")
]
LockWait = Annotated[
    float, Parameter(help="Seconds to wait for another run to release the warehouse.")
]


def _path(given: Path | None, default: Path) -> Path:
    """The path given, else the default under recoup's home (flows/settings.py)."""
    return given if given is not None else settings.default_path(default)


def _not_found(what: str, path: Path, option: str, given: Path | None, then: str = "") -> str:
    """``what`` at ``path`` is missing; for a default path, where it was looked for and how to
    point recoup elsewhere (``then``: what to do next)."""
    sentence = f"{what} {path} does not exist" + (f": {then}" if then else "")
    if given is not None or settings.home() is not None:
        return sentence
    return (
        f"{sentence} (looked in {path.resolve()}, under the current folder: give {option}, "
        "or set RECOUP_HOME to the folder holding data/ and reports/)"
    )


def _inbox_error(exc: Exception, inbox: Path, given: Path | None) -> str:
    """The inbox's error; for a default inbox that is not there, where it was looked for."""
    if not inbox.exists() and not inbox.is_symlink():
        return _not_found("inbox", inbox, "--inbox", given)
    return str(exc)


SET_HELP = (
    "Override a rule threshold for this run, KEY=VALUE (repeatable), e.g. --set outlier.z=2.5 "
    "--set coverage.unverified_days=45; keys and defaults: expectations/defaults.toml."
)


DEIDENTIFY_HELP = (
    "Replace member ids in the report files with pseudonyms (M- and 16 hex digits of an "
    "HMAC-SHA256 keyed by RECOUP_DEIDENTIFY_KEY). The warehouse keeps the real ids."
)
Deidentify = Annotated[bool, Parameter(help=DEIDENTIFY_HELP, negative=())]


TaskRunner = Annotated[
    Literal["default", "dask"],
    Parameter(
        help="default: every step in this process. dask: the rules run month by month on Dask "
        "workers (prefect-dask), a local cluster of --workers processes or the scheduler at "
        "--address."
    ),
]
DaskAddress = Annotated[
    str | None,
    Parameter(
        help="With --task-runner dask: the Dask scheduler, tcp://HOST:PORT (its workers need the "
        "warehouse folder at the same path); default a local cluster."
    ),
]
DaskWorkers = Annotated[
    int, Parameter(help="With --task-runner dask and no --address: local worker processes.")
]


def _check_task_runner(runner: str, address: str | None, workers: int) -> None:
    """--task-runner/--address/--workers make sense together (before anything runs)."""
    if runner != "dask" and address is not None:
        raise UsageError("--address is for --task-runner dask")
    if address is not None and not address.startswith(("tcp://", "tls://")):
        raise UsageError(f"--address {address!r}: expected a Dask scheduler, tcp://HOST:PORT")
    if workers < 1:
        raise UsageError("--workers must be at least 1")


def _task_runner(runner: str, address: str | None, workers: int) -> Any:
    """The flow's task runner (None: Prefect's default). After ``settings.prepare_prefect``."""
    if runner != "dask":
        return None
    from flows.distributed import task_runner

    return task_runner(address, workers)


def _check_key(deidentify: bool) -> None:
    """With --deidentify, the key must be in the environment before anything runs."""
    if deidentify:
        from reporting.deidentify import MissingKey, key_from_environment

        try:
            key_from_environment()
        except MissingKey as exc:
            raise UsageError(str(exc)) from exc


def _overrides(assignments: list[str] | None) -> dict[str, object] | None:
    """``KEY=VALUE`` strings as threshold overrides (values read as TOML: 2.5, 45, [16, 38, 53],
    "text"), checked against the defaults so a typo fails before anything runs."""
    if not assignments:
        return None
    import tomllib

    from expectations.config import load_config

    overrides: dict[str, object] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {assignment!r}: expected KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        overrides[key.strip()] = value
    try:
        load_config(overrides)
    except ValueError as exc:
        raise UsageError(f"--set: {exc}") from exc
    return overrides


@app.command
def demo(
    *,
    out: Annotated[
        Path | None,
        Parameter(help=f"Where the inbox is written. Default: data/inbox {HOME}."),
    ] = None,
    seed: Annotated[int, Parameter(help="Seed of the simulation: same seed, same files.")] = 7,
    claims: Annotated[int, Parameter(help="Number of claims to simulate.")] = 2000,
    as_of: Annotated[
        date | None, Parameter(help="Date the demo is built around (default 2026-11-15).")
    ] = None,
    pending: Annotated[
        Path | None,
        Parameter(
            help="Also write a batch of claims not yet sent (claims.837, clean.837, "
            "sessions.csv, answer_key.csv) to this folder, for `recoup check`."
        ),
    ] = None,
    night2: Annotated[
        bool,
        Parameter(
            help="Add a second night's files to the demo inbox OUT (as of the next day: a few "
            "reversals and corrected session notes) and night2.json, the changes to expect."
        ),
    ] = False,
    takebacks: Annotated[
        bool,
        Parameter(
            help="Also plant wrongful and rightful takebacks (reversals, PLB WO) and their "
            "expected dispute verdicts (takebacks_key.csv).",
            negative=(),
        ),
    ] = False,
) -> None:
    """Write a realistic synthetic inbox (837P, 271, 835, sessions) with planted problems and an
    answer key (answer_key.csv, manifest.json at the top of OUT)."""
    from demo.generator import NotADemoFolder, generate
    from expectations.catalog import RULE_IDS

    out = _path(out, settings.DEFAULT_INBOX)
    if night2:  # since last night (issue 14): the second night of an existing demo inbox
        from demo.night2 import NotAFirstNight, generate_night2

        try:
            second = generate_night2(out)
        except NotAFirstNight as exc:
            raise UsageError(str(exc)) from exc
        kinds = ", ".join(
            f"{kind} {body['count']}" for kind, body in sorted(second["by_kind"].items())
        )
        echo(
            f"second night written to {out} ({', '.join(second['files'])}); "
            f"expected changes: {kinds}"
        )
        echo(f"run it with: recoup run --inbox {out} --as-of {second['as_of']}")
        return
    if claims < 1:
        raise UsageError("--claims must be at least 1")
    kwargs = {"seed": seed, "claims": claims}
    if takebacks:
        kwargs["takebacks"] = True
    if as_of is not None:
        kwargs["as_of"] = as_of  # type: ignore[assignment]
    if pending is not None:
        kwargs["pending"] = pending  # type: ignore[assignment]
    try:
        manifest = generate(out, rules=RULE_IDS, **kwargs)  # type: ignore[arg-type]
    except NotADemoFolder as exc:
        raise UsageError(str(exc)) from exc
    echo(f"demo inbox written to {out} (seed {seed}, {claims} claims, as of {manifest['as_of']})")
    files = manifest.get("files", {})
    if files:
        from loading.ingest import FEEDS

        echo("files: " + ", ".join(f"{feed} {files[feed]}" for feed in FEEDS if feed in files))
    echo(
        f"answer key: {out / 'answer_key.csv'}; run it with: "
        f"recoup run --inbox {out} --as-of {manifest['as_of']}"
    )
    if pending is not None:
        echo(
            f"pending claims written to {pending}; after the run check them with: recoup check "
            f"{pending / 'claims.837'} --sessions {pending / 'sessions.csv'}"
        )


def starting_line(as_of: date, files: int, inbox: Path) -> str:
    """The run's first progress line: what it is about to take in (the ledger then skips the
    files already loaded)."""
    return f"starting the run as of {as_of}: {files} file{'s' if files != 1 else ''} in {inbox}"


@app.command
def run(
    *,
    inbox: Inbox = None,
    db: Db = None,
    as_of: Annotated[
        date | None, Parameter(help="The date the run evaluates as (YYYY-MM-DD). Default: today.")
    ] = None,
    reports: Reports = None,
    lock_wait: LockWait = settings.DEFAULT_LOCK_WAIT_SECONDS,
    set: Annotated[list[str] | None, Parameter(help=SET_HELP, negative=())] = None,
    deidentify: Deidentify = False,
    task_runner: TaskRunner = "default",
    address: DaskAddress = None,
    workers: DaskWorkers = 2,
) -> None:
    """One nightly run: load new inbox files into the warehouse and summarise."""
    from loading.ingest import InboxError, scan_inbox
    from warehouse.connection import preflight

    given_inbox, inbox = inbox, _path(inbox, settings.DEFAULT_INBOX)
    db, reports = _path(db, settings.DEFAULT_DB), _path(reports, settings.DEFAULT_REPORTS)
    _check_key(deidentify)
    _check_task_runner(task_runner, address, workers)
    overrides = _overrides(set)
    try:
        scan = scan_inbox(inbox)
    except InboxError as exc:
        raise UsageError(_inbox_error(exc, inbox, given_inbox)) from exc
    preflight(db)
    as_of = as_of or date.today()
    # said before Prefect is imported and its API reached (a temporary server takes 10-20 s)
    print(starting_line(as_of, len(scan.files), inbox), file=sys.stderr, flush=True)
    settings.prepare_prefect()
    from prefect import tags

    from flows import progress, runlog
    from flows.nightly import nightly

    runner = _task_runner(task_runner, address, workers)
    if runner is not None:
        nightly = nightly.with_options(task_runner=runner)

    def to_stderr(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tags("nightly"), progress.narrating(to_stderr), runlog.run_log("run", db):
        result = nightly(
            inbox=inbox,
            db=db,
            store=settings.store_for(db),
            as_of=as_of,
            reports=reports,
            lock_wait=lock_wait,
            overrides=overrides,
            deidentify=deidentify,
        )
    print_summary(result)
    _fail_if_unreadable(result.ingest)


def canonical_payer(given: str, known: list[str], db: Path, ingest: bool = False) -> str:
    """The known payer id ``given`` names, matched case-insensitively (``keymu`` is ``KEYMU``);
    an id the warehouse does not know is a usage error listing the known ones, never a silent
    $0 audit."""
    if given in known:
        return given
    matches = [payer for payer in known if payer.casefold() == given.casefold()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(f"--payer {given!r} matches {', '.join(matches)}: give one exactly")
    if not known:
        raise UsageError(
            f"--payer {given!r}: the warehouse {db} holds no payer yet: run `recoup run` first"
        )
    later = " (a payer only in new inbox files is known once `recoup run` loads them)"
    raise UsageError(
        f"--payer {given!r} is not a payer in the warehouse {db}; known payers: "
        f"{', '.join(known)}{later if ingest else ''}"
    )


@app.command
def backfill(
    *,
    start: Annotated[date, Parameter(help="First date of service of the audit window.")],
    end: Annotated[date, Parameter(help="Last date of service of the audit window.")],
    payer: Annotated[str | None, Parameter(help="Only this payer's claims in the report.")] = None,
    reason: Annotated[str | None, Parameter(help="Why (the audit letter), for the report.")] = None,
    claims_file: Annotated[
        Path | None,
        Parameter(
            help="The payer's audit sample: a CSV with a claim_id column, or one id per line. "
            "Adds audit.json, audit.csv, audit.html and the extrapolation estimate."
        ),
    ] = None,
    inbox: Inbox = None,
    ingest: Annotated[
        bool,
        Parameter(
            help="Load new inbox files first (today's eligibility knowledge); --no-ingest "
            "re-evaluates what the warehouse holds."
        ),
    ] = True,
    db: Db = None,
    as_of: Annotated[
        date | None, Parameter(help="The date the claims are judged as of. Default: today.")
    ] = None,
    reports: Reports = None,
    lock_wait: LockWait = settings.DEFAULT_LOCK_WAIT_SECONDS,
    via: Annotated[
        Literal["auto", "local", "deployment"],
        Parameter(
            help="Where the backfill runs. auto: as a run of the backfill deployment when "
            "PREFECT_API_URL is set and the server has it (recoup serve, or a work pool), else "
            "in this process."
        ),
    ] = "auto",
    set: Annotated[list[str] | None, Parameter(help=SET_HELP, negative=())] = None,
    deidentify: Deidentify = False,
    task_runner: TaskRunner = "default",
    address: DaskAddress = None,
    workers: DaskWorkers = 2,
) -> None:
    """Re-evaluate every claim with a date of service in [START, END] with today's rules and
    eligibility knowledge, month by month, and write the report folder
    REPORTS/backfill/START_END/ (START_END_PAYER/ with --payer; an audit of --claims-file
    writes its own folder, START_END[_PAYER]_claims-<12 hex of the claim list>/)."""
    from loading.ingest import InboxError, scan_inbox
    from reporting.audit import read_claim_ids

    given_inbox, inbox = inbox, _path(inbox, settings.DEFAULT_INBOX)
    given_db, db = db, _path(db, settings.DEFAULT_DB)
    reports = _path(reports, settings.DEFAULT_REPORTS)
    _check_key(deidentify)
    _check_task_runner(task_runner, address, workers)
    if task_runner == "dask" and via == "deployment":
        raise UsageError(
            "--task-runner dask runs the backfill here (a deployment's task runner is set where "
            "it is deployed): use --via local"
        )
    overrides = _overrides(set)
    if start > end:
        raise UsageError(f"--start {start} is after --end {end}")
    claim_ids = None
    if claims_file is not None:
        try:
            claim_ids = read_claim_ids(claims_file)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--claims-file: {exc}") from exc
    if ingest:
        try:
            scan_inbox(inbox)
        except InboxError as exc:
            raise UsageError(_inbox_error(exc, inbox, given_inbox)) from exc
    elif not db.exists():
        raise UsageError(
            _not_found(
                "warehouse", db, "--db", given_db, "run `recoup run` first, or drop --no-ingest"
            )
        )
    from warehouse.connection import preflight

    preflight(db)
    if payer is not None:
        from flows.reading import known_payers

        payer = canonical_payer(payer, known_payers(db, lock_wait), db, ingest)
    settings.prepare_prefect()
    from flows.backfill import backfill_tags
    from flows.remote import find_backfill_deployment

    as_of = as_of or date.today()
    parameters: dict[str, Any] = {
        "start": start,
        "end": end,
        "db": db.resolve(),
        "reports": reports.resolve(),
        "payer_id": payer,
        "reason": reason,
        "claim_ids": claim_ids,
        "inbox": inbox.resolve() if ingest else None,
        "as_of": as_of,
        "lock_wait": lock_wait,
        "overrides": overrides,
        "deidentify": deidentify,
    }
    runner = _task_runner(task_runner, address, workers)
    deployment = find_backfill_deployment() if via != "local" and runner is None else None
    if via == "deployment" and deployment is None:
        raise UsageError(
            f"no {settings.BACKFILL_DEPLOYMENT} deployment: set PREFECT_API_URL to a server "
            "where `recoup serve` (or a work pool) runs it, or use --via local"
        )
    if deployment is not None:
        from flows.remote import backfill_through_deployment

        backfill_through_deployment(parameters, backfill_tags(payer))
        return
    from prefect import tags

    from flows import progress, runlog
    from flows.backfill import backfill as backfill_flow

    def show(event: progress.PartitionDone) -> None:
        echo(
            f"partition {event.month:%Y-%m} ({event.done}/{event.total}): "
            f"{event.findings:,} findings ({progress.PARTITION_COUNTS})"
        )

    echo(f"backfill {start} to {end}" + (f", payer {payer}" if payer else "") + ", here")
    if runner is not None:
        backfill_flow = backfill_flow.with_options(task_runner=runner)
    with tags(*backfill_tags(payer)), progress.listening(show), runlog.run_log("backfill", db):
        result = backfill_flow(**parameters)
    print_backfill(result)
    _fail_if_unreadable(result.ingest)


@app.command
def serve(
    *,
    cron: Annotated[str, Parameter(help="When the nightly run starts.")] = settings.DEFAULT_CRON,
    timezone: Annotated[
        str, Parameter(help="IANA time zone of the cron.")
    ] = settings.DEFAULT_TIMEZONE,
    inbox: Inbox = None,
    db: Db = None,
    reports: Reports = None,
    lock_wait: LockWait = settings.DEFAULT_LOCK_WAIT_SECONDS,
) -> None:
    """Serve the nightly (on the cron) and backfill deployments from this machine until stopped.
    Needs a Prefect server (PREFECT_API_URL). The schedule stays active when serve stops."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    inbox, db = _path(inbox, settings.DEFAULT_INBOX), _path(db, settings.DEFAULT_DB)
    reports = _path(reports, settings.DEFAULT_REPORTS)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"--timezone {timezone!r} is not an IANA time zone") from exc
    if settings.server_url() is None:
        raise UsageError(
            "recoup serve needs a Prefect server: start one (`prefect server start`) and set "
            "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)"
        )
    import os

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")  # run logs (partitions) reach the UI
    # A backfill is a chain of short runs: Prefect's default 10 s poll would add ~10 s to each.
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")
    settings.prepare_prefect()
    from flows.serving import serve_deployments
    from loading.stopping import left_to_prefect

    try:
        with left_to_prefect():
            serve_deployments(
                cron=cron,
                timezone=timezone,
                inbox=inbox.resolve(),
                db=db.resolve(),
                reports=reports.resolve(),
                lock_wait=lock_wait,
            )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


@app.command
def report(
    *,
    as_of: Annotated[
        date | None, Parameter(help="Default: the as-of date of the last run's marts.")
    ] = None,
    format: Annotated[
        Literal["html", "json", "csv"] | None,
        Parameter(
            help="json prints exposure.json to standard output; html and csv (and no "
            "format) write the report folder and print the chosen file's path."
        ),
    ] = None,
    db: Db = None,
    out: Annotated[
        Path | None,
        Parameter(
            help="Default: REPORTS/<as-of>/. Replaced whole, so it must be new, empty or a "
            "recoup report folder."
        ),
    ] = None,
    reports: Reports = None,
    lock_wait: LockWait = settings.DEFAULT_LOCK_WAIT_SECONDS,
    deidentify: Deidentify = False,
) -> None:
    """Rebuild the nightly report from the warehouse, loading nothing. When --as-of differs from
    the marts' date, the marts and findings are recomputed for it first (the nightly's tasks)."""
    given_db, db = db, _path(db, settings.DEFAULT_DB)
    reports = _path(reports, settings.DEFAULT_REPORTS)
    _check_key(deidentify)
    if not db.exists():
        raise UsageError(_not_found("warehouse", db, "--db", given_db, "run `recoup run` first"))
    if out is not None and format != "json":
        from reporting.files import NotAReportFolder, check_report_folder

        try:  # the report replaces the folder whole: never over a user's files
            check_report_folder(out)
        except NotAReportFolder as exc:
            raise UsageError(f"--out {exc}") from exc
    from warehouse.connection import preflight

    preflight(db)
    from flows import runlog
    from flows.reading import NoMarts, marts_as_of, read_report
    from reporting import to_json

    arguments: dict[str, Any] = {
        "db": db,
        "reports": reports,
        "as_of": as_of,
        "out": out,
        "lock_wait": lock_wait,
        "write_files": format != "json",
        "deidentify": deidentify,
    }
    try:
        result = None
        if as_of is None or as_of == marts_as_of(db, lock_wait):
            # the marts are built for the date: a plain read, no Prefect, no GX (flows/reading.py)
            with runlog.run_log("report", db):
                result = read_report(**arguments)
        if result is None:  # another date: the report flow rebuilds the marts first
            settings.prepare_prefect()  # and imports Prefect before the run log (runlog.py)
            from flows.report import report as report_flow

            with runlog.run_log("report", db):
                result = report_flow(**arguments)
    except NoMarts as exc:
        raise UsageError(str(exc)) from exc
    if result.paths is None:
        sys.stdout.write(to_json(result.summary))
        return
    paths = result.paths
    chosen = {"html": paths.index_html, "csv": paths.findings_csv}.get(format or "", paths.folder)
    echo(str(chosen))


@app.command
def check(
    file: Annotated[
        Path,
        Parameter(help="The claims not yet sent: an 837P, or a claims CSV/Parquet (README)."),
    ],
    *,
    db: Db = None,
    format: Annotated[
        Literal["text", "json"],
        Parameter(help="text: one block per claim line at risk; json: README's schema."),
    ] = "text",
    sessions: Annotated[
        Path | None,
        Parameter(
            help="Notes of these claims (a sessions CSV/Parquet) when the warehouse's sessions "
            "feed does not carry them yet."
        ),
    ] = None,
) -> None:
    """Judge claims not yet sent against what the warehouse knows (eligibility, notes, prior
    claims, the clinician's 90837 share, payer policies). Exit 0 nothing at risk, 1 a line at
    risk, 2 bad input or any other failure (never a verdict), 3 the warehouse is being written.
    Reads the warehouse read-only; writes nothing, starts no Prefect."""
    from expectations.precheck import (
        BadInput,
        NoWarehouse,
        check_claims,
        to_json_document,
        to_text,
    )
    from warehouse.errors import WarehouseLocked, WarehouseRefused

    given_db, db = db, _path(db, settings.DEFAULT_DB)
    if not db.exists():
        raise UsageError(_not_found("warehouse", db, "--db", given_db, "run `recoup run` first"))
    try:
        result = check_claims(file, db, sessions=sessions)
    except (BadInput, NoWarehouse) as exc:
        raise UsageError(str(exc)) from exc
    except (WarehouseLocked, WarehouseRefused):
        raise
    except Exception as exc:  # exit 1 means "at risk": any other failure is no verdict (exit 2)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UsageError(
            f"{file}: could not be checked against {db}: {type(exc).__name__}: {first}"
        ) from exc
    if format == "json":
        import json

        sys.stdout.write(json.dumps(to_json_document(result), indent=2) + "\n")
    else:
        sys.stdout.write(to_text(result))
    if result.at_risk:
        raise SystemExit(1)


def _argument_error(exc: Exception) -> str:
    """One line for an argument cyclopts could not take; a date says the format it expects."""
    from cyclopts import CoercionError

    token = getattr(exc, "token", None)
    if isinstance(exc, CoercionError) and exc.target_type is date and token is not None:
        return (
            f"{token.keyword or 'date'} {token.value!r} is not a date: expected YYYY-MM-DD "
            "(e.g. 2026-11-15)"
        )
    return str(exc).strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command, map failures to exit codes with one line on stderr (and,
    for an unexpected error inside a flow, the run log holding its traceback)."""
    from flows import runlog
    from loading.stopping import EnvironmentFault, Stopped, stop_on_signals
    from warehouse.errors import WarehouseLocked, WarehouseRefused
    from warehouse.private import apply_umask
    from warehouse.resources import memory_limit

    runlog.forget()
    try:
        apply_umask()  # everything recoup creates is owner-only unless RECOUP_UMASK says otherwise
        memory_limit()  # RECOUP_MEMORY_LIMIT is checked before anything runs
    except ValueError as exc:
        print(f"recoup: {exc}", file=sys.stderr)
        return 2
    try:
        with stop_on_signals(arm=True):
            app(argv if argv is not None else sys.argv[1:], exit_on_error=False, print_error=False)
    except Stopped as stop:
        args = argv if argv is not None else sys.argv[1:]
        print(f"recoup: {stop.sentence(args[0] if args else '')}", file=sys.stderr)
        return stop.exit_code
    except (UsageError, WarehouseRefused) as exc:
        print(f"recoup: {exc}", file=sys.stderr)
        return 2
    except WarehouseLocked as exc:
        print(f"recoup: {exc}", file=sys.stderr)
        return 3
    except (RunIncomplete, EnvironmentFault) as exc:
        print(f"recoup: {exc}", file=sys.stderr)
        return 1
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except Exception as exc:
        name = type(exc).__module__
        if name.startswith("cyclopts"):
            print(f"recoup: {_argument_error(exc)}", file=sys.stderr)
            return 2
        print(
            f"recoup: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            file=sys.stderr,
        )
        log = runlog.last_log()
        if log is not None:
            print(f"traceback and run log: {log}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
