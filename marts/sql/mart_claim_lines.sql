-- mart.claim_lines: one row per line of the current submission of every claim (mart.claims).
-- claim_key tells apart two claims that share a CLM01 (claim_id); a voided claim (frequency 8 as
-- its latest submission) has no lines here. Lines are those of the current submission (file and
-- CLM position); when a CSV file holds a line number twice the last loaded wins.
CREATE OR REPLACE TABLE mart.claim_lines AS
WITH current_claims AS (
    SELECT k.claim_key, k.frequency_code, c.* EXCLUDE (frequency_code), f.received_at, f.file_name
    FROM mart.claims AS k
    JOIN stg.claims AS c
        ON c.file_sha256 = k.file_sha256 AND c.claim_id = k.claim_id
        AND coalesce(c.claim_seq, 0) = k.claim_seq
    LEFT JOIN ledger.files AS f ON f.file_sha256 = c.file_sha256
    WHERE NOT k.voided AND in_slice(k.claim_id)
),
lines AS (
    SELECT l.*, l.rowid AS load_position
    FROM stg.claim_lines AS l
    WHERE in_slice(l.claim_id)
),
current_lines AS (
    SELECT
        c.claim_key,
        l.*,
        list_filter(coalesce(l.modifiers, []::VARCHAR[]), lambda m: m IS NOT NULL AND m <> '')
            AS clean_modifiers
    FROM lines AS l
    JOIN current_claims AS c
        ON c.file_sha256 = l.file_sha256 AND c.claim_id = l.claim_id
        AND coalesce(c.claim_seq, 0) = coalesce(l.claim_seq, 0)
    QUALIFY row_number() OVER (
        PARTITION BY c.claim_key, l.line_number ORDER BY l.load_position DESC
    ) = 1
)
SELECT
    l.claim_key,
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
JOIN current_claims AS c USING (claim_key);
