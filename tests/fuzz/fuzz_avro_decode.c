/* libFuzzer target: avro_codec_decode_event on arbitrary bytes (a Kafka value as the worker
 * receives it).
 *
 * Asserts: the status matches the framing (empty, short/bad magic, unknown schema id); a failure
 * carries a message; an accepted message is a valid event (contract §2: required strings
 * present, valid UTF-8 and <= 128 bytes, arrays <= 64 items, enums and dates in range) whose
 * kind is its schema id's (a claim of schema version 1 is an ORIGINAL); re-encoding it and
 * decoding again gives the same fingerprint and the encoding is then stable, an ORIGINAL also
 * through version 1 of the claim schema; its JSON Lines form (what `produce` reads) parses back to
 * the same event; judging it against a fixed history keeps the §8 invariants, and its determination
 * encodes to Avro and to JSON that jansson accepts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"
#include "fuzz_common.h"
#include "json_event.h"

static avro_codec_t *codec;
static engine_t *engine;
static arena_t arena;
static buf_t enc, enc2, text;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    codec = fuzz_codec("fuzz_avro_decode");
    engine = fuzz_engine("fuzz_avro_decode");
    return 0;
}

static decode_status_t framing_status(const uint8_t *data, size_t size)
{
    if (size == 0) return DECODE_EMPTY;
    if (size < 5 || data[0] != 0) return DECODE_BAD_MAGIC;
    uint32_t id =
        (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
    /* fuzz_codec: the PA (1), the claim of version 2 (4) and of version 1 (2), and a claim
     * writer of another shape resolved to ours (FUZZ_CLAIM_V3_ID) */
    if (id != 1 && id != 2 && id != 4 && id != FUZZ_CLAIM_V3_ID) return DECODE_UNKNOWN_SCHEMA;
    return DECODE_OK; /* the body decides */
}

/* The JSON Lines form of the event parses back to the same event (produce reads it). */
static void check_json_form(const event_t *ev, uint64_t fp)
{
    buf_clear(&text);
    FUZZ_ASSERT(json_append_event(&text, ev) == 0, "json_append_event failed");
    char *line = malloc(text.len);
    FUZZ_ASSERT(line != NULL, "out of memory");
    memcpy(line, text.data, text.len);
    event_t back;
    char err[256] = "";
    int rc = json_event_parse(line, text.len, &back, err, sizeof err);
    FUZZ_ASSERT(rc == 0, "an accepted Avro event's JSON form is rejected: %s", err);
    FUZZ_ASSERT(event_fingerprint(&back) == fp, "the JSON form is another event");
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_reset(&arena);
    event_t ev;
    char err[256] = "";
    decode_status_t st = avro_codec_decode_event(codec, data, size, &ev, &arena, err, sizeof err);
    FUZZ_ASSERT((unsigned)st <= DECODE_INVALID, "unknown decode status %d", (int)st);
    decode_status_t framing = framing_status(data, size);
    if (framing != DECODE_OK) {
        FUZZ_ASSERT(st == framing, "status %s, the framing says %s", decode_status_name(st),
                    decode_status_name(framing));
    } else {
        /* every enum symbol of the v3 writer maps (or has the reader's default), every union
         * branch but channel's (skipped) resolves: nothing is incompatible */
        FUZZ_ASSERT(st != DECODE_EMPTY && st != DECODE_BAD_MAGIC && st != DECODE_UNKNOWN_SCHEMA &&
                        st != DECODE_INCOMPATIBLE_SCHEMA,
                    "status %s for a well-framed message", decode_status_name(st));
    }
    if (st != DECODE_OK) {
        FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL,
                    "status %s without a message", decode_status_name(st));
        return 0;
    }

    fuzz_check_event(&ev);
    FUZZ_ASSERT(ev.kind == (data[4] == 1 ? EVENT_PRIOR_AUTH : EVENT_CLAIM),
                "schema id %u decoded as a %s", data[4], event_kind_name(ev.kind));
    if (data[4] == 2) /* contract §11: a claim of schema version 1 is judged as an ORIGINAL */
        FUZZ_ASSERT(
            ev.claim.frequency_code == FREQUENCY_ORIGINAL && ev.claim.original_claim_id == NULL,
            "a version 1 claim decoded as %s with %s reference",
            frequency_code_name(ev.claim.frequency_code), ev.claim.original_claim_id ? "a" : "no");
    const uint64_t fp = event_fingerprint(&ev);

    /* Re-encode, decode again: the same event; encoding that again: the same bytes. */
    buf_clear(&enc);
    FUZZ_ASSERT(avro_codec_encode_event(codec, &ev, &enc, err, sizeof err) == 0,
                "an accepted event does not re-encode: %s", err);
    event_t again;
    st = avro_codec_decode_event(codec, enc.data, enc.len, &again, &arena, err, sizeof err);
    FUZZ_ASSERT(st == DECODE_OK, "the codec rejects its own encoding (%s): %s",
                decode_status_name(st), err);
    fuzz_check_event(&again);
    FUZZ_ASSERT(event_fingerprint(&again) == fp, "re-encoding changed the event");
    buf_clear(&enc2);
    FUZZ_ASSERT(avro_codec_encode_event(codec, &again, &enc2, err, sizeof err) == 0,
                "re-encoding failed: %s", err);
    FUZZ_ASSERT(enc.len == enc2.len && memcmp(enc.data, enc2.data, enc.len) == 0,
                "the encoding of a decoded encoding differs (%zu vs %zu bytes)", enc.len, enc2.len);

    if (ev.kind == EVENT_CLAIM && ev.claim.frequency_code == FREQUENCY_ORIGINAL &&
        !ev.claim.original_claim_id) {
        /* an ORIGINAL without a reference also fits version 1 of the claim schema (contract
         * §11), and reads back from it as the same event */
        buf_clear(&enc2);
        FUZZ_ASSERT(avro_codec_encode_event_version(codec, &ev, 1, &enc2, err, sizeof err) == 0,
                    "an ORIGINAL does not encode as version 1: %s", err);
        FUZZ_ASSERT(enc2.len > 5 && enc2.data[4] == 2, "version 1 is not framed under id 2");
        st = avro_codec_decode_event(codec, enc2.data, enc2.len, &again, &arena, err, sizeof err);
        FUZZ_ASSERT(st == DECODE_OK && event_fingerprint(&again) == fp,
                    "the version 1 encoding does not read back as the same event (%s): %s",
                    decode_status_name(st), err);
    }

    check_json_form(&ev, fp);

    const policy_t *p = fuzz_policy();
    const determination_t *d = fuzz_judge(engine, p, &ev);
    fuzz_check_determination_json(p, d);
    determination_meta_t meta = {1767225600000, "amtagvi.events.v1", 3, 42};
    buf_clear(&enc);
    FUZZ_ASSERT(avro_codec_encode_determination(codec, d, p, &meta, &enc, err, sizeof err) == 0,
                "the determination does not encode: %s", err);
    FUZZ_ASSERT(enc.len > 5 && enc.data[0] == 0 && enc.data[1] == 0 && enc.data[2] == 0 &&
                    enc.data[3] == 0 && enc.data[4] == 5,
                "the determination's framing is wrong");
    return 0;
}
