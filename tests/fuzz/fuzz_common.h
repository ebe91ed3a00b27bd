/* Shared helpers of the libFuzzer targets: the policy, a fixed history every fuzzed event is
 * judged against, and the invariants (contract §2, §6-§8) each target asserts.
 *
 * A failed invariant prints one line naming it and aborts, so libFuzzer saves the input as a
 * crash. Every check is a property of the code under test, never of the fuzzer. */
#ifndef AMTAGVI_FUZZ_COMMON_H
#define AMTAGVI_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "avro_codec.h"
#include "buf.h"
#include "determination.h"
#include "engine.h"
#include "event.h"
#include "policy.h"

#define FUZZ_ASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                            \
    } while (0)

__attribute__((noreturn, format(printf, 4, 5))) void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...);

/** The Avro codec with schema ids 1, 2 and 3; exits 2, naming target, when it cannot be made. */
/** The id and text of a claim writer schema of another shape (fields reordered, promotions,
 * a writer-only field, a reordered enum) that fuzz_codec registers. */
#define FUZZ_CLAIM_V3_ID 7
extern const char FUZZ_CLAIM_V3_JSON[];
avro_codec_t *fuzz_codec(const char *target);

/** An engine on fuzz_policy(); exits 2, naming target, when it cannot be made. */
engine_t *fuzz_engine(const char *target);

/** The shipped policy/IP0625.json ($AMTAGVI_POLICY_FILE overrides), loaded once. */
const policy_t *fuzz_policy(void);

/**
 * Fixed events, parsed once from JSON Lines compiled into the fuzzers: an approved PA and the
 * claim paid on it, a denied PA, a pended PA and a claim pending on it (the golden examples'
 * members MEM-1001..MEM-1003), so a fuzzed claim or PA for those members meets real history.
 */
size_t fuzz_history(const event_t **events);

/** Asserts what contract §2 guarantees of an event a decoder accepted. */
void fuzz_check_event(const event_t *ev);

/**
 * Resets e, replays the fixed history into it, judges ev and asserts the determination's
 * invariants; judges ev a second time and asserts it is a plain replay of the same
 * determination. @returns the determination (owned by e).
 */
const determination_t *fuzz_judge(engine_t *e, const policy_t *p, const event_t *ev);

/** Asserts the §8 invariants of one determination (any policy). */
void fuzz_check_determination(const policy_t *p, const determination_t *d);

/**
 * Writes d with json_append_determination and asserts jansson parses the text back to an
 * object with the same event_id, member_id, kind and outcome.
 */
void fuzz_check_determination_json(const policy_t *p, const determination_t *d);

#endif
