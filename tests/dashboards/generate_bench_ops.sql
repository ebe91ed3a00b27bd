-- Benchmark data for the pipeline views (ops/bench-dashboards):
--   * 50,000 dead letters over 730 days (5 reasons, skewed; 10 % replayed);
--   * worker_batches: 3 workers, one batch every 2 s each for the last 7 days (907,200 rows);
--   * consumer_offsets: one group, 12 partitions.
INSERT INTO dead_letters (source_topic, source_partition, source_offset, reason, error, message_key,
    payload, received_at, replayed_at)
SELECT 'amtagvi.events.v1', (i % 12)::int, i,
       (ARRAY['malformed', 'invalid', 'bad_magic', 'unknown_schema', 'key_mismatch'])
           [1 + floor(5 * power((hashint8extended(i, 1) & 1048575) / 1048576::float8, 2))::int],
       'synthetic error ' || i, convert_to('M' || i, 'UTF8'), decode(repeat(md5(i::text), 19), 'hex'),
       now() - ((hashint8extended(i, 2) & 1048575) / 1048576::float8) * interval '730 days',
       CASE WHEN i % 10 = 0 THEN now() END
FROM generate_series(1, 50000) AS i;

INSERT INTO worker_batches (worker_id, committed_at, messages, judged, replayed, dead_letters, duration_ms)
SELECT 'worker-' || w, t + w * interval '300 milliseconds', m, m - (m % 7 = 0)::int, (m % 11 = 0)::int,
       (m % 13 = 0)::int, 20 + (m * 7) % 380
FROM generate_series(1, 3) AS w,
     generate_series(date_trunc('second', now()) - interval '7 days', now(), interval '2 seconds') AS t,
     LATERAL (SELECT 50 + (hashint8extended(extract(epoch FROM t)::bigint * 10 + w, 3) & 2047)::int AS m) x;

INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, published_offset,
    high_watermark, updated_at, updated_by)
SELECT 'amtagvi-adjudicator', 'amtagvi.events.v1', p, 1000000 + p, 1000000 + p - 10,
       1000000 + p + p * 50, now(), 'worker-' || (1 + p % 3)
FROM generate_series(0, 11) AS p;
