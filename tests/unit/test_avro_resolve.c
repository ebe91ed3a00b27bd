/* Schema resolution (Avro specification, "Schema Resolution"): writer schemas registered under
 * schema ids are resolved once to our reader schemas (prior_auth, claim version 2).
 *
 * The writer-side bytes are written with avro-c's generic values from the WRITER schema (never
 * with our codec), so each test states what a foreign producer with that schema sends. */
#include <avro.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"
#include "embedded.h"
#include "test_support.h"

static avro_codec_t *codec;
static arena_t arena;
static char err[512];

static void setup(void)
{
    avro_codec_opts_t o = {.registry_mode = true};
    codec = avro_codec_new_opts(NULL, &o, err, sizeof err);
    ck_assert_msg(codec != NULL, "codec: %s", err);
    memset(&arena, 0, sizeof arena);
}

static void teardown(void)
{
    avro_codec_free(codec);
    arena_free(&arena);
}

/* ------------------------------------------------------------------ writer-side encoding */

/* The sample value of a field by name, whatever the writer's type for it. NULL string: null. */
static const char *sample_string(const char *field)
{
    static const struct {
        const char *name, *value;
    } S[] = {{"event_id", "EV-1"},
             {"claim_id", "CLM-1"},
             {"pa_id", "PA-1"},
             {"member_id", "M-1"},
             {"hcpcs_code", "J3590"},
             {"rendering_npi", "1234567893"},
             {"authorization_id", "PA-9"},
             {"prescriber_npi", "1234567893"},
             {"prescriber_taxonomy", "207RX0202X"},
             {"drug", "pembrolizumab"},
             {"channel", "portal"},
             {"legacy_note", "x"},
             {"dx", "C43.9"},
             {"dx2", "Z85.820"}};
    for (size_t i = 0; i < sizeof S / sizeof *S; i++)
        if (strcmp(S[i].name, field) == 0) return S[i].value;
    return NULL;
}

static int64_t sample_number(const char *field)
{
    if (!strcmp(field, "line_number") || !strcmp(field, "units") || !strcmp(field, "legacy_units"))
        return 3;
    if (!strcmp(field, "received_at")) return 1780358400123LL;
    if (!strcmp(field, "birth_date")) return date_from_ymd(1970, 3, 14);
    if (!strcmp(field, "service_date")) return date_from_ymd(2026, 6, 20);
    if (!strcmp(field, "start_date")) return date_from_ymd(2025, 1, 2);
    if (!strcmp(field, "dose_viable_cells")) return 2000000000; /* fits an int writer */
    if (!strcmp(field, "billed_amount_cents")) return 51500000;
    if (!strcmp(field, "requested_dose_cells")) return 10000000000LL;
    return -1; /* null */
}

/* Overrides the test sets before encoding: field -> enum symbol, string, or null. */
typedef struct {
    const char *field;
    const char *symbol; /* enums; strings when string is set */
    const char *string;
    size_t string_len; /* bytes: may hold a NUL */
    bool null;
} override_t;

static const override_t *overrides;
static size_t n_overrides;

static const override_t *find_override(const char *field)
{
    for (size_t i = 0; i < n_overrides; i++)
        if (strcmp(overrides[i].field, field) == 0) return &overrides[i];
    return NULL;
}

static const char *sample_symbol(const char *field)
{
    const override_t *o = find_override(field);
    if (o && o->symbol) return o->symbol;
    if (!strcmp(field, "urgency")) return "EXPEDITED";
    if (!strcmp(field, "disease_status")) return "METASTATIC";
    if (!strcmp(field, "braf_v600")) return "NEGATIVE";
    if (!strcmp(field, "lymphodepletion")) return "PLANNED";
    if (!strcmp(field, "frequency_code")) return "REPLACEMENT";
    return NULL;
}

static bool sample_is_null(const char *field, avro_type_t t)
{
    const override_t *o = find_override(field);
    if (o) return o->null;
    if (t == AVRO_STRING || t == AVRO_BYTES) return sample_string(field) == NULL;
    if (t == AVRO_ENUM) return sample_symbol(field) == NULL;
    if (t == AVRO_ARRAY || t == AVRO_RECORD) return false;
    return sample_number(field) < 0;
}

static void set_value(avro_value_t *v, avro_schema_t s, const char *field);

static void set_record(avro_value_t *v, avro_schema_t s)
{
    for (size_t i = 0; i < avro_schema_record_size(s); i++) {
        avro_value_t f;
        ck_assert_int_eq(avro_value_get_by_index(v, i, &f, NULL), 0);
        set_value(&f, avro_schema_record_field_get_by_index(s, (int)i),
                  avro_schema_record_field_name(s, (int)i));
    }
}

static void set_value(avro_value_t *v, avro_schema_t s, const char *field)
{
    avro_value_t b, item;
    const override_t *o = find_override(field);
    switch (avro_typeof(s)) {
    case AVRO_UNION: {
        /* the null branch for a null sample, else the first other branch */
        size_t n = avro_schema_union_size(s);
        int pick = -1, null_at = -1;
        for (size_t i = 0; i < n; i++) {
            avro_type_t t = avro_typeof(avro_schema_union_branch(s, (int)i));
            if (t == AVRO_NULL)
                null_at = (int)i;
            else if (pick < 0)
                pick = (int)i;
        }
        avro_type_t pt = pick >= 0 ? avro_typeof(avro_schema_union_branch(s, pick)) : AVRO_NULL;
        int at = sample_is_null(field, pt) && null_at >= 0 ? null_at : pick;
        ck_assert_int_eq(avro_value_set_branch(v, at, &b), 0);
        set_value(&b, avro_schema_union_branch(s, at), field);
        return;
    }
    case AVRO_NULL:
        ck_assert_int_eq(avro_value_set_null(v), 0);
        return;
    case AVRO_STRING:
        if (o && o->string) {
            ck_assert_int_eq(avro_value_set_string_len(v, o->string, o->string_len + 1), 0);
            return;
        }
        ck_assert_ptr_nonnull(sample_string(field));
        ck_assert_int_eq(avro_value_set_string(v, sample_string(field)), 0);
        return;
    case AVRO_BYTES: {
        const char *x = o && o->string ? o->string : sample_string(field);
        size_t n = o && o->string ? o->string_len : strlen(x);
        ck_assert_int_eq(avro_value_set_bytes(v, (void *)x, n), 0);
        return;
    }
    case AVRO_INT32:
        ck_assert_int_eq(avro_value_set_int(v, (int32_t)sample_number(field)), 0);
        return;
    case AVRO_INT64:
        ck_assert_int_eq(avro_value_set_long(v, sample_number(field)), 0);
        return;
    case AVRO_FLOAT:
        ck_assert_int_eq(avro_value_set_float(v, (float)sample_number(field)), 0);
        return;
    case AVRO_DOUBLE:
        ck_assert_int_eq(avro_value_set_double(v, (double)sample_number(field)), 0);
        return;
    case AVRO_ENUM: {
        int sym = avro_schema_enum_get_by_name(s, sample_symbol(field));
        ck_assert_int_ge(sym, 0);
        ck_assert_int_eq(avro_value_set_enum(v, sym), 0);
        return;
    }
    case AVRO_ARRAY:
        ck_assert_int_eq(avro_value_append(v, &item, NULL), 0);
        if (!strcmp(field, "diagnosis_codes")) {
            set_value(&item, avro_schema_array_items(s), "dx");
            ck_assert_int_eq(avro_value_append(v, &item, NULL), 0);
            set_value(&item, avro_schema_array_items(s), "dx2");
        } else {
            set_value(&item, avro_schema_array_items(s), "item");
        }
        return;
    case AVRO_RECORD:
        set_record(v, s);
        return;
    case AVRO_LINK:
        set_value(v, avro_schema_link_target(s), field);
        return;
    default:
        ck_abort_msg("unsupported writer type for %s", field);
    }
}

/* The framed message a producer with this writer schema sends under id, with the samples and
 * the given overrides. */
static void writer_message(buf_t *out, const char *writer_json, int32_t id, const override_t *ov,
                           size_t nov)
{
    avro_schema_t s;
    ck_assert_msg(avro_schema_from_json_length(writer_json, strlen(writer_json), &s) == 0, "%s",
                  avro_strerror());
    avro_value_iface_t *iface = avro_generic_class_from_schema(s);
    avro_value_t v;
    ck_assert_int_eq(avro_generic_value_new(iface, &v), 0);
    overrides = ov;
    n_overrides = nov;
    set_record(&v, s);
    overrides = NULL;
    n_overrides = 0;
    static char body[8192];
    avro_writer_t w = avro_writer_memory(body, sizeof body);
    ck_assert_int_eq(avro_value_write(w, &v), 0);
    size_t n = (size_t)avro_writer_tell(w);
    unsigned char h[5] = {0, (unsigned char)((uint32_t)id >> 24), (unsigned char)(id >> 16),
                          (unsigned char)(id >> 8), (unsigned char)id};
    buf_clear(out);
    buf_append(out, h, 5);
    buf_append(out, body, n);
    avro_writer_free(w);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(s);
}

static decode_status_t decode(const buf_t *m, event_t *ev)
{
    err[0] = '\0';
    return avro_codec_decode_event(codec, m->data, m->len, ev, &arena, err, sizeof err);
}

static avro_writer_status_t add(int32_t id, const char *json)
{
    err[0] = '\0';
    return avro_codec_add_writer(codec, id, json, err, sizeof err);
}

/* ------------------------------------------------------------------ writer schemas */

/* Claim fields of version 2, one per line, to build writer variants from. */
#define C_EVENT_ID "{\"name\": \"event_id\", \"type\": \"string\"},"
#define C_CLAIM_ID "{\"name\": \"claim_id\", \"type\": \"string\"},"
#define C_LINE "{\"name\": \"line_number\", \"type\": \"int\"},"
#define C_RECEIVED "{\"name\": \"received_at\", \"type\": \"long\"},"
#define C_MEMBER "{\"name\": \"member_id\", \"type\": \"string\"},"
#define C_BIRTH                                                                                    \
    "{\"name\": \"birth_date\", \"type\": {\"type\": \"int\", \"logicalType\": \"date\"}},"
#define C_SERVICE "{\"name\": \"service_date\", \"type\": \"int\"},"
#define C_HCPCS "{\"name\": \"hcpcs_code\", \"type\": \"string\"},"
#define C_NDC "{\"name\": \"ndc\", \"type\": [\"null\", \"string\"]},"
#define C_UNITS "{\"name\": \"units\", \"type\": \"int\"},"
#define C_DOSE "{\"name\": \"dose_viable_cells\", \"type\": [\"null\", \"long\"]},"
#define C_DX                                                                                       \
    "{\"name\": \"diagnosis_codes\", \"type\": {\"type\": \"array\", \"items\": \"string\"}},"
#define C_NPI "{\"name\": \"rendering_npi\", \"type\": \"string\"},"
#define C_AUTH "{\"name\": \"authorization_id\", \"type\": [\"null\", \"string\"]},"
#define C_BILLED "{\"name\": \"billed_amount_cents\", \"type\": \"long\"},"
#define C_FREQ                                                                                     \
    "{\"name\": \"frequency_code\", \"type\": {\"type\": \"enum\", \"name\": \"FrequencyCode\", "  \
    "\"symbols\": [\"ORIGINAL\", \"REPLACEMENT\", \"VOID\"]}},"
#define C_ORIG "{\"name\": \"original_claim_id\", \"type\": [\"null\", \"string\"]}"
#define CLAIM(fields)                                                                              \
    "{\"type\": \"record\", \"name\": \"ClaimLine\", \"namespace\": \"com.amtagvi.ip0625\", "      \
    "\"fields\": [" fields "]}"

/* Version 3 of the claim, as another team might evolve it: fields reordered, a new field
 * (channel), the frequency enum reordered with a new symbol (CORRECTED), dose_viable_cells and
 * billed_amount_cents narrowed to int (promoted to the reader's long). */
static const char CLAIM_V3[] = CLAIM(
    C_CLAIM_ID C_EVENT_ID C_LINE
    "{\"name\": \"channel\", \"type\": \"string\"}," C_RECEIVED C_MEMBER C_BIRTH C_SERVICE C_HCPCS
        C_NDC C_UNITS
    "{\"name\": \"dose_viable_cells\", \"type\": [\"null\", \"int\"]}," C_DX C_NPI C_AUTH
    "{\"name\": \"billed_amount_cents\", \"type\": \"int\"},"
    "{\"name\": \"frequency_code\", \"type\": {\"type\": \"enum\", \"name\": \"FrequencyCode\", "
    "\"symbols\": [\"VOID\", \"CORRECTED\", \"ORIGINAL\", \"REPLACEMENT\"]}}," C_ORIG);

/* The prior auth with its fields in reverse order (and the therapy record's too), the
 * therapy's end_date dropped and a writer-only therapy field. */
static const char PA_REORDERED[] =
    "{\"type\": \"record\", \"name\": \"PriorAuthRequest\", \"namespace\": "
    "\"com.amtagvi.ip0625\", \"fields\": ["
    "{\"name\": \"requested_dose_cells\", \"type\": [\"null\", \"long\"]},"
    "{\"name\": \"consulting_taxonomy\", \"type\": [\"null\", \"string\"]},"
    "{\"name\": \"consulting_npi\", \"type\": [\"null\", \"string\"]},"
    "{\"name\": \"prescriber_taxonomy\", \"type\": [\"string\", \"null\"]},"
    "{\"name\": \"prescriber_npi\", \"type\": \"bytes\"},"
    "{\"name\": \"lymphodepletion\", \"type\": {\"type\": \"enum\", \"name\": \"Lymphodepletion\", "
    "\"symbols\": [\"UNKNOWN\", \"NOT_PLANNED\", \"PLANNED\", \"RECEIVED\"]}},"
    "{\"name\": \"prior_therapies\", \"type\": {\"type\": \"array\", \"items\": {\"type\": "
    "\"record\", \"name\": \"PriorTherapy\", \"fields\": ["
    "{\"name\": \"legacy_note\", \"type\": \"string\"},"
    "{\"name\": \"start_date\", \"type\": [\"null\", \"int\"]},"
    "{\"name\": \"drug\", \"type\": \"bytes\"}]}}},"
    "{\"name\": \"braf_v600\", \"type\": {\"type\": \"enum\", \"name\": \"BrafV600Status\", "
    "\"symbols\": [\"UNKNOWN\", \"NEGATIVE\", \"POSITIVE\"]}},"
    "{\"name\": \"disease_status\", \"type\": {\"type\": \"enum\", \"name\": \"DiseaseStatus\", "
    "\"symbols\": [\"IN_REMISSION\", \"METASTATIC\", \"UNRESECTABLE\", \"RESECTABLE\", "
    "\"UNKNOWN\"]}},"
    "{\"name\": \"diagnosis_codes\", \"type\": {\"type\": \"array\", \"items\": \"string\"}},"
    "{\"name\": \"birth_date\", \"type\": \"int\"},"
    "{\"name\": \"member_id\", \"type\": \"string\"},"
    "{\"name\": \"urgency\", \"type\": {\"type\": \"enum\", \"name\": \"Urgency\", \"symbols\": "
    "[\"EXPEDITED\", \"STANDARD\"]}},"
    "{\"name\": \"received_at\", \"type\": \"int\"},"
    "{\"name\": \"pa_id\", \"type\": \"string\"},"
    "{\"name\": \"event_id\", \"type\": \"string\"}]}";

/* ------------------------------------------------------------------ tests */

START_TEST(test_claim_v3_resolves)
{
    ck_assert_int_eq(add(7, CLAIM_V3), AVRO_WRITER_OK);
    ck_assert_str_eq(err, "");
    ck_assert(avro_codec_has_writer(codec, 7));
    buf_t m = {0};
    event_t ev;
    writer_message(&m, CLAIM_V3, 7, NULL, 0);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err);
    claim_event_t *c = &ev.claim;
    ck_assert_int_eq(ev.kind, EVENT_CLAIM);
    ck_assert_str_eq(c->event_id, "EV-1");
    ck_assert_str_eq(c->claim_id, "CLM-1");
    ck_assert_int_eq(c->line_number, 3);
    ck_assert_int_eq(c->received_at_ms, 1780358400123LL);
    ck_assert_int_eq(c->service_date, date_from_ymd(2026, 6, 20));
    ck_assert_ptr_null(c->ndc);
    ck_assert(c->has_dose_viable_cells);
    ck_assert_int_eq(c->dose_viable_cells, 2000000000);
    ck_assert_int_eq(c->billed_amount_cents, 51500000);
    ck_assert_uint_eq(c->n_diagnosis_codes, 2);
    ck_assert_str_eq(c->diagnosis_codes[1], "Z85.820");
    ck_assert_str_eq(c->authorization_id, "PA-9");
    /* by symbol name: REPLACEMENT is the writer's index 3, the reader's 1 */
    ck_assert_int_eq(c->frequency_code, FREQUENCY_REPLACEMENT);
    override_t v[] = {{.field = "frequency_code", .symbol = "VOID"}};
    writer_message(&m, CLAIM_V3, 7, v, 1);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err);
    ck_assert_int_eq(ev.claim.frequency_code, FREQUENCY_VOID);
    /* a symbol the reader lacks: the reader enum's default */
    override_t x[] = {{.field = "frequency_code", .symbol = "CORRECTED"}};
    writer_message(&m, CLAIM_V3, 7, x, 1);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err);
    ck_assert_int_eq(ev.claim.frequency_code, FREQUENCY_ORIGINAL);
    /* the same event as our own encoding of it decodes to */
    buf_t own = {0};
    event_t back;
    avro_codec_set_event_ids(codec, 1, 4, 2);
    ck_assert_int_eq(add(4, amtagvi_schema_text("claim")), AVRO_WRITER_OK);
    ck_assert_int_eq(avro_codec_encode_event(codec, &ev, &own, err, sizeof err), 0);
    ck_assert_int_eq(avro_codec_frame_id(own.data, own.len), 4);
    ck_assert_msg(decode(&own, &back) == DECODE_OK, "%s", err);
    ck_assert_uint_eq(event_fingerprint(&back), event_fingerprint(&ev));
    buf_free(&own);
    buf_free(&m);
}
END_TEST

START_TEST(test_pa_reordered)
{
    ck_assert_msg(add(8, PA_REORDERED) == AVRO_WRITER_OK, "%s", err);
    buf_t m = {0};
    event_t ev;
    writer_message(&m, PA_REORDERED, 8, NULL, 0);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err);
    pa_event_t *p = &ev.pa;
    ck_assert_int_eq(ev.kind, EVENT_PRIOR_AUTH);
    ck_assert_str_eq(p->event_id, "EV-1");
    ck_assert_str_eq(p->pa_id, "PA-1");
    ck_assert_int_eq(p->received_at_ms, 1780358400123LL % ((int64_t)1 << 32) - ((int64_t)1 << 32));
    ck_assert_int_eq(p->urgency, URGENCY_EXPEDITED);
    ck_assert_int_eq(p->disease_status, DISEASE_METASTATIC);
    ck_assert_int_eq(p->braf_v600, BRAF_NEGATIVE);
    ck_assert_int_eq(p->lymphodepletion, LYMPHODEPLETION_PLANNED);
    ck_assert_str_eq(p->member_id, "M-1");
    ck_assert_int_eq(p->birth_date, date_from_ymd(1970, 3, 14));
    ck_assert_uint_eq(p->n_prior_therapies, 1);
    ck_assert_str_eq(p->prior_therapies[0].drug, "pembrolizumab"); /* bytes -> string */
    ck_assert_int_eq(p->prior_therapies[0].start_date, date_from_ymd(2025, 1, 2));
    ck_assert_int_eq(p->prior_therapies[0].end_date, DATE_NULL); /* missing: null */
    ck_assert_str_eq(p->prescriber_npi, "1234567893");           /* bytes -> string */
    ck_assert_str_eq(p->prescriber_taxonomy, "207RX0202X");      /* ["string", "null"] */
    ck_assert_ptr_null(p->consulting_npi);
    ck_assert(p->has_requested_dose_cells);
    ck_assert_int_eq(p->requested_dose_cells, 10000000000LL);
    /* ["string", "null"] with null */
    override_t n[] = {{.field = "prescriber_taxonomy", .null = true}};
    writer_message(&m, PA_REORDERED, 8, n, 1);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err);
    ck_assert_ptr_null(ev.pa.prescriber_taxonomy);
    /* disease_status has no default: a writer symbol it lacks fails only when read */
    override_t x[] = {{.field = "disease_status", .symbol = "IN_REMISSION"}};
    writer_message(&m, PA_REORDERED, 8, x, 1);
    ck_assert_int_eq(decode(&m, &ev), DECODE_INCOMPATIBLE_SCHEMA);
    ck_assert_msg(strstr(err, "disease_status") && !strstr(err, "IN_REMISSION"), "%s", err);
    buf_free(&m);
}
END_TEST

/* Bytes read as a string obey the string rules: no NUL, UTF-8, at most 128 bytes. */
START_TEST(test_bytes_as_string_rules)
{
    ck_assert_msg(add(8, PA_REORDERED) == AVRO_WRITER_OK, "%s", err);
    buf_t m = {0};
    event_t ev;
    char long_npi[129];
    memset(long_npi, '1', sizeof long_npi);
    const struct {
        const char *s;
        size_t n;
        const char *says;
    } cases[] = {{"12\0PHI", 6, "NUL"}, {"12\xC3\x28", 4, "UTF-8"}, {long_npi, 129, "128"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        override_t o[] = {
            {.field = "prescriber_npi", .string = cases[i].s, .string_len = cases[i].n}};
        writer_message(&m, PA_REORDERED, 8, o, 1);
        ck_assert_int_eq(decode(&m, &ev), DECODE_INVALID);
        ck_assert_msg(strstr(err, "prescriber_npi") && strstr(err, cases[i].says), "%s", err);
        ck_assert_msg(!strstr(err, "PHI") && !strstr(err, "1111"), "%s", err);
    }
    /* a string read as bytes? The reader holds no bytes; the other way round: string <- bytes
     * above, and the writer's extra string field is not held to the reader's limits */
    char long_note[300];
    memset(long_note, 'n', sizeof long_note - 1);
    long_note[sizeof long_note - 1] = '\0';
    override_t o[] = {{.field = "legacy_note", .string = long_note, .string_len = 299}};
    writer_message(&m, PA_REORDERED, 8, o, 1);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "a skipped writer field is not ours to limit: %s",
                  err);
    buf_free(&m);
}
END_TEST

/* A required string the writer makes nullable decodes while it is a string; its null is no
 * value the reader can hold: incompatible when read, naming the field. A branch of a type the
 * reader cannot take likewise. */
START_TEST(test_union_branches)
{
    static const char W[] =
        CLAIM("{\"name\": \"event_id\", \"type\": [\"null\", \"string\"]}," C_CLAIM_ID C_LINE
                  C_RECEIVED C_MEMBER C_BIRTH C_SERVICE C_HCPCS
              "{\"name\": \"ndc\", \"type\": [\"string\", \"null\", \"long\"]}," C_UNITS C_DOSE C_DX
                  C_NPI C_AUTH C_BILLED C_FREQ C_ORIG);
    ck_assert_msg(add(9, W) == AVRO_WRITER_OK, "%s", err);
    buf_t m = {0};
    event_t ev;
    writer_message(&m, W, 9, NULL, 0);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err);
    ck_assert_str_eq(ev.claim.event_id, "EV-1");
    override_t n[] = {{.field = "event_id", .null = true}};
    writer_message(&m, W, 9, n, 1);
    ck_assert_int_eq(decode(&m, &ev), DECODE_INCOMPATIBLE_SCHEMA);
    ck_assert_msg(strstr(err, "event_id") && strstr(err, "null"), "%s", err);
    /* ndc's long branch, written by hand: the frame and body up to ndc are the writer's */
    buf_t h = {0};
    override_t nn[] = {{.field = "ndc", .null = true}};
    writer_message(&m, W, 9, nn, 1);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err);
    ck_assert_ptr_null(ev.claim.ndc);
    /* locate ndc's branch byte: the body is the same as with a long branch up to it; the null
     * branch is index 1 (zigzag 2) followed by units (3: zigzag 6) */
    size_t off = 0;
    for (size_t i = 5; i + 5 <= m.len && !off; i++)
        if (memcmp(m.data + i, "J3590", 5) == 0) off = i + 5;
    ck_assert_uint_gt(off, 0);
    ck_assert_int_eq(m.data[off], 2);
    buf_append(&h, m.data, off);
    buf_append_char(&h, 4); /* branch 2: long */
    buf_append_char(&h, 2); /* 1 */
    buf_append(&h, m.data + off + 1, m.len - off - 1);
    ck_assert_int_eq(decode(&h, &ev), DECODE_INCOMPATIBLE_SCHEMA);
    ck_assert_msg(strstr(err, "ndc") && strstr(err, "long"), "%s", err);
    buf_free(&h);
    buf_free(&m);
}
END_TEST

START_TEST(test_missing_and_defaults)
{
    /* version 1 (no frequency fields) and one without ndc either: defaults */
    static const char W[] = CLAIM(C_EVENT_ID C_CLAIM_ID C_LINE C_RECEIVED C_MEMBER C_BIRTH C_SERVICE
                                      C_HCPCS C_UNITS C_DOSE C_DX C_NPI C_AUTH
                                  "{\"name\": \"billed_amount_cents\", \"type\": \"long\"}");
    ck_assert_msg(add(11, W) == AVRO_WRITER_OK, "%s", err);
    buf_t m = {0};
    event_t ev;
    writer_message(&m, W, 11, NULL, 0);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err);
    ck_assert_int_eq(ev.claim.frequency_code, FREQUENCY_ORIGINAL);
    ck_assert_ptr_null(ev.claim.original_claim_id);
    ck_assert_ptr_null(ev.claim.ndc);
    /* without a required field: incompatible, naming it, for the id and its messages */
    static const char NO_HCPCS[] = CLAIM(C_EVENT_ID C_CLAIM_ID C_LINE C_RECEIVED C_MEMBER C_BIRTH
                                             C_SERVICE C_NDC C_UNITS C_DOSE C_DX C_NPI C_AUTH
                                         "{\"name\": \"billed_amount_cents\", \"type\": \"long\"}");
    ck_assert_int_eq(add(12, NO_HCPCS), AVRO_WRITER_INCOMPATIBLE);
    ck_assert_msg(
        strstr(err, "field hcpcs_code: missing in the writer schema and has no default") &&
            strstr(err, "12"),
        "%s", err);
    char first[512];
    snprintf(first, sizeof first, "%s", err);
    ck_assert(avro_codec_has_writer(codec, 12));
    ck_assert_int_eq(add(12, NO_HCPCS), AVRO_WRITER_INCOMPATIBLE); /* known: a no-op */
    ck_assert_str_eq(err, first);
    writer_message(&m, NO_HCPCS, 12, NULL, 0);
    ck_assert_int_eq(decode(&m, &ev), DECODE_INCOMPATIBLE_SCHEMA);
    ck_assert_str_eq(err, first);
    buf_free(&m);
}
END_TEST

/* No demotion: a reader int fed from a writer long, a reader long from a double; an enum of
 * another name; a string where the reader has an array. */
START_TEST(test_type_mismatch)
{
    static const struct {
        const char *json;
        const char *field;
    } cases[] = {
        {CLAIM(C_EVENT_ID C_CLAIM_ID
               "{\"name\": \"line_number\", \"type\": \"long\"}," C_RECEIVED C_MEMBER C_BIRTH
                   C_SERVICE C_HCPCS C_NDC C_UNITS C_DOSE C_DX C_NPI C_AUTH C_BILLED C_FREQ C_ORIG),
         "line_number"},
        {CLAIM(C_EVENT_ID C_CLAIM_ID C_LINE C_RECEIVED C_MEMBER C_BIRTH C_SERVICE C_HCPCS C_NDC
                   C_UNITS C_DOSE C_DX C_NPI C_AUTH
               "{\"name\": \"billed_amount_cents\", \"type\": \"double\"}," C_FREQ C_ORIG),
         "billed_amount_cents"},
        {CLAIM(C_EVENT_ID C_CLAIM_ID C_LINE C_RECEIVED C_MEMBER C_BIRTH C_SERVICE C_HCPCS C_NDC
                   C_UNITS C_DOSE C_DX C_NPI C_AUTH C_BILLED
               "{\"name\": \"frequency_code\", \"type\": {\"type\": \"enum\", \"name\": "
               "\"Frequency\", \"symbols\": [\"ORIGINAL\"]}}," C_ORIG),
         "frequency_code"},
        {CLAIM(C_EVENT_ID C_CLAIM_ID C_LINE C_RECEIVED C_MEMBER C_BIRTH C_SERVICE C_HCPCS C_NDC
                   C_UNITS C_DOSE
               "{\"name\": \"diagnosis_codes\", \"type\": \"string\"}," C_NPI C_AUTH C_BILLED C_FREQ
                   C_ORIG),
         "diagnosis_codes"},
        {CLAIM(C_EVENT_ID C_CLAIM_ID C_LINE C_RECEIVED C_MEMBER C_BIRTH C_SERVICE C_HCPCS C_NDC
                   C_UNITS C_DOSE
               "{\"name\": \"diagnosis_codes\", \"type\": {\"type\": \"array\", \"items\": "
               "\"int\"}}," C_NPI C_AUTH C_BILLED C_FREQ C_ORIG),
         "diagnosis_codes"},
        {CLAIM(C_EVENT_ID C_CLAIM_ID C_LINE
               "{\"name\": \"received_at\", \"type\": \"float\"}," C_MEMBER C_BIRTH C_SERVICE
                   C_HCPCS C_NDC C_UNITS C_DOSE C_DX C_NPI C_AUTH C_BILLED C_FREQ C_ORIG),
         "received_at"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_assert_int_eq(add(20 + (int32_t)i, cases[i].json), AVRO_WRITER_INCOMPATIBLE);
        char want[64];
        snprintf(want, sizeof want, "field %s:", cases[i].field);
        ck_assert_msg(strstr(err, want), "case %zu: %s", i, err);
    }
}
END_TEST

START_TEST(test_not_ours_and_invalid)
{
    static const char FOREIGN[] =
        "{\"type\": \"record\", \"name\": \"ClaimLine\", \"namespace\": \"org.other\", "
        "\"fields\": [{\"name\": \"event_id\", \"type\": \"string\"}]}";
    ck_assert_int_eq(add(30, FOREIGN), AVRO_WRITER_NOT_OURS);
    ck_assert_msg(strstr(err, "org.other.ClaimLine"), "%s", err);
    ck_assert_int_eq(add(31, amtagvi_schema_text("determination")), AVRO_WRITER_NOT_OURS);
    ck_assert_int_eq(add(32, "\"string\""), AVRO_WRITER_NOT_OURS);
    ck_assert_int_eq(add(33, "{\"type\": \"record\", \"name\": "), AVRO_WRITER_INVALID);
    ck_assert_int_eq(add(34, "{\"type\": \"nonsense\"}"), AVRO_WRITER_INVALID);
    event_t ev;
    buf_t m = {0};
    writer_message(&m, FOREIGN, 30, NULL, 0);
    ck_assert_int_eq(decode(&m, &ev), DECODE_UNKNOWN_SCHEMA);
    ck_assert_msg(strstr(err, "30"), "%s", err);
    m.data[4] = 33;
    ck_assert_int_eq(decode(&m, &ev), DECODE_UNKNOWN_SCHEMA);
    ck_assert_msg(strstr(err, "not a parseable"), "%s", err);
    m.data[4] = 99; /* never added */
    ck_assert(!avro_codec_has_writer(codec, 99));
    ck_assert_int_eq(decode(&m, &ev), DECODE_UNKNOWN_SCHEMA);
    /* registry mode: the pinned ids are not there */
    m.data[4] = 1;
    ck_assert_int_eq(decode(&m, &ev), DECODE_UNKNOWN_SCHEMA);
    ck_assert(!avro_codec_has_writer(codec, 1));
    ck_assert_str_eq(decode_status_name(DECODE_INCOMPATIBLE_SCHEMA), "incompatible_schema");
    ck_assert_str_eq(avro_writer_status_name(AVRO_WRITER_NOT_OURS), "not_ours");
    buf_free(&m);
}
END_TEST

/* At most AVRO_CODEC_MAX_WRITERS ids: the least recently used (added or decoded) is forgotten. */
START_TEST(test_lru_bound)
{
    const char *claim = amtagvi_schema_text("claim");
    for (int32_t id = 1; id <= AVRO_CODEC_MAX_WRITERS; id++)
        ck_assert_int_eq(add(id, claim), AVRO_WRITER_OK);
    buf_t m = {0};
    event_t ev;
    writer_message(&m, claim, 1, NULL, 0);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err); /* id 1 is now the most recent */
    ck_assert_int_eq(add(AVRO_CODEC_MAX_WRITERS + 1, claim), AVRO_WRITER_OK);
    ck_assert(avro_codec_has_writer(codec, 1));
    ck_assert(!avro_codec_has_writer(codec, 2));
    ck_assert(avro_codec_has_writer(codec, 3));
    ck_assert(avro_codec_has_writer(codec, AVRO_CODEC_MAX_WRITERS + 1));
    m.data[4] = 2;
    ck_assert_int_eq(decode(&m, &ev), DECODE_UNKNOWN_SCHEMA);
    ck_assert_int_eq(add(2, claim), AVRO_WRITER_OK); /* can come back (3 goes) */
    ck_assert(!avro_codec_has_writer(codec, 3));
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err);
    buf_free(&m);
}
END_TEST

/* Pinned ids are never forgotten, however many writers are added. */
START_TEST(test_pinned_survive)
{
    avro_codec_t *c = avro_codec_new(NULL, err, sizeof err);
    ck_assert_ptr_nonnull(c);
    const char *claim = amtagvi_schema_text("claim");
    for (int32_t id = 100; id < 100 + AVRO_CODEC_MAX_WRITERS + 5; id++)
        ck_assert_int_eq(avro_codec_add_writer(c, id, claim, err, sizeof err), AVRO_WRITER_OK);
    ck_assert(avro_codec_has_writer(c, 1) && avro_codec_has_writer(c, 2) &&
              avro_codec_has_writer(c, 4));
    ck_assert(!avro_codec_has_writer(c, 100));
    ck_assert(!avro_codec_has_writer(c, 5)); /* the determination is not an input */
    avro_codec_free(c);
}
END_TEST

/* Record and field aliases are the reader's: a writer record named by an alias of ours is ours,
 * and a writer field named by an alias of a reader field fills it. */
START_TEST(test_aliases)
{
    const char *claim = amtagvi_schema_text("claim");
    /* our claim schema with aliases added: the record's, units', the enum's */
    char *reader = malloc(strlen(claim) + 256);
    const char *rec = strstr(claim, "\"name\": \"ClaimLine\",");
    const char *units = strstr(claim, "{\"name\": \"units\",");
    const char *freq = strstr(claim, "\"name\": \"FrequencyCode\",");
    ck_assert(rec && units && freq && rec < units && units < freq);
    size_t a = (size_t)(rec - claim), b = (size_t)(units - claim), cpos = (size_t)(freq - claim);
    sprintf(reader,
            "%.*s\"aliases\": [\"LegacyClaimLine\", \"org.old.Claim\"], %.*s"
            "{\"aliases\": [\"legacy_units\"], %.*s\"aliases\": [\"Freq\"], %s",
            (int)a, claim, (int)(b - a), claim + a, (int)(cpos - b - 1), units + 1, freq);
    avro_codec_free(codec);
    avro_codec_opts_t o = {.registry_mode = true, .reader_claim_json = reader};
    codec = avro_codec_new_opts(NULL, &o, err, sizeof err);
    ck_assert_msg(codec != NULL, "%s", err);
#define BODY                                                                                       \
    C_EVENT_ID C_CLAIM_ID C_LINE C_RECEIVED C_MEMBER C_BIRTH C_SERVICE C_HCPCS C_NDC               \
        "{\"name\": \"legacy_units\", \"type\": \"int\"}," C_DOSE C_DX C_NPI C_AUTH C_BILLED       \
        "{\"name\": \"frequency_code\", \"type\": {\"type\": \"enum\", \"name\": \"Freq\", "       \
        "\"symbols\": [\"ORIGINAL\", \"REPLACEMENT\", \"VOID\"]}}," C_ORIG "]}"
    static const char LEGACY[] = "{\"type\": \"record\", \"name\": \"LegacyClaimLine\", "
                                 "\"namespace\": \"com.amtagvi.ip0625\", \"fields\": [" BODY;
    static const char OLD[] = "{\"type\": \"record\", \"name\": \"Claim\", \"namespace\": "
                              "\"org.old\", \"fields\": [" BODY;
    static const char OTHER[] = "{\"type\": \"record\", \"name\": \"LegacyClaimLine\", "
                                "\"namespace\": \"org.other\", \"fields\": [" BODY;
    ck_assert_msg(add(40, LEGACY) == AVRO_WRITER_OK, "%s", err);
    ck_assert_msg(add(41, OLD) == AVRO_WRITER_OK, "%s", err);
    ck_assert_int_eq(add(42, OTHER), AVRO_WRITER_NOT_OURS);
    buf_t m = {0};
    event_t ev;
    writer_message(&m, LEGACY, 40, NULL, 0);
    ck_assert_msg(decode(&m, &ev) == DECODE_OK, "%s", err);
    ck_assert_int_eq(ev.claim.units, 3);
    ck_assert_int_eq(ev.claim.frequency_code, FREQUENCY_REPLACEMENT);
    /* the embedded reader has no such aliases: the same writer lacks units there */
    avro_codec_free(codec);
    codec = avro_codec_new_opts(NULL, &(avro_codec_opts_t){.registry_mode = true}, err, sizeof err);
    ck_assert_int_eq(add(40, LEGACY), AVRO_WRITER_NOT_OURS);
    static const char SAME_NAME[] = "{\"type\": \"record\", \"name\": \"ClaimLine\", "
                                    "\"namespace\": \"com.amtagvi.ip0625\", \"fields\": [" BODY;
    ck_assert_int_eq(add(43, SAME_NAME), AVRO_WRITER_INCOMPATIBLE);
    ck_assert_msg(strstr(err, "field units: missing"), "%s", err);
    free(reader);
    buf_free(&m);
}
END_TEST

START_TEST(test_frame_id_and_ids)
{
    unsigned char m[6] = {0, 0, 0, 0x01, 0x02, 9};
    ck_assert_int_eq(avro_codec_frame_id(m, 6), 258);
    ck_assert_int_eq(avro_codec_frame_id(m, 5), 258);
    ck_assert_int_eq(avro_codec_frame_id(m, 4), -1);
    ck_assert_int_eq(avro_codec_frame_id(NULL, 0), -1);
    m[0] = 1;
    ck_assert_int_eq(avro_codec_frame_id(m, 6), -1);
    const char *full = NULL;
    ck_assert_ptr_eq(avro_codec_schema_text("claim.v1", &full), amtagvi_schema_text("claim.v1"));
    ck_assert_str_eq(full, "com.amtagvi.ip0625.ClaimLine");
    ck_assert_ptr_nonnull(avro_codec_schema_text("prior_auth", &full));
    ck_assert_str_eq(full, "com.amtagvi.ip0625.PriorAuthRequest");
    ck_assert_ptr_nonnull(avro_codec_schema_text("determination", &full));
    ck_assert_str_eq(full, "com.amtagvi.ip0625.Determination");
    ck_assert_ptr_null(avro_codec_schema_text("nope", &full));
    ck_assert_ptr_null(full);
    /* registry mode: encode ids are set by the caller */
    avro_codec_set_event_ids(codec, 101, 104, 0);
    event_t ev;
    memset(&ev, 0, sizeof ev);
    buf_t m2 = {0};
    ck_assert_int_eq(add(104, amtagvi_schema_text("claim")), AVRO_WRITER_OK);
    override_t none[1];
    (void)none;
    writer_message(&m2, amtagvi_schema_text("claim"), 104, NULL, 0);
    ck_assert_msg(decode(&m2, &ev) == DECODE_OK, "%s", err);
    buf_clear(&m2);
    ck_assert_int_eq(avro_codec_encode_event(codec, &ev, &m2, err, sizeof err), 0);
    ck_assert_int_eq(avro_codec_frame_id(m2.data, m2.len), 104);
    ck_assert_int_eq(avro_codec_encode_event_version(codec, &ev, 1, &m2, err, sizeof err), -1);
    buf_free(&m2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("avro_resolve");
    TCase *tc = tcase_create("resolve");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_claim_v3_resolves);
    tcase_add_test(tc, test_pa_reordered);
    tcase_add_test(tc, test_bytes_as_string_rules);
    tcase_add_test(tc, test_union_branches);
    tcase_add_test(tc, test_missing_and_defaults);
    tcase_add_test(tc, test_type_mismatch);
    tcase_add_test(tc, test_not_ours_and_invalid);
    tcase_add_test(tc, test_lru_bound);
    tcase_add_test(tc, test_pinned_survive);
    tcase_add_test(tc, test_aliases);
    tcase_add_test(tc, test_frame_id_and_ids);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return support_run(suite());
}
