-- mart.realized_recoupments: money the payers already took back (as known at as_of).
--   reversal: each reversal claim (CLP02 = 22), |CLP04|
--   plb_wo:   each PLB amount with reason WO, signed as sent (positive = money taken back); the
--             claim it names (PLB03-2) may be unknown and is reported all the same.
-- Payer: the claim's payer (latest submission, voided ones included) when the claim is known,
-- else the 835's payer.
CREATE OR REPLACE TABLE mart.realized_recoupments AS
WITH payments AS (
    SELECT file_sha256, payment_id, payment_date, payer_id
    FROM stg.remit_payments
    WHERE payment_date IS NULL OR payment_date <= {{ as_of }}
),
known_claims AS (
    SELECT c.claim_id, c.payer_id
    FROM stg.claims AS c
    LEFT JOIN ledger.files AS f ON f.file_sha256 = c.file_sha256
    WHERE in_slice(c.claim_id)
    QUALIFY row_number() OVER (
        PARTITION BY c.claim_id ORDER BY f.received_at DESC NULLS LAST, c.rowid DESC
    ) = 1
),
reversals AS (
    SELECT
        'reversal' AS kind, rc.file_sha256, rc.payment_id, rc.claim_seq AS seq,
        rc.claim_id AS claim_reference, p.payment_date, p.payer_id AS remit_payer_id,
        CAST(abs(coalesce(rc.paid_amount, 0)) AS DECIMAL(18,2)) AS amount
    FROM stg.remit_claims AS rc
    JOIN payments AS p ON p.file_sha256 = rc.file_sha256 AND p.payment_id = rc.payment_id
    WHERE rc.status_code = '22' AND in_slice(rc.claim_id)
),
takebacks AS (
    SELECT
        'plb_wo' AS kind, pa.file_sha256, pa.payment_id, pa.adjustment_seq AS seq,
        pa.reference_id AS claim_reference, p.payment_date, p.payer_id AS remit_payer_id,
        CAST(pa.amount AS DECIMAL(18,2)) AS amount
    FROM stg.remit_provider_adjustments AS pa
    JOIN payments AS p ON p.file_sha256 = pa.file_sha256 AND p.payment_id = pa.payment_id
    WHERE pa.reason_code = 'WO' AND in_slice(pa.reference_id)
),
recoupments AS (
    SELECT * FROM reversals
    UNION ALL
    SELECT * FROM takebacks
)
SELECT
    r.kind,
    r.file_sha256,
    r.payment_id,
    r.seq,
    r.claim_reference,
    k.claim_id IS NOT NULL AS claim_known,
    coalesce(k.payer_id, r.remit_payer_id) AS payer_id,
    r.remit_payer_id,
    r.payment_date,
    r.amount
FROM recoupments AS r
LEFT JOIN known_claims AS k ON k.claim_id = r.claim_reference;
