/* The reference determination encoder of avro_reference.h: every field set by name through
 * avro-c's generic values and written by avro-c, so it shares nothing with the codec's direct
 * encoder but the schema text. */
#include "avro_reference.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"

/* A determination is under 4 KiB. */
#define BODY_MAX (64 * 1024)

struct avro_reference {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
    bool has_value;
    char body[BODY_MAX];
};

avro_reference_t *avro_reference_new(void)
{
    avro_reference_t *r = calloc(1, sizeof *r);
    const char *text = amtagvi_schema_text("determination");
    if (!r || !text || avro_schema_from_json_length(text, strlen(text), &r->schema) != 0 ||
        !(r->iface = avro_generic_class_from_schema(r->schema)) ||
        avro_generic_value_new(r->iface, &r->value) != 0) {
        avro_reference_free(r);
        return NULL;
    }
    r->has_value = true;
    return r;
}

void avro_reference_free(avro_reference_t *r)
{
    if (!r) return;
    if (r->has_value) avro_value_decref(&r->value);
    if (r->iface) avro_value_iface_decref(r->iface);
    if (r->schema) avro_schema_decref(r->schema);
    free(r);
}

/* ["null", T]: branch 0 is null. */
static int set_opt_string(avro_value_t *v, const char *s)
{
    avro_value_t b;
    if (avro_value_set_branch(v, s ? 1 : 0, &b) != 0) return -1;
    return s ? avro_value_set_string(&b, s) : avro_value_set_null(&b);
}

static int set_opt_int(avro_value_t *v, bool present, int32_t x)
{
    avro_value_t b;
    if (avro_value_set_branch(v, present ? 1 : 0, &b) != 0) return -1;
    return present ? avro_value_set_int(&b, x) : avro_value_set_null(&b);
}

/* The field of a record by name. The schema is the embedded one, so a name it lacks is a bug in
 * this file. */
static avro_value_t *field(avro_value_t *rec, const char *name, avro_value_t *out)
{
    if (avro_value_get_by_name(rec, name, out, NULL) != 0) {
        fprintf(stderr, "avro_reference: no field %s: %s\n", name, avro_strerror());
        abort();
    }
    return out;
}

/* The codes of a reason in the policy: "" in the file means none (null). */
static const char *code_or_null(const char *code)
{
    return code[0] ? code : NULL;
}

int avro_reference_encode_determination(avro_reference_t *r, const determination_t *d,
                                        const policy_t *p, const determination_meta_t *meta,
                                        int32_t schema_id, buf_t *out)
{
    avro_value_t *rec = &r->value, v, item, x;
    bool pa = d->kind == EVENT_PRIOR_AUTH;
    int rc = avro_value_reset(rec);
    rc |= avro_value_set_string(field(rec, "determination_id", &v), d->determination_id);
    rc |= avro_value_set_string(field(rec, "event_id", &v), d->event_id);
    rc |= avro_value_set_enum(field(rec, "kind", &v), pa ? 0 : 1);
    rc |= avro_value_set_string(field(rec, "member_id", &v), d->member_id);
    rc |= set_opt_string(field(rec, "pa_id", &v), pa ? d->pa_id : NULL);
    rc |= set_opt_string(field(rec, "claim_id", &v), pa ? NULL : d->claim_id);
    rc |= set_opt_int(field(rec, "line_number", &v), !pa, d->line_number);
    rc |= avro_value_set_string(field(rec, "policy_id", &v), p->policy_id);
    rc |= set_opt_int(field(rec, "policy_version", &v), d->policy_version != DATE_NULL,
                      d->policy_version);
    rc |= avro_value_set_enum(field(rec, "outcome", &v), (int)d->outcome);
    rc |= set_opt_string(field(rec, "x12_action", &v), x12_action_of(d));
    /* The generic map keeps insertion order, so criteria are written in the contract's order. */
    field(rec, "criteria", &v);
    for (int i = 0; i < criteria_count(d->kind); i++) {
        rc |= avro_value_add(&v, criterion_name(d->kind, i), &x, NULL, NULL);
        rc |= avro_value_set_enum(&x, d->criteria[i]);
    }
    field(rec, "reasons", &v);
    for (int i = 0; i < d->n_reasons; i++) {
        const reason_t *reason = &d->reasons[i];
        const reason_info_t *info = policy_reason(p, d->kind, (reason_code_t)reason->code);
        rc |= avro_value_append(&v, &item, NULL);
        rc |= avro_value_set_string(field(&item, "criterion", &x),
                                    criterion_name(d->kind, reason->criterion));
        rc |= avro_value_set_string(field(&item, "code", &x),
                                    reason_code_name((reason_code_t)reason->code));
        rc |= avro_value_set_enum(field(&item, "status", &x), reason->status);
        rc |= set_opt_string(field(&item, "group", &x), code_or_null(info->group));
        rc |= set_opt_string(field(&item, "carc", &x), code_or_null(info->carc));
        rc |= set_opt_string(field(&item, "rarc", &x), code_or_null(info->rarc));
        rc |=
            avro_value_set_string(field(&item, "message", &x), info->message ? info->message : "");
    }
    rc |=
        avro_value_set_branch(field(rec, "authorization", &v), d->has_authorization ? 1 : 0, &item);
    if (d->has_authorization) {
        rc |= avro_value_set_string(field(&item, "auth_id", &x), d->pa_id);
        rc |= avro_value_set_int(field(&item, "valid_from", &x), d->valid_from);
        rc |= avro_value_set_int(field(&item, "valid_until", &x), d->valid_until);
        rc |= avro_value_set_int(field(&item, "max_doses", &x), d->max_doses);
        rc |= avro_value_set_long(field(&item, "dose_min_cells", &x), d->dose_min_cells);
        rc |= avro_value_set_long(field(&item, "dose_max_cells", &x), d->dose_max_cells);
    } else {
        rc |= avro_value_set_null(&item);
    }
    rc |= set_opt_string(field(rec, "matched_pa_id", &v), d->matched_pa_id);
    /* Without a worker there is no source position: -1 says so. */
    rc |= avro_value_set_long(field(rec, "decided_at", &v), meta ? meta->decided_at_ms : 0);
    rc |= avro_value_set_string(field(rec, "topic", &v), meta && meta->topic ? meta->topic : "");
    rc |= avro_value_set_int(field(rec, "partition", &v), meta ? meta->partition : -1);
    rc |= avro_value_set_long(field(rec, "offset", &v), meta ? meta->offset : -1);
    /* Version 2 (contract §11): the claim's frequency by its symbol's name, null for a PA. */
    rc |= avro_value_set_branch(field(rec, "frequency_code", &v), pa ? 0 : 1, &item);
    if (pa) {
        rc |= avro_value_set_null(&item);
    } else {
        avro_schema_t e = avro_value_get_schema(&item);
        int sym = avro_schema_enum_get_by_name(e, frequency_code_name(d->frequency_code));
        rc |= sym < 0 ? -1 : avro_value_set_enum(&item, sym);
    }
    rc |= set_opt_string(field(rec, "reversed_event_id", &v), d->reversed_event_id);
    if (rc != 0) return -1;

    avro_writer_t w = avro_writer_memory(r->body, BODY_MAX);
    if (!w) return -1;
    rc = avro_value_write(w, rec);
    size_t n = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    uint32_t id = (uint32_t)schema_id;
    unsigned char header[5] = {0, (unsigned char)(id >> 24), (unsigned char)(id >> 16),
                               (unsigned char)(id >> 8), (unsigned char)id};
    if (rc != 0 || buf_append(out, header, sizeof header) != 0 || buf_append(out, r->body, n) != 0)
        return -1;
    return 0;
}
