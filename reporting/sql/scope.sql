-- The rows one report covers, as temporary tables of the report's connection (they work on a
-- read-only warehouse too, and vanish with the connection). Parameters: as_of, the scope filters
-- (start, end, payer_id: NULL = no filter; claim_ids with has_claim_ids), everything (no filter at
-- all: a nightly report) and the outlier window (outlier.window_months).

-- report_lines: every current claim line in scope, paid or not, with its net paid and its exposure
-- (window_lines.sql, which queries.scoped_tables defines first), narrowed to the claim list.
CREATE OR REPLACE TEMP TABLE report_lines AS
SELECT *
FROM window_lines({{ start }}, {{ end }}, {{ payer_id }})
WHERE NOT {{ has_claim_ids }} OR list_contains({{ claim_ids }}, claim_id);

-- report_findings: the findings of those lines (warnings and time-barred ones included).
CREATE OR REPLACE TEMP TABLE report_findings AS
SELECT f.*
FROM mart.findings AS f
SEMI JOIN report_lines AS l USING (claim_key, line_number);

-- report_claims: claim ids in scope. A claim is in scope when its latest submission has a line in
-- scope; voided claims count too (their lines left mart.claim_lines, but a reversal of a voided
-- claim is still money taken back for that period).
CREATE OR REPLACE TEMP TABLE report_claims AS
WITH latest_submissions AS (
    SELECT c.file_sha256, c.claim_id, c.payer_id
    FROM stg.claims AS c
    LEFT JOIN ledger.files AS f ON f.file_sha256 = c.file_sha256
    QUALIFY row_number() OVER (
        PARTITION BY c.claim_id ORDER BY f.received_at DESC NULLS LAST, c.rowid DESC
    ) = 1
)
SELECT DISTINCT s.claim_id
FROM latest_submissions AS s
JOIN stg.claim_lines AS l ON l.file_sha256 = s.file_sha256 AND l.claim_id = s.claim_id
WHERE ({{ start }} IS NULL OR l.date_of_service >= {{ start }})
  AND ({{ end }} IS NULL OR l.date_of_service <= {{ end }})
  AND ({{ payer_id }} IS NULL OR s.payer_id = {{ payer_id }})
  AND (NOT {{ has_claim_ids }} OR list_contains({{ claim_ids }}, s.claim_id));

-- report_recoupments: realized recoupments in scope. Nightly (no filter): all of them. Otherwise
-- those whose claim is in scope, plus those naming a claim the warehouse does not know (a PLB WO
-- or a reversal of an unknown CLP01): their date of service cannot be known, so they are kept
-- when they match the payer (the 835's) and the claim list, when given, and the payer took the
-- money on or after the start of the window (a takeback cannot precede the service it undoes).
CREATE OR REPLACE TEMP TABLE report_recoupments AS
SELECT r.*
FROM mart.realized_recoupments AS r
WHERE {{ everything }}
   OR r.claim_reference IN (SELECT claim_id FROM report_claims)
   OR (NOT r.claim_known
       AND ({{ payer_id }} IS NULL OR r.payer_id = {{ payer_id }})
       AND (NOT {{ has_claim_ids }} OR list_contains({{ claim_ids }}, r.claim_reference))
       AND ({{ start }} IS NULL OR r.payment_date IS NULL OR r.payment_date >= {{ start }}));

-- report_unmatched: remittance lines and claim payments matching no current claim line, in scope
-- when their CLP01 names a claim in scope, else (unknown or out-of-scope claim) by the 835's payer,
-- the claim list, and the remittance's date of service in the window (no date: paid on or after
-- the start, as for unknown-claim recoupments).
CREATE OR REPLACE TEMP TABLE report_unmatched AS
SELECT u.*
FROM mart.unmatched_remittances AS u
WHERE {{ everything }}
   OR u.claim_id IN (SELECT claim_id FROM report_claims)
   OR (({{ payer_id }} IS NULL OR u.payer_id = {{ payer_id }})
       AND (NOT {{ has_claim_ids }} OR list_contains({{ claim_ids }}, u.claim_id))
       AND CASE
           WHEN u.remit_date_of_service IS NOT NULL
               THEN ({{ start }} IS NULL OR u.remit_date_of_service >= {{ start }})
                    AND ({{ end }} IS NULL OR u.remit_date_of_service <= {{ end }})
           ELSE {{ start }} IS NULL OR u.payment_date IS NULL OR u.payment_date >= {{ start }}
       END);

-- report_provider_shares: every rendering provider's 90837 share among its paid 90832/90834/90837
-- lines in the outlier window (as_of - window, as_of], over all payers: the share the outlier rule
-- scored, whatever the report's scope. is_peer: enough lines to be scored; flagged: the rule fired.
CREATE OR REPLACE TEMP TABLE report_provider_shares AS
WITH window_lines AS (
    SELECT rendering_npi, code
    FROM mart.paid_lines
    WHERE code IN ('90832', '90834', '90837')
      AND date_of_service > {{ as_of }} - to_months({{ outlier.window_months }})
      AND date_of_service <= {{ as_of }}
),
providers AS (
    SELECT
        rendering_npi,
        count(*) AS lines,
        count(*) FILTER (WHERE code = '90837') AS lines_90837
    FROM window_lines
    GROUP BY rendering_npi
),
flagged AS (
    SELECT DISTINCT rendering_npi FROM mart.findings WHERE rule = 'coding.high_level_outlier'
)
SELECT
    p.rendering_npi,
    p.lines,
    p.lines_90837,
    CAST(p.lines_90837 AS DOUBLE) / p.lines AS share_90837,
    p.lines >= {{ outlier.min_lines }} AS is_peer,
    f.rendering_npi IS NOT NULL AS flagged
FROM providers AS p
LEFT JOIN flagged AS f USING (rendering_npi);
