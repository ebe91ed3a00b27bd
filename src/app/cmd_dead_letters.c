/* `dead-letters replay`: sends dead letters back to the topic they came from, once the cause is
 * fixed (a policy file, a schema, a database constraint), with a loop guard. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kafka.h"
#include "log.h"
#include "publish.h"
#include "store.h"

typedef struct {
    kafka_producer_t *producer;
    bool dry_run;
    long sent, failed;
    /* what was queued, to be marked replayed once delivered */
    struct queued {
        char *topic;
        int32_t partition;
        int64_t offset;
    } * queued;
    size_t n_queued, cap;
} replay_t;

/* The record as it arrived (context headers stripped), with amtagvi.replay.count one higher and
 * the original timestamp in a header: a replay carries a new timestamp, so the topic's
 * retention counts from the replay. */
static int replay_one(void *ctx, const store_dead_letter_t *dl)
{
    replay_t *r = ctx;
    printf("%s %s[%d]@%lld reason=%s stage=%s replays=%d%s\n",
           r->dry_run ? "would replay" : "replay", dl->topic, dl->partition, (long long)dl->offset,
           dl->reason, dl->stage, dl->replay_count, dl->payload ? "" : " (no value)");
    if (r->dry_run) {
        r->sent++;
        return 0;
    }
    record_header_t *h = malloc((dl->n_headers + 2) * sizeof *h);
    if (!h) return -1;
    size_t n = 0;
    for (size_t i = 0; i < dl->n_headers; i++)
        if (!publish_is_context_header(dl->headers[i].name)) h[n++] = dl->headers[i];
    char count[16], ts[24];
    snprintf(count, sizeof count, "%d", dl->replay_count + 1);
    h[n++] = (record_header_t){PUBLISH_REPLAY_COUNT_HEADER, count, strlen(count)};
    if (dl->timestamp_ms >= 0) {
        snprintf(ts, sizeof ts, "%lld", (long long)dl->timestamp_ms);
        h[n++] = (record_header_t){"amtagvi.original.timestamp", ts, strlen(ts)};
    }
    kafka_record_t rec = {.topic = dl->topic,
                          .key = dl->key,
                          .key_len = dl->key_len,
                          .value = dl->payload,
                          .value_len = dl->payload_len,
                          .headers = h,
                          .n_headers = n};
    char err[512];
    kafka_produce_t res = kafka_produce(r->producer, &rec, err, sizeof err);
    free(h);
    if (res != KAFKA_QUEUED) {
        /* A record that was accepted on its topic once fits it again, unless the topic's limit
         * was lowered: it stays in the table, not replayed. */
        fprintf(stderr, "amtagvi-adjudicator: dead-letters: %s[%d]@%lld not replayed: %s\n",
                dl->topic, dl->partition, (long long)dl->offset, err);
        r->failed++;
        return res == KAFKA_TOO_LARGE ? 0 : -1;
    }
    if (r->n_queued == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct queued *q = realloc(r->queued, cap * sizeof *q);
        if (!q) return -1;
        r->queued = q;
        r->cap = cap;
    }
    char *topic = strdup(dl->topic);
    if (!topic) return -1;
    r->queued[r->n_queued++] = (struct queued){topic, dl->partition, dl->offset};
    r->sent++;
    return 0;
}

static const char USAGE[] =
    "dead-letters replay [--config FILE] [--reason R] [--topic T] [--since TIMESTAMP]\n"
    "                    [--limit N] [--max-replays N] [--dry-run]\n"
    "  sends dead letters not yet replayed back to their source topic, with their original\n"
    "  key, value and headers and amtagvi.replay.count one higher, and marks them replayed\n"
    "  once the broker has them. A record replayed --max-replays times (default\n"
    "  dead_letter.max.replays) that failed again is held back and counted.\n"
    "  --dry-run lists what would be replayed and changes nothing.";

int cmd_dead_letters(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "replay") != 0) {
        bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        fprintf(help ? stdout : stderr, "usage: amtagvi-adjudicator %s\n", USAGE);
        return help ? 0 : 2;
    }
    const char *config_path = NULL;
    store_replay_filter_t f = {0};
    long max_replays = 0;
    bool dry_run = false;
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"reason", required_argument, 0, 'r'},
                                         {"topic", required_argument, 0, 't'},
                                         {"since", required_argument, 0, 's'},
                                         {"limit", required_argument, 0, 'l'},
                                         {"max-replays", required_argument, 0, 'm'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'r':
            f.reason = optarg;
            break;
        case 't':
            f.topic = optarg;
            break;
        case 's':
            f.since = optarg;
            break;
        case 'l':
            f.limit = atol(optarg);
            break;
        case 'm':
            max_replays = atol(optarg);
            break;
        case 'n':
            dry_run = true;
            break;
        default:
            fprintf(c == 'h' ? stdout : stderr, "usage: amtagvi-adjudicator %s\n", USAGE);
            return c == 'h' ? 0 : 2;
        }
    }
    config_t cfg;
    if (cli_load_config(&cfg, config_path) != 0) {
        config_free(&cfg);
        return 2;
    }
    f.max_replays = (int)(max_replays > 0 ? max_replays : cfg.dead_letter_max_replays);
    char err[512];
    replay_t r = {.dry_run = dry_run};
    store_t *store = store_new(cfg.database_url, cfg.worker_id);
    if (!dry_run) r.producer = kafka_producer_new(&cfg, NULL, NULL, NULL, err, sizeof err);
    int rc = 1;
    long held = 0, marked = 0;
    if (!store || (!dry_run && !r.producer)) {
        fprintf(stderr, "amtagvi-adjudicator: dead-letters: %s\n", store ? err : "out of memory");
        goto done;
    }
    store_status_t st = store_replay_candidates(store, &f, replay_one, &r, &held);
    if (st != STORE_OK) {
        fprintf(stderr, "amtagvi-adjudicator: dead-letters: %s\n", store_error(store));
        goto done;
    }
    if (!dry_run && kafka_producer_flush(r.producer) != 0) {
        /* Which of them failed is not known here: none is marked, and a second run sends
         * them again (the worker recognises a replayed event_id). */
        fprintf(stderr, "amtagvi-adjudicator: dead-letters: a delivery failed; nothing marked "
                        "replayed, run again\n");
        goto done;
    }
    for (size_t i = 0; i < r.n_queued; i++) {
        if (store_mark_replayed(store, r.queued[i].topic, r.queued[i].partition,
                                r.queued[i].offset) != STORE_OK) {
            fprintf(stderr, "amtagvi-adjudicator: dead-letters: %s\n", store_error(store));
            goto done;
        }
        marked++;
    }
    rc = r.failed ? 1 : 0;
done:
    printf("dead-letters: %ld %s, %ld not replayable, %ld held back by the loop guard "
           "(replayed %d times already)\n",
           dry_run ? r.sent : marked, dry_run ? "would be replayed" : "replayed", r.failed, held,
           f.max_replays);
    for (size_t i = 0; i < r.n_queued; i++) free(r.queued[i].topic);
    free(r.queued);
    kafka_producer_free(r.producer);
    store_free(store);
    config_free(&cfg);
    return rc;
}
