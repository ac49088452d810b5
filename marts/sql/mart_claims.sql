-- mart.claims: one row per claim, whatever number of submissions it took, with its stable key.
-- CLM01 is the practice's patient control number and practices reuse account numbers, so a CLM01
-- does not name one claim (docs/decisions.md "Claim identity"). Submissions are taken in arrival
-- order (ledger received time, then position in the load); each one either starts a claim or
-- continues an earlier submission of the same CLM01 (its parent):
--   * frequency 7 (replacement) / 8 (void): the submission named by REF*F8, that is the earlier
--     submission whose dates overlap the dates of the 835 claim whose CLP07 (payer claim control
--     number) = REF*F8 and CLP01 = CLM01; when REF*F8 is absent or names no known CLP, the latest
--     earlier submission whose dates overlap its own, else the latest earlier one with that CLM01;
--     with no earlier submission at all it starts a claim;
--   * any other frequency (1 original, resubmissions): the latest earlier submission with that
--     CLM01 whose service dates overlap its own (a resubmission of the same claim); none: a new claim.
-- The claim is the chain of submissions; its current submission is the latest; a void (8) as the
-- latest removes it. claim_key = CLM01 + '~' + the first date of service of the first submission
-- (+ '~n' should two claims ever share both), stable as later submissions arrive.
-- A submission is named inside this model by its arrival number (an integer: grouping and joining
-- on the 100-character file:seq:CLM01 string it replaced cost more than the rest of the model at 1M lines).
CREATE OR REPLACE TABLE mart.claims AS
WITH RECURSIVE
lines AS (
    SELECT l.*, l.rowid AS load_position
    FROM stg.claim_lines AS l
    WHERE in_slice(l.claim_id)
),
spans AS (
    SELECT
        file_sha256, claim_id, coalesce(claim_seq, 0) AS seq,
        min(date_of_service) AS span_begin,
        max(coalesce(date_of_service_end, date_of_service)) AS span_end
    FROM lines
    GROUP BY ALL
),
submissions AS (
    SELECT
        c.file_sha256, c.claim_id, coalesce(c.claim_seq, 0) AS seq,
        coalesce(c.frequency_code, '1') AS frequency_code,
        c.original_claim_ref,
        coalesce(s.span_begin, c.submitted_date) AS span_begin,
        coalesce(s.span_end, s.span_begin, c.submitted_date) AS span_end,
        f.received_at,
        row_number() OVER (ORDER BY f.received_at ASC NULLS FIRST, c.rowid) AS arrival
    FROM stg.claims AS c
    LEFT JOIN ledger.files AS f ON f.file_sha256 = c.file_sha256
    LEFT JOIN spans AS s
        ON s.file_sha256 = c.file_sha256 AND s.claim_id = c.claim_id
        AND s.seq = coalesce(c.claim_seq, 0)
    WHERE in_slice(c.claim_id)
),
-- the dates each paid 835 claim speaks about, by (CLP01, CLP07)
payer_controls AS (
    SELECT
        rc.claim_id, rc.payer_claim_control,
        min(coalesce(rl.date_of_service, rc.statement_start, rc.statement_end)) AS span_begin,
        max(coalesce(rl.date_of_service_end, rl.date_of_service, rc.statement_end,
                     rc.statement_start)) AS span_end
    FROM stg.remit_claims AS rc
    JOIN stg.remit_payments AS p
        ON p.file_sha256 = rc.file_sha256 AND p.payment_id = rc.payment_id
    LEFT JOIN stg.remit_lines AS rl
        ON rl.file_sha256 = rc.file_sha256 AND rl.payment_id = rc.payment_id
        AND rl.claim_seq = rc.claim_seq
    WHERE rc.payer_claim_control IS NOT NULL AND rc.payer_claim_control <> ''
      AND (p.payment_date IS NULL OR p.payment_date <= {{ as_of }})
      AND in_slice(rc.claim_id)
    GROUP BY rc.claim_id, rc.payer_claim_control
),
links AS (
    SELECT s.arrival AS submission_id, p.arrival AS parent_id
    FROM submissions AS s
    JOIN submissions AS p ON p.claim_id = s.claim_id AND p.arrival < s.arrival
    LEFT JOIN payer_controls AS r
        ON s.frequency_code IN ('7', '8') AND r.claim_id = s.claim_id
        AND r.payer_claim_control = s.original_claim_ref
    WHERE s.frequency_code IN ('7', '8')
       OR (p.span_begin <= s.span_end AND s.span_begin <= p.span_end)
    QUALIFY row_number() OVER (
        PARTITION BY s.arrival
        ORDER BY
            coalesce(p.span_begin <= r.span_end AND r.span_begin <= p.span_end, FALSE) DESC,
            (p.span_begin <= s.span_end AND s.span_begin <= p.span_end) DESC,
            p.arrival DESC
    ) = 1
),
-- only submissions that continue another walk up their chain: most start a claim (no parent)
chains(submission_id, ancestor_id, depth) AS (
    SELECT submission_id, parent_id, 1 FROM links
    UNION ALL
    SELECT c.submission_id, l.parent_id, c.depth + 1
    FROM chains AS c
    JOIN links AS l ON l.submission_id = c.ancestor_id
),
roots AS (
    SELECT submission_id, arg_max(ancestor_id, depth) AS root_id
    FROM chains
    GROUP BY submission_id
),
-- a claim starts at each submission without a parent
keys AS (
    SELECT
        s.arrival AS root_id,
        s.claim_id || '~' || strftime(s.span_begin, '%Y-%m-%d')
            || CASE WHEN count(*) OVER (PARTITION BY s.claim_id, s.span_begin) > 1
                    THEN '~' || row_number() OVER (
                        PARTITION BY s.claim_id, s.span_begin ORDER BY s.arrival
                    ) ELSE '' END
            AS claim_key
    FROM submissions AS s
    ANTI JOIN links AS l ON l.submission_id = s.arrival
),
members AS (
    SELECT coalesce(r.root_id, s.arrival) AS root_id, s.*
    FROM submissions AS s
    LEFT JOIN roots AS r ON r.submission_id = s.arrival
),
claims AS (
    SELECT
        root_id,
        any_value(claim_id) AS claim_id,
        arg_max(file_sha256, arrival) AS file_sha256,
        arg_max(seq, arrival) AS claim_seq,
        arg_max(frequency_code, arrival) AS frequency_code,
        arg_max(frequency_code, arrival) = '8' AS voided,
        count(*) AS submissions,
        arg_max(span_begin, arrival) AS span_begin,
        arg_max(span_end, arrival) AS span_end,
        -- payer claim control numbers the practice named for this claim (REF*F8 of its
        -- submissions)
        list_sort(list(DISTINCT original_claim_ref) FILTER (WHERE original_claim_ref IS NOT NULL))
            AS payer_claim_controls
    FROM members
    GROUP BY root_id
)
SELECT k.claim_key, c.* EXCLUDE (root_id)
FROM claims AS c
JOIN keys AS k USING (root_id);
