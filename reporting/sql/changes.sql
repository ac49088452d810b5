-- Since last night (issue 14, item 2): the nightly's open findings stored in history.* and
-- compared with the previous stored night. Over the temporary tables of scope.sql (a nightly
-- scope: every claim line). One query per "-- name:" block.

-- name: open_findings
-- This night's open findings (not time-barred; warnings included): key, amount at risk, net paid,
-- and the claim's current submission (file and CLM position in mart.claims).
SELECT f.claim_key, f.claim_id, f.line_number, f.rule, f.exposure, f.net_paid,
    c.file_sha256 || ':' || c.claim_seq AS submission
FROM report_findings AS f
LEFT JOIN mart.claims AS c USING (claim_key)
WHERE NOT f.time_barred
ORDER BY f.claim_id, f.claim_key, f.line_number, f.rule;

-- name: previous_night
-- The last stored night before this one (NULL when there is none).
SELECT max(as_of) AS as_of
FROM history.nights
WHERE as_of < {{ as_of }};

-- name: compare
-- Every finding that differs between the previous night and this one: new (this night only),
-- grown / shrunk (the amount at risk changed), resolved (the previous night only), with why a
-- resolved one left: time-barred (still found, now past the payer's look-back), corrected (the
-- claim's current submission is not the one stored with the finding last night, or the claim was
-- voided: checked before the payments, since a replaced line's old payment no longer counts; a
-- night stored before migration 009 has no submission: then a current replacement, frequency 7,
-- counts as corrected), paid back (the
-- line's net paid fell: a reversal, a PLB takeback or a refund in the 835s), else no longer
-- flagged (the rule no longer fires on the current data).
WITH before AS (
    SELECT claim_key, claim_id, line_number, rule, exposure, net_paid, submission
    FROM history.night_findings
    WHERE as_of = {{ previous }}
),
after AS (
    SELECT claim_key, claim_id, line_number, rule, exposure, net_paid
    FROM report_findings
    WHERE NOT time_barred
),
pairs AS (
    SELECT
        coalesce(a.claim_key, b.claim_key) AS claim_key,
        coalesce(a.claim_id, b.claim_id) AS claim_id,
        coalesce(a.line_number, b.line_number) AS line_number,
        coalesce(a.rule, b.rule) AS rule,
        b.exposure AS before,
        a.exposure AS after,
        b.net_paid AS net_paid_before,
        b.submission AS submission_before
    FROM before AS b
    FULL JOIN after AS a USING (claim_key, line_number, rule)
),
current_submission AS (
    SELECT claim_key, frequency_code, file_sha256 || ':' || claim_seq AS submission
    FROM mart.claims
    WHERE NOT voided
)
SELECT
    CASE
        WHEN p.before IS NULL THEN 'new'
        WHEN p.after IS NULL THEN 'resolved'
        WHEN p.after > p.before THEN 'grown'
        ELSE 'shrunk'
    END AS kind,
    p.claim_id,
    p.line_number,
    p.rule,
    p.before,
    p.after,
    CAST(coalesce(p.after, 0) - coalesce(p.before, 0) AS DECIMAL(18,2)) AS delta,
    CASE
        WHEN p.after IS NOT NULL THEN NULL
        WHEN barred.rule IS NOT NULL THEN 'time-barred'
        WHEN s.claim_key IS NULL THEN 'corrected'
        WHEN p.submission_before IS NULL AND s.frequency_code = '7' THEN 'corrected'
        WHEN p.submission_before <> s.submission THEN 'corrected'
        WHEN l.net_paid < p.net_paid_before THEN 'paid back'
        ELSE 'no longer flagged'
    END AS reason,
    p.claim_key,
    CAST(p.net_paid_before - l.net_paid AS DECIMAL(18,2)) AS paid_back
FROM pairs AS p
LEFT JOIN report_findings AS barred
    ON barred.time_barred AND barred.claim_key = p.claim_key
    AND barred.line_number = p.line_number AND barred.rule = p.rule
LEFT JOIN report_lines AS l ON l.claim_key = p.claim_key AND l.line_number = p.line_number
LEFT JOIN current_submission AS s ON s.claim_key = p.claim_key
WHERE p.before IS NULL OR p.after IS NULL OR p.after <> p.before
ORDER BY
    CASE kind WHEN 'new' THEN 1 WHEN 'grown' THEN 2 WHEN 'shrunk' THEN 3 ELSE 4 END,
    p.claim_id, p.claim_key, p.line_number, p.rule;

-- name: trend
-- Open exposure of every stored night before this one, oldest first.
SELECT as_of, open_exposure
FROM history.nights
WHERE as_of < {{ as_of }}
ORDER BY as_of;

-- name: night_total
SELECT open_exposure FROM history.nights WHERE as_of = {{ as_of }};
