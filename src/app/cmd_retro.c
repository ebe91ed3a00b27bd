/* `retro`: the nightly retro-review. Re-judges the stored events of a window with a chosen policy
 * file and records what would change.
 *
 * A determination depends on the member's history, so every stored event of each affected
 * member (one with an event decided in the window) is replayed in its original stream order
 * through a fresh engine; only events decided inside the window are compared and reported. Rows
 * stream from a server-side cursor in one snapshot, so memory stays constant whatever the
 * window. The replay reverses lines as the stream's voids and replacements did (contract §10);
 * a window's events are compared once their member's stream is all replayed, so that a line a
 * later void reversed is known to be reversed (docs/DECISIONS.md). */
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avro_codec.h"
#include "schemas.h"
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "retro.h"
#include "store.h"

#define FETCH_ROWS 5000
#define FLUSH_FINDINGS 2000

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SHA-256 of the policy file as read, recorded with the run so a finding can be traced to the
 * exact rules that produced it. */
static int file_sha256(const char *path, char out[65])
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    unsigned char chunk[65536], md[32];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) EVP_DigestUpdate(ctx, chunk, n);
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    for (unsigned i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

typedef struct {
    bool tty;
    double started, last;
    int64_t total;
} progress_t;

static void progress(progress_t *p, int64_t done, bool final)
{
    double now = mono_s();
    if (!final && now - p->last < (p->tty ? 0.2 : 5.0)) return;
    p->last = now;
    double rate = done / (now - p->started > 1e-6 ? now - p->started : 1e-6);
    double pct = p->total ? 100.0 * (double)done / (double)p->total : 100.0;
    long eta = rate > 0 ? (long)((double)(p->total - done) / rate) : 0;
    if (p->tty) {
        char bar[31];
        int fill = (int)(pct * 30 / 100);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '-';
        bar[30] = '\0';
        fprintf(stderr, "\rretro [%s] %5.1f%% %lld/%lld events  %.0f/s  ETA %ld:%02ld ", bar, pct,
                (long long)done, (long long)p->total, rate, eta / 60, eta % 60);
        if (final) fputc('\n', stderr);
    } else {
        fprintf(stderr, "retro: %lld/%lld events (%.1f%%), %.0f events/s, ETA %lds\n",
                (long long)done, (long long)p->total, pct, rate, eta);
    }
}

static int parse_date_arg(const char *s, date_t *out)
{
    return date_parse(s, strlen(s), out);
}

/* An event of the window, compared once its member's events are all replayed: whether the line
 * it billed is reversed depends on the member's later events (contract §10). */
typedef struct {
    const char *event_id, *member_id;
    event_kind_t kind;
    date_t decision_date;
    retro_stored_t stored;
} pending_t;

typedef struct {
    pending_t *items;
    size_t n, cap;
    arena_t strings; /* the member's pending strings, reset with it */
} pending_list_t;

static const char *dup_opt(arena_t *a, const char *s)
{
    return s ? arena_strdup(a, s) : NULL;
}

static int pending_add(pending_list_t *l, const retro_row_t *r)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        pending_t *items = realloc(l->items, cap * sizeof *items);
        if (!items) return -1;
        l->items = items;
        l->cap = cap;
    }
    arena_t *a = &l->strings;
    pending_t *p = &l->items[l->n];
    *p = (pending_t){arena_strdup(a, r->event_id),
                     arena_strdup(a, r->member_id),
                     r->kind,
                     r->decision_date,
                     {r->kind, r->outcome, arena_strdup(a, r->criteria),
                      arena_strdup(a, r->reasons_csv), dup_opt(a, r->reversed_event_id)}};
    if (!p->event_id || !p->member_id || !p->stored.criteria || !p->stored.reasons_csv ||
        (r->reversed_event_id && !p->stored.reversed_event_id))
        return -1;
    l->n++;
    return 0;
}

typedef struct {
    store_t *store;
    int64_t run_id;
    bool dry_run;
    retro_counts_t *counts;
    retro_finding_row_t *found;
    size_t n_found;
    arena_t strings; /* the findings' strings, reset when they are flushed */
} findings_t;

/* Compares the member's pending events with what the replay judged, now that the member's
 * whole stream is replayed; then forgets them. */
static store_status_t judge_member(const engine_t *engine, pending_list_t *l, findings_t *out)
{
    store_status_t st = STORE_OK;
    for (size_t i = 0; i < l->n && st == STORE_OK; i++) {
        const pending_t *p = &l->items[i];
        const determination_t *d = engine_lookup(engine, p->event_id);
        if (!d) continue; /* cannot happen: every pending event was processed */
        bool reversal = retro_reversal_changed(p->stored.reversed_event_id, d);
        if (reversal) out->counts->reversals_changed++;
        finding_t f = retro_judge(&p->stored, d, engine_is_reversed(engine, p->event_id));
        if (f == FINDING_NONE) continue;
        out->counts->changed++;
        if (f == FINDING_POSSIBLE_OVERPAYMENT) out->counts->paid_now_denied++;
        if (f == FINDING_NOW_PAYABLE) out->counts->denied_now_paid++;
        if (out->dry_run) continue;
        char csv[512];
        reasons_csv(d, csv, sizeof csv);
        arena_t *a = &out->strings;
        out->found[out->n_found++] = (retro_finding_row_t){arena_strdup(a, p->event_id),
                                                           arena_strdup(a, p->member_id),
                                                           event_kind_name(p->kind),
                                                           p->decision_date,
                                                           outcome_name(p->stored.outcome),
                                                           outcome_name(d->outcome),
                                                           arena_strdup(a, p->stored.reasons_csv),
                                                           arena_strdup(a, csv),
                                                           finding_name(f),
                                                           dup_opt(a, p->stored.reversed_event_id),
                                                           dup_opt(a, d->reversed_event_id)};
        if (out->n_found == FLUSH_FINDINGS) {
            st = store_retro_add_findings(out->store, out->run_id, out->found, out->n_found);
            out->n_found = 0;
            arena_reset(&out->strings);
        }
    }
    l->n = 0;
    arena_reset(&l->strings);
    return st;
}

/* A stored payload's writer schema, from the registry if the codec does not know its id yet;
 * a registry that does not answer is waited for a little, then the run fails (nothing is
 * judged on a guess). @returns 0, or -1 with err. */
static int ensure_schema(schemas_t *s, const void *msg, size_t len, char *err, size_t errlen)
{
    for (int attempt = 0, delay_ms = 200; attempt < 6; attempt++, delay_ms *= 2) {
        if (attempt) {
            struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (schemas_ensure(s, msg, len, err, errlen) == SCHEMAS_OK) return 0;
    }
    return -1;
}

int cmd_retro(int argc, char **argv)
{
    const char *config_path = NULL, *policy_opt = NULL, *from_s = NULL, *to_s = NULL;
    bool dry_run = false;
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"from", required_argument, 0, 'f'},
                                         {"to", required_argument, 0, 't'},
                                         {"policy", required_argument, 0, 'p'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *usage = "usage: amtagvi-adjudicator retro --from YYYY-MM-DD --to YYYY-MM-DD "
                        "[--policy FILE] [--dry-run] [--config FILE]\n";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'f':
            from_s = optarg;
            break;
        case 't':
            to_s = optarg;
            break;
        case 'p':
            policy_opt = optarg;
            break;
        case 'n':
            dry_run = true;
            break;
        default:
            fputs(usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    date_t from, to;
    if (!from_s || !to_s || parse_date_arg(from_s, &from) || parse_date_arg(to_s, &to) ||
        from > to) {
        fprintf(stderr,
                "amtagvi-adjudicator: retro needs --from and --to as real dates, "
                "from <= to\n%s",
                usage);
        return 2;
    }
    config_t cfg;
    char err[512];
    if (cli_load_config(&cfg, config_path) != 0) {
        config_free(&cfg);
        return 2;
    }
    const char *policy_path = cli_policy_path(policy_opt, &cfg);
    policy_t *policy = cli_load_policy(policy_path);
    char sha[65] = "";
    avro_codec_ids_t ids = {(int32_t)cfg.prior_auth_schema_id, (int32_t)cfg.claim_schema_id,
                            (int32_t)cfg.determination_schema_id, (int32_t)cfg.claim_v1_schema_id};
    /* Stored payloads keep the schema id they were written with: with a Schema Registry the
     * writer schema of each id is fetched once, as the worker does. */
    const avro_codec_opts_t codec_opts = {.registry_mode = cfg.schema_registry_url[0] != '\0'};
    avro_codec_t *codec = policy ? avro_codec_new_opts(&ids, &codec_opts, err, sizeof err) : NULL;
    schemas_t *schemas = codec ? schemas_new(&cfg, codec, err, sizeof err) : NULL;
    if (!policy || !schemas || file_sha256(policy_path, sha) != 0) {
        if (policy && !schemas) fprintf(stderr, "amtagvi-adjudicator: avro: %s\n", err);
        policy_free(policy);
        schemas_free(schemas);
        avro_codec_free(codec);
        config_free(&cfg);
        return 1;
    }
    store_t *store = store_new(cfg.database_url, cfg.worker_id);
    engine_t *engine = engine_new(policy);
    retro_row_t *rows = calloc(FETCH_ROWS, sizeof *rows);
    retro_finding_row_t *found = calloc(FLUSH_FINDINGS, sizeof *found);
    arena_t events = {0};
    pending_list_t pending = {0};
    retro_counts_t counts = {0};
    int64_t run_id = 0, total = 0, done = 0;
    findings_t fs = {store, 0, dry_run, &counts, found, 0, {0}};
    int rc = 1;
    bool registry_down = false; /* the run fails for the registry, not the database */
    store_status_t st = STORE_OK;
    if (!dry_run) st = store_retro_create_run(store, from, to, policy->file_version, sha, &run_id);
    fs.run_id = run_id;
    /* Retention (docs/DECISIONS.md "Retention") removed determinations decided before its
     * horizon, all but paid doses and what the judge needs: a window that starts before it is
     * re-judged from a thinned history, and its findings there are incomplete. */
    date_t horizon = DATE_NULL;
    char horizon_s[16] = "";
    bool before_horizon = false;
    if (st == STORE_OK) {
        if (store_retention_horizon(store, &horizon) != STORE_OK) {
            fprintf(stderr,
                    "amtagvi-adjudicator: retro: warning: the retention horizon cannot be "
                    "read (%s); the window is not checked against it\n",
                    store_error(store));
            horizon = DATE_NULL;
        }
        if (horizon != DATE_NULL) {
            date_format(horizon, horizon_s);
            before_horizon = from < horizon;
            if (before_horizon)
                fprintf(stderr,
                        "amtagvi-adjudicator: retro: warning: window starts %s, before the "
                        "retention horizon %s: determinations before it were archived/deleted "
                        "except paid doses; findings before the horizon are incomplete\n",
                        from_s, horizon_s);
            if (!dry_run) st = store_retro_note_horizon(store, run_id, horizon, before_horizon);
        }
    }
    if (st == STORE_OK) st = store_retro_open(store, from, to, &total, &counts.members);
    if (st != STORE_OK) {
        fprintf(stderr, "amtagvi-adjudicator: retro: %s\n", store_error(store));
        goto cleanup;
    }
    log_at(LOG_INFO, "retro started",
           "\"run_id\":%lld,\"from\":\"%s\",\"to\":\"%s\",\"policy_file\":\"%s\","
           "\"sha256\":\"%s\",\"members\":%lld,\"events\":%lld,\"dry_run\":%s",
           (long long)run_id, from_s, to_s, policy->file_version, sha, (long long)counts.members,
           (long long)total, dry_run ? "true" : "false");
    progress_t prog = {isatty(STDERR_FILENO), mono_s(), 0, total};
    char member[EVENT_MAX_STRING_BYTES + 1] = "";
    for (;;) {
        size_t n;
        if ((st = store_retro_fetch(store, rows, FETCH_ROWS, &n)) != STORE_OK) break;
        if (n == 0) break;
        arena_reset(&events);
        for (size_t i = 0; i < n && st == STORE_OK; i++) {
            const retro_row_t *r = &rows[i];
            if (strcmp(member, r->member_id) != 0) {
                /* The previous member's stream is all replayed: judge its window's events. A
                 * new member's history starts empty and is rebuilt by replay. */
                if ((st = judge_member(engine, &pending, &fs)) != STORE_OK) break;
                engine_reset(engine);
                snprintf(member, sizeof member, "%s", r->member_id);
            }
            done++;
            event_t ev;
            char derr[512];
            if (ensure_schema(schemas, r->payload, r->payload_len, derr, sizeof derr) != 0) {
                fprintf(stderr, "amtagvi-adjudicator: retro: schema registry: %s\n", derr);
                registry_down = true;
                st = STORE_RETRY;
                break;
            }
            if (avro_codec_decode_event(codec, r->payload, r->payload_len, &ev, &events, derr,
                                        sizeof derr) != DECODE_OK) {
                counts.undecodable++;
                log_at(LOG_WARN, "stored payload does not decode", "\"event_id\":\"%s\"",
                       r->event_id);
                continue;
            }
            const determination_t *d;
            if (engine_process(engine, &ev, &d) < 0) {
                st = STORE_RETRY;
                break;
            }
            counts.events_replayed++;
            if (r->decision_date < from || r->decision_date > to) continue;
            counts.events_in_window++;
            if (pending_add(&pending, r) != 0) st = STORE_RETRY; /* out of memory */
        }
        progress(&prog, done, false);
        if (st != STORE_OK) break;
    }
    if (st == STORE_OK) st = judge_member(engine, &pending, &fs);
    if (st == STORE_OK && fs.n_found)
        st = store_retro_add_findings(store, run_id, found, fs.n_found);
    progress(&prog, done, true);
    if (st != STORE_OK) {
        fprintf(stderr, "amtagvi-adjudicator: retro failed: %s\n",
                registry_down ? "the schema registry is unavailable" : store_error(store));
        store_retro_close(store, run_id, &counts, false);
        goto cleanup;
    }
    if (store_retro_close(store, dry_run ? 0 : run_id, &counts, true) != STORE_OK) {
        fprintf(stderr, "amtagvi-adjudicator: retro: %s\n", store_error(store));
        goto cleanup;
    }
    double secs = mono_s() - prog.started;
    printf("retro-review %s%s..%s with %s (sha256 %.12s)\n", dry_run ? "(dry run) " : "", from_s,
           to_s, policy->file_version, sha);
    if (!dry_run) printf("  run id                   %lld\n", (long long)run_id);
    printf("  members affected         %lld\n", (long long)counts.members);
    printf("  events replayed          %lld (%.0f events/s)\n", (long long)counts.events_replayed,
           secs > 0 ? (double)counts.events_replayed / secs : 0.0);
    printf("  events in window         %lld\n", (long long)counts.events_in_window);
    printf("  determinations changed   %lld\n", (long long)counts.changed);
    printf("  paid, would now be denied (possible overpayment)  %lld\n",
           (long long)counts.paid_now_denied);
    printf("  denied, would now be paid                         %lld\n",
           (long long)counts.denied_now_paid);
    printf("  replacements and voids reversing otherwise        %lld\n",
           (long long)counts.reversals_changed);
    if (counts.undecodable)
        printf("  undecodable stored events %lld\n", (long long)counts.undecodable);
    if (before_horizon)
        printf("  retention horizon        %s: the window starts before it; determinations "
               "before it were archived/deleted except paid doses, findings before it are "
               "incomplete\n",
               horizon_s);
    else if (horizon != DATE_NULL)
        printf("  retention horizon        %s (the window is after it)\n", horizon_s);
    rc = 0;

cleanup:
    free(rows);
    free(found);
    arena_free(&events);
    arena_free(&fs.strings);
    arena_free(&pending.strings);
    free(pending.items);
    engine_free(engine);
    store_free(store);
    schemas_free(schemas);
    avro_codec_free(codec);
    policy_free(policy);
    config_free(&cfg);
    return rc;
}
