/* Schema ids on the wire: pinned, or from a Schema Registry (schemas.h). */
#include "schemas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

/* Ids the registry said hold nothing we can read: remembered so that a stream of them costs
 * one request each, not one per message. A small ring: an id forgotten is asked again. */
#define UNKNOWN_MAX 256

typedef struct {
    int32_t id;
    char reason[512];
} unknown_t;

struct schemas {
    avro_codec_t *codec;
    registry_t *registry;
    const char *strategy;
    unknown_t unknown[UNKNOWN_MAX];
    size_t n_unknown, next_unknown;
};

schemas_t *schemas_new(const config_t *cfg, avro_codec_t *codec, char *err, size_t errlen)
{
    schemas_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->codec = codec;
    s->strategy = cfg->schema_registry_subject_strategy;
    if (cfg->schema_registry_url && cfg->schema_registry_url[0]) {
        registry_config_t rc = {.urls = cfg->schema_registry_url,
                                .basic_auth = cfg->schema_registry_basic_auth,
                                .ca_location = cfg->schema_registry_ca_location,
                                .timeout_ms = (long)cfg->schema_registry_timeout_ms};
        if (!(s->registry = registry_new(&rc, err, errlen))) {
            free(s);
            return NULL;
        }
    }
    return s;
}

void schemas_free(schemas_t *s)
{
    if (!s) return;
    registry_free(s->registry);
    free(s);
}

bool schemas_registry_on(const schemas_t *s)
{
    return s->registry != NULL;
}

schemas_status_t schemas_register(schemas_t *s, const char *schema_name, const char *topic,
                                  int32_t *id, char *err, size_t errlen)
{
    if (!s->registry) {
        snprintf(err, errlen, "no schema registry configured");
        return SCHEMAS_FAILED;
    }
    const char *name = NULL;
    const char *text = avro_codec_schema_text(schema_name, &name);
    char subject[512];
    if (!text || !name) {
        snprintf(err, errlen, "schema %s is not compiled in", schema_name);
        return SCHEMAS_FAILED;
    }
    if (registry_subject(s->strategy, topic, name, subject, sizeof subject) != 0) {
        snprintf(err, errlen, "no subject for %s under strategy %s", name, s->strategy);
        return SCHEMAS_FAILED;
    }
    char inner[512];
    registry_status_t st = registry_register(s->registry, subject, text, id, inner, sizeof inner);
    if (st == REGISTRY_OK) return SCHEMAS_OK;
    snprintf(err, errlen, "registering %s under subject %s: %s", schema_name, subject, inner);
    return st == REGISTRY_UNAVAILABLE ? SCHEMAS_RETRY : SCHEMAS_FAILED;
}

static const unknown_t *find_unknown(const schemas_t *s, int32_t id)
{
    for (size_t i = 0; i < s->n_unknown; i++)
        if (s->unknown[i].id == id) return &s->unknown[i];
    return NULL;
}

static void add_unknown(schemas_t *s, int32_t id, const char *reason)
{
    unknown_t *u;
    if (s->n_unknown < UNKNOWN_MAX) {
        u = &s->unknown[s->n_unknown++];
    } else {
        u = &s->unknown[s->next_unknown];
        s->next_unknown = (s->next_unknown + 1) % UNKNOWN_MAX;
    }
    u->id = id;
    snprintf(u->reason, sizeof u->reason, "%s", reason);
}

schemas_status_t schemas_ensure(schemas_t *s, const void *msg, size_t len, char *err, size_t errlen)
{
    int32_t id = avro_codec_frame_id(msg, len);
    if (!s->registry || id < 0 || avro_codec_has_writer(s->codec, id) || find_unknown(s, id))
        return SCHEMAS_OK;
    char *text = NULL, inner[512];
    registry_status_t st = registry_schema_by_id(s->registry, id, &text, inner, sizeof inner);
    switch (st) {
    case REGISTRY_OK: {
        /* The codec remembers what it made of the schema: every message of the id then decodes
         * or is dead-lettered (unknown_schema, incompatible_schema) for the same reason. */
        char why[512];
        avro_codec_add_writer(s->codec, id, text, why, sizeof why);
        free(text);
        return SCHEMAS_OK;
    }
    case REGISTRY_NOT_FOUND:
    case REGISTRY_UNREADABLE:
        add_unknown(s, id, inner);
        return SCHEMAS_OK;
    case REGISTRY_REFUSED:
    case REGISTRY_UNAVAILABLE:
        break;
    }
    snprintf(err, errlen, "%s", inner);
    return SCHEMAS_RETRY;
}

const char *schemas_unknown_reason(const schemas_t *s, const void *msg, size_t len)
{
    const unknown_t *u = s->registry ? find_unknown(s, avro_codec_frame_id(msg, len)) : NULL;
    return u ? u->reason : NULL;
}
