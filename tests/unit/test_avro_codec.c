/* The Avro codec: round trips, the determination frame, and every class of bad input. Hostile
 * bodies are written by hand with a tiny Avro writer so each fault sits exactly where meant. */
#include <avro.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"
#include "avro_reference.h"
#include "engine.h"
#include "json_event.h"
#include "embedded.h"
#include "policy_file.h"
#include "test_support.h"

/* The default ids (contract §11): claims of schema version 2 under 4, of version 1 under 2;
 * determinations of version 2 under 5 (3 was version 1's). */
#define PA_ID 1
#define CLAIM_ID 4
#define CLAIM_V1_ID 2
#define DET_ID 5
#define DET_V1_ID 3

static avro_codec_t *codec;
static arena_t arena;
static char err[256];

static void setup(void)
{
    codec = avro_codec_new(NULL, err, sizeof err);
    ck_assert_msg(codec != NULL, "codec: %s", err);
    memset(&arena, 0, sizeof arena);
}

static void teardown(void)
{
    avro_codec_free(codec);
    arena_free(&arena);
}

/* ------------------------------------------------------------------ sample events */

static const char *DX[EVENT_MAX_ARRAY_ITEMS] = {"C43.9", "Z85.820"};

static void sample_pa(event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = EVENT_PRIOR_AUTH;
    pa_event_t *p = &ev->pa;
    p->event_id = "EV-PHI-1";
    p->pa_id = "PA-PHI-1";
    p->received_at_ms = 1780358400123LL; /* 2026-06-02 */
    p->urgency = URGENCY_EXPEDITED;
    p->member_id = "M-PHI-1";
    p->birth_date = date_from_ymd(1970, 3, 14);
    p->n_diagnosis_codes = 2;
    memcpy(p->diagnosis_codes, DX, sizeof DX);
    p->disease_status = DISEASE_METASTATIC;
    p->braf_v600 = BRAF_NEGATIVE;
    p->n_prior_therapies = 2;
    p->prior_therapies[0] =
        (prior_therapy_t){"pembrolizumab", date_from_ymd(2025, 1, 2), DATE_NULL};
    p->prior_therapies[1] = (prior_therapy_t){"Opdivo", DATE_NULL, date_from_ymd(2025, 9, 30)};
    p->lymphodepletion = LYMPHODEPLETION_PLANNED;
    p->prescriber_npi = "1234567893";
    p->prescriber_taxonomy = "207RX0202X";
    p->consulting_npi = NULL;
    p->consulting_taxonomy = "";
    p->has_requested_dose_cells = true;
    p->requested_dose_cells = 10000000000LL;
}

static void sample_claim(event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = EVENT_CLAIM;
    claim_event_t *c = &ev->claim;
    c->event_id = "EV-PHI-2";
    c->claim_id = "CLM-PHI-2";
    c->line_number = 1;
    c->received_at_ms = 1780358400000LL;
    c->member_id = "M-PHI-1";
    c->birth_date = date_from_ymd(1970, 3, 14);
    c->service_date = date_from_ymd(2026, 6, 20);
    c->hcpcs_code = "C9399";
    c->ndc = NULL;
    c->units = 1;
    c->has_dose_viable_cells = true;
    c->dose_viable_cells = 20000000000LL;
    c->n_diagnosis_codes = 1;
    c->diagnosis_codes[0] = "C43.9";
    c->rendering_npi = "1234567893";
    c->authorization_id = "PA-PHI-1";
    c->billed_amount_cents = 51500000;
}

/* Every field, through the JSON writer: complete, and a mismatch reads well in the report. */
static char *event_json(const event_t *ev)
{
    buf_t b = {0};
    ck_assert_int_eq(json_append_event(&b, ev), 0);
    return b.data;
}

static void assert_round_trip(const event_t *ev)
{
    buf_t msg = {0};
    event_t back;
    ck_assert_msg(avro_codec_encode_event(codec, ev, &msg, err, sizeof err) == 0, "encode: %s",
                  err);
    ck_assert_uint_ge(msg.len, 5);
    ck_assert_int_eq((unsigned char)msg.data[0], 0);
    ck_assert_int_eq((unsigned char)msg.data[4], ev->kind == EVENT_PRIOR_AUTH ? PA_ID : CLAIM_ID);
    decode_status_t st =
        avro_codec_decode_event(codec, msg.data, msg.len, &back, &arena, err, sizeof err);
    ck_assert_msg(st == DECODE_OK, "decode: %s: %s", decode_status_name(st), err);
    char *a = event_json(ev), *b = event_json(&back);
    ck_assert_str_eq(b, a);
    ck_assert_int_eq(back.kind, ev->kind);
    free(a);
    free(b);
    buf_free(&msg);
}

/* ------------------------------------------------------------------ round trips */

START_TEST(test_round_trip_pa)
{
    event_t ev;
    sample_pa(&ev);
    assert_round_trip(&ev);
    /* every nullable field null, arrays empty */
    ev.pa.prescriber_taxonomy = ev.pa.consulting_npi = ev.pa.consulting_taxonomy = NULL;
    ev.pa.has_requested_dose_cells = false;
    ev.pa.n_diagnosis_codes = ev.pa.n_prior_therapies = 0;
    assert_round_trip(&ev);
}
END_TEST

START_TEST(test_round_trip_pa_limits)
{
    static char s128[129], drugs[64][8];
    static const char *codes[64];
    event_t ev;
    sample_pa(&ev);
    memset(s128, 'x', 128);
    ev.pa.event_id = s128;
    ev.pa.member_id =
        "Zo\xc3\xab \xe6\xb8\xa1\xe8\xbe\xba \xf0\x9f\x98\x80 \xe2\x80\xae"; /* multi-byte, astral
                                                                                plane, RTL override
                                                                              */
    ev.pa.n_diagnosis_codes = 64;
    ev.pa.n_prior_therapies = 64;
    for (int i = 0; i < 64; i++) {
        codes[i] = i % 2 ? "C43.9" : "";
        ev.pa.diagnosis_codes[i] = codes[i];
        snprintf(drugs[i], sizeof drugs[i], "drug%d", i);
        ev.pa.prior_therapies[i] =
            (prior_therapy_t){drugs[i], i % 3 ? DATE_MIN : DATE_NULL, i % 2 ? DATE_MAX : DATE_NULL};
    }
    ev.pa.birth_date = DATE_MIN;
    ev.pa.received_at_ms = ((int64_t)DATE_MAX + 1) * MS_PER_DAY - 1;
    ev.pa.requested_dose_cells = INT64_MIN;
    assert_round_trip(&ev);
    ev.pa.received_at_ms = (int64_t)DATE_MIN * MS_PER_DAY;
    ev.pa.requested_dose_cells = INT64_MAX;
    ev.pa.birth_date = DATE_MAX;
    assert_round_trip(&ev);
}
END_TEST

/* 64 items of 128 bytes, twice: the body outgrows the codec's first scratch buffer. */
START_TEST(test_round_trip_large)
{
    static char codes[64][129], drugs[64][129];
    event_t ev;
    sample_pa(&ev);
    ev.pa.n_diagnosis_codes = 64;
    ev.pa.n_prior_therapies = 64;
    for (int i = 0; i < 64; i++) {
        memset(codes[i], 'A' + i % 26, 128);
        memset(drugs[i], 'a' + i % 26, 126);
        memcpy(drugs[i] + 126, "\xc3\xa9", 2);
        ev.pa.diagnosis_codes[i] = codes[i];
        ev.pa.prior_therapies[i] = (prior_therapy_t){drugs[i], i, DATE_NULL};
    }
    assert_round_trip(&ev);
    assert_round_trip(&ev);
}
END_TEST

START_TEST(test_round_trip_claim)
{
    event_t ev;
    sample_claim(&ev);
    assert_round_trip(&ev);
    ev.claim.ndc = "00000-0000-00";
    ev.claim.authorization_id = "";
    ev.claim.has_dose_viable_cells = false;
    ev.claim.line_number = INT32_MIN;
    ev.claim.units = INT32_MAX;
    ev.claim.billed_amount_cents = INT64_MIN;
    ev.claim.n_diagnosis_codes = 0;
    assert_round_trip(&ev);
    ev.claim.authorization_id = NULL;
    ev.claim.billed_amount_cents = INT64_MAX;
    ev.claim.line_number = INT32_MAX;
    ev.claim.units = -1;
    assert_round_trip(&ev);
}
END_TEST

/* The reused generic value must not carry items or branches from one message to the next. */
START_TEST(test_value_reuse)
{
    event_t big, small, back;
    buf_t m1 = {0}, m2 = {0};
    sample_pa(&big);
    big.pa.n_diagnosis_codes = 64;
    for (int i = 2; i < 64; i++) big.pa.diagnosis_codes[i] = "C43";
    sample_pa(&small);
    small.pa.n_diagnosis_codes = 0;
    small.pa.has_requested_dose_cells = false;
    small.pa.prescriber_taxonomy = NULL;
    ck_assert_int_eq(avro_codec_encode_event(codec, &big, &m1, err, sizeof err), 0);
    ck_assert_int_eq(avro_codec_encode_event(codec, &small, &m2, err, sizeof err), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(
            avro_codec_decode_event(codec, m1.data, m1.len, &back, &arena, err, sizeof err),
            DECODE_OK);
        ck_assert_uint_eq(back.pa.n_diagnosis_codes, 64);
        ck_assert_int_eq(
            avro_codec_decode_event(codec, m2.data, m2.len, &back, &arena, err, sizeof err),
            DECODE_OK);
        ck_assert_uint_eq(back.pa.n_diagnosis_codes, 0);
        ck_assert(!back.pa.has_requested_dose_cells);
        ck_assert_ptr_null(back.pa.prescriber_taxonomy);
    }
    buf_free(&m1);
    buf_free(&m2);
}
END_TEST

START_TEST(test_encode_rejects_bad_events)
{
    event_t ev;
    buf_t out = {0};
    sample_pa(&ev);
    ev.pa.member_id = NULL;
    ck_assert_int_eq(avro_codec_encode_event(codec, &ev, &out, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "member_id"));
    sample_pa(&ev);
    ev.pa.braf_v600 = (braf_status_t)7;
    ck_assert_int_eq(avro_codec_encode_event(codec, &ev, &out, err, sizeof err), -1);
    sample_claim(&ev);
    ev.claim.service_date = DATE_NULL;
    ck_assert_int_eq(avro_codec_encode_event(codec, &ev, &out, err, sizeof err), -1);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&out);
}
END_TEST

/* ------------------------------------------------------------------ determination */

static policy_t *load_policy(void)
{
    policy_t *p = policy_load_file(AMTAGVI_POLICY_FILE, err, sizeof err);
    ck_assert_msg(p != NULL, "policy: %s", err);
    return p;
}

/* A determination read back with avro-c's generic reader. */
typedef struct {
    avro_value_t rec;
    avro_value_iface_t *iface;
    avro_schema_t schema;
} det_read_t;

static void read_determination(const buf_t *msg, det_read_t *r)
{
    ck_assert_uint_gt(msg->len, 5);
    ck_assert_int_eq((unsigned char)msg->data[0], 0);
    ck_assert_int_eq((unsigned char)msg->data[1], 0);
    ck_assert_int_eq((unsigned char)msg->data[2], 0);
    ck_assert_int_eq((unsigned char)msg->data[3], 0);
    ck_assert_int_eq((unsigned char)msg->data[4], DET_ID);
    const char *text = amtagvi_schema_text("determination");
    ck_assert_int_eq(avro_schema_from_json_length(text, strlen(text), &r->schema), 0);
    r->iface = avro_generic_class_from_schema(r->schema);
    ck_assert_int_eq(avro_generic_value_new(r->iface, &r->rec), 0);
    avro_reader_t reader = avro_reader_memory(msg->data + 5, (int64_t)msg->len - 5);
    ck_assert_int_eq(avro_value_read(reader, &r->rec), 0);
    avro_reader_free(reader);
}

static void read_determination_free(det_read_t *r)
{
    avro_value_decref(&r->rec);
    avro_value_iface_decref(r->iface);
    avro_schema_decref(r->schema);
}

/* A determination of kind with every criterion MET, for member M-1. */
static void det_base(determination_t *d, const char *event_id, event_kind_t kind, outcome_t o)
{
    memset(d, 0, sizeof *d);
    determination_id_for(event_id, d->determination_id);
    d->kind = kind;
    d->event_id = event_id;
    d->member_id = "M-1";
    d->outcome = o;
    for (int i = 0; i < criteria_count(kind); i++) d->criteria[i] = STATUS_MET;
}

static const char *get_str(avro_value_t *rec, const char *name);

/* The frequency_code of a determination read back: its symbol, or NULL for null. */
static const char *get_frequency(avro_value_t *rec)
{
    avro_value_t v, b;
    int disc, sym;
    ck_assert_int_eq(avro_value_get_by_name(rec, "frequency_code", &v, NULL), 0);
    ck_assert_int_eq(avro_value_get_discriminant(&v, &disc), 0);
    if (disc == 0) return NULL;
    ck_assert_int_eq(avro_value_get_current_branch(&v, &b), 0);
    ck_assert_int_eq(avro_value_get_enum(&b, &sym), 0);
    return avro_schema_enum_get(avro_value_get_schema(&b), sym);
}

static const char *get_str(avro_value_t *rec, const char *name)
{
    avro_value_t v, b;
    const char *s;
    size_t n;
    ck_assert_int_eq(avro_value_get_by_name(rec, name, &v, NULL), 0);
    if (avro_value_get_type(&v) == AVRO_UNION) {
        int disc;
        avro_value_get_discriminant(&v, &disc);
        if (disc == 0) return NULL;
        avro_value_get_current_branch(&v, &b);
        v = b;
    }
    ck_assert_int_eq(avro_value_get_string(&v, &s, &n), 0);
    return s;
}

START_TEST(test_encode_determination_pa)
{
    policy_t *p = load_policy();
    determination_t d;
    det_base(&d, "EV-1", EVENT_PRIOR_AUTH, OUTCOME_APPROVED);
    d.pa_id = "PA-1";
    d.policy_version = date_from_ymd(2026, 5, 1);
    d.criteria[PA_1D] = STATUS_NOT_APPLICABLE;
    d.has_authorization = true;
    d.valid_from = date_from_ymd(2026, 6, 2);
    d.valid_until = date_from_ymd(2026, 12, 2);
    d.max_doses = 1;
    d.dose_min_cells = 7500000000LL;
    d.dose_max_cells = 72000000000LL;
    determination_meta_t meta = {1780358400123LL, "amtagvi.events.v1", 3, 123456789012LL};
    buf_t msg = {0};
    ck_assert_msg(avro_codec_encode_determination(codec, &d, p, &meta, &msg, err, sizeof err) == 0,
                  "%s", err);

    avro_value_t v, b, x;
    det_read_t r;
    read_determination(&msg, &r);
    avro_value_t *rec = &r.rec;
    ck_assert_str_eq(get_str(rec, "determination_id"), d.determination_id);
    ck_assert_str_eq(get_str(rec, "pa_id"), "PA-1");
    ck_assert_ptr_null(get_str(rec, "claim_id"));
    ck_assert_str_eq(get_str(rec, "x12_action"), "A1");
    ck_assert_str_eq(get_str(rec, "topic"), "amtagvi.events.v1");
    /* criteria in the contract's order */
    ck_assert_int_eq(avro_value_get_by_name(rec, "criteria", &v, NULL), 0);
    size_t n;
    avro_value_get_size(&v, &n);
    ck_assert_uint_eq(n, PA_CRITERIA_COUNT);
    for (size_t i = 0; i < n; i++) {
        const char *key;
        int sym;
        avro_value_get_by_index(&v, i, &x, &key);
        ck_assert_str_eq(key, criterion_name(EVENT_PRIOR_AUTH, (int)i));
        avro_value_get_enum(&x, &sym);
        ck_assert_int_eq(sym, d.criteria[i]);
    }
    ck_assert_int_eq(avro_value_get_by_name(rec, "authorization", &v, NULL), 0);
    int disc;
    avro_value_get_discriminant(&v, &disc);
    ck_assert_int_eq(disc, 1);
    avro_value_get_current_branch(&v, &b);
    ck_assert_str_eq(get_str(&b, "auth_id"), "PA-1");
    int64_t l;
    avro_value_get_by_name(&b, "dose_max_cells", &x, NULL);
    avro_value_get_long(&x, &l);
    ck_assert_int_eq(l, 72000000000LL);
    avro_value_get_by_name(rec, "offset", &x, NULL);
    avro_value_get_long(&x, &l);
    ck_assert_int_eq(l, 123456789012LL);

    read_determination_free(&r);
    buf_free(&msg);
    policy_free(p);
}
END_TEST

/* The direct encoder and the reference write the same bytes for d (a, b: scratch buffers). */
static void expect_same_bytes(avro_reference_t *ref, const determination_t *d, const policy_t *p,
                              const determination_meta_t *meta, buf_t *a, buf_t *b)
{
    buf_clear(a);
    buf_clear(b);
    ck_assert_int_eq(avro_codec_encode_determination(codec, d, p, meta, a, err, sizeof err), 0);
    ck_assert_int_eq(avro_reference_encode_determination(ref, d, p, meta, DET_ID, b), 0);
    ck_assert_uint_eq(a->len, b->len);
    ck_assert_msg(memcmp(a->data, b->data, a->len) == 0, "bytes differ for %s", d->event_id);
}

/* The direct encoder against avro-c's generic values (avro_reference.c), byte for byte, over
 * every determination of the sample stream (PA and claim, approved with an authorization, denied
 * and pended with reasons, matched PAs, replays) with and without the worker's meta, plus hand-made
 * edges. */
START_TEST(test_encode_determination_direct_equals_generic)
{
    policy_t *p = load_policy();
    engine_t *e = engine_new(p);
    avro_reference_t *ref = avro_reference_new();
    ck_assert_ptr_nonnull(ref);
    FILE *f = fopen(AMTAGVI_SOURCE_DIR "/samples/events.jsonl", "r");
    ck_assert_ptr_nonnull(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    buf_t a = {0}, b = {0};
    int compared = 0, with_auth = 0, with_reasons = 0, claims = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        event_t ev;
        if (json_event_parse(line, (size_t)n, &ev, err, sizeof err) != 0) continue;
        const determination_t *d;
        ck_assert_int_ge(engine_process(e, &ev, &d), 0);
        for (int meta_on = 0; meta_on < 2; meta_on++) {
            determination_meta_t meta = {1780358400123LL + compared, "amtagvi.events.v1",
                                         compared % 12, (int64_t)compared * 7919 - 3};
            expect_same_bytes(ref, d, p, meta_on ? &meta : NULL, &a, &b);
        }
        compared++;
        with_auth += d->has_authorization;
        with_reasons += d->n_reasons > 0;
        claims += d->kind == EVENT_CLAIM;
    }
    free(line);
    fclose(f);
    /* The stream must have exercised every branch of the encoder. */
    ck_assert_int_gt(compared, 1000);
    ck_assert_int_gt(with_auth, 0);
    ck_assert_int_gt(with_reasons, 0);
    ck_assert_int_gt(claims, 0);

    /* Edges: no policy version, extreme numbers, empty strings. */
    determination_t d;
    det_base(&d, "EV-EDGE", EVENT_CLAIM, OUTCOME_DENIED);
    d.member_id = "";
    d.claim_id = "";
    d.line_number = INT32_MIN;
    d.policy_version = DATE_NULL;
    d.decision_date = 0;
    determination_meta_t meta = {INT64_MIN, "", INT32_MAX, INT64_MAX};
    expect_same_bytes(ref, &d, p, &meta, &a, &b);
    /* Version 2's fields: every frequency, with and without a reversed event. */
    for (int fc = FREQUENCY_ORIGINAL; fc <= FREQUENCY_VOID; fc++) {
        d.frequency_code = (frequency_code_t)fc;
        d.reversed_event_id = fc == FREQUENCY_ORIGINAL ? NULL : "EV-\xc3\xa9-REVERSED";
        expect_same_bytes(ref, &d, p, &meta, &a, &b);
        d.reversed_event_id = NULL;
        expect_same_bytes(ref, &d, p, NULL, &a, &b);
    }
    buf_free(&a);
    buf_free(&b);
    avro_reference_free(ref);
    engine_free(e);
    policy_free(p);
}
END_TEST

START_TEST(test_encode_determination_claim)
{
    policy_t *p = load_policy();
    determination_t d;
    det_base(&d, "EV-2", EVENT_CLAIM, OUTCOME_DENIED);
    d.pa_id = "ignored for a claim";
    d.claim_id = "CLM-1";
    d.line_number = 2;
    d.policy_version = DATE_NULL;
    d.criteria[CLAIM_HCPCS] = STATUS_NOT_MET;
    d.criteria[CLAIM_AUTHORIZATION] = STATUS_NOT_MET;
    d.n_reasons = 2;
    d.reasons[0] = (reason_t){CLAIM_HCPCS, REASON_HCPCS_NOT_COVERED, STATUS_NOT_MET};
    d.reasons[1] = (reason_t){CLAIM_AUTHORIZATION, REASON_AUTH_MISSING, STATUS_NOT_MET};
    buf_t msg = {0};
    /* no meta: evaluate has no source position */
    ck_assert_msg(avro_codec_encode_determination(codec, &d, p, NULL, &msg, err, sizeof err) == 0,
                  "%s", err);
    avro_value_t v, item;
    det_read_t r;
    read_determination(&msg, &r);
    avro_value_t *rec = &r.rec;
    ck_assert_ptr_null(get_str(rec, "pa_id"));
    ck_assert_ptr_null(get_str(rec, "x12_action"));
    ck_assert_str_eq(get_str(rec, "claim_id"), "CLM-1");
    ck_assert_int_eq(avro_value_get_by_name(rec, "reasons", &v, NULL), 0);
    size_t n;
    avro_value_get_size(&v, &n);
    ck_assert_uint_eq(n, 2);
    avro_value_get_by_index(&v, 0, &item, NULL);
    ck_assert_str_eq(get_str(&item, "code"), "HCPCS_NOT_COVERED");
    ck_assert_str_eq(get_str(&item, "carc"), "96");
    ck_assert_str_eq(get_str(&item, "rarc"), "N130");
    avro_value_get_by_index(&v, 1, &item, NULL);
    ck_assert_str_eq(get_str(&item, "criterion"), "AUTHORIZATION");
    ck_assert_str_eq(get_str(&item, "group"), "CO");
    ck_assert_ptr_null(get_str(&item, "rarc"));
    ck_assert_str_ne(get_str(&item, "message"), "");
    ck_assert_str_eq(get_frequency(rec), "ORIGINAL");
    ck_assert_ptr_null(get_str(rec, "reversed_event_id"));
    read_determination_free(&r);
    buf_free(&msg);
    policy_free(p);
}
END_TEST

/* Version 2 of the determination (contract §11): a claim's frequency_code and the event it
 * reversed, last; null for a prior auth. */
START_TEST(test_encode_determination_v2_fields)
{
    policy_t *p = load_policy();
    determination_t d;
    det_base(&d, "EV-VOID", EVENT_CLAIM, OUTCOME_APPROVED);
    d.claim_id = "CLM-9";
    d.line_number = 1;
    d.policy_version = date_from_ymd(2026, 5, 1);
    for (int i = CLAIM_ORIGINAL + 1; i < CLAIM_CRITERIA_COUNT; i++)
        d.criteria[i] = STATUS_NOT_APPLICABLE;
    d.frequency_code = FREQUENCY_VOID;
    d.original_claim_id = " CLM-1 ";
    d.reversed_event_id = "EV-ORIGINAL";
    buf_t msg = {0};
    ck_assert_msg(avro_codec_encode_determination(codec, &d, p, NULL, &msg, err, sizeof err) == 0,
                  "%s", err);
    det_read_t r;
    read_determination(&msg, &r);
    ck_assert_str_eq(get_frequency(&r.rec), "VOID");
    ck_assert_str_eq(get_str(&r.rec, "reversed_event_id"), "EV-ORIGINAL");
    read_determination_free(&r);
    /* The two fields are the record's last bytes: a reader of version 1, which stops after
     * offset, sees the same prefix (tests/interop/wire_compat.py reads it so with Apache Avro). */
    static const char tail[] = "\x02\x04\x02\x16"
                               "EV-ORIGINAL"; /* branch 1, VOID, branch 1, length 11 */
    ck_assert_uint_gt(msg.len, sizeof tail - 1);
    ck_assert_mem_eq(msg.data + msg.len - (sizeof tail - 1), tail, sizeof tail - 1);

    d.frequency_code = FREQUENCY_REPLACEMENT;
    d.reversed_event_id = NULL;
    buf_clear(&msg);
    ck_assert_int_eq(avro_codec_encode_determination(codec, &d, p, NULL, &msg, err, sizeof err), 0);
    read_determination(&msg, &r);
    ck_assert_str_eq(get_frequency(&r.rec), "REPLACEMENT");
    ck_assert_ptr_null(get_str(&r.rec, "reversed_event_id"));
    read_determination_free(&r);

    d.frequency_code = (frequency_code_t)3;
    buf_clear(&msg);
    ck_assert_int_eq(avro_codec_encode_determination(codec, &d, p, NULL, &msg, err, sizeof err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "frequency_code"));

    det_base(&d, "EV-PA", EVENT_PRIOR_AUTH, OUTCOME_DENIED);
    d.pa_id = "PA-9";
    d.frequency_code = FREQUENCY_VOID; /* not a PA's: written as null */
    buf_clear(&msg);
    ck_assert_int_eq(avro_codec_encode_determination(codec, &d, p, NULL, &msg, err, sizeof err), 0);
    read_determination(&msg, &r);
    ck_assert_ptr_null(get_frequency(&r.rec));
    ck_assert_ptr_null(get_str(&r.rec, "reversed_event_id"));
    read_determination_free(&r);
    buf_free(&msg);
    policy_free(p);
}
END_TEST

/* ------------------------------------------------------------------ hand-written bodies */

static void put_long(buf_t *b, int64_t v)
{
    uint64_t n = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (n & ~(uint64_t)0x7F) {
        buf_append_char(b, (char)((n & 0x7F) | 0x80));
        n >>= 7;
    }
    buf_append_char(b, (char)n);
}

static void put_bytes(buf_t *b, const char *s, size_t n)
{
    put_long(b, (int64_t)n);
    buf_append(b, s, n);
}

static void put_str(buf_t *b, const char *s)
{
    put_bytes(b, s, strlen(s));
}

static void frame(buf_t *b, uint32_t id)
{
    unsigned char h[5] = {0, (unsigned char)(id >> 24), (unsigned char)(id >> 16),
                          (unsigned char)(id >> 8), (unsigned char)id};
    buf_append(b, h, 5);
}

typedef enum {
    X_NONE,
    X_HUGE_LENGTH,   /* event_id length 2^31, 3 bytes follow */
    X_NEG_LENGTH,    /* event_id length -5 */
    X_NUL,           /* event_id with a NUL byte */
    X_BAD_UTF8,      /* event_id "\xC3\x28" */
    X_SURROGATE,     /* event_id with an encoded surrogate */
    X_129_BYTES,     /* member_id of 129 bytes */
    X_VARINT_LONG,   /* received_at as 11 continuation bytes */
    X_VARINT_65BITS, /* received_at whose 10th byte carries more than one bit */
    X_TS_RANGE,      /* received_at = INT64_MAX */
    X_ENUM,          /* urgency index 2 */
    X_ENUM_NEG,      /* urgency index -1 */
    X_DATE_RANGE,    /* birth_date 10000-01-01 */
    X_DATE_MIN1,     /* birth_date 0000-12-31 */
    X_ARRAY_65,      /* 65 diagnosis codes in one block */
    X_ARRAY_40_25,   /* 65 diagnosis codes in two blocks */
    X_ARRAY_NEG_OK,  /* a negative count block with its byte size */
    X_ARRAY_NEG_BAD, /* ... with a wrong byte size */
    X_ARRAY_LIE,     /* block of a million items, one present */
    X_ARRAY_MIN,     /* block count INT64_MIN */
    X_UNION,         /* prescriber_taxonomy branch 2 */
    X_UNION_NEG,     /* prescriber_taxonomy branch -1 */
    X_UNION_HUGE,    /* prescriber_taxonomy branch 2^40 */
    X_THERAPY_UNION, /* prior_therapies[].start_date branch 5 */
    X_TRAILING,      /* one byte after the record */
} fault_t;

static void pa_body(buf_t *b, fault_t x)
{
    frame(b, PA_ID);
    switch (x) { /* event_id */
    case X_HUGE_LENGTH:
        put_long(b, (int64_t)1 << 31);
        buf_append(b, "abc", 3);
        return;
    case X_NEG_LENGTH:
        put_long(b, -5);
        buf_append(b, "abcdefghij", 10);
        return;
    case X_NUL:
        put_bytes(b, "EV\0PHI", 6);
        break;
    case X_BAD_UTF8:
        put_bytes(b, "EV\xC3\x28", 4);
        break;
    case X_SURROGATE:
        put_bytes(b, "EV\xED\xA0\x80", 5);
        break;
    default:
        put_str(b, "EV-PHI-1");
    }
    put_str(b, "PA-PHI-1");
    switch (x) { /* received_at */
    case X_VARINT_LONG:
        buf_append(b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
        break;
    case X_VARINT_65BITS:
        buf_append(b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x03", 10);
        break;
    case X_TS_RANGE:
        put_long(b, INT64_MAX);
        break;
    default:
        put_long(b, 1780358400123LL);
    }
    put_long(b, x == X_ENUM ? 2 : x == X_ENUM_NEG ? -1 : 1); /* urgency */
    if (x == X_129_BYTES) {
        char s[130];
        memset(s, 'm', 129);
        s[129] = 0;
        put_str(b, s);
    } else {
        put_str(b, "M-PHI-1");
    }
    put_long(b, x == X_DATE_RANGE  ? DATE_MAX + 1
                : x == X_DATE_MIN1 ? DATE_MIN - 1
                                   : date_from_ymd(1970, 3, 14)); /* birth_date */
    switch (x) {                                                  /* diagnosis_codes */
    case X_ARRAY_65:
        put_long(b, 65);
        for (int i = 0; i < 65; i++) put_str(b, "C43");
        put_long(b, 0);
        break;
    case X_ARRAY_40_25:
        put_long(b, 40);
        for (int i = 0; i < 40; i++) put_str(b, "C43");
        put_long(b, 25);
        for (int i = 0; i < 25; i++) put_str(b, "C43");
        put_long(b, 0);
        break;
    case X_ARRAY_NEG_OK:
    case X_ARRAY_NEG_BAD:
        put_long(b, -2);
        put_long(b, x == X_ARRAY_NEG_OK ? 10 : 9); /* two strings of 1 + 4 bytes */
        put_str(b, "C439");
        put_str(b, "Z858");
        put_long(b, 1);
        put_str(b, "C787");
        put_long(b, 0);
        break;
    case X_ARRAY_LIE:
        put_long(b, 1000000);
        put_str(b, "C43");
        put_long(b, 0);
        break;
    case X_ARRAY_MIN:
        put_long(b, INT64_MIN);
        put_long(b, 0);
        break;
    default:
        put_long(b, 2);
        put_str(b, "C43.9");
        put_str(b, "Z85.820");
        put_long(b, 0);
    }
    put_long(b, 2); /* disease_status METASTATIC */
    put_long(b, 1); /* braf_v600 NEGATIVE */
    put_long(b, 1); /* prior_therapies */
    put_str(b, "pembrolizumab");
    put_long(b, x == X_THERAPY_UNION ? 5 : 1);
    put_long(b, date_from_ymd(2025, 1, 2));
    put_long(b, 0);
    put_long(b, 0);
    put_long(b, 1); /* lymphodepletion PLANNED */
    put_str(b, "1234567893");
    put_long(b, x == X_UNION        ? 2
                : x == X_UNION_NEG  ? -1
                : x == X_UNION_HUGE ? (int64_t)1 << 40
                                    : 1); /* prescriber_taxonomy */
    put_str(b, "207RX0202X");
    put_long(b, 0); /* consulting_npi */
    put_long(b, 0); /* consulting_taxonomy */
    put_long(b, 1); /* requested_dose_cells */
    put_long(b, 10000000000LL);
    if (x == X_TRAILING) buf_append_char(b, 0);
}

static decode_status_t decode(const void *m, size_t n, event_t *ev)
{
    err[0] = '\0';
    return avro_codec_decode_event(codec, m, n, ev, &arena, err, sizeof err);
}

/* No message may repeat a value of the event (contract: dead letters carry no PHI). */
static void assert_no_phi(void)
{
    ck_assert_msg(err[0] != '\0', "no message");
    ck_assert_msg(!strstr(err, "PHI") && !strstr(err, "C43") && !strstr(err, "1234567893") &&
                      !strstr(err, "mmmm") && !strstr(err, "pembro"),
                  "message repeats a value: %s", err);
}

START_TEST(test_hand_written_valid)
{
    event_t ev, ref;
    buf_t b = {0};
    pa_body(&b, X_NONE);
    ck_assert_msg(decode(b.data, b.len, &ev) == DECODE_OK, "%s", err);
    sample_pa(&ref);
    ck_assert_str_eq(ev.pa.member_id, "M-PHI-1");
    ck_assert_int_eq(ev.pa.received_at_ms, ref.pa.received_at_ms);
    ck_assert_int_eq(ev.pa.urgency, URGENCY_EXPEDITED);
    ck_assert_int_eq(ev.pa.prior_therapies[0].start_date, date_from_ymd(2025, 1, 2));
    ck_assert_int_eq(ev.pa.prior_therapies[0].end_date, DATE_NULL);
    ck_assert_ptr_null(ev.pa.consulting_npi);
    buf_clear(&b);
    pa_body(&b, X_ARRAY_NEG_OK);
    ck_assert_msg(decode(b.data, b.len, &ev) == DECODE_OK, "%s", err);
    ck_assert_uint_eq(ev.pa.n_diagnosis_codes, 3);
    ck_assert_str_eq(ev.pa.diagnosis_codes[2], "C787");
    buf_free(&b);
}
END_TEST

static const struct {
    fault_t fault;
    decode_status_t want;
    const char *says; /* a word the message must contain */
} FAULTS[] = {
    {X_HUGE_LENGTH, DECODE_MALFORMED, "ends before the declared string length"},
    {X_NEG_LENGTH, DECODE_MALFORMED, "negative"},
    {X_NUL, DECODE_INVALID, "NUL"},
    {X_BAD_UTF8, DECODE_INVALID, "UTF-8"},
    {X_SURROGATE, DECODE_INVALID, "UTF-8"},
    {X_129_BYTES, DECODE_INVALID, "member_id"},
    {X_VARINT_LONG, DECODE_MALFORMED, "received_at"},
    {X_VARINT_65BITS, DECODE_MALFORMED, "64 bits"},
    {X_TS_RANGE, DECODE_INVALID, "received_at"},
    {X_ENUM, DECODE_MALFORMED, "urgency"},
    {X_ENUM_NEG, DECODE_MALFORMED, "enum"},
    {X_DATE_RANGE, DECODE_INVALID, "birth_date"},
    {X_DATE_MIN1, DECODE_INVALID, "birth_date"},
    {X_ARRAY_65, DECODE_INVALID, "64"},
    {X_ARRAY_40_25, DECODE_INVALID, "diagnosis_codes"},
    {X_ARRAY_NEG_BAD, DECODE_MALFORMED, "byte size"},
    {X_ARRAY_LIE, DECODE_MALFORMED, "input ends before the block's declared items"},
    {X_ARRAY_MIN, DECODE_MALFORMED, "block"},
    {X_UNION, DECODE_MALFORMED, "union"},
    {X_UNION_NEG, DECODE_MALFORMED, "prescriber_taxonomy"},
    {X_UNION_HUGE, DECODE_MALFORMED, "union"},
    {X_THERAPY_UNION, DECODE_MALFORMED, "prior_therapies[].start_date"},
    {X_TRAILING, DECODE_TRAILING_BYTES, "after"},
};

START_TEST(test_fault)
{
    event_t ev;
    buf_t b = {0};
    pa_body(&b, FAULTS[_i].fault);
    decode_status_t st = decode(b.data, b.len, &ev);
    ck_assert_msg(st == FAULTS[_i].want, "fault %d: got %s (%s), want %s", _i,
                  decode_status_name(st), err, decode_status_name(FAULTS[_i].want));
    ck_assert_msg(strstr(err, FAULTS[_i].says), "fault %d: message '%s' lacks '%s'", _i, err,
                  FAULTS[_i].says);
    assert_no_phi();
    buf_free(&b);
}
END_TEST

START_TEST(test_huge_length_message)
{
    event_t ev;
    buf_t b = {0};
    pa_body(&b, X_HUGE_LENGTH);
    ck_assert_int_eq(decode(b.data, b.len, &ev), DECODE_MALFORMED);
    /* The length read (2^31) is the message's, not the contract's: it is not quoted. */
    ck_assert_str_eq(err,
                     "prior_auth: field event_id: input ends before the declared string length");
    buf_free(&b);
}
END_TEST

START_TEST(test_int_out_of_range)
{
    event_t ev;
    buf_t b = {0};
    frame(&b, CLAIM_ID);
    put_str(&b, "EV-PHI-2");
    put_str(&b, "CLM-PHI-2");
    put_long(&b, (int64_t)INT32_MAX + 1); /* line_number */
    ck_assert_int_eq(decode(b.data, b.len, &ev), DECODE_MALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "line_number"));
    assert_no_phi();
    buf_free(&b);
}
END_TEST

START_TEST(test_framing)
{
    event_t ev;
    unsigned char m[8] = {0, 0, 0, 0, PA_ID, 0, 0, 0};
    ck_assert_int_eq(decode(m, 0, &ev), DECODE_EMPTY);
    ck_assert_int_eq(decode(NULL, 0, &ev), DECODE_EMPTY);
    for (size_t n = 1; n < 5; n++) {
        ck_assert_int_eq(decode(m, n, &ev), DECODE_BAD_MAGIC);
        ck_assert_ptr_nonnull(strstr(err, "header"));
    }
    m[0] = 1;
    ck_assert_int_eq(decode(m, sizeof m, &ev), DECODE_BAD_MAGIC);
    ck_assert_ptr_nonnull(strstr(err, "magic"));
    m[0] = 0;
    m[4] = 99;
    ck_assert_int_eq(decode(m, sizeof m, &ev), DECODE_UNKNOWN_SCHEMA);
    m[4] = DET_ID; /* a determination is not an input event */
    ck_assert_int_eq(decode(m, sizeof m, &ev), DECODE_UNKNOWN_SCHEMA);
    m[4] = DET_V1_ID; /* nor one of version 1 */
    ck_assert_int_eq(decode(m, sizeof m, &ev), DECODE_UNKNOWN_SCHEMA);
    m[1] = 0x80; /* id with the top bit set */
    m[4] = PA_ID;
    ck_assert_int_eq(decode(m, sizeof m, &ev), DECODE_UNKNOWN_SCHEMA);
    ck_assert_int_eq(decode(m, 5, &ev), DECODE_UNKNOWN_SCHEMA);
    m[1] = 0;
    ck_assert_int_eq(decode(m, 5, &ev), DECODE_MALFORMED); /* header only */
    ck_assert_str_eq(decode_status_name(DECODE_TRAILING_BYTES), "trailing_bytes");
}
END_TEST

START_TEST(test_custom_ids)
{
    avro_codec_ids_t ids = {1001, 1002, 1003, 1004};
    avro_codec_t *c2 = avro_codec_new(&ids, err, sizeof err);
    ck_assert_ptr_nonnull(c2);
    event_t ev, back;
    buf_t b = {0}, b1 = {0};
    sample_claim(&ev);
    ck_assert_int_eq(avro_codec_encode_event(c2, &ev, &b, err, sizeof err), 0);
    ck_assert_int_eq((unsigned char)b.data[3], 1002 >> 8);
    ck_assert_int_eq((unsigned char)b.data[4], 1002 & 0xFF);
    ck_assert_int_eq(avro_codec_decode_event(c2, b.data, b.len, &back, &arena, err, sizeof err),
                     DECODE_OK);
    ck_assert_int_eq(decode(b.data, b.len, &back), DECODE_UNKNOWN_SCHEMA);
    ck_assert_int_eq(avro_codec_encode_event_version(c2, &ev, 1, &b1, err, sizeof err), 0);
    ck_assert_int_eq((unsigned char)b1.data[4], 1004 & 0xFF);
    ck_assert_int_eq(avro_codec_decode_event(c2, b1.data, b1.len, &back, &arena, err, sizeof err),
                     DECODE_OK);
    avro_codec_free(c2);

    /* Version 1 id 0: not accepted, not written; a message under id 0 is an unknown schema. */
    ids.claim_v1_schema_id = 0;
    c2 = avro_codec_new(&ids, err, sizeof err);
    ck_assert_ptr_nonnull(c2);
    b1.data[1] = b1.data[2] = b1.data[3] = b1.data[4] = 0;
    ck_assert_int_eq(avro_codec_decode_event(c2, b1.data, b1.len, &back, &arena, err, sizeof err),
                     DECODE_UNKNOWN_SCHEMA);
    buf_clear(&b1);
    ck_assert_int_eq(avro_codec_encode_event_version(c2, &ev, 1, &b1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "schema.id.claim.v1"));
    avro_codec_free(c2);

    ids.claim_schema_id = 1001;
    ck_assert_ptr_null(avro_codec_new(&ids, err, sizeof err));
    /* the version-1 id may not be any other id either */
    for (int k = 0; k < 3; k++) {
        ids = (avro_codec_ids_t){1001, 1002, 1003, 1001 + k};
        ck_assert_ptr_null(avro_codec_new(&ids, err, sizeof err));
        ck_assert_ptr_nonnull(strstr(err, "differ"));
    }
    buf_free(&b);
    buf_free(&b1);
}
END_TEST

/* ------------------------------------------------------------------ claim schema versions */

/* A claim body by hand, with version 1's fields, then (version 2) frequency and original. The
 * frequency is an enum index (3 and -1 are none); original NULL writes null. */
static void claim_body(buf_t *b, uint32_t id, int version, int64_t frequency, const char *original)
{
    frame(b, id);
    put_str(b, "EV-PHI-2");
    put_str(b, "CLM-PHI-2");
    put_long(b, 1);               /* line_number */
    put_long(b, 1780358400000LL); /* received_at */
    put_str(b, "M-PHI-1");
    put_long(b, date_from_ymd(1970, 3, 14));
    put_long(b, date_from_ymd(2026, 6, 20));
    put_str(b, "C9399");
    put_long(b, 0); /* ndc null */
    put_long(b, 1); /* units */
    put_long(b, 1); /* dose_viable_cells */
    put_long(b, 20000000000LL);
    put_long(b, 1); /* diagnosis_codes */
    put_str(b, "C43.9");
    put_long(b, 0);
    put_str(b, "1234567893");
    put_long(b, 1); /* authorization_id */
    put_str(b, "PA-PHI-1");
    put_long(b, 51500000);
    if (version < 2) return;
    put_long(b, frequency);
    put_long(b, original ? 1 : 0);
    if (original) put_str(b, original);
}

/* A claim of version 1 (schema id 2, no frequency fields) is an ORIGINAL without a reference,
 * and otherwise the same claim as one written with version 2. */
START_TEST(test_claim_v1_decodes_as_original)
{
    event_t ev, want;
    buf_t b = {0}, enc = {0};
    claim_body(&b, CLAIM_V1_ID, 1, 0, NULL);
    ck_assert_msg(decode(b.data, b.len, &ev) == DECODE_OK, "%s", err);
    ck_assert_int_eq(ev.kind, EVENT_CLAIM);
    ck_assert_int_eq(ev.claim.frequency_code, FREQUENCY_ORIGINAL);
    ck_assert_ptr_null(ev.claim.original_claim_id);
    sample_claim(&want);
    char *x = event_json(&ev), *y = event_json(&want);
    ck_assert_str_eq(x, y);
    free(x);
    free(y);
    /* The codec writes version 1 as the hand-written bytes, under id 2. */
    ck_assert_int_eq(avro_codec_encode_event_version(codec, &want, 1, &enc, err, sizeof err), 0);
    ck_assert_uint_eq(enc.len, b.len);
    ck_assert_mem_eq(enc.data, b.data, b.len);
    /* A version-2 body is version 1's plus two fields: it is no version-1 message, and the
     * reverse is a truncated version-2 one. */
    buf_clear(&b);
    claim_body(&b, CLAIM_V1_ID, 2, FREQUENCY_ORIGINAL, NULL);
    ck_assert_int_eq(decode(b.data, b.len, &ev), DECODE_TRAILING_BYTES);
    buf_clear(&b);
    claim_body(&b, CLAIM_ID, 1, 0, NULL);
    ck_assert_int_eq(decode(b.data, b.len, &ev), DECODE_MALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "frequency_code"));
    buf_free(&b);
    buf_free(&enc);
}
END_TEST

/* Version 2 carries every frequency and the reference, through the codec both ways. */
START_TEST(test_round_trip_frequencies)
{
    event_t ev, back;
    buf_t b = {0};
    sample_claim(&ev);
    ev.claim.frequency_code = FREQUENCY_VOID;
    ev.claim.original_claim_id = " CLM-PHI-1\t";
    assert_round_trip(&ev);
    ev.claim.frequency_code = FREQUENCY_REPLACEMENT;
    ev.claim.original_claim_id = "";
    assert_round_trip(&ev);
    ev.claim.original_claim_id = NULL;
    assert_round_trip(&ev);
    ev.claim.frequency_code = FREQUENCY_ORIGINAL;
    ev.claim.original_claim_id = "ignored on an ORIGINAL, still carried";
    assert_round_trip(&ev);
    /* Hand-written VOID: the symbol index and the reference land where the schema says. */
    claim_body(&b, CLAIM_ID, 2, 2, "CLM-1");
    ck_assert_msg(decode(b.data, b.len, &back) == DECODE_OK, "%s", err);
    ck_assert_int_eq(back.claim.frequency_code, FREQUENCY_VOID);
    ck_assert_str_eq(back.claim.original_claim_id, "CLM-1");
    buf_clear(&b);
    claim_body(&b, CLAIM_ID, 2, 1, NULL);
    ck_assert_msg(decode(b.data, b.len, &back) == DECODE_OK, "%s", err);
    ck_assert_int_eq(back.claim.frequency_code, FREQUENCY_REPLACEMENT);
    ck_assert_ptr_null(back.claim.original_claim_id);
    buf_free(&b);
}
END_TEST

/* A frequency index that is no symbol is a malformed message naming the field, never judged;
 * a reference over 128 bytes breaks the contract's string rule. */
START_TEST(test_frequency_rejected)
{
    event_t ev;
    buf_t b = {0};
    static const int64_t bad[] = {3, -1, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        buf_clear(&b);
        claim_body(&b, CLAIM_ID, 2, bad[i], "CLM-1");
        ck_assert_int_eq(decode(b.data, b.len, &ev), DECODE_MALFORMED);
        ck_assert_msg(strstr(err, "frequency_code") && strstr(err, "enum"), "%s", err);
        assert_no_phi();
    }
    char big[130];
    memset(big, 'o', 129);
    big[129] = '\0';
    buf_clear(&b);
    claim_body(&b, CLAIM_ID, 2, FREQUENCY_VOID, big);
    ck_assert_int_eq(decode(b.data, b.len, &ev), DECODE_INVALID);
    ck_assert_msg(strstr(err, "original_claim_id"), "%s", err);
    buf_free(&b);
}
END_TEST

/* One codec reads both versions, interleaved, with nothing of one message left in the next. */
START_TEST(test_both_claim_ids_at_once)
{
    event_t ev;
    buf_t v1 = {0}, v2 = {0}, pa = {0};
    claim_body(&v1, CLAIM_V1_ID, 1, 0, NULL);
    claim_body(&v2, CLAIM_ID, 2, FREQUENCY_VOID, "CLM-1");
    pa_body(&pa, X_NONE);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(decode(v2.data, v2.len, &ev), DECODE_OK);
        ck_assert_int_eq(ev.claim.frequency_code, FREQUENCY_VOID);
        ck_assert_str_eq(ev.claim.original_claim_id, "CLM-1");
        ck_assert_int_eq(decode(v1.data, v1.len, &ev), DECODE_OK);
        ck_assert_int_eq(ev.claim.frequency_code, FREQUENCY_ORIGINAL);
        ck_assert_ptr_null(ev.claim.original_claim_id);
        ck_assert_str_eq(ev.claim.authorization_id, "PA-PHI-1");
        ck_assert_int_eq(decode(pa.data, pa.len, &ev), DECODE_OK);
        ck_assert_int_eq(ev.kind, EVENT_PRIOR_AUTH);
        arena_reset(&arena);
    }
    buf_free(&v1);
    buf_free(&v2);
    buf_free(&pa);
}
END_TEST

/* Version 1 cannot say REPLACEMENT, VOID or a reference: writing one so is refused, clearly. */
START_TEST(test_encode_v1_refuses_frequency)
{
    event_t ev;
    buf_t b = {0};
    sample_claim(&ev);
    ev.claim.frequency_code = FREQUENCY_VOID;
    ev.claim.original_claim_id = "CLM-PHI-1";
    ck_assert_int_eq(avro_codec_encode_event_version(codec, &ev, 1, &b, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "VOID") && strstr(err, "version 1"), "%s", err);
    assert_no_phi();
    ev.claim.frequency_code = FREQUENCY_REPLACEMENT;
    ck_assert_int_eq(avro_codec_encode_event_version(codec, &ev, 1, &b, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "REPLACEMENT"));
    ev.claim.frequency_code = FREQUENCY_ORIGINAL;
    ck_assert_int_eq(avro_codec_encode_event_version(codec, &ev, 1, &b, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "original_claim_id"));
    assert_no_phi();
    ev.claim.original_claim_id = NULL;
    ck_assert_int_eq(avro_codec_encode_event_version(codec, &ev, 3, &b, err, sizeof err), -1);
    ck_assert_uint_eq(b.len, 0);
    /* A prior auth has one schema: any version writes it. */
    sample_pa(&ev);
    ck_assert_int_eq(avro_codec_encode_event_version(codec, &ev, 1, &b, err, sizeof err), 0);
    ck_assert_int_eq((unsigned char)b.data[4], PA_ID);
    buf_free(&b);
}
END_TEST

/* Every proper prefix of a valid message is rejected, and nothing leaks on the way. */
START_TEST(test_truncated_everywhere)
{
    event_t ev, back;
    if (_i == 0) {
        sample_pa(&ev);
        ev.pa.n_prior_therapies = 0;
    } else if (_i == 1) {
        sample_pa(&ev);
    } else {
        sample_claim(&ev);
    }
    buf_t b = {0};
    ck_assert_int_eq(avro_codec_encode_event(codec, &ev, &b, err, sizeof err), 0);
    for (size_t n = 0; n < b.len; n++) {
        decode_status_t st = decode(b.data, n, &back);
        decode_status_t want = n == 0 ? DECODE_EMPTY : n < 5 ? DECODE_BAD_MAGIC : DECODE_MALFORMED;
        ck_assert_msg(st == want, "cut at %zu of %zu: %s (%s)", n, b.len, decode_status_name(st),
                      err);
        assert_no_phi();
    }
    ck_assert_int_eq(decode(b.data, b.len, &back), DECODE_OK);
    buf_append_char(&b, 0);
    ck_assert_int_eq(decode(b.data, b.len, &back), DECODE_TRAILING_BYTES);
    buf_free(&b);
}
END_TEST

/* Seeded garbage and bit flips: only a status comes back, never a crash, leak or huge
 * allocation (run under valgrind and the ASan build). */
START_TEST(test_garbage)
{
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    event_t ev, back;
    buf_t good = {0}, m = {0};
    sample_pa(&ev);
    ck_assert_int_eq(avro_codec_encode_event(codec, &ev, &good, err, sizeof err), 0);
    int ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        buf_clear(&m);
        if (iter % 2) {
            buf_append(&m, good.data, good.len);
            for (int k = 0; k < 1 + (int)(seed % 3); k++) {
                size_t at = 5 + (seed >> 8) % (good.len - 5);
                m.data[at] ^= (char)(1u << ((seed >> 40) % 8));
                seed = seed * 6364136223846793005ULL + 1;
            }
        } else {
            frame(&m, seed & 1 ? PA_ID : CLAIM_ID);
            size_t n = (seed >> 8) % 200;
            for (size_t k = 0; k < n; k++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                buf_append_char(&m, (char)(seed >> 56));
            }
        }
        if (decode(m.data, m.len, &back) == DECODE_OK) ok++;
        arena_reset(&arena);
    }
    ck_assert_int_ge(ok, 0);
    buf_free(&good);
    buf_free(&m);
}
END_TEST

/* The second line of defence: avro-c itself cannot allocate more than the bound. */
START_TEST(test_bounded_allocator)
{
    void *p = avro_malloc((size_t)2 << 20);
    ck_assert_ptr_null(p);
    p = avro_malloc(1000);
    ck_assert_ptr_nonnull(p);
    avro_free(p, 1000);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("avro_codec");
    TCase *tc = tcase_create("codec");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_round_trip_pa);
    tcase_add_test(tc, test_round_trip_pa_limits);
    tcase_add_test(tc, test_round_trip_large);
    tcase_add_test(tc, test_round_trip_claim);
    tcase_add_test(tc, test_value_reuse);
    tcase_add_test(tc, test_encode_rejects_bad_events);
    tcase_add_test(tc, test_encode_determination_pa);
    tcase_add_test(tc, test_encode_determination_claim);
    tcase_add_test(tc, test_encode_determination_direct_equals_generic);
    tcase_add_test(tc, test_encode_determination_v2_fields);
    tcase_add_test(tc, test_hand_written_valid);
    tcase_add_loop_test(tc, test_fault, 0, (int)(sizeof FAULTS / sizeof *FAULTS));
    tcase_add_test(tc, test_huge_length_message);
    tcase_add_test(tc, test_int_out_of_range);
    tcase_add_test(tc, test_framing);
    tcase_add_test(tc, test_custom_ids);
    tcase_add_test(tc, test_claim_v1_decodes_as_original);
    tcase_add_test(tc, test_round_trip_frequencies);
    tcase_add_test(tc, test_frequency_rejected);
    tcase_add_test(tc, test_both_claim_ids_at_once);
    tcase_add_test(tc, test_encode_v1_refuses_frequency);
    tcase_add_loop_test(tc, test_truncated_everywhere, 0, 3);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_bounded_allocator);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return support_run(suite());
}
