/* Metrics registry and its HTTP endpoint: exposition format 0.0.4 byte for byte, lock-free
 * counters under contention, and the server over a real socket, garbage included. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "http_server.h"
#include "metrics.h"
#include "test_support.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Fails at the first differing line, so a format slip reads as one line, not a 120-line blob. */
static void expect_text(const char *actual, const char *expected)
{
    const char *a = actual, *e = expected;
    for (int line = 1;; line++) {
        size_t al = strcspn(a, "\n"), el = strcspn(e, "\n");
        ck_assert_msg(al == el && memcmp(a, e, al) == 0 && a[al] == e[el],
                      "line %d differs:\n got: %.*s\nwant: %.*s", line, (int)al, a, (int)el, e);
        if (!a[al]) break;
        a += al + 1;
        e += el + 1;
    }
}

static char *render(const metrics_t *m)
{
    buf_t b = {0};
    ck_assert_int_eq(metrics_render(m, &b), 0);
    return b.data;
}

/* ------------------------------------------------------------------ format */

START_TEST(test_render_exact)
{
    metrics_t *m = metrics_new();
    ck_assert_ptr_nonnull(m);
    for (int i = 0; i < 3; i++) metrics_count_event(m, EVENT_PRIOR_AUTH, OUTCOME_APPROVED);
    metrics_count_event(m, EVENT_CLAIM, OUTCOME_DENIED);
    metrics_count_replay(m, EVENT_CLAIM);
    metrics_count_replay(m, EVENT_CLAIM);
    ck_assert_int_eq(metrics_count_dead_letter(m, "malformed"), 0);
    ck_assert_int_eq(metrics_count_dead_letter(m, "trailing_bytes"), 0);
    ck_assert_int_eq(metrics_count_dead_letter(m, "rejected"), 0);
    metrics_count_publish_truncated(m);
    ck_assert_int_eq(metrics_count_dead_letter(m, "no_such_reason"), -1);
    ck_assert_int_eq(metrics_count_dead_letter(m, NULL), -1);
    metrics_count_database_error(m);
    metrics_count_database_error(m);
    metrics_count_fenced_batch(m);
    metrics_count_rebalance(m, METRICS_REBALANCE_ASSIGN);
    metrics_count_rebalance(m, METRICS_REBALANCE_ASSIGN);
    metrics_count_rebalance(m, METRICS_REBALANCE_REVOKE);
    /* Bounds are inclusive ("le"): 1 message and 0.25 s land in the buckets named after them.
     * Values are binary fractions so the sums print without rounding noise. */
    metrics_observe_batch(m, 1, 0.00390625);
    metrics_observe_batch(m, 120, 0.25);
    metrics_observe_batch(m, 6000, 12.5);
    metrics_observe_event_latency(m, -1.0); /* producer clock ahead: counts as 0 */
    metrics_observe_event_latency(m, 0.25); /* the 250 ms target: inside le="0.25" */
    metrics_observe_event_latency(m, 0.5);
    metrics_observe_event_latency(m, 61);
    metrics_observe_event_latency(m, NAN); /* ignored */
    ck_assert_int_eq(metrics_set_lag(m, "adjudication.events", 1, 42), 0);
    ck_assert_int_eq(metrics_set_lag(m, "adjudication.events", 0, 9), 0);
    ck_assert_int_eq(metrics_set_lag(m, "adjudication.events", 0, 7), 0); /* overwrite */
    ck_assert_int_eq(metrics_set_lag(m, "gone", 4, 100), 0);
    ck_assert_int_eq(metrics_set_lag(m, "we\"ird\\topic\n", 3, 5), 0);
    metrics_remove_lag(m, "gone", 4);
    metrics_remove_lag(m, "never-there", 0);
    metrics_set_assigned_partitions(m, 3);
    metrics_set_ready(m, true);
    ck_assert_int_eq(metrics_set_build_info(m, "0.1.0", "IP0625 \"v2\"\\2026\n"), 0);

    char *text = render(m);
    expect_text(
        text,
        "# HELP amtagvi_events_total Events judged for the first time, by event kind and "
        "outcome.\n"
        "# TYPE amtagvi_events_total counter\n"
        "amtagvi_events_total{kind=\"prior_auth\",outcome=\"APPROVED\"} 3\n"
        "amtagvi_events_total{kind=\"prior_auth\",outcome=\"DENIED\"} 0\n"
        "amtagvi_events_total{kind=\"prior_auth\",outcome=\"PENDED\"} 0\n"
        "amtagvi_events_total{kind=\"claim\",outcome=\"APPROVED\"} 0\n"
        "amtagvi_events_total{kind=\"claim\",outcome=\"DENIED\"} 1\n"
        "amtagvi_events_total{kind=\"claim\",outcome=\"PENDED\"} 0\n"
        "# HELP amtagvi_replays_total Redelivered events answered from their stored "
        "determination.\n"
        "# TYPE amtagvi_replays_total counter\n"
        "amtagvi_replays_total{kind=\"prior_auth\"} 0\n"
        "amtagvi_replays_total{kind=\"claim\"} 2\n"
        "# HELP amtagvi_dead_letters_total Messages sent to the dead-letter topic, by reason.\n"
        "# TYPE amtagvi_dead_letters_total counter\n"
        "amtagvi_dead_letters_total{reason=\"empty\"} 0\n"
        "amtagvi_dead_letters_total{reason=\"bad_magic\"} 0\n"
        "amtagvi_dead_letters_total{reason=\"unknown_schema\"} 0\n"
        "amtagvi_dead_letters_total{reason=\"malformed\"} 1\n"
        "amtagvi_dead_letters_total{reason=\"trailing_bytes\"} 1\n"
        "amtagvi_dead_letters_total{reason=\"incompatible_schema\"} 0\n"
        "amtagvi_dead_letters_total{reason=\"invalid\"} 0\n"
        "amtagvi_dead_letters_total{reason=\"rejected\"} 1\n"
        "amtagvi_dead_letters_total{reason=\"unencodable\"} 0\n"
        "# HELP amtagvi_database_errors_total PostgreSQL operations that failed and were "
        "retried.\n"
        "# TYPE amtagvi_database_errors_total counter\n"
        "amtagvi_database_errors_total 2\n"
        "# HELP amtagvi_kafka_errors_total Kafka consumer and producer errors.\n"
        "# TYPE amtagvi_kafka_errors_total counter\n"
        "amtagvi_kafka_errors_total 0\n"
        "# HELP amtagvi_publish_truncated_total Outcomes and dead letters too large for their "
        "topic, published without their value (or not at all); the full record is in "
        "PostgreSQL.\n"
        "# TYPE amtagvi_publish_truncated_total counter\n"
        "amtagvi_publish_truncated_total 1\n"
        "# HELP amtagvi_batches_total Batches committed to PostgreSQL.\n"
        "# TYPE amtagvi_batches_total counter\n"
        "amtagvi_batches_total 3\n"
        "# HELP amtagvi_fenced_batches_total Batches refused because another worker moved the "
        "partition offsets.\n"
        "# TYPE amtagvi_fenced_batches_total counter\n"
        "amtagvi_fenced_batches_total 1\n"
        "# HELP amtagvi_rebalances_total Consumer group rebalances, by type.\n"
        "# TYPE amtagvi_rebalances_total counter\n"
        "amtagvi_rebalances_total{type=\"assign\"} 2\n"
        "amtagvi_rebalances_total{type=\"revoke\"} 1\n"
        "# HELP amtagvi_batch_size Messages per committed batch.\n"
        "# TYPE amtagvi_batch_size histogram\n"
        "amtagvi_batch_size_bucket{le=\"1\"} 1\n"
        "amtagvi_batch_size_bucket{le=\"10\"} 1\n"
        "amtagvi_batch_size_bucket{le=\"50\"} 1\n"
        "amtagvi_batch_size_bucket{le=\"100\"} 1\n"
        "amtagvi_batch_size_bucket{le=\"250\"} 2\n"
        "amtagvi_batch_size_bucket{le=\"500\"} 2\n"
        "amtagvi_batch_size_bucket{le=\"1000\"} 2\n"
        "amtagvi_batch_size_bucket{le=\"2000\"} 2\n"
        "amtagvi_batch_size_bucket{le=\"5000\"} 2\n"
        "amtagvi_batch_size_bucket{le=\"+Inf\"} 3\n"
        "amtagvi_batch_size_sum 6121\n"
        "amtagvi_batch_size_count 3\n"
        "# HELP amtagvi_batch_latency_seconds Time from a batch's first message polled to its "
        "commit.\n"
        "# TYPE amtagvi_batch_latency_seconds histogram\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"0.005\"} 1\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"0.01\"} 1\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"0.025\"} 1\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"0.05\"} 1\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"0.1\"} 1\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"0.25\"} 2\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"0.5\"} 2\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"1\"} 2\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"2.5\"} 2\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"5\"} 2\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"10\"} 2\n"
        "amtagvi_batch_latency_seconds_bucket{le=\"+Inf\"} 3\n"
        "amtagvi_batch_latency_seconds_sum 12.75390625\n"
        "amtagvi_batch_latency_seconds_count 3\n"
        "# HELP amtagvi_event_latency_seconds Time from a message's Kafka timestamp to its "
        "commit.\n"
        "# TYPE amtagvi_event_latency_seconds histogram\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.005\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.01\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.025\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.05\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.075\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.1\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.125\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.15\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.175\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.2\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.225\"} 1\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.25\"} 2\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.3\"} 2\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.4\"} 2\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.5\"} 3\n"
        "amtagvi_event_latency_seconds_bucket{le=\"0.75\"} 3\n"
        "amtagvi_event_latency_seconds_bucket{le=\"1\"} 3\n"
        "amtagvi_event_latency_seconds_bucket{le=\"2.5\"} 3\n"
        "amtagvi_event_latency_seconds_bucket{le=\"5\"} 3\n"
        "amtagvi_event_latency_seconds_bucket{le=\"10\"} 3\n"
        "amtagvi_event_latency_seconds_bucket{le=\"30\"} 3\n"
        "amtagvi_event_latency_seconds_bucket{le=\"60\"} 3\n"
        "amtagvi_event_latency_seconds_bucket{le=\"+Inf\"} 4\n"
        "amtagvi_event_latency_seconds_sum 61.75\n"
        "amtagvi_event_latency_seconds_count 4\n"
        "# HELP amtagvi_consumer_lag Messages between the worker's position and the high "
        "watermark, by assigned partition.\n"
        "# TYPE amtagvi_consumer_lag gauge\n"
        "amtagvi_consumer_lag{topic=\"adjudication.events\",partition=\"0\"} 7\n"
        "amtagvi_consumer_lag{topic=\"adjudication.events\",partition=\"1\"} 42\n"
        "amtagvi_consumer_lag{topic=\"we\\\"ird\\\\topic\\n\",partition=\"3\"} 5\n"
        "# HELP amtagvi_assigned_partitions Partitions assigned to this worker.\n"
        "# TYPE amtagvi_assigned_partitions gauge\n"
        "amtagvi_assigned_partitions 3\n"
        "# HELP amtagvi_up 1 while the worker process runs.\n"
        "# TYPE amtagvi_up gauge\n"
        "amtagvi_up 1\n"
        "# HELP amtagvi_ready 1 when partitions are assigned and the database is reachable.\n"
        "# TYPE amtagvi_ready gauge\n"
        "amtagvi_ready 1\n"
        "# HELP amtagvi_build_info Version and policy file of the running worker; always 1.\n"
        "# TYPE amtagvi_build_info gauge\n"
        "amtagvi_build_info{version=\"0.1.0\",policy_file=\"IP0625 \\\"v2\\\"\\\\2026\\n\"} 1\n");
    free(text);
    metrics_free(m);
}
END_TEST

START_TEST(test_render_fresh_and_cleared)
{
    metrics_t *m = metrics_new();
    metrics_set_lag(m, "t", 0, 1);
    metrics_set_lag(m, "t", 1, 2);
    metrics_clear_lag(m); /* the eager protocol revokes everything at once */
    char *text = render(m);
    /* Every fixed series exists at 0 before its first event. */
    ck_assert_ptr_nonnull(
        strstr(text, "\namtagvi_events_total{kind=\"claim\",outcome=\"PENDED\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_dead_letters_total{reason=\"empty\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_batch_size_bucket{le=\"+Inf\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_batch_size_sum 0\namtagvi_batch_size_count 0\n"));
    /* The lag family is announced, with no series. */
    ck_assert_ptr_nonnull(strstr(text, "# TYPE amtagvi_consumer_lag gauge\n# HELP "));
    ck_assert_ptr_null(strstr(text, "amtagvi_consumer_lag{"));
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_ready 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_up 1\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "\namtagvi_build_info{version=\"" AMTAGVI_VERSION "\",policy_file=\"\"} 1\n"));
    ck_assert_int_eq(text[strlen(text) - 1], '\n');
    free(text);

    /* Partitions come back after the rebalance. */
    metrics_set_lag(m, "t", 1, 0);
    text = render(m);
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_consumer_lag{topic=\"t\",partition=\"1\"} 0\n"));
    ck_assert_ptr_null(strstr(text, "partition=\"0\""));
    free(text);

    /* Over Kafka's topic length limit: refused, not truncated into another topic's name. */
    char long_topic[300];
    memset(long_topic, 'x', sizeof long_topic - 1);
    long_topic[sizeof long_topic - 1] = '\0';
    ck_assert_int_eq(metrics_set_lag(m, long_topic, 0, 1), -1);
    metrics_free(m);
}
END_TEST

START_TEST(test_render_float_sums)
{
    /* Sums print as the shortest text that reads back as the same double. */
    metrics_t *m = metrics_new();
    metrics_observe_event_latency(m, 0.1);
    metrics_observe_event_latency(m, 0.2);
    metrics_observe_batch(m, 0, 1e-7);
    char *text = render(m);
    ck_assert_ptr_nonnull(
        strstr(text, "\namtagvi_event_latency_seconds_sum 0.30000000000000004\n"));
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_batch_latency_seconds_sum 1e-07\n"));
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_batch_size_bucket{le=\"1\"} 1\n"));
    free(text);
    metrics_free(m);
}
END_TEST

START_TEST(test_liveness_and_readiness)
{
    metrics_t *m = metrics_new();
    /* A new registry counts as a tick: the worker gets one stall limit to reach its loop. */
    ck_assert(metrics_is_live(m));
    ck_assert(!metrics_is_ready(m));
    metrics_set_stall_limit_ms(m, 50);
    metrics_set_stall_limit_ms(m, 0); /* ignored: a limit of 0 would always fail */
    sleep_ms(120);
    ck_assert(!metrics_is_live(m));
    metrics_tick(m);
    ck_assert(metrics_is_live(m));
    metrics_set_ready(m, true);
    ck_assert(metrics_is_ready(m));
    metrics_free(m);
}
END_TEST

/* ------------------------------------------------------------------ concurrency */

#define HAMMER_ROUNDS 1000000

static void *hammer(void *arg)
{
    metrics_t *m = arg;
    for (int i = 0; i < HAMMER_ROUNDS; i++) {
        metrics_count_event(m, EVENT_CLAIM, OUTCOME_PENDED);
        metrics_count_kafka_error(m);
        if (i % 100 == 0) metrics_observe_event_latency(m, 0.5);
    }
    return NULL;
}

typedef struct {
    metrics_t *m;
    atomic_int stop;
    int renders;
    int failures; /* checked by the main thread: Check cannot fail a test from another */
} renderer_t;

/* Renders and reshapes the lag table while the counters move: a torn read or a race shows
 * under ASan, valgrind or helgrind, a wrong total in the assertions. */
static void *keep_rendering(void *arg)
{
    renderer_t *r = arg;
    buf_t b = {0};
    while (!atomic_load(&r->stop)) {
        metrics_set_lag(r->m, "t", r->renders % 7, r->renders);
        if (r->renders % 5 == 0) metrics_clear_lag(r->m);
        buf_clear(&b);
        if (metrics_render(r->m, &b) != 0) r->failures++;
        r->renders++;
    }
    buf_free(&b);
    return NULL;
}

START_TEST(test_concurrent_increments_are_exact)
{
    metrics_t *m = metrics_new();
    renderer_t r = {m, 0, 0, 0};
    pthread_t a, b, c;
    ck_assert_int_eq(pthread_create(&c, NULL, keep_rendering, &r), 0);
    ck_assert_int_eq(pthread_create(&a, NULL, hammer, m), 0);
    ck_assert_int_eq(pthread_create(&b, NULL, hammer, m), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    atomic_store(&r.stop, 1);
    pthread_join(c, NULL);
    ck_assert_int_gt(r.renders, 0);
    ck_assert_int_eq(r.failures, 0);

    char *text = render(m);
    ck_assert_ptr_nonnull(
        strstr(text, "\namtagvi_events_total{kind=\"claim\",outcome=\"PENDED\"} 2000000\n"));
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_kafka_errors_total 2000000\n"));
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_event_latency_seconds_count 20000\n"));
    /* 0.5 is exact in binary, so even the compare-exchange sum must be exact. */
    ck_assert_ptr_nonnull(strstr(text, "\namtagvi_event_latency_seconds_sum 10000\n"));
    free(text);
    metrics_free(m);
}
END_TEST

/* ------------------------------------------------------------------ HTTP over a socket */

typedef struct {
    int status; /* 0 when the server closed without answering */
    char *head; /* status line and headers */
    char *body;
    size_t body_len;
    char *raw;
} response_t;

static int connect_local(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return; /* the server may hang up on an over-long request: fine */
        c += w;
        n -= (size_t)w;
    }
}

/* Reads until the server closes; the status is parsed from the first line. */
static response_t read_response(int fd)
{
    buf_t b = {0};
    char chunk[4096];
    for (;;) {
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        ck_assert_msg(n >= 0 || errno != EAGAIN, "server did not close within 5 s");
        if (n <= 0) break;
        buf_append(&b, chunk, (size_t)n);
    }
    close(fd);
    buf_append(&b, "", 0);
    response_t r = {0};
    r.raw = b.data;
    sscanf(r.raw, "HTTP/1.1 %d ", &r.status);
    char *sep = strstr(r.raw, "\r\n\r\n");
    if (sep) {
        sep[2] = '\0'; /* the head keeps its last CRLF: every header line ends "\r\n" */
        r.head = r.raw;
        r.body = sep + 4;
        r.body_len = b.len - (size_t)(r.body - r.raw);
    }
    return r;
}

static response_t exchange(int port, const char *request, size_t len)
{
    int fd = connect_local(port);
    send_all(fd, request, len);
    return read_response(fd);
}

static response_t get(int port, const char *path)
{
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n",
             path);
    return exchange(port, req, strlen(req));
}

static void expect_response(response_t r, int status, const char *body)
{
    ck_assert_msg(r.status == status, "status %d, expected %d; response: %s", r.status, status,
                  r.raw);
    ck_assert_ptr_nonnull(r.body);
    if (body) ck_assert_str_eq(r.body, body);
    char cl[64];
    snprintf(cl, sizeof cl, "\r\nContent-Length: %zu\r\n", r.body_len);
    ck_assert_msg(strstr(r.head, cl) != NULL, "no \"%s\" in %s", cl + 2, r.head);
    ck_assert_ptr_nonnull(strstr(r.head, "\r\nConnection: close"));
}

/* GETs path and requires the status and body (NULL: any body), as expect_response. */
static void expect_get(int port, const char *path, int status, const char *body)
{
    response_t r = get(port, path);
    expect_response(r, status, body);
    free(r.raw);
}

/* Sends the request and requires the status and body, as expect_response. */
static void expect_exchange(int port, const char *request, size_t len, int status, const char *body)
{
    response_t r = exchange(port, request, len);
    expect_response(r, status, body);
    free(r.raw);
}

/* Refused: an error status, or, for what cannot be read as a request line at all, a close
 * without an answer (libmicrohttpd's way). Never served. */
static void expect_refused(response_t r, const char *what)
{
    int closed = r.status == 0 && (!r.raw || !r.raw[0]);
    ck_assert_msg(closed || r.status >= 400, "%s: status %d", what, r.status);
}

static http_server_t *start_local(metrics_t *m)
{
    char err[256] = "";
    http_server_t *h = http_server_start("127.0.0.1:0", m, err, sizeof err);
    ck_assert_msg(h != NULL, "start: %s", err);
    ck_assert_int_gt(http_server_port(h), 0);
    return h;
}

/* The http tests' registry and the server on it (checked fixture: stopped even after a
 * failure; a test that stops the server itself sets srv to NULL). */
static metrics_t *srv_m;
static http_server_t *srv;
static int srv_port;

static void serve_setup(void)
{
    srv_m = metrics_new();
    srv = start_local(srv_m);
    srv_port = http_server_port(srv);
}

static void serve_teardown(void)
{
    http_server_stop(srv);
    srv = NULL;
    metrics_free(srv_m);
    srv_m = NULL;
}

START_TEST(test_http_routes)
{
    metrics_t *m = srv_m;
    int port = srv_port;
    metrics_count_event(m, EVENT_PRIOR_AUTH, OUTCOME_DENIED);
    metrics_set_lag(m, "events", 2, 11);

    response_t r = get(port, "/metrics");
    char *expected = render(m);
    expect_response(r, 200, expected);
    ck_assert_ptr_nonnull(strstr(r.head, "HTTP/1.1 200 OK\r\n"));
    ck_assert_ptr_nonnull(
        strstr(r.head, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    free(r.raw);
    /* Prometheus may add a query; ignored */
    expect_get(port, "/metrics?name[]=amtagvi_up", 200, expected);
    free(expected);

    expect_get(port, "/healthz", 200, "ok\n");
    metrics_set_stall_limit_ms(m, 50);
    sleep_ms(120);
    expect_get(port, "/healthz", 503, NULL);
    metrics_tick(m);
    expect_get(port, "/healthz", 200, "ok\n");

    expect_get(port, "/readyz", 503, "not ready\n");
    metrics_set_ready(m, true);
    expect_get(port, "/readyz", 200, "ready\n");

    expect_get(port, "/", 404, "not found\n");
    expect_get(port, "/metricsx", 404, NULL);

    const char *post = "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello=world";
    r = exchange(port, post, strlen(post));
    expect_response(r, 405, "method not allowed\n");
    ck_assert_ptr_nonnull(strstr(r.head, "\r\nAllow: GET\r\n"));
    free(r.raw);
    const char *head = "HEAD /metrics HTTP/1.0\r\n\r\n";
    expect_exchange(port, head, strlen(head), 405, NULL);

    /* HTTP/1.0 and bare newlines (a hand-typed request) are served too. */
    const char *old = "GET /readyz HTTP/1.0\n\n";
    expect_exchange(port, old, strlen(old), 200, "ready\n");
}
END_TEST

START_TEST(test_http_garbage_and_oversize)
{
    int port = srv_port;

    static const char *const bad[] = {
        "\r\n\r\n",
        "garbage\r\n\r\n",
        "GET /metrics\r\n\r\n",                /* HTTP/0.9: no version */
        "GET /metrics HTTP/2.0\r\n\r\n",       /* not ours */
        "GET /metrics HTTP/1.1 extra\r\n\r\n", /* four words */
        "G(T /metrics HTTP/1.1\r\n\r\n",       /* not a token */
        "GET /met\x01rics HTTP/1.1\r\n\r\n",   /* control character in the target */
        "\xff\xfe\xfd\x80 \x81 \x82\r\n\r\n",  /* binary */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        response_t r = exchange(port, bad[i], strlen(bad[i]));
        char what[32];
        snprintf(what, sizeof what, "request %zu", i);
        expect_refused(r, what);
        free(r.raw);
    }
    /* A NUL inside the request line: libmicrohttpd ends the target there, and "/me" is no
     * route. */
    static const char nul[] = "GET /me\0trics HTTP/1.1\r\n\r\n";
    response_t r = exchange(port, nul, sizeof nul - 1);
    expect_response(r, 404, "not found\n");
    free(r.raw);
    /* Two spaces after the method: libmicrohttpd splits the request line on whitespace, as
     * RFC 9112 section 3 allows, so this one is served. */
    static const char two_spaces[] = "GET  /healthz HTTP/1.1\r\n\r\n";
    expect_exchange(port, two_spaces, sizeof two_spaces - 1, 200, "ok\n");

    /* 16 KiB of headers: over the per-connection memory, refused with libmicrohttpd's own
     * page, answered cleanly though the client is still sending. */
    size_t big = 16384;
    char *req = malloc(big);
    memset(req, 'a', big);
    memcpy(req, "GET /metrics HTTP/1.1\r\nX-Filler: ", 33);
    expect_exchange(port, req, big, 431, NULL);
    /* 8 KiB and complete: still served. */
    memcpy(req + 8192 - 4, "\r\n\r\n", 4);
    expect_exchange(port, req, 8192, 200, NULL);
    free(req);

    /* A client that sends half a request and hangs up gets nothing and breaks nothing. */
    int fd = connect_local(port);
    send_all(fd, "GET /hea", 8);
    close(fd);
    /* Nor does one that connects and says nothing. */
    close(connect_local(port));

    expect_get(port, "/healthz", 200, "ok\n");
}
END_TEST

START_TEST(test_http_slow_clients_do_not_stall)
{
    int port = srv_port;

    /* One slow client: others are served at once. */
    int slow = connect_local(port);
    send_all(slow, "GET /heal", 9);
    int64_t t0 = mono_ms();
    response_t r = get(port, "/healthz");
    expect_response(r, 200, "ok\n");
    free(r.raw);
    ck_assert_int_lt(mono_ms() - t0, 500);

    /* The slow client is cut off after the 2 s read timeout. */
    r = read_response(slow);
    ck_assert_int_eq(r.status, 0);
    int64_t waited = mono_ms() - t0;
    ck_assert_msg(waited >= 1500 && waited < 4000, "slow client closed after %lld ms",
                  (long long)waited);
    free(r.raw);

    /* More idle clients than connection slots: the request queued behind them is served
     * once their read timeout frees a slot. */
    int idle[20];
    for (int i = 0; i < 20; i++) idle[i] = connect_local(port);
    t0 = mono_ms();
    expect_get(port, "/readyz", 503, "not ready\n");
    ck_assert_int_lt(mono_ms() - t0, 5000);
    for (int i = 0; i < 20; i++) close(idle[i]);

    /* Stop is prompt even with a client connected mid-request. */
    slow = connect_local(port);
    send_all(slow, "GET /", 5);
    sleep_ms(50);
    t0 = mono_ms();
    http_server_stop(srv);
    srv = NULL;
    int64_t stop_ms = mono_ms() - t0;
    ck_assert_msg(stop_ms < 200, "stop took %lld ms", (long long)stop_ms);
    r = read_response(slow);
    ck_assert_int_eq(r.status, 0);
    free(r.raw);
}
END_TEST

START_TEST(test_http_stop_idle_is_prompt)
{
    sleep_ms(30); /* let the thread settle into poll() */
    int64_t t0 = mono_ms();
    http_server_stop(srv);
    srv = NULL;
    ck_assert_int_lt(mono_ms() - t0, 200);
    http_server_stop(NULL);
}
END_TEST

START_TEST(test_http_bad_addresses)
{
    metrics_t *m = metrics_new();
    char err[256];
    static const char *const bad[] = {"",
                                      "9464",
                                      ":9464",
                                      "::1:9464",
                                      "127.0.0.1:",
                                      "127.0.0.1:99999",
                                      "127.0.0.1:12a",
                                      "127.0.0.1:-1",
                                      "[::1]9464"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        http_server_t *h = http_server_start(bad[i], m, err, sizeof err);
        ck_assert_msg(h == NULL, "\"%s\" accepted", bad[i]);
        ck_assert_msg(err[0] != '\0', "\"%s\": no message", bad[i]);
    }
    ck_assert_ptr_null(http_server_start(NULL, m, err, sizeof err));

    /* The port is taken: a clear error, not a silent second listener. */
    http_server_t *h = start_local(m);
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%d", http_server_port(h));
    ck_assert_ptr_null(http_server_start(taken, m, err, sizeof err));
    ck_assert_msg(strstr(err, "in use") != NULL, "error: %s", err);
    http_server_stop(h);

    /* A stopped server's port can be bound again at once (SO_REUSEADDR). */
    h = http_server_start(taken, m, err, sizeof err);
    ck_assert_msg(h != NULL, "rebind %s: %s", taken, err);
    http_server_stop(h);
    metrics_free(m);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("registry");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_render_exact);
    tcase_add_test(tc, test_render_fresh_and_cleared);
    tcase_add_test(tc, test_render_float_sums);
    tcase_add_test(tc, test_liveness_and_readiness);
    tcase_add_test(tc, test_concurrent_increments_are_exact);
    suite_add_tcase(s, tc);

    tc = tcase_create("http");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, serve_setup, serve_teardown);
    tcase_add_test(tc, test_http_routes);
    tcase_add_test(tc, test_http_garbage_and_oversize);
    tcase_add_test(tc, test_http_slow_clients_do_not_stall);
    tcase_add_test(tc, test_http_stop_idle_is_prompt);
    suite_add_tcase(s, tc);

    tc = tcase_create("http_addresses");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_http_bad_addresses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return support_run(metrics_suite());
}
