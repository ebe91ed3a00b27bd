-- 001: the worker's tables. One lean row per judged event (raw payload, outcome, reason codes,
-- compact criteria trace) keeps the batch write near PostgreSQL's COPY rate; dashboards get
-- their shapes from views (issue 4), not from extra tables written on the hot path.

CREATE TABLE IF NOT EXISTS determinations (
    event_id          text        PRIMARY KEY,
    determination_id  uuid        NOT NULL,       -- UUIDv5 of event_id, so unique with it; no index needed
    seq               bigint      GENERATED ALWAYS AS IDENTITY (CACHE 1000),
    kind              text        NOT NULL CHECK (kind IN ('prior_auth', 'claim')),
    member_id         text        NOT NULL,
    pa_id             text,
    claim_id          text,
    line_number       integer,
    policy_version    date,
    decision_date     date        NOT NULL,       -- PA: UTC day of received_at; claim: service_date
    outcome           text        NOT NULL CHECK (outcome IN ('APPROVED', 'DENIED', 'PENDED')),
    criteria          text        NOT NULL,       -- one letter per criterion in contract order: M met, N not met, U unknown, A not applicable
    reason_codes      text[]      NOT NULL,       -- in contract order; group/CARC/RARC come from the policy file via views
    valid_from        date,                       -- authorization of an approved PA
    valid_until       date,
    auth_max_doses    integer,
    auth_dose_min     bigint,
    auth_dose_max     bigint,
    matched_pa_id     text,
    fingerprint       bigint      NOT NULL,       -- of the event's content, to notice a replay that differs
    payload           bytea       NOT NULL,       -- the Confluent-framed Avro message as consumed
    received_at       timestamptz NOT NULL,
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    decided_at        timestamptz NOT NULL
);
-- History is loaded per member in stream order.
CREATE INDEX IF NOT EXISTS determinations_member_seq ON determinations (member_id, seq);
-- Republishing after a crash reads a partition's offset range. Offsets grow with insertion
-- order, so a BRIN index finds the range at a fraction of a B-tree's write cost.
CREATE INDEX IF NOT EXISTS determinations_source ON determinations USING brin (source_offset);

CREATE TABLE IF NOT EXISTS dead_letters (
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    reason            text        NOT NULL,       -- decode_status name: bad_magic, malformed, invalid, ...
    error             text        NOT NULL,       -- human message, no PHI
    message_key       bytea,
    payload           bytea,
    received_at       timestamptz NOT NULL DEFAULT now(),
    replayed_at       timestamptz,
    PRIMARY KEY (source_topic, source_partition, source_offset)
);

-- Consumer positions live here, written in the same transaction as the determinations: the
-- database, not Kafka, says where a partition resumes. published_offset trails next_offset by
-- at most one batch; the gap is republished when a worker takes the partition.
CREATE TABLE IF NOT EXISTS consumer_offsets (
    consumer_group    text        NOT NULL,
    topic             text        NOT NULL,
    partition         integer     NOT NULL,
    next_offset       bigint      NOT NULL,
    published_offset  bigint      NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text        NOT NULL,
    PRIMARY KEY (consumer_group, topic, partition)
);
