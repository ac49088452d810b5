"""Benchmark: all rules over N claim lines, as plain DuckDB SQL vs the whole validation.

    uv run python benchmarks/bench_rules.py                      # 1,000,000 then 10,000,000
    uv run python benchmarks/bench_rules.py --lines 1000000 [--option-a] [--db PATH] [--keep]

For each size: generates N claim lines straight into a fresh DuckDB warehouse's staging tables
(vectorised SQL over ``range()``: claims, 835 payments with reversals, eligibility responses with
retroactive terminations, sessions with minutes, signatures and scores, duplicates, add-ons,
telehealth lines, a few high-90837 providers), builds the mart (``build_models``, not timed in
either figure), then times, in the same process:

* plain SQL: each evaluated rule's query (``Rule.sql``) materialised with DuckDB alone (no GX, no
  Prefect): ``CREATE TEMP TABLE ... AS <rule query>``;
* the whole validation: ``catalog.run_rules`` (findings into ``mart.findings``) +
  ``suites.validate_rules`` (the GX suite, file context, validation results kept and Data Docs
  built under a temporary ``gx/``). The GX import (about 6 s, once per process) is timed apart;
* with ``--option-a``: ``run_rules`` + a GX suite running each rule's own query as an
  UnexpectedRowsExpectation (the alternative ``expectations/suites.py`` did not take).

It prints seconds for each and the ratio, and checks that plain SQL, ``run_rules`` and GX counted
the same findings per rule (exit 1 otherwise). Repetitions are interleaved and the best of each is
reported: other work on a shared machine moves single figures by 50%.

Measured on the 2-core, 24 GiB box (November 2026, ``--option-a``, best of 2; runs in brackets):

    1M lines:  plain SQL 3.44 s; run_rules 4.77 s + GX 1.51 s = 6.40 s -> 1.86x (runs 1.57x,
               1.86x); option A: run_rules + GX 8.12 s = 12.89 s -> 3.75x
    10M lines: plain SQL 42.49 s; run_rules 51.01 s + GX 2.60 s = 53.60 s -> 1.26x (runs 1.60x,
               1.09x); option A: run_rules + GX 61.84 s = 112.84 s -> 2.66x
               (generate 40 s, build_models 70 s; the whole 10M benchmark takes about 8 minutes)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import duckdb

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from expectations.catalog import RULES, run_rules, skipped_rules  # noqa: E402
from expectations.code_lists import load_code_lists  # noqa: E402
from expectations.config import load_config  # noqa: E402
from loading import reference  # noqa: E402
from marts.build import build_models  # noqa: E402
from warehouse.connection import open_warehouse  # noqa: E402

AS_OF = date(2025, 3, 31)
T = TypeVar("T")

# One row per claim line. Claims have two lines; claim c repeats claim c-1 (a duplicate) when
# c % 200 = 1. Dates follow c (so a payment's claims are close in time) over 2023-2024.
GENERATE = """
CREATE TEMP TABLE gen_lines AS
WITH numbered AS (
    SELECT i, i // 2 AS c, CAST(i % 2 + 1 AS INTEGER) AS line_number
    FROM range({lines}) AS r(i)
),
keyed AS (
    SELECT *, CASE WHEN c % 200 = 1 THEN c - 1 ELSE c END AS base FROM numbered
),
people AS (
    SELECT
        *,
        hash(base, 1) % {members} AS member_no,
        DATE '2023-01-01' + CAST(base * 730 // {claims} + hash(base, 2) % 5 AS INTEGER)
            AS date_of_service
    FROM keyed
),
providers AS (
    SELECT *, member_no % {providers} AS provider_no FROM people
),
coded AS (
    SELECT
        *,
        provider_no % {groups} AS billing_no,
        hash(base, 3) % 100 AS h_code,
        hash(base, 4) % 100 AS h_second,
        hash(base, 6) % 100 AS h_place
    FROM providers
)
SELECT
    i, c, base, line_number, member_no, provider_no, billing_no, date_of_service,
    'C' || c AS claim_id,
    'M' || member_no AS member_id,
    'P' || (member_no % 5 + 1) AS payer_id,
    '1' || lpad(CAST(billing_no AS VARCHAR), 9, '0') AS billing_npi,
    '2' || lpad(CAST(provider_no AS VARCHAR), 9, '0') AS rendering_npi,
    CASE
        WHEN line_number = 2 THEN CASE
            WHEN h_second < 70 THEN '90785'
            WHEN h_second < 72 THEN '90836'
            WHEN h_second < 96 THEN '96127'
            WHEN h_second < 98 THEN '90832'
            ELSE '90834' END
        WHEN provider_no % 25 = 0 THEN CASE WHEN h_code < 85 THEN '90837' ELSE '90834' END
        WHEN h_code < 35 THEN '90834'
        WHEN h_code < 60 THEN '90837'
        WHEN h_code < 72 THEN '90832'
        WHEN h_code < 80 THEN '90791'
        WHEN h_code < 85 THEN '90847'
        WHEN h_code < 88 THEN '90846'
        WHEN h_code < 90 THEN '90839'
        ELSE 'H0031'
    END AS procedure_code,
    CASE WHEN h_place < 8 THEN '02' WHEN h_place < 12 THEN '10' ELSE '11' END
        AS place_of_service,
    CASE WHEN h_place < 12 AND hash(base, 7) % 100 < 80 THEN ['95'] ELSE []::VARCHAR[] END
        AS modifiers,
    CAST(CASE WHEN hash(i, 5) % 100 < 2 THEN 2 ELSE 1 END AS DECIMAL(10,3)) AS units,
    CASE WHEN c % 2 = 0 THEN 'C' || c || '-' || line_number END AS line_control_number,
    'claims-' || strftime(date_of_service, '%Y%m') AS file_sha256
FROM coded;

CREATE TEMP TABLE gen_priced AS
SELECT
    *,
    CAST(CASE procedure_code
        WHEN '90837' THEN 180 WHEN '90834' THEN 130 WHEN '90832' THEN 90
        WHEN '90791' THEN 200 WHEN '90785' THEN 20 WHEN '90836' THEN 110
        ELSE 100 END AS DECIMAL(18,2)) AS charge
FROM gen_lines;

INSERT INTO ledger.files (file_sha256, file_name, source_path, feed, size_bytes, received_at,
                          status)
SELECT DISTINCT file_sha256, file_sha256, 'bench/' || file_sha256, feed, 1,
       TIMESTAMP '2025-01-01', 'loaded'
FROM (
    SELECT file_sha256, 'claims' AS feed FROM gen_priced
    UNION ALL SELECT 'remit', 'remittances'
    UNION ALL SELECT 'elig', 'eligibility'
    UNION ALL SELECT 'sessions', 'sessions'
);

INSERT INTO stg.claims (file_sha256, claim_id, submitted_date, billing_npi, payer_id,
                        member_id, patient_is_subscriber, patient_key, total_charge,
                        place_of_service, frequency_code, rendering_npi)
SELECT any_value(file_sha256), claim_id, any_value(date_of_service) + 2, any_value(billing_npi),
       any_value(payer_id), any_value(member_id), TRUE, any_value(member_id), sum(charge),
       any_value(place_of_service), '1', any_value(rendering_npi)
FROM gen_priced GROUP BY claim_id;

INSERT INTO stg.claim_lines (file_sha256, claim_id, line_number, procedure_code, modifiers,
                             charge, units, place_of_service, date_of_service,
                             line_control_number, rendering_npi)
SELECT file_sha256, claim_id, line_number, procedure_code, modifiers, charge, units,
       place_of_service, date_of_service, line_control_number, rendering_npi
FROM gen_priced;

-- 835s: 97% of claims paid (80% of charge) in payments of 400 consecutive claims, paid 14 days
-- after the payment's last date of service; 1% of the paid claims reversed a month later.
CREATE TEMP TABLE gen_paid AS
SELECT *, c // 400 AS payment_no, CAST(c % 400 + 1 AS INTEGER) AS claim_seq,
       CAST(round(charge * 0.8, 2) AS DECIMAL(18,2)) AS paid
FROM gen_priced WHERE hash(c, 8) % 100 >= 3;

CREATE TEMP TABLE gen_payments AS
SELECT payment_no, max(date_of_service) + 14 AS payment_date, sum(paid) AS total
FROM gen_paid GROUP BY payment_no;

INSERT INTO stg.remit_payments (file_sha256, payment_id, total_paid, credit_debit,
                                payment_date, payer_id)
SELECT 'remit', 'PAY-' || payment_no, total, 'C', payment_date, 'P1' FROM gen_payments
UNION ALL
SELECT 'remit', 'REV-' || p.payment_no, -sum(l.paid), 'D', any_value(p.payment_date) + 30, 'P1'
FROM gen_paid AS l JOIN gen_payments AS p USING (payment_no)
WHERE hash(l.c, 9) % 100 = 0
GROUP BY p.payment_no;

INSERT INTO stg.remit_claims (file_sha256, payment_id, claim_seq, claim_id, status_code,
                              paid_amount)
SELECT 'remit', 'PAY-' || payment_no, claim_seq, claim_id, '1', sum(paid)
FROM gen_paid GROUP BY ALL
UNION ALL
SELECT 'remit', 'REV-' || payment_no, claim_seq, claim_id, '22', -sum(paid)
FROM gen_paid WHERE hash(c, 9) % 100 = 0 GROUP BY ALL;

INSERT INTO stg.remit_lines (file_sha256, payment_id, claim_seq, line_seq, procedure_qualifier,
                             procedure_code, modifiers, paid_amount, units, date_of_service,
                             line_control_number)
SELECT 'remit', 'PAY-' || payment_no, claim_seq, line_number, 'HC', procedure_code, modifiers,
       paid, units, date_of_service, line_control_number
FROM gen_paid
UNION ALL
SELECT 'remit', 'REV-' || payment_no, claim_seq, line_number, 'HC', procedure_code, modifiers,
       -paid, units, date_of_service, line_control_number
FROM gen_paid WHERE hash(c, 9) % 100 = 0;

-- 271s: a check a few days before 95% of the visits (none for payer P5); for one member in 33,
-- checks from June 2024 on say the coverage ended 2024-03-31 (a retroactive termination).
CREATE TEMP TABLE gen_checks AS
SELECT DISTINCT ON (c) c, member_id, payer_id, member_no,
       date_of_service - CAST(hash(c, 10) % 5 AS INTEGER) AS check_date
FROM gen_priced
WHERE hash(c, 11) % 100 < 95 AND payer_id <> 'P5';

INSERT INTO stg.eligibility_responses (file_sha256, response_id, check_date, payer_id,
                                       member_id, is_dependent)
SELECT 'elig', 'E' || c, check_date, payer_id, member_id, FALSE FROM gen_checks;

INSERT INTO stg.eligibility_benefits (file_sha256, response_id, benefit_seq, eligibility_code,
                                      coverage_status, coverage_begin, coverage_end)
SELECT 'elig', 'E' || c, 1, '1', 'active', DATE '2022-01-01',
       CASE WHEN member_no % 33 = 0 AND check_date >= DATE '2024-06-01'
            THEN DATE '2024-03-31' END
FROM gen_checks;

-- Sessions: one claim-level row per claim, except 1% of claims and every claim of the billing
-- groups numbered 6 mod 7 (they send no sessions feed: a partial skip).
INSERT INTO stg.sessions (file_sha256, claim_id, line_number, minutes, note_signed_at, phq9, gad7)
SELECT
    'sessions', claim_id, NULL,
    CASE
        WHEN procedure_code = '90837' AND h < 3 THEN 45
        WHEN procedure_code = '90837' AND h < 4 THEN NULL
        WHEN procedure_code = '90837' THEN 55
        WHEN procedure_code = '90834' AND h < 3 THEN 30
        WHEN procedure_code = '90834' THEN 45
        WHEN procedure_code = '90832' THEN 25
        ELSE 60
    END,
    CASE WHEN h BETWEEN 10 AND 11 THEN NULL
         WHEN h BETWEEN 12 AND 14 THEN CAST(date_of_service + 10 AS TIMESTAMP)
         ELSE CAST(date_of_service + 1 AS TIMESTAMP) + INTERVAL 9 HOUR END,
    CASE WHEN member_no % 10 = 0 THEN 5 ELSE 12 END,
    CASE WHEN member_no % 10 = 0 THEN 4 END
FROM (SELECT *, hash(c, 12) % 100 AS h FROM gen_priced WHERE line_number = 1)
WHERE billing_no % 7 <> 6 AND h <> 99;

DROP TABLE gen_checks;
DROP TABLE gen_paid;
DROP TABLE gen_payments;
DROP TABLE gen_priced;
DROP TABLE gen_lines;
"""


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = action()
    return value, time.perf_counter() - started


def generate(con: duckdb.DuckDBPyConnection, lines: int) -> None:
    claims = max(lines // 2, 1)
    providers = max(lines // 2000, 40)
    con.execute("BEGIN TRANSACTION")
    con.execute(
        GENERATE.format(
            lines=lines,
            claims=claims,
            members=max(lines // 20, 100),
            providers=providers,
            groups=max(providers // 10, 7),
        )
    )
    reference.rebuild(con)
    # Payer P3 requires a telehealth modifier (telehealth.modifier_missing fires for it).
    con.execute(
        "INSERT INTO ref.payers"
        " (payer_id, name, lookback_months, telehealth_modifier_required, source)"
        " VALUES ('P3', 'Payer 3', 24, TRUE, 'bench')"
    )
    con.execute("COMMIT")


def run_size(lines: int, db_path: Path, option_a: bool, repeat: int) -> bool:
    from expectations.suites import guard_checks, validate_rules
    from warehouse.gx_runner import SqlCheck, validate

    config = load_config()
    print(f"\n== {lines:,} claim lines ==", flush=True)
    db_path.unlink(missing_ok=True)
    gx_root = db_path.parent / f"gx_{lines}"
    shutil.rmtree(gx_root, ignore_errors=True)
    with open_warehouse(db_path) as con:
        _, generate_s = timed(lambda: generate(con, lines))
        counts, models_s = timed(lambda: build_models(con, AS_OF))
        print(
            f"generate: {generate_s:.1f} s   build_models: {models_s:.1f} s   "
            f"paid lines: {counts['mart.paid_lines']:,}",
            flush=True,
        )
        con.execute("BEGIN TRANSACTION")
        load_code_lists(con, config)
        con.execute("COMMIT")
        whole, reasons = skipped_rules(con, config, AS_OF)
        evaluated = [rule for rule in RULES if rule.id not in whole]

        def plain_sql() -> dict[str, int]:
            found = {}
            for rule in evaluated:
                query = rule.sql(config, AS_OF)
                con.execute(f"CREATE OR REPLACE TEMP TABLE plain_findings AS {query}")
                row = con.execute("SELECT count(*) FROM plain_findings").fetchone()
                found[rule.id] = int(row[0]) if row else -1
            con.execute("DROP TABLE plain_findings")
            return found

        # Interleaved repetitions (plain, whole, plain, whole, ...): this shared 2-core machine is
        # noisy, so each figure is the best of its repetitions; every repetition is printed.
        plain_times: list[float] = []
        rules_times: list[float] = []
        gx_times: list[float] = []
        for repetition in range(1, repeat + 1):
            plain, plain_s = timed(plain_sql)
            result, rules_s = timed(lambda: run_rules(con, AS_OF, config))
            suite, gx_s = timed(
                lambda: validate_rules(
                    con, db_path, AS_OF, config, gx_root=gx_root, build_docs=True
                )
            )
            plain_times.append(plain_s)
            rules_times.append(rules_s)
            gx_times.append(gx_s)
            print(
                f"  run {repetition}: plain SQL {plain_s:.2f} s | run_rules {rules_s:.2f} s + "
                f"GX {gx_s:.2f} s = {rules_s + gx_s:.2f} s | "
                f"ratio {(rules_s + gx_s) / plain_s:.2f}x",
                flush=True,
            )
        plain_s = min(plain_times)
        rules_s = min(rules_times)
        gx_s = min(gx_times)
        whole_s = min(r + g for r, g in zip(rules_times, gx_times, strict=True))
        gx_counts = suite.rule_counts()
        print(f"{'rule':32} {'plain SQL':>10} {'run_rules':>10} {'GX':>10}  GX status")
        ok = not suite.unexpected_errors and suite.guards_ok
        for rule in RULES:
            same = plain.get(rule.id) == result.counts.get(rule.id) == gx_counts[rule.id]
            ok = ok and (same or rule.id in whole)
            print(
                f"{rule.id:32} {plain.get(rule.id, '-')!s:>10} "
                f"{result.counts.get(rule.id, '-')!s:>10} {gx_counts[rule.id]!s:>10}  "
                f"{suite.rule_status(rule.id)}{'' if same or rule.id in whole else '  MISMATCH'}"
            )
        for rule_id, reason in reasons.items():
            print(f"  skipped {rule_id}: {reason}")
        print(f"best of {repeat}:")
        print(f"plain SQL (rule queries, DuckDB only): {plain_s:8.2f} s")
        print(
            f"whole validation (run_rules + GX):     {whole_s:8.2f} s  (best run_rules "
            f"{rules_s:.2f} s, best GX {gx_s:.2f} s; {len(suite.checks)} GX checks)"
        )
        print(f"ratio whole / plain: {whole_s / plain_s:.2f}x", flush=True)
        print(f"Data Docs: {suite.docs_index}")
        if option_a:
            # Money as text, as in suites.py (GX serialises each Decimal slowly).
            checks = [
                SqlCheck(
                    rule.id,
                    "SELECT claim_id, line_number, CAST(exposure AS VARCHAR) AS exposure, evidence "
                    f"FROM ({rule.sql(config, AS_OF)})",
                    rule.description,
                    table="mart.paid_lines",
                )
                for rule in evaluated
            ]
            shutil.rmtree(gx_root, ignore_errors=True)
            result_a, gx_a_s = timed(
                lambda: validate(
                    db_path,
                    "option_a",
                    [*checks, *guard_checks(AS_OF)],
                    gx_root=gx_root,
                    build_docs=True,
                    con=con,
                )
            )
            counts_a = {c.name: c.unexpected_count for c in result_a.checks}
            same_a = all(counts_a[rule.id] == result.counts[rule.id] for rule in evaluated)
            print(
                f"option A (GX runs each rule query): run_rules {rules_s:.2f} s + GX "
                f"{gx_a_s:.2f} s = {rules_s + gx_a_s:.2f} s, ratio "
                f"{(rules_s + gx_a_s) / plain_s:.2f}x; counts "
                f"{'agree' if same_a else 'DIFFER'}",
                flush=True,
            )
            ok = ok and same_a
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--lines", type=int, action="append", help="claim lines (repeatable; default 1M and 10M)"
    )
    parser.add_argument("--db", type=Path, help="DuckDB file to create (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the DuckDB file and gx/")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved repetitions (best of)")
    parser.add_argument(
        "--option-a", action="store_true", help="also time GX running each rule's own query"
    )
    args = parser.parse_args(argv)
    sizes = args.lines or [1_000_000, 10_000_000]

    workdir = Path(tempfile.mkdtemp(prefix="bench_rules_"))
    db_path = args.db or workdir / "bench.duckdb"
    _, import_s = timed(lambda: __import__("great_expectations"))
    print(f"great_expectations import (once per process, not in the figures): {import_s:.1f} s")
    ok = True
    try:
        for lines in sizes:
            ok = run_size(lines, db_path, args.option_a, args.repeat) and ok
    finally:
        if args.keep:
            print(f"kept {db_path} and {db_path.parent}/gx_*")
        else:
            db_path.unlink(missing_ok=True)
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
