-- 002: what the ops surfaces and the retro-review need.

-- Dashboards count by day and kind; retro selects a window by decision date.
CREATE INDEX IF NOT EXISTS determinations_decision_date ON determinations (decision_date, kind);

-- PA urgency (STANDARD / EXPEDITED) for the CMS decision-timeframe dashboard; null for claims.
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS urgency text;

-- The end of each partition as the worker last saw it (librdkafka's cached high watermark),
-- so lag = high_watermark - next_offset can be read from the database.
ALTER TABLE consumer_offsets ADD COLUMN IF NOT EXISTS high_watermark bigint;

-- One row per committed batch, written in the batch transaction: throughput and batch latency
-- per worker without scraping every worker.
CREATE TABLE IF NOT EXISTS worker_batches (
    worker_id      text        NOT NULL,
    committed_at   timestamptz NOT NULL DEFAULT now(),
    messages       integer     NOT NULL,
    judged         integer     NOT NULL,
    replayed       integer     NOT NULL,
    dead_letters   integer     NOT NULL,
    duration_ms    integer     NOT NULL,   -- first message polled -> commit
    PRIMARY KEY (worker_id, committed_at)
);
CREATE INDEX IF NOT EXISTS worker_batches_committed_at ON worker_batches (committed_at);

-- Retro-review runs and what they found.
CREATE TABLE IF NOT EXISTS retro_runs (
    run_id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    window_from         date        NOT NULL,
    window_to           date        NOT NULL,
    policy_file_version text        NOT NULL,
    policy_file_sha256  text        NOT NULL,
    started_at          timestamptz NOT NULL DEFAULT now(),
    finished_at         timestamptz,
    status              text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'failed')),
    members             bigint      NOT NULL DEFAULT 0,
    events_replayed     bigint      NOT NULL DEFAULT 0,
    events_in_window    bigint      NOT NULL DEFAULT 0,
    changed             bigint      NOT NULL DEFAULT 0,
    paid_now_denied     bigint      NOT NULL DEFAULT 0,   -- possible overpayment
    denied_now_paid     bigint      NOT NULL DEFAULT 0,
    undecodable         bigint      NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS retro_findings (
    run_id        bigint  NOT NULL REFERENCES retro_runs (run_id) ON DELETE CASCADE,
    event_id      text    NOT NULL,
    member_id     text    NOT NULL,
    kind          text    NOT NULL,
    decision_date date    NOT NULL,
    old_outcome   text    NOT NULL,
    new_outcome   text    NOT NULL,
    old_reasons   text[]  NOT NULL,
    new_reasons   text[]  NOT NULL,
    finding       text    NOT NULL CHECK (finding IN ('POSSIBLE_OVERPAYMENT', 'NOW_PAYABLE', 'OUTCOME_CHANGED', 'REASONS_CHANGED')),
    PRIMARY KEY (run_id, event_id)
);
