-- 003: ops dashboards and least privilege (docs/DASHBOARDS.md).
--   * reason_codes: the policy file's reason table (group / CARC / RARC / message per kind), so
--     views can turn the codes the worker stores into X12 adjustment codes;
--   * schema dashboards: one view per dashboard panel family, read by Grafana;
--   * indexes that let each view's usual query (a window of days, the next 30 days, the last
--     hours) run from an index alone at 10 M determinations (ops/bench-dashboards);
--   * NOLOGIN group roles amtagvi_worker, amtagvi_retro and amtagvi_dashboard.
-- Written to be safe to run again (CREATE OR REPLACE, IF NOT EXISTS, upserts, guarded roles).
-- Needs a migrator that owns the tables and may create roles (CREATEROLE or superuser).

-- Reads determinations.urgency (added by 002: STANDARD or EXPEDITED for a PA, filled by the
-- worker from the Avro payload; null for claims and for rows written before the column).

-- ------------------------------------------------------------------ reason codes

CREATE TABLE IF NOT EXISTS reason_codes (
    kind          text NOT NULL CHECK (kind IN ('prior_auth', 'claim')),
    code          text NOT NULL,
    reason_group  text,           -- X12 claim adjustment group (CO, OA); null for PA reasons
    carc          text,           -- claim adjustment reason code, a string ("197")
    rarc          text,           -- remittance advice remark code, or null
    message       text NOT NULL,
    PRIMARY KEY (kind, code)
);
COMMENT ON TABLE reason_codes IS
    'Seeded from policy/IP0625.json (file_version IP0625-2026.05-r1) by migration 003. A change '
    'of the policy file''s reasons needs a new migration that upserts them (docs/DASHBOARDS.md).';

-- Generated from policy/IP0625.json; tests/dashboards checks that the two still agree.
INSERT INTO reason_codes (kind, code, reason_group, carc, rarc, message) VALUES
    ('prior_auth', 'NO_POLICY_IN_EFFECT', NULL, NULL, NULL,
     'No version of coverage policy IP0625 is in effect on the decision date.'),
    ('prior_auth', 'DX_MISSING', NULL, NULL, NULL,
     'The request carries no diagnosis code.'),
    ('prior_auth', 'DX_NOT_COVERED', NULL, NULL, NULL,
     'No diagnosis code establishes melanoma, the covered indication.'),
    ('prior_auth', 'AGE_UNDER_18', NULL, NULL, NULL,
     'Criterion 1.A: the patient is under 18 years of age on the decision date.'),
    ('prior_auth', 'BIRTH_DATE_INVALID', NULL, NULL, NULL,
     'Criterion 1.A: the birth date is after the decision date; age cannot be established.'),
    ('prior_auth', 'DISEASE_RESECTABLE', NULL, NULL, NULL,
     'Criterion 1.B: the disease is resectable; unresectable or metastatic disease is required.'),
    ('prior_auth', 'DISEASE_STATUS_UNKNOWN', NULL, NULL, NULL,
     'Criterion 1.B: disease status (unresectable or metastatic) is not documented.'),
    ('prior_auth', 'NO_PRIOR_PD1_PDL1', NULL, NULL, NULL,
     'Criterion 1.C: no prior treatment with a PD-1 or PD-L1 blocking antibody.'),
    ('prior_auth', 'NO_PRIOR_BRAF_INHIBITOR', NULL, NULL, NULL,
     'Criterion 1.D: BRAF V600 mutation positive without prior treatment with a BRAF inhibitor.'),
    ('prior_auth', 'BRAF_STATUS_UNKNOWN', NULL, NULL, NULL,
     'Criterion 1.D: BRAF V600 mutation status is not documented.'),
    ('prior_auth', 'LYMPHODEPLETION_NOT_PLANNED', NULL, NULL, NULL,
     'Criterion 1.E: lymphodepleting chemotherapy has not been received and is not planned.'),
    ('prior_auth', 'LYMPHODEPLETION_UNKNOWN', NULL, NULL, NULL,
     'Criterion 1.E: lymphodepleting chemotherapy is not documented.'),
    ('prior_auth', 'PRIOR_AMTAGVI', NULL, NULL, NULL,
     'Criterion 1.F: the patient has previously been treated with Amtagvi.'),
    ('prior_auth', 'PRESCRIBER_NOT_ONCOLOGIST', NULL, NULL, NULL,
     'Criterion 1.G: not prescribed by or in consultation with an oncologist.'),
    ('prior_auth', 'PRESCRIBER_NPI_INVALID', NULL, NULL, NULL,
     'Criterion 1.G: a prescriber or consultant NPI is not a valid NPI.'),
    ('prior_auth', 'PRESCRIBER_TAXONOMY_MISSING', NULL, NULL, NULL,
     'Criterion 1.G: the prescriber''s or consultant''s specialty taxonomy is missing.'),
    ('prior_auth', 'DOSE_OUT_OF_RANGE', NULL, NULL, NULL,
     'Dosing: the requested dose is outside 7.5 x 10^9 to 72 x 10^9 viable cells.'),
    ('claim', 'NO_POLICY_IN_EFFECT', 'OA', '133', NULL,
     'No version of coverage policy IP0625 is in effect on the date of service; claim pended for review.'),
    ('claim', 'DUPLICATE_CLAIM_LINE', 'OA', '18', NULL,
     'Exact duplicate of a claim line already adjudicated.'),
    ('claim', 'HCPCS_NOT_COVERED', 'CO', '96', 'N130',
     'The HCPCS code is not a covered code for Amtagvi under IP0625.'),
    ('claim', 'DX_MISSING', 'CO', '16', 'M76',
     'Missing diagnosis code; correct and resubmit.'),
    ('claim', 'DX_NOT_COVERED', 'CO', '167', NULL,
     'The diagnosis is not covered for Amtagvi (melanoma required).'),
    ('claim', 'UNITS_INVALID', 'CO', '16', 'M53',
     'Missing or invalid units of service; correct and resubmit.'),
    ('claim', 'UNITS_EXCEED_SINGLE_DOSE', 'CO', '151', NULL,
     'Units exceed the single dose allowed.'),
    ('claim', 'DOSE_NOT_REPORTED', 'CO', '16', 'N350',
     'The administered dose (viable cells) is not reported; correct and resubmit.'),
    ('claim', 'DOSE_OUT_OF_RANGE', 'CO', '153', NULL,
     'The administered dose is outside 7.5 x 10^9 to 72 x 10^9 viable cells.'),
    ('claim', 'AUTH_NOT_FOUND', 'CO', '197', 'M62',
     'The authorization number on the claim matches no prior authorization of this member.'),
    ('claim', 'AUTH_PENDING', 'OA', '133', NULL,
     'The prior authorization is pending review; claim pended.'),
    ('claim', 'AUTH_EXPIRED', 'CO', '302', NULL,
     'The date of service is after the prior authorization expired.'),
    ('claim', 'AUTH_NOT_VALID_ON_SERVICE_DATE', 'CO', '197', 'N54',
     'The date of service is before the prior authorization''s start date.'),
    ('claim', 'AUTH_DENIED', 'CO', '39', NULL,
     'The prior authorization was denied.'),
    ('claim', 'AUTH_MISSING', 'CO', '197', NULL,
     'Prior authorization is required and none is on file.'),
    ('claim', 'PRIOR_DOSE_PAID', 'CO', '119', NULL,
     'Benefit maximum reached: a single dose of Amtagvi has already been paid.')
ON CONFLICT (kind, code) DO UPDATE
    SET reason_group = EXCLUDED.reason_group, carc = EXCLUDED.carc, rarc = EXCLUDED.rarc,
        message = EXCLUDED.message;

-- ------------------------------------------------------------------ indexes
-- Built here in the migration's transaction: on a large live table that blocks the worker's
-- writes while it runs (about a minute at 10 M rows). To avoid it, create the same indexes
-- beforehand with CREATE INDEX CONCURRENTLY under these names; IF NOT EXISTS then skips them.

-- outcomes_daily, reasons_daily and pa_decision_time: a window of days read from this index
-- alone (index-only scan), never from the wide heap rows (payload). Its leading columns are
-- 002's determinations_decision_date (decision_date, kind), which it can stand in for.
CREATE INDEX IF NOT EXISTS determinations_dash_day ON determinations (decision_date, kind, outcome)
    INCLUDE (reason_codes, urgency, received_at, decided_at);
-- It serves retro's window selection too, so 002's narrower index is one write per insert
-- too many.
DROP INDEX IF EXISTS determinations_decision_date;

-- pa_decision_time, "NOT within_timeframe": the few PA decisions that took over 72 hours.
CREATE INDEX IF NOT EXISTS determinations_dash_pa_slow ON determinations (decision_date)
    WHERE kind = 'prior_auth' AND decided_at - received_at > interval '72 hours';

-- approvals_expiring: approved PAs by expiry, with what the view shows and joins on.
CREATE INDEX IF NOT EXISTS determinations_dash_pa_expiry ON determinations (valid_until)
    INCLUDE (member_id, pa_id, seq, event_id, determination_id, decision_date, valid_from)
    WHERE kind = 'prior_auth' AND outcome = 'APPROVED';
-- ... and the paid claim lines matched to a PA. (Whether a later approval of the same PA
-- supersedes a candidate is read through 001's determinations_member_seq: it is asked only for
-- the few candidates no paid line used, so it does not earn an index written on every approval.)
CREATE INDEX IF NOT EXISTS determinations_dash_paid_claims ON determinations (member_id, matched_pa_id)
    WHERE kind = 'claim' AND outcome = 'APPROVED' AND matched_pa_id IS NOT NULL;

-- Index-only scans skip the heap only for pages the visibility map marks all-visible, which
-- VACUUM sets. By default an insert-only table is vacuumed after 20 % growth (2 M rows at
-- 10 M), so the recent days a dashboard shows would always be read from the heap; vacuum
-- determinations every 100,000 inserts instead (cheap: it visits only the new pages).
ALTER TABLE determinations SET (autovacuum_vacuum_insert_threshold = 100000,
                                autovacuum_vacuum_insert_scale_factor = 0);

-- dead_letters_by_reason: by UTC day.
CREATE INDEX IF NOT EXISTS dead_letters_dash_day
    ON dead_letters (((received_at AT TIME ZONE 'UTC')::date), reason) INCLUDE (received_at, replayed_at);

-- worker_throughput: by minute (date_bin is immutable, date_trunc on timestamptz is not).
CREATE INDEX IF NOT EXISTS worker_batches_dash_minute
    ON worker_batches ((date_bin('1 minute', committed_at, timestamptz '2000-01-01 00:00:00+00')), worker_id)
    INCLUDE (committed_at, messages, judged, replayed, dead_letters, duration_ms);

-- ------------------------------------------------------------------ views
-- Plain views, run with their owner's rights: a dashboard role reads them without any right on
-- the tables. Days are UTC dates (decision_date is the UTC day of a PA's received_at).

CREATE SCHEMA IF NOT EXISTS dashboards;
COMMENT ON SCHEMA dashboards IS 'Read-only views for the ops dashboards (docs/DASHBOARDS.md).';

CREATE OR REPLACE VIEW dashboards.outcomes_daily AS
SELECT d.decision_date AS day, d.kind, d.outcome, count(*) AS count
FROM public.determinations d
GROUP BY d.decision_date, d.kind, d.outcome;

-- One row per (day, kind, outcome, code): count is the number of DENIED or PENDED
-- determinations that carry the code. Codes missing from reason_codes keep null group/CARC.
CREATE OR REPLACE VIEW dashboards.reasons_daily AS
SELECT r.day, r.kind, r.outcome, r.code, c.reason_group, c.carc, c.rarc, r.count, c.message
FROM (SELECT d.decision_date AS day, d.kind, d.outcome, u.code, count(*) AS count
      FROM public.determinations d
      CROSS JOIN LATERAL unnest(d.reason_codes) AS u(code)
      WHERE d.outcome IN ('DENIED', 'PENDED')
      GROUP BY d.decision_date, d.kind, d.outcome, u.code) r
LEFT JOIN public.reason_codes c ON c.kind = r.kind AND c.code = r.code;

-- CMS decision timeframes: 7 days for a STANDARD request, 72 hours for an EXPEDITED one; an
-- unknown urgency (rows written before the worker filled it) is held to the stricter 72 hours.
CREATE OR REPLACE VIEW dashboards.pa_decision_time AS
SELECT d.decision_date AS day, d.event_id, d.determination_id, d.pa_id, d.outcome, d.urgency,
       d.received_at, d.decided_at,
       date_part('epoch', d.decided_at - d.received_at) / 3600 AS hours_taken,
       CASE WHEN d.urgency = 'STANDARD' THEN 168 ELSE 72 END AS limit_hours,
       -- written as NOT (over 72 h AND ...) so that "NOT within_timeframe" matched the partial
       -- index determinations_dash_pa_slow (dropped by 004: its write cost outweighed it)
       NOT (d.decided_at - d.received_at > interval '72 hours'
            AND (d.urgency IS DISTINCT FROM 'STANDARD'
                 OR d.decided_at - d.received_at > interval '168 hours')) AS within_timeframe
FROM public.determinations d
WHERE d.kind = 'prior_auth';

-- Standing approvals (the most recent APPROVED determination of a member's pa_id) whose
-- valid_until (exclusive) is within the next 30 days, UTC, and that no paid (APPROVED) claim
-- line of the member has used. days_left counts the days still covered, today included.
-- OFFSET 0 keeps each NOT EXISTS a per-approval index probe: without it the planner may hash
-- every paid claim line of the table (seconds at 10 M rows) to test a few candidates.
CREATE OR REPLACE VIEW dashboards.approvals_expiring AS
SELECT p.pa_id, p.event_id, p.determination_id, p.decision_date, p.valid_from, p.valid_until,
       p.valid_until - 1 AS last_valid_day,
       p.valid_until - (now() AT TIME ZONE 'UTC')::date AS days_left
FROM public.determinations p
WHERE p.kind = 'prior_auth' AND p.outcome = 'APPROVED'
  AND p.valid_until > (now() AT TIME ZONE 'UTC')::date
  AND p.valid_until <= (now() AT TIME ZONE 'UTC')::date + 30
  AND NOT EXISTS (SELECT 1 FROM public.determinations l
                  WHERE l.kind = 'prior_auth' AND l.outcome = 'APPROVED'
                    AND l.member_id = p.member_id AND l.pa_id = p.pa_id AND l.seq > p.seq
                  OFFSET 0)
  AND NOT EXISTS (SELECT 1 FROM public.determinations c
                  WHERE c.kind = 'claim' AND c.outcome = 'APPROVED' AND c.matched_pa_id IS NOT NULL
                    AND c.member_id = p.member_id AND c.matched_pa_id = p.pa_id
                  OFFSET 0);

CREATE OR REPLACE VIEW dashboards.dead_letters_by_reason AS
SELECT (dl.received_at AT TIME ZONE 'UTC')::date AS day, dl.reason, count(*) AS count,
       count(dl.replayed_at) AS replayed
FROM public.dead_letters dl
GROUP BY (dl.received_at AT TIME ZONE 'UTC')::date, dl.reason;

CREATE OR REPLACE VIEW dashboards.worker_throughput AS
SELECT date_bin('1 minute', b.committed_at, timestamptz '2000-01-01 00:00:00+00') AS minute,
       b.worker_id AS worker, sum(b.messages) AS messages, sum(b.judged) AS judged,
       sum(b.replayed) AS replayed, sum(b.dead_letters) AS dead_letters, count(*) AS batches,
       round(avg(b.duration_ms), 1) AS avg_duration_ms, max(b.duration_ms) AS max_duration_ms
FROM public.worker_batches b
GROUP BY date_bin('1 minute', b.committed_at, timestamptz '2000-01-01 00:00:00+00'), b.worker_id;

-- lag is null until a worker has recorded the partition's high watermark, and never negative
-- (the watermark is the worker's cached one and can trail next_offset).
CREATE OR REPLACE VIEW dashboards.consumer_lag AS
SELECT o.consumer_group, o.topic, o.partition, o.next_offset, o.high_watermark,
       CASE WHEN o.high_watermark IS NULL THEN NULL
            ELSE greatest(o.high_watermark - o.next_offset, 0) END AS lag,
       o.published_offset, o.next_offset - o.published_offset AS unpublished,
       o.updated_by AS worker, o.updated_at,
       round(extract(epoch FROM now() - o.updated_at), 1) AS seconds_since_update
FROM public.consumer_offsets o;

-- ------------------------------------------------------------------ roles
-- Cluster-wide NOLOGIN group roles, created only when missing (another database of the
-- cluster may have created them, even concurrently). Log-in users are made members of one:
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE amtagvi_dashboard;

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['amtagvi_worker', 'amtagvi_retro', 'amtagvi_dashboard'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;

-- Nothing for PUBLIC: only the owner (the migrator) and the roles below reach the tables.
REVOKE ALL ON TABLE determinations, dead_letters, consumer_offsets, worker_batches, retro_runs,
    retro_findings, reason_codes, schema_migrations
    FROM PUBLIC, amtagvi_worker, amtagvi_retro, amtagvi_dashboard;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;   -- PostgreSQL 15's default, made explicit
-- No temporary tables either, except for retro (its member list is one).
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO amtagvi_retro', current_database());
END
$$;

-- The worker: its four tables, read and write, no DELETE, nothing else.
GRANT SELECT, INSERT, UPDATE ON TABLE determinations, dead_letters, consumer_offsets, worker_batches
    TO amtagvi_worker;

-- The retro-review: every determination including the payload it re-judges; its own tables.
GRANT SELECT ON TABLE determinations TO amtagvi_retro;
GRANT SELECT, INSERT, UPDATE ON TABLE retro_runs, retro_findings TO amtagvi_retro;

-- Dashboards: the views and nothing under them (no payload, so no birth date or diagnosis).
REVOKE ALL ON SCHEMA dashboards FROM PUBLIC;
GRANT USAGE ON SCHEMA dashboards TO amtagvi_dashboard;
REVOKE ALL ON ALL TABLES IN SCHEMA dashboards FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA dashboards TO amtagvi_dashboard;
