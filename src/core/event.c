#include "event.h"

#include <string.h>

#include "errtext.h"

static const char *const URGENCY[] = {"STANDARD", "EXPEDITED"};
static const char *const DISEASE[] = {"RESECTABLE", "UNRESECTABLE", "METASTATIC", "UNKNOWN"};
static const char *const BRAF[] = {"POSITIVE", "NEGATIVE", "UNKNOWN"};
static const char *const LYMPHO[] = {"RECEIVED", "PLANNED", "NOT_PLANNED", "UNKNOWN"};
static const char *const FREQUENCY[] = {"ORIGINAL", "REPLACEMENT", "VOID"};

const char *event_kind_name(event_kind_t kind)
{
    return kind == EVENT_CLAIM ? "claim" : "prior_auth";
}
const char *urgency_name(urgency_t u)
{
    return URGENCY[u];
}
const char *disease_status_name(disease_status_t s)
{
    return DISEASE[s];
}
const char *braf_status_name(braf_status_t s)
{
    return BRAF[s];
}
const char *lymphodepletion_name(lymphodepletion_t l)
{
    return LYMPHO[l];
}
const char *frequency_code_name(frequency_code_t f)
{
    return FREQUENCY[f];
}

/* ------------------------------------------------------------------ the field table */

/* The enums are stored through int pointers by the decoders. */
_Static_assert(sizeof(urgency_t) == sizeof(int), "enum size");
_Static_assert(sizeof(disease_status_t) == sizeof(int), "enum size");
_Static_assert(sizeof(braf_status_t) == sizeof(int), "enum size");
_Static_assert(sizeof(lymphodepletion_t) == sizeof(int), "enum size");
_Static_assert(sizeof(frequency_code_t) == sizeof(int), "enum size");

#define PA(m) offsetof(event_t, pa.m)
#define CL(m) offsetof(event_t, claim.m)
#define COUNT(a) (sizeof(a) / sizeof *(a))

#define SCALAR(n, t, null, off)                                                                    \
    {                                                                                              \
        .name = n, .label = n, .type = EVENT_FIELD_##t, .nullable = null, .offset = off            \
    }
#define OPT_LONG(n, off, present)                                                                  \
    {                                                                                              \
        .name = n, .label = n, .type = EVENT_FIELD_LONG, .nullable = true, .offset = off,          \
        .aux_offset = present                                                                      \
    }
#define ENUM(n, off, syms)                                                                         \
    {                                                                                              \
        .name = n, .label = n, .type = EVENT_FIELD_ENUM, .offset = off, .symbols = syms,           \
        .n_symbols = (int)COUNT(syms)                                                              \
    }
#define ENUM_DEFAULT(n, off, syms, def)                                                            \
    {                                                                                              \
        .name = n, .label = n, .type = EVENT_FIELD_ENUM, .offset = off, .symbols = syms,           \
        .n_symbols = (int)COUNT(syms), .has_default = true, .default_symbol = def                  \
    }
#define STRINGS(n, off, count)                                                                     \
    {                                                                                              \
        .name = n, .label = n, .type = EVENT_FIELD_STRING_ARRAY, .offset = off,                    \
        .aux_offset = count, .item_label = n "[]"                                                  \
    }
#define THERAPY(m, t, null)                                                                        \
    {                                                                                              \
        .name = #m, .label = "prior_therapies[]." #m, .type = EVENT_FIELD_##t, .nullable = null,   \
        .offset = offsetof(prior_therapy_t, m)                                                     \
    }

static const event_field_t THERAPY_FIELDS[] = {
    THERAPY(drug, STRING, false),
    THERAPY(start_date, DATE, true),
    THERAPY(end_date, DATE, true),
};

#define THERAPIES(off, count)                                                                      \
    {                                                                                              \
        .name = "prior_therapies", .label = "prior_therapies", .type = EVENT_FIELD_RECORD_ARRAY,   \
        .offset = off, .aux_offset = count, .item_label = "prior_therapies[]",                     \
        .item_fields = THERAPY_FIELDS, .n_item_fields = COUNT(THERAPY_FIELDS),                     \
        .item_size = sizeof(prior_therapy_t)                                                       \
    }

static const event_field_t PA_FIELDS[] = {
    SCALAR("event_id", STRING, false, PA(event_id)),
    SCALAR("pa_id", STRING, false, PA(pa_id)),
    SCALAR("received_at", TIMESTAMP, false, PA(received_at_ms)),
    ENUM("urgency", PA(urgency), URGENCY),
    SCALAR("member_id", STRING, false, PA(member_id)),
    SCALAR("birth_date", DATE, false, PA(birth_date)),
    STRINGS("diagnosis_codes", PA(diagnosis_codes), PA(n_diagnosis_codes)),
    ENUM("disease_status", PA(disease_status), DISEASE),
    ENUM("braf_v600", PA(braf_v600), BRAF),
    THERAPIES(PA(prior_therapies), PA(n_prior_therapies)),
    ENUM("lymphodepletion", PA(lymphodepletion), LYMPHO),
    SCALAR("prescriber_npi", STRING, false, PA(prescriber_npi)),
    SCALAR("prescriber_taxonomy", STRING, true, PA(prescriber_taxonomy)),
    SCALAR("consulting_npi", STRING, true, PA(consulting_npi)),
    SCALAR("consulting_taxonomy", STRING, true, PA(consulting_taxonomy)),
    OPT_LONG("requested_dose_cells", PA(requested_dose_cells), PA(has_requested_dose_cells)),
};

static const event_field_t CLAIM_FIELDS[] = {
    SCALAR("event_id", STRING, false, CL(event_id)),
    SCALAR("claim_id", STRING, false, CL(claim_id)),
    SCALAR("line_number", INT, false, CL(line_number)),
    SCALAR("received_at", TIMESTAMP, false, CL(received_at_ms)),
    SCALAR("member_id", STRING, false, CL(member_id)),
    SCALAR("birth_date", DATE, false, CL(birth_date)),
    SCALAR("service_date", DATE, false, CL(service_date)),
    SCALAR("hcpcs_code", STRING, false, CL(hcpcs_code)),
    SCALAR("ndc", STRING, true, CL(ndc)),
    SCALAR("units", INT, false, CL(units)),
    OPT_LONG("dose_viable_cells", CL(dose_viable_cells), CL(has_dose_viable_cells)),
    STRINGS("diagnosis_codes", CL(diagnosis_codes), CL(n_diagnosis_codes)),
    SCALAR("rendering_npi", STRING, false, CL(rendering_npi)),
    SCALAR("authorization_id", STRING, true, CL(authorization_id)),
    SCALAR("billed_amount_cents", LONG, false, CL(billed_amount_cents)),
    /* Claim schema version 2 (contract §11). */
    ENUM_DEFAULT("frequency_code", CL(frequency_code), FREQUENCY, FREQUENCY_ORIGINAL),
    SCALAR("original_claim_id", STRING, true, CL(original_claim_id)),
};

_Static_assert(COUNT(PA_FIELDS) <= EVENT_MAX_FIELDS && COUNT(CLAIM_FIELDS) <= EVENT_MAX_FIELDS &&
                   COUNT(THERAPY_FIELDS) <= EVENT_MAX_FIELDS,
               "EVENT_MAX_FIELDS");

const event_field_t *event_fields(event_kind_t kind, size_t *n)
{
    *n = kind == EVENT_PRIOR_AUTH ? COUNT(PA_FIELDS) : COUNT(CLAIM_FIELDS);
    return kind == EVENT_PRIOR_AUTH ? PA_FIELDS : CLAIM_FIELDS;
}

int event_field_symbol(const event_field_t *f, const char *s, size_t n)
{
    for (int i = 0; i < f->n_symbols; i++)
        if (strlen(f->symbols[i]) == n && memcmp(f->symbols[i], s, n) == 0) return i;
    return -1;
}

void event_field_set_null(const event_field_t *f, void *base)
{
    char *p = (char *)base + f->offset;
    switch (f->type) {
    case EVENT_FIELD_STRING:
        *(const char **)p = NULL;
        break;
    case EVENT_FIELD_DATE:
        *(date_t *)p = DATE_NULL;
        break;
    case EVENT_FIELD_LONG:
        *(int64_t *)p = 0;
        if (f->nullable) *(bool *)((char *)base + f->aux_offset) = false;
        break;
    case EVENT_FIELD_ENUM:
        if (f->has_default) *(int *)p = f->default_symbol;
        break;
    default:
        break;
    }
}

const char *event_id_of(const event_t *ev)
{
    return ev->kind == EVENT_CLAIM ? ev->claim.event_id : ev->pa.event_id;
}

const char *event_member_of(const event_t *ev)
{
    return ev->kind == EVENT_CLAIM ? ev->claim.member_id : ev->pa.member_id;
}

/* One streaming hash over every field, finalised once: each field is length-prefixed (a null
 * string gets a length no string can have), so ("ab","c") and ("a","bc") differ. */
typedef struct {
    uint64_t h;
} fnv_t;

static inline void fp_word(fnv_t *f, uint64_t w)
{
    f->h = ((f->h << 5 | f->h >> 59) ^ w) * 0x517cc1b727220a95ULL;
}

static void fnv_str(fnv_t *f, const char *s)
{
    if (!s) {
        fp_word(f, UINT64_MAX);
        return;
    }
    size_t n = strlen(s);
    fp_word(f, n);
    for (; n >= 8; n -= 8, s += 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        fp_word(f, w);
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, s, n);
        fp_word(f, w);
    }
}

static void fnv_i64(fnv_t *f, int64_t v)
{
    fp_word(f, (uint64_t)v);
}

/* This and event_check_strings name each field rather than walk the table: both run for every
 * event, and the walk cost 60-80 ns more an event each. test_engine checks both against the
 * table, field by field. */
uint64_t event_fingerprint(const event_t *ev)
{
    fnv_t f = {0x9E3779B97F4A7C15ULL};
    fnv_i64(&f, ev->kind);
    if (ev->kind == EVENT_PRIOR_AUTH) {
        const pa_event_t *p = &ev->pa;
        fnv_str(&f, p->event_id);
        fnv_str(&f, p->pa_id);
        fnv_i64(&f, p->received_at_ms);
        fnv_i64(&f, p->urgency);
        fnv_str(&f, p->member_id);
        fnv_i64(&f, p->birth_date);
        fnv_i64(&f, p->n_diagnosis_codes);
        for (uint32_t i = 0; i < p->n_diagnosis_codes; i++) fnv_str(&f, p->diagnosis_codes[i]);
        fnv_i64(&f, p->disease_status);
        fnv_i64(&f, p->braf_v600);
        fnv_i64(&f, p->n_prior_therapies);
        for (uint32_t i = 0; i < p->n_prior_therapies; i++) {
            fnv_str(&f, p->prior_therapies[i].drug);
            fnv_i64(&f, p->prior_therapies[i].start_date);
            fnv_i64(&f, p->prior_therapies[i].end_date);
        }
        fnv_i64(&f, p->lymphodepletion);
        fnv_str(&f, p->prescriber_npi);
        fnv_str(&f, p->prescriber_taxonomy);
        fnv_str(&f, p->consulting_npi);
        fnv_str(&f, p->consulting_taxonomy);
        fnv_i64(&f, p->has_requested_dose_cells);
        fnv_i64(&f, p->has_requested_dose_cells ? p->requested_dose_cells : 0);
    } else {
        const claim_event_t *c = &ev->claim;
        fnv_str(&f, c->event_id);
        fnv_str(&f, c->claim_id);
        fnv_i64(&f, c->line_number);
        fnv_i64(&f, c->received_at_ms);
        fnv_str(&f, c->member_id);
        fnv_i64(&f, c->birth_date);
        fnv_i64(&f, c->service_date);
        fnv_str(&f, c->hcpcs_code);
        fnv_str(&f, c->ndc);
        fnv_i64(&f, c->units);
        fnv_i64(&f, c->has_dose_viable_cells);
        fnv_i64(&f, c->has_dose_viable_cells ? c->dose_viable_cells : 0);
        fnv_i64(&f, c->n_diagnosis_codes);
        for (uint32_t i = 0; i < c->n_diagnosis_codes; i++) fnv_str(&f, c->diagnosis_codes[i]);
        fnv_str(&f, c->rendering_npi);
        fnv_str(&f, c->authorization_id);
        fnv_i64(&f, c->billed_amount_cents);
        /* Version 2 fields only when set, so an original keeps the fingerprint stored for it
         * before they existed (a replay of it is not reported as different). */
        if (c->frequency_code != FREQUENCY_ORIGINAL || c->original_claim_id) {
            fnv_i64(&f, c->frequency_code);
            fnv_str(&f, c->original_claim_id);
        }
    }
    /* Final avalanche (the murmur3 finaliser): the loop alone mixes weakly. */
    uint64_t h = f.h;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

bool utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static int check_one(const char *s, const char *field, char *err, size_t errlen)
{
    if (!s) return 0;
    size_t n = strlen(s);
    if (n > EVENT_MAX_STRING_BYTES)
        return errtext_set(err, errlen, "field %s is over the %d-byte limit", field,
                           EVENT_MAX_STRING_BYTES);
    if (!utf8_valid(s, n)) return errtext_set(err, errlen, "field %s is not valid UTF-8", field);
    return 0;
}

#define CHECK_STR(s, name)                                                                         \
    do {                                                                                           \
        if (check_one((s), (name), err, errlen) != 0) return -1;                                   \
    } while (0)

int event_check_strings(const event_t *ev, char *err, size_t errlen)
{
    if (ev->kind == EVENT_PRIOR_AUTH) {
        const pa_event_t *p = &ev->pa;
        CHECK_STR(p->event_id, "event_id");
        CHECK_STR(p->pa_id, "pa_id");
        CHECK_STR(p->member_id, "member_id");
        for (uint32_t i = 0; i < p->n_diagnosis_codes; i++)
            CHECK_STR(p->diagnosis_codes[i], "diagnosis_codes[]");
        for (uint32_t i = 0; i < p->n_prior_therapies; i++)
            CHECK_STR(p->prior_therapies[i].drug, "prior_therapies[].drug");
        CHECK_STR(p->prescriber_npi, "prescriber_npi");
        CHECK_STR(p->prescriber_taxonomy, "prescriber_taxonomy");
        CHECK_STR(p->consulting_npi, "consulting_npi");
        CHECK_STR(p->consulting_taxonomy, "consulting_taxonomy");
    } else {
        const claim_event_t *c = &ev->claim;
        CHECK_STR(c->event_id, "event_id");
        CHECK_STR(c->claim_id, "claim_id");
        CHECK_STR(c->member_id, "member_id");
        CHECK_STR(c->hcpcs_code, "hcpcs_code");
        CHECK_STR(c->ndc, "ndc");
        for (uint32_t i = 0; i < c->n_diagnosis_codes; i++)
            CHECK_STR(c->diagnosis_codes[i], "diagnosis_codes[]");
        CHECK_STR(c->rendering_npi, "rendering_npi");
        CHECK_STR(c->authorization_id, "authorization_id");
        CHECK_STR(c->original_claim_id, "original_claim_id");
    }
    return 0;
}
