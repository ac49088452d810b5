-- necessity.no_step_down: a paid 90837 for a patient whose most recent earlier scored sessions with
-- the same rendering NPI (paid lines with a PHQ-9 or GAD-7; one per date, the highest scores of
-- that date) number at least `sessions` and all scored below `score` on every score present.
-- Exposure: net paid minus the payer's allowed amount for 90834 (never below 0; the whole net paid
-- when 90834 has no allowed amount).
WITH scored_dates AS (
    SELECT
        l.patient_key,
        l.rendering_npi,
        l.date_of_service,
        max(s.phq9) AS phq9,
        max(s.gad7) AS gad7
    FROM mart.paid_lines AS l
    JOIN mart.sessions_by_line AS s USING (claim_key, line_number)
    WHERE s.phq9 IS NOT NULL OR s.gad7 IS NOT NULL
    GROUP BY ALL
),
recent_runs AS (
    SELECT
        patient_key,
        rendering_npi,
        date_of_service AS last_scored_date,
        count(*) OVER recent AS scored_sessions,
        max(greatest(coalesce(phq9, -1), coalesce(gad7, -1))) OVER recent AS highest_score,
        list({'date_of_service': date_of_service, 'phq9': phq9, 'gad7': gad7}) OVER recent
            AS sessions
    FROM scored_dates
    WINDOW recent AS (
        PARTITION BY patient_key, rendering_npi
        ORDER BY date_of_service
        ROWS BETWEEN {{ step_down.sessions }} - 1 PRECEDING AND CURRENT ROW
    )
)
SELECT
    l.claim_key,
    l.claim_id,
    l.line_number,
    'necessity.no_step_down' AS rule,
    CAST(mart.downcode_exposure(l.net_paid, a.allowed_amount) AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'date_of_service', l.date_of_service,
        'earlier_scored_sessions', r.sessions,
        'highest_score', r.highest_score,
        'score_threshold', {{ step_down.score }},
        'allowed_amount_90834', a.allowed_amount
    ) AS VARCHAR) AS evidence
FROM mart.paid_lines AS l
ASOF JOIN recent_runs AS r
    ON r.patient_key = l.patient_key AND r.rendering_npi = l.rendering_npi
    AND l.date_of_service > r.last_scored_date
LEFT JOIN mart.allowed_amounts AS a ON a.payer_id = l.payer_id AND a.code = '90834'
WHERE l.code = '90837'
  AND r.scored_sessions >= {{ step_down.sessions }}
  AND r.highest_score < {{ step_down.score }}
