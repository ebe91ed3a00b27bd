/**
 * @file metrics.h
 * @brief The worker's Prometheus metrics, liveness and readiness, rendered in the text
 * exposition format 0.0.4.
 *
 * The worker owns one registry (no globals) and updates it from its loop; the HTTP thread
 * (http_server.h) renders it concurrently. Counters, histogram buckets and the scalar gauges
 * are C11 atomics, so an update on the hot path is a relaxed atomic add: no lock, no
 * allocation. Only the per-partition lag gauges, which change with rebalances, sit behind a
 * mutex; a lag update allocates only the first time it sees a partition.
 *
 * Every label set is fixed except the lag gauge's, so every series of a counter is exported
 * from the start at 0: a dashboard's rate() then sees the first event instead of a series that
 * appears out of nowhere.
 */
#ifndef AMTAGVI_METRICS_H
#define AMTAGVI_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "determination.h"
#include "event.h"

typedef struct metrics metrics_t;

typedef enum { METRICS_REBALANCE_ASSIGN = 0, METRICS_REBALANCE_REVOKE = 1 } metrics_rebalance_t;

/** /healthz fails when the loop has not ticked for this long, unless set otherwise. */
#define METRICS_DEFAULT_STALL_LIMIT_MS 60000

/**
 * @brief A registry with every counter at 0, ready false, and the liveness clock started now
 * (so a worker gets one stall limit of grace to reach its loop).
 * @returns the registry, or NULL when memory ran out.
 */
metrics_t *metrics_new(void);
/** @brief Frees the registry; the HTTP server rendering it must be stopped first. */
void metrics_free(metrics_t *m);

/**
 * @brief Sets the labels of amtagvi_build_info (copied; NULL keeps the current value). The
 * version defaults to AMTAGVI_VERSION, the policy file to "".
 * @returns 0 or -1 when memory ran out.
 */
int metrics_set_build_info(metrics_t *m, const char *version, const char *policy_file);

/** @brief How long the loop may go without metrics_tick() before /healthz fails (> 0). */
void metrics_set_stall_limit_ms(metrics_t *m, int64_t ms);

/* ---- counters and histograms: lock-free, callable from the hot path ---- */

/** @brief A newly judged event: amtagvi_events_total{kind,outcome}. */
void metrics_count_event(metrics_t *m, event_kind_t kind, outcome_t outcome);
/** @brief A redelivered event answered from its stored determination. */
void metrics_count_replay(metrics_t *m, event_kind_t kind);
/**
 * @brief A dead letter, by the reason it is stored and published with (decode_status_name():
 * empty, bad_magic, unknown_schema, malformed, trailing_bytes, incompatible_schema, invalid; or
 * rejected: a row
 * PostgreSQL refused; unencodable: an outcome the encoder refused).
 * @returns 0, or -1 for a reason outside that set (not counted).
 */
int metrics_count_dead_letter(metrics_t *m, const char *reason);
void metrics_count_database_error(metrics_t *m);
void metrics_count_kafka_error(metrics_t *m);
/** @brief A record published shortened (or not at all) because it was too large. */
void metrics_count_publish_truncated(metrics_t *m);
/** @brief A batch the database refused because another worker moved the offsets. */
void metrics_count_fenced_batch(metrics_t *m);
void metrics_count_rebalance(metrics_t *m, metrics_rebalance_t type);
/**
 * @brief A committed batch: amtagvi_batches_total, amtagvi_batch_size (messages) and
 * amtagvi_batch_latency_seconds (first message polled to commit).
 */
void metrics_observe_batch(metrics_t *m, size_t messages, double latency_seconds);
/**
 * @brief One committed message: amtagvi_event_latency_seconds (Kafka message timestamp to
 * commit). A negative latency (producer clock ahead of ours) counts as 0; NaN is ignored.
 */
void metrics_observe_event_latency(metrics_t *m, double seconds);

/* ---- gauges ---- */

/**
 * @brief Sets amtagvi_consumer_lag{topic,partition}.
 * @returns 0, or -1 when memory ran out for a partition not seen before (not recorded).
 */
int metrics_set_lag(metrics_t *m, const char *topic, int32_t partition, int64_t lag);
/** @brief Forgets one partition's lag (it was revoked). */
void metrics_remove_lag(metrics_t *m, const char *topic, int32_t partition);
/** @brief Forgets every partition's lag (all were revoked: the eager protocol). */
void metrics_clear_lag(metrics_t *m);
void metrics_set_assigned_partitions(metrics_t *m, int64_t n);
/** @brief Ready = partitions assigned and the database reachable; the worker decides. */
void metrics_set_ready(metrics_t *m, bool ready);

/* ---- liveness ---- */

/** @brief Records that the loop is alive (one relaxed atomic store and a clock read). */
void metrics_tick(metrics_t *m);
/** @brief True when the last tick is no older than the stall limit. */
bool metrics_is_live(const metrics_t *m);
bool metrics_is_ready(const metrics_t *m);

/**
 * @brief Appends every metric to out in the Prometheus text format 0.0.4. Safe to call from
 * another thread while the worker updates the registry.
 * @returns 0 or -1 when memory ran out.
 */
int metrics_render(const metrics_t *m, buf_t *out);

#endif
