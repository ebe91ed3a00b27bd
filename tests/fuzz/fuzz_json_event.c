/* libFuzzer target: json_event_parse on arbitrary bytes (one line as `evaluate` reads it).
 *
 * The input is copied into a malloc'd buffer of exactly its size with no NUL after it, because
 * the parser works in place and must never look past len: AddressSanitizer reports one byte of
 * over-read. Asserts: a rejected line carries a message; an accepted line is a valid event
 * (contract §2); judging it against a fixed history keeps the §8 invariants and its
 * determination, written with json_append_determination, is JSON that jansson parses back with
 * the same ids and outcome; the event's own JSON form (json_append_event) parses back to the
 * same event; and its Avro encoding (what `produce` sends) is accepted by the worker's decoder
 * as the same event. */
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
static buf_t text, enc;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    codec = fuzz_codec("fuzz_json_event");
    engine = fuzz_engine("fuzz_json_event");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size);
    if (!line && size) return 0;
    if (size) memcpy(line, data, size);
    event_t ev;
    char err[256] = "";
    int rc = json_event_parse(line, size, &ev, err, sizeof err);
    if (rc != 0) {
        FUZZ_ASSERT(rc == -1, "json_event_parse returned %d", rc);
        FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL,
                    "a rejected line without a message");
        free(line);
        return 0;
    }
    fuzz_check_event(&ev);
    const uint64_t fp = event_fingerprint(&ev);

    const policy_t *p = fuzz_policy();
    const determination_t *d = fuzz_judge(engine, p, &ev);
    fuzz_check_determination_json(p, d);

    /* The event's JSON form parses back to the same event. */
    buf_clear(&text);
    FUZZ_ASSERT(json_append_event(&text, &ev) == 0, "json_append_event failed");
    char *copy = malloc(text.len);
    FUZZ_ASSERT(copy != NULL, "out of memory");
    memcpy(copy, text.data, text.len);
    event_t back;
    rc = json_event_parse(copy, text.len, &back, err, sizeof err);
    FUZZ_ASSERT(rc == 0, "the JSON form of an accepted event is rejected: %s", err);
    FUZZ_ASSERT(event_fingerprint(&back) == fp, "the JSON form is another event");
    free(copy);

    /* What `produce` would send, the worker's decoder accepts as the same event. */
    arena_reset(&arena);
    buf_clear(&enc);
    FUZZ_ASSERT(avro_codec_encode_event(codec, &ev, &enc, err, sizeof err) == 0,
                "an accepted event does not encode to Avro: %s", err);
    decode_status_t st =
        avro_codec_decode_event(codec, enc.data, enc.len, &back, &arena, err, sizeof err);
    FUZZ_ASSERT(st == DECODE_OK, "a line evaluate accepts is a dead letter in the worker (%s): %s",
                decode_status_name(st), err);
    FUZZ_ASSERT(event_fingerprint(&back) == fp, "the Avro form is another event");
    free(line);
    return 0;
}
