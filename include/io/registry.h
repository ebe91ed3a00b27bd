/**
 * @file registry.h
 * @brief Confluent Schema Registry client (REST, libcurl + jansson): writer schemas by id,
 * cached for the process's life, and registration of our schemas under their subjects.
 *
 * Several base URLs can be given (comma-separated); a request goes to the last URL that
 * answered and, when that one is unavailable (connection error, timeout, 5xx, 408/429, an
 * answer that is not the registry's JSON), to the next, in order. An answer with a 4xx status is
 * authoritative: no other URL is asked.
 *
 * Error texts name the base URL without any user:password part, the HTTP status, the
 * registry's error_code and message; never the basic-auth secret.
 *
 * Thread safety: every call on one registry_t is serialized by a mutex held for the whole call
 * (a cache hit takes it only briefly, a network request holds it until answered, at most the
 * configured timeout per URL). The worker uses it from its one consuming thread; the producer
 * side registers at start-up. registry_new() and registry_free() must not race other calls on
 * the same object. libcurl's global init is done once per process (pthread_once).
 */
#ifndef AMTAGVI_REGISTRY_H
#define AMTAGVI_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

typedef struct registry registry_t;

typedef enum {
    REGISTRY_OK = 0,
    REGISTRY_NOT_FOUND,   /**< 404 / error_code 40403 (schema) or 40401 (subject): permanent */
    REGISTRY_REFUSED,     /**< 4xx other than 404 (incompatible 409, invalid 422, auth 401/403),
                               a schema type other than AVRO: permanent for this request */
    REGISTRY_UNAVAILABLE, /**< connection error, timeout, 5xx, unparsable answer: transient */
    REGISTRY_UNREADABLE,  /**< registry_schema_by_id only: the id holds a schema this client
                               cannot read (not AVRO, schema references, an answer over
                               REGISTRY_MAX_ANSWER_BYTES): permanent, as ids are immutable */
} registry_status_t;

typedef struct {
    const char *urls;        /**< comma-separated base URLs, tried in order (fail-over) */
    const char *basic_auth;  /**< "user:password" or NULL / "" */
    const char *ca_location; /**< PEM CA file or NULL / "" (then the system's CAs) */
    long timeout_ms;         /**< per request and URL, e.g. 5000; connecting: at most 2 s */
} registry_config_t;

/** @brief Most ids kept in the cache, and most bytes of schema text; beyond, the least
 * recently used id is forgotten (and fetched again when it comes back). */
#define REGISTRY_CACHE_MAX_IDS 1024
#define REGISTRY_CACHE_MAX_BYTES ((size_t)16 << 20)
/** @brief An answer longer than this is refused (a schema id's text always fits the cache). */
#define REGISTRY_MAX_ANSWER_BYTES ((size_t)4 << 20)

/** @brief NULL with err when the URLs are empty or not http(s):// URLs. No network use. */
registry_t *registry_new(const registry_config_t *cfg, char *err, size_t errlen);
void registry_free(registry_t *r);

/** @brief GET /schemas/ids/{id}: *schema_json is malloc'ed (caller frees). Cached for the
 * process's life (ids are immutable), bounded (REGISTRY_CACHE_MAX_IDS ids /
 * REGISTRY_CACHE_MAX_BYTES of text, least recently used forgotten); a cached id never touches
 * the network again. Only "AVRO" (or absent schemaType) is accepted; another type is
 * REGISTRY_UNREADABLE, as are references and an oversized answer. REGISTRY_REFUSED here means
 * the registry refused the request itself (401/403: credentials), which an operator fixes. A
 * negative id is REGISTRY_NOT_FOUND without a request. */
registry_status_t registry_schema_by_id(registry_t *r, int32_t id, char **schema_json, char *err,
                                        size_t errlen);

/** @brief POST /subjects/{subject}/versions {"schema": ...}: registers the schema under the
 * subject, or finds it there, and sets *id. 409 (incompatible) and 422 (invalid) are
 * REGISTRY_REFUSED with the registry's message. */
registry_status_t registry_register(registry_t *r, const char *subject, const char *schema_json,
                                    int32_t *id, char *err, size_t errlen);

/** @brief Subject for a record: strategy "record" -> full name (RecordNameStrategy);
 * "topic_record" -> "<topic>-<full name>" (TopicRecordNameStrategy).
 * @returns 0, or -1 for an unknown strategy, an empty name or topic, or out too small. */
int registry_subject(const char *strategy, const char *topic, const char *record_full_name,
                     char *out, size_t outlen);

/** @brief A short name of a status for logs: "ok", "not_found", "refused", "unavailable". */
const char *registry_status_name(registry_status_t s);

#endif
