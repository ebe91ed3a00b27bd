/**
 * @file avro_codec.h
 * @brief Confluent-framed Avro (magic 0, 4-byte big-endian schema id, Avro binary body) for
 * the two input events and the determination outcome event.
 *
 * The schemas in schemas/ are compiled into the binary; each event schema's avro-c class and
 * value are built once per codec and reused, and determinations are written directly in the
 * schema's field order (checked when the codec is made). Decoding validates the framing, bounds
 * every allocation, rejects trailing bytes and applies the same string rules as the JSON reader
 * (contract §2), so a message the codec accepts is a valid event.
 */
#ifndef AMTAGVI_AVRO_CODEC_H
#define AMTAGVI_AVRO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "determination.h"
#include "event.h"
#include "policy.h"

/** Why a message was not decoded; each is a dead-letter reason. */
typedef enum {
    DECODE_OK = 0,
    DECODE_EMPTY,          /**< empty value or tombstone */
    DECODE_BAD_MAGIC,      /**< first byte is not 0, or shorter than the 5-byte header */
    DECODE_UNKNOWN_SCHEMA, /**< schema id is none of the PA and claim (v1, v2) ids */
    DECODE_MALFORMED, /**< the body is not valid Avro for the schema (truncated, bad length, enum
                         index) */
    DECODE_TRAILING_BYTES, /**< bytes left after the record */
    DECODE_INVALID,        /**< decodes, but breaks a contract §2 rule (UTF-8, lengths, dates) */
} decode_status_t;

/** How many statuses there are, DECODE_OK included: one past the last above. */
#define DECODE_STATUS_COUNT (DECODE_INVALID + 1)

/** @returns a stable snake_case name for a decode status ("bad_magic", ...). */
const char *decode_status_name(decode_status_t s);

typedef struct avro_codec avro_codec_t;

/**
 * The Confluent schema ids (contract §11). Claims are read under either claim id: version 1
 * (schemas/claim.v1.avsc, no frequency fields: judged as ORIGINAL) and version 2
 * (schemas/claim.avsc). Determinations are written with version 2 of their schema only, whose
 * two new fields come last, so a reader of version 1 resolves them away.
 */
typedef struct {
    int32_t prior_auth_schema_id;    /**< default 1 */
    int32_t claim_schema_id;         /**< claim schema version 2; default 4 */
    int32_t determination_schema_id; /**< determination schema version 2; default 5 */
    int32_t claim_v1_schema_id;      /**< claim schema version 1; default 2; 0: not accepted */
} avro_codec_ids_t;

/** The ids a NULL avro_codec_ids_t means (the config defaults). */
#define AVRO_CODEC_DEFAULT_IDS ((avro_codec_ids_t){1, 4, 5, 2})

/** Worker-side facts published beside a determination (contract §8). */
typedef struct {
    int64_t decided_at_ms;
    const char *topic;
    int32_t partition;
    int64_t offset;
} determination_meta_t;

/** @returns a codec, or NULL with a message in err. */
avro_codec_t *avro_codec_new(const avro_codec_ids_t *ids, char *err, size_t errlen);
void avro_codec_free(avro_codec_t *c);

/**
 * @brief Decodes one framed message into *out; strings are copied into arena.
 * @returns DECODE_OK or the failure, with a human message in err that names the field and the
 * problem and quotes nothing read from the message (no value, length, index, count or offset:
 * PHI); only the schema id of the frame, which an operator needs, is stated.
 */
decode_status_t avro_codec_decode_event(avro_codec_t *c, const void *msg, size_t len, event_t *out,
                                        arena_t *arena, char *err, size_t errlen);

/** @brief Appends the framed encoding of an event to out, a claim with the current (version 2)
 * claim schema. @returns 0 or -1 with err. */
int avro_codec_encode_event(avro_codec_t *c, const event_t *ev, buf_t *out, char *err,
                            size_t errlen);

/**
 * @brief As avro_codec_encode_event, a claim with version claim_version (1 or 2) of the claim
 * schema under its id (a prior auth is written as always). Version 1 cannot carry the
 * frequency fields: a claim that is not an ORIGINAL, or has an original_claim_id, is refused,
 * and so is any claim when the codec has no version-1 id. @returns 0 or -1 with err.
 */
int avro_codec_encode_event_version(avro_codec_t *c, const event_t *ev, int claim_version,
                                    buf_t *out, char *err, size_t errlen);

/**
 * @brief Appends the framed encoding of a determination (with the policy's reason texts and the
 * worker's meta) to out. @returns 0 or -1 with err.
 */
int avro_codec_encode_determination(avro_codec_t *c, const determination_t *d, const policy_t *p,
                                    const determination_meta_t *meta, buf_t *out, char *err,
                                    size_t errlen);

#endif
