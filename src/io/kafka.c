#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    log_level_t l = level <= 3   ? LOG_ERROR
                    : level <= 4 ? LOG_WARN
                    : level <= 6 ? LOG_INFO
                                 : LOG_DEBUG;
    log_at(l, "librdkafka", "\"facility\":\"%s\",\"detail\":\"%s\"", fac, buf);
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
    char inner[256];
    if (rd_kafka_conf_set(conf, k, v, inner, sizeof inner) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "kafka option %s: %s", k, inner);
        return -1;
    }
    return 0;
}

rd_kafka_conf_t *kafka_conf_new(const config_t *cfg, kafka_role_t role, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    int rc = set(conf, "bootstrap.servers", cfg->brokers, err, errlen);
    rc |= set(conf, "client.id", cfg->worker_id, err, errlen);
    if (role == KAFKA_CONSUMER) {
        rc |= set(conf, "group.id", cfg->group_id, err, errlen);
        /* Offsets live in PostgreSQL, written with the determinations; Kafka's committed
         * offsets are only a mirror for lag dashboards, committed after the database. */
        rc |= set(conf, "enable.auto.commit", "false", err, errlen);
        rc |= set(conf, "enable.auto.offset.store", "false", err, errlen);
        rc |= set(conf, "auto.offset.reset", "earliest", err, errlen);
        rc |= set(conf, "enable.partition.eof", "true", err, errlen);
        /* Eager protocol: on a rebalance every partition is revoked before any is assigned,
         * so the batch in hand is dropped whole and positions are re-read from the database. */
        rc |= set(conf, "partition.assignment.strategy", "range,roundrobin", err, errlen);
        rc |= set(conf, "isolation.level", "read_committed", err, errlen);
        /* librdkafka prefetches up to 64 MiB per consumer by default; a few batches ahead is
         * enough to keep the worker busy and keeps its memory flat. Fetch responses are held
         * whole while any message of theirs is in a batch: 4 MiB ones (about two 5,000-event
         * batches) cost ~15 MB less peak memory than 8 MiB ones at the same throughput. */
        rc |= set(conf, "queued.max.messages.kbytes", "4096", err, errlen);
        rc |= set(conf, "fetch.max.bytes", "4194304", err, errlen);
    } else {
        /* librdkafka 2.0.2 defaults enable.idempotence to false. */
        rc |= set(conf, "enable.idempotence", "true", err, errlen);
        rc |= set(conf, "acks", "all", err, errlen);
        rc |= set(conf, "linger.ms", "5", err, errlen);
        rc |= set(conf, "compression.type", "lz4", err, errlen);
        rc |= set(conf, "queue.buffering.max.kbytes", "32768", err, errlen);
    }
    for (size_t i = 0; i < cfg->n_passthrough && rc == 0; i++)
        rc |= set(conf, cfg->passthrough_keys[i], cfg->passthrough_values[i], err, errlen);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

rd_kafka_topic_partition_list_t *kafka_topic_list(const char *topics)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    char *copy = strdup(topics), *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        rd_kafka_topic_partition_list_add(l, t, RD_KAFKA_PARTITION_UA);
    free(copy);
    return l;
}
