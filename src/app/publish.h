/**
 * @file publish.h
 * @brief Records the worker and `dead-letters replay` publish, with the size rule: a record too
 * large for its topic goes out shortened (no value; then no key or original headers either)
 * with headers saying what was left out. The full record is always in PostgreSQL.
 */
#ifndef AMTAGVI_PUBLISH_H
#define AMTAGVI_PUBLISH_H

#include <stdbool.h>

#include "kafka.h"
#include "store.h"

/** The loop guard's header: how many times a record was replayed from the dead-letter table. */
#define PUBLISH_REPLAY_COUNT_HEADER "amtagvi.replay.count"

/**
 * @brief Produces r whose first n_original headers are the original record's; if it is too
 * large, produces shortened copies instead (see the file comment). *shortened tells whether
 * that happened.
 * @returns KAFKA_QUEUED; KAFKA_TOO_LARGE when not even the shortest copy fits (logged; the
 * caller moves on); KAFKA_FAILED or KAFKA_STOPPED as kafka_produce (retry later / stopping).
 */
kafka_produce_t publish_record(kafka_producer_t *p, const kafka_record_t *r, size_t n_original,
                               bool *shortened);

/**
 * @brief Publishes a dead letter to topic: the original key, value, headers and timestamp,
 * with Kafka Connect's context headers (__connect.errors.topic, .partition, .offset, .stage,
 * .exception.class.name = the reason, .exception.message, .connector.name = the consumer
 * group, .task.id = the worker) and amtagvi.replay.count.
 */
kafka_produce_t publish_dead_letter(kafka_producer_t *p, const char *topic,
                                    const store_dead_letter_t *dl, bool *shortened);

/** @brief True for the headers publish_dead_letter adds (a replay strips them again). */
bool publish_is_context_header(const char *name);

/** @brief The amtagvi.replay.count a record carries (0 when absent or not a small number). */
int publish_replay_count(const record_header_t *headers, size_t n);

#endif
