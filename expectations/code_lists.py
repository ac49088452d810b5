"""Load the rules' code lists into ``ref.*``: the shipped CSVs in ``data/reference``, overlaid by
the run's configuration (and a CMS MUE file when one is configured).

Precedence for unit limits: unit_limits.csv, then ``unit_limits.per_day``, then the MUE file (the
authoritative CMS table wins when a run names one). Telehealth places of service and modifiers are
the configured lists, labelled from telehealth.csv. Each CSV may start with ``#`` comment lines
saying where the list came from.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from expectations.config import RulesConfig
from expectations.mue import read_mue
from warehouse.connection import insert_arrow

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "reference"


def read_code_list(path: Path) -> pl.DataFrame:
    """A reference CSV as strings, its ``#`` comment lines skipped."""
    return pl.read_csv(path, comment_prefix="#", infer_schema=False)


def timed_codes(reference_dir: Path = REFERENCE_DIR) -> pl.DataFrame:
    frame = read_code_list(reference_dir / "timed_codes.csv")
    return frame.select(
        pl.col("code"),
        pl.col("family"),
        pl.col("min_minutes").cast(pl.Int32),
        pl.col("max_minutes").cast(pl.Int32),
        (pl.col("is_addon").str.to_lowercase() == "true").alias("is_addon"),
        pl.lit("timed_codes.csv").alias("source"),
    )


def addon_primaries(reference_dir: Path = REFERENCE_DIR) -> pl.DataFrame:
    frame = read_code_list(reference_dir / "addon_primaries.csv")
    bounds = pl.col("primary_code_or_range").str.split("-")
    return frame.select(
        pl.col("addon_code"),
        pl.col("relation"),
        bounds.list.first().alias("primary_from"),
        bounds.list.last().alias("primary_to"),
        pl.col("setting"),
        pl.lit("addon_primaries.csv").alias("source"),
    )


def unit_limits(config: RulesConfig, reference_dir: Path = REFERENCE_DIR) -> pl.DataFrame:
    limit = pl.Decimal(10, 3)
    shipped = read_code_list(reference_dir / "unit_limits.csv").select(
        pl.col("code"),
        pl.col("max_units_per_day").cast(limit),
        pl.lit(None, dtype=pl.Int32).alias("adjudication_indicator"),
        pl.lit("unit_limits.csv").alias("source"),
    )
    per_day = config["unit_limits.per_day"]
    configured = pl.DataFrame(
        {
            "code": [str(code) for code in per_day],
            "max_units_per_day": [str(value) for value in per_day.values()],
        },
        schema={"code": pl.String, "max_units_per_day": pl.String},
    ).select(
        pl.col("code"),
        pl.col("max_units_per_day").cast(limit),
        pl.lit(None, dtype=pl.Int32).alias("adjudication_indicator"),
        pl.lit("config").alias("source"),
    )
    layers = [shipped, configured]
    mue_file = config["unit_limits.mue_file"]
    if mue_file:
        mue = read_mue(mue_file).select(
            pl.col("code"),
            pl.col("max_units_per_day").cast(limit),
            pl.col("adjudication_indicator"),
            pl.lit("MUE " + Path(mue_file).name).alias("source"),
        )
        layers.append(mue)
    return pl.concat(layers).unique(subset="code", keep="last", maintain_order=True)


def telehealth(config: RulesConfig, reference_dir: Path = REFERENCE_DIR) -> pl.DataFrame:
    shipped = read_code_list(reference_dir / "telehealth.csv")
    configured = pl.DataFrame(
        {
            "kind": ["place_of_service"] * len(config["telehealth.places_of_service"])
            + ["modifier"] * len(config["telehealth.modifiers"]),
            "code": [str(code) for code in config["telehealth.places_of_service"]]
            + [str(code) for code in config["telehealth.modifiers"]],
        },
        schema={"kind": pl.String, "code": pl.String},
    )
    return configured.join(shipped, on=["kind", "code"], how="left", maintain_order="left").select(
        pl.col("kind"),
        pl.col("code"),
        pl.col("label"),
        pl.when(pl.col("label").is_null())
        .then(pl.lit("config"))
        .otherwise(pl.lit("telehealth.csv"))
        .alias("source"),
    )


def load_code_lists(
    con: duckdb.DuckDBPyConnection, config: RulesConfig, reference_dir: Path = REFERENCE_DIR
) -> dict[str, int]:
    """Replace the ``ref`` code-list tables; the caller owns the transaction. Rows per table."""
    frames = {
        "ref.timed_codes": timed_codes(reference_dir),
        "ref.addon_primaries": addon_primaries(reference_dir),
        "ref.unit_limits": unit_limits(config, reference_dir),
        "ref.telehealth": telehealth(config, reference_dir),
    }
    counts = {}
    for table, frame in frames.items():
        con.execute(f"DELETE FROM {table}")
        counts[table] = insert_arrow(con, table, frame.to_arrow())
    return counts
