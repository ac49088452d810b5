-- telehealth.modifier_missing: a paid line with a telehealth place of service (ref.telehealth,
-- places_of_service) and none of the telehealth modifiers, for a payer whose policy requires one
-- (mart.payer_policies: the payer's row, else '*'; not required when neither says). Exposure: net
-- paid.
SELECT
    l.claim_key,
    l.claim_id,
    l.line_number,
    'telehealth.modifier_missing' AS rule,
    CAST(l.net_paid AS DECIMAL(18,2)) AS exposure,
    CAST(json_object(
        'place_of_service', l.place_of_service,
        'modifiers', l.modifiers,
        'payer_id', l.payer_id,
        'accepted_modifiers', (SELECT list_sort(list(code)) FROM ref.telehealth WHERE kind = 'modifier')
    ) AS VARCHAR) AS evidence
FROM mart.paid_lines AS l
JOIN mart.payer_policies AS p ON p.payer_id = l.payer_id
WHERE coalesce(p.telehealth_modifier_required, FALSE)
  AND l.place_of_service IN (SELECT code FROM ref.telehealth WHERE kind = 'place_of_service')
  AND NOT list_has_any(
      l.modifiers,
      coalesce((SELECT list(code) FROM ref.telehealth WHERE kind = 'modifier'), []::VARCHAR[])
  )
