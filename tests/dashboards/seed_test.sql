-- Test data for tests/dashboards/test_dashboards.py: 30,000 generated determinations with known
-- distributions, hand-made edge cases for approvals_expiring, dead letters, worker batches and
-- consumer offsets. Days are relative to today (UTC) so that the views' "next 30 days" and the
-- dashboard's time ranges hit the data. The test recomputes every view from these rows itself.
\set pairs 15000

CREATE TEMP VIEW seed_today AS SELECT (now() AT TIME ZONE 'UTC')::date AS today;

-- Pairs b = 1..15000: a PA request (event pa-b) then a claim line (cl-b) of the same member.
--   PA decision date: today - (7b mod 200); outcome by 31b mod 100: < 60 APPROVED, < 85 DENIED,
--   else PENDED; urgency NULL when b mod 10 = 4, EXPEDITED when b mod 4 = 0, else STANDARD;
--   decision time 0 h (b mod 5 < 3) or (13b mod 240) h, plus b mod 3600 s.
--   claim date: PA date + (b mod 20), at most today; outcome by 17b mod 100: < 65 APPROVED,
--   < 90 DENIED, else PENDED; matched to its PA when the PA is approved and b mod 3 <> 0 and
--   the claim is APPROVED, or DENIED with b mod 7 = 0 (auth met, e.g. PRIOR_DOSE_PAID).
INSERT INTO determinations (event_id, determination_id, kind, member_id, pa_id, claim_id, line_number,
    policy_version, decision_date, outcome, criteria, reason_codes, valid_from, valid_until,
    auth_max_doses, auth_dose_min, auth_dose_max, matched_pa_id, fingerprint, payload, received_at,
    source_topic, source_partition, source_offset, decided_at, urgency)
SELECT 'pa-' || b, md5('pa-' || b)::uuid, 'prior_auth', 'M' || (b % 9000), 'PA' || b, NULL, NULL,
       date '2026-05-01', day, outcome, 'MMMMMMMMMM',
       CASE outcome
           WHEN 'APPROVED' THEN '{}'::text[]
           WHEN 'DENIED' THEN
               ARRAY[(ARRAY['DX_NOT_COVERED', 'AGE_UNDER_18', 'DISEASE_RESECTABLE', 'NO_PRIOR_PD1_PDL1',
                            'NO_PRIOR_BRAF_INHIBITOR', 'LYMPHODEPLETION_NOT_PLANNED', 'PRIOR_AMTAGVI',
                            'PRESCRIBER_NOT_ONCOLOGIST', 'DOSE_OUT_OF_RANGE'])[1 + b % 9]]
               || CASE WHEN b % 3 = 0 THEN ARRAY['BRAF_STATUS_UNKNOWN'] ELSE '{}' END
               || CASE WHEN b % 500 = 2 THEN ARRAY['LEGACY_CODE'] ELSE '{}' END
           ELSE ARRAY[(ARRAY['DISEASE_STATUS_UNKNOWN', 'BRAF_STATUS_UNKNOWN', 'LYMPHODEPLETION_UNKNOWN',
                             'PRESCRIBER_TAXONOMY_MISSING', 'PRESCRIBER_NPI_INVALID', 'DX_MISSING',
                             'BIRTH_DATE_INVALID'])[1 + b % 7]]
       END,
       CASE WHEN outcome = 'APPROVED' THEN day END,
       CASE WHEN outcome = 'APPROVED' THEN (day + interval '6 months')::date END,
       CASE WHEN outcome = 'APPROVED' THEN 1 END,
       CASE WHEN outcome = 'APPROVED' THEN 7500000000 END,
       CASE WHEN outcome = 'APPROVED' THEN 72000000000 END,
       NULL, b, decode(md5('pa-' || b), 'hex'), received, 'amtagvi.events.v1', b % 6, b,
       received + CASE WHEN b % 5 < 3 THEN interval '0' ELSE (13 * b % 240) * interval '1 hour' END
                + (b % 3600) * interval '1 second',
       CASE WHEN b % 10 = 4 THEN NULL WHEN b % 4 = 0 THEN 'EXPEDITED' ELSE 'STANDARD' END
FROM (SELECT b, today - (7 * b % 200) AS day,
             CASE WHEN 31 * b % 100 < 60 THEN 'APPROVED' WHEN 31 * b % 100 < 85 THEN 'DENIED' ELSE 'PENDED' END AS outcome,
             ((today - (7 * b % 200))::timestamp + (b * 37 % 86400) * interval '1 second') AT TIME ZONE 'UTC' AS received
      FROM generate_series(1, :pairs) AS b, seed_today) s
ORDER BY b;

INSERT INTO determinations (event_id, determination_id, kind, member_id, pa_id, claim_id, line_number,
    policy_version, decision_date, outcome, criteria, reason_codes, matched_pa_id, fingerprint,
    payload, received_at, source_topic, source_partition, source_offset, decided_at)
SELECT 'cl-' || b, md5('cl-' || b)::uuid, 'claim', 'M' || (b % 9000), NULL, 'C' || b, 1,
       date '2026-05-01', day, outcome, 'MMMMMMMM',
       CASE outcome
           WHEN 'APPROVED' THEN '{}'::text[]
           WHEN 'DENIED' THEN
               ARRAY[(ARRAY['AUTH_MISSING', 'DOSE_NOT_REPORTED', 'PRIOR_DOSE_PAID', 'AUTH_EXPIRED',
                            'HCPCS_NOT_COVERED', 'DX_NOT_COVERED', 'UNITS_EXCEED_SINGLE_DOSE',
                            'AUTH_DENIED', 'AUTH_NOT_FOUND', 'DUPLICATE_CLAIM_LINE', 'DOSE_OUT_OF_RANGE',
                            'UNITS_INVALID', 'DX_MISSING', 'AUTH_NOT_VALID_ON_SERVICE_DATE'])[1 + b % 14]]
               || CASE WHEN b % 4 = 0 THEN ARRAY['DOSE_NOT_REPORTED'] ELSE '{}' END
           ELSE ARRAY[CASE WHEN b % 2 = 0 THEN 'AUTH_PENDING' ELSE 'NO_POLICY_IN_EFFECT' END]
       END,
       CASE WHEN pa_approved AND b % 3 <> 0
                 AND (outcome = 'APPROVED' OR (outcome = 'DENIED' AND b % 7 = 0)) THEN 'PA' || b END,
       b, decode(md5('cl-' || b), 'hex'), (day::timestamp + interval '12 hours') AT TIME ZONE 'UTC',
       'amtagvi.events.v1', b % 6, 100000 + b,
       (day::timestamp + interval '12 hours 5 seconds') AT TIME ZONE 'UTC'
FROM (SELECT b, least(today - (7 * b % 200) + b % 20, today) AS day, 31 * b % 100 < 60 AS pa_approved,
             CASE WHEN 17 * b % 100 < 65 THEN 'APPROVED' WHEN 17 * b % 100 < 90 THEN 'DENIED' ELSE 'PENDED' END AS outcome
      FROM generate_series(1, :pairs) AS b, seed_today) s
ORDER BY b;

-- approvals_expiring edge cases (members E1..E9; inserted in this order, so seq follows it).
INSERT INTO determinations (event_id, determination_id, kind, member_id, pa_id, claim_id, line_number,
    decision_date, outcome, criteria, reason_codes, valid_from, valid_until, matched_pa_id,
    fingerprint, payload, received_at, source_topic, source_partition, source_offset, decided_at, urgency)
SELECT e.event_id, md5(e.event_id)::uuid, e.kind, e.member_id, CASE WHEN e.kind = 'prior_auth' THEN e.pa END,
       CASE WHEN e.kind = 'claim' THEN 'C-' || e.event_id END, CASE WHEN e.kind = 'claim' THEN 1 END,
       t.today - 170, e.outcome, 'MMMMMMMMMM',
       CASE WHEN e.outcome = 'DENIED' THEN ARRAY[CASE WHEN e.kind = 'claim' THEN 'PRIOR_DOSE_PAID' ELSE 'PRIOR_AMTAGVI' END]
            ELSE '{}'::text[] END,
       CASE WHEN e.until_in IS NOT NULL THEN t.today - 170 END, t.today + e.until_in,
       CASE WHEN e.kind = 'claim' THEN e.pa END,
       0, '\x00'::bytea, (t.today - 170)::timestamp AT TIME ZONE 'UTC', 'amtagvi.events.v1', 0,
       900000 + e.n, (t.today - 170)::timestamp AT TIME ZONE 'UTC' + interval '1 minute',
       CASE WHEN e.kind = 'prior_auth' THEN 'STANDARD' END
FROM seed_today t,
     (VALUES
        -- E1/PX1: approved twice; the standing (later) approval expires in 100 days: not listed
        (1, 'edge-1a', 'prior_auth', 'E1', 'PX1', 'APPROVED', 10),
        (2, 'edge-1b', 'prior_auth', 'E1', 'PX1', 'APPROVED', 100),
        -- E2/PX2: the later approval is the standing one even though it expires first: listed
        (3, 'edge-2a', 'prior_auth', 'E2', 'PX2', 'APPROVED', 100),
        (4, 'edge-2b', 'prior_auth', 'E2', 'PX2', 'APPROVED', 5),
        -- E3/PX3: a later DENIED resubmission does not take the approval back: listed
        (5, 'edge-3a', 'prior_auth', 'E3', 'PX3', 'APPROVED', 5),
        (6, 'edge-3b', 'prior_auth', 'E3', 'PX3', 'DENIED', NULL),
        -- window limits: valid_until today (expired), today + 1, today + 30 (listed), today + 31
        (7, 'edge-4', 'prior_auth', 'E4', 'PX4', 'APPROVED', 0),
        (8, 'edge-5', 'prior_auth', 'E5', 'PX5', 'APPROVED', 30),
        (9, 'edge-6', 'prior_auth', 'E6', 'PX6', 'APPROVED', 31),
        (10, 'edge-7', 'prior_auth', 'E7', 'PX7', 'APPROVED', 1),
        -- E8/PX8: paid claim of ANOTHER member names PX8: still listed
        (11, 'edge-8', 'prior_auth', 'E8', 'PX8', 'APPROVED', 7),
        (12, 'edge-8c', 'claim', 'E9', 'PX8', 'APPROVED', NULL),
        -- E10/PX10: paid claim of the member matched to it: not listed
        (13, 'edge-10', 'prior_auth', 'E10', 'PX10', 'APPROVED', 7),
        (14, 'edge-10c', 'claim', 'E10', 'PX10', 'APPROVED', NULL),
        -- E11/PX11: only a DENIED claim line matched (authorization met, dose already paid): listed
        (15, 'edge-11', 'prior_auth', 'E11', 'PX11', 'APPROVED', 7),
        (16, 'edge-11c', 'claim', 'E11', 'PX11', 'DENIED', NULL),
        -- E12: same pa_id PX12 under two members, one used: the other is listed
        (17, 'edge-12a', 'prior_auth', 'E12', 'PX12', 'APPROVED', 7),
        (18, 'edge-12b', 'prior_auth', 'E13', 'PX12', 'APPROVED', 7),
        (19, 'edge-12c', 'claim', 'E13', 'PX12', 'APPROVED', NULL)
     ) AS e (n, event_id, kind, member_id, pa, outcome, until_in)
ORDER BY e.n;

-- 600 dead letters over 90 days: reason by i mod 10 (4 malformed, 3 invalid, 2 bad_magic,
-- 1 key_mismatch); every 4th replayed.
INSERT INTO dead_letters (source_topic, source_partition, source_offset, reason, error, message_key,
    payload, received_at, replayed_at)
SELECT 'amtagvi.events.v1', i % 6, 200000 + i,
       (ARRAY['malformed', 'malformed', 'malformed', 'malformed', 'invalid', 'invalid', 'invalid',
              'bad_magic', 'bad_magic', 'key_mismatch'])[1 + i % 10],
       'error ' || i, NULL, decode(md5(i::text), 'hex'),
       date_trunc('second', now()) - (i * 37 % 90) * interval '1 day' - i * interval '1 minute',
       CASE WHEN i % 4 = 0 THEN now() END
FROM generate_series(1, 600) AS i;

-- worker batches: 3 workers, 400 batches each, one every 17 s back from now (about 1.9 hours).
INSERT INTO worker_batches (worker_id, committed_at, messages, judged, replayed, dead_letters, duration_ms)
SELECT 'worker-' || w, date_trunc('second', now()) - i * interval '17 seconds' - w * interval '1 second',
       100 + (i * w) % 400, 100 + (i * w) % 400 - i % 3, i % 2, (i % 5 = 0)::int, 20 + (i * 7 * w) % 300
FROM generate_series(1, 3) AS w, generate_series(1, 400) AS i;

-- consumer offsets: lag 0, 10, 20, 30 on partitions 0..3; partition 4's cached watermark trails
-- next_offset (lag 0, not -5); partition 5 has no watermark yet (lag null).
INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, published_offset,
    high_watermark, updated_at, updated_by)
SELECT 'amtagvi-adjudicator', 'amtagvi.events.v1', p, 1000 * p, 1000 * p - p,
       CASE WHEN p < 4 THEN 1000 * p + 10 * p WHEN p = 4 THEN 1000 * p - 5 END,
       now() - p * interval '1 minute', 'worker-' || (p % 3)
FROM generate_series(0, 5) AS p;

-- Claim lifecycle (ADJUDICATION.md §10, migration 006): members V1..V9 and E14, inserted in this
-- order (seq follows it). Traces: 9 letters, ORIGINAL first; lc-4a and lc-9a are rows stored
-- before 006 (8 letters, frequency_code NULL). Received today or yesterday.
--   V1: CV1 paid, then a VOID naming ' CV1 ' (trimmed) reverses it: no paid dose.
--   V2: CV2 paid, then a REPLACEMENT CV2R (paid) reverses it: one paid dose, CV2R.
--   V3: a VOID of nothing: ORIGINAL_NOT_FOUND.
--   V4: old row CV4 line 1 stays paid: an accepted VOID names CV4 line 2, and member V8's
--       accepted VOID names 'CV4' line 1 (another member's line is another line).
--   V5: CV5 paid, voided (tab / CR LF around the reference), then billed again: paid once.
--   V6: CV6 paid, then a DENIED but accepted REPLACEMENT: the reversal stands, nothing paid.
--   V7: a REPLACEMENT of nothing: ORIGINAL_NOT_FOUND.
--   V9: old row CV9 voided by a new VOID: no paid dose.
--   E14: PX14 approved, expiring in 7 days; its only paid line was voided: listed as unused.
INSERT INTO determinations (event_id, determination_id, kind, member_id, pa_id, claim_id, line_number,
    policy_version, decision_date, outcome, criteria, reason_codes, valid_from, valid_until, matched_pa_id,
    fingerprint, payload, received_at, source_topic, source_partition, source_offset, decided_at,
    urgency, frequency_code, original_claim_id, reversed_event_id)
SELECT e.event_id, md5(e.event_id)::uuid, e.kind, e.member_id, CASE WHEN e.kind = 'prior_auth' THEN e.pa END,
       CASE WHEN e.kind = 'claim' THEN e.claim_id END, CASE WHEN e.kind = 'claim' THEN e.line END,
       date '2026-05-01', t.today - e.ago, e.outcome, e.criteria, e.reasons::text[],
       CASE WHEN e.kind = 'prior_auth' THEN t.today - 170 END,
       CASE WHEN e.kind = 'prior_auth' THEN t.today + 7 END,
       CASE WHEN e.kind = 'claim' THEN e.pa END,
       0, '\x00'::bytea, (t.today - e.rcvd_ago)::timestamp AT TIME ZONE 'UTC' + e.n * interval '1 minute',
       'amtagvi.events.v1', 0, 950000 + e.n,
       (t.today - e.rcvd_ago)::timestamp AT TIME ZONE 'UTC' + e.n * interval '1 minute' + interval '2 seconds',
       CASE WHEN e.kind = 'prior_auth' THEN 'STANDARD' END, e.freq, e.orig, e.rev
FROM seed_today t,
     (VALUES
        (1, 'lc-1a', 'claim', 'V1', NULL, 'CV1', 1, 'APPROVED', 'AMMMMMMMM', '{}', 'ORIGINAL', NULL, NULL, 3, 1),
        (2, 'lc-1v', 'claim', 'V1', NULL, 'CV1-V', 1, 'APPROVED', 'MAAAAAAAA', '{}', 'VOID', ' CV1 ', 'lc-1a', 3, 0),
        (3, 'lc-2a', 'claim', 'V2', NULL, 'CV2', 1, 'APPROVED', 'AMMMMMMMM', '{}', 'ORIGINAL', NULL, NULL, 4, 1),
        (4, 'lc-2r', 'claim', 'V2', NULL, 'CV2R', 1, 'APPROVED', 'MMMMMMMMM', '{}', 'REPLACEMENT', 'CV2', 'lc-2a', 4, 0),
        (5, 'lc-3v', 'claim', 'V3', NULL, 'CV3', 1, 'DENIED', 'NAAAAAAAA', '{ORIGINAL_NOT_FOUND}', 'VOID', 'CV3', NULL, 4, 0),
        (6, 'lc-4a', 'claim', 'V4', NULL, 'CV4', 1, 'APPROVED', 'MMMMMMMM', '{}', NULL, NULL, NULL, 5, 1),
        (7, 'lc-4v', 'claim', 'V4', NULL, 'CV4-V', 2, 'APPROVED', 'MAAAAAAAA', '{}', 'VOID', 'CV4', 'lc-x', 5, 0),
        (8, 'lc-8v', 'claim', 'V8', NULL, 'CV8', 1, 'APPROVED', 'MAAAAAAAA', '{}', 'VOID', 'CV4', 'lc-y', 5, 0),
        (9, 'lc-5a', 'claim', 'V5', NULL, 'CV5', 1, 'APPROVED', 'AMMMMMMMM', '{}', 'ORIGINAL', NULL, NULL, 6, 1),
        (10, 'lc-5v', 'claim', 'V5', NULL, 'CV5V', 1, 'APPROVED', 'MAAAAAAAA', '{}', 'VOID', E'\tCV5\r\n', 'lc-5a', 6, 1),
        (11, 'lc-5b', 'claim', 'V5', NULL, 'CV5', 1, 'APPROVED', 'AMMMMMMMM', '{}', 'ORIGINAL', NULL, NULL, 6, 0),
        (12, 'lc-6a', 'claim', 'V6', NULL, 'CV6', 1, 'APPROVED', 'AMMMMMMMM', '{}', 'ORIGINAL', NULL, NULL, 6, 1),
        (13, 'lc-6r', 'claim', 'V6', NULL, 'CV6', 1, 'DENIED', 'MMMMMMMNM', '{AUTH_EXPIRED}', 'REPLACEMENT', 'CV6', 'lc-6a', 6, 0),
        (14, 'lc-7r', 'claim', 'V7', NULL, 'CV7', 1, 'DENIED', 'NAAAAAAAA', '{ORIGINAL_NOT_FOUND}', 'REPLACEMENT', 'CV7', NULL, 6, 0),
        (15, 'lc-9a', 'claim', 'V9', NULL, 'CV9', 1, 'APPROVED', 'MMMMMMMM', '{}', NULL, NULL, NULL, 7, 1),
        (16, 'lc-9v', 'claim', 'V9', NULL, 'CV9-V', 1, 'APPROVED', 'MAAAAAAAA', '{}', 'VOID', 'CV9', 'lc-9a', 7, 0),
        (17, 'lc-14', 'prior_auth', 'E14', 'PX14', NULL, NULL, 'APPROVED', 'MMMMMMMMMM', '{}', NULL, NULL, NULL, 170, 1),
        (18, 'lc-14c', 'claim', 'E14', 'PX14', 'CE14', 1, 'APPROVED', 'AMMMMMMMM', '{}', 'ORIGINAL', NULL, NULL, 8, 1),
        (19, 'lc-14v', 'claim', 'E14', NULL, 'CE14-V', 1, 'APPROVED', 'MAAAAAAAA', '{}', 'VOID', 'CE14', 'lc-14c', 8, 0)
     ) AS e (n, event_id, kind, member_id, pa, claim_id, line, outcome, criteria, reasons, freq, orig, rev,
             ago, rcvd_ago)
ORDER BY e.n;

VACUUM ANALYZE determinations;
VACUUM ANALYZE dead_letters;
VACUUM ANALYZE worker_batches;
VACUUM ANALYZE consumer_offsets;
