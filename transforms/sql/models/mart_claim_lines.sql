-- mart.claim_lines: one row per line of the current submission of every claim.
-- The current submission of a claim id is the latest (ledger received time, then position in the
-- load); a void (frequency 8) removes the claim, a replacement (7) simply is the latest.
-- stg.claim_lines carries no submission sequence, so when one file holds a claim id twice the
-- lines of that file are taken once per line number, the last loaded winning.
CREATE OR REPLACE TABLE mart.claim_lines AS
WITH claims AS (
    SELECT c.*, c.rowid AS load_position
    FROM stg.claims AS c
),
submissions AS (
    SELECT
        c.*,
        f.received_at,
        f.file_name,
        row_number() OVER (
            PARTITION BY c.claim_id
            ORDER BY f.received_at DESC NULLS LAST, c.load_position DESC
        ) AS recency
    FROM claims AS c
    LEFT JOIN ledger.files AS f ON f.file_sha256 = c.file_sha256
),
current_claims AS (
    SELECT *
    FROM submissions
    WHERE recency = 1 AND coalesce(frequency_code, '1') <> '8'
),
lines AS (
    SELECT l.*, l.rowid AS load_position
    FROM stg.claim_lines AS l
),
current_lines AS (
    SELECT
        l.*,
        list_filter(coalesce(l.modifiers, []::VARCHAR[]), lambda m: m IS NOT NULL AND m <> '')
            AS clean_modifiers
    FROM lines AS l
    SEMI JOIN current_claims AS c ON c.file_sha256 = l.file_sha256 AND c.claim_id = l.claim_id
    QUALIFY row_number() OVER (
        PARTITION BY l.file_sha256, l.claim_id, l.line_number ORDER BY l.load_position DESC
    ) = 1
)
SELECT
    l.claim_id,
    l.line_number,
    coalesce(c.patient_key, c.member_id) AS patient_key,
    c.member_id,
    c.payer_id,
    c.billing_npi,
    coalesce(l.rendering_npi, c.rendering_npi, c.billing_npi) AS rendering_npi,
    l.date_of_service,
    CAST(date_trunc('month', l.date_of_service) AS DATE) AS service_month,
    l.procedure_code AS code,
    l.clean_modifiers AS modifiers,
    array_to_string(list_sort(l.clean_modifiers), ':') AS modifier_set,
    CAST(coalesce(l.units, 1) AS DECIMAL(10,3)) AS units,
    l.charge,
    coalesce(l.place_of_service, c.place_of_service) AS place_of_service,
    coalesce(c.frequency_code, '1') AS frequency_code,
    l.line_control_number,
    c.submitted_date,
    c.file_sha256,
    c.file_name,
    c.received_at
FROM current_lines AS l
JOIN current_claims AS c ON c.file_sha256 = l.file_sha256 AND c.claim_id = l.claim_id;
