"""Read a CMS Practitioner Services MUE file as unit limits.

The CMS file is a CSV with a licence notice above the header row; the columns used are
``HCPCS/CPT Code, Practitioner Services MUE Values, MUE Adjudication Indicator, MUE Rationale``.
The adjudication indicator is kept as its number (1 per line, 2 per day by policy, 3 per day
clinical). Loaded over the shipped unit limits when ``unit_limits.mue_file`` is set.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

MUE_COLUMNS = {
    "HCPCS/CPT Code": "code",
    "Practitioner Services MUE Values": "max_units_per_day",
    "MUE Adjudication Indicator": "adjudication_indicator",
    "MUE Rationale": "rationale",
}


class MueFileError(ValueError):
    """The file is not a CMS MUE table recoup can read."""


def _header_row(path: Path) -> tuple[int, list[str]]:
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        for index, row in enumerate(csv.reader(handle)):
            cells = [" ".join(cell.split()) for cell in row]
            if "HCPCS/CPT Code" in cells:
                return index, cells
            if index > 200:
                break
    raise MueFileError(f"{path}: no header row with 'HCPCS/CPT Code' in the first 200 rows")


def read_mue(path: str | Path) -> pl.DataFrame:
    """The MUE table as ``code, max_units_per_day, adjudication_indicator, rationale``.

    Rows without a numeric MUE value are dropped; a missing column raises ``MueFileError``.
    """
    path = Path(path)
    skip, header = _header_row(path)
    missing = [name for name in MUE_COLUMNS if name not in header]
    if missing:
        raise MueFileError(f"{path}: missing column(s) {', '.join(missing)}")
    frame = pl.read_csv(
        path,
        skip_rows=skip,
        has_header=True,
        infer_schema=False,
        new_columns=header,
        encoding="utf8-lossy",
    )
    frame = frame.select(
        [pl.col(source).str.strip_chars().alias(target) for source, target in MUE_COLUMNS.items()]
    )
    return (
        frame.with_columns(
            pl.col("max_units_per_day").str.extract(r"^(\d+(?:\.\d+)?)$").cast(pl.Decimal(10, 3)),
            pl.col("adjudication_indicator").str.extract(r"^(\d)").cast(pl.Int32),
        )
        .filter(pl.col("code").str.contains(r"^[A-Z0-9]{5}$"))
        .filter(pl.col("max_units_per_day").is_not_null())
        .unique(subset="code", keep="last", maintain_order=True)
    )
