-- recoup warehouse, version 3: the date a 271 answered for.
--   stg.eligibility_benefits.answered_for: a one-day 2100C/2100D DTP on 291, 307 or 472 (a D8, or
--   an RD8 whose two dates are equal) when the EB has no dates of its own. It is the date the payer
--   answered for (real payers, Medicare among them, echo the inquiry date this way): active on that
--   day, silent after it. It is neither coverage_begin nor coverage_end.
ALTER TABLE stg.eligibility_benefits ADD COLUMN answered_for DATE;
