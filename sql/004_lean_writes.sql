-- 004: fewer and narrower indexes written with every determination (issue 5).
--
-- Every index on determinations is written by every batch. Measured with ops/bench's COPY
-- anchor (979,352 worker rows, binary COPY, 2,000 per transaction, 2-core machine):
--   primary key + member + BRIN only                      134,000-144,000 rows/s
--   + the day index and the approvals index, narrow       81,000-84,000 rows/s
--   + 003's covering day index and two more partial ones  58,000-60,000 rows/s
-- The covering columns (reason_codes, urgency, received_at, decided_at; the approval's
-- identifiers) and the two partial indexes bought index-only dashboard reads at the price of
-- a third of the worker's write rate. The dashboards now read the heap rows of their window
-- through the narrow day index, and approvals_expiring asks whether a paid claim used an
-- approval through determinations_member_seq (a member has a handful of rows). Figures for
-- both shapes are in docs/DASHBOARDS.md; an operator who wants the old read speed back can
-- create the covering index again with CREATE INDEX CONCURRENTLY, knowing its write cost.
--
-- On a large live table the CREATE INDEX statements below block the worker's writes while they
-- run (the same caveat as 003): create them beforehand, CONCURRENTLY, under other names, if
-- that matters.

DROP INDEX IF EXISTS determinations_dash_pa_slow;
DROP INDEX IF EXISTS determinations_dash_paid_claims;

DROP INDEX IF EXISTS determinations_dash_day;
CREATE INDEX IF NOT EXISTS determinations_dash_day ON determinations (decision_date, kind, outcome);

DROP INDEX IF EXISTS determinations_dash_pa_expiry;
CREATE INDEX IF NOT EXISTS determinations_dash_pa_expiry ON determinations (valid_until)
    WHERE kind = 'prior_auth' AND outcome = 'APPROVED';
