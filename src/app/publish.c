/* Publishing with the size rule, and dead letters in Kafka Connect's shape. */
#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

bool publish_is_context_header(const char *name)
{
    return strncmp(name, "__connect.errors.", 17) == 0 ||
           strcmp(name, PUBLISH_REPLAY_COUNT_HEADER) == 0 ||
           strncmp(name, "amtagvi.truncated", 17) == 0 ||
           strncmp(name, "amtagvi.original.", 17) == 0;
}

int publish_replay_count(const record_header_t *headers, size_t n)
{
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(headers[i].name, PUBLISH_REPLAY_COUNT_HEADER) != 0 || !headers[i].value)
            continue;
        const char *v = headers[i].value;
        count = 0;
        for (size_t k = 0; k < headers[i].size && k < 6; k++) {
            if (v[k] < '0' || v[k] > '9') break;
            count = count * 10 + (v[k] - '0');
        }
    }
    return count;
}

kafka_produce_t publish_record(kafka_producer_t *p, const kafka_record_t *r, size_t n_original,
                               bool *shortened)
{
    char err[512];
    *shortened = false;
    kafka_produce_t res = kafka_produce(p, r, err, sizeof err);
    if (res != KAFKA_TOO_LARGE) {
        if (res != KAFKA_QUEUED) log_at(LOG_WARN, "produce failed", "\"error\":\"%s\"", err);
        return res;
    }
    /* Shorter and shorter copies: without the value; then without the key and the original
     * headers as well. The context headers (ids, codes, sizes) always go. */
    size_t n_context = r->n_headers - n_original;
    record_header_t *h = malloc((r->n_headers + 3) * sizeof *h);
    if (!h) return KAFKA_FAILED;
    char value_bytes[24], key_bytes[24];
    snprintf(value_bytes, sizeof value_bytes, "%zu", r->value ? r->value_len : 0);
    snprintf(key_bytes, sizeof key_bytes, "%zu", r->key ? r->key_len : 0);
    for (int attempt = 0; attempt < 2 && res == KAFKA_TOO_LARGE; attempt++) {
        bool keep_key = attempt == 0;
        size_t n = 0;
        if (keep_key)
            for (size_t i = 0; i < n_original; i++) h[n++] = r->headers[i];
        for (size_t i = 0; i < n_context; i++) h[n++] = r->headers[n_original + i];
        const char *what = keep_key ? "value" : "key,value,headers";
        h[n++] = (record_header_t){"amtagvi.truncated", what, strlen(what)};
        h[n++] =
            (record_header_t){"amtagvi.original.value.bytes", value_bytes, strlen(value_bytes)};
        if (!keep_key)
            h[n++] = (record_header_t){"amtagvi.original.key.bytes", key_bytes, strlen(key_bytes)};
        kafka_record_t copy = *r;
        copy.value = NULL;
        copy.value_len = 0;
        if (!keep_key) {
            copy.key = NULL;
            copy.key_len = 0;
        }
        copy.headers = h;
        copy.n_headers = n;
        res = kafka_produce(p, &copy, err, sizeof err);
    }
    free(h);
    if (res == KAFKA_QUEUED) {
        *shortened = true;
        log_at(LOG_WARN, "record too large for its topic; published without its value",
               "\"topic\":\"%s\",\"value_bytes\":%zu", r->topic, r->value ? r->value_len : 0);
    } else if (res == KAFKA_TOO_LARGE) {
        log_at(LOG_ERROR, "record too large even without its value; not published",
               "\"topic\":\"%s\",\"error\":\"%s\"", r->topic, err);
    }
    return res;
}

#define CONTEXT_HEADERS 9

kafka_produce_t publish_dead_letter(kafka_producer_t *p, const char *topic,
                                    const store_dead_letter_t *dl, bool *shortened)
{
    char part[16], off[24], replays[16];
    snprintf(part, sizeof part, "%d", dl->partition);
    snprintf(off, sizeof off, "%lld", (long long)dl->offset);
    snprintf(replays, sizeof replays, "%d", dl->replay_count);
    record_header_t *h = malloc((dl->n_headers + CONTEXT_HEADERS) * sizeof *h);
    if (!h) return KAFKA_FAILED;
    size_t n = 0;
    for (size_t i = 0; i < dl->n_headers; i++)
        if (!publish_is_context_header(dl->headers[i].name)) h[n++] = dl->headers[i];
    size_t n_original = n;
    const char *const context[][2] = {
        {"__connect.errors.topic", dl->topic},
        {"__connect.errors.partition", part},
        {"__connect.errors.offset", off},
        {"__connect.errors.stage", dl->stage},
        {"__connect.errors.exception.class.name", dl->reason},
        {"__connect.errors.exception.message", dl->error},
        {"__connect.errors.connector.name", dl->consumer_group},
        {"__connect.errors.task.id", dl->worker_id},
        {PUBLISH_REPLAY_COUNT_HEADER, replays},
    };
    _Static_assert(sizeof context / sizeof *context == CONTEXT_HEADERS, "context headers");
    for (size_t i = 0; i < CONTEXT_HEADERS; i++) {
        const char *v = context[i][1] ? context[i][1] : "";
        h[n++] = (record_header_t){context[i][0], v, strlen(v)};
    }
    kafka_record_t r = {.topic = topic,
                        .key = dl->key,
                        .key_len = dl->key_len,
                        .value = dl->payload,
                        .value_len = dl->payload_len,
                        .headers = h,
                        .n_headers = n,
                        .timestamp_ms = dl->timestamp_ms > 0 ? dl->timestamp_ms : 0};
    kafka_produce_t res = publish_record(p, &r, n_original, shortened);
    free(h);
    return res;
}
