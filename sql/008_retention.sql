-- 008: retention (issue 14, docs/DECISIONS.md "Retention"): determinations older than a horizon
-- are moved to determinations_archive or deleted by `amtagvi-adjudicator retention`, in small
-- batches beside the running workers, except the rows the judge still needs.
--
--   * determinations_archive: the same columns as determinations, no constraints, no identity,
--     one index; the operator pg_dumps it and truncates it (ops/RUNBOOK.md "Retention");
--   * retention_runs: one row per run, its horizon and counts; the current horizon is read from
--     it by retro (retention_horizon());
--   * retention_keep: the rows older than the horizon that the run found the judge needs (paid
--     doses, reversals of kept lines, ...), rebuilt by every run;
--   * retro_runs records whether a window reached before the horizon.
-- Written to be safe to run again, like 003. The worker role gets nothing: retention runs as
-- the owner (the migrator), which may DELETE. No dashboards view: every view there has a Grafana
-- panel (tests/dashboards); retention_runs is read with psql (ops/RUNBOOK.md "Retention").

-- ------------------------------------------------------------------ archive
-- LIKE copies the columns, their types and NOT NULL, nothing else (no identity: seq is a plain
-- bigint here, keeping the number it had). A later migration that adds a column to
-- determinations must add it here too, in the same position: the move is INSERT ... SELECT *.
CREATE TABLE IF NOT EXISTS determinations_archive (LIKE determinations);
COMMENT ON TABLE determinations_archive IS
    'Determinations moved out by `amtagvi-adjudicator retention --mode archive` (same columns as '
    'determinations, payload included: PHI). Dump it with pg_dump, then TRUNCATE it '
    '(ops/RUNBOOK.md "Retention").';
-- What an operator asks of an archive: a day range to dump, or one event.
CREATE INDEX IF NOT EXISTS determinations_archive_day ON determinations_archive (decision_date);

-- ------------------------------------------------------------------ runs
CREATE TABLE IF NOT EXISTS retention_runs (
    run_id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    horizon        date        NOT NULL,   -- determinations decided before it are removed
    mode           text        NOT NULL CHECK (mode IN ('archive', 'delete')),
    dry_run        boolean     NOT NULL DEFAULT false,
    max_seq        bigint,                 -- rows numbered above it (written during the run) are left
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    status         text        NOT NULL DEFAULT 'running'
                   CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
    batches        bigint      NOT NULL DEFAULT 0,
    rows_moved     bigint      NOT NULL DEFAULT 0,   -- archive mode
    rows_deleted   bigint      NOT NULL DEFAULT 0,   -- delete mode
    rows_kept      bigint      NOT NULL DEFAULT 0,   -- older than the horizon, needed by the judge
    kept_paid_doses bigint     NOT NULL DEFAULT 0,
    removed_through date                             -- every removable row before it is gone
);
COMMENT ON TABLE retention_runs IS
    'Runs of `amtagvi-adjudicator retention`. Counts, dates and ids only (no PHI).';

CREATE TABLE IF NOT EXISTS retention_keep (
    event_id  text PRIMARY KEY,
    why       text NOT NULL CHECK (why IN ('paid_dose', 'authorization', 'reversal',
                                           'reversed_line'))
);
COMMENT ON TABLE retention_keep IS
    'Determinations older than the last retention run''s horizon that the judge still needs; '
    'rebuilt by every run (docs/DECISIONS.md "Retention").';

-- The horizon below which determinations may be missing: the latest horizon a run finished
-- with, or the point an unfinished run had reached if that is later (its batches committed).
-- Null when no run ever removed anything.
CREATE OR REPLACE FUNCTION retention_horizon() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT max(h) FROM (
        SELECT horizon AS h FROM public.retention_runs WHERE status = 'finished' AND NOT dry_run
        UNION ALL
        SELECT removed_through FROM public.retention_runs WHERE status <> 'finished' AND NOT dry_run
    ) x
$$;

-- ------------------------------------------------------------------ retro
ALTER TABLE retro_runs ADD COLUMN IF NOT EXISTS retention_horizon date;
ALTER TABLE retro_runs ADD COLUMN IF NOT EXISTS before_retention_horizon boolean NOT NULL DEFAULT false;

-- ------------------------------------------------------------------ rights
REVOKE ALL ON TABLE determinations_archive, retention_runs, retention_keep
    FROM PUBLIC, amtagvi_worker, amtagvi_retro, amtagvi_dashboard;
REVOKE ALL ON FUNCTION retention_horizon() FROM PUBLIC;
-- retro reads the horizon to warn about a window that reaches past it.
GRANT SELECT ON TABLE retention_runs TO amtagvi_retro;
GRANT EXECUTE ON FUNCTION retention_horizon() TO amtagvi_retro;
