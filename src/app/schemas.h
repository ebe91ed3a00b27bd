/**
 * @file schemas.h
 * @brief Which schema ids go on the wire, and which writer schemas the codec knows: the pinned
 * ids of the configuration, or a Schema Registry (schema.registry.url).
 *
 * With a registry, the producers (`produce`, the worker's outcomes) register or look up our
 * schemas under their subjects at start-up and write the ids the registry returns; the consumers
 * (`run`, `retro`) fetch each writer schema they meet by id once and hand it to the codec, which
 * resolves it to our reader schema. Without one, the codec knows the pinned ids and nothing here
 * touches the network.
 */
#ifndef AMTAGVI_SCHEMAS_H
#define AMTAGVI_SCHEMAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "avro_codec.h"
#include "config.h"

typedef struct schemas schemas_t;

/** @returns the schema ids' keeper for codec (borrowed), with a registry client when the
 * configuration names one; NULL with err on a bad registry configuration. */
schemas_t *schemas_new(const config_t *cfg, avro_codec_t *codec, char *err, size_t errlen);
void schemas_free(schemas_t *s);

/** @returns true when a Schema Registry is configured. */
bool schemas_registry_on(const schemas_t *s);

typedef enum {
    SCHEMAS_OK = 0,     /**< done */
    SCHEMAS_RETRY = 1,  /**< the registry is unreachable or refuses us: back off and retry */
    SCHEMAS_FAILED = 2, /**< permanent: the registry refuses the schema (err says why) */
} schemas_status_t;

/**
 * @brief Producer side: the id to write for one of our embedded schemas ("prior_auth",
 * "claim", "claim.v1", "determination") on topic: registered (or found) under its subject by
 * the configured strategy. Without a registry: SCHEMAS_FAILED (use the pinned ids).
 */
schemas_status_t schemas_register(schemas_t *s, const char *schema_name, const char *topic,
                                  int32_t *id, char *err, size_t errlen);

/**
 * @brief Consumer side: makes sure the codec can deal with the message's schema id (decode it,
 * or dead-letter it for a reason): fetches an unknown id's writer schema from the registry and
 * adds it to the codec. Without a registry, or for a message with no Confluent header, there
 * is nothing to do.
 * @returns SCHEMAS_OK, or SCHEMAS_RETRY with err (registry down or refusing our credentials).
 */
schemas_status_t schemas_ensure(schemas_t *s, const void *msg, size_t len, char *err,
                                size_t errlen);

/**
 * @brief When the registry said the message's id holds no schema we can read (not found,
 * not Avro), the reason, else NULL: such a message is dead-lettered as unknown_schema.
 */
const char *schemas_unknown_reason(const schemas_t *s, const void *msg, size_t len);

#endif
