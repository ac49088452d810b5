-- mart.eligibility_checks: every answered eligibility response known at as_of (check date =
-- BHT04 <= as_of; responses the payer rejected with AAA are not a check), in the order that
-- decides which one wins: check date, then ledger received time, then position in the load.
CREATE OR REPLACE TABLE mart.eligibility_checks AS
WITH responses AS (
    SELECT r.*, r.rowid AS load_position
    FROM stg.eligibility_responses AS r
    WHERE r.check_date <= {{ as_of }} AND r.rejection_reason IS NULL
),
statements AS (
    SELECT DISTINCT file_sha256, response_id
    FROM stg.eligibility_benefits
    WHERE coverage_status IN ('active', 'inactive')
)
SELECT
    r.file_sha256,
    r.response_id,
    r.member_id,
    r.payer_id,
    r.check_date,
    f.received_at,
    s.response_id IS NOT NULL AS speaks_about_coverage,
    row_number() OVER (
        PARTITION BY r.member_id, r.payer_id
        ORDER BY r.check_date, f.received_at NULLS FIRST, r.load_position
    ) AS response_order
FROM responses AS r
LEFT JOIN ledger.files AS f ON f.file_sha256 = r.file_sha256
LEFT JOIN statements AS s ON s.file_sha256 = r.file_sha256 AND s.response_id = r.response_id;
