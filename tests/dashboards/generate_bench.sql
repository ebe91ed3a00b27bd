-- Benchmark data for the dashboards (ops/bench-dashboards): determinations i in [:lo, :hi] of
-- :total, made of pairs b = i / 2 (a PA request, then a claim line of the same member and PA).
-- Deterministic (hashes of b), in stream order so the heap is in time order as in production:
--   * decision dates over the last 730 days, volume doubling over the two years;
--   * 5 M member ids, skewed (a few members with many events), spelt like ops/gen_events.py's
--     with a suffix: they interleave with a generated stream's members in the member index
--     without naming any of them;
--   * event ids are UUIDs (random keys, as producers send them);
--   * PA: 62 % APPROVED, 23 % DENIED, 15 % PENDED; claim after an approved PA: 85 / 10 / 5 %,
--     otherwise 3 / 87 / 10 %; reasons skewed towards the first codes of each list;
--   * 97 % of decisions within 5 s of receipt, 2 % within 48 h, 1 % 48 to 240 h;
--   * urgency 15 % EXPEDITED, null before day -600 (rows older than the column);
--   * payload 416 bytes for a PA, 256 for a claim (the Confluent-framed Avro message);
--   * claim lines (contract §10): 3.2 % VOID and 1.9 % REPLACEMENT, each naming the claim of an
--     earlier pair (1 in 9 of them naming nothing: ORIGINAL_NOT_FOUND, nothing reversed); the
--     rest ORIGINAL. PA rows have no frequency code.
-- :days (default 730) is the span of decision dates, ending today.
\if :{?days}
\else
\set days 730
\endif
INSERT INTO determinations (event_id, determination_id, kind, member_id, pa_id, claim_id, line_number,
    policy_version, decision_date, outcome, criteria, reason_codes, valid_from, valid_until,
    auth_max_doses, auth_dose_min, auth_dose_max, matched_pa_id, fingerprint, payload, received_at,
    source_topic, source_partition, source_offset, decided_at, urgency, frequency_code,
    original_claim_id, reversed_event_id)
SELECT h::uuid::text, h::uuid, CASE WHEN k = 0 THEN 'prior_auth' ELSE 'claim' END, member_id,
       CASE WHEN k = 0 THEN pa_id END, CASE WHEN k = 1 THEN 'CL' || b END, CASE WHEN k = 1 THEN 1 END,
       date '2026-05-01', day, outcome,
       CASE WHEN k = 0 THEN 'MMMMMMMMMM' ELSE 'MMMMMMMM' END, reasons,
       CASE WHEN k = 0 AND outcome = 'APPROVED' THEN day END,
       CASE WHEN k = 0 AND outcome = 'APPROVED' THEN (day + interval '6 months')::date END,
       CASE WHEN k = 0 AND outcome = 'APPROVED' THEN 1 END,
       CASE WHEN k = 0 AND outcome = 'APPROVED' THEN 7500000000 END,
       CASE WHEN k = 0 AND outcome = 'APPROVED' THEN 72000000000 END,
       CASE WHEN k = 1 AND outcome = 'APPROVED' AND pa_approved THEN pa_id END,
       hashint8extended(i, 99), decode(repeat(h, CASE WHEN k = 0 THEN 26 ELSE 16 END), 'hex'),
       received_at, 'amtagvi.events.v1', (m % 12)::int, i,
       received_at + CASE WHEN u_lat < 0.97 THEN u_lat2 * interval '5 seconds'
                          WHEN u_lat < 0.99 THEN u_lat2 * interval '48 hours'
                          ELSE interval '48 hours' + u_lat2 * interval '192 hours' END,
       CASE WHEN k = 1 OR day < current_date - 600 THEN NULL
            WHEN u_urg < 0.15 THEN 'EXPEDITED' ELSE 'STANDARD' END,
       CASE WHEN k = 1 THEN freq END,
       CASE WHEN freq <> 'ORIGINAL' THEN 'CL' || greatest(b - 1 - floor(1000 * u_ref)::bigint, 0) END,
       CASE WHEN freq <> 'ORIGINAL' AND u_ref >= 1 / 9.0 THEN
                 md5((2 * greatest(b - 1 - floor(1000 * u_ref)::bigint, 0) + 1)::text)::uuid::text END
FROM (
    SELECT i, b, k, m, h, pa_id, member_id, day, pa_approved, u_lat, u_lat2, u_urg, u_ref,
           CASE WHEN u_freq < 0.032 THEN 'VOID' WHEN u_freq < 0.051 THEN 'REPLACEMENT'
                ELSE 'ORIGINAL' END AS freq,
           (day::timestamp + u_tod * interval '1 day') AT TIME ZONE 'UTC' AS received_at,
           outcome,
           CASE WHEN outcome = 'APPROVED' THEN '{}'::text[]
                WHEN k = 0 AND outcome = 'DENIED' THEN
                     ARRAY[(ARRAY['DX_NOT_COVERED', 'NO_PRIOR_PD1_PDL1', 'DISEASE_RESECTABLE',
                                  'LYMPHODEPLETION_NOT_PLANNED', 'PRESCRIBER_NOT_ONCOLOGIST',
                                  'NO_PRIOR_BRAF_INHIBITOR', 'AGE_UNDER_18', 'PRIOR_AMTAGVI',
                                  'DOSE_OUT_OF_RANGE'])[1 + floor(9 * u_r * u_r)::int]]
                     || CASE WHEN u_r2 < 0.25 THEN ARRAY['BRAF_STATUS_UNKNOWN'] ELSE '{}'::text[] END
                WHEN k = 0 THEN
                     ARRAY[(ARRAY['DISEASE_STATUS_UNKNOWN', 'BRAF_STATUS_UNKNOWN', 'LYMPHODEPLETION_UNKNOWN',
                                  'PRESCRIBER_TAXONOMY_MISSING', 'PRESCRIBER_NPI_INVALID', 'DX_MISSING',
                                  'BIRTH_DATE_INVALID'])[1 + floor(7 * u_r * u_r)::int]]
                WHEN outcome = 'DENIED' THEN
                     ARRAY[(ARRAY['AUTH_MISSING', 'DOSE_NOT_REPORTED', 'PRIOR_DOSE_PAID', 'AUTH_EXPIRED',
                                  'HCPCS_NOT_COVERED', 'DX_NOT_COVERED', 'UNITS_EXCEED_SINGLE_DOSE',
                                  'AUTH_DENIED', 'AUTH_NOT_FOUND', 'DUPLICATE_CLAIM_LINE',
                                  'DOSE_OUT_OF_RANGE', 'UNITS_INVALID', 'DX_MISSING',
                                  'AUTH_NOT_VALID_ON_SERVICE_DATE'])[1 + floor(14 * u_r * u_r)::int]]
                ELSE ARRAY[CASE WHEN u_r < 0.9 THEN 'AUTH_PENDING' ELSE 'NO_POLICY_IN_EFFECT' END]
           END AS reasons
    FROM (
        SELECT i, b, k, m, h, 'PA' || b AS pa_id, 'MEM-' || lpad(m::text, 7, '0') || 'H' AS member_id,
               u_pa < 0.62 AS pa_approved,
               CASE WHEN k = 0 THEN pa_day ELSE least(pa_day + floor(45 * u_gap)::int, current_date) END AS day,
               CASE WHEN k = 0 THEN CASE WHEN u_pa < 0.62 THEN 'APPROVED' WHEN u_pa < 0.85 THEN 'DENIED' ELSE 'PENDED' END
                    WHEN u_pa < 0.62 THEN CASE WHEN u_cl < 0.85 THEN 'APPROVED' WHEN u_cl < 0.95 THEN 'DENIED' ELSE 'PENDED' END
                    ELSE CASE WHEN u_cl < 0.03 THEN 'APPROVED' WHEN u_cl < 0.90 THEN 'DENIED' ELSE 'PENDED' END
               END AS outcome,
               u_r, u_r2, u_tod, u_lat, u_lat2, u_urg, u_freq, u_ref
        FROM (
            SELECT i, i / 2 AS b, (i % 2)::int AS k, md5(i::text) AS h,
                   -- member: 5 M ids, skewed towards low ids
                   floor(5000000 * power((hashint8extended(i / 2, 1) & 1048575) / 1048576::float8, 1.6))::bigint AS m,
                   -- day: t = b / pairs in [0, 1); density grows linearly from 2/3 to 4/3
                   current_date - (:days - 1)
                       + least(floor(:days * (sqrt(1 + 3 * ((i / 2)::float8 / (:total / 2))) - 1))::int, :days - 1) AS pa_day,
                   (hashint8extended(i / 2, 2) & 1048575) / 1048576::float8 AS u_pa,
                   (hashint8extended(i / 2, 3) & 1048575) / 1048576::float8 AS u_cl,
                   (hashint8extended(i / 2, 4) & 1048575) / 1048576::float8 AS u_gap,
                   (hashint8extended(i, 5) & 1048575) / 1048576::float8 AS u_r,
                   (hashint8extended(i, 6) & 1048575) / 1048576::float8 AS u_r2,
                   (hashint8extended(i, 7) & 1048575) / 1048576::float8 AS u_tod,
                   (hashint8extended(i, 8) & 1048575) / 1048576::float8 AS u_lat,
                   (hashint8extended(i, 9) & 1048575) / 1048576::float8 AS u_lat2,
                   (hashint8extended(i / 2, 10) & 1048575) / 1048576::float8 AS u_urg,
                   (hashint8extended(i / 2, 11) & 1048575) / 1048576::float8 AS u_freq,
                   (hashint8extended(i / 2, 12) & 1048575) / 1048576::float8 AS u_ref
            FROM generate_series(:lo::bigint, :hi::bigint) AS i
        ) g
    ) o
) r;
