/* Seed generator for fuzz_avro_decode: reads JSON Lines events on stdin and writes each line the
 * JSON reader accepts as one Confluent-framed Avro message (ids 1/4, the PA and the version 2
 * claim schema, as the worker's defaults), encoded by the project's
 * own codec, to OUTDIR/PREFIX-NNNN.avro. Lines the reader rejects are skipped (and counted).
 *   fuzz_seedgen OUTDIR PREFIX < events.jsonl
 * Used by tests/fuzz/make_corpus.py; not a fuzzer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"
#include "json_event.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_seedgen OUTDIR PREFIX < events.jsonl\n");
        return 2;
    }
    char err[256];
    avro_codec_ids_t ids = AVRO_CODEC_DEFAULT_IDS; /* claims: version 2 under id 4 */
    avro_codec_t *c = avro_codec_new(&ids, err, sizeof err);
    if (!c) {
        fprintf(stderr, "fuzz_seedgen: %s\n", err);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int written = 0, skipped = 0, lineno = 0;
    buf_t out = {0};
    while ((n = getline(&line, &cap, stdin)) != -1) {
        lineno++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        event_t ev;
        if (len == 0 || json_event_parse(line, len, &ev, err, sizeof err) != 0) {
            skipped++;
            continue;
        }
        buf_clear(&out);
        if (avro_codec_encode_event(c, &ev, &out, err, sizeof err) != 0) {
            fprintf(stderr, "fuzz_seedgen: line %d does not encode: %s\n", lineno, err);
            return 1;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s-%04d.avro", argv[1], argv[2], lineno);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0) {
            fprintf(stderr, "fuzz_seedgen: cannot write %s\n", path);
            return 1;
        }
        written++;
    }
    fprintf(stderr, "fuzz_seedgen: %d messages written, %d lines skipped\n", written, skipped);
    free(line);
    buf_free(&out);
    avro_codec_free(c);
    return 0;
}
