-- 004: fewer and narrower indexes written with every determination (issue 5).
--
-- Every index on determinations is written by every batch. ops/bench-indexes measures it
-- (binary COPY of the same rows into an empty table, 2,000 per transaction, fsync on). Its run
-- of 2026-11-29 (400,000 rows, 2-core machine, other benchmarks running: rows/s did not rank
-- the sets, so the COPY backend's CPU per row; stream order / shuffled):
--   primary key + member + BRIN only                     18.9 / 19.4 us per row
--   + the day index and the approvals index, narrow      22.6 / 24.7 us
--   + the paid-claims index (this migration's set)       24.0 / 26.4 us
--   003's covering columns and slow-PA partial index     27.3 / 30.0 us (index bytes x 2)
-- The covering columns (reason_codes, urgency, received_at, decided_at; the approval's
-- identifiers) and determinations_dash_pa_slow bought index-only dashboard reads at the price
-- of 14 % more CPU per written row and twice the index bytes. The day-window panels now read
-- their window's heap rows through the narrow day index. determinations_dash_paid_claims
-- stays: it is written only for paid claim lines (6-7 % of the CPU per row above), and
-- without it the count of unused expiring approvals took 6.0-6.6 s instead of 1.4-1.9 s at
-- 10 M rows (ops/bench-dashboards at ed28fc1 and 8643109). Figures and their commands in
-- docs/DASHBOARDS.md; an operator who wants the old read speed back can create the covering
-- definitions again with CREATE INDEX CONCURRENTLY, knowing their write cost.
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
