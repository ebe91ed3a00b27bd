/**
 * @file engine.h
 * @brief The pure adjudication engine: per-member history, replay detection and judging.
 *
 * One code path for every caller. `evaluate` keeps one engine for a whole stream; the worker
 * keeps one per batch, loaded with the batch members' stored determinations (engine_load)
 * before it processes the batch's events in order; retro replays each member through a fresh
 * engine. No I/O, no clock, no globals: a determination is a function of the event, the
 * history loaded or processed before it, and the policy.
 */
#ifndef AMTAGVI_ENGINE_H
#define AMTAGVI_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "determination.h"
#include "event.h"
#include "policy.h"

typedef struct engine engine_t;

/** What engine_process did with an event. */
typedef enum {
    ENGINE_JUDGED = 0,             /**< a new determination, now part of history */
    ENGINE_REPLAYED = 1,           /**< event_id seen before with the same content */
    ENGINE_REPLAYED_DIFFERENT = 2, /**< event_id seen before, content differs (log it) */
} engine_result_t;

/** @brief A new, empty engine judging with policy (borrowed, must outlive the engine). */
engine_t *engine_new(const policy_t *policy);

void engine_free(engine_t *e);

/** @brief Forgets all history; keeps allocated memory for reuse. */
void engine_reset(engine_t *e);

/**
 * @brief Judges a validated event, or returns the stored determination of its event_id.
 *
 * @param out set to a determination owned by the engine, valid until reset or free.
 * @returns ENGINE_JUDGED, ENGINE_REPLAYED or ENGINE_REPLAYED_DIFFERENT, or -1 when memory
 *          ran out.
 */
int engine_process(engine_t *e, const event_t *ev, const determination_t **out);

/**
 * @brief Adds a stored determination to history, as if it had just been judged (the worker
 * loads earlier batches from PostgreSQL this way, in stream order).
 *
 * Strings are copied. fingerprint is the stored event's event_fingerprint (0 if unknown; a
 * replay is then never reported as different).
 * @returns 0, or -1 when memory ran out.
 */
int engine_load(engine_t *e, const determination_t *d, uint64_t fingerprint);

/** @returns the stored determination of an event_id, or NULL. */
const determination_t *engine_lookup(const engine_t *e, const char *event_id);

/**
 * @returns true when the event's determination billed a claim line that a later accepted VOID
 * or REPLACEMENT has reversed (contract §10), as far as the engine has seen the stream.
 */
bool engine_is_reversed(const engine_t *e, const char *event_id);

/** @returns the number of distinct event_ids judged or loaded. */
size_t engine_size(const engine_t *e);

/* ---- The judges themselves, for tests: history is what the engine knows of the member. ---- */

typedef struct member_history member_history_t;

/**
 * @brief Judges a prior-authorization request against a member's history.
 * Strings in out point into ev or history.
 */
void judge_prior_auth(const policy_t *p, const member_history_t *h, const pa_event_t *ev,
                      determination_t *out);

/** @brief Judges a claim line against a member's history. */
void judge_claim(const policy_t *p, const member_history_t *h, const claim_event_t *ev,
                 determination_t *out);

/* ---- Normalisation and identifiers (contract §3), exposed for tests. ---- */

/** @brief ICD-10-CM: upper-case, drop spaces and dots. out has room for n+1 bytes. */
size_t normalise_icd10(const char *s, char *out, size_t outlen);
/** @brief HCPCS / NUCC: trim, upper-case. */
size_t normalise_code(const char *s, char *out, size_t outlen);
/** @brief Drug names: lower-case, trim, fold runs of white space to one space. */
size_t normalise_drug(const char *s, char *out, size_t outlen);
/** @returns true for exactly 10 ASCII digits with a valid Luhn check over 80840 + 9 digits. */
bool npi_valid(const char *npi);

#endif
