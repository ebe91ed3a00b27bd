-- 005: dead letters an operator can act on (Kafka Connect's shape), and a replay loop guard.
--
-- A dead letter keeps the original record whole: key, value, headers and timestamp, so a
-- replay sends exactly what arrived. The context (stage, error class and message, consumer
-- group, worker) is recorded beside it and sent as __connect.errors.* headers.

-- Where it failed: decode (framing, schema, Avro), validate (contract rules, key), store (a row
-- PostgreSQL refused). Rows from before 005 were all decode/validate; 'decode' is the default.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS stage text NOT NULL DEFAULT 'decode'
    CHECK (stage IN ('decode', 'validate', 'store', 'publish'));
-- The original record's headers as [[name hex, value hex or null], ...], in their order (hex: names
-- and values are bytes, not always the UTF-8 jsonb requires).
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS headers jsonb;
-- The original record's timestamp (its CreateTime or LogAppendTime).
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS source_timestamp timestamptz;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS consumer_group text;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS worker_id text;
-- How many times this record had been replayed from the dead-letter table when it failed
-- (the amtagvi.replay.count header it carried), and how often it has been replayed since.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS replay_count integer NOT NULL DEFAULT 0;

-- The replay command picks by reason and time.
CREATE INDEX IF NOT EXISTS dead_letters_reason ON dead_letters (reason, received_at);
