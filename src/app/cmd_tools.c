/* Operator subcommands beside the worker: migrate, produce, dump. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avro_codec.h"
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "json_event.h"
#include "kafka.h"
#include "log.h"
#include "store.h"

static int load_config(int argc, char **argv, const char *usage, config_t *cfg, bool *raw,
                       const char **topic, long *idle_ms, long *rate)
{
    const char *path = NULL;
    /* Zeroed first: callers free it on every return path, usage errors included. */
    memset(cfg, 0, sizeof *cfg);
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"raw", no_argument, 0, 'r'},
                                         {"topic", required_argument, 0, 't'},
                                         {"idle-ms", required_argument, 0, 'i'},
                                         {"rate", required_argument, 0, 'R'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'r' && raw) {
            *raw = true;
        } else if (c == 't' && topic) {
            *topic = optarg;
        } else if (c == 'i' && idle_ms) {
            *idle_ms = atol(optarg);
        } else if (c == 'R' && rate) {
            *rate = atol(optarg);
        } else {
            fprintf(c == 'h' ? stdout : stderr, "usage: amtagvi-adjudicator %s\n", usage);
            return c == 'h' ? 0 : 2;
        }
    }
    char err[512];
    if (config_load(cfg, path, err, sizeof err) != 0) {
        fprintf(stderr, "amtagvi-adjudicator: configuration: %s\n", err);
        return 2;
    }
    log_set_level(cfg->log_level);
    return -1;
}

int cmd_migrate(int argc, char **argv)
{
    config_t cfg;
    int rc = load_config(argc, argv, "migrate [--config FILE]", &cfg, NULL, NULL, NULL, NULL);
    if (rc >= 0) {
        config_free(&cfg);
        return rc;
    }
    store_t *s = store_new(cfg.database_url, cfg.worker_id);
    int applied = 0;
    store_status_t st = store_migrate(s, &applied);
    if (st == STORE_OK)
        printf("migrations: %d applied, database up to date\n", applied);
    else
        fprintf(stderr, "amtagvi-adjudicator: migrate: %s\n", store_error(s));
    store_free(s);
    config_free(&cfg);
    return st == STORE_OK ? 0 : 1;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* --raw lines: KEY<TAB>HEX, where KEY "-" means no key and HEX "-" a null value (tombstone). */
static int parse_raw(char *line, buf_t *key, buf_t *value, bool *has_key, bool *has_value)
{
    char *tab = strchr(line, '\t');
    if (!tab) return -1;
    *tab = '\0';
    char *hex = tab + 1;
    hex[strcspn(hex, "\r\n")] = '\0';
    buf_clear(key);
    buf_clear(value);
    *has_key = strcmp(line, "-") != 0;
    if (*has_key) buf_append_str(key, line);
    *has_value = strcmp(hex, "-") != 0;
    if (!*has_value) return 0;
    size_t n = strlen(hex);
    if (n % 2) return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
        if (hi < 0 || lo < 0) return -1;
        buf_append_char(value, (char)(hi << 4 | lo));
    }
    return 0;
}

static void produce_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    if (m->err) (*(long *)opaque)++;
}

int cmd_produce(int argc, char **argv)
{
    config_t cfg;
    bool raw = false;
    const char *topic = NULL;
    long rate = 0;
    int rc = load_config(argc, argv,
                         "produce [--config FILE] [--topic T] [--raw] [--rate N] < events.jsonl\n"
                         "  JSON Lines events -> Avro (Confluent framing, each kind's schema id),\n"
                         "  keyed by member_id, in file order. --raw: lines KEY<TAB>HEX as is.\n"
                         "  --rate N: at most N messages a second (load tests).",
                         &cfg, &raw, &topic, NULL, &rate);
    if (rc >= 0) {
        config_free(&cfg);
        return rc;
    }
    if (!topic) {
        static char first[256];
        snprintf(first, sizeof first, "%.*s", (int)strcspn(cfg.topics, ", "), cfg.topics);
        topic = first;
    }
    char err[512];
    avro_codec_ids_t ids = {(int32_t)cfg.prior_auth_schema_id, (int32_t)cfg.claim_schema_id,
                            (int32_t)cfg.determination_schema_id};
    avro_codec_t *codec = avro_codec_new(&ids, err, sizeof err);
    rd_kafka_conf_t *conf = kafka_conf_new(&cfg, KAFKA_PRODUCER, err, sizeof err);
    long failed = 0, sent = 0, rejected = 0, lineno = 0;
    if (!codec || !conf) {
        fprintf(stderr, "amtagvi-adjudicator: produce: %s\n", err);
        config_free(&cfg);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, produce_dr);
    rd_kafka_conf_set_opaque(conf, &failed);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "amtagvi-adjudicator: produce: %s\n", err);
        avro_codec_free(codec);
        config_free(&cfg);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    buf_t key = {0}, value = {0};
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while ((n = getline(&line, &cap, stdin)) != -1) {
        lineno++;
        if (rate > 0) {
            /* Pace to the offered load: message k leaves no earlier than k / rate seconds. */
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            double due = (double)sent / (double)rate,
                   elapsed = (double)(t.tv_sec - start.tv_sec) +
                             (double)(t.tv_nsec - start.tv_nsec) / 1e9;
            if (due > elapsed) {
                double wait = due - elapsed;
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                rd_kafka_poll(rk, 0);
                nanosleep(&ts, NULL);
            }
        }
        bool has_key = true, has_value = true;
        if (raw) {
            if (parse_raw(line, &key, &value, &has_key, &has_value) != 0) {
                fprintf(stderr, "line %ld: expected KEY<TAB>HEX\n", lineno);
                rejected++;
                continue;
            }
        } else {
            size_t len = (size_t)n;
            while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
            if (len == 0) continue;
            event_t ev;
            if (json_event_parse(line, len, &ev, err, sizeof err) != 0) {
                /* The error names fields, never values: safe to print. */
                fprintf(stderr, "line %ld: rejected: %s\n", lineno, err);
                rejected++;
                continue;
            }
            buf_clear(&key);
            buf_clear(&value);
            buf_append_str(&key, event_member_of(&ev));
            if (avro_codec_encode_event(codec, &ev, &value, err, sizeof err) != 0) {
                fprintf(stderr, "line %ld: cannot encode: %s\n", lineno, err);
                rejected++;
                continue;
            }
        }
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(has_key ? key.data : NULL, has_key ? key.len : 0),
                RD_KAFKA_V_VALUE(has_value ? value.data : NULL, has_value ? value.len : 0),
                RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
                failed++;
                break;
            }
            rd_kafka_poll(rk, 50);
        }
        sent++;
        rd_kafka_poll(rk, 0);
    }
    while (rd_kafka_outq_len(rk) > 0) rd_kafka_flush(rk, 1000);
    fprintf(stderr, "produce: %ld sent to %s, %ld failed, %ld lines rejected\n", sent - failed,
            topic, failed, rejected);
    free(line);
    buf_free(&key);
    buf_free(&value);
    rd_kafka_destroy(rk);
    avro_codec_free(codec);
    config_free(&cfg);
    return failed ? 1 : 0;
}

static void hex_out(const void *p, size_t n)
{
    const unsigned char *u = p;
    for (size_t i = 0; i < n; i++) printf("%02x", u[i]);
}

int cmd_dump(int argc, char **argv)
{
    config_t cfg;
    const char *topic = NULL;
    long idle_ms = 3000;
    int rc = load_config(argc, argv,
                         "dump [--config FILE] --topic T [--idle-ms MS]\n"
                         "  prints every message of a topic from the beginning as JSON Lines\n"
                         "  (partition, offset, key, value and headers in hex), then exits once\n"
                         "  idle for MS milliseconds at the end of every partition.",
                         &cfg, NULL, &topic, &idle_ms, NULL);
    if (rc >= 0 || !topic) {
        if (rc < 0) fprintf(stderr, "amtagvi-adjudicator: dump needs --topic\n");
        config_free(&cfg);
        return rc >= 0 ? rc : 2;
    }
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(&cfg, KAFKA_CONSUMER, err, sizeof err);
    char group[300];
    snprintf(group, sizeof group, "amtagvi-dump-%s", cfg.worker_id);
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "amtagvi-adjudicator: dump: %s\n", err);
        config_free(&cfg);
        return 1;
    }
    /* Assign every partition from the beginning, no group membership needed. */
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, t, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "amtagvi-adjudicator: dump: no metadata for topic %s\n", topic);
        rd_kafka_topic_destroy(t);
        rd_kafka_destroy(rk);
        config_free(&cfg);
        return 1;
    }
    int nparts = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int i = 0; i < nparts; i++)
        rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int at_end = 0;
    long idle = 0;
    while (!(at_end >= nparts && idle >= idle_ms)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            idle += 100;
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            at_end++;
        } else if (m->err) {
            fprintf(stderr, "dump: %s\n", rd_kafka_message_errstr(m));
        } else {
            idle = 0;
            printf("{\"partition\": %d, \"offset\": %lld, \"key\": ", m->partition,
                   (long long)m->offset);
            if (m->key) {
                printf("\"");
                hex_out(m->key, m->key_len);
                printf("\"");
            } else {
                printf("null");
            }
            printf(", \"value\": ");
            if (m->payload) {
                printf("\"");
                hex_out(m->payload, m->len);
                printf("\"");
            } else {
                printf("null");
            }
            printf(", \"headers\": {");
            rd_kafka_headers_t *hdrs;
            if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                const char *name;
                const void *val;
                size_t size;
                for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; i++) {
                    printf("%s\"%s\": \"", i ? ", " : "", name);
                    hex_out(val, size);
                    printf("\"");
                }
            }
            printf("}}\n");
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    config_free(&cfg);
    return 0;
}
