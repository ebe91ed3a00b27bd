/* Measures the policy core apart from I/O: JSON parse, judge (engine_process over events
 * already decoded) and JSON write, each over the same events, best of several rounds on one
 * core. Used by ops/bench-core; prints one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "engine.h"
#include "json_event.h"
#include "policy_file.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_core POLICY.json EVENTS.jsonl [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    /* JUDGE_ONLY=1 profiles the judge: parse and write run once, the judge every round. */
    int judge_only = getenv("JUDGE_ONLY") != NULL;
    char err[512];
    policy_t *p = policy_load_file(argv[1], err, sizeof err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    buf_t text = {0};
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&text, chunk, n);
    fclose(f);

    /* Split into lines once; every round parses pristine copies (parsing is in place). */
    size_t nlines = 0, cap = 1024;
    size_t *starts = malloc(cap * sizeof *starts), *lens = malloc(cap * sizeof *lens);
    for (size_t i = 0; i < text.len;) {
        char *nl = memchr(text.data + i, '\n', text.len - i);
        size_t end = nl ? (size_t)(nl - text.data) : text.len;
        if (nlines == cap) {
            cap *= 2;
            starts = realloc(starts, cap * sizeof *starts);
            lens = realloc(lens, cap * sizeof *lens);
        }
        starts[nlines] = i;
        lens[nlines++] = end - i;
        i = end + 1;
    }
    char *work = malloc(text.len + 1);
    event_t *events = malloc(nlines * sizeof *events);
    size_t nevents = 0;
    double best_parse = 1e9, best_judge = 1e9, best_write = 1e9;
    engine_t *e = engine_new(p);
    buf_t out = {0};
    size_t judged = 0;
    for (int r = 0; r < rounds; r++) {
        if (judge_only && r > 0) goto judge;
        memcpy(work, text.data, text.len);
        nevents = 0;
        double t0 = now(), t1;
        for (size_t i = 0; i < nlines; i++)
            if (json_event_parse(work + starts[i], lens[i], &events[nevents], err, sizeof err) == 0)
                nevents++;
        t1 = now();
        if (t1 - t0 < best_parse) best_parse = t1 - t0;
    judge:
        t1 = now();
        engine_reset(e);
        const determination_t *d;
        judged = 0;
        for (size_t i = 0; i < nevents; i++)
            if (engine_process(e, &events[i], &d) >= 0) judged++;
        double t2 = now();
        if (t2 - t1 < best_judge) best_judge = t2 - t1;
        if (judge_only && r > 0) continue;
        buf_clear(&out);
        for (size_t i = 0; i < nevents; i++) {
            d = engine_lookup(e, event_id_of(&events[i]));
            json_append_determination(&out, d, p);
            buf_append_char(&out, '\n');
            if (out.len > (1 << 20)) buf_clear(&out);
        }
        double t3 = now();
        if (t3 - t2 < best_write) best_write = t3 - t2;
    }
    printf("{\"lines\": %zu, \"valid_events\": %zu, \"judged\": %zu, \"rounds\": %d, "
           "\"parse_per_s\": %.0f, \"judge_per_s\": %.0f, \"write_per_s\": %.0f}\n",
           nlines, nevents, judged, rounds, (double)nlines / best_parse,
           (double)nevents / best_judge, (double)nevents / best_write);
    engine_free(e);
    buf_free(&out);
    buf_free(&text);
    free(work);
    free(events);
    free(starts);
    free(lens);
    policy_free(p);
    return 0;
}
