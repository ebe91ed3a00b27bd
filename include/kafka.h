/**
 * @file kafka.h
 * @brief librdkafka configuration shared by the worker, produce and dump.
 */
#ifndef AMTAGVI_KAFKA_H
#define AMTAGVI_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "config.h"

typedef enum { KAFKA_CONSUMER, KAFKA_PRODUCER } kafka_role_t;

/**
 * @brief A librdkafka configuration for a role: brokers, logging through log.h, the role's
 * safety settings (consumer: no auto commit or offset store, eager assignment; producer:
 * idempotence, acks=all), then every kafka.* passthrough option (security.protocol, sasl.*,
 * ssl.*), which may override them.
 * @returns the configuration, or NULL with a message in err.
 */
rd_kafka_conf_t *kafka_conf_new(const config_t *cfg, kafka_role_t role, char *err, size_t errlen);

/** @brief Splits cfg->topics into a new list (caller destroys it). */
rd_kafka_topic_partition_list_t *kafka_topic_list(const char *topics);

#endif
