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

#include <stdbool.h>
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
    DECODE_UNKNOWN_SCHEMA, /**< schema id unknown to the codec, or its writer schema is not a
                              prior_auth or claim record (or not a parseable schema) */
    DECODE_MALFORMED, /**< the body is not valid Avro for the schema (truncated, bad length, enum
                         index) */
    DECODE_TRAILING_BYTES,      /**< bytes left after the record */
    DECODE_INCOMPATIBLE_SCHEMA, /**< the writer schema is ours by name but cannot be resolved to
                                   the reader's: a field the reader requires is missing, of
                                   another type, or (when read) a symbol or union branch the
                                   reader has no place for; the message names the field */
    DECODE_INVALID, /**< decodes, but breaks a contract §2 rule (UTF-8, lengths, dates) */
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

/** Options beyond the ids (a NULL avro_codec_opts_t means all false / NULL). */
typedef struct {
    /** Schema Registry mode: no pinned id is registered for decoding (the worker adds the writer
     * schemas it fetches by id with avro_codec_add_writer); the encode ids are those of ids
     * until avro_codec_set_determination_id / avro_codec_set_event_ids change them. */
    bool registry_mode;
    /** Tests only: the reader schemas' JSON text instead of the embedded prior_auth and claim
     * schemas (to exercise record and field aliases). Each must still hold event.h's fields in
     * its order with its types. NULL: the embedded one. */
    const char *reader_prior_auth_json;
    const char *reader_claim_json;
} avro_codec_opts_t;

/**
 * @returns a codec, or NULL with a message in err. The embedded prior_auth, claim (version 2)
 * and claim version 1 schemas are registered as writer schemas under their pinned ids (pinned:
 * never forgotten) through avro_codec_add_writer, so a claim of version 1 is just a writer
 * schema resolved to the version 2 reader.
 */
avro_codec_t *avro_codec_new(const avro_codec_ids_t *ids, char *err, size_t errlen);
/** @brief As avro_codec_new, with options (NULL: none). */
avro_codec_t *avro_codec_new_opts(const avro_codec_ids_t *ids, const avro_codec_opts_t *opts,
                                  char *err, size_t errlen);
void avro_codec_free(avro_codec_t *c);

/* ---- writer schemas and schema resolution (Avro specification, "Schema Resolution") ---- */

typedef enum {
    AVRO_WRITER_OK = 0,       /**< resolvable: messages of the id decode */
    AVRO_WRITER_NOT_OURS,     /**< valid Avro, but not a PA or claim record (full name/aliases) */
    AVRO_WRITER_INCOMPATIBLE, /**< ours by name, cannot be resolved (err names the field) */
    AVRO_WRITER_INVALID,      /**< not a parseable Avro schema */
} avro_writer_status_t;

/** Most writer schema ids a codec keeps; beyond, the least recently used one is forgotten. */
#define AVRO_CODEC_MAX_WRITERS 1024

/**
 * @brief Registers the writer schema (JSON text, as a Schema Registry returns it) under a
 * schema id: parses it, decides the kind from the record's full name (or an alias of our reader
 * record), and builds the resolution plan writer -> our reader schema once.
 *
 * Every later message of the id gets that outcome: it decodes (AVRO_WRITER_OK), or is
 * DECODE_UNKNOWN_SCHEMA (NOT_OURS, INVALID) or DECODE_INCOMPATIBLE_SCHEMA (INCOMPATIBLE) with the
 * message saved here. Re-adding a known id is a no-op returning its status (and its message).
 * Bounded: at most AVRO_CODEC_MAX_WRITERS ids; beyond that the least recently used id (added or
 * decoded) that is not pinned is forgotten, and can be added again.
 * @returns the status, with a message in err (for AVRO_WRITER_OK: empty).
 */
avro_writer_status_t avro_codec_add_writer(avro_codec_t *c, int32_t id, const char *schema_json,
                                           char *err, size_t errlen);
/** @returns true when messages of this id can be decoded or dead-lettered without asking a
 * registry (the id was added and not forgotten since). */
bool avro_codec_has_writer(const avro_codec_t *c, int32_t id);
/** @returns the schema id in a framed message (magic 0 + 4 bytes big-endian), or -1 if it has
 * no such header (an id of 0xFFFFFFFF also reads as -1). */
int32_t avro_codec_frame_id(const void *msg, size_t len);
/** @returns a stable name of a writer status: "ok", "not_ours", "incompatible", "invalid". */
const char *avro_writer_status_name(avro_writer_status_t s);

/** @brief The id determinations are written under (registry mode: the id the registry gave). */
void avro_codec_set_determination_id(avro_codec_t *c, int32_t id);
/** @brief The ids events are written under by avro_codec_encode_event(_version) (`produce`):
 * prior auth, claim version 2, claim version 1 (0: version 1 is not written). */
void avro_codec_set_event_ids(avro_codec_t *c, int32_t prior_auth_id, int32_t claim_id,
                              int32_t claim_v1_id);

/**
 * @brief Our (reader) schema of a kind and version, for registering: "prior_auth", "claim"
 * (version 2), "claim.v1", "determination" (version 2), "determination.v1".
 * @returns the JSON text (static), or NULL for another name; *full_name (if not NULL) is set to
 * the record's full name ("com.amtagvi.ip0625.ClaimLine"), the subject of RecordNameStrategy.
 */
const char *avro_codec_schema_text(const char *name, const char **full_name);

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
