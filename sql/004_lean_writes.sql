-- 004: fewer and narrower indexes written with every determination (issue 5).
--
-- Every index on determinations is written by every batch. Measured with ops/bench's COPY
-- anchor (979,352 worker rows, binary COPY, 2,000 per transaction, 2-core machine):
--   primary key + member + BRIN only                       134,000-144,000 rows/s
--   + the day index and the approvals index, narrow        81,000-105,000 rows/s
--   + 003's covering columns and the slow-PA partial index 58,000-60,000 rows/s
-- The covering columns (reason_codes, urgency, received_at, decided_at; the approval's
-- identifiers) and determinations_dash_pa_slow bought index-only dashboard reads at the price
-- of a third of the worker's write rate. The day-window panels now read their window's heap
-- rows through the narrow day index. determinations_dash_paid_claims stays: it is written
-- only for paid claim lines, its cost was below this machine's noise (84,000-101,000 rows/s
-- with it, 84,000-105,000 without), and without it the count of unused expiring approvals
-- took 6 s instead of 1.6 s at 10 M rows. Figures in docs/DASHBOARDS.md; an operator who
-- wants the old read speed back can create the covering definitions again with CREATE INDEX
-- CONCURRENTLY, knowing their write cost.
--
-- On a large live table the CREATE INDEX statements below block the worker's writes while they
-- run (the same caveat as 003): create them beforehand, CONCURRENTLY, under other names, if
-- that matters.

DROP INDEX IF EXISTS determinations_dash_pa_slow;

DROP INDEX IF EXISTS determinations_dash_day;
CREATE INDEX IF NOT EXISTS determinations_dash_day ON determinations (decision_date, kind, outcome);

DROP INDEX IF EXISTS determinations_dash_pa_expiry;
CREATE INDEX IF NOT EXISTS determinations_dash_pa_expiry ON determinations (valid_until)
    WHERE kind = 'prior_auth' AND outcome = 'APPROVED';
