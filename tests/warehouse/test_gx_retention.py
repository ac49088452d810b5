"""Retention of Great Expectations results under <reports>/gx/: each suite keeps its newest
``keep_runs`` checkpoint runs (``gx.keep_runs`` in expectations/defaults.toml), with their Data
Docs pages; older ones are pruned when a suite is validated again."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from expectations.config import load_config
from warehouse.gx_runner import DEFAULT_KEEP_RUNS, ColumnCheck, SqlCheck, prune_results, validate

# A GX project validated again reloads its table assets, whose schema_name GX 1.24 deprecates
# (warehouse/gx_runner.py silences it where it adds them; the nightly sees it on every rerun).
pytestmark = pytest.mark.filterwarnings("ignore:`schema_name` is deprecated:DeprecationWarning")

CHECKS = [
    ColumnCheck("status present", "stg.claims", "status", "not_null"),
    SqlCheck("no negative amounts", "SELECT * FROM stg.claims WHERE amount < 0"),
    ColumnCheck("finding id present", "mart.findings", "finding_id", "not_null"),
]


def runs(folder: Path) -> dict[str, list[str]]:
    """Run-time folders by suite folder (relative), oldest first."""
    found: dict[str, set[str]] = {}
    for leaf in folder.rglob("*"):
        if leaf.is_file() and leaf.suffix in (".json", ".html"):
            suite = leaf.parent.parent.relative_to(folder).as_posix()
            found.setdefault(suite, set()).add(leaf.parent.name)
    return {suite: sorted(times) for suite, times in sorted(found.items())}


def test_shipped_default_is_the_library_default() -> None:
    assert load_config()["gx.keep_runs"] == DEFAULT_KEEP_RUNS == 30
    assert load_config({"gx.keep_runs": 5})["gx.keep_runs"] == 5
    with pytest.raises(ValueError, match=r"gx\.keep_runs: expected int"):
        load_config({"gx.keep_runs": "all"})


def test_n_plus_two_runs_keep_the_newest_n_with_their_pages(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE SCHEMA stg; CREATE SCHEMA mart;"
            "CREATE TABLE stg.claims AS SELECT * FROM (VALUES (1, 'paid', 10.0), (2, NULL, -5.0))"
            " v(claim_id, status, amount);"
            "CREATE TABLE mart.findings AS SELECT 1 AS finding_id"
        )
    gx_root = tmp_path / "gx"
    store = gx_root / "uncommitted" / "validations"
    site = gx_root / "uncommitted" / "data_docs" / "local_site"
    keep = 2
    seen: list[dict[str, list[str]]] = []
    for _ in range(keep + 2):
        result = validate(db, "claims", CHECKS, gx_root=gx_root, build_docs=True, keep_runs=keep)
        assert [c.unexpected_count for c in result.checks] == [1, 1, 0]
        seen.append(runs(store))
    suites = ["claims/mart/findings/__none__", "claims/stg/claims/__none__"]
    assert list(seen[0]) == suites
    # each run adds one run time per suite; from the third on, the oldest goes
    assert [len(state[suites[1]]) for state in seen] == [1, 2, 2, 2]
    every_run = [state[suites[1]][-1] for state in seen]
    assert len(set(every_run)) == keep + 2
    newest = every_run[-keep:]
    assert runs(store) == {suite: newest for suite in suites}
    assert runs(site / "validations") == {suite: newest for suite in suites}
    index = (site / "index.html").read_text()
    assert all(time in index for time in newest)
    assert not any(time in index for time in every_run[:-keep])
    # a later run with the default keeps everything that is there (2 + 1)
    validate(db, "claims", CHECKS, gx_root=gx_root, build_docs=False)
    assert [len(times) for times in runs(store).values()] == [3, 3]


def test_prune_results_only_touches_the_named_suites(tmp_path: Path) -> None:
    store = tmp_path / "uncommitted" / "validations"
    pages = tmp_path / "uncommitted" / "data_docs" / "local_site" / "validations"
    times = [f"2026120{day}T020000.000000Z" for day in range(1, 6)]
    for suite in ("recoup_rules", "recoup_staging/stg/claims"):
        for time in times:
            (store / suite / "__none__" / time).mkdir(parents=True)
            (store / suite / "__none__" / time / "warehouse-x.json").write_text("{}")
            (pages / suite / "__none__" / time).mkdir(parents=True)
            (pages / suite / "__none__" / time / "warehouse-x.html").write_text("")
    (store / ".ge_store_backend_id").write_text("store_backend_id = x\n")
    removed = prune_results(tmp_path, 2, ["recoup_staging.stg.claims"])
    assert [run.name for run in removed] == times[:3]
    assert runs(store) == {
        "recoup_rules/__none__": times,
        "recoup_staging/stg/claims/__none__": times[3:],
    }
    assert runs(pages) == runs(store)
    assert len(prune_results(tmp_path, 1)) == 4 + 1  # all suites: 4 of the rules, 1 of claims
    assert runs(store) == {
        "recoup_rules/__none__": times[4:],
        "recoup_staging/stg/claims/__none__": times[4:],
    }
    assert (store / ".ge_store_backend_id").is_file()
    with pytest.raises(ValueError, match="keep must be 0 or more"):
        prune_results(tmp_path, -1)
    assert prune_results(tmp_path / "nothing", 0) == []


@pytest.mark.parametrize("keep_bytes", [0, 700])
def test_a_config_truncated_by_a_killed_run_is_set_aside_and_rebuilt(
    tmp_path: Path, keep_bytes: int
) -> None:
    """GX rewrites great_expectations.yml in place: a run killed while it wrote left a truncated
    file, and every later run failed with InvalidDataContextConfigError (seen in
    tests/flows/test_interruption.py under load). The next run keeps the damaged file beside a
    fresh one and validates as before."""
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE SCHEMA stg; CREATE SCHEMA mart;"
            "CREATE TABLE stg.claims AS SELECT * FROM (VALUES (1, 'paid', 10.0), (2, NULL, -5.0))"
            " v(claim_id, status, amount);"
            "CREATE TABLE mart.findings AS SELECT 1 AS finding_id"
        )
    gx_root = tmp_path / "gx"
    validate(db, "claims", CHECKS, gx_root=gx_root, build_docs=False)
    config = gx_root / "great_expectations.yml"
    whole = config.read_bytes()
    damaged = whole[:keep_bytes]
    config.write_bytes(damaged)

    result = validate(db, "claims", CHECKS, gx_root=gx_root, build_docs=False)

    assert [c.unexpected_count for c in result.checks] == [1, 1, 0]
    kept = sorted(gx_root.glob("great_expectations.yml.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged
    assert "config_version: 4.0" in config.read_text()
