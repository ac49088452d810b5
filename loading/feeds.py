"""CSV and Parquet readers for the feeds, with schema checks.

Every reader takes the file's bytes and returns Arrow tables keyed by staging table name, or raises
``FeedError`` naming the file, the row (a CSV line number, header = line 1) and column, and the
problem. Column schemas are documented in the README ("Feed formats"); header names are matched
exactly after trimming spaces, extra columns are ignored, missing required columns are an error.

Values are read as text and converted here, so a bad value is reported with its place rather than
guessed at: money must be a plain decimal with at most two places, dates ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
from polars.exceptions import PanicException  # a BaseException: not caught as an Exception

MONEY = pl.Decimal(18, 2)
_AMOUNT = r"^-?(\d+(\.\d{0,2})?|\.\d{1,2})$"
_INTEGER = r"^-?\d+$"
_QUANTITY = r"^\d+(\.\d{1,3})?$"


class FeedError(Exception):
    """A CSV/Parquet file that does not match its feed's schema; the file is rejected whole.

    The message names the file, the place (line, column) and the problem, never a value of the
    file: a header-less file's "header" is a member's row, and a value may be megabytes long
    (docs/decisions.md "Health data").
    """

    def __init__(
        self, file_name: str, problem: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        self.file_name, self.problem, self.row, self.column = file_name, problem, row, column
        place = []
        if row is not None:
            place.append(f"line {row}")
        if column is not None:
            place.append(f"column {column!r}")
        where = f" ({', '.join(place)})" if place else ""
        super().__init__(f"{file_name}{where}: {problem}")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # text | money | date | timestamp | int | quantity | modifiers | status | boolean
    required: bool = True


# Schemas: one row per claim line / coverage statement / line payment / session.
CLAIMS = [
    Column("claim_id", "text"),
    Column("line_number", "int"),
    Column("member_id", "text"),
    Column("payer_id", "text"),
    Column("billing_npi", "text"),
    Column("rendering_npi", "text", required=False),
    Column("date_of_service", "date"),
    Column("procedure_code", "text"),
    Column("modifiers", "modifiers", required=False),
    Column("units", "quantity", required=False),
    Column("charge", "money"),
    Column("place_of_service", "text", required=False),
    Column("frequency_code", "text", required=False),
    Column("line_control_number", "text", required=False),
    Column("payer_name", "text", required=False),
    # providers' names (organisations and clinicians, as in the 837P's NM1*85 / NM1*82)
    Column("billing_provider_name", "text", required=False),
    Column("rendering_provider_name", "text", required=False),
]
ELIGIBILITY = [
    Column("member_id", "text"),
    Column("payer_id", "text"),
    Column("check_date", "date"),
    Column("status", "status"),
    Column("coverage_begin", "date", required=False),
    Column("coverage_end", "date", required=False),
    Column("service_type", "text", required=False),
]
REMITTANCES = [
    Column("trace_number", "text"),
    Column("payment_date", "date"),
    Column("payer_id", "text"),
    Column("claim_id", "text"),
    Column("claim_status", "text"),
    Column("procedure_code", "text"),
    Column("modifiers", "modifiers", required=False),
    Column("date_of_service", "date"),
    Column("line_control_number", "text", required=False),
    Column("charge", "money", required=False),
    Column("paid_amount", "money"),
    Column("units", "quantity", required=False),
    Column("payee_npi", "text", required=False),
]
PROVIDER_ADJUSTMENTS = [
    Column("trace_number", "text"),
    Column("payment_date", "date"),
    Column("payer_id", "text"),
    Column("provider_id", "text", required=False),
    Column("reason_code", "text"),
    Column("reference_id", "text", required=False),
    Column("amount", "money"),
]
SESSIONS = [
    Column("claim_id", "text"),
    Column("line_number", "int", required=False),
    Column("minutes", "int", required=False),
    Column("note_signed_at", "timestamp", required=False),
    Column("phq9", "int", required=False),
    Column("gad7", "int", required=False),
]
FEE_SCHEDULE = [
    Column("payer_id", "text"),
    Column("code", "text"),
    Column("allowed_amount", "money"),
]
PAYERS = [
    Column("payer_id", "text"),
    Column("name", "text", required=False),
    Column("lookback_months", "int", required=False),
    Column("telehealth_modifier_required", "boolean", required=False),
    Column("appeal_days", "int", required=False),  # days to appeal a takeback (default 60)
]
# SPEC's sessions header: the columns must all be present, even when their values are empty.
SESSIONS_HEADER = [c.name for c in SESSIONS]
SCORE_RANGES = {"phq9": (0, 27), "gad7": (0, 21), "minutes": (1, 1440)}
# Said after a value out of range: why a value that looks like a number is refused.
RANGE_NOTES = {"minutes": " (empty = not documented)"}


# What a file that is not CSV text starts with (found by the bad-input corpus: these were read
# as CSV and rejected for their "header", or loaded with the NUL bytes in the values).
_NOT_TEXT = (
    (b"\xff\xfe", "is UTF-16 text (it starts with a UTF-16 byte order mark): save it as UTF-8"),
    (b"\xfe\xff", "is UTF-16 text (it starts with a UTF-16 byte order mark): save it as UTF-8"),
    (b"PK\x03\x04", "is a ZIP archive (a spreadsheet such as .xlsx?), not CSV text"),
)


def _not_csv_text(data: bytes, file_name: str) -> None:
    """Reject what cannot be CSV text before reading it: empty, UTF-16, ZIP, NUL bytes."""
    if not data.strip():
        raise FeedError(file_name, "the file is empty")
    for magic, problem in _NOT_TEXT:
        if data.startswith(magic):
            raise FeedError(file_name, problem)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FeedError(
            file_name,
            "holds a NUL byte (binary data, not CSV text)",
            row=data.count(b"\n", 0, nul) + 1,
        )


def _ragged_line(data: bytes) -> tuple[int, int, int] | None:
    """The first line (1-based) whose field count differs from the header's, with both counts."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    rows = csv.reader(io.StringIO(text, newline=""))
    width = None
    try:
        for row in rows:
            if not row or row[0].lstrip().startswith("#"):
                continue
            if width is None:
                width = len(row)
            elif len(row) != width:
                return rows.line_num, len(row), width
    except csv.Error:  # found by the fuzzer: a bare CR; polars' own message will do
        return None
    return None


def read_frame(data: bytes, file_name: str, fmt: str) -> pl.DataFrame:
    """Read CSV (all columns as text; lines starting with # are comments) or Parquet. Text
    values are trimmed and an empty one is missing, in both formats."""
    if fmt != "parquet":
        _not_csv_text(data, file_name)
    try:
        if fmt == "parquet":
            frame = pl.read_parquet(io.BytesIO(data))
            frame = frame.with_columns(
                pl.col(name).cast(pl.String)
                for name in frame.columns
                if frame.schema[name] != pl.String
            )
        else:
            frame = pl.read_csv(
                io.BytesIO(data),
                infer_schema=False,
                comment_prefix="#",
                encoding="utf8",
                truncate_ragged_lines=False,
            )
    except MemoryError:
        raise  # the machine, not the file (loading/stopping.py)
    except (Exception, PanicException) as exc:  # polars raises several types (and panics)
        ragged = _ragged_line(data) if fmt == "csv" else None
        if ragged is not None:
            line, fields, width = ragged
            raise FeedError(
                file_name, f"{fields} fields where the header has {width}", row=line
            ) from exc
        # Parquet's messages are about the file's structure; a CSV reader's may quote a line.
        detail = f": {str(exc).splitlines()[0]}" if fmt == "parquet" and str(exc) else ""
        raise FeedError(file_name, f"cannot be read as {fmt}{detail}") from exc
    frame = frame.rename(lambda name: name.strip())
    return frame.with_columns(pl.col(pl.String).str.strip_chars().replace("", None))


def _first_bad(frame: pl.DataFrame, bad: pl.Expr) -> int | None:
    """1-based CSV line of the first row where ``bad`` holds (header is line 1)."""
    hits = frame.with_row_index("_row").filter(bad).select("_row").head(1)
    return None if hits.is_empty() else int(hits.item()) + 2


def _header_names(names: list[str], schema: list[Column]) -> str:
    """What the header holds, naming only the feed's own columns: in a header-less file the
    "header" is a row of data."""
    known = [name for name in names if any(col.name == name for col in schema)]
    if not known:
        return "the first line names none of the columns (a file without its header?)"
    others = len(names) - len(known)
    more = f" and {others} other name{'s' if others > 1 else ''}" if others else ""
    return f"header has: {', '.join(known)}{more}"


def _typed(frame: pl.DataFrame, schema: list[Column], file_name: str) -> pl.DataFrame:
    """Check presence and form of every column; return the frame with typed columns."""
    missing = [c.name for c in schema if c.name not in frame.columns]
    required_missing = [c for c in missing if any(s.name == c and s.required for s in schema)]
    if required_missing:
        raise FeedError(
            file_name,
            f"required column missing ({_header_names(frame.columns, schema)})",
            column=required_missing[0],
        )
    frame = frame.with_columns(pl.lit(None, pl.String).alias(name) for name in missing)
    converted = []
    for col in schema:
        value = pl.col(col.name)
        if col.required:
            row = _first_bad(frame, value.is_null())
            if row is not None:
                raise FeedError(file_name, "value is required", row=row, column=col.name)
        pattern, problem, typed = _conversion(col)
        if pattern is not None:
            row = _first_bad(frame, value.is_not_null() & ~value.str.contains(pattern))
            if row is not None:
                raise FeedError(file_name, f"value is not {problem}", row=row, column=col.name)
        if typed is not None:
            row = _first_bad(frame, value.is_not_null() & typed.is_null())
            if row is not None:
                raise FeedError(file_name, f"value is not {problem}", row=row, column=col.name)
            converted.append(typed.alias(col.name))
    frame = frame.with_columns(converted)
    for name, (low, high) in SCORE_RANGES.items():
        if name in frame.columns and any(c.name == name for c in schema):
            row = _first_bad(frame, ~pl.col(name).is_between(low, high))
            if row is not None:
                raise FeedError(
                    file_name,
                    f"value is outside {low}-{high}{RANGE_NOTES.get(name, '')}",
                    row=row,
                    column=name,
                )
    return frame


def _conversion(col: Column) -> tuple[str | None, str, pl.Expr | None]:
    value = pl.col(col.name)
    if col.kind == "money":
        return _AMOUNT, "an amount with at most two decimals", value.cast(MONEY, strict=False)
    if col.kind == "int":
        return _INTEGER, "a whole number", value.cast(pl.Int32, strict=False)
    if col.kind == "quantity":
        return _QUANTITY, "a unit count", value.cast(pl.Decimal(10, 3), strict=False)
    if col.kind == "date":
        return (
            r"^\d{4}-\d{2}-\d{2}$",
            "an ISO date (YYYY-MM-DD)",
            value.str.to_date("%Y-%m-%d", strict=False),
        )
    if col.kind == "timestamp":
        return (
            r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$",
            "an ISO timestamp",
            value.str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "").str.to_datetime(
                strict=False, time_unit="us"
            ),
        )
    if col.kind == "status":
        return r"^(?i)(active|inactive)$", "active or inactive", value.str.to_lowercase()
    if col.kind == "boolean":
        return (
            r"^(?i)(true|false|yes|no|y|n|1|0)$",
            "true or false",
            value.str.to_lowercase().is_in(["true", "yes", "y", "1"]),
        )
    if col.kind == "modifiers":
        return r"^[A-Za-z0-9]{2}(:[A-Za-z0-9]{2}){0,3}$", "modifiers like 95 or 95:GT", None
    return None, "", None


def _at_least(
    typed: pl.DataFrame,
    name: str,
    low: int,
    problem: str,
    file_name: str,
    *,
    strict: bool = False,
) -> None:
    """Reject the file at the first row whose typed ``name`` is below ``low`` (or equal to it,
    ``strict``)."""
    value = pl.col(name)
    row = _first_bad(typed, value <= low if strict else value < low)
    if row is not None:
        raise FeedError(file_name, f"value {problem}", row=row, column=name)


def _modifier_list(name: str = "modifiers") -> pl.Expr:
    return pl.col(name).str.to_uppercase().str.split(":")


def _unique(frame: pl.DataFrame, keys: list[str], file_name: str) -> None:
    dup = frame.with_row_index("_row").filter(pl.struct(keys).is_duplicated()).head(2)
    if not dup.is_empty():
        row = int(dup["_row"][1]) + 2 if dup.height > 1 else int(dup["_row"][0]) + 2
        raise FeedError(file_name, f"duplicate key ({', '.join(keys)})", row=row, column=keys[-1])


def _consistent(frame: pl.DataFrame, key: str, columns: list[str], file_name: str) -> None:
    """Claim-level values must agree on every line of a claim."""
    for name in columns:
        conflict = frame.with_row_index("_row").filter(pl.col(name).n_unique().over(key) > 1)
        if not conflict.is_empty():
            raise FeedError(
                file_name,
                f"differs between lines of the same claim ({key})",
                row=int(conflict["_row"][1]) + 2,
                column=name,
            )


def _to_arrow(frame: pl.DataFrame) -> pa.Table:
    return frame.to_arrow()


def read_claims(frame: pl.DataFrame, file_name: str, file_sha256: str) -> dict[str, pa.Table]:
    """Claims CSV/Parquet -> stg.claims + stg.claim_lines."""
    frame = _typed(frame, CLAIMS, file_name)
    _at_least(frame, "charge", 0, "is negative: a charge cannot be", file_name)
    units = "is not above 0: a line bills at least one unit"
    _at_least(frame, "units", 0, units, file_name, strict=True)
    _unique(frame, ["claim_id", "line_number"], file_name)
    claim_level = ["member_id", "payer_id", "billing_npi", "frequency_code"]
    _consistent(frame, "claim_id", claim_level, file_name)
    frame = frame.with_columns(
        pl.lit(file_sha256).alias("file_sha256"),
        pl.col("units").fill_null(pl.lit(1).cast(pl.Decimal(10, 3))),
        pl.col("frequency_code").fill_null("1"),
        pl.col("procedure_code").str.to_uppercase(),
    )
    claims = frame.group_by("claim_id", maintain_order=True).agg(
        pl.col("file_sha256").first(),
        pl.col("payer_id").first(),
        pl.col("payer_name").first(),
        pl.col("member_id").first(),
        pl.col("member_id").first().alias("patient_key"),
        pl.lit(True).alias("patient_is_subscriber"),
        pl.col("billing_npi").first(),
        pl.col("charge").sum().alias("total_charge"),
        pl.col("place_of_service").first(),
        pl.col("frequency_code").first(),
        pl.col("rendering_npi").first(),
        pl.col("billing_provider_name").first(),
    )
    lines = frame.select(
        "file_sha256",
        "claim_id",
        "line_number",
        "procedure_code",
        _modifier_list(),
        "charge",
        "units",
        "place_of_service",
        "date_of_service",
        "line_control_number",
        pl.coalesce("rendering_npi", "billing_npi").alias("rendering_npi"),
        # the name of the provider whose NPI that is: the rendering one's, else the billing one's
        pl.when(pl.col("rendering_npi").is_not_null())
        .then(pl.col("rendering_provider_name"))
        .otherwise(pl.col("billing_provider_name"))
        .alias("rendering_provider_name"),
    )
    return {"stg.claims": _to_arrow(claims), "stg.claim_lines": _to_arrow(lines)}


def read_eligibility(frame: pl.DataFrame, file_name: str, file_sha256: str) -> dict[str, pa.Table]:
    """Eligibility CSV/Parquet -> a response per (member, payer, check date), a benefit per row."""
    frame = _typed(frame, ELIGIBILITY, file_name)
    bad = _first_bad(frame, pl.col("coverage_begin") > pl.col("coverage_end"))
    if bad is not None:
        raise FeedError(
            file_name, "coverage_end is before coverage_begin", row=bad, column="coverage_end"
        )
    keys = ["member_id", "payer_id", "check_date"]
    frame = frame.with_columns(
        pl.lit(file_sha256).alias("file_sha256"),
        (pl.lit(file_sha256[:16] + ":csv:") + pl.struct(keys).rank("dense").cast(pl.String)).alias(
            "response_id"
        ),
    )
    responses = frame.unique(subset=keys, keep="first", maintain_order=True).select(
        "file_sha256",
        "response_id",
        "check_date",
        "payer_id",
        "member_id",
        pl.lit(False).alias("is_dependent"),
    )
    benefits = frame.select(
        "file_sha256",
        "response_id",
        (pl.int_range(pl.len()).over("response_id") + 1).cast(pl.Int32).alias("benefit_seq"),
        pl.when(pl.col("status") == "active")
        .then(pl.lit("1"))
        .otherwise(pl.lit("6"))
        .alias("eligibility_code"),
        pl.col("status").alias("coverage_status"),
        pl.col("service_type")
        .map_elements(lambda s: [s], return_dtype=pl.List(pl.String))
        .alias("service_types"),
        "coverage_begin",
        "coverage_end",
    )
    return {
        "stg.eligibility_responses": _to_arrow(responses),
        "stg.eligibility_benefits": _to_arrow(benefits),
    }


def read_remittances(frame: pl.DataFrame, file_name: str, file_sha256: str) -> dict[str, pa.Table]:
    """Remittance CSV/Parquet (line payments, or provider-level adjustments) -> stg.remit_*."""
    if "reason_code" in frame.columns and "claim_id" not in frame.columns:
        return _read_provider_adjustments(frame, file_name, file_sha256)
    frame = _typed(frame, REMITTANCES, file_name)
    payment_keys = ["trace_number", "payer_id", "payment_date"]
    frame = (
        frame.with_columns(
            pl.lit(file_sha256).alias("file_sha256"),
            _payment_id(file_sha256, payment_keys),
            pl.col("units").fill_null(pl.lit(1).cast(pl.Decimal(10, 3))),
            pl.col("procedure_code").str.to_uppercase(),
        )
        .with_columns(
            pl.struct("claim_id", "claim_status")
            .rank("dense")
            .over("payment_id")
            .cast(pl.Int32)
            .alias("claim_seq"),
        )
        .with_columns(
            (pl.int_range(pl.len()).over("payment_id", "claim_seq") + 1)
            .cast(pl.Int32)
            .alias("line_seq"),
        )
    )
    payments = frame.group_by("payment_id", maintain_order=True).agg(
        pl.col("file_sha256").first(),
        pl.col("paid_amount").sum().alias("total_paid"),
        pl.col("payment_date").first(),
        pl.col("trace_number").first(),
        pl.col("payer_id").first(),
        pl.col("payee_npi").first(),
    )
    claims = frame.group_by("payment_id", "claim_seq", maintain_order=True).agg(
        pl.col("file_sha256").first(),
        pl.col("claim_id").first(),
        pl.col("claim_status").first().alias("status_code"),
        pl.col("charge").sum().alias("total_charge"),
        pl.col("paid_amount").sum().alias("paid_amount"),
    )
    lines = frame.select(
        "file_sha256",
        "payment_id",
        "claim_seq",
        "line_seq",
        pl.lit("HC").alias("procedure_qualifier"),
        "procedure_code",
        _modifier_list(),
        "charge",
        "paid_amount",
        "units",
        "date_of_service",
        "line_control_number",
    )
    return {
        "stg.remit_payments": _to_arrow(payments),
        "stg.remit_claims": _to_arrow(claims),
        "stg.remit_lines": _to_arrow(lines),
    }


def _payment_id(file_sha256: str, keys: list[str]) -> pl.Expr:
    return (
        pl.lit(file_sha256[:16] + ":csv:") + pl.struct(keys).rank("dense").cast(pl.String)
    ).alias("payment_id")


def _read_provider_adjustments(
    frame: pl.DataFrame, file_name: str, file_sha256: str
) -> dict[str, pa.Table]:
    frame = _typed(frame, PROVIDER_ADJUSTMENTS, file_name)
    keys = ["trace_number", "payer_id", "payment_date"]
    frame = frame.with_columns(
        pl.lit(file_sha256).alias("file_sha256"),
        _payment_id(file_sha256, keys),
        pl.col("reason_code").str.to_uppercase(),
    ).with_columns(
        (pl.int_range(pl.len()).over("payment_id") + 1).cast(pl.Int32).alias("adjustment_seq"),
    )
    payments = frame.group_by("payment_id", maintain_order=True).agg(
        pl.col("file_sha256").first(),
        (-pl.col("amount").sum()).alias("total_paid"),
        pl.col("payment_date").first(),
        pl.col("trace_number").first(),
        pl.col("payer_id").first(),
    )
    adjustments = frame.select(
        "file_sha256",
        "payment_id",
        "adjustment_seq",
        "provider_id",
        pl.col("payment_date").alias("fiscal_period_date"),
        "reason_code",
        "reference_id",
        "amount",
    )
    return {
        "stg.remit_payments": _to_arrow(payments),
        "stg.remit_provider_adjustments": _to_arrow(adjustments),
    }


def read_sessions(frame: pl.DataFrame, file_name: str, file_sha256: str) -> dict[str, pa.Table]:
    """Sessions CSV/Parquet with the SPEC's header -> stg.sessions."""
    absent = [name for name in SESSIONS_HEADER if name not in frame.columns]
    if absent:
        raise FeedError(
            file_name, "sessions header must be " + ",".join(SESSIONS_HEADER), column=absent[0]
        )
    frame = _typed(frame, SESSIONS, file_name)
    _unique(frame, ["claim_id", "line_number"], file_name)
    frame = frame.with_columns(pl.lit(file_sha256).alias("file_sha256"))
    return {
        "stg.sessions": _to_arrow(
            frame.select(
                "file_sha256",
                "claim_id",
                "line_number",
                "minutes",
                "note_signed_at",
                "phq9",
                "gad7",
            )
        )
    }


def read_reference(frame: pl.DataFrame, file_name: str, file_sha256: str) -> dict[str, pa.Table]:
    """A reference override: fee_schedule.csv or payers.csv, told apart by their header."""
    if "allowed_amount" in frame.columns:
        frame = _typed(frame, FEE_SCHEDULE, file_name)
        _unique(frame, ["payer_id", "code"], file_name)
        table, columns = "stg.ref_fee_schedule", [c.name for c in FEE_SCHEDULE]
    elif any(
        name in frame.columns
        for name in ("lookback_months", "telehealth_modifier_required", "appeal_days")
    ):
        frame = _typed(frame, PAYERS, file_name)
        _unique(frame, ["payer_id"], file_name)
        bad = _first_bad(frame, pl.col("lookback_months") < 0)
        if bad is not None:
            raise FeedError(
                file_name, "look-back cannot be negative", row=bad, column="lookback_months"
            )
        bad = _first_bad(frame, pl.col("appeal_days") < 1)
        if bad is not None:
            raise FeedError(
                file_name, "appeal days must be at least 1", row=bad, column="appeal_days"
            )
        table, columns = "stg.ref_payers", [c.name for c in PAYERS]
    else:
        raise FeedError(
            file_name,
            "not a reference file: expected the header of fee_schedule.csv "
            "(payer_id,code,allowed_amount) or payers.csv (payer_id,name,"
            "lookback_months,telehealth_modifier_required)",
        )
    frame = frame.with_columns(pl.lit(file_sha256).alias("file_sha256"))
    return {table: _to_arrow(frame.select("file_sha256", *columns))}


Reader = Callable[[pl.DataFrame, str, str], dict[str, pa.Table]]


def _no_panic(reader: Reader) -> Reader:
    """``reader``, with a panic of polars (a BaseException, which would stop the whole run)
    turned into the file's rejection. Found by the fuzzer on a damaged Parquet file."""

    @functools.wraps(reader)
    def guarded(frame: pl.DataFrame, file_name: str, file_sha256: str) -> dict[str, pa.Table]:
        try:
            return reader(frame, file_name, file_sha256)
        except PanicException as exc:
            raise FeedError(file_name, "cannot be read: its values broke the reader") from exc

    return guarded


READERS: dict[str, Reader] = {
    "claims": _no_panic(read_claims),
    "eligibility": _no_panic(read_eligibility),
    "remittances": _no_panic(read_remittances),
    "sessions": _no_panic(read_sessions),
    "reference": _no_panic(read_reference),
}
