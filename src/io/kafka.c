/* The Kafka adapter: librdkafka behind kafka.h. */
#include "kafka.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mono.h"
#include "log.h"

struct kafka_consumer {
    rd_kafka_t *rk;
    kafka_rebalance_t rebalance;
    bool closed;
    bool close_abandoned; /* leaving the group timed out: the handle is still in use */
};

struct kafka_producer {
    rd_kafka_t *rk;
    long failures;
    void (*on_failure)(void *ctx);
    void *ctx;
    const volatile sig_atomic_t *stop;
    int64_t stop_grace_ms, stop_seen_ms; /* stop_seen_ms: the last acknowledgement seen */
    size_t stop_queued;
    int stop_logged;
    size_t max_bytes; /* message.max.bytes */
    /* What the brokers taught, per topic (a topic's max.message.bytes can be lower). */
    struct topic_limit {
        char name[256];
        size_t max_bytes;     /* below the smallest record refused as too large */
        size_t max_delivered; /* the largest record delivered */
    } limits[8];
    size_t n_limits;
};

/* The topic's entry, made on first use (the last slot is shared once all are taken). */
static struct topic_limit *topic_limit(kafka_producer_t *p, const char *topic)
{
    for (size_t i = 0; i < p->n_limits; i++)
        if (strcmp(p->limits[i].name, topic) == 0) return &p->limits[i];
    const size_t max = sizeof p->limits / sizeof *p->limits;
    struct topic_limit *t = &p->limits[p->n_limits < max ? p->n_limits++ : max - 1];
    snprintf(t->name, sizeof t->name, "%s", topic);
    t->max_bytes = p->max_bytes;
    t->max_delivered = 0;
    return t;
}

/* True once a stop was requested and the broker has acknowledged nothing for the grace
 * period: a reachable broker, however slow, keeps acknowledging and is waited for; an
 * unreachable one is not. */
static bool stopped(kafka_producer_t *p)
{
    if (!p->stop || !*p->stop) return false;
    int64_t now = mono_ms();
    size_t queued = (size_t)rd_kafka_outq_len(p->rk);
    if (!p->stop_seen_ms || queued < p->stop_queued) p->stop_seen_ms = now;
    p->stop_queued = queued;
    if (now - p->stop_seen_ms < p->stop_grace_ms) return false;
    if (p->stop_logged++) return true;
    log_at(LOG_WARN, "stopping with records unacknowledged; the next owner republishes them",
           "\"queued\":%zu", queued);
    return true;
}

/* ------------------------------------------------------------------ configuration */

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    log_level_t l = level <= 3   ? LOG_ERROR
                    : level <= 4 ? LOG_WARN
                    : level <= 6 ? LOG_INFO
                                 : LOG_DEBUG;
    log_at(l, "librdkafka", "\"facility\":\"%s\",\"detail\":\"%s\"", fac, buf);
}

/* Errors librdkafka raises outside a message: brokers down, authentication refused, TLS
 * handshake failures. librdkafka retries them itself; they are logged so an operator sees why
 * nothing flows (a wrong password or CA shows here, not as a timeout). */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    bool refused = err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL ||
                   err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
                   err == RD_KAFKA_RESP_ERR__FATAL;
    log_at(refused ? LOG_ERROR : LOG_WARN, "kafka error", "\"code\":\"%s\",\"error\":\"%s\"",
           rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
    char inner[256];
    if (rd_kafka_conf_set(conf, k, v, inner, sizeof inner) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "kafka option %s: %s", k, inner);
        return -1;
    }
    return 0;
}

typedef enum { ROLE_CONSUMER, ROLE_PRODUCER } role_t;

/* The role's settings, then every kafka.* passthrough option (which may override them). */
static rd_kafka_conf_t *conf_new(const config_t *cfg, role_t role, const char *group_id, char *err,
                                 size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    int rc = set(conf, "bootstrap.servers", cfg->brokers, err, errlen);
    rc |= set(conf, "client.id", cfg->worker_id, err, errlen);
    if (role == ROLE_CONSUMER) {
        rc |= set(conf, "group.id", group_id ? group_id : cfg->group_id, err, errlen);
        /* Offsets live in PostgreSQL, written with the determinations; Kafka's committed
         * offsets are only a mirror for lag dashboards, committed after the database. */
        rc |= set(conf, "enable.auto.commit", "false", err, errlen);
        rc |= set(conf, "enable.auto.offset.store", "false", err, errlen);
        rc |= set(conf, "auto.offset.reset", "earliest", err, errlen);
        rc |= set(conf, "enable.partition.eof", "true", err, errlen);
        /* Eager protocol: on a rebalance every partition is revoked before any is assigned,
         * so the batch in hand is dropped whole and positions are re-read from the database. */
        rc |= set(conf, "partition.assignment.strategy", "range,roundrobin", err, errlen);
        rc |= set(conf, "isolation.level", "read_committed", err, errlen);
        /* librdkafka prefetches up to 64 MiB per consumer by default; a few batches ahead is
         * enough to keep the worker busy and keeps its memory flat. Fetch responses are held
         * whole while any message of theirs is in a batch: 4 MiB ones (about two 5,000-event
         * batches) cost ~15 MB less peak memory than 8 MiB ones at the same throughput. */
        rc |= set(conf, "queued.max.messages.kbytes", "4096", err, errlen);
        rc |= set(conf, "fetch.max.bytes", "4194304", err, errlen);
    } else {
        /* librdkafka 2.0.2 defaults enable.idempotence to false. */
        rc |= set(conf, "enable.idempotence", "true", err, errlen);
        rc |= set(conf, "acks", "all", err, errlen);
        rc |= set(conf, "linger.ms", "5", err, errlen);
        rc |= set(conf, "compression.type", "lz4", err, errlen);
        rc |= set(conf, "queue.buffering.max.kbytes", "32768", err, errlen);
        /* The Java client's partitioner (murmur2 of the key bytes, positive, modulo the
         * partition count), which kafka-python and most other clients share; librdkafka's
         * default (consistent_random, CRC32) would put a member's events and outcomes on
         * other partitions than a Java producer of the same topic does. */
        rc |= set(conf, "partitioner", "murmur2_random", err, errlen);
    }
    for (size_t i = 0; i < cfg->n_passthrough && rc == 0; i++)
        rc |= set(conf, cfg->passthrough_keys[i], cfg->passthrough_values[i], err, errlen);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* ------------------------------------------------------------------ messages */

void kafka_message_release(kafka_message_t *m)
{
    if (m->impl) rd_kafka_message_destroy(m->impl);
    m->impl = NULL;
}

size_t kafka_message_headers(const kafka_message_t *m, record_header_t *out, size_t max)
{
    rd_kafka_headers_t *hdrs;
    if (!m->impl || rd_kafka_message_headers(m->impl, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    size_t n = rd_kafka_header_cnt(hdrs);
    for (size_t i = 0; i < n && i < max; i++) {
        const char *name;
        const void *value;
        size_t size;
        if (rd_kafka_header_get_all(hdrs, i, &name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return i;
        out[i] = (record_header_t){name, value, size};
    }
    return n;
}

static void fill_message(kafka_message_t *out, rd_kafka_message_t *m)
{
    *out = (kafka_message_t){.topic = rd_kafka_topic_name(m->rkt),
                             .partition = m->partition,
                             .offset = m->offset,
                             .key = m->key,
                             .key_len = m->key ? m->key_len : 0,
                             .value = m->payload,
                             .value_len = m->payload ? m->len : 0,
                             .timestamp_ms = rd_kafka_message_timestamp(m, NULL),
                             .impl = m};
}

/* ------------------------------------------------------------------ consumer */

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kafka_consumer_t *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        kafka_position_t *pos = calloc((size_t)parts->cnt + 1, sizeof *pos);
        if (pos) {
            for (int i = 0; i < parts->cnt; i++)
                pos[i] = (kafka_position_t){parts->elems[i].topic, parts->elems[i].partition,
                                            RD_KAFKA_OFFSET_INVALID};
            c->rebalance.on_assign(c->rebalance.ctx, pos, parts->cnt);
            for (int i = 0; i < parts->cnt; i++) parts->elems[i].offset = pos[i].offset;
            free(pos);
        } else {
            /* Out of memory: the committed mirror is no safe position, so take nothing and let
             * the group hand the partitions out again. */
            log_at(LOG_ERROR, "out of memory on assignment; leaving the group", NULL);
            rd_kafka_assign(rk, NULL);
            rd_kafka_unsubscribe(rk);
            return;
        }
        rd_kafka_assign(rk, parts);
    } else {
        c->rebalance.on_revoke(c->rebalance.ctx, parts->cnt);
        rd_kafka_assign(rk, NULL);
    }
}

kafka_consumer_t *kafka_consumer_new(const config_t *cfg, const char *group_id,
                                     const kafka_rebalance_t *rebalance, char *err, size_t errlen)
{
    kafka_consumer_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rd_kafka_conf_t *conf = conf_new(cfg, ROLE_CONSUMER, group_id, err, errlen);
    if (!conf) {
        free(c);
        return NULL;
    }
    if (rebalance) {
        c->rebalance = *rebalance;
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    }
    rd_kafka_conf_set_opaque(conf, c);
    /* rd_kafka_new takes the configuration only when it succeeds. */
    if (!(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen))) {
        rd_kafka_conf_destroy(conf);
        free(c);
        return NULL;
    }
    rd_kafka_poll_set_consumer(c->rk);
    return c;
}

int kafka_consumer_subscribe(kafka_consumer_t *c, const char *topics, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    char *copy = strdup(topics), *save = NULL;
    if (!copy) {
        rd_kafka_topic_partition_list_destroy(l);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        rd_kafka_topic_partition_list_add(l, t, RD_KAFKA_PARTITION_UA);
    free(copy);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) return snprintf(err, errlen, "subscribe: %s", rd_kafka_err2str(e)), -1;
    return 0;
}

int kafka_consumer_assign_all(kafka_consumer_t *c, const char *topic, char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(c->rk, topic, NULL);
    if (!t)
        return snprintf(err, errlen, "topic %s: %s", topic,
                        rd_kafka_err2str(rd_kafka_last_error())),
               -1;
    rd_kafka_resp_err_t e = rd_kafka_metadata(c->rk, 0, t, &md, 10000);
    rd_kafka_topic_destroy(t);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return snprintf(err, errlen, "no metadata for topic %s: %s", topic, rd_kafka_err2str(e)),
               -1;
    if (md->topic_cnt != 1 || md->topics[0].err) {
        snprintf(err, errlen, "no metadata for topic %s", topic);
        rd_kafka_metadata_destroy(md);
        return -1;
    }
    int n = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    e = rd_kafka_assign(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) return snprintf(err, errlen, "assign: %s", rd_kafka_err2str(e)), -1;
    return n;
}

kafka_poll_t kafka_consumer_poll(kafka_consumer_t *c, int timeout_ms, kafka_message_t *m)
{
    *m = (kafka_message_t){.timestamp_ms = -1};
    rd_kafka_message_t *rm = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (!rm) return KAFKA_POLL_NONE;
    if (!rm->err) {
        fill_message(m, rm);
        return KAFKA_POLL_MESSAGE;
    }
    kafka_poll_t r;
    if (rm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        fill_message(m, rm); /* the caller releases it: m->topic lives as long as it */
        return KAFKA_POLL_EOF;
    } else if (rm->err == RD_KAFKA_RESP_ERR__FATAL) {
        char reason[256];
        rd_kafka_fatal_error(c->rk, reason, sizeof reason);
        log_at(LOG_ERROR, "fatal Kafka error", "\"error\":\"%s\"", reason);
        r = KAFKA_POLL_FATAL;
    } else {
        log_at(LOG_WARN, "consumer error", "\"error\":\"%s\"", rd_kafka_message_errstr(rm));
        r = KAFKA_POLL_ERROR;
    }
    rd_kafka_message_destroy(rm);
    return r;
}

int kafka_consumer_seek(kafka_consumer_t *c, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, l, 5000);
    int rc = 0;
    if (e) {
        log_at(LOG_WARN, "seek failed", "\"topic\":\"%s\",\"partition\":%d,\"error\":\"%s\"", topic,
               partition, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        rc = -1;
    } else if (l->elems[0].err) {
        log_at(LOG_WARN, "seek failed", "\"topic\":\"%s\",\"partition\":%d,\"error\":\"%s\"", topic,
               partition, rd_kafka_err2str(l->elems[0].err));
        rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

int64_t kafka_consumer_high_watermark(kafka_consumer_t *c, const char *topic, int32_t partition)
{
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(c->rk, topic, partition, &low, &high) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    return high;
}

void kafka_consumer_mirror_positions(kafka_consumer_t *c, const kafka_position_t *pos, size_t n)
{
    if (n == 0) return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t k = 0; k < n; k++)
        rd_kafka_topic_partition_list_add(l, pos[k].topic, pos[k].partition)->offset =
            pos[k].offset;
    rd_kafka_commit(c->rk, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
}

/* rd_kafka_consumer_close on its own thread, so that the caller can stop waiting for it. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rd_kafka_t *rk;
    bool done, abandoned;
} closer_t;

static void *closer_main(void *arg)
{
    closer_t *cl = arg;
    rd_kafka_consumer_close(cl->rk);
    pthread_mutex_lock(&cl->mu);
    cl->done = true;
    bool abandoned = cl->abandoned;
    pthread_cond_signal(&cl->cv);
    pthread_mutex_unlock(&cl->mu);
    if (abandoned) { /* the caller gave up on it: nobody else frees this */
        pthread_mutex_destroy(&cl->mu);
        pthread_cond_destroy(&cl->cv);
        free(cl);
    }
    return NULL;
}

int kafka_consumer_close(kafka_consumer_t *c, int timeout_ms)
{
    if (!c || c->closed) return 0;
    c->closed = true;
    closer_t *cl = calloc(1, sizeof *cl);
    pthread_t t;
    if (!cl) {
        rd_kafka_consumer_close(c->rk);
        return 0;
    }
    pthread_mutex_init(&cl->mu, NULL);
    pthread_cond_init(&cl->cv, NULL);
    cl->rk = c->rk;
    if (pthread_create(&t, NULL, closer_main, cl) != 0) {
        rd_kafka_consumer_close(c->rk);
        cl->done = true;
    } else {
        pthread_detach(t);
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&cl->mu);
    while (!cl->done)
        if (pthread_cond_timedwait(&cl->cv, &cl->mu, &deadline) != 0) break;
    bool done = cl->done;
    cl->abandoned = !done;
    pthread_mutex_unlock(&cl->mu);
    if (!done) {
        /* librdkafka waits up to session.timeout.ms for an unreachable group coordinator. */
        c->close_abandoned = true;
        log_at(LOG_WARN,
               "leaving the consumer group timed out (broker unreachable); going on "
               "without it: the group notices after its session timeout",
               "\"timeout_ms\":%d", timeout_ms);
        return -1;
    }
    pthread_mutex_destroy(&cl->mu);
    pthread_cond_destroy(&cl->cv);
    free(cl);
    return 0;
}

void kafka_consumer_free(kafka_consumer_t *c)
{
    if (!c) return;
    kafka_consumer_close(c, 10000);
    /* A handle whose close is still running on its thread cannot be destroyed; the process is
     * ending anyway, and its memory goes with it. */
    if (!c->close_abandoned) {
        rd_kafka_destroy(c->rk);
        free(c);
    }
}

/* ------------------------------------------------------------------ producer */

/* Framing librdkafka adds to a record (v2 record overhead, rounded up) and per header. */
#define RECORD_OVERHEAD 64
#define HEADER_OVERHEAD 12

size_t kafka_record_size(const kafka_record_t *r)
{
    size_t n = RECORD_OVERHEAD + (r->key ? r->key_len : 0) + (r->value ? r->value_len : 0);
    for (size_t i = 0; i < r->n_headers; i++)
        n += HEADER_OVERHEAD + strlen(r->headers[i].name) +
             (r->headers[i].value ? r->headers[i].size : 0);
    return n;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kafka_producer_t *p = opaque;
    size_t size = RECORD_OVERHEAD + m->key_len + m->len;
    struct topic_limit *t = topic_limit(p, rd_kafka_topic_name(m->rkt));
    if (!m->err) {
        if (size > t->max_delivered) t->max_delivered = size;
        return;
    }
    p->failures++;
    if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && size > t->max_delivered) {
        /* The broker's limit for this topic is below ours: what is at least this large will be
         * refused again, so kafka_produce refuses it locally from now on and the caller sends
         * a shortened copy. The limit lies between the largest record delivered and this one;
         * a record no larger than one delivered was refused with its batch, not for its own
         * size, and teaches nothing. */
        if (size - 1 < t->max_bytes) t->max_bytes = size - 1;
    }
    log_at(LOG_WARN, "delivery failed", "\"topic\":\"%s\",\"error\":\"%s\",\"bytes\":%zu",
           rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err), m->len + m->key_len);
    if (p->on_failure) p->on_failure(p->ctx);
}

kafka_producer_t *kafka_producer_new(const config_t *cfg, void (*on_delivery_failure)(void *ctx),
                                     void *ctx, const volatile sig_atomic_t *stop, char *err,
                                     size_t errlen)
{
    kafka_producer_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->on_failure = on_delivery_failure;
    p->ctx = ctx;
    p->stop = stop;
    p->stop_grace_ms = 10000;
    rd_kafka_conf_t *conf = conf_new(cfg, ROLE_PRODUCER, NULL, err, errlen);
    if (!conf) {
        free(p);
        return NULL;
    }
    char value[32];
    size_t len = sizeof value;
    p->max_bytes = rd_kafka_conf_get(conf, "message.max.bytes", value, &len) == RD_KAFKA_CONF_OK
                       ? (size_t)strtoull(value, NULL, 10)
                       : 1000000;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, p);
    if (!(p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen))) {
        rd_kafka_conf_destroy(conf);
        free(p);
        return NULL;
    }
    return p;
}

size_t kafka_producer_max_bytes(kafka_producer_t *p, const char *topic)
{
    return topic_limit(p, topic)->max_bytes;
}

#define STACK_HEADERS 24

kafka_produce_t kafka_produce(kafka_producer_t *p, const kafka_record_t *r, char *err,
                              size_t errlen)
{
    size_t size = kafka_record_size(r), max = kafka_producer_max_bytes(p, r->topic);
    if (size > max) {
        snprintf(err, errlen, "record of %zu bytes for %s is over the limit of %zu", size, r->topic,
                 max);
        return KAFKA_TOO_LARGE;
    }
    rd_kafka_vu_t stack[5 + STACK_HEADERS], *vus = stack;
    if (r->n_headers > STACK_HEADERS && !(vus = malloc((5 + r->n_headers) * sizeof *vus))) {
        snprintf(err, errlen, "out of memory");
        return KAFKA_FAILED;
    }
    size_t n = 0;
    vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[n++].u.cstr = r->topic;
    vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
    vus[n].vtype = RD_KAFKA_VTYPE_KEY;
    vus[n].u.mem.ptr = (void *)r->key;
    vus[n++].u.mem.size = r->key ? r->key_len : 0;
    vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[n].u.mem.ptr = (void *)r->value;
    vus[n++].u.mem.size = r->value ? r->value_len : 0;
    if (r->timestamp_ms > 0) {
        vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
        vus[n++].u.i64 = r->timestamp_ms;
    }
    for (size_t i = 0; i < r->n_headers; i++, n++) {
        vus[n].vtype = RD_KAFKA_VTYPE_HEADER;
        vus[n].u.header.name = r->headers[i].name;
        vus[n].u.header.val = r->headers[i].value;
        vus[n].u.header.size = r->headers[i].value ? (ssize_t)r->headers[i].size : 0;
    }
    kafka_produce_t result = KAFKA_QUEUED;
    for (;;) {
        rd_kafka_error_t *e = rd_kafka_produceva(p->rk, vus, n);
        if (!e) break;
        rd_kafka_resp_err_t code = rd_kafka_error_code(e);
        if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            result = code == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? KAFKA_TOO_LARGE : KAFKA_FAILED;
            snprintf(err, errlen, "produce to %s: %s", r->topic, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            break;
        }
        rd_kafka_error_destroy(e);
        if (stopped(p)) {
            snprintf(err, errlen, "produce to %s: stopping with the queue full", r->topic);
            result = KAFKA_STOPPED;
            break;
        }
        rd_kafka_poll(p->rk, 50);
    }
    if (vus != stack) free(vus);
    return result;
}

void kafka_producer_poll(kafka_producer_t *p, int timeout_ms)
{
    rd_kafka_poll(p->rk, timeout_ms);
}

size_t kafka_producer_queued(kafka_producer_t *p)
{
    return (size_t)rd_kafka_outq_len(p->rk);
}

long kafka_producer_failures(const kafka_producer_t *p)
{
    return p->failures;
}

int kafka_producer_flush(kafka_producer_t *p)
{
    long before = p->failures;
    while (rd_kafka_outq_len(p->rk) > 0) {
        if (stopped(p)) return -1;
        rd_kafka_flush(p->rk, 200);
    }
    return p->failures == before ? 0 : -1;
}

void kafka_producer_free(kafka_producer_t *p)
{
    if (!p) return;
    kafka_producer_flush(p);
    if (stopped(p)) {
        /* Stopping: what is undelivered is dropped here and published again from the
         * database by whoever takes the partitions next. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(p->rk, 0);
    }
    rd_kafka_destroy(p->rk);
    free(p);
}
