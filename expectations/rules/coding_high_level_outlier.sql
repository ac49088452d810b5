-- coding.high_level_outlier: every paid 90837 line, in the window, of a rendering provider whose
-- share of 90837 among its paid 90832/90834/90837 lines with dates of service in
-- (as_of - window_months, as_of] is an outlier: at least min_lines such lines, robust z above z
-- (median and mad_scale x MAD over providers with at least min_lines lines; mean_ad_scale x mean
-- absolute deviation when MAD is 0; nobody when that is 0 too), share at least share, and at least
-- min_peers scored providers. Exposure: net paid minus the payer's allowed amount for 90834
-- (never below 0; the whole net paid when 90834 has no allowed amount).
WITH window_lines AS (
    SELECT l.*
    FROM mart.paid_lines AS l
    WHERE l.code IN ('90832', '90834', '90837')
      AND l.date_of_service > {{ as_of }} - to_months({{ outlier.window_months }})
      AND l.date_of_service <= {{ as_of }}
),
providers AS (
    SELECT
        rendering_npi,
        count(*) AS lines,
        count(*) FILTER (WHERE code = '90837') AS lines_90837,
        CAST(count(*) FILTER (WHERE code = '90837') AS DOUBLE) / count(*) AS share_90837
    FROM window_lines
    GROUP BY rendering_npi
),
peers AS (
    SELECT * FROM providers WHERE lines >= {{ outlier.min_lines }}
),
center AS (
    SELECT median(share_90837) AS median_share, count(*) AS peer_count FROM peers
),
spread AS (
    SELECT
        median(abs(p.share_90837 - c.median_share)) AS mad,
        avg(abs(p.share_90837 - c.median_share)) AS mean_abs_dev
    FROM peers AS p
    CROSS JOIN center AS c
),
scored AS (
    SELECT
        p.*,
        c.median_share,
        c.peer_count,
        s.mad,
        s.mean_abs_dev,
        CASE
            WHEN s.mad > 0 THEN (p.share_90837 - c.median_share) / ({{ outlier.mad_scale }} * s.mad)
            WHEN s.mean_abs_dev > 0
                THEN (p.share_90837 - c.median_share) / ({{ outlier.mean_ad_scale }} * s.mean_abs_dev)
        END AS robust_z
    FROM peers AS p
    CROSS JOIN center AS c
    CROSS JOIN spread AS s
    WHERE c.peer_count >= {{ outlier.min_peers }}
),
outliers AS (
    SELECT *
    FROM scored
    WHERE robust_z > {{ outlier.z }} AND share_90837 >= {{ outlier.share }}
)
SELECT
    w.claim_key,
    w.claim_id,
    w.line_number,
    'coding.high_level_outlier' AS rule,
    CAST(mart.downcode_exposure(w.net_paid, a.allowed_amount) AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'rendering_npi', o.rendering_npi,
        'lines', o.lines,
        'lines_90837', o.lines_90837,
        'share_90837', o.share_90837,
        'peer_median_share', o.median_share,
        'mad', o.mad,
        'robust_z', o.robust_z,
        'peers', o.peer_count,
        'allowed_amount_90834', a.allowed_amount
    ) AS VARCHAR) AS evidence
FROM window_lines AS w
JOIN outliers AS o ON o.rendering_npi = w.rendering_npi
LEFT JOIN mart.allowed_amounts AS a ON a.payer_id = w.payer_id AND a.code = '90834'
WHERE w.code = '90837'
