/* Error texts quote nothing of the message (issue 11): a dead letter's error and the log line
 * about it name the field and the problem, never a value, because the values are PHI. A length,
 * an index, a count or an offset read from the message is payload data too.
 *
 * Every rejection of the two decoders (Avro and JSON Lines) over a corpus of malformed input —
 * the fuzz corpora and regressions, every single-byte change and every truncation of valid
 * messages, and targeted cases (a body framed under the other kind's schema id, each field given
 * values of the wrong type or out of range) — is checked for:
 *  - no run of 3 or more digits, but a schema id (framing metadata an operator needs) and the
 *    contract's own constants (the 128-byte limit, the 0001-01-01..9999-12-31 range);
 *  - no 6 bytes in a row of the message's text (its strings; a JSON line's tokens), except
 *    where they are the schema's own words: field names, kinds and enum symbols, which a JSON
 *    line carries as keys and values and a message names. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"
#include "json_event.h"
#include "test_support.h"

#define PA_ID 1
#define CLAIM_ID 2
#define CLAIM_V1_ID 4 /* version 1 of the claim schema (contract §11) */
#define WINDOW 6      /* bytes of payload text that make a quote */

static avro_codec_t *codec;
static arena_t arena;
static buf_t enc;

static void setup(void)
{
    char err[256];
    avro_codec_ids_t ids = {PA_ID, CLAIM_ID, 3, CLAIM_V1_ID};
    codec = avro_codec_new(&ids, err, sizeof err);
    ck_assert_msg(codec != NULL, "codec: %s", err);
    memset(&arena, 0, sizeof arena);
}

static void teardown(void)
{
    avro_codec_free(codec);
    arena_free(&arena);
    buf_free(&enc);
}

/* ------------------------------------------------------------------ the check */

/* The schema's own words, which a message may name even when the payload holds them too. */
static const char *vocab[256];
static size_t n_vocab;

static void add_word(const char *w)
{
    if (!w) return;
    for (size_t i = 0; i < n_vocab; i++)
        if (strcmp(vocab[i], w) == 0) return;
    ck_assert_uint_lt(n_vocab, sizeof vocab / sizeof *vocab);
    vocab[n_vocab++] = w;
}

static void add_fields(const event_field_t *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        add_word(f[i].name);
        add_word(f[i].label);
        add_word(f[i].item_label);
        for (int s = 0; s < f[i].n_symbols; s++) add_word(f[i].symbols[s]);
        add_fields(f[i].item_fields, f[i].n_item_fields);
    }
}

static void build_vocab(void)
{
    if (n_vocab) return;
    add_word("kind");
    for (int k = EVENT_PRIOR_AUTH; k <= EVENT_CLAIM; k++) {
        size_t n;
        const event_field_t *f = event_fields((event_kind_t)k, &n);
        add_word(event_kind_name((event_kind_t)k));
        add_fields(f, n);
    }
}

/* The contract's constants a message may state; removed before digits are counted. */
static const char *const CONSTANTS[] = {"0001-01-01..9999-12-31", "128-byte"};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Bytes that end a token of payload text: JSON's punctuation and anything not printable. */
static bool is_break(unsigned char c, bool json)
{
    if (c < 0x20 || c > 0x7e) return true;
    return json && strchr("\"\\:,{}[]", c) != NULL;
}

/* True when the WINDOW bytes at p + i lie inside one of the schema's words in p. */
static bool in_vocab(const unsigned char *p, size_t len, size_t i)
{
    for (size_t v = 0; v < n_vocab; v++) {
        size_t vl = strlen(vocab[v]);
        if (vl < WINDOW) continue;
        size_t from = i + WINDOW > vl ? i + WINDOW - vl : 0;
        for (size_t at = from; at <= i && at + vl <= len; at++)
            if (memcmp(p + at, vocab[v], vl) == 0) return true;
    }
    return false;
}

static const char *find(const char *hay, size_t n, const unsigned char *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) return hay + i;
    return NULL;
}

/* Why err quotes the payload p (id: the schema id in its frame, or -1), in why; false when it
 * does not. */
static bool quotes_payload(const char *err, const unsigned char *p, size_t len, bool json, long id,
                           char *why, size_t whylen)
{
    build_vocab();
    size_t n = strlen(err);

    /* Digits: every run of 3 or more is a schema id. */
    char t[512];
    snprintf(t, sizeof t, "%s", err);
    for (size_t c = 0; c < sizeof CONSTANTS / sizeof *CONSTANTS; c++)
        for (char *at = strstr(t, CONSTANTS[c]); at; at = strstr(at, CONSTANTS[c]))
            memset(at, ' ', strlen(CONSTANTS[c]));
    for (size_t v = 0; v < n_vocab; v++) /* "braf_v600" */
        for (char *at = strstr(t, vocab[v]); at; at = strstr(at, vocab[v]))
            memset(at, ' ', strlen(vocab[v]));
    for (size_t i = 0; t[i];) {
        size_t j = i;
        while (is_digit(t[j])) j++;
        if (j - i >= 3) {
            char run[32];
            long v = strtol(i > 0 && t[i - 1] == '-' ? t + i - 1 : t + i, NULL, 10);
            snprintf(run, sizeof run, "%.*s", (int)(j - i), t + i);
            if (j - i > 10 || run[0] == '0' || (v != id && v != PA_ID && v != CLAIM_ID)) {
                snprintf(why, whylen, "it states the number %s", run);
                return true;
            }
        }
        i = j > i ? j : i + 1;
    }

    /* Text: no WINDOW bytes of a payload token, outside the schema's words. */
    bool named[512] = {false};
    for (size_t v = 0; v < n_vocab; v++) {
        size_t vl = strlen(vocab[v]);
        for (const char *at = strstr(err, vocab[v]); at; at = strstr(at + 1, vocab[v]))
            for (size_t k = 0; k < vl && (size_t)(at - err) + k < sizeof named; k++)
                named[(size_t)(at - err) + k] = true;
    }
    for (size_t i = 0; i + WINDOW <= len; i++) {
        size_t k = 0;
        while (k < WINDOW && !is_break(p[i + k], json)) k++;
        if (k < WINDOW) {
            i += k; /* the next window starts after the break */
            continue;
        }
        for (const char *at = err; (at = find(at, (size_t)(err + n - at), p + i, WINDOW)); at++) {
            size_t off = (size_t)(at - err), covered = 0;
            while (covered < WINDOW && off + covered < sizeof named && named[off + covered])
                covered++;
            /* a key or a symbol in the payload is the schema's word, not PHI */
            if (covered < WINDOW && !in_vocab(p, len, i)) {
                snprintf(why, whylen, "it quotes the payload's \"%.*s\"", WINDOW,
                         (const char *)p + i);
                return true;
            }
        }
    }
    return false;
}

static int n_checked;

static void check_text(const char *what, const char *err, const unsigned char *p, size_t len,
                       bool json, long id)
{
    char why[128];
    n_checked++;
    ck_assert_msg(err[0] != '\0', "%s: a rejection without a message", what);
    ck_assert_msg(!quotes_payload(err, p, len, json, id, why, sizeof why), "%s: message \"%s\": %s",
                  what, err, why);
}

/* Decodes an Avro message; checks the message when it is rejected. @returns the status. */
static decode_status_t avro_case(const char *what, const void *m, size_t len)
{
    char err[256] = "";
    event_t ev;
    arena_reset(&arena);
    decode_status_t st = avro_codec_decode_event(codec, m, len, &ev, &arena, err, sizeof err);
    const unsigned char *b = m;
    long id = len >= 5 && b[0] == 0 ? (long)(int32_t)((uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 |
                                                      (uint32_t)b[3] << 8 | b[4])
                                    : -1;
    if (st != DECODE_OK) check_text(what, err, m, len, false, id);
    return st;
}

/* Parses a JSON line (a copy: the parser works in place); checks the message on rejection. */
static int json_case(const char *what, const char *line, size_t len)
{
    char err[256] = "";
    event_t ev;
    char *copy = malloc(len + 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, line, len);
    int rc = json_event_parse(copy, len, &ev, err, sizeof err);
    if (rc != 0) check_text(what, err, (const unsigned char *)line, len, true, -1);
    free(copy);
    return rc;
}

/* ------------------------------------------------------------------ the fuzz corpora */

static void run_dir(const char *sub, bool json)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/%s", AMTAGVI_SOURCE_DIR, sub);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *data = support_read_file(path, &len);
        if (json)
            json_case(path, data, len);
        else
            avro_case(path, data, len);
        free(data);
        files++;
    }
    closedir(d);
    ck_assert_msg(files > 0, "%s is empty", dir);
}

START_TEST(test_fuzz_corpora)
{
    n_checked = 0;
    run_dir("corpus/fuzz_avro_decode", false);
    run_dir("regressions/fuzz_avro_decode", false);
    run_dir("corpus/fuzz_json_event", true);
    run_dir("regressions/fuzz_json_event", true);
    ck_assert_msg(n_checked >= 50, "only %d rejections in the corpora", n_checked);
}
END_TEST

/* ------------------------------------------------------------------ valid events, full of PHI */

static void phi_pa(event_t *ev)
{
    pa_base(ev, "EVENT-PHI-0001", "PAUTH-PHI-0002", "MEMBER-PHI-0003");
    static const char *const dx[] = {"C43.9", "Z85.820", "DXPHI-0004"};
    pa_set_dx(ev, 3, dx);
    pa_set_therapy(ev, 0, "DRUGPHI-0005", ymd(2020, 1, 15));
    pa_set_dose(ev, 33400000000LL);
    ev->pa.consulting_npi = "CONSULT-PHI-0006";
}

/* A REPLACEMENT, so that every field of the claim schema (version 2, contract §2 and §11) holds
 * a value: frequency_code is not its default and original_claim_id is PHI text too. */
static void phi_claim(event_t *ev)
{
    claim_base(ev, "EVENT-PHI-0011", "CLAIM-PHI-0012", 7, "MEMBER-PHI-0013", "AUTHID-PHI-0014");
    ev->claim.frequency_code = FREQUENCY_REPLACEMENT;
    ev->claim.original_claim_id = "ORIGCLAIM-PHI-0015";
}

static void encode(const event_t *ev)
{
    char err[256];
    buf_clear(&enc);
    ck_assert_msg(avro_codec_encode_event(codec, ev, &enc, err, sizeof err) == 0, "encode: %s",
                  err);
}

/* Every single-byte change of a valid message to each of these values, and every truncation. */
static const unsigned char BYTES[] = {0x00, 0x01, 0x02, 0x03, 0x05, 0x41, 0x7f, 0x80, 0xfe, 0xff};

static void mutate_avro(const char *what)
{
    size_t len = enc.len;
    unsigned char *m = malloc(len + 1);
    ck_assert_ptr_nonnull(m);
    char label[128];
    for (size_t i = 0; i < len; i++) {
        for (size_t v = 0; v < sizeof BYTES; v++) {
            memcpy(m, enc.data, len);
            m[i] = BYTES[v];
            snprintf(label, sizeof label, "%s, byte %zu = 0x%02x", what, i, BYTES[v]);
            avro_case(label, m, len);
        }
        snprintf(label, sizeof label, "%s, first %zu bytes", what, i);
        ck_assert_int_ne(avro_case(label, enc.data, i), DECODE_OK);
    }
    memcpy(m, enc.data, len);
    m[len] = 'Q';
    ck_assert_int_eq(avro_case("trailing byte", m, len + 1), DECODE_TRAILING_BYTES);
    free(m);
}

START_TEST(test_avro_mutations)
{
    event_t ev;
    phi_pa(&ev);
    encode(&ev);
    mutate_avro("prior_auth");
    phi_claim(&ev);
    encode(&ev);
    mutate_avro("claim");
}
END_TEST

/* The case: a claim under the PA schema id reads received_at as an enum index. */
START_TEST(test_avro_misframed)
{
    event_t ev;
    phi_claim(&ev);
    encode(&ev);
    enc.data[4] = PA_ID;
    ck_assert_int_ne(avro_case("claim body as prior_auth", enc.data, enc.len), DECODE_OK);
    phi_pa(&ev);
    encode(&ev);
    enc.data[4] = CLAIM_ID;
    ck_assert_int_ne(avro_case("prior_auth body as claim", enc.data, enc.len), DECODE_OK);
    /* a version 2 claim under the version 1 id: its two last fields are bytes left over */
    phi_claim(&ev);
    encode(&ev);
    enc.data[4] = CLAIM_V1_ID;
    ck_assert_int_ne(avro_case("claim v2 body as v1", enc.data, enc.len), DECODE_OK);
    /* a version 1 claim under the version 2 id: its last fields are missing */
    phi_claim(&ev);
    ev.claim.frequency_code = FREQUENCY_ORIGINAL;
    ev.claim.original_claim_id = NULL;
    buf_clear(&enc);
    char err[256];
    ck_assert_msg(avro_codec_encode_event_version(codec, &ev, 1, &enc, err, sizeof err) == 0,
                  "encode v1: %s", err);
    ck_assert_int_eq(enc.data[4], CLAIM_V1_ID);
    ck_assert_int_eq(avro_case("claim v1", enc.data, enc.len), DECODE_OK);
    mutate_avro("claim v1");
    enc.data[4] = CLAIM_ID;
    ck_assert_int_ne(avro_case("claim v1 body as v2", enc.data, enc.len), DECODE_OK);
    phi_pa(&ev);
    encode(&ev);
    enc.data[4] = 0xC7; /* an unknown id: stated, it is framing */
    ck_assert_int_eq(avro_case("unknown schema id", enc.data, enc.len), DECODE_UNKNOWN_SCHEMA);
}
END_TEST

/* Over-long strings and bad UTF-8 in PHI text decode to DECODE_INVALID without being quoted. */
START_TEST(test_avro_limits)
{
    char long_text[EVENT_MAX_STRING_BYTES + 40];
    for (size_t i = 0; i + 1 < sizeof long_text; i++) long_text[i] = (char)('A' + i % 26);
    long_text[sizeof long_text - 1] = '\0';
    event_t ev;
    phi_pa(&ev);
    ev.pa.member_id = long_text;
    encode(&ev);
    ck_assert_int_eq(avro_case("member_id over the limit", enc.data, enc.len), DECODE_INVALID);
    phi_claim(&ev);
    ev.claim.authorization_id = "AUTH\xC3\x28PHI-BAD-UTF8";
    encode(&ev);
    ck_assert_int_eq(avro_case("invalid UTF-8", enc.data, enc.len), DECODE_INVALID);
    /* the version 2 string, original_claim_id, follows the same rules */
    phi_claim(&ev);
    ev.claim.original_claim_id = long_text;
    encode(&ev);
    ck_assert_int_eq(avro_case("original_claim_id over the limit", enc.data, enc.len),
                     DECODE_INVALID);
    phi_claim(&ev);
    ev.claim.original_claim_id = "ORIG\xC3\x28PHI-BAD-UTF8";
    encode(&ev);
    ck_assert_int_eq(avro_case("original_claim_id invalid UTF-8", enc.data, enc.len),
                     DECODE_INVALID);
}
END_TEST

/* ------------------------------------------------------------------ JSON Lines */

static char *json_of(const event_t *ev)
{
    buf_t b = {0};
    ck_assert_int_eq(json_append_event(&b, ev), 0);
    return b.data;
}

static void mutate_json(const char *what, const char *line)
{
    static const char CHARS[] = "\"\\{}[],: x0-\x01\xff";
    size_t len = strlen(line);
    char *m = malloc(len + 1);
    ck_assert_ptr_nonnull(m);
    char label[128];
    for (size_t i = 0; i < len; i++) {
        for (size_t v = 0; v < sizeof CHARS - 1; v++) {
            memcpy(m, line, len + 1);
            m[i] = CHARS[v];
            snprintf(label, sizeof label, "%s, byte %zu = 0x%02x", what, i,
                     (unsigned char)CHARS[v]);
            json_case(label, m, len);
        }
        snprintf(label, sizeof label, "%s, first %zu bytes", what, i);
        ck_assert_int_ne(json_case(label, line, i), 0);
    }
    free(m);
}

START_TEST(test_json_mutations)
{
    event_t ev;
    phi_pa(&ev);
    char *pa = json_of(&ev);
    ck_assert_int_eq(json_case("valid prior_auth", pa, strlen(pa)), 0);
    mutate_json("prior_auth", pa);
    free(pa);
    phi_claim(&ev);
    char *claim = json_of(&ev);
    ck_assert_int_eq(json_case("valid claim", claim, strlen(claim)), 0);
    mutate_json("claim", claim);
    free(claim);
}
END_TEST

/* Wrong values for a field, each full of PHI-like text or digits. */
static json_t *bad_value(int k)
{
    switch (k) {
    case 0:
        return json_integer(1737066421000LL);
    case 1:
        return json_integer(-123456789);
    case 2:
        return json_real(1234.5678);
    case 3:
        return json_string("SECRET-VALUE-1737066421000");
    case 4:
        return json_string("2026-99-99");
    case 5:
        return json_string("2026-02-30T25:61:00Z");
    case 6:
        return json_true();
    case 7:
        return json_pack("[si]", "PHIPHI-ITEM-1", 123456);
    case 8:
        return json_pack("[{ss}]", "SECRETKEY-1", "SECRETVALUE-2");
    case 9:
        return json_pack("{ss}", "nested", "PHISECRET-3");
    case 10:
        return json_string("PHITEXT-ABCDEFGHIJKLMNOPQRSTUVWXYZ-ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ-ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    case 11:
        return json_stringn("NULPHI\0TEXT", 11);
    case 12:
        return json_pack("[{sisi}]", "drug", 424242, "start_date", 20260101);
    case 13:
        return json_pack("[{ssss}]", "drug", "DRUGPHI-0005", "start_date", "2026-13-45");
    case 14: {
        json_t *a = json_array();
        for (int i = 0; i <= EVENT_MAX_ARRAY_ITEMS; i++)
            json_array_append_new(a, json_string("DXPHI-0004"));
        return a;
    }
    default:
        return json_null();
    }
}
#define N_BAD_VALUES 16

static void field_cases(const event_t *ev)
{
    char *line = json_of(ev);
    json_error_t jerr;
    json_t *base = json_loads(line, 0, &jerr);
    ck_assert_msg(base != NULL, "%s", jerr.text);
    free(line);
    const char *key;
    json_t *value;
    json_object_foreach(base, key, value)
    {
        for (int k = 0; k < N_BAD_VALUES; k++) {
            json_t *o = json_deep_copy(base);
            json_object_set_new(o, key, bad_value(k));
            char *text = json_dumps(o, JSON_COMPACT);
            char label[128];
            snprintf(label, sizeof label, "%s = bad value %d", key, k);
            json_case(label, text, strlen(text));
            free(text);
            json_decref(o);
        }
    }
    json_decref(base);
}

START_TEST(test_json_fields)
{
    event_t ev;
    phi_pa(&ev);
    field_cases(&ev);
    phi_claim(&ev);
    field_cases(&ev);
    static const char *const LINES[] = {
        "{\"kind\": \"SECRETKIND-1737066421000\"}",
        "{\"kind\": 1737066421000}",
        "{\"kind\": \"claim\", \"member_id\": \"PHIMEMBER-1\", \"member_id\": \"PHIMEMBER-2\"}",
        "{\"kind\": \"claim\", \"event_id\": \"PHIEVENT\\q\"}",
        "{\"kind\": \"claim\", \"event_id\": \"PHIEVENT\\ud800\"}",
        "{\"kind\": \"claim\", \"event_id\": \"PHIEVENT-\xc3\x28-PHIEVENT\"}",
        "{\"kind\": \"claim\", \"event_id\": \"PHIEVENT-1\"} SECRET-TRAILER",
        "{\"kind\": \"claim\", \"frequency_code\": \"SECRETFREQ-1737066421000\"}",
        "{\"kind\": \"claim\", \"original_claim_id\": \"ORIG-\xc3\x28-PHIORIGINAL\"}",
        "SECRET-NOT-JSON-1737066421000",
        "{\"SECRETKEY-1737066421000\" 12}",
    };
    for (size_t i = 0; i < sizeof LINES / sizeof *LINES; i++)
        ck_assert_int_ne(json_case(LINES[i], LINES[i], strlen(LINES[i])), 0);
}
END_TEST

/* The checker itself: it catches the example and a quoted string, and lets a schema
 * id and the contract's limit through. */
START_TEST(test_checker)
{
    static const unsigned char payload[] = "\x1eMEMBER-PHI-0003\x02";
    const size_t n = sizeof payload - 1;
    char why[128];
    ck_assert(quotes_payload("prior_auth: urgency: enum index 1737066421000 at offset 62", payload,
                             n, false, -1, why, sizeof why));
    ck_assert(quotes_payload("claim: field member_id: MEMBER-PHI-0003 is bad", payload, n, false,
                             -1, why, sizeof why));
    ck_assert(quotes_payload("claim: string length 015", payload, n, false, -1, why, sizeof why));
    ck_assert(!quotes_payload("claim: field member_id is over the 128-byte limit", payload, n,
                              false, -1, why, sizeof why));
    ck_assert(!quotes_payload("schema id 199 is neither the prior_auth (1) nor the claim (2) "
                              "schema",
                              payload, n, false, 199, why, sizeof why));
    ck_assert(!quotes_payload("field member_id: bad", (const unsigned char *)"member_id", 9, true,
                              -1, why, sizeof why));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("error_text");
    TCase *tc = tcase_create("decoders");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fuzz_corpora);
    tcase_add_test(tc, test_avro_mutations);
    tcase_add_test(tc, test_avro_misframed);
    tcase_add_test(tc, test_avro_limits);
    tcase_add_test(tc, test_json_mutations);
    tcase_add_test(tc, test_json_fields);
    tcase_add_test(tc, test_checker);
    suite_add_tcase(s, tc);
    return support_run(s);
}
