/* Operator subcommands beside the worker: migrate, produce, dump. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avro_codec.h"
#include "buf.h"
#include "cli.h"
#include "schemas.h"
#include "config.h"
#include "json_event.h"
#include "kafka.h"
#include "log.h"
#include "store.h"

/* The options of the operator commands; each command accepts only its own. */
typedef struct {
    const char *config_path;
    const char *topic;
    bool raw;
    long idle_ms;
    long rate;
    long schema_version; /**< produce: the claim schema version to write (0: the current) */
} tool_opts_t;

typedef enum { OPTS_OK, OPTS_HELP, OPTS_USAGE } opts_result_t;

/* The exit code for a parse that did not end in OPTS_OK. */
#define OPTS_EXIT(r) ((r) == OPTS_HELP ? 0 : 2)

/* Parses argv for a command that accepts the options named in accepted ("ctirRV": --config,
 * --topic, --idle-ms, --raw, --rate, --schema-version); prints the usage on --help or a wrong
 * option. */
static opts_result_t parse_opts(int argc, char **argv, const char *accepted, const char *usage,
                                tool_opts_t *o)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"raw", no_argument, 0, 'r'},
        {"topic", required_argument, 0, 't'},  {"idle-ms", required_argument, 0, 'i'},
        {"rate", required_argument, 0, 'R'},   {"schema-version", required_argument, 0, 'V'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == '?' || c == 'h' || !strchr(accepted, c)) {
            fprintf(c == 'h' ? stdout : stderr, "usage: amtagvi-adjudicator %s\n", usage);
            return c == 'h' ? OPTS_HELP : OPTS_USAGE;
        }
        if (c == 'c') o->config_path = optarg;
        if (c == 'r') o->raw = true;
        if (c == 't') o->topic = optarg;
        if (c == 'i') o->idle_ms = atol(optarg);
        if (c == 'R') o->rate = atol(optarg);
        if (c == 'V')
            o->schema_version = strcmp(optarg, "1") == 0 ? 1 : strcmp(optarg, "2") == 0 ? 2 : -1;
    }
    return OPTS_OK;
}

int cmd_migrate(int argc, char **argv)
{
    tool_opts_t o = {0};
    opts_result_t r = parse_opts(argc, argv, "c", "migrate [--config FILE]", &o);
    if (r != OPTS_OK) return OPTS_EXIT(r);
    config_t cfg;
    if (cli_load_config(&cfg, o.config_path) != 0) {
        config_free(&cfg);
        return 2;
    }
    store_t *s = store_new(cfg.database_url, cfg.worker_id);
    if (!s) {
        fprintf(stderr, "amtagvi-adjudicator: migrate: out of memory\n");
        config_free(&cfg);
        return 1;
    }
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

/* With a Schema Registry: registers (or finds) the PA schema and the claim schema of the version
 * written under their subjects and writes the ids the registry gives. A registry that does not
 * answer is waited for a little (a command, not a service). @returns 0, or -1 with err. */
static int register_event_schemas(schemas_t *s, avro_codec_t *codec, const char *topic,
                                  int claim_version, const avro_codec_ids_t *pinned, char *err,
                                  size_t errlen)
{
    const char *names[2] = {"prior_auth", claim_version == 1 ? "claim.v1" : "claim"};
    int32_t got[2];
    for (int k = 0; k < 2; k++) {
        schemas_status_t st = SCHEMAS_RETRY;
        for (int attempt = 0, delay_ms = 200; st == SCHEMAS_RETRY && attempt < 6; attempt++) {
            if (attempt) {
                struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
                delay_ms *= 2;
            }
            st = schemas_register(s, names[k], topic, &got[k], err, errlen);
        }
        if (st != SCHEMAS_OK) return -1;
    }
    avro_codec_set_event_ids(codec, got[0], claim_version == 1 ? pinned->claim_schema_id : got[1],
                             claim_version == 1 ? got[1] : pinned->claim_v1_schema_id);
    fprintf(stderr, "produce: schema ids from the registry: prior_auth %d, %s %d\n", got[0],
            names[1], got[1]);
    return 0;
}

int cmd_produce(int argc, char **argv)
{
    tool_opts_t o = {0};
    opts_result_t r =
        parse_opts(argc, argv, "ctrRV",
                   "produce [--config FILE] [--topic T] [--raw] [--rate N] [--schema-version V]\n"
                   "        < events.jsonl\n"
                   "  JSON Lines events -> Avro (Confluent framing, each kind's schema id),\n"
                   "  keyed by member_id, in file order. --raw: lines KEY<TAB>HEX as is.\n"
                   "  --rate N: at most N messages a second (load tests).\n"
                   "  --schema-version V: claims with claim schema version V, 2 (the default,\n"
                   "  schema.id.claim) or 1 (schema.id.claim.v1: ORIGINAL claims only).",
                   &o);
    if (r != OPTS_OK) return OPTS_EXIT(r);
    if (o.schema_version == 0) o.schema_version = 2;
    if (o.schema_version != 1 && o.schema_version != 2) {
        fprintf(stderr, "amtagvi-adjudicator: produce: --schema-version is 1 or 2\n");
        return 2;
    }
    config_t cfg;
    if (cli_load_config(&cfg, o.config_path) != 0) {
        config_free(&cfg);
        return 2;
    }
    char first[256];
    const char *topic = o.topic;
    if (!topic) {
        snprintf(first, sizeof first, "%.*s", (int)strcspn(cfg.topics, ", "), cfg.topics);
        topic = first;
    }
    char err[512];
    avro_codec_ids_t ids = {(int32_t)cfg.prior_auth_schema_id, (int32_t)cfg.claim_schema_id,
                            (int32_t)cfg.determination_schema_id, (int32_t)cfg.claim_v1_schema_id};
    avro_codec_t *codec = avro_codec_new(&ids, err, sizeof err);
    schemas_t *schemas = codec ? schemas_new(&cfg, codec, err, sizeof err) : NULL;
    bool ok = schemas && (!schemas_registry_on(schemas) ||
                          register_event_schemas(schemas, codec, topic, (int)o.schema_version, &ids,
                                                 err, sizeof err) == 0);
    kafka_producer_t *producer =
        ok ? kafka_producer_new(&cfg, NULL, NULL, NULL, err, sizeof err) : NULL;
    if (!producer) {
        fprintf(stderr, "amtagvi-adjudicator: produce: %s\n", err);
        schemas_free(schemas);
        avro_codec_free(codec);
        config_free(&cfg);
        return 1;
    }
    long failed = 0, sent = 0, rejected = 0, lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    buf_t key = {0}, value = {0};
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while ((n = getline(&line, &cap, stdin)) != -1) {
        lineno++;
        if (o.rate > 0) {
            /* Pace to the offered load: message k leaves no earlier than k / rate seconds. */
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            double due = (double)sent / (double)o.rate,
                   elapsed = (double)(t.tv_sec - start.tv_sec) +
                             (double)(t.tv_nsec - start.tv_nsec) / 1e9;
            if (due > elapsed) {
                double wait = due - elapsed;
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                kafka_producer_poll(producer, 0);
                nanosleep(&ts, NULL);
            }
        }
        bool has_key = true, has_value = true;
        if (o.raw) {
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
            if (avro_codec_encode_event_version(codec, &ev, (int)o.schema_version, &value, err,
                                                sizeof err) != 0) {
                fprintf(stderr, "line %ld: cannot encode: %s\n", lineno, err);
                rejected++;
                continue;
            }
        }
        kafka_record_t rec = {.topic = topic,
                              .key = has_key ? key.data : NULL,
                              .key_len = key.len,
                              .value = has_value ? value.data : NULL,
                              .value_len = value.len};
        if (kafka_produce(producer, &rec, err, sizeof err) != KAFKA_QUEUED) {
            fprintf(stderr, "line %ld: %s\n", lineno, err);
            failed++;
        }
        sent++;
        kafka_producer_poll(producer, 0);
    }
    kafka_producer_flush(producer);
    failed += kafka_producer_failures(producer);
    fprintf(stderr, "produce: %ld sent to %s, %ld failed, %ld lines rejected\n", sent - failed,
            topic, failed, rejected);
    free(line);
    buf_free(&key);
    buf_free(&value);
    kafka_producer_free(producer);
    schemas_free(schemas);
    avro_codec_free(codec);
    config_free(&cfg);
    return failed ? 1 : 0;
}

static void hex_out(const void *p, size_t n)
{
    const unsigned char *u = p;
    for (size_t i = 0; i < n; i++) printf("%02x", u[i]);
}

static void hex_or_null(const void *p, size_t n)
{
    if (!p) {
        printf("null");
        return;
    }
    printf("\"");
    hex_out(p, n);
    printf("\"");
}

int cmd_dump(int argc, char **argv)
{
    tool_opts_t o = {.idle_ms = 3000};
    opts_result_t r =
        parse_opts(argc, argv, "cti",
                   "dump [--config FILE] --topic T [--idle-ms MS]\n"
                   "  prints every message of a topic from the beginning as JSON Lines\n"
                   "  (partition, offset, key, value and headers in hex), then exits once\n"
                   "  idle for MS milliseconds at the end of every partition.",
                   &o);
    if (r != OPTS_OK) return OPTS_EXIT(r);
    if (!o.topic) {
        fprintf(stderr, "amtagvi-adjudicator: dump needs --topic\n");
        return 2;
    }
    config_t cfg;
    if (cli_load_config(&cfg, o.config_path) != 0) {
        config_free(&cfg);
        return 2;
    }
    char err[512], group[300];
    snprintf(group, sizeof group, "amtagvi-dump-%s", cfg.worker_id);
    kafka_consumer_t *c = kafka_consumer_new(&cfg, group, NULL, err, sizeof err);
    /* Every partition from the beginning, no group membership needed. */
    int nparts = c ? kafka_consumer_assign_all(c, o.topic, err, sizeof err) : -1;
    if (nparts < 0) {
        fprintf(stderr, "amtagvi-adjudicator: dump: %s\n", err);
        kafka_consumer_free(c);
        config_free(&cfg);
        return 1;
    }
    int at_end = 0;
    long idle = 0;
    while (!(at_end >= nparts && idle >= o.idle_ms)) {
        kafka_message_t m;
        kafka_poll_t p = kafka_consumer_poll(c, 100, &m);
        if (p == KAFKA_POLL_NONE) {
            idle += 100;
            continue;
        }
        if (p == KAFKA_POLL_FATAL) break;
        if (p == KAFKA_POLL_EOF) at_end++;
        if (p == KAFKA_POLL_MESSAGE) {
            idle = 0;
            printf("{\"partition\": %d, \"offset\": %lld, \"key\": ", m.partition,
                   (long long)m.offset);
            hex_or_null(m.key, m.key_len);
            printf(", \"value\": ");
            hex_or_null(m.value, m.value_len);
            printf(", \"headers\": {");
            record_header_t h[256];
            size_t n = kafka_message_headers(&m, h, 256);
            for (size_t k = 0; k < n && k < 256; k++) {
                printf("%s\"%s\": ", k ? ", " : "", h[k].name);
                hex_or_null(h[k].value, h[k].size);
            }
            printf("}}\n");
        }
        kafka_message_release(&m);
    }
    kafka_consumer_free(c);
    config_free(&cfg);
    return 0;
}
