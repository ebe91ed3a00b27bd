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

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "record.h"

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
 * @brief The message's headers in the order they were produced, up to max of them into out
 * (pointers valid as long as m).
 * @returns how many the message has, which may be more than max.
 */
size_t kafka_message_headers(const kafka_message_t *m, record_header_t *out, size_t max);

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

/**
 * @brief Leaves the group (the revocation callback runs, on another thread while the caller
 * waits). Waits at most timeout_ms: with the group coordinator unreachable librdkafka would
 * wait up to session.timeout.ms. Safe to call twice.
 * @returns 0 when closed, -1 when it gave up waiting (logged; the handle is then left alone).
 */
int kafka_consumer_close(kafka_consumer_t *c, int timeout_ms);

/** @brief Closes if needed (waiting up to 10 s) and frees. NULL is a no-op. */
void kafka_consumer_free(kafka_consumer_t *c);

/* ------------------------------------------------------------------ producer */

typedef struct kafka_producer kafka_producer_t;

/** @brief One record to produce. */
typedef struct {
    const char *topic;
    const void *key; /**< NULL: no key */
    size_t key_len;
    const void *value; /**< NULL: a tombstone */
    size_t value_len;
    const record_header_t *headers;
    size_t n_headers;
    int64_t timestamp_ms; /**< 0: now */
} kafka_record_t;

/**
 * @brief A producer for cfg's brokers.
 * @param on_delivery_failure called (from kafka_producer_poll / _flush / kafka_produce) for
 * each message the broker did not take, after it is logged and counted; may be NULL.
 * @param stop when not NULL and set (a signal handler's flag), every wait in here ends once the
 * broker has acknowledged nothing for 10 s: a reachable broker, however slow, is waited for.
 * @returns the producer, or NULL with err.
 */
kafka_producer_t *kafka_producer_new(const config_t *cfg, void (*on_delivery_failure)(void *ctx),
                                     void *ctx, const volatile sig_atomic_t *stop, char *err,
                                     size_t errlen);

typedef enum {
    KAFKA_QUEUED = 0, /**< copied into librdkafka's queue; its delivery is reported later */
    KAFKA_TOO_LARGE,  /**< over the producer's or the broker's size limit: never retry as is */
    KAFKA_FAILED,     /**< could not be queued now (unknown topic, ...): retry later */
    KAFKA_STOPPED     /**< the stop flag was set while waiting for room in the queue */
} kafka_produce_t;

/**
 * @brief Queues one record (copied). While librdkafka's queue is full it serves delivery
 * reports and waits, until the stop flag is set.
 * A record larger than kafka_producer_max_bytes() is refused as KAFKA_TOO_LARGE without being
 * tried.
 * @returns KAFKA_QUEUED, or another kafka_produce_t with err.
 */
kafka_produce_t kafka_produce(kafka_producer_t *p, const kafka_record_t *r, char *err,
                              size_t errlen);

/**
 * @brief The largest record kafka_produce will try on topic: the producer's message.max.bytes,
 * lowered
 * to below a record the broker refused as too large (a topic's max.message.bytes can be
 * smaller) when that record was larger than every record delivered so far. librdkafka sends
 * records in batches of up to batch.size bytes, and a broker refuses a batch over the topic's
 * limit whole: keep kafka.batch.size at or below the smallest max.message.bytes of the topics
 * written (the defaults, 1,000,000 and 1,048,588, are).
 */
size_t kafka_producer_max_bytes(kafka_producer_t *p, const char *topic);

/** @brief What kafka_produce counts for r against the limit: key, value, headers, framing. */
size_t kafka_record_size(const kafka_record_t *r);

/** @brief Serves delivery reports for up to timeout_ms (0: without waiting). */
void kafka_producer_poll(kafka_producer_t *p, int timeout_ms);

/** @brief Messages queued or in flight, not yet acknowledged or failed. */
size_t kafka_producer_queued(kafka_producer_t *p);

/** @brief Failed deliveries since the producer was made. */
long kafka_producer_failures(const kafka_producer_t *p);

/**
 * @brief Waits until every queued message is acknowledged or failed, or the stop flag is set.
 * @returns 0 if all were delivered, else -1 (a delivery failed, or it stopped first).
 */
int kafka_producer_flush(kafka_producer_t *p);

/**
 * @brief Flushes what is queued, then frees; once the stop flag is set, what is still
 * undelivered is dropped instead (the worker's positions say what to publish again). NULL is a
 * no-op.
 */
void kafka_producer_free(kafka_producer_t *p);

#endif
