/* The C side of the Avro interop test (tests/interop/avro_interop.py): lets the Python `avro`
 * library check that what avro-c writes and reads through the codec is standard Avro.
 *
 *   decode                 framed events on stdin -> one canonical JSON line per event
 *   encode-events [V]      JSON Lines events on stdin -> framed events on stdout; claims with
 *                          claim schema version V (1 or 2, default 2)
 *   encode-determinations POLICY EXPECTED
 *                          a fixed set of varied determinations -> framed on stdout, and the
 *                          values they were built from, as JSON Lines, in EXPECTED
 *
 * "Framed" means each message is preceded by its length as 4 bytes, big-endian. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"
#include "json_event.h"
#include "policy_file.h"

#define MAX_MESSAGE (16u << 20)

static int usage(void)
{
    fputs("usage: avro_interop_tool decode < framed\n"
          "       avro_interop_tool encode-events [1|2] < events.jsonl > framed\n"
          "       avro_interop_tool encode-determinations POLICY EXPECTED_JSONL > framed\n",
          stderr);
    return 2;
}

static int write_framed(const void *p, size_t n)
{
    unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};
    return fwrite(len, 1, 4, stdout) == 4 && fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

/* ------------------------------------------------------------------ decode */

static void put_key(buf_t *b, const char *key)
{
    buf_append_str(b, ", ");
    json_append_string(b, key);
    buf_append_str(b, ": ");
}

static void put_str(buf_t *b, const char *key, const char *s)
{
    put_key(b, key);
    if (s)
        json_append_string(b, s);
    else
        buf_append_str(b, "null");
}

static void put_i64(buf_t *b, const char *key, int64_t v)
{
    put_key(b, key);
    buf_printf(b, "%lld", (long long)v);
}

static void put_date_value(buf_t *b, date_t d)
{
    char tmp[16];
    if (d == DATE_NULL) {
        buf_append_str(b, "null");
        return;
    }
    date_format(d, tmp);
    json_append_string(b, tmp);
}

static void put_date(buf_t *b, const char *key, date_t d)
{
    put_key(b, key);
    put_date_value(b, d);
}

static void put_string_array(buf_t *b, const char *key, const char *const *items, uint32_t n)
{
    put_key(b, key);
    buf_append_char(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i) buf_append_str(b, ", ");
        json_append_string(b, items[i]);
    }
    buf_append_char(b, ']');
}

/* Every field of contract §2, nulls included; the timestamp as integer milliseconds so the
 * whole 64-bit range can be compared. */
static void event_json(buf_t *b, const event_t *ev)
{
    if (ev->kind == EVENT_PRIOR_AUTH) {
        const pa_event_t *p = &ev->pa;
        buf_append_str(b, "{\"kind\": \"prior_auth\"");
        put_str(b, "event_id", p->event_id);
        put_str(b, "pa_id", p->pa_id);
        put_i64(b, "received_at_ms", p->received_at_ms);
        put_str(b, "urgency", urgency_name(p->urgency));
        put_str(b, "member_id", p->member_id);
        put_date(b, "birth_date", p->birth_date);
        put_string_array(b, "diagnosis_codes", p->diagnosis_codes, p->n_diagnosis_codes);
        put_str(b, "disease_status", disease_status_name(p->disease_status));
        put_str(b, "braf_v600", braf_status_name(p->braf_v600));
        put_key(b, "prior_therapies");
        buf_append_char(b, '[');
        for (uint32_t i = 0; i < p->n_prior_therapies; i++) {
            buf_append_str(b, i ? ", {\"drug\": " : "{\"drug\": ");
            json_append_string(b, p->prior_therapies[i].drug);
            put_date(b, "start_date", p->prior_therapies[i].start_date);
            put_date(b, "end_date", p->prior_therapies[i].end_date);
            buf_append_char(b, '}');
        }
        buf_append_char(b, ']');
        put_str(b, "lymphodepletion", lymphodepletion_name(p->lymphodepletion));
        put_str(b, "prescriber_npi", p->prescriber_npi);
        put_str(b, "prescriber_taxonomy", p->prescriber_taxonomy);
        put_str(b, "consulting_npi", p->consulting_npi);
        put_str(b, "consulting_taxonomy", p->consulting_taxonomy);
        if (p->has_requested_dose_cells)
            put_i64(b, "requested_dose_cells", p->requested_dose_cells);
        else
            put_str(b, "requested_dose_cells", NULL);
    } else {
        const claim_event_t *c = &ev->claim;
        buf_append_str(b, "{\"kind\": \"claim\"");
        put_str(b, "event_id", c->event_id);
        put_str(b, "claim_id", c->claim_id);
        put_i64(b, "line_number", c->line_number);
        put_i64(b, "received_at_ms", c->received_at_ms);
        put_str(b, "member_id", c->member_id);
        put_date(b, "birth_date", c->birth_date);
        put_date(b, "service_date", c->service_date);
        put_str(b, "hcpcs_code", c->hcpcs_code);
        put_str(b, "ndc", c->ndc);
        put_i64(b, "units", c->units);
        if (c->has_dose_viable_cells)
            put_i64(b, "dose_viable_cells", c->dose_viable_cells);
        else
            put_str(b, "dose_viable_cells", NULL);
        put_string_array(b, "diagnosis_codes", c->diagnosis_codes, c->n_diagnosis_codes);
        put_str(b, "rendering_npi", c->rendering_npi);
        put_str(b, "authorization_id", c->authorization_id);
        put_i64(b, "billed_amount_cents", c->billed_amount_cents);
        put_str(b, "frequency_code", frequency_code_name(c->frequency_code));
        put_str(b, "original_claim_id", c->original_claim_id);
    }
    buf_append_str(b, "}\n");
}

static int cmd_decode(avro_codec_t *codec)
{
    unsigned char hdr[4];
    char *msg = NULL, err[256];
    buf_t out = {0};
    arena_t arena = {0};
    int rc = 0;
    while (fread(hdr, 1, 4, stdin) == 4) {
        uint32_t n =
            (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
        if (n > MAX_MESSAGE) {
            fprintf(stderr, "decode: record of %u bytes is too long\n", n);
            rc = 1;
            goto cleanup;
        }
        /* An exact-size copy, so a read past the message shows up under ASan/valgrind. */
        free(msg);
        msg = malloc(n ? n : 1);
        if (!msg || fread(msg, 1, n, stdin) != n) {
            fprintf(stderr, "decode: short record\n");
            rc = 1;
            goto cleanup;
        }
        event_t ev;
        decode_status_t st = avro_codec_decode_event(codec, msg, n, &ev, &arena, err, sizeof err);
        buf_clear(&out);
        if (st == DECODE_OK)
            event_json(&out, &ev);
        else
            buf_printf(&out, "{\"error\": \"%s\"}\n", decode_status_name(st));
        if (st != DECODE_OK && getenv("AVRO_INTEROP_VERBOSE")) fprintf(stderr, "%s\n", err);
        fwrite(out.data, 1, out.len, stdout);
        arena_reset(&arena);
    }
cleanup:
    free(msg);
    buf_free(&out);
    arena_free(&arena);
    return rc;
}

/* ------------------------------------------------------------------ encode-events */

static int cmd_encode_events(avro_codec_t *codec, int claim_version)
{
    char *line = NULL, err[256];
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    buf_t out = {0};
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) != -1) {
        lineno++;
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n') len--;
        event_t ev;
        if (json_event_parse(line, len, &ev, err, sizeof err) != 0) {
            fprintf(stderr, "line %ld: %s\n", lineno, err);
            rc = 1;
            break;
        }
        buf_clear(&out);
        if (avro_codec_encode_event_version(codec, &ev, claim_version, &out, err, sizeof err) !=
            0) {
            fprintf(stderr, "line %ld: %s\n", lineno, err);
            rc = 1;
            break;
        }
        if (write_framed(out.data, out.len) != 0) {
            rc = 1;
            break;
        }
    }
    free(line);
    buf_free(&out);
    return rc;
}

/* ------------------------------------------------------------------ encode-determinations */

typedef struct {
    determination_t d;
    determination_meta_t meta;
    bool has_meta;
} det_case_t;

static void set_all(determination_t *d, criterion_status_t s)
{
    for (int i = 0; i < criteria_count(d->kind); i++) d->criteria[i] = (uint8_t)s;
}

static void add_reason(determination_t *d, int criterion, reason_code_t code,
                       criterion_status_t status)
{
    d->criteria[criterion] = (uint8_t)status;
    d->reasons[d->n_reasons++] = (reason_t){(uint8_t)criterion, (uint8_t)code, (uint8_t)status};
}

static det_case_t base_case(event_kind_t kind, const char *event_id, const char *member_id)
{
    det_case_t c;
    memset(&c, 0, sizeof c);
    c.d.kind = kind;
    c.d.event_id = event_id;
    c.d.member_id = member_id;
    determination_id_for(event_id, c.d.determination_id);
    c.d.policy_version = date_from_ymd(2026, 5, 1);
    c.d.outcome = OUTCOME_APPROVED;
    set_all(&c.d, STATUS_MET);
    c.has_meta = true;
    c.meta = (determination_meta_t){1780358400123LL, "amtagvi.events.v1", 0, 0};
    return c;
}

/* Varied on purpose: every outcome, nulls where they apply, reasons with and without group,
 * CARC and RARC, extreme numbers, non-ASCII text, and one without worker meta. */
static size_t build_cases(det_case_t *cs)
{
    size_t n = 0;
    det_case_t c;

    c = base_case(EVENT_PRIOR_AUTH, "det-pa-approved", "MEM-1001");
    c.d.pa_id = "PA-1001";
    c.d.criteria[PA_1D] = STATUS_NOT_APPLICABLE;
    c.d.criteria[PA_DOSE] = STATUS_NOT_APPLICABLE;
    c.d.has_authorization = true;
    c.d.valid_from = date_from_ymd(2026, 6, 2);
    c.d.valid_until = date_from_ymd(2026, 12, 2);
    c.d.max_doses = 1;
    c.d.dose_min_cells = 7500000000LL;
    c.d.dose_max_cells = 72000000000LL;
    cs[n++] = c;

    c = base_case(EVENT_PRIOR_AUTH, "det-pa-denied", "MEM-1002");
    c.d.pa_id = "PA-1002";
    c.d.outcome = OUTCOME_DENIED;
    c.d.policy_version = date_from_ymd(2025, 5, 1);
    add_reason(&c.d, PA_1A, REASON_AGE_UNDER_18, STATUS_NOT_MET);
    add_reason(&c.d, PA_1C, REASON_NO_PRIOR_PD1_PDL1, STATUS_NOT_MET);
    add_reason(&c.d, PA_1G, REASON_PRESCRIBER_TAXONOMY_MISSING, STATUS_UNKNOWN);
    c.meta.partition = 7;
    c.meta.offset = 42;
    cs[n++] = c;

    c = base_case(EVENT_PRIOR_AUTH, "det-pa-no-policy", "MEM-1003");
    c.d.pa_id = "PA-1003";
    c.d.outcome = OUTCOME_PENDED;
    c.d.policy_version = DATE_NULL;
    set_all(&c.d, STATUS_NOT_APPLICABLE);
    add_reason(&c.d, PA_POLICY, REASON_NO_POLICY_IN_EFFECT, STATUS_UNKNOWN);
    cs[n++] = c;

    c = base_case(EVENT_CLAIM, "det-claim-approved", "MEM-1001");
    c.d.claim_id = "CLM-77001";
    c.d.line_number = 1;
    c.d.matched_pa_id = "PA-1001";
    c.meta.partition = 11;
    c.meta.offset = (int64_t)1 << 40;
    cs[n++] = c;

    c = base_case(EVENT_CLAIM, "det-claim-denied", "MEM-1004");
    c.d.claim_id = "CLM-77004";
    c.d.line_number = 3;
    c.d.outcome = OUTCOME_DENIED;
    add_reason(&c.d, CLAIM_HCPCS, REASON_HCPCS_NOT_COVERED, STATUS_NOT_MET);
    add_reason(&c.d, CLAIM_DIAGNOSIS, REASON_DX_MISSING, STATUS_NOT_MET);
    add_reason(&c.d, CLAIM_UNITS, REASON_UNITS_EXCEED_SINGLE_DOSE, STATUS_NOT_MET);
    add_reason(&c.d, CLAIM_DOSE, REASON_DOSE_NOT_REPORTED, STATUS_NOT_MET);
    add_reason(&c.d, CLAIM_AUTHORIZATION, REASON_AUTH_MISSING, STATUS_NOT_MET);
    add_reason(&c.d, CLAIM_SINGLE_DOSE, REASON_PRIOR_DOSE_PAID, STATUS_NOT_MET);
    cs[n++] = c;

    c = base_case(EVENT_CLAIM, "det-claim-pended", "Zo\xc3\xab \xe6\xb8\xa1\xe8\xbe\xba");
    c.d.claim_id = "CLM-\xf0\x9f\x98\x80";
    c.d.line_number = INT32_MAX;
    c.d.outcome = OUTCOME_PENDED;
    add_reason(&c.d, CLAIM_AUTHORIZATION, REASON_AUTH_PENDING, STATUS_UNKNOWN);
    c.meta.topic = "amtagvi.events.\xc3\xa9t\xc3\xa9";
    c.meta.partition = INT32_MAX;
    c.meta.offset = INT64_MAX;
    c.meta.decided_at_ms = 253402300799999LL; /* 9999-12-31T23:59:59.999Z */
    cs[n++] = c;

    c = base_case(EVENT_CLAIM, "det-claim-no-policy", "MEM-1005");
    c.d.claim_id = "CLM-77005";
    c.d.line_number = INT32_MIN;
    c.d.outcome = OUTCOME_PENDED;
    c.d.policy_version = DATE_NULL;
    set_all(&c.d, STATUS_NOT_APPLICABLE);
    add_reason(&c.d, CLAIM_POLICY, REASON_NO_POLICY_IN_EFFECT, STATUS_UNKNOWN);
    c.has_meta = false; /* evaluate: no worker meta */
    cs[n++] = c;

    c = base_case(EVENT_CLAIM, "det-claim-duplicate", "MEM-1001");
    c.d.claim_id = "CLM-77001";
    c.d.line_number = 0;
    c.d.outcome = OUTCOME_DENIED;
    set_all(&c.d, STATUS_NOT_APPLICABLE);
    c.d.criteria[CLAIM_POLICY] = STATUS_MET;
    add_reason(&c.d, CLAIM_DUPLICATE, REASON_DUPLICATE_CLAIM_LINE, STATUS_NOT_MET);
    c.d.policy_version = date_from_ymd(2024, 6, 15);
    c.meta.decided_at_ms = 0;
    c.meta.topic = "";
    c.meta.partition = -1;
    c.meta.offset = -1;
    cs[n++] = c;

    /* Version 2's fields (contract §11): an accepted VOID (APPROVED, nothing after ORIGINAL), a
     * REPLACEMENT that reversed a line, one whose original was not found. */
    c = base_case(EVENT_CLAIM, "det-claim-void", "MEM-1001");
    c.d.claim_id = "CLM-77001-V";
    c.d.line_number = 1;
    set_all(&c.d, STATUS_NOT_APPLICABLE);
    c.d.criteria[CLAIM_ORIGINAL] = STATUS_MET;
    c.d.frequency_code = FREQUENCY_VOID;
    c.d.original_claim_id = " CLM-77001 ";
    c.d.reversed_event_id = "det-claim-approved";
    cs[n++] = c;

    c = base_case(EVENT_CLAIM, "det-claim-replacement", "MEM-1001");
    c.d.claim_id = "CLM-77001-R";
    c.d.line_number = 2;
    c.d.matched_pa_id = "PA-1001";
    c.d.frequency_code = FREQUENCY_REPLACEMENT;
    c.d.original_claim_id = "CLM-77001";
    c.d.reversed_event_id = "ev-\xc3\xa9\xf0\x9f\x98\x80";
    cs[n++] = c;

    c = base_case(EVENT_CLAIM, "det-claim-original-not-found", "MEM-1007");
    c.d.claim_id = "CLM-77007";
    c.d.line_number = 1;
    c.d.outcome = OUTCOME_DENIED;
    set_all(&c.d, STATUS_NOT_APPLICABLE);
    add_reason(&c.d, CLAIM_ORIGINAL, REASON_ORIGINAL_NOT_FOUND, STATUS_NOT_MET);
    c.d.frequency_code = FREQUENCY_REPLACEMENT;
    c.d.original_claim_id = NULL;
    cs[n++] = c;

    c = base_case(EVENT_PRIOR_AUTH, "det-pa-pended", "MEM-1006");
    c.d.pa_id = "PA-1006";
    c.d.outcome = OUTCOME_PENDED;
    add_reason(&c.d, PA_INDICATION, REASON_DX_MISSING, STATUS_UNKNOWN);
    add_reason(&c.d, PA_1B, REASON_DISEASE_STATUS_UNKNOWN, STATUS_UNKNOWN);
    add_reason(&c.d, PA_1D, REASON_BRAF_STATUS_UNKNOWN, STATUS_UNKNOWN);
    add_reason(&c.d, PA_1E, REASON_LYMPHODEPLETION_UNKNOWN, STATUS_UNKNOWN);
    add_reason(&c.d, PA_1G, REASON_PRESCRIBER_NPI_INVALID, STATUS_UNKNOWN);
    c.meta.decided_at_ms = -62135596800000LL; /* 0001-01-01 */
    cs[n++] = c;
    return n;
}

static int cmd_encode_determinations(avro_codec_t *codec, const char *policy_path,
                                     const char *expected_path)
{
    char err[256];
    det_case_t cases[16];
    buf_t out = {0}, js = {0};
    int rc = 1;
    FILE *ef = NULL;
    policy_t *p = policy_load_file(policy_path, err, sizeof err);
    if (!p) {
        fprintf(stderr, "policy: %s\n", err);
        return 1;
    }
    if (!(ef = fopen(expected_path, "w"))) {
        perror(expected_path);
        goto cleanup;
    }
    size_t n = build_cases(cases);
    for (size_t i = 0; i < n; i++) {
        const det_case_t *c = &cases[i];
        buf_clear(&out);
        if (avro_codec_encode_determination(codec, &c->d, p, c->has_meta ? &c->meta : NULL, &out,
                                            err, sizeof err) != 0) {
            fprintf(stderr, "case %zu: %s\n", i, err);
            goto cleanup;
        }
        if (write_framed(out.data, out.len) != 0) goto cleanup;
        /* The evaluate JSON form (written by independent code) plus the worker's fields as the
         * codec documents them for a missing meta. */
        buf_clear(&js);
        buf_append_str(&js, "{\"determination\": ");
        if (json_append_determination(&js, &c->d, p) != 0) goto cleanup;
        buf_printf(&js, ", \"decided_at_ms\": %lld, \"topic\": ",
                   (long long)(c->has_meta ? c->meta.decided_at_ms : 0));
        json_append_string(&js, c->has_meta && c->meta.topic ? c->meta.topic : "");
        buf_printf(&js, ", \"partition\": %d, \"offset\": %lld}\n",
                   c->has_meta ? c->meta.partition : -1,
                   (long long)(c->has_meta ? c->meta.offset : -1));
        fwrite(js.data, 1, js.len, ef);
    }
    rc = 0;
cleanup:
    if (ef && fclose(ef) != 0) rc = 1;
    buf_free(&out);
    buf_free(&js);
    policy_free(p);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage();
    char err[256];
    avro_codec_t *codec = avro_codec_new(NULL, err, sizeof err);
    if (!codec) {
        fprintf(stderr, "codec: %s\n", err);
        return 1;
    }
    int rc;
    if (strcmp(argv[1], "decode") == 0 && argc == 2)
        rc = cmd_decode(codec);
    else if (strcmp(argv[1], "encode-events") == 0 && argc == 2)
        rc = cmd_encode_events(codec, 2);
    else if (strcmp(argv[1], "encode-events") == 0 && argc == 3 &&
             (strcmp(argv[2], "1") == 0 || strcmp(argv[2], "2") == 0))
        rc = cmd_encode_events(codec, argv[2][0] - '0');
    else if (strcmp(argv[1], "encode-determinations") == 0 && argc == 4)
        rc = cmd_encode_determinations(codec, argv[2], argv[3]);
    else
        rc = usage();
    avro_codec_free(codec);
    if (fflush(stdout) != 0) rc = 1;
    return rc;
}
