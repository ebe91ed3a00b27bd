/* The configuration table. No option is parsed anywhere else. */
#include "config.h"

#include "buf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef enum { OPT_STRING, OPT_INT } opt_type_t;

typedef struct {
    const char *key;
    opt_type_t type;
    size_t offset;
    const char *def;
    int64_t min, max;
    bool secret;
    const char *help;
    char *(*mask)(const char *value); /**< a secret's masked form; NULL: config_mask_url */
} option_t;

#define S(field) offsetof(config_t, field)

static const option_t OPTIONS[] = {
    {"brokers", OPT_STRING, S(brokers), "127.0.0.1:9092", 0, 0, false, "Kafka bootstrap servers"},
    {"group.id", OPT_STRING, S(group_id), "amtagvi-adjudicator", 0, 0, false,
     "consumer group of the workers"},
    {"topics", OPT_STRING, S(topics), "amtagvi.events.v1", 0, 0, false,
     "comma-separated input topics (PA requests and claim lines, keyed by member_id)"},
    {"outcomes.topic", OPT_STRING, S(outcomes_topic), "amtagvi.determinations.v1", 0, 0, false,
     "where determinations are published"},
    {"dead_letter.topic", OPT_STRING, S(dead_letter_topic), "amtagvi.dead-letter.v1", 0, 0, false,
     "where undecodable or invalid messages go"},
    {"database.url", OPT_STRING, S(database_url), "postgresql://127.0.0.1:5432/amtagvi", 0, 0, true,
     "libpq URL or conninfo; set the password via AMTAGVI_DATABASE_URL or PGPASSWORD"},
    {"policy.file", OPT_STRING, S(policy_file), "", 0, 0, false,
     "policy data file (empty: the one shipped with the build)"},
    {"worker.id", OPT_STRING, S(worker_id), "", 0, 0, false,
     "name in logs and the offsets table (empty: hostname-pid)"},
    {"batch.max.messages", OPT_INT, S(batch_max_messages), "2000", 1, 100000, false,
     "a batch closes at this many messages"},
    {"batch.max.ms", OPT_INT, S(batch_max_ms), "100", 1, 60000, false,
     "... or this many milliseconds after its first message"},
    {"schema.id.prior_auth", OPT_INT, S(prior_auth_schema_id), "1", 0, INT32_MAX, false,
     "Confluent schema id of prior_auth events"},
    {"schema.id.claim", OPT_INT, S(claim_schema_id), "4", 0, INT32_MAX, false,
     "Confluent schema id of claim events, schema version 2 (with frequency_code); produce "
     "writes it"},
    {"schema.id.claim.v1", OPT_INT, S(claim_v1_schema_id), "2", 0, INT32_MAX, false,
     "Confluent schema id of claim events of schema version 1 (judged as ORIGINAL), still "
     "read; written only by produce --schema-version 1 (0: not accepted)"},
    {"schema.id.determination", OPT_INT, S(determination_schema_id), "5", 0, INT32_MAX, false,
     "Confluent schema id written on determinations (schema version 2)"},
    {"retry.max.backoff.ms", OPT_INT, S(retry_max_backoff_ms), "30000", 100, 600000, false,
     "longest wait between retries while PostgreSQL or Kafka is down"},
    {"schema.registry.url", OPT_STRING, S(schema_registry_url), "", 0, 0, true,
     "comma-separated Schema Registry base URLs, tried in order (fail-over); empty: off, the "
     "schema.id.* pinned ids are used (offline)",
     config_mask_http_urls},
    {"schema.registry.basic.auth.user.info", OPT_STRING, S(schema_registry_basic_auth), "", 0, 0,
     true,
     "user:password for the registry's HTTP basic auth (empty: none); set it via "
     "AMTAGVI_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO, not in the file",
     config_mask_user_info},
    {"schema.registry.ssl.ca.location", OPT_STRING, S(schema_registry_ca_location), "", 0, 0, false,
     "PEM CA file for https:// registry URLs (empty: the system's CAs)"},
    {"schema.registry.timeout.ms", OPT_INT, S(schema_registry_timeout_ms), "5000", 100, 60000,
     false, "longest registry request per URL (connecting: at most 2 s)"},
    {"schema.registry.subject.name.strategy", OPT_STRING, S(schema_registry_subject_strategy),
     "record", 0, 0, false,
     "subject our schemas are registered under: record (the record's full name) or "
     "topic_record (<topic>-<full name>)"},
    {"schema.registry.retry.max.ms", OPT_INT, S(schema_registry_retry_max_ms), "10000", 100, 600000,
     false, "longest wait between retries while the registry is unavailable"},
    {"exit.when.idle.ms", OPT_INT, S(exit_when_idle_ms), "0", 0, 86400000, false,
     "stop after this long with no message and every partition at its end (0: never)"},
    {"log.level", OPT_STRING, S(log_level), "info", 0, 0, false, "debug, info, warn or error"},
    {"metrics.address", OPT_STRING, S(metrics_address), "", 0, 0, false,
     "host:port for /metrics, /healthz, /readyz (empty: off)"},
    {"trace.headers", OPT_STRING, S(trace_headers),
     "traceparent,tracestate,baggage,correlation-id,x-correlation-id,x-request-id", 0, 0, false,
     "comma-separated headers copied from an event to its outcome message"},
    {"shutdown.timeout.ms", OPT_INT, S(shutdown_timeout_ms), "10000", 100, 600000, false,
     "longest wait to leave the consumer group on stop (an unreachable broker is not waited for)"},
    {"health.stall.ms", OPT_INT, S(health_stall_ms), "60000", 1000, 86400000, false,
     "/healthz fails when the worker makes no progress for this long (a batch committed, or idle)"},
    {"dead_letter.max.replays", OPT_INT, S(dead_letter_max_replays), "3", 1, 1000, false,
     "dead-letters replay skips a record replayed this many times that failed again"},
    {"fault.encode.refuse", OPT_STRING, S(fault_encode_refuse), "", 0, 0, false,
     "tests only: the outcome encoder refuses determinations whose event_id starts with this"},
    {"fault.exit.after.commit", OPT_INT, S(fault_exit_after_commit), "0", 0, INT32_MAX, false,
     "tests only: exit like kill -9 right after the Nth batch commit, before publishing it "
     "(0: never)"},
};
#define N_OPTIONS (sizeof OPTIONS / sizeof *OPTIONS)

/* kafka.* options also read from the environment (AMTAGVI_KAFKA_SECURITY_PROTOCOL, ...):
 * connection security and its secrets. */
static const char *const KAFKA_ENV_KEYS[] = {"security.protocol",
                                             "sasl.mechanisms",
                                             "sasl.username",
                                             "sasl.password",
                                             "ssl.ca.location",
                                             "ssl.certificate.location",
                                             "ssl.key.location",
                                             "ssl.key.password",
                                             "ssl.keystore.location",
                                             "ssl.keystore.password",
                                             "ssl.endpoint.identification.algorithm",
                                             "sasl.oauthbearer.client.id",
                                             "sasl.oauthbearer.client.secret"};

static int set_option(config_t *c, const option_t *o, const char *value, char *err, size_t errlen)
{
    void *field = (char *)c + o->offset;
    if (o->type == OPT_STRING) {
        char *copy = strdup(value);
        if (!copy) return snprintf(err, errlen, "out of memory"), -1;
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end || v < o->min || v > o->max) {
        snprintf(err, errlen, "%s: '%s' is not an integer in %lld..%lld", o->key, value,
                 (long long)o->min, (long long)o->max);
        return -1;
    }
    *(int64_t *)field = v;
    return 0;
}

int config_set(config_t *c, const char *key, const char *value, char *err, size_t errlen)
{
    if (strncmp(key, "kafka.", 6) == 0 && key[6]) {
        for (size_t i = 0; i < c->n_passthrough; i++) {
            if (strcmp(c->passthrough_keys[i], key + 6) == 0) {
                free(c->passthrough_values[i]);
                c->passthrough_values[i] = strdup(value);
                return 0;
            }
        }
        if (c->n_passthrough == CONFIG_MAX_PASSTHROUGH)
            return snprintf(err, errlen, "too many kafka.* options"), -1;
        c->passthrough_keys[c->n_passthrough] = strdup(key + 6);
        c->passthrough_values[c->n_passthrough++] = strdup(value);
        return 0;
    }
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(OPTIONS[i].key, key) == 0) return set_option(c, &OPTIONS[i], value, err, errlen);
    snprintf(err, errlen, "unknown option '%s' (see --print-config for the list)", key);
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static void env_name(const char *key, char *out, size_t outlen)
{
    size_t o = snprintf(out, outlen, "AMTAGVI_");
    for (; *key && o + 1 < outlen; key++)
        out[o++] = *key == '.' ? '_' : (char)toupper((unsigned char)*key);
    out[o] = '\0';
}

int config_load(config_t *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (set_option(c, &OPTIONS[i], OPTIONS[i].def, err, errlen) != 0) return -1;
    if (path) {
        FILE *f = fopen(path, "r");
        if (!f) return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1;
        char line[4096];
        int lineno = 0;
        while (fgets(line, sizeof line, f)) {
            lineno++;
            char *s = trim(line);
            if (!*s || *s == '#') continue;
            char *eq = strchr(s, '=');
            if (!eq) {
                fclose(f);
                return snprintf(err, errlen, "%s:%d: expected key = value", path, lineno), -1;
            }
            *eq = '\0';
            char inner[300];
            if (config_set(c, trim(s), trim(eq + 1), inner, sizeof inner) != 0) {
                fclose(f);
                return snprintf(err, errlen, "%s:%d: %s", path, lineno, inner), -1;
            }
        }
        fclose(f);
    }
    /* The environment wins over the file: secrets and per-host settings come from there. */
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char name[128];
        env_name(OPTIONS[i].key, name, sizeof name);
        const char *v = getenv(name);
        if (v && set_option(c, &OPTIONS[i], v, err, errlen) != 0) return -1;
    }
    /* The kafka.* options a deployment sets per host or per secret store, from the
     * environment too. A list, not every AMTAGVI_KAFKA_* variable: ops/stack.sh env and
     * operators' shells hold others (AMTAGVI_KAFKA_PORT, _BROKERS, ...) that are no librdkafka
     * property. */
    for (size_t i = 0; i < sizeof KAFKA_ENV_KEYS / sizeof *KAFKA_ENV_KEYS; i++) {
        char key[128], name[160];
        snprintf(key, sizeof key, "kafka.%s", KAFKA_ENV_KEYS[i]);
        env_name(key, name, sizeof name);
        const char *v = getenv(name);
        if (v && config_set(c, key, v, err, errlen) != 0) return -1;
    }
    if (!c->worker_id[0]) {
        char host[128] = "worker";
        gethostname(host, sizeof host - 1);
        char id[200];
        snprintf(id, sizeof id, "%s-%ld", host, (long)getpid());
        free(c->worker_id);
        c->worker_id = strdup(id);
    }
    if (!c->brokers[0] || !c->topics[0] || !c->group_id[0] || !c->outcomes_topic[0] ||
        !c->dead_letter_topic[0] || !c->database_url[0])
        return snprintf(err, errlen,
                        "brokers, topics, group.id, outcomes.topic, dead_letter.topic and "
                        "database.url must not be empty"),
               -1;
    if (strcmp(c->schema_registry_subject_strategy, "record") &&
        strcmp(c->schema_registry_subject_strategy, "topic_record"))
        return snprintf(err, errlen,
                        "schema.registry.subject.name.strategy: must be record or topic_record"),
               -1;
    /* Each URL http(s)://; the text is not quoted, it may hold a user:password. */
    size_t url_no = 0;
    for (const char *p = c->schema_registry_url; *p;) {
        size_t n = strcspn(p, ",");
        const char *u = p;
        url_no++;
        while (u < p + n && isspace((unsigned char)*u)) u++;
        if (u < p + n && strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8))
            return snprintf(err, errlen,
                            "schema.registry.url: URL %zu of the list is not http:// or https://",
                            url_no),
                   -1;
        p += n;
        if (*p) p++;
    }
    if (c->schema_registry_basic_auth[0] &&
        (c->schema_registry_basic_auth[0] == ':' || !strchr(c->schema_registry_basic_auth, ':')))
        return snprintf(err, errlen,
                        "schema.registry.basic.auth.user.info: expected user:password (the "
                        "value is not shown)"),
               -1;
    if (strcmp(c->log_level, "debug") && strcmp(c->log_level, "info") &&
        strcmp(c->log_level, "warn") && strcmp(c->log_level, "error"))
        return snprintf(err, errlen, "log.level: must be debug, info, warn or error"), -1;
    return 0;
}

/* Masks a URL: postgresql://user:SECRET@host/db?password=SECRET&... */
static void mask_uri(const char *url, buf_t *out)
{
    const char *p = strstr(url, "://") + 3;
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    const char *colon = strchr(p, ':');
    buf_append(out, url, (size_t)(p - url));
    if (at && (!slash || at < slash) && colon && colon < at) {
        buf_append(out, p, (size_t)(colon - p));
        buf_append_str(out, ":****");
        p = at;
    }
    /* Query parameters: password=... up to the next '&'. */
    while (*p) {
        const char *q = strstr(p, "password=");
        if (!q || (q != p && q[-1] != '?' && q[-1] != '&')) {
            if (!q) {
                buf_append_str(out, p);
                break;
            }
            buf_append(out, p, (size_t)(q - p) + 9);
            p = q + 9;
            continue;
        }
        buf_append(out, p, (size_t)(q - p) + 9);
        buf_append_str(out, "****");
        p = q + 9;
        while (*p && *p != '&') p++;
    }
}

/* Masks a keyword/value conninfo string as libpq parses it: `key = value` with optional
 * spaces around '=', values bare or single-quoted with backslash escapes. */
static void mask_conninfo(const char *s, buf_t *out)
{
    while (*s) {
        while (isspace((unsigned char)*s)) buf_append_char(out, *s++);
        const char *key = s;
        while (*s && !isspace((unsigned char)*s) && *s != '=') s++;
        size_t klen = (size_t)(s - key);
        buf_append(out, key, klen);
        while (isspace((unsigned char)*s)) buf_append_char(out, *s++);
        if (*s != '=') continue;
        buf_append_char(out, *s++);
        while (isspace((unsigned char)*s)) buf_append_char(out, *s++);
        const char *val = s;
        if (*s == '\'') {
            for (s++; *s && *s != '\''; s++)
                if (*s == '\\' && s[1]) s++;
            if (*s) s++;
        } else {
            while (*s && !isspace((unsigned char)*s)) s++;
        }
        if (klen == 8 && strncmp(key, "password", 8) == 0)
            buf_append_str(out, "****");
        else
            buf_append(out, val, (size_t)(s - val));
    }
}

char *config_mask_url(const char *url)
{
    buf_t out = {0};
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
        mask_uri(url, &out);
    else
        mask_conninfo(url, &out);
    if (!out.data) buf_append_str(&out, "");
    return out.data;
}

/* Masks the user:password@ of every URL: http://user:****@host (or ****@host without a user).
 */
char *config_mask_http_urls(const char *urls)
{
    buf_t out = {0};
    buf_append_str(&out, "");
    for (const char *p = urls;;) {
        size_t n = strcspn(p, ",");
        const char *scheme = strstr(p, "://");
        const char *host = scheme && scheme < p + n ? scheme + 3 : p;
        size_t auth_len = strcspn(host, "/?#,");
        const char *at = NULL;
        for (size_t i = 0; i < auth_len; i++)
            if (host[i] == '@') at = host + i;
        if (at) {
            buf_append(&out, p, (size_t)(host - p));
            const char *colon = memchr(host, ':', (size_t)(at - host));
            if (colon && colon > host) buf_append(&out, host, (size_t)(colon - host) + 1);
            buf_append_str(&out, "****");
            buf_append(&out, at, (size_t)(p + n - at));
        } else {
            buf_append(&out, p, n);
        }
        if (!p[n]) break;
        buf_append_char(&out, ',');
        p += n + 1;
    }
    return out.data;
}

char *config_mask_user_info(const char *user_info)
{
    buf_t out = {0};
    buf_append_str(&out, "");
    if (!*user_info) return out.data;
    const char *colon = strchr(user_info, ':');
    if (colon && colon > user_info) buf_append(&out, user_info, (size_t)(colon - user_info) + 1);
    buf_append_str(&out, "****");
    return out.data;
}

void config_print(const config_t *c, FILE *out)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const option_t *o = &OPTIONS[i];
        const void *field = (const char *)c + o->offset;
        fprintf(out, "# %s\n", o->help);
        if (o->type == OPT_INT) {
            fprintf(out, "%s = %lld\n", o->key, (long long)*(const int64_t *)field);
        } else if (o->secret) {
            const char *v = *(char *const *)field;
            char *m = o->mask ? o->mask(v) : config_mask_url(v);
            fprintf(out, "%s = %s\n", o->key, m ? m : "****");
            free(m);
        } else {
            fprintf(out, "%s = %s\n", o->key, *(char *const *)field);
        }
    }
    for (size_t i = 0; i < c->n_passthrough; i++) {
        bool secret =
            strstr(c->passthrough_keys[i], "password") || strstr(c->passthrough_keys[i], "secret");
        fprintf(out, "kafka.%s = %s\n", c->passthrough_keys[i],
                secret ? "****" : c->passthrough_values[i]);
    }
}

void config_free(config_t *c)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (OPTIONS[i].type == OPT_STRING) free(*(char **)((char *)c + OPTIONS[i].offset));
    for (size_t i = 0; i < c->n_passthrough; i++) {
        free(c->passthrough_keys[i]);
        free(c->passthrough_values[i]);
    }
    memset(c, 0, sizeof *c);
}
