#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mono.h"
#include "avro_codec.h"

#ifndef AMTAGVI_VERSION
#define AMTAGVI_VERSION "unknown"
#endif

/* Labels are the names the rest of the worker uses: event_kind_name(), outcome_name() and, for
 * dead letters, decode_status_name() of every failure (DECODE_OK excluded). */
#define N_KINDS (EVENT_CLAIM + 1)
#define N_OUTCOMES (OUTCOME_PENDED + 1)
/* Every decode failure, then the two reasons found after decoding: a row PostgreSQL refused
 * and an outcome the encoder refused. */
#define N_REASONS (DECODE_STATUS_COUNT - 1 + 2)
#define N_REBALANCE_TYPES 2
#define HIST_MAX_BOUNDS 24
/* Kafka caps topic names at 249 bytes; a fixed slot lets render copy the table in one go. */
#define LAG_TOPIC_MAX 256

static const char *const rebalance_labels[N_REBALANCE_TYPES] = {"assign", "revoke"};

_Static_assert(EVENT_PRIOR_AUTH == 0 && OUTCOME_APPROVED == 0 && DECODE_OK == 0,
               "the label loops count from 0, and dead letters from the status after DECODE_OK");

/* The dead-letter reason of counter r. */
static const char *dead_letter_reason(size_t r)
{
    if (r + 1 < DECODE_STATUS_COUNT) return decode_status_name((decode_status_t)(r + 1));
    return r + 1 == DECODE_STATUS_COUNT ? "rejected" : "unencodable";
}

/* Upper bounds ("le") in seconds or messages; the +Inf bucket is implicit. */
static const double batch_size_bounds[] = {1, 10, 50, 100, 250, 500, 1000, 2000, 5000};
static const double batch_latency_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                              0.5,   1,    2.5,   5,    10};
/* 25 ms steps up to the 250 ms produce -> commit target and a few just past it: a p99 read
 * from these buckets (ops/bench, a Grafana panel) is then known to within 25 ms where it
 * matters, instead of "somewhere between 100 and 250 ms". The tail keeps 30 and 60 s for
 * stalls. */
static const double event_latency_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15,
                                              0.175, 0.2,  0.225, 0.25, 0.3,   0.4, 0.5,   0.75,
                                              1,     2.5,  5,     10,   30,    60};
#define N_BOUNDS(a) (sizeof(a) / sizeof(a)[0])
_Static_assert(N_BOUNDS(batch_size_bounds) <= HIST_MAX_BOUNDS, "raise HIST_MAX_BOUNDS");
_Static_assert(N_BOUNDS(batch_latency_bounds) <= HIST_MAX_BOUNDS, "raise HIST_MAX_BOUNDS");
_Static_assert(N_BOUNDS(event_latency_bounds) <= HIST_MAX_BOUNDS, "raise HIST_MAX_BOUNDS");

typedef struct {
    const double *bounds;
    size_t n_bounds;
    /* Per-bucket counts, not cumulative: one increment per observation. counts[n_bounds] holds
     * what is above the last bound. render accumulates, and derives _count from the same
     * reads so the +Inf bucket always equals _count. */
    atomic_uint_fast64_t counts[HIST_MAX_BOUNDS + 1];
    _Atomic double sum;
} histogram_t;

typedef struct {
    char topic[LAG_TOPIC_MAX];
    int32_t partition;
    int64_t lag;
} lag_entry_t;

struct metrics {
    atomic_uint_fast64_t events[N_KINDS][N_OUTCOMES];
    atomic_uint_fast64_t replays[N_KINDS];
    atomic_uint_fast64_t dead_letters[N_REASONS];
    atomic_uint_fast64_t database_errors;
    atomic_uint_fast64_t kafka_errors;
    atomic_uint_fast64_t publish_truncated;
    atomic_uint_fast64_t batches;
    atomic_uint_fast64_t fenced_batches;
    atomic_uint_fast64_t rebalances[N_REBALANCE_TYPES];
    histogram_t batch_size;
    histogram_t batch_latency;
    histogram_t event_latency;
    atomic_int_fast64_t assigned_partitions;
    atomic_bool ready;
    atomic_int_fast64_t last_tick_ms; /* CLOCK_MONOTONIC */
    atomic_int_fast64_t stall_limit_ms;

    /* Guards the lag table and the build-info strings, which change shape, not just value. */
    pthread_mutex_t lock;
    lag_entry_t *lag;
    size_t n_lag;
    size_t cap_lag;
    char *version;
    char *policy_file;
};

static void histogram_init(histogram_t *h, const double *bounds, size_t n_bounds)
{
    h->bounds = bounds;
    h->n_bounds = n_bounds;
    for (size_t i = 0; i <= HIST_MAX_BOUNDS; i++) atomic_init(&h->counts[i], 0);
    atomic_init(&h->sum, 0.0);
}

static void histogram_observe(histogram_t *h, double v)
{
    size_t i = 0;
    while (i < h->n_bounds && v > h->bounds[i]) i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    /* No atomic add for doubles in C11: a compare-exchange loop, uncontended in practice
     * since only the worker thread observes. */
    double old = atomic_load_explicit(&h->sum, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&h->sum, &old, old + v, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static void count(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

metrics_t *metrics_new(void)
{
    metrics_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    for (size_t k = 0; k < N_KINDS; k++) {
        for (size_t o = 0; o < N_OUTCOMES; o++) atomic_init(&m->events[k][o], 0);
        atomic_init(&m->replays[k], 0);
    }
    for (size_t r = 0; r < N_REASONS; r++) atomic_init(&m->dead_letters[r], 0);
    atomic_init(&m->database_errors, 0);
    atomic_init(&m->kafka_errors, 0);
    atomic_init(&m->publish_truncated, 0);
    atomic_init(&m->batches, 0);
    atomic_init(&m->fenced_batches, 0);
    for (size_t t = 0; t < N_REBALANCE_TYPES; t++) atomic_init(&m->rebalances[t], 0);
    histogram_init(&m->batch_size, batch_size_bounds, N_BOUNDS(batch_size_bounds));
    histogram_init(&m->batch_latency, batch_latency_bounds, N_BOUNDS(batch_latency_bounds));
    histogram_init(&m->event_latency, event_latency_bounds, N_BOUNDS(event_latency_bounds));
    atomic_init(&m->assigned_partitions, 0);
    atomic_init(&m->ready, false);
    atomic_init(&m->last_tick_ms, mono_ms());
    atomic_init(&m->stall_limit_ms, METRICS_DEFAULT_STALL_LIMIT_MS);
    m->version = strdup(AMTAGVI_VERSION);
    m->policy_file = strdup("");
    if (!m->version || !m->policy_file || pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m->version);
        free(m->policy_file);
        free(m);
        return NULL;
    }
    return m;
}

void metrics_free(metrics_t *m)
{
    if (!m) return;
    pthread_mutex_destroy(&m->lock);
    free(m->lag);
    free(m->version);
    free(m->policy_file);
    free(m);
}

int metrics_set_build_info(metrics_t *m, const char *version, const char *policy_file)
{
    char *v = version ? strdup(version) : NULL;
    char *p = policy_file ? strdup(policy_file) : NULL;
    if ((version && !v) || (policy_file && !p)) {
        free(v);
        free(p);
        return -1;
    }
    pthread_mutex_lock(&m->lock);
    if (v) {
        free(m->version);
        m->version = v;
    }
    if (p) {
        free(m->policy_file);
        m->policy_file = p;
    }
    pthread_mutex_unlock(&m->lock);
    return 0;
}

void metrics_set_stall_limit_ms(metrics_t *m, int64_t ms)
{
    if (ms > 0) atomic_store_explicit(&m->stall_limit_ms, ms, memory_order_relaxed);
}

/* ------------------------------------------------------------------ updates */

void metrics_count_event(metrics_t *m, event_kind_t kind, outcome_t outcome)
{
    if ((unsigned)kind < N_KINDS && (unsigned)outcome < N_OUTCOMES)
        count(&m->events[kind][outcome]);
}

void metrics_count_replay(metrics_t *m, event_kind_t kind)
{
    if ((unsigned)kind < N_KINDS) count(&m->replays[kind]);
}

int metrics_count_dead_letter(metrics_t *m, const char *reason)
{
    for (size_t r = 0; reason && r < N_REASONS; r++) {
        if (strcmp(reason, dead_letter_reason(r)) == 0) {
            count(&m->dead_letters[r]);
            return 0;
        }
    }
    return -1;
}

void metrics_count_database_error(metrics_t *m)
{
    count(&m->database_errors);
}

void metrics_count_kafka_error(metrics_t *m)
{
    count(&m->kafka_errors);
}

void metrics_count_publish_truncated(metrics_t *m)
{
    count(&m->publish_truncated);
}

void metrics_count_fenced_batch(metrics_t *m)
{
    count(&m->fenced_batches);
}

void metrics_count_rebalance(metrics_t *m, metrics_rebalance_t type)
{
    if ((unsigned)type < N_REBALANCE_TYPES) count(&m->rebalances[type]);
}

void metrics_observe_batch(metrics_t *m, size_t messages, double latency_seconds)
{
    count(&m->batches);
    histogram_observe(&m->batch_size, (double)messages);
    if (!isnan(latency_seconds))
        histogram_observe(&m->batch_latency, latency_seconds < 0 ? 0 : latency_seconds);
}

void metrics_observe_event_latency(metrics_t *m, double seconds)
{
    if (isnan(seconds)) return;
    /* A producer whose clock runs ahead of ours stamps messages in our future. */
    histogram_observe(&m->event_latency, seconds < 0 ? 0 : seconds);
}

static lag_entry_t *lag_find(metrics_t *m, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < m->n_lag; i++)
        if (m->lag[i].partition == partition && strcmp(m->lag[i].topic, topic) == 0)
            return &m->lag[i];
    return NULL;
}

int metrics_set_lag(metrics_t *m, const char *topic, int32_t partition, int64_t lag)
{
    if (strlen(topic) >= LAG_TOPIC_MAX) return -1;
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    lag_entry_t *e = lag_find(m, topic, partition);
    if (!e) {
        if (m->n_lag == m->cap_lag) {
            size_t cap = m->cap_lag ? m->cap_lag * 2 : 16;
            lag_entry_t *grown = realloc(m->lag, cap * sizeof *grown);
            if (!grown) {
                rc = -1;
                goto unlock;
            }
            m->lag = grown;
            m->cap_lag = cap;
        }
        e = &m->lag[m->n_lag++];
        snprintf(e->topic, sizeof e->topic, "%s", topic);
        e->partition = partition;
    }
    e->lag = lag;
unlock:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

void metrics_remove_lag(metrics_t *m, const char *topic, int32_t partition)
{
    pthread_mutex_lock(&m->lock);
    lag_entry_t *e = lag_find(m, topic, partition);
    if (e) *e = m->lag[--m->n_lag]; /* render sorts, so order need not be kept */
    pthread_mutex_unlock(&m->lock);
}

void metrics_clear_lag(metrics_t *m)
{
    pthread_mutex_lock(&m->lock);
    m->n_lag = 0;
    pthread_mutex_unlock(&m->lock);
}

void metrics_set_assigned_partitions(metrics_t *m, int64_t n)
{
    atomic_store_explicit(&m->assigned_partitions, n, memory_order_relaxed);
}

void metrics_set_ready(metrics_t *m, bool ready)
{
    atomic_store_explicit(&m->ready, ready, memory_order_relaxed);
}

void metrics_tick(metrics_t *m)
{
    atomic_store_explicit(&m->last_tick_ms, mono_ms(), memory_order_relaxed);
}

bool metrics_is_live(const metrics_t *m)
{
    int64_t last = atomic_load_explicit(&m->last_tick_ms, memory_order_relaxed);
    int64_t limit = atomic_load_explicit(&m->stall_limit_ms, memory_order_relaxed);
    return mono_ms() - last <= limit;
}

bool metrics_is_ready(const metrics_t *m)
{
    return atomic_load_explicit(&m->ready, memory_order_relaxed);
}

/* ------------------------------------------------------------------ rendering */

/* The shortest text that reads back as the same double, as Prometheus's Go client writes it;
 * integers without an exponent so bucket bounds read "5000", not "5e+03". */
static void format_double(char *out, size_t n, double v)
{
    if (isnan(v)) {
        snprintf(out, n, "NaN");
    } else if (isinf(v)) {
        snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, n, "%.0f", v == 0 ? 0.0 : v);
    } else {
        for (int precision = 1; precision <= 17; precision++) {
            snprintf(out, n, "%.*g", precision, v);
            if (strtod(out, NULL) == v) break;
        }
    }
}

/* Label values escape backslash, double quote and newline (exposition format 0.0.4). */
static int append_label_value(buf_t *b, const char *s)
{
    int rc = 0;
    for (; *s && rc == 0; s++) {
        if (*s == '\\')
            rc = buf_append(b, "\\\\", 2);
        else if (*s == '"')
            rc = buf_append(b, "\\\"", 2);
        else if (*s == '\n')
            rc = buf_append(b, "\\n", 2);
        else
            rc = buf_append_char(b, *s);
    }
    return rc;
}

static int append_header(buf_t *b, const char *name, const char *type, const char *help)
{
    return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t load(const atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static int append_counter(buf_t *b, const char *name, const char *help,
                          const atomic_uint_fast64_t *c)
{
    int rc = append_header(b, name, "counter", help);
    rc |= buf_printf(b, "%s %llu\n", name, (unsigned long long)load(c));
    return rc;
}

static int append_gauge(buf_t *b, const char *name, const char *help, long long v)
{
    int rc = append_header(b, name, "gauge", help);
    rc |= buf_printf(b, "%s %lld\n", name, v);
    return rc;
}

static int append_histogram(buf_t *b, const char *name, const char *help, const histogram_t *h)
{
    char num[64];
    uint64_t cumulative = 0;
    int rc = append_header(b, name, "histogram", help);
    for (size_t i = 0; i <= h->n_bounds; i++) {
        cumulative += load(&h->counts[i]);
        if (i < h->n_bounds)
            format_double(num, sizeof num, h->bounds[i]);
        else
            snprintf(num, sizeof num, "+Inf");
        rc |=
            buf_printf(b, "%s_bucket{le=\"%s\"} %llu\n", name, num, (unsigned long long)cumulative);
    }
    format_double(num, sizeof num, atomic_load_explicit(&h->sum, memory_order_relaxed));
    rc |= buf_printf(b, "%s_sum %s\n%s_count %llu\n", name, num, name,
                     (unsigned long long)cumulative);
    return rc;
}

static int lag_compare(const void *a, const void *b)
{
    const lag_entry_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (c) return c;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

int metrics_render(const metrics_t *m, buf_t *out)
{
    /* The registry is always allocated mutable by metrics_new; rendering is logically
     * read-only, the lock is not. */
    pthread_mutex_t *lock = (pthread_mutex_t *)&m->lock;
    lag_entry_t *lag = NULL;
    size_t n_lag = 0;
    char *version = NULL, *policy_file = NULL;
    int rc = -1;

    /* Copy what the lock guards, then format without it, so the worker never waits on
     * a slow render. */
    pthread_mutex_lock(lock);
    n_lag = m->n_lag;
    if (n_lag && (lag = malloc(n_lag * sizeof *lag))) memcpy(lag, m->lag, n_lag * sizeof *lag);
    version = strdup(m->version);
    policy_file = strdup(m->policy_file);
    pthread_mutex_unlock(lock);
    if ((n_lag && !lag) || !version || !policy_file) goto cleanup;
    if (n_lag) qsort(lag, n_lag, sizeof *lag, lag_compare);

    rc = append_header(out, "amtagvi_events_total", "counter",
                       "Events judged for the first time, by event kind and outcome.");
    for (size_t k = 0; k < N_KINDS; k++)
        for (size_t o = 0; o < N_OUTCOMES; o++)
            rc |= buf_printf(out, "amtagvi_events_total{kind=\"%s\",outcome=\"%s\"} %llu\n",
                             event_kind_name((event_kind_t)k), outcome_name((outcome_t)o),
                             (unsigned long long)load(&m->events[k][o]));

    rc |= append_header(out, "amtagvi_replays_total", "counter",
                        "Redelivered events answered from their stored determination.");
    for (size_t k = 0; k < N_KINDS; k++)
        rc |=
            buf_printf(out, "amtagvi_replays_total{kind=\"%s\"} %llu\n",
                       event_kind_name((event_kind_t)k), (unsigned long long)load(&m->replays[k]));

    rc |= append_header(out, "amtagvi_dead_letters_total", "counter",
                        "Messages sent to the dead-letter topic, by reason.");
    for (size_t r = 0; r < N_REASONS; r++)
        rc |= buf_printf(out, "amtagvi_dead_letters_total{reason=\"%s\"} %llu\n",
                         dead_letter_reason(r), (unsigned long long)load(&m->dead_letters[r]));

    rc |=
        append_counter(out, "amtagvi_database_errors_total",
                       "PostgreSQL operations that failed and were retried.", &m->database_errors);
    rc |= append_counter(out, "amtagvi_kafka_errors_total", "Kafka consumer and producer errors.",
                         &m->kafka_errors);
    rc |= append_counter(out, "amtagvi_publish_truncated_total",
                         "Outcomes and dead letters too large for their topic, published without "
                         "their value (or not at all); the full record is in PostgreSQL.",
                         &m->publish_truncated);
    rc |= append_counter(out, "amtagvi_batches_total", "Batches committed to PostgreSQL.",
                         &m->batches);
    rc |= append_counter(out, "amtagvi_fenced_batches_total",
                         "Batches refused because another worker moved the partition offsets.",
                         &m->fenced_batches);

    rc |= append_header(out, "amtagvi_rebalances_total", "counter",
                        "Consumer group rebalances, by type.");
    for (size_t t = 0; t < N_REBALANCE_TYPES; t++)
        rc |= buf_printf(out, "amtagvi_rebalances_total{type=\"%s\"} %llu\n", rebalance_labels[t],
                         (unsigned long long)load(&m->rebalances[t]));

    rc |= append_histogram(out, "amtagvi_batch_size", "Messages per committed batch.",
                           &m->batch_size);
    rc |= append_histogram(out, "amtagvi_batch_latency_seconds",
                           "Time from a batch's first message polled to its commit.",
                           &m->batch_latency);
    rc |=
        append_histogram(out, "amtagvi_event_latency_seconds",
                         "Time from a message's Kafka timestamp to its commit.", &m->event_latency);

    rc |= append_header(out, "amtagvi_consumer_lag", "gauge",
                        "Messages between the worker's position and the high watermark, by "
                        "assigned partition.");
    for (size_t i = 0; i < n_lag; i++) {
        rc |= buf_append_str(out, "amtagvi_consumer_lag{topic=\"");
        rc |= append_label_value(out, lag[i].topic);
        rc |= buf_printf(out, "\",partition=\"%d\"} %lld\n", (int)lag[i].partition,
                         (long long)lag[i].lag);
    }

    rc |= append_gauge(
        out, "amtagvi_assigned_partitions", "Partitions assigned to this worker.",
        (long long)atomic_load_explicit(&m->assigned_partitions, memory_order_relaxed));
    rc |= append_gauge(out, "amtagvi_up", "1 while the worker process runs.", 1);
    rc |= append_gauge(out, "amtagvi_ready",
                       "1 when partitions are assigned and the database is reachable.",
                       metrics_is_ready(m) ? 1 : 0);

    rc |= append_header(out, "amtagvi_build_info", "gauge",
                        "Version and policy file of the running worker; always 1.");
    rc |= buf_append_str(out, "amtagvi_build_info{version=\"");
    rc |= append_label_value(out, version);
    rc |= buf_append_str(out, "\",policy_file=\"");
    rc |= append_label_value(out, policy_file);
    rc |= buf_append_str(out, "\"} 1\n");
    rc = rc ? -1 : 0;

cleanup:
    free(lag);
    free(version);
    free(policy_file);
    return rc;
}
