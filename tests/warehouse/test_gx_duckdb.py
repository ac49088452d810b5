"""Great Expectations on a DuckDB file: the duckdb-engine bug, the fix, and warehouse.gx_runner.

One module-scoped validation run (file context, Data Docs, caller's connection held open)
serves most assertions, so GX (about 5 s to import) and its context are paid for once.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse import gx_duckdb
from warehouse.gx_runner import (
    ColumnCheck,
    OpenFileConflict,
    SqlCheck,
    SuiteResult,
    validate,
)

WAREHOUSE = """
CREATE SCHEMA stg;
CREATE SCHEMA mart;
CREATE TABLE stg.claims AS SELECT * FROM (VALUES
    (1, 'a', 'paid',   10.0),
    (2, 'a', 'paid',   20.0),
    (3, 'b', 'denied', -5.0),
    (4, 'c', 'paid',   30.0),
    (5, 'd', NULL,     40.0),
    (6, 'e', 'weird', 1000.0)
) v(claim_id, member_id, status, amount);
CREATE TABLE mart.findings AS SELECT * FROM (VALUES
    (1, 1), (2, 3), (3, 99), (4, 98)
) v(finding_id, claim_id);
CREATE TABLE main.tiny AS SELECT * FROM (VALUES (1, 'x'), (2, NULL)) v(id, label);
"""

CHECKS = [
    ColumnCheck("status present", "stg.claims", "status", "not_null"),
    ColumnCheck("claim id unique", "stg.claims", "claim_id", "unique"),
    ColumnCheck("member unique", "stg.claims", "member_id", "unique"),
    ColumnCheck("status known", "stg.claims", "status", "in_set", value_set=["paid", "denied"]),
    ColumnCheck("amount range", "stg.claims", "amount", "between", min_value=0, max_value=100),
    ColumnCheck("claim id positive", "stg.claims", "claim_id", "between", min_value=1),
    SqlCheck(
        "finding without claim",
        "SELECT f.finding_id, f.claim_id FROM mart.findings f "
        "ANTI JOIN stg.claims c ON c.claim_id = f.claim_id ORDER BY f.finding_id",
        "every finding points at a loaded claim",
    ),
    SqlCheck(
        "finding on denied claim",
        "SELECT f.* FROM mart.findings f JOIN stg.claims c USING (claim_id) "
        "WHERE c.status = 'denied'",
        "findings are on paid claims",
    ),
    SqlCheck("no findings ids over 10", "SELECT * FROM mart.findings WHERE finding_id > 10"),
    ColumnCheck("status code pattern", "stg.claims", "status", "regex", regex="^[a-z]+$"),
]


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gx") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(WAREHOUSE)
    return path


@pytest.fixture(scope="module")
def run(db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SuiteResult:
    """All checks in one GX run while this process holds the file open read-write."""
    gx_root = tmp_path_factory.mktemp("gx_project") / "gx"
    with duckdb.connect(str(db_path)) as con:
        return validate(db_path, "claims", CHECKS, gx_root=gx_root, build_docs=True, con=con)


def test_a_without_the_fix_every_metric_fails(db_path: Path) -> None:
    """Documents GX issue 11579/10738 (list index out of range) and the schema fallback bug."""
    import great_expectations as gx

    gx_duckdb.uninstall()
    try:
        assert not gx_duckdb.is_installed()
        context = gx.get_context(mode="ephemeral")
        source = context.data_sources.add_sql(
            "raw", connection_string=f"duckdb:///{db_path}?access_mode=read_only"
        )
        try:
            messages = {}
            for schema, table in [("main", "tiny"), ("stg", "claims")]:
                batch = (
                    source.add_table_asset(
                        f"{schema}.{table}", table_name=table, schema_name=schema
                    )
                    .add_batch_definition_whole_table("all")
                    .get_batch()
                )
                result = batch.validate(
                    gx.expectations.ExpectColumnValuesToBeUnique(column="claim_id")
                    if table == "claims"
                    else gx.expectations.ExpectColumnValuesToNotBeNull(column="label")
                )
                if result.success is not False or not result.exception_info:
                    pytest.fail(
                        f"GX {gx.__version__} validated {schema}.{table} on duckdb without "
                        "warehouse/gx_duckdb.py (success="
                        f"{result.success}, result={result.result}): the bug looks FIXED in this "
                        "GX version; re-check issues 11579/10738 and drop the patch"
                    )
                assert result.result == {}
                messages[table] = " | ".join(
                    str(info.get("exception_message")) for info in result.exception_info.values()
                )
        finally:
            gx_duckdb.release(source)
        assert "list index out of range" in messages["tiny"]
        assert "Table with name claims does not exist" in messages["claims"]
    finally:
        gx_duckdb.install()
    assert gx_duckdb.is_installed()


def test_install_is_idempotent() -> None:
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    gx_duckdb.install()
    patched = SqlAlchemyExecutionEngine.get_connection
    gx_duckdb.install()
    assert SqlAlchemyExecutionEngine.get_connection is patched
    assert gx_duckdb.is_installed()


def test_b_column_checks_success_and_counts(run: SuiteResult) -> None:
    got = {c.name: (c.status, c.unexpected_count) for c in run.checks}
    assert got["status present"] == ("fail", 1)
    assert got["claim id unique"] == ("pass", 0)
    assert got["member unique"] == ("fail", 2)  # GX counts every row of a duplicated value
    assert got["status known"] == ("fail", 1)  # NULL is not checked by in_set
    assert got["amount range"] == ("fail", 2)
    assert got["claim id positive"] == ("pass", 0)
    checks = run.by_name()
    assert checks["status known"].sample_rows == [{"status": "weird"}]
    assert sorted(r["amount"] for r in checks["amount range"].sample_rows) == [-5.0, 1000.0]
    assert checks["member unique"].sample_rows == [{"member_id": "a"}, {"member_id": "a"}]
    assert checks["claim id unique"].success and checks["claim id unique"].error is None


def test_c_unexpected_rows_with_join(run: SuiteResult) -> None:
    checks = run.by_name()
    orphan = checks["finding without claim"]
    assert (orphan.status, orphan.unexpected_count) == ("fail", 2)
    assert orphan.table == "mart.findings"
    assert orphan.sample_rows == [
        {"finding_id": 3, "claim_id": 99},
        {"finding_id": 4, "claim_id": 98},
    ]
    denied = checks["finding on denied claim"]
    assert (denied.status, denied.unexpected_count) == ("fail", 1)
    assert denied.sample_rows == [{"claim_id": 3, "finding_id": 2}]
    none = checks["no findings ids over 10"]
    assert (none.status, none.unexpected_count, none.sample_rows) == ("pass", 0, [])


def test_d_unsupported_expectation_is_an_error(run: SuiteResult) -> None:
    regex = run.by_name()["status code pattern"]
    assert regex.status == "error"
    assert not regex.success
    assert regex.unexpected_count is None
    assert "Regex is not supported for dialect duckdb" in (regex.error or "")
    assert [c.name for c in run.errors] == ["status code pattern"]
    assert not run.success
    # The failed regex metric does not poison the other checks on the same table.
    assert run.by_name()["claim id unique"].status == "pass"


def test_e_data_docs_built(run: SuiteResult) -> None:
    assert run.docs_index is not None
    assert run.docs_index.parts[-4:] == ("uncommitted", "data_docs", "local_site", "index.html")
    assert run.docs_index.is_file()
    site = run.docs_index.parent
    assert "claims" in run.docs_index.read_text()
    assert list((site / "validations").rglob("*.html")), "no validation page"
    gx_root = run.docs_index.parents[3]
    assert list((gx_root / "uncommitted" / "validations").rglob("*.json")), "results not kept"


def test_ephemeral_without_connection_and_open_file_conflict(db_path: Path, tmp_path: Path) -> None:
    checks = [ColumnCheck("status present", "stg.claims", "status", "not_null")]
    result = validate(db_path, "quick", checks, gx_root=None, build_docs=False)
    assert (result.checks[0].status, result.checks[0].unexpected_count) == ("fail", 1)
    assert result.docs_index is None
    assert not list(tmp_path.iterdir())
    con = duckdb.connect(str(db_path))
    try:
        with pytest.raises(OpenFileConflict, match="con=con"):
            validate(db_path, "quick", checks, gx_root=None, build_docs=False)
        # the caller's connection still works, and GX sees what it committed
        con.execute("INSERT INTO stg.claims VALUES (7, 'f', NULL, 5.0)")
        again = validate(db_path, "quick", checks, gx_root=None, build_docs=False, con=con)
        assert again.checks[0].unexpected_count == 2
        con.execute("DELETE FROM stg.claims WHERE claim_id = 7")
    finally:
        con.close()
    # GX released the file: a read-only open (a different configuration) works now
    with duckdb.connect(str(db_path), read_only=True) as ro:
        assert ro.execute("SELECT count(*) FROM stg.claims").fetchone() == (6,)


def test_sql_check_batch_table_and_braces() -> None:
    check = SqlCheck("s", "select {'a': 1} as x from mart.findings f join stg.claims c using (id)")
    assert check.batch_table() == "mart.findings"
    assert "{{'a': 1}}" in check.gx_query()
    assert "{batch}" in check.gx_query()
    with pytest.raises(ValueError, match="set `table`"):
        SqlCheck("t", "select 1").batch_table()
    with pytest.raises(ValueError, match="in_set needs value_set"):
        ColumnCheck("c", "stg.claims", "status", "in_set")
