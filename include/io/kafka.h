/**
 * @file kafka.h
 * @brief The Kafka adapter: every librdkafka call of the project is behind this header.
 *
 * Two handles, one per role:
 * - kafka_consumer_t: joins the group, hands out one message at a time from
 *   rd_kafka_consumer_poll (librdkafka 2.0.2 loses messages around rebalances through
 *   rd_kafka_consume_batch_queue, so batches are built by the caller from single polls), lets
 *   the caller choose where each assigned partition resumes (the database's position), seeks,
 *   and mirrors committed positions to Kafka for lag tooling.
 * - kafka_producer_t: queues messages (waiting while librdkafka's queue is full), counts failed
 *   deliveries, flushes.
 *
 * Configuration comes from config_t: brokers, client and group ids, the role's safety settings
 * (consumer: no auto commit or offset store, eager assignment, read_committed; producer:
 * idempotence, acks=all), then every kafka.* passthrough option, which may override them.
 * librdkafka's log lines go to log.h as JSON.
 */
#ifndef AMTAGVI_KAFKA_H
#define AMTAGVI_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/** @brief A consumed message; its pointers are valid until kafka_message_release. */
typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const void *key; /**< NULL when the message has no key */
    size_t key_len;
    const void *value; /**< NULL for a tombstone */
    size_t value_len;
    int64_t timestamp_ms; /**< the producer's (CreateTime) or the broker's; -1 if none */
    void *impl;           /**< the adapter's; do not touch */
} kafka_message_t;

/** @brief Frees the message's buffers (a no-op on a released or zeroed message). */
void kafka_message_release(kafka_message_t *m);

/**
 * @brief The message's i-th header, in the order they were produced.
 * @returns 0 and the header, or -1 past the last one.
 */
int kafka_message_header(const kafka_message_t *m, size_t i, const char **name, const void **value,
                         size_t *size);

/** @brief A partition and an offset: where an assigned partition resumes, or a position. */
typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
} kafka_position_t;

/* ------------------------------------------------------------------ consumer */

typedef struct kafka_consumer kafka_consumer_t;

/**
 * @brief What the group's rebalances ask of the caller. Both are called from inside
 * kafka_consumer_poll, on the polling thread.
 */
typedef struct {
    /** Partitions were assigned: set each one's offset (where consuming resumes). */
    void (*on_assign)(void *ctx, kafka_position_t *parts, int n);
    /** Every partition is being revoked (eager protocol): let go of them. */
    void (*on_revoke)(void *ctx, int n);
    void *ctx;
} kafka_rebalance_t;

/**
 * @brief A consumer for cfg's brokers.
 * @param group_id the consumer group; NULL for cfg->group_id.
 * @param rebalance what to do on assignment and revocation; NULL for a consumer that assigns
 * partitions itself (kafka_consumer_assign_all).
 * @returns the consumer, or NULL with err (bad kafka.* option, out of memory).
 */
kafka_consumer_t *kafka_consumer_new(const config_t *cfg, const char *group_id,
                                     const kafka_rebalance_t *rebalance, char *err, size_t errlen);

/** @brief Subscribes to a comma-separated topic list. @returns 0, or -1 with err. */
int kafka_consumer_subscribe(kafka_consumer_t *c, const char *topics, char *err, size_t errlen);

/**
 * @brief Assigns every partition of topic from its beginning, outside any group.
 * @returns the partition count, or -1 with err (no metadata within 10 s).
 */
int kafka_consumer_assign_all(kafka_consumer_t *c, const char *topic, char *err, size_t errlen);

typedef enum {
    KAFKA_POLL_NONE,    /**< nothing within the timeout */
    KAFKA_POLL_MESSAGE, /**< m is a message; release it */
    KAFKA_POLL_EOF,     /**< m->topic / m->partition reached its end; release m */
    KAFKA_POLL_ERROR,   /**< a consumer error librdkafka recovers from; logged */
    KAFKA_POLL_FATAL    /**< the consumer cannot go on; logged */
} kafka_poll_t;

/** @brief Waits up to timeout_ms for the next message or event (rebalances run in here). */
kafka_poll_t kafka_consumer_poll(kafka_consumer_t *c, int timeout_ms, kafka_message_t *m);

/** @brief Moves an assigned partition's fetch position. @returns 0, or -1 (logged). */
int kafka_consumer_seek(kafka_consumer_t *c, const char *topic, int32_t partition, int64_t offset);

/** @brief The partition's high watermark as last fetched (no request); -1 if unknown. */
int64_t kafka_consumer_high_watermark(kafka_consumer_t *c, const char *topic, int32_t partition);

/**
 * @brief Commits positions to the group asynchronously. The worker's positions live in
 * PostgreSQL; this mirror is only for lag tooling.
 */
void kafka_consumer_mirror_positions(kafka_consumer_t *c, const kafka_position_t *pos, size_t n);

/** @brief Leaves the group (the revocation callback runs). Safe to call twice. */
void kafka_consumer_close(kafka_consumer_t *c);

/** @brief Closes if needed and frees. NULL is a no-op. */
void kafka_consumer_free(kafka_consumer_t *c);

/* ------------------------------------------------------------------ producer */

typedef struct kafka_producer kafka_producer_t;

/** @brief One message header; size -1 means value is a NUL-terminated string. */
typedef struct {
    const char *name;
    const void *value;
    long size;
} kafka_header_t;

/**
 * @brief A producer for cfg's brokers.
 * @param on_delivery_failure called (from kafka_producer_poll / _flush / kafka_produce) for
 * each message the broker did not take, after it is logged and counted; may be NULL.
 * @returns the producer, or NULL with err.
 */
kafka_producer_t *kafka_producer_new(const config_t *cfg, void (*on_delivery_failure)(void *ctx),
                                     void *ctx, char *err, size_t errlen);

/**
 * @brief Queues one message (copied). While librdkafka's queue is full it serves delivery
 * reports and waits.
 * @param key NULL for no key; value NULL for a tombstone.
 * @returns 0 when queued, or -1 with err (unknown topic, message over message.max.bytes, ...).
 */
int kafka_produce(kafka_producer_t *p, const char *topic, const void *key, size_t key_len,
                  const void *value, size_t value_len, const kafka_header_t *headers,
                  size_t n_headers, char *err, size_t errlen);

/** @brief Serves delivery reports for up to timeout_ms (0: without waiting). */
void kafka_producer_poll(kafka_producer_t *p, int timeout_ms);

/** @brief Messages queued or in flight, not yet acknowledged or failed. */
size_t kafka_producer_queued(kafka_producer_t *p);

/** @brief Failed deliveries since the producer was made. */
long kafka_producer_failures(const kafka_producer_t *p);

/**
 * @brief Waits until every queued message is acknowledged or failed.
 * @returns 0 if none of them failed, else -1.
 */
int kafka_producer_flush(kafka_producer_t *p);

/** @brief Flushes what is queued, then frees. NULL is a no-op. */
void kafka_producer_free(kafka_producer_t *p);

#endif
