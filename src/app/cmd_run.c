/* `run`: the worker. Kafka → judge → PostgreSQL → outcomes topic.
 *
 * Guarantees (docs/RELIABILITY.md):
 * - exactly-once determinations in PostgreSQL: a batch's determinations, dead letters and the
 *   consumer offsets commit in one transaction, fenced on the offsets this worker expects;
 * - at-least-once outcomes with a stable determination_id: publishing follows the commit; a
 *   crash between the two leaves consumer_offsets.published_offset behind next_offset, and the
 *   worker that next takes the partition republishes that range from the database;
 * - per-member order: a member's events share a partition (keyed by member_id) and a batch is
 *   judged in consumption order with the history of earlier batches loaded from PostgreSQL.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avro_codec.h"
#include "schemas.h"
#include "mono.h"
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "engine.h"
#include "kafka.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "publish.h"
#include "store.h"

#define MAX_PARTS 1024

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct {
    char topic[256];
    int32_t partition;
    int64_t expected_next; /* the database's next_offset as this worker last saw or wrote it */
    int64_t published;     /* everything below is on the outcomes topic */
    int64_t in_flight;     /* ... once the deliveries in flight are acknowledged */
    int64_t consumed;      /* next offset expected from the consumer (drops stale messages) */
    bool eof;
} part_t;

typedef struct {
    kafka_message_t msg;
    decode_status_t status;
    const char *reason; /* the dead letter's error class: a decode status, or "rejected" */
    const char *stage;  /* ... and where it failed: decode, validate, store */
    const char *error;  /* why it is a dead letter; in the batch's arena */
    event_kind_t kind;
    const event_t *event; /* decoded; valid until the batch is judged (the array is shared) */
    const determination_t *det;
    const void *frame; /* its outcome message, encoded when judged; in the batch's arena */
    size_t frame_len;
    bool is_new;
} item_t;

/* A batch from first poll to publication. Two alternate: while one is committed by the commit
 * thread and then published, the next is polled, decoded and judged. */
typedef struct {
    item_t *items;
    size_t n_items;
    arena_t arena;    /* decoded events and the batch's arrays */
    engine_t *engine; /* history of the batch's members, then its determinations */
    store_row_t *rows;
    size_t n_rows;
    store_dead_letter_t *dead;
    size_t n_dead;
    store_position_t *pos;
    size_t n_pos;
    store_batch_stats_t stats;
    long judged, replayed;
    int64_t decided_at;     /* wall ms */
    int64_t started;        /* monotonic ms of the first message */
    int64_t t_loaded;       /* history loaded */
    int64_t t_load_start;   /* history load began (after retries) */
    int64_t t_judged;       /* judged */
    int64_t t_submitted;    /* the previous batch committed, this one handed to the commit thread */
    int64_t t_committed;    /* the commit thread's result seen */
    int64_t commit_ms;      /* the commit itself */
    int64_t latency_max_ms; /* longest produce -> commit among its events */
} batch_t;

/* The commit thread: one batch at a time, on its own connection. */
typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    store_t *store;
    const char *group;
    batch_t *job; /* submitted, not yet taken by the thread */
    bool done;    /* the submitted batch's result is ready */
    bool quit;
    store_status_t result;
    char error[512];
    int64_t commit_ms;
    store_rejection_t *rejected; /* rows PostgreSQL refused (STORE_REJECTED); one per row */
    size_t n_rejected;
} committer_t;

/* Events whose rows PostgreSQL refused: the batch is judged again without them, and they are
 * dead-lettered (stage store) when their offsets come round again. A small ring: an entry is
 * needed only until the batch after the refusal commits. */
#define QUARANTINE_MAX 4096
typedef struct {
    char topic[256];
    int32_t partition;
    int64_t offset;
    const char *reason, *stage; /* static strings */
    char error[256];
} quarantined_t;

typedef struct {
    config_t *cfg;
    policy_t *policy;
    avro_codec_t *codec;
    schemas_t *schemas; /* pinned ids, or the Schema Registry */
    store_t *store;     /* main thread: positions, history, republishing */
    committer_t committer;
    bool committer_started;
    metrics_t *metrics;
    http_server_t *http;
    kafka_consumer_t *consumer;
    kafka_producer_t *producer;
    part_t parts[MAX_PARTS];
    size_t n_parts;
    batch_t slots[2];
    event_t *events; /* decoded events of the batch being judged: one array for both slots */
    batch_t *cur;    /* being polled, decoded, judged */
    batch_t *prev;   /* submitted to the commit thread, or committed and not yet published */
    bool prev_committed;
    bool abandon; /* stopping with positions unknown: commit nothing more */
    buf_t frame;
    bool publish_pending; /* the last batch's messages are produced, not yet acknowledged */
    long publish_mark;    /* the producer's failure count when they were produced */
    int64_t commit_delay; /* backoff while the commit fails */
    quarantined_t *quarantine;
    size_t n_quarantined, quarantine_next;
    char **trace_headers; /* trace.headers: copied from an event to its outcome */
    size_t n_trace_headers;
    /* totals for the closing log line */
    long batches, judged, replayed, dead;
    int64_t fault_exit_after_commit; /* fault.exit.after.commit, tests only */
} worker_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms, in slices, ending early once a stop is requested. */
static void sleep_ms(int64_t ms)
{
    for (int64_t left = ms; left > 0 && !stop_requested; left -= 100) {
        int64_t slice = left < 100 ? left : 100;
        struct timespec ts = {0, slice * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Exponential backoff between retries while a dependency is down. Waiting is not progress:
 * the loop does not tick meanwhile, so /healthz turns unhealthy once the worker has had work
 * and made no progress for health.stall.ms, whatever the cause. */
static int64_t backoff_to(int64_t *delay, int64_t max_ms)
{
    int64_t d = *delay;
    sleep_ms(d);
    *delay = d * 2 > max_ms ? max_ms : d * 2;
    return d;
}

static int64_t backoff(worker_t *w, int64_t *delay)
{
    return backoff_to(delay, w->cfg->retry_max_backoff_ms);
}

static part_t *find_part(worker_t *w, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < w->n_parts; i++)
        if (w->parts[i].partition == partition && strcmp(w->parts[i].topic, topic) == 0)
            return &w->parts[i];
    return NULL;
}

static void drop_batch(batch_t *b)
{
    for (size_t i = 0; i < b->n_items; i++) kafka_message_release(&b->items[i].msg);
    b->n_items = 0;
}

/* ------------------------------------------------------------------ publishing */

static void on_delivery_failure(void *ctx)
{
    worker_t *w = ctx;
    metrics_count_kafka_error(w->metrics);
}

/* The headers of an outcome: its determination_id, and the event's trace context
 * (trace.headers: traceparent, tracestate, ...) when the event is at hand. */
#define MAX_OUTCOME_HEADERS 16

/* Encodes d's outcome message into out. @returns 0, or -1 with err (no values in it). */
static int encode_outcome(worker_t *w, const determination_t *d, int64_t decided_at_ms,
                          const char *topic, int32_t partition, int64_t offset, buf_t *out,
                          char *err, size_t errlen)
{
    const char *refuse = w->cfg->fault_encode_refuse;
    if (refuse[0] && strncmp(d->event_id, refuse, strlen(refuse)) == 0) {
        snprintf(err, errlen, "fault injection: the encoder refused the determination");
        return -1;
    }
    determination_meta_t meta = {decided_at_ms, topic, partition, offset};
    buf_clear(out);
    return avro_codec_encode_determination(w->codec, d, w->policy, &meta, out, err, errlen);
}

/* Publishes an encoded outcome: keyed by member_id, with its determination_id and the event's
 * trace context (trace.headers: traceparent, tracestate, ...) when the event is at hand.
 * @returns 0 when queued (or shortened, or dropped as too large: the determination is stored
 * either way), -1 to retry later (broker trouble, or stopping). */
static int send_outcome(worker_t *w, const determination_t *d, const void *frame, size_t len,
                        const kafka_message_t *event_msg)
{
    record_header_t h[MAX_OUTCOME_HEADERS];
    size_t n = 0;
    if (event_msg && w->n_trace_headers) {
        record_header_t in[64];
        size_t n_in = kafka_message_headers(event_msg, in, 64);
        for (size_t i = 0; i < n_in && i < 64; i++)
            for (size_t k = 0; k < w->n_trace_headers && n < MAX_OUTCOME_HEADERS - 1; k++)
                if (strcmp(in[i].name, w->trace_headers[k]) == 0) h[n++] = in[i];
    }
    size_t n_original = n;
    h[n++] = (record_header_t){"determination_id", d->determination_id, UUID_STRING_LEN};
    kafka_record_t r = {.topic = w->cfg->outcomes_topic,
                        .key = d->member_id,
                        .key_len = strlen(d->member_id),
                        .value = frame,
                        .value_len = len,
                        .headers = h,
                        .n_headers = n};
    bool shortened;
    kafka_produce_t res = publish_record(w->producer, &r, n_original, &shortened);
    if (shortened || res == KAFKA_TOO_LARGE) metrics_count_publish_truncated(w->metrics);
    return res == KAFKA_QUEUED || res == KAFKA_TOO_LARGE ? 0 : -1;
}

static int produce_dead_letter(worker_t *w, const store_dead_letter_t *dl)
{
    bool shortened;
    kafka_produce_t res =
        publish_dead_letter(w->producer, w->cfg->dead_letter_topic, dl, &shortened);
    if (shortened || res == KAFKA_TOO_LARGE) metrics_count_publish_truncated(w->metrics);
    return res == KAFKA_QUEUED || res == KAFKA_TOO_LARGE ? 0 : -1;
}

static int republish_cb(void *ctx, const determination_t *d, const store_dead_letter_t *dl,
                        int64_t decided_at_ms, const char *topic, int32_t partition, int64_t offset)
{
    worker_t *w = ctx;
    if (!d) return produce_dead_letter(w, dl);
    char err[256];
    if (encode_outcome(w, d, decided_at_ms, topic, partition, offset, &w->frame, err, sizeof err) !=
        0) {
        /* Stored long ago and now unencodable (a defect): skipping it keeps the partition
         * flowing; it is logged and counted. */
        log_at(LOG_ERROR, "cannot encode a stored determination; outcome not republished",
               "\"event_id\":\"%s\",\"error\":\"%s\"", d->event_id, err);
        metrics_count_publish_truncated(w->metrics);
        return 0;
    }
    return send_outcome(w, d, w->frame.data, w->frame.len, NULL);
}

/* Waits for every publication in flight (one or more batches since the last confirmation).
 * Batches are confirmed lazily: a commit records as published what is confirmed by then
 * (confirm_published_if_done), and this blocking wait runs only when idle, on revoke and on
 * shutdown. If a delivery failed, the whole unconfirmed range of each partition is
 * republished from the database, as a new owner of the partition would. */
static void confirm_published(worker_t *w)
{
    if (!w->publish_pending) return;
    w->publish_pending = false;
    /* A flush cut short by a stop request delivered nothing for sure. */
    bool delivered = kafka_producer_flush(w->producer) == 0 &&
                     kafka_producer_failures(w->producer) == w->publish_mark;
    for (size_t i = 0; i < w->n_parts; i++) {
        part_t *p = &w->parts[i];
        if (p->in_flight <= p->published) continue;
        int64_t delay = 100;
        while (!delivered && !stop_requested) {
            log_at(LOG_WARN, "delivery failed; republishing the committed range",
                   "\"topic\":\"%s\",\"partition\":%d,\"from\":%lld,\"to\":%lld", p->topic,
                   p->partition, (long long)p->published, (long long)p->in_flight);
            long mark = kafka_producer_failures(w->producer);
            if (store_republish(w->store, p->topic, p->partition, p->published, p->in_flight,
                                republish_cb, w) == STORE_OK &&
                kafka_producer_flush(w->producer) == 0 &&
                kafka_producer_failures(w->producer) == mark)
                break;
            backoff(w, &delay);
        }
        if (delivered || !stop_requested) p->published = p->in_flight;
    }
}

/* Confirms the publications in flight if every message has been acknowledged; never waits. */
static void confirm_published_if_done(worker_t *w)
{
    if (!w->publish_pending) return;
    kafka_producer_poll(w->producer, 0); /* serve delivery reports */
    if (kafka_producer_queued(w->producer) == 0) confirm_published(w);
}

static void finish_prev(worker_t *w);

/* ------------------------------------------------------------------ rebalance */

/* Takes a partition: reads its position from the database, republishes whatever a crashed
 * worker committed but may not have published, and returns where consuming resumes. */
static int64_t take_partition(worker_t *w, const char *topic, int32_t partition)
{
    int64_t delay = 100;
    for (;;) {
        int64_t next, published;
        store_status_t st =
            store_position(w->store, w->cfg->group_id, topic, partition, 0, &next, &published);
        if (st == STORE_OK && published < next) {
            log_at(LOG_INFO, "republishing committed range",
                   "\"topic\":\"%s\",\"partition\":%d,"
                   "\"from\":%lld,\"to\":%lld",
                   topic, partition, (long long)published, (long long)next);
            st = store_republish(w->store, topic, partition, published, next, republish_cb, w);
            if (st == STORE_OK && kafka_producer_flush(w->producer) != 0) st = STORE_RETRY;
            if (st == STORE_OK)
                st = store_mark_published(w->store, w->cfg->group_id, topic, partition, next);
            if (st == STORE_OK) published = next;
        }
        if (st == STORE_OK) {
            if (w->n_parts < MAX_PARTS) {
                part_t *p = &w->parts[w->n_parts++];
                snprintf(p->topic, sizeof p->topic, "%s", topic);
                p->partition = partition;
                p->expected_next = next;
                p->consumed = next;
                p->published = published;
                p->in_flight = published;
                p->eof = false;
            }
            return next;
        }
        log_at(LOG_WARN, "cannot read partition position; retrying",
               "\"topic\":\"%s\",\"partition\":%d,\"error\":\"%s\"", topic, partition,
               store_error(w->store));
        backoff(w, &delay);
        if (stop_requested) return next;
    }
}

static void release_partitions(worker_t *w)
{
    /* Record what this worker published so the next owner republishes nothing. */
    for (size_t i = 0; i < w->n_parts; i++) {
        part_t *p = &w->parts[i];
        if (p->published > 0)
            store_mark_published(w->store, w->cfg->group_id, p->topic, p->partition, p->published);
    }
    w->n_parts = 0;
}

static void on_assign(void *ctx, kafka_position_t *parts, int n)
{
    worker_t *w = ctx;
    for (int i = 0; i < n; i++)
        parts[i].offset = take_partition(w, parts[i].topic, parts[i].partition);
    log_at(LOG_INFO, "partitions assigned", "\"count\":%d", n);
    metrics_count_rebalance(w->metrics, METRICS_REBALANCE_ASSIGN);
    metrics_set_assigned_partitions(w->metrics, n);
    metrics_set_ready(w->metrics, true);
}

static void on_revoke(void *ctx, int n)
{
    worker_t *w = ctx;
    /* Whatever the batch in hand holds came from partitions that may now belong to another
     * worker: it was never committed, so dropping it loses nothing. The batch with the commit
     * thread is finished first: once committed, it is published before we let go. */
    drop_batch(w->cur);
    finish_prev(w);
    confirm_published(w);
    release_partitions(w);
    log_at(LOG_INFO, "partitions revoked", "\"count\":%d", n);
    metrics_count_rebalance(w->metrics, METRICS_REBALANCE_REVOKE);
    metrics_clear_lag(w->metrics);
    metrics_set_assigned_partitions(w->metrics, 0);
    metrics_set_ready(w->metrics, false);
}

/* ------------------------------------------------------------------ the commit thread */

static void *committer_main(void *arg)
{
    committer_t *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->job && !c->quit) pthread_cond_wait(&c->cv, &c->mu);
        if (c->quit) break;
        batch_t *b = c->job;
        c->job = NULL;
        pthread_mutex_unlock(&c->mu);
        const int64_t t0 = mono_ms();
        size_t n_rejected = 0;
        store_status_t st =
            store_commit_batch(c->store, c->group, b->rows, b->n_rows, b->dead, b->n_dead, b->pos,
                               b->n_pos, &b->stats, c->rejected, &n_rejected);
        const int64_t ms = mono_ms() - t0;
        pthread_mutex_lock(&c->mu);
        c->result = st;
        c->commit_ms = ms;
        c->n_rejected = n_rejected;
        snprintf(c->error, sizeof c->error, "%s", st == STORE_OK ? "" : store_error(c->store));
        c->done = true;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void committer_submit(committer_t *c, batch_t *b)
{
    pthread_mutex_lock(&c->mu);
    c->job = b;
    c->done = false;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static bool committer_done(committer_t *c)
{
    pthread_mutex_lock(&c->mu);
    bool d = c->done;
    pthread_mutex_unlock(&c->mu);
    return d;
}

static store_status_t committer_wait(committer_t *c, char *error, size_t errlen, int64_t *ms)
{
    pthread_mutex_lock(&c->mu);
    while (!c->done) pthread_cond_wait(&c->cv, &c->mu);
    store_status_t st = c->result;
    snprintf(error, errlen, "%s", c->error);
    *ms = c->commit_ms;
    pthread_mutex_unlock(&c->mu);
    return st;
}

/* ------------------------------------------------------------------ quarantine */

static void quarantine_add(worker_t *w, const char *topic, int32_t partition, int64_t offset,
                           const char *reason, const char *stage, const char *error)
{
    quarantined_t *q = &w->quarantine[w->quarantine_next];
    w->quarantine_next = (w->quarantine_next + 1) % QUARANTINE_MAX;
    if (w->n_quarantined < QUARANTINE_MAX) w->n_quarantined++;
    snprintf(q->topic, sizeof q->topic, "%s", topic);
    q->partition = partition;
    q->offset = offset;
    q->reason = reason;
    q->stage = stage;
    snprintf(q->error, sizeof q->error, "%s", error);
}

/* Forgets the events a committed batch dead-lettered: the partition's position has passed them,
 * so they are never read again (a later owner starts from that position too). Without this the
 * ring, once anything was refused, was scanned for every message until 4,096 more refusals
 * pushed the entry out. Dropping an entry when it is found instead is wrong: a batch that is
 * judged again before it commits must find it again. */
static void quarantine_prune(worker_t *w, const char *topic, int32_t partition, int64_t next)
{
    size_t kept = 0;
    for (size_t i = 0; i < w->n_quarantined; i++) {
        const quarantined_t *q = &w->quarantine[i];
        if (q->partition == partition && q->offset < next && strcmp(q->topic, topic) == 0) continue;
        if (kept != i) w->quarantine[kept] = *q;
        kept++;
    }
    if (kept == w->n_quarantined) return;
    w->n_quarantined = kept;
    w->quarantine_next = kept % QUARANTINE_MAX;
}

static const quarantined_t *quarantine_find(const worker_t *w, const kafka_message_t *m)
{
    for (size_t i = 0; i < w->n_quarantined; i++) {
        const quarantined_t *q = &w->quarantine[i];
        if (q->offset == m->offset && q->partition == m->partition &&
            strcmp(q->topic, m->topic) == 0)
            return q;
    }
    return NULL;
}

/* ------------------------------------------------------------------ one batch */

static void decode_items(worker_t *w, batch_t *b)
{
    char error[256];
    const char *why;
    for (size_t i = 0; i < b->n_items; i++) {
        item_t *it = &b->items[i];
        const kafka_message_t *m = &it->msg;
        event_t *ev = &w->events[i];
        it->event = ev;
        it->det = NULL;
        it->is_new = false;
        it->error = "";
        error[0] = '\0';
        if (!m->key || m->key_len == 0) {
            it->status = DECODE_INVALID;
            snprintf(error, sizeof error, "message has no key (member_id expected)");
        } else if ((why = schemas_unknown_reason(w->schemas, m->value, m->value_len))) {
            it->status = DECODE_UNKNOWN_SCHEMA; /* the registry has no Avro schema of the id */
            snprintf(error, sizeof error, "%s", why);
        } else {
            it->status = avro_codec_decode_event(w->codec, m->value, m->value_len, ev, &b->arena,
                                                 error, sizeof error);
            const char *member = it->status == DECODE_OK ? event_member_of(ev) : NULL;
            if (member && (strlen(member) != m->key_len || memcmp(member, m->key, m->key_len))) {
                /* A key other than the member breaks per-member ordering (contract §1). */
                it->status = DECODE_INVALID;
                snprintf(error, sizeof error, "message key is not the event's member_id");
            }
        }
        it->reason = decode_status_name(it->status);
        it->stage = it->status == DECODE_INVALID ? "validate" : "decode";
        const quarantined_t *q = w->n_quarantined ? quarantine_find(w, m) : NULL;
        if (q) {
            /* Judged before, but PostgreSQL refused its row or its outcome could not be
             * encoded: it is dead-lettered now, and the batch is judged without it. */
            it->status = DECODE_INVALID;
            it->reason = q->reason;
            it->stage = q->stage;
            snprintf(error, sizeof error, "%s", q->error);
        }
        if (it->status == DECODE_OK) {
            it->kind = ev->kind;
        } else {
            const char *e = arena_strdup(&b->arena, error);
            it->error = e ? e : "out of memory";
        }
    }
}

/* Re-reads every owned partition's position from the database and seeks the consumer there.
 * After a fenced commit both batches in hand are dropped: this is where consuming resumes; if
 * another worker owns a partition, the coming rebalance takes it from us. */
static void resync_partitions(worker_t *w)
{
    for (size_t k = 0; k < w->n_parts; k++) {
        part_t *p = &w->parts[k];
        int64_t next, published, delay = 100;
        /* Until the position is read, nothing of this partition may be committed: resuming
         * from the consumer's position would skip the dropped batches. */
        while (store_position(w->store, w->cfg->group_id, p->topic, p->partition, 0, &next,
                              &published) != STORE_OK) {
            if (stop_requested) {
                w->abandon = true;
                return;
            }
            log_at(LOG_WARN, "cannot read partition position; retrying",
                   "\"topic\":\"%s\",\"partition\":%d,\"error\":\"%s\"", p->topic, p->partition,
                   store_error(w->store));
            backoff(w, &delay);
        }
        p->expected_next = p->consumed = next;
        /* What this worker committed and queued for publishing stays in flight: it is
         * confirmed (or republished) as before, whatever the table says yet. */
        if (published > p->published) p->published = published;
        if (p->in_flight < p->published) p->in_flight = p->published;
        kafka_consumer_seek(w->consumer, p->topic, p->partition, next);
    }
}

/* Drops both batches in hand (nothing of them is committed) and resumes every partition from
 * its stored position. */
static void restart_from_database(worker_t *w)
{
    if (w->prev) drop_batch(w->prev);
    drop_batch(w->cur);
    w->prev = NULL;
    resync_partitions(w);
}

/* Collects the commit thread's result for the previous batch. A failed commit is resubmitted
 * after a backoff (the same rows: judging is deterministic and the fence guarantees nobody else
 * wrote them). @returns 1 when committed, 0 when still committing (block false), -1 when fenced:
 * both batches were dropped and the partitions resynchronised. */
static int await_commit(worker_t *w, bool block)
{
    batch_t *b = w->prev;
    if (!b || w->prev_committed) return b ? 1 : 0;
    for (;;) {
        if (!block && !committer_done(&w->committer)) return 0;
        char error[512];
        int64_t ms;
        store_status_t st = committer_wait(&w->committer, error, sizeof error, &ms);
        if (st == STORE_OK) {
            b->commit_ms = ms;
            break;
        }
        if (st == STORE_FENCED) {
            metrics_count_fenced_batch(w->metrics);
            log_at(LOG_WARN, "batch fenced; re-reading positions", "\"error\":\"%s\"", error);
            restart_from_database(w);
            return -1;
        }
        if (st == STORE_REJECTED) {
            /* Content PostgreSQL refuses fails on every retry: its events are dead-lettered and
             * both batches judged again without them (the next batch saw their
             * determinations in its history). */
            for (size_t k = 0; k < w->committer.n_rejected; k++) {
                const store_rejection_t *r = &w->committer.rejected[k];
                const store_row_t *row = &b->rows[r->row];
                quarantine_add(w, row->topic, row->partition, row->offset, "rejected", "store",
                               r->error);
                log_at(LOG_WARN, "row refused by PostgreSQL; the event is dead-lettered",
                       "\"event_id\":\"%s\",\"partition\":%d,\"offset\":%lld,\"error\":\"%s\"",
                       row->det->event_id, row->partition, (long long)row->offset, r->error);
            }
            restart_from_database(w);
            return -1;
        }
        metrics_count_database_error(w->metrics);
        metrics_set_ready(w->metrics, false);
        if (stop_requested) {
            /* Stopping while the database is down: nothing of either batch is committed, and
             * the next owner of the partitions reads them again. */
            log_at(LOG_WARN, "stopping with the batch uncommitted", "\"error\":\"%s\"", error);
            drop_batch(b);
            drop_batch(w->cur);
            w->prev = NULL;
            w->abandon = true;
            return -1;
        }
        int64_t d = backoff(w, &w->commit_delay);
        log_at(LOG_WARN, "database unavailable; retrying batch",
               "\"error\":\"%s\",\"retry_in_ms\":%lld", error, (long long)d);
        committer_submit(&w->committer, b);
        if (!block) return 0;
    }
    w->commit_delay = 100;
    w->prev_committed = true;
    b->t_committed = mono_ms();
    for (size_t k = 0; k < b->n_pos; k++) {
        part_t *p = find_part(w, b->pos[k].topic, b->pos[k].partition);
        if (p) p->expected_next = b->pos[k].new_next;
        if (b->pos[k].high_watermark >= 0)
            metrics_set_lag(w->metrics, b->pos[k].topic, b->pos[k].partition,
                            b->pos[k].high_watermark - b->pos[k].new_next);
    }
    metrics_set_ready(w->metrics, true);
    const int64_t committed_wall = now_ms();
    for (size_t i = 0; i < b->n_items; i++) {
        const item_t *it = &b->items[i];
        if (it->status != DECODE_OK) continue;
        if (it->is_new)
            metrics_count_event(w->metrics, it->kind, it->det->outcome);
        else
            metrics_count_replay(w->metrics, it->kind);
        int64_t produced = it->msg.timestamp_ms;
        if (produced > 0) {
            metrics_observe_event_latency(w->metrics, (double)(committed_wall - produced) / 1e3);
            if (committed_wall - produced > b->latency_max_ms)
                b->latency_max_ms = committed_wall - produced;
        }
    }
    for (size_t i = 0; i < b->n_dead; i++) metrics_count_dead_letter(w->metrics, b->dead[i].reason);
    metrics_observe_batch(w->metrics, b->n_items, (double)(b->t_committed - b->started) / 1e3);
    w->judged += b->judged;
    w->replayed += b->replayed;
    w->dead += (long)b->n_dead;
    w->batches++;
    return 1;
}

/* Publishes the committed previous batch and lets it go. Replays are published again too: the
 * redelivered event gets its stored determination, with the same determination_id. The acks
 * are awaited by confirm_published before the next commit records them as published. */
static void publish_prev(worker_t *w)
{
    batch_t *b = w->prev;
    if (!b || !w->prev_committed) return;
    /* Fault injection for the tests of the commit -> publish window: die like kill -9 right
     * after the Nth commit, before anything of that batch is published. */
    if (w->fault_exit_after_commit > 0 && w->batches == w->fault_exit_after_commit) {
        log_at(LOG_WARN, "fault injection: exiting after commit, before publish", NULL);
        _exit(137);
    }
    const int64_t t0 = mono_ms();
    int64_t delay = 100;
    /* Keep what is unacknowledged to about two batches: the producer holds a copy of every
     * message until its ack, and a broker that falls behind would otherwise grow the worker's
     * memory (measured: 125-130 MB peak instead of 85-95 MB at 55,000 events/s). This waits
     * while the batch just handed over commits, so it rarely delays anything. */
    if (w->publish_pending &&
        kafka_producer_queued(w->producer) > (size_t)w->cfg->batch_max_messages)
        confirm_published(w);
    /* Failures are counted from the oldest publication not yet confirmed. */
    if (!w->publish_pending) w->publish_mark = kafka_producer_failures(w->producer);
    for (;;) {
        int rc = 0;
        for (size_t i = 0; i < b->n_items && rc == 0; i++) {
            const item_t *it = &b->items[i];
            if (it->status == DECODE_OK)
                rc = send_outcome(w, it->det, it->frame, it->frame_len, &it->msg);
        }
        for (size_t i = 0; i < b->n_dead && rc == 0; i++) rc = produce_dead_letter(w, &b->dead[i]);
        if (rc == 0) break;
        if (stop_requested) {
            /* The batch is committed; what is not published stays behind published_offset
             * and the next owner of the partitions publishes it from the database. */
            log_at(LOG_WARN, "stopping with the batch committed but not all published", NULL);
            w->publish_pending = false;
            drop_batch(b);
            w->prev = NULL;
            return;
        }
        /* A message could not even be queued: settle everything queued first. Earlier batches
         * may still be unconfirmed (confirmation is lazy), so this must be confirm_published,
         * which republishes their range if a delivery failed, not a bare flush that would let
         * the new mark hide that failure. Then redo this whole batch. */
        confirm_published(w);
        w->publish_mark = kafka_producer_failures(w->producer);
        int64_t d = backoff(w, &delay);
        log_at(LOG_WARN, "publishing failed; republishing the batch", "\"retry_in_ms\":%lld",
               (long long)d);
    }
    w->publish_pending = true;
    kafka_producer_poll(w->producer, 0);
    kafka_position_t mirror[MAX_PARTS];
    for (size_t k = 0; k < b->n_pos && k < MAX_PARTS; k++) {
        part_t *p = find_part(w, b->pos[k].topic, b->pos[k].partition);
        if (p) p->in_flight = b->pos[k].new_next;
        if (w->n_quarantined)
            quarantine_prune(w, b->pos[k].topic, b->pos[k].partition, b->pos[k].new_next);
        mirror[k] = (kafka_position_t){b->pos[k].topic, b->pos[k].partition, b->pos[k].new_next};
    }
    /* Mirror to Kafka for lag tooling only; the database is the source of truth. */
    kafka_consumer_mirror_positions(w->consumer, mirror, b->n_pos);
    log_at(LOG_DEBUG, "batch committed",
           "\"messages\":%zu,\"judged\":%ld,\"replayed\":%ld,\"dead_letters\":%zu,"
           "\"collect_ms\":%lld,\"load_ms\":%lld,\"judge_ms\":%lld,\"commit_ms\":%lld,"
           "\"wait_ms\":%lld,\"publish_ms\":%lld,\"latency_max_ms\":%lld",
           b->n_items, b->judged, b->replayed, b->n_dead, (long long)(b->t_load_start - b->started),
           (long long)(b->t_loaded - b->t_load_start), (long long)(b->t_judged - b->t_loaded),
           (long long)b->commit_ms, (long long)(b->t_submitted - b->t_judged),
           (long long)(mono_ms() - t0), (long long)b->latency_max_ms);
    drop_batch(b);
    w->prev = NULL;
}

/* Waits for the previous batch's commit and publishes it. */
static void finish_prev(worker_t *w)
{
    if (await_commit(w, true) == 1) publish_prev(w);
}

/* Loads the history of the batch's members into its engine: what PostgreSQL holds, then the
 * previous batch's determinations if it may still be committing (engine_load keeps the first
 * of an event_id, so the ones the query already returned are skipped). */
static store_status_t load_history(worker_t *w, batch_t *b, const char **members, const char **ids)
{
    size_t n_members = 0, n_ids = 0;
    for (size_t i = 0; i < b->n_items; i++) {
        if (b->items[i].status != DECODE_OK) continue;
        members[n_members++] = event_member_of(b->items[i].event);
        ids[n_ids++] = event_id_of(b->items[i].event);
    }
    engine_reset(b->engine);
    if (n_members == 0) return STORE_OK;
    store_status_t st = store_load_history(w->store, b->engine, members, n_members, ids, n_ids);
    if (st != STORE_OK || !w->prev) return st;
    for (size_t i = 0; i < w->prev->n_rows; i++)
        if (engine_load(b->engine, w->prev->rows[i].det, w->prev->rows[i].fingerprint) != 0)
            return STORE_RETRY;
    return STORE_OK;
}

/* A message that cannot be judged, as a dead letter: kept whole (key, value, headers,
 * timestamp), with where and why it failed. Its headers are copied into the batch's arena. */
static int dead_letter_of(worker_t *w, batch_t *b, const item_t *it, store_dead_letter_t *dl)
{
    const kafka_message_t *m = &it->msg;
    record_header_t first[1];
    size_t n = kafka_message_headers(m, first, 0);
    record_header_t *h = n ? arena_alloc(&b->arena, n * sizeof *h) : NULL;
    if (n && !h) return -1;
    if (n) kafka_message_headers(m, h, n);
    *dl = (store_dead_letter_t){.topic = m->topic,
                                .partition = m->partition,
                                .offset = m->offset,
                                .reason = it->reason,
                                .error = it->error,
                                .key = m->key,
                                .key_len = m->key_len,
                                .payload = m->value,
                                .payload_len = m->value_len,
                                .stage = it->stage,
                                .headers = h,
                                .n_headers = n,
                                .timestamp_ms = m->timestamp_ms,
                                .replay_count = publish_replay_count(h, n),
                                .consumer_group = w->cfg->group_id,
                                .worker_id = w->cfg->worker_id};
    return 0;
}

/* Judges the batch in hand, then hands it to the commit thread as soon as the previous one is
 * committed, and publishes the previous one while this one commits.
 * @returns 0, or -1 when memory ran out. */
/* With a Schema Registry: fetches the writer schema of every id of the batch the codec does not
 * know yet. The registry down is like the database down: back off and retry, never a dead
 * letter. @returns 0, or 1 when stopping (the batch is dropped: the next owner reads it). */
static int ensure_schemas(worker_t *w, batch_t *b)
{
    if (!schemas_registry_on(w->schemas)) return 0;
    int64_t delay = 100;
    for (size_t i = 0; i < b->n_items;) {
        char err[512];
        const kafka_message_t *m = &b->items[i].msg;
        if (schemas_ensure(w->schemas, m->value, m->value_len, err, sizeof err) == SCHEMAS_OK) {
            i++;
            continue;
        }
        metrics_set_ready(w->metrics, false);
        int64_t d = backoff_to(&delay, w->cfg->schema_registry_retry_max_ms);
        log_at(LOG_WARN, "schema registry unavailable; retrying batch",
               "\"error\":\"%s\",\"retry_in_ms\":%lld", err, (long long)d);
        if (stop_requested) {
            drop_batch(b);
            return 1;
        }
    }
    return 0;
}

static int process_batch(worker_t *w)
{
    batch_t *b = w->cur;
    if (ensure_schemas(w, b) != 0) return 0;
    decode_items(w, b);
    const char **members = arena_alloc(&b->arena, (b->n_items + 1) * sizeof *members);
    const char **ids = arena_alloc(&b->arena, (b->n_items + 1) * sizeof *ids);
    b->rows = arena_alloc(&b->arena, (b->n_items + 1) * sizeof *b->rows);
    b->dead = arena_alloc(&b->arena, (b->n_items + 1) * sizeof *b->dead);
    b->pos = arena_alloc(&b->arena, (w->n_parts + 1) * sizeof *b->pos);
    if (!members || !ids || !b->rows || !b->dead || !b->pos) return -1;

    int64_t delay = 100;
    for (;;) {
        const int64_t t_start = mono_ms();
        store_status_t st = load_history(w, b, members, ids);
        if (st == STORE_RETRY) {
            metrics_count_database_error(w->metrics);
            metrics_set_ready(w->metrics, false);
            int64_t d = backoff(w, &delay);
            log_at(LOG_WARN, "database unavailable; retrying batch",
                   "\"error\":\"%s\",\"retry_in_ms\":%lld", store_error(w->store), (long long)d);
            if (stop_requested) {
                /* Nothing of this batch is committed: the next owner reads it again. */
                drop_batch(b);
                return 0;
            }
            continue;
        }
        b->t_load_start = t_start;
        b->t_loaded = mono_ms();
        break;
    }
    b->decided_at = now_ms();
    b->n_rows = b->n_dead = b->n_pos = 0;
    b->judged = b->replayed = 0;
    bool unencodable = false;
    for (size_t i = 0; i < b->n_items; i++) {
        item_t *it = &b->items[i];
        const kafka_message_t *m = &it->msg;
        if (it->status != DECODE_OK) {
            if (dead_letter_of(w, b, it, &b->dead[b->n_dead++]) != 0) return -1;
            continue;
        }
        int r = engine_process(b->engine, it->event, &it->det);
        if (r < 0) return -1;
        it->is_new = r == ENGINE_JUDGED;
        if (r == ENGINE_REPLAYED_DIFFERENT)
            log_at(LOG_WARN, "replayed event_id with different content",
                   "\"event_id\":\"%s\",\"partition\":%d,\"offset\":%lld", it->det->event_id,
                   m->partition, (long long)m->offset);
        /* The outcome message is made now, before anything is committed: one the encoder
         * refuses is dead-lettered instead of stored. */
        char err[256];
        if (encode_outcome(w, it->det, b->decided_at, m->topic, m->partition, m->offset, &w->frame,
                           err, sizeof err) != 0) {
            quarantine_add(w, m->topic, m->partition, m->offset, "unencodable", "publish", err);
            log_at(LOG_WARN, "outcome cannot be encoded; the event is dead-lettered",
                   "\"event_id\":\"%s\",\"partition\":%d,\"offset\":%lld,\"error\":\"%s\"",
                   it->det->event_id, m->partition, (long long)m->offset, err);
            unencodable = true;
            continue;
        }
        void *frame = arena_alloc(&b->arena, w->frame.len);
        if (!frame) return -1;
        memcpy(frame, w->frame.data, w->frame.len);
        it->frame = frame;
        it->frame_len = w->frame.len;
        if (!it->is_new) {
            b->replayed++;
            continue;
        }
        b->judged++;
        const event_t *ev = it->event;
        int64_t received =
            ev->kind == EVENT_CLAIM ? ev->claim.received_at_ms : ev->pa.received_at_ms;
        b->rows[b->n_rows++] = (store_row_t){
            .det = it->det,
            .fingerprint = event_fingerprint(ev),
            .payload = m->value,
            .payload_len = m->value_len,
            .received_at_ms = received,
            .decided_at_ms = b->decided_at,
            .urgency = ev->kind == EVENT_PRIOR_AUTH ? urgency_name(ev->pa.urgency) : NULL,
            .topic = m->topic,
            .partition = m->partition,
            .offset = m->offset};
    }
    b->t_judged = mono_ms();
    if (unencodable) {
        /* Later events of the batch were judged with the unencodable determination in their
         * history: once the previous batch is committed, this one is read and judged again,
         * with the quarantined events as dead letters. */
        finish_prev(w);
        if (w->prev || w->abandon) return 0; /* not committed: stopping, or restarted */
        drop_batch(b);
        resync_partitions(w);
        return 0;
    }
    /* This batch was judged on the previous one's determinations: it may be committed only
     * after it, with the positions it leaves. */
    if (await_commit(w, true) < 0) return 0; /* fenced, refused or stopping: both dropped */
    /* The acks of the batches published before usually arrive while this one is judged; if
     * they have, this commit records them as published. It never waits for them: a slow
     * broker ack (the first one after start takes ~0.7 s while the producer gets its id)
     * would hold up every commit behind it. */
    confirm_published_if_done(w);
    /* New positions: one past the last offset of each partition in the batch. */
    for (size_t i = 0; i < b->n_items; i++) {
        const kafka_message_t *m = &b->items[i].msg;
        size_t k;
        for (k = 0; k < b->n_pos; k++)
            if (b->pos[k].partition == m->partition && strcmp(b->pos[k].topic, m->topic) == 0)
                break;
        if (k == b->n_pos) {
            part_t *p = find_part(w, m->topic, m->partition);
            if (!p) continue; /* not ours any more: dropped by the rebalance handler */
            int64_t high = kafka_consumer_high_watermark(w->consumer, p->topic, p->partition);
            b->pos[b->n_pos++] = (store_position_t){p->topic,      p->partition, p->expected_next,
                                                    m->offset + 1, p->published, high};
        } else if (m->offset + 1 > b->pos[k].new_next) {
            b->pos[k].new_next = m->offset + 1;
        }
    }
    b->t_submitted = mono_ms();
    b->latency_max_ms = 0;
    b->stats = (store_batch_stats_t){(int)b->n_items, (int)b->judged, (int)b->replayed,
                                     (int)b->n_dead, (int)(b->t_submitted - b->started)};
    /* Publish the previous batch while this one commits; then this one becomes the previous. */
    committer_submit(&w->committer, b);
    publish_prev(w); /* w->prev, committed by await_commit above; nothing if there is none */
    w->prev = b;
    w->prev_committed = false;
    w->cur = b == &w->slots[0] ? &w->slots[1] : &w->slots[0];
    return 0;
}

/* ------------------------------------------------------------------ main loop */

/* Splits a comma-separated list into a new array of strings. @returns 0, or -1 (memory). */
static int split_list(const char *list, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!list[0]) return 0;
    size_t cap = 1;
    for (const char *p = list; *p; p++) cap += *p == ',';
    char **v = calloc(cap, sizeof *v);
    if (!v) return -1;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        const char *a = p, *e = p + len;
        while (a < e && *a == ' ') a++;
        while (e > a && e[-1] == ' ') e--;
        if (e > a && !(v[*n] = strndup(a, (size_t)(e - a)))) {
            for (size_t i = 0; i < *n; i++) free(v[i]);
            free(v);
            return -1;
        }
        if (e > a) (*n)++;
        p += len + (p[len] == ',');
    }
    *out = v;
    return 0;
}

static bool all_at_end(const worker_t *w)
{
    if (w->n_parts == 0) return false;
    for (size_t i = 0; i < w->n_parts; i++)
        if (!w->parts[i].eof) return false;
    return true;
}

static int run_loop(worker_t *w)
{
    const size_t max = (size_t)w->cfg->batch_max_messages;
    int64_t last_message = mono_ms();
    while (!stop_requested && !w->abandon) {
        metrics_tick(w->metrics);
        int64_t deadline = 0;
        batch_t *b = w->cur;
        while (b->n_items < max && !stop_requested) {
            /* The previous batch is published as soon as it is committed, not when this one
             * is full: at low rates that is what bounds latency. */
            if (w->prev && !w->prev_committed && committer_done(&w->committer)) {
                if (await_commit(w, false) == 1) publish_prev(w);
            }
            int64_t now = mono_ms();
            if (deadline && now >= deadline) break;
            int timeout = deadline ? (int)(deadline - now) : 100;
            if (w->prev && timeout > 5) timeout = 5;
            kafka_message_t m;
            kafka_poll_t r = kafka_consumer_poll(w->consumer, timeout, &m);
            if (r == KAFKA_POLL_NONE) {
                if (!deadline && !w->prev) break; /* idle: let the loop check for shutdown */
                continue;
            }
            if (r == KAFKA_POLL_FATAL) return 1;
            if (r == KAFKA_POLL_ERROR) {
                metrics_count_kafka_error(w->metrics);
                continue;
            }
            part_t *p = find_part(w, m.topic, m.partition);
            if (r == KAFKA_POLL_EOF) {
                if (p) p->eof = true;
                kafka_message_release(&m);
                continue;
            }
            if (!p || m.offset < p->consumed) {
                /* Not ours, or older than our position: a stale fetch from before a rebalance
                 * or a seek. The database position decides; drop it. */
                kafka_message_release(&m);
                continue;
            }
            p->consumed = m.offset + 1;
            p->eof = false;
            if (b->n_items == 0) {
                arena_reset(&b->arena);
                b->started = mono_ms();
                deadline = b->started + w->cfg->batch_max_ms;
            }
            b->items[b->n_items++].msg = m;
        }
        if (b->n_items) {
            if (process_batch(w) != 0) {
                log_at(LOG_ERROR, "out of memory in batch", NULL);
                return 1;
            }
            last_message = mono_ms();
        } else if (w->prev) {
            finish_prev(w);
        } else if (w->publish_pending) {
            confirm_published(w);
        } else if (w->cfg->exit_when_idle_ms > 0 && all_at_end(w) &&
                   mono_ms() - last_message >= w->cfg->exit_when_idle_ms) {
            log_at(LOG_INFO, "idle and at the end of every partition; stopping", NULL);
            break;
        }
    }
    /* SIGTERM/SIGINT: the batch in hand is committed and published before we leave, unless
     * a dependency is down: then nothing more is committed (every wait ends on the stop) and
     * the next owner of the partitions reads the rest again. */
    if (!w->abandon && w->cur->n_items && process_batch(w) != 0) return 1;
    if (!w->abandon) finish_prev(w);
    if (w->abandon) drop_batch(w->cur);
    return 0;
}

int cmd_run(int argc, char **argv)
{
    const char *config_path = NULL;
    bool print_config = false;
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"print-config", no_argument, 0, 'P'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c')
            config_path = optarg;
        else if (c == 'P')
            print_config = true;
        else {
            fputs("usage: amtagvi-adjudicator run [--config FILE] [--print-config]\n",
                  c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    config_t cfg;
    char err[512];
    if (cli_load_config(&cfg, config_path) != 0) {
        config_free(&cfg);
        return 2;
    }
    if (print_config) {
        config_print(&cfg, stdout);
        config_free(&cfg);
        return 0;
    }
    /* Handlers first: a stop request must end every wait from here on, start-up included. */
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int rc = 1;
    worker_t *w = calloc(1, sizeof *w);
    if (!w) {
        log_at(LOG_ERROR, "out of memory", NULL);
        config_free(&cfg);
        return 1;
    }
    w->cfg = &cfg;
    pthread_mutex_init(&w->committer.mu, NULL);
    pthread_cond_init(&w->committer.cv, NULL);
    w->fault_exit_after_commit = cfg.fault_exit_after_commit;
    w->policy = cli_load_policy(cli_policy_path(NULL, &cfg));
    w->commit_delay = 100;
    for (int i = 0; i < 2; i++) {
        w->slots[i].items = calloc((size_t)cfg.batch_max_messages, sizeof(item_t));
        if (w->policy) w->slots[i].engine = engine_new(w->policy);
    }
    w->cur = &w->slots[0];
    w->events = calloc((size_t)cfg.batch_max_messages, sizeof *w->events);
    w->quarantine = calloc(QUARANTINE_MAX, sizeof *w->quarantine);
    w->committer.rejected = calloc((size_t)cfg.batch_max_messages, sizeof *w->committer.rejected);
    if (split_list(cfg.trace_headers, &w->trace_headers, &w->n_trace_headers) != 0)
        w->trace_headers = NULL;
    avro_codec_ids_t ids = {(int32_t)cfg.prior_auth_schema_id, (int32_t)cfg.claim_schema_id,
                            (int32_t)cfg.determination_schema_id, (int32_t)cfg.claim_v1_schema_id};
    if (!w->policy) goto cleanup; /* the reason is printed */
    if (!w->events || !w->slots[0].items || !w->slots[1].items || !w->slots[0].engine ||
        !w->slots[1].engine || !w->quarantine || !w->committer.rejected ||
        (cfg.trace_headers[0] && !w->trace_headers)) {
        log_at(LOG_ERROR, "out of memory", NULL);
        goto cleanup;
    }
    const avro_codec_opts_t codec_opts = {.registry_mode = cfg.schema_registry_url[0] != '\0'};
    if (!(w->codec = avro_codec_new_opts(&ids, &codec_opts, err, sizeof err))) {
        log_at(LOG_ERROR, "avro codec", "\"error\":\"%s\"", err);
        goto cleanup;
    }
    if (!(w->schemas = schemas_new(&cfg, w->codec, err, sizeof err))) {
        log_at(LOG_ERROR, "schema registry", "\"error\":\"%s\"", err);
        goto cleanup;
    }
    if (!(w->metrics = metrics_new())) {
        log_at(LOG_ERROR, "out of memory", NULL);
        goto cleanup;
    }
    metrics_set_build_info(w->metrics, AMTAGVI_VERSION, w->policy->file_version);
    metrics_set_stall_limit_ms(w->metrics, cfg.health_stall_ms);
    metrics_tick(w->metrics);
    if (cfg.metrics_address[0]) {
        if (!(w->http = http_server_start(cfg.metrics_address, w->metrics, err, sizeof err))) {
            log_at(LOG_ERROR, "metrics endpoint", "\"address\":\"%s\",\"error\":\"%s\"",
                   cfg.metrics_address, err);
            goto cleanup;
        }
        log_at(LOG_INFO, "metrics endpoint listening", "\"port\":%d", http_server_port(w->http));
    }
    w->store = store_new(cfg.database_url, cfg.worker_id);
    /* The commit thread has its own connection: a batch commits there while the next one's
     * history is loaded on this one. */
    w->committer.store = store_new(cfg.database_url, cfg.worker_id);
    w->committer.group = cfg.group_id;
    if (!w->store || !w->committer.store ||
        pthread_create(&w->committer.thread, NULL, committer_main, &w->committer) != 0) {
        log_at(LOG_ERROR, "cannot start the commit thread", NULL);
        goto cleanup;
    }
    w->committer_started = true;

    if (!(w->producer =
              kafka_producer_new(&cfg, on_delivery_failure, w, &stop_requested, err, sizeof err))) {
        log_at(LOG_ERROR, "kafka producer", "\"error\":\"%s\"", err);
        goto cleanup;
    }
    const kafka_rebalance_t rebalance = {on_assign, on_revoke, w};
    if (!(w->consumer = kafka_consumer_new(&cfg, NULL, &rebalance, err, sizeof err))) {
        log_at(LOG_ERROR, "kafka consumer", "\"error\":\"%s\"", err);
        goto cleanup;
    }

    /* With a Schema Registry, outcomes are written under the id it holds for our determination
     * schema: registered (or found) before anything is consumed. */
    for (int64_t delay = 100; schemas_registry_on(w->schemas) && !stop_requested;) {
        int32_t id;
        schemas_status_t st =
            schemas_register(w->schemas, "determination", cfg.outcomes_topic, &id, err, sizeof err);
        if (st == SCHEMAS_OK) {
            avro_codec_set_determination_id(w->codec, id);
            log_at(LOG_INFO, "determination schema registered", "\"schema_id\":%d", id);
            break;
        }
        if (st == SCHEMAS_FAILED) {
            log_at(LOG_ERROR, "schema registry refused the determination schema",
                   "\"error\":\"%s\"", err);
            goto cleanup;
        }
        log_at(LOG_WARN, "schema registry unavailable; waiting for it before starting",
               "\"error\":\"%s\"", err);
        backoff_to(&delay, cfg.schema_registry_retry_max_ms);
    }
    if (stop_requested) {
        log_at(LOG_INFO, "stopped before joining the group", NULL);
        rc = 0;
        goto cleanup;
    }

    /* The database must be reachable before joining the group: positions come from it. */
    for (int64_t delay = 100; store_connect(w->store) != STORE_OK && !stop_requested;) {
        log_at(LOG_ERROR, "database unavailable; retrying", "\"error\":\"%s\"",
               store_error(w->store));
        backoff(w, &delay);
    }
    if (stop_requested) {
        log_at(LOG_INFO, "stopped before joining the group (the database was unreachable)", NULL);
        rc = 0;
        goto cleanup;
    }

    if (kafka_consumer_subscribe(w->consumer, cfg.topics, err, sizeof err) != 0) {
        log_at(LOG_ERROR, "subscribe failed", "\"error\":\"%s\"", err);
        goto cleanup;
    }
    log_at(LOG_INFO, "worker started",
           "\"worker_id\":\"%s\",\"group\":\"%s\",\"topics\":\"%s\",\"policy_file\":\"%s\"",
           cfg.worker_id, cfg.group_id, cfg.topics, w->policy->file_version);
    rc = run_loop(w);
    /* SIGTERM/SIGINT: the batch in hand has been committed and published by now. */
    bool left = kafka_consumer_close(w->consumer, (int)cfg.shutdown_timeout_ms) == 0;
    log_at(LOG_INFO, "worker stopped",
           "\"batches\":%ld,\"judged\":%ld,\"replayed\":%ld,"
           "\"dead_letters\":%ld",
           w->batches, w->judged, w->replayed, w->dead);
    if (!left) {
        /* The group leave is still running on its thread, and with it the revocation handler,
         * which uses the worker's state: nothing is freed under it. Everything that matters is
         * in PostgreSQL; the process ends here and the OS takes the rest. */
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }

cleanup:
    if (w->http) http_server_stop(w->http);
    kafka_consumer_free(w->consumer);
    kafka_producer_free(w->producer);
    if (w->committer_started) {
        pthread_mutex_lock(&w->committer.mu);
        w->committer.quit = true;
        pthread_cond_broadcast(&w->committer.cv);
        pthread_mutex_unlock(&w->committer.mu);
        pthread_join(w->committer.thread, NULL);
    }
    pthread_mutex_destroy(&w->committer.mu);
    pthread_cond_destroy(&w->committer.cv);
    store_free(w->committer.store);
    for (int i = 0; i < 2; i++) {
        drop_batch(&w->slots[i]);
        engine_free(w->slots[i].engine);
        arena_free(&w->slots[i].arena);
        free(w->slots[i].items);
    }
    free(w->events);
    free(w->quarantine);
    free(w->committer.rejected);
    for (size_t i = 0; i < w->n_trace_headers; i++) free(w->trace_headers[i]);
    free(w->trace_headers);
    store_free(w->store);
    metrics_free(w->metrics);
    schemas_free(w->schemas);
    avro_codec_free(w->codec);
    policy_free(w->policy);
    buf_free(&w->frame);
    free(w);
    config_free(&cfg);
    return rc;
}
