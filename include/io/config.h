/**
 * @file config.h
 * @brief The worker's configuration: one table drives defaults, file and environment
 * parsing, validation and --print-config (secrets masked).
 *
 * File format: `key = value` lines, `#` comments. Every key can be overridden by the
 * environment as AMTAGVI_<KEY> (upper-case, dots as underscores), and so can the kafka.*
 * connection-security keys (AMTAGVI_KAFKA_SECURITY_PROTOCOL is kafka.security.protocol; the
 * list is KAFKA_ENV_KEYS in config.c). Keys starting with `kafka.` are passed to librdkafka
 * unchanged (security.protocol, sasl.*, ssl.*, ...).
 */
#ifndef AMTAGVI_CONFIG_H
#define AMTAGVI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_MAX_PASSTHROUGH 64

typedef struct {
    char *brokers;
    char *group_id;
    char *topics; /**< comma-separated */
    char *outcomes_topic;
    char *dead_letter_topic;
    char *database_url;
    char *policy_file;
    char *worker_id;
    int64_t batch_max_messages;
    int64_t batch_max_ms;
    int64_t prior_auth_schema_id;
    int64_t claim_schema_id;    /**< claim schema version 2 */
    int64_t claim_v1_schema_id; /**< claim schema version 1, still read; 0: not accepted */
    int64_t determination_schema_id;
    int64_t retry_max_backoff_ms;
    char *schema_registry_url;        /**< comma-separated base URLs; empty: off (the pinned ids) */
    char *schema_registry_basic_auth; /**< "user:password" (secret); empty: none */
    char *schema_registry_ca_location; /**< PEM CA file; empty: the system's CAs */
    int64_t schema_registry_timeout_ms;
    char *schema_registry_subject_strategy; /**< "record" or "topic_record" */
    int64_t schema_registry_retry_max_ms;   /**< longest wait between retries, registry down */
    int64_t exit_when_idle_ms;              /**< 0: run until signalled */
    char *log_level;
    char *metrics_address;
    char *trace_headers; /**< comma-separated */
    int64_t health_stall_ms;
    int64_t shutdown_timeout_ms;
    int64_t dead_letter_max_replays;
    char *fault_encode_refuse;       /**< tests only; empty: off */
    int64_t fault_exit_after_commit; /**< tests of the commit -> publish window; 0: off */
    size_t n_passthrough;
    char *passthrough_keys[CONFIG_MAX_PASSTHROUGH];
    char *passthrough_values[CONFIG_MAX_PASSTHROUGH];
} config_t;

/** @brief Fills defaults, then the file (if path is not NULL), then the environment. */
int config_load(config_t *c, const char *path, char *err, size_t errlen);

/** @brief Sets one key (as from the file); @returns 0 or -1 with err. */
int config_set(config_t *c, const char *key, const char *value, char *err, size_t errlen);

/** @brief Writes every option as `key = value`, secrets masked, with its source. */
void config_print(const config_t *c, FILE *out);

void config_free(config_t *c);

/** @brief A copy of a libpq URL or conninfo with any password replaced by "****". */
char *config_mask_url(const char *url);

/** @brief A copy of comma-separated http(s) URLs with any user:password@ replaced by ****@. */
char *config_mask_http_urls(const char *urls);

/** @brief A copy of "user:password" as "user:****" ("****" without a user, "" when empty). */
char *config_mask_user_info(const char *user_info);

#endif
