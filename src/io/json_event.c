/* JSON Lines events for `evaluate` and `produce`. A general JSON library would build a tree per
 * line and cost more than the judge itself; this reader walks the line once, records where
 * each known field's value lies, then converts those values by the event kind's field table. */
#include "json_event.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32

typedef enum {
    F_STRING,
    F_TIMESTAMP,
    F_DATE,
    F_INT,
    F_LONG,
    F_ENUM_URGENCY,
    F_ENUM_DISEASE,
    F_ENUM_BRAF,
    F_ENUM_LYMPHO,
    F_STRING_ARRAY,
    F_THERAPY_ARRAY,
} ftype_t;

/* Every top-level key either kind knows. */
typedef enum {
    K_KIND,
    K_EVENT_ID,
    K_PA_ID,
    K_RECEIVED_AT,
    K_URGENCY,
    K_MEMBER_ID,
    K_BIRTH_DATE,
    K_DIAGNOSIS_CODES,
    K_DISEASE_STATUS,
    K_BRAF_V600,
    K_PRIOR_THERAPIES,
    K_LYMPHODEPLETION,
    K_PRESCRIBER_NPI,
    K_PRESCRIBER_TAXONOMY,
    K_CONSULTING_NPI,
    K_CONSULTING_TAXONOMY,
    K_REQUESTED_DOSE_CELLS,
    K_CLAIM_ID,
    K_LINE_NUMBER,
    K_SERVICE_DATE,
    K_HCPCS_CODE,
    K_NDC,
    K_UNITS,
    K_DOSE_VIABLE_CELLS,
    K_RENDERING_NPI,
    K_AUTHORIZATION_ID,
    K_BILLED_AMOUNT_CENTS,
    K_COUNT
} key_t_;

static const char *const KEY_NAMES[K_COUNT] = {"kind",
                                               "event_id",
                                               "pa_id",
                                               "received_at",
                                               "urgency",
                                               "member_id",
                                               "birth_date",
                                               "diagnosis_codes",
                                               "disease_status",
                                               "braf_v600",
                                               "prior_therapies",
                                               "lymphodepletion",
                                               "prescriber_npi",
                                               "prescriber_taxonomy",
                                               "consulting_npi",
                                               "consulting_taxonomy",
                                               "requested_dose_cells",
                                               "claim_id",
                                               "line_number",
                                               "service_date",
                                               "hcpcs_code",
                                               "ndc",
                                               "units",
                                               "dose_viable_cells",
                                               "rendering_npi",
                                               "authorization_id",
                                               "billed_amount_cents"};

typedef struct {
    key_t_ key;
    ftype_t type;
    bool nullable;
    size_t offset;     /* of the value in the event struct */
    size_t has_offset; /* of the bool that says a nullable number is present, or 0 */
} field_t;

#define PA(f) offsetof(event_t, pa.f)
#define CL(f) offsetof(event_t, claim.f)

static const field_t PA_FIELDS[] = {
    {K_EVENT_ID, F_STRING, false, PA(event_id), 0},
    {K_PA_ID, F_STRING, false, PA(pa_id), 0},
    {K_RECEIVED_AT, F_TIMESTAMP, false, PA(received_at_ms), 0},
    {K_URGENCY, F_ENUM_URGENCY, false, PA(urgency), 0},
    {K_MEMBER_ID, F_STRING, false, PA(member_id), 0},
    {K_BIRTH_DATE, F_DATE, false, PA(birth_date), 0},
    {K_DIAGNOSIS_CODES, F_STRING_ARRAY, false, PA(diagnosis_codes), PA(n_diagnosis_codes)},
    {K_DISEASE_STATUS, F_ENUM_DISEASE, false, PA(disease_status), 0},
    {K_BRAF_V600, F_ENUM_BRAF, false, PA(braf_v600), 0},
    {K_PRIOR_THERAPIES, F_THERAPY_ARRAY, false, PA(prior_therapies), PA(n_prior_therapies)},
    {K_LYMPHODEPLETION, F_ENUM_LYMPHO, false, PA(lymphodepletion), 0},
    {K_PRESCRIBER_NPI, F_STRING, false, PA(prescriber_npi), 0},
    {K_PRESCRIBER_TAXONOMY, F_STRING, true, PA(prescriber_taxonomy), 0},
    {K_CONSULTING_NPI, F_STRING, true, PA(consulting_npi), 0},
    {K_CONSULTING_TAXONOMY, F_STRING, true, PA(consulting_taxonomy), 0},
    {K_REQUESTED_DOSE_CELLS, F_LONG, true, PA(requested_dose_cells), PA(has_requested_dose_cells)},
};

static const field_t CLAIM_FIELDS[] = {
    {K_EVENT_ID, F_STRING, false, CL(event_id), 0},
    {K_CLAIM_ID, F_STRING, false, CL(claim_id), 0},
    {K_LINE_NUMBER, F_INT, false, CL(line_number), 0},
    {K_RECEIVED_AT, F_TIMESTAMP, false, CL(received_at_ms), 0},
    {K_MEMBER_ID, F_STRING, false, CL(member_id), 0},
    {K_BIRTH_DATE, F_DATE, false, CL(birth_date), 0},
    {K_SERVICE_DATE, F_DATE, false, CL(service_date), 0},
    {K_HCPCS_CODE, F_STRING, false, CL(hcpcs_code), 0},
    {K_NDC, F_STRING, true, CL(ndc), 0},
    {K_UNITS, F_INT, false, CL(units), 0},
    {K_DOSE_VIABLE_CELLS, F_LONG, true, CL(dose_viable_cells), CL(has_dose_viable_cells)},
    {K_DIAGNOSIS_CODES, F_STRING_ARRAY, false, CL(diagnosis_codes), CL(n_diagnosis_codes)},
    {K_RENDERING_NPI, F_STRING, false, CL(rendering_npi), 0},
    {K_AUTHORIZATION_ID, F_STRING, true, CL(authorization_id), 0},
    {K_BILLED_AMOUNT_CENTS, F_LONG, false, CL(billed_amount_cents), 0},
};

typedef struct {
    char *p; /* cursor */
    char *end;
    char *err;
    size_t errlen;
    const char *kind; /* for messages */
} parser_t;

static int perr(parser_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(parser_t *ps, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->kind)
        snprintf(ps->err, ps->errlen, "%s: %s", ps->kind, msg);
    else
        snprintf(ps->err, ps->errlen, "%s", msg);
    return -1;
}

static void skip_ws(parser_t *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_hex4(const char *s, const char *end, unsigned *out)
{
    if (end - s < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0) return -1;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

/* Parses the string at ps->p (which is at '"'), unescaping in place. On success *out points to
 * the NUL-terminated value (written over the input) and *outlen is its byte length. With
 * out == NULL the string is only validated and skipped. A \u escape that is a lone surrogate is
 * not valid UTF-8 (contract §2) and is rejected here. */
static int parse_string(parser_t *ps, char **out, size_t *outlen, const char *what)
{
    /* Skipping (out == NULL) must not write: the value may be parsed for real later. */
    char *s = ++ps->p, *w = s;
    char scratch[4];
    const bool write = out != NULL;
    for (;;) {
        if (ps->p >= ps->end) return perr(ps, "%s: unterminated string", what);
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') break;
        if (c < 0x20) return perr(ps, "%s: control character in string", what);
        if (c != '\\') {
            if (write) *w = (char)c;
            w++;
            ps->p++;
            continue;
        }
        if (ps->end - ps->p < 2) return perr(ps, "%s: unterminated string", what);
        char e = ps->p[1];
        ps->p += 2;
        char *w0 = w;
        w = scratch;
        switch (e) {
        case '"':
            *w++ = '"';
            break;
        case '\\':
            *w++ = '\\';
            break;
        case '/':
            *w++ = '/';
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u': {
            unsigned cp;
            if (read_hex4(ps->p, ps->end, &cp) != 0) return perr(ps, "%s: bad \\u escape", what);
            ps->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
                    read_hex4(ps->p + 2, ps->end, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return perr(ps, "%s is not valid UTF-8 (unpaired surrogate)", what);
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return perr(ps, "%s is not valid UTF-8 (unpaired surrogate)", what);
            } else if (cp == 0) {
                /* Values are C strings; a NUL would silently cut one short. The Avro codec
                 * rejects it too. */
                return perr(ps, "%s contains a NUL character", what);
            }
            /* The UTF-8 form (<= 4 bytes) is never longer than the escape it replaces (>= 6
             * bytes), so the in-place copy stays behind the read cursor. */
            if (cp < 0x80) {
                *w++ = (char)cp;
            } else if (cp < 0x800) {
                *w++ = (char)(0xC0 | cp >> 6);
                *w++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *w++ = (char)(0xE0 | cp >> 12);
                *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
                *w++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *w++ = (char)(0xF0 | cp >> 18);
                *w++ = (char)(0x80 | (cp >> 12 & 0x3F));
                *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
                *w++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            return perr(ps, "%s: bad escape in string", what);
        }
        size_t produced = (size_t)(w - scratch);
        if (write) memcpy(w0, scratch, produced);
        w = w0 + produced;
    }
    ps->p++; /* closing quote */
    if (out) {
        *w = '\0'; /* w <= the closing quote's position, which is already consumed */
        *out = s;
        *outlen = (size_t)(w - s);
    }
    return 0;
}

/* Validates a JSON number at ps->p; sets *is_integer when it has no fraction or exponent. */
static int scan_number(parser_t *ps, char **start, size_t *len, bool *is_integer, const char *what)
{
    char *s = ps->p, *p = s;
    *is_integer = true;
    if (p < ps->end && *p == '-') p++;
    if (p >= ps->end || *p < '0' || *p > '9') return perr(ps, "%s: invalid value", what);
    if (*p == '0')
        p++;
    else
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    if (p < ps->end && *p == '.') {
        *is_integer = false;
        p++;
        if (p >= ps->end || *p < '0' || *p > '9') return perr(ps, "%s: invalid number", what);
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        *is_integer = false;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) p++;
        if (p >= ps->end || *p < '0' || *p > '9') return perr(ps, "%s: invalid number", what);
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    *start = s;
    *len = (size_t)(p - s);
    ps->p = p;
    return 0;
}

static int literal(parser_t *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return -1;
    ps->p += n;
    return 0;
}

/* Skips any JSON value, validating it; depth-bounded so hostile nesting cannot recurse far. */
static int skip_value(parser_t *ps, int depth, const char *what)
{
    if (depth > MAX_DEPTH) return perr(ps, "%s: nesting deeper than %d", what, MAX_DEPTH);
    skip_ws(ps);
    if (ps->p >= ps->end) return perr(ps, "%s: value missing", what);
    char c = *ps->p;
    if (c == '"') return parse_string(ps, NULL, NULL, what);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        for (;;) {
            skip_ws(ps);
            if (c == '{') {
                if (ps->p >= ps->end || *ps->p != '"')
                    return perr(ps, "%s: object key expected", what);
                if (parse_string(ps, NULL, NULL, what) != 0) return -1;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') return perr(ps, "%s: ':' expected", what);
                ps->p++;
            }
            if (skip_value(ps, depth + 1, what) != 0) return -1;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                return 0;
            }
            return perr(ps, "%s: ',' or '%c' expected", what, close);
        }
    }
    if (c == 't') return literal(ps, "true", 4) ? perr(ps, "%s: invalid value", what) : 0;
    if (c == 'f') return literal(ps, "false", 5) ? perr(ps, "%s: invalid value", what) : 0;
    if (c == 'n') return literal(ps, "null", 4) ? perr(ps, "%s: invalid value", what) : 0;
    char *s;
    size_t n;
    bool integer;
    return scan_number(ps, &s, &n, &integer, what);
}

static bool is_null(parser_t *ps)
{
    return ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0;
}

static int parse_int64(parser_t *ps, int64_t min, int64_t max, int64_t *out, const char *what,
                       const char *type)
{
    char *s;
    size_t n;
    bool integer;
    if (ps->p >= ps->end || !(*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')))
        return perr(ps, "field %s must be %s", what, type);
    if (scan_number(ps, &s, &n, &integer, what) != 0) return -1;
    if (!integer) return perr(ps, "field %s must be %s, not a fraction or exponent", what, type);
    bool neg = s[0] == '-';
    uint64_t v = 0, limit = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
    for (size_t i = neg; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10) return perr(ps, "field %s is out of range for %s", what, type);
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static int parse_string_value(parser_t *ps, char **out, size_t *n, const char *what)
{
    if (ps->p >= ps->end || *ps->p != '"') return perr(ps, "field %s must be a string", what);
    return parse_string(ps, out, n, what);
}

static int parse_date_value(parser_t *ps, date_t *out, const char *what)
{
    char *s;
    size_t n;
    if (parse_string_value(ps, &s, &n, what) != 0) return -1;
    if (date_parse(s, n, out) != 0) return perr(ps, "field %s is not a real YYYY-MM-DD date", what);
    return 0;
}

static int expect(parser_t *ps, char c, const char *what)
{
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != c) return perr(ps, "%s: '%c' expected", what, c);
    ps->p++;
    return 0;
}

/* Iterates the items of an array value: calls item(ps, index, ctx) with the cursor on each. */
static int parse_array(parser_t *ps, const char *what, uint32_t *count,
                       int (*item)(parser_t *, uint32_t, void *), void *ctx)
{
    if (ps->p >= ps->end || *ps->p != '[') return perr(ps, "field %s must be an array", what);
    ps->p++;
    skip_ws(ps);
    *count = 0;
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return 0;
    }
    for (;;) {
        skip_ws(ps);
        if (*count >= EVENT_MAX_ARRAY_ITEMS)
            return perr(ps, "field %s has more than %d items", what, EVENT_MAX_ARRAY_ITEMS);
        if (item(ps, *count, ctx) != 0) return -1;
        (*count)++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            return 0;
        }
        return perr(ps, "field %s: ',' or ']' expected", what);
    }
}

static int string_item(parser_t *ps, uint32_t i, void *ctx)
{
    const char **items = ctx;
    char *s;
    size_t n;
    if (is_null(ps)) return perr(ps, "field diagnosis_codes has a null item");
    if (parse_string_value(ps, &s, &n, "diagnosis_codes[]") != 0) return -1;
    items[i] = s;
    return 0;
}

static int therapy_item(parser_t *ps, uint32_t i, void *ctx)
{
    prior_therapy_t *t = &((prior_therapy_t *)ctx)[i];
    t->drug = NULL;
    t->start_date = t->end_date = DATE_NULL;
    bool seen[3] = {false, false, false};
    if (ps->p >= ps->end || *ps->p != '{')
        return perr(ps, "field prior_therapies must hold objects");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            skip_ws(ps);
            char *key;
            size_t klen;
            if (ps->p >= ps->end || *ps->p != '"')
                return perr(ps, "prior_therapies[]: object key expected");
            if (parse_string(ps, &key, &klen, "prior_therapies[] key") != 0) return -1;
            if (expect(ps, ':', "prior_therapies[]") != 0) return -1;
            skip_ws(ps);
            int which = strcmp(key, "drug") == 0         ? 0
                        : strcmp(key, "start_date") == 0 ? 1
                        : strcmp(key, "end_date") == 0   ? 2
                                                         : -1;
            if (which < 0) {
                if (skip_value(ps, 2, "prior_therapies[]") != 0) return -1;
            } else {
                if (seen[which]) return perr(ps, "prior_therapies[]: field %s appears twice", key);
                seen[which] = true;
                if (which == 0) {
                    char *s;
                    size_t n;
                    if (is_null(ps))
                        return perr(ps, "required field prior_therapies[].drug is null");
                    if (parse_string_value(ps, &s, &n, "prior_therapies[].drug") != 0) return -1;
                    t->drug = s;
                } else if (is_null(ps)) {
                    ps->p += 4;
                } else if (parse_date_value(ps, which == 1 ? &t->start_date : &t->end_date,
                                            which == 1 ? "prior_therapies[].start_date"
                                                       : "prior_therapies[].end_date") != 0) {
                    return -1;
                }
            }
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (expect(ps, '}', "prior_therapies[]") != 0) return -1;
            break;
        }
    }
    if (!t->drug) return perr(ps, "required field prior_therapies[].drug is missing");
    return 0;
}

static int convert(parser_t *ps, const field_t *f, event_t *ev)
{
    const char *name = KEY_NAMES[f->key];
    char *base = (char *)ev;
    if (is_null(ps)) {
        if (!f->nullable) return perr(ps, "required field %s is null", name);
        ps->p += 4;
        if (f->type == F_STRING) *(const char **)(base + f->offset) = NULL;
        if (f->has_offset) *(bool *)(base + f->has_offset) = false;
        return 0;
    }
    char *s;
    size_t n;
    int64_t v;
    int sym;
    switch (f->type) {
    case F_STRING:
        if (parse_string_value(ps, &s, &n, name) != 0) return -1;
        *(const char **)(base + f->offset) = s;
        return 0;
    case F_TIMESTAMP:
        if (parse_string_value(ps, &s, &n, name) != 0) return -1;
        if (timestamp_parse(s, n, (int64_t *)(base + f->offset)) != 0)
            return perr(ps, "field %s is not a YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM) timestamp",
                        name);
        return 0;
    case F_DATE:
        return parse_date_value(ps, (date_t *)(base + f->offset), name);
    case F_INT:
        if (parse_int64(ps, INT32_MIN, INT32_MAX, &v, name, "a 32-bit integer") != 0) return -1;
        *(int32_t *)(base + f->offset) = (int32_t)v;
        return 0;
    case F_LONG:
        if (parse_int64(ps, INT64_MIN, INT64_MAX, &v, name, "a 64-bit integer") != 0) return -1;
        *(int64_t *)(base + f->offset) = v;
        if (f->has_offset) *(bool *)(base + f->has_offset) = true;
        return 0;
    case F_ENUM_URGENCY:
    case F_ENUM_DISEASE:
    case F_ENUM_BRAF:
    case F_ENUM_LYMPHO: {
        if (parse_string_value(ps, &s, &n, name) != 0) return -1;
        int rc = f->type == F_ENUM_URGENCY   ? urgency_from_name(s, n, &sym)
                 : f->type == F_ENUM_DISEASE ? disease_status_from_name(s, n, &sym)
                 : f->type == F_ENUM_BRAF    ? braf_status_from_name(s, n, &sym)
                                             : lymphodepletion_from_name(s, n, &sym);
        if (rc != 0) return perr(ps, "field %s has an unknown symbol", name);
        *(int *)(base + f->offset) = sym;
        return 0;
    }
    case F_STRING_ARRAY:
        return parse_array(ps, name, (uint32_t *)(base + f->has_offset), string_item,
                           base + f->offset);
    case F_THERAPY_ARRAY:
        return parse_array(ps, name, (uint32_t *)(base + f->has_offset), therapy_item,
                           base + f->offset);
    }
    return -1;
}

static int key_index(const char *k, size_t n)
{
    for (int i = 0; i < K_COUNT; i++)
        if (KEY_NAMES[i][0] == k[0] && strlen(KEY_NAMES[i]) == n && memcmp(KEY_NAMES[i], k, n) == 0)
            return i;
    return -1;
}

int json_event_parse(char *line, size_t len, event_t *out, char *err, size_t errlen)
{
    parser_t ps = {line, line + len, err, errlen, NULL};
    char *at[K_COUNT] = {0}; /* where each known key's value starts */
    skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p != '{') return perr(&ps, "line is not a JSON object");
    ps.p++;
    skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '}') {
        ps.p++;
    } else {
        for (;;) {
            skip_ws(&ps);
            char *key;
            size_t klen;
            if (ps.p >= ps.end || *ps.p != '"')
                return perr(&ps, "line is not valid JSON: key expected");
            if (parse_string(&ps, &key, &klen, "key") != 0) return -1;
            if (expect(&ps, ':', "line is not valid JSON") != 0) return -1;
            skip_ws(&ps);
            int k = klen ? key_index(key, klen) : -1;
            if (k >= 0) {
                if (at[k]) return perr(&ps, "field %s appears twice", KEY_NAMES[k]);
                at[k] = ps.p;
            }
            if (skip_value(&ps, 1, k >= 0 ? KEY_NAMES[k] : "line is not valid JSON") != 0)
                return -1;
            skip_ws(&ps);
            if (ps.p < ps.end && *ps.p == ',') {
                ps.p++;
                continue;
            }
            if (expect(&ps, '}', "line is not valid JSON") != 0) return -1;
            break;
        }
    }
    skip_ws(&ps);
    if (ps.p != ps.end) return perr(&ps, "line is not valid JSON: text after the object");

    if (!at[K_KIND]) return perr(&ps, "field kind is missing");
    ps.p = at[K_KIND];
    char *kind;
    size_t kn;
    if (*ps.p != '"') return perr(&ps, "field kind must be \"prior_auth\" or \"claim\"");
    if (parse_string(&ps, &kind, &kn, "kind") != 0) return -1;
    const field_t *fields;
    size_t nfields;
    memset(out, 0, sizeof *out);
    if (kn == 10 && memcmp(kind, "prior_auth", 10) == 0) {
        out->kind = EVENT_PRIOR_AUTH;
        fields = PA_FIELDS;
        nfields = sizeof PA_FIELDS / sizeof *PA_FIELDS;
        ps.kind = "prior_auth";
        out->pa.birth_date = DATE_NULL;
    } else if (kn == 5 && memcmp(kind, "claim", 5) == 0) {
        out->kind = EVENT_CLAIM;
        fields = CLAIM_FIELDS;
        nfields = sizeof CLAIM_FIELDS / sizeof *CLAIM_FIELDS;
        ps.kind = "claim";
    } else {
        return perr(&ps, "unknown kind (expected \"prior_auth\" or \"claim\")");
    }
    /* Report the first problem in contract field order, so the message is stable. */
    for (size_t i = 0; i < nfields; i++) {
        const field_t *f = &fields[i];
        if (!at[f->key]) {
            if (!f->nullable) return perr(&ps, "required field %s is missing", KEY_NAMES[f->key]);
            if (f->type == F_STRING) *(const char **)((char *)out + f->offset) = NULL;
            continue;
        }
        ps.p = at[f->key];
        if (convert(&ps, f, out) != 0) return -1;
    }
    char inner[200];
    if (event_check_strings(out, inner, sizeof inner) != 0) return perr(&ps, "%s", inner);
    return 0;
}

/* ------------------------------------------------------------------ writers */

int json_append_string(buf_t *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s);
    if (buf_reserve(out, n * 6 + 3) != 0) return -1;
    char *w = out->data + out->len;
    *w++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            *w++ = '\\';
            *w++ = (char)c;
        } else if (c < 0x20) {
            *w++ = '\\';
            switch (c) {
            case '\n':
                *w++ = 'n';
                break;
            case '\r':
                *w++ = 'r';
                break;
            case '\t':
                *w++ = 't';
                break;
            case '\b':
                *w++ = 'b';
                break;
            case '\f':
                *w++ = 'f';
                break;
            default:
                *w++ = 'u';
                *w++ = '0';
                *w++ = '0';
                *w++ = hex[c >> 4];
                *w++ = hex[c & 15];
            }
        } else {
            *w++ = (char)c;
        }
    }
    *w++ = '"';
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return 0;
}

static int append_lit(buf_t *b, const char *s, size_t n)
{
    return buf_append(b, s, n);
}
#define LIT(b, s) append_lit((b), (s), sizeof(s) - 1)

static int append_nullable_string(buf_t *b, const char *s)
{
    return s ? json_append_string(b, s) : LIT(b, "null");
}

static int append_i64(buf_t *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    return buf_append(b, tmp, (size_t)n);
}

static int append_date(buf_t *b, date_t d)
{
    if (d == DATE_NULL) return LIT(b, "null");
    char tmp[16];
    tmp[0] = '"';
    int n = date_format(d, tmp + 1);
    tmp[n + 1] = '"';
    return buf_append(b, tmp, (size_t)n + 2);
}

static int append_code(buf_t *b, const char *code)
{
    return code[0] ? json_append_string(b, code) : LIT(b, "null");
}

int json_append_determination(buf_t *b, const determination_t *d, const policy_t *p)
{
    int rc = 0;
    rc |= LIT(b, "{\"determination_id\": ");
    rc |= json_append_string(b, d->determination_id);
    rc |= LIT(b, ", \"event_id\": ");
    rc |= json_append_string(b, d->event_id);
    rc |= LIT(b, ", \"kind\": ");
    rc |= json_append_string(b, event_kind_name(d->kind));
    rc |= LIT(b, ", \"member_id\": ");
    rc |= json_append_string(b, d->member_id);
    rc |= LIT(b, ", \"pa_id\": ");
    rc |= append_nullable_string(b, d->kind == EVENT_PRIOR_AUTH ? d->pa_id : NULL);
    rc |= LIT(b, ", \"claim_id\": ");
    rc |= append_nullable_string(b, d->kind == EVENT_CLAIM ? d->claim_id : NULL);
    rc |= LIT(b, ", \"line_number\": ");
    rc |= d->kind == EVENT_CLAIM ? append_i64(b, d->line_number) : LIT(b, "null");
    rc |= LIT(b, ", \"policy_id\": ");
    rc |= json_append_string(b, p->policy_id);
    rc |= LIT(b, ", \"policy_version\": ");
    rc |= append_date(b, d->policy_version);
    rc |= LIT(b, ", \"x12_action\": ");
    rc |= append_nullable_string(b, x12_action_of(d));
    rc |= LIT(b, ", \"authorization\": ");
    if (d->has_authorization) {
        rc |= LIT(b, "{\"auth_id\": ");
        rc |= json_append_string(b, d->pa_id);
        rc |= LIT(b, ", \"valid_from\": ");
        rc |= append_date(b, d->valid_from);
        rc |= LIT(b, ", \"valid_until\": ");
        rc |= append_date(b, d->valid_until);
        rc |= LIT(b, ", \"max_doses\": ");
        rc |= append_i64(b, d->max_doses);
        rc |= LIT(b, ", \"dose_min_cells\": ");
        rc |= append_i64(b, d->dose_min_cells);
        rc |= LIT(b, ", \"dose_max_cells\": ");
        rc |= append_i64(b, d->dose_max_cells);
        rc |= LIT(b, "}");
    } else {
        rc |= LIT(b, "null");
    }
    rc |= LIT(b, ", \"matched_pa_id\": ");
    rc |= append_nullable_string(b, d->matched_pa_id);
    rc |= LIT(b, ", \"outcome\": ");
    rc |= json_append_string(b, outcome_name(d->outcome));
    rc |= LIT(b, ", \"criteria\": {");
    for (int c = 0; c < criteria_count(d->kind); c++) {
        if (c) rc |= LIT(b, ", ");
        rc |= json_append_string(b, criterion_name(d->kind, c));
        rc |= LIT(b, ": ");
        rc |= json_append_string(b, criterion_status_name(d->criteria[c]));
    }
    rc |= LIT(b, "}, \"reasons\": [");
    for (int i = 0; i < d->n_reasons; i++) {
        const reason_t *r = &d->reasons[i];
        const reason_info_t *info = policy_reason(p, d->kind, r->code);
        if (i) rc |= LIT(b, ", ");
        rc |= LIT(b, "{\"criterion\": ");
        rc |= json_append_string(b, criterion_name(d->kind, r->criterion));
        rc |= LIT(b, ", \"code\": ");
        rc |= json_append_string(b, reason_code_name(r->code));
        rc |= LIT(b, ", \"status\": ");
        rc |= json_append_string(b, criterion_status_name(r->status));
        rc |= LIT(b, ", \"group\": ");
        rc |= append_code(b, info->group);
        rc |= LIT(b, ", \"carc\": ");
        rc |= append_code(b, info->carc);
        rc |= LIT(b, ", \"rarc\": ");
        rc |= append_code(b, info->rarc);
        rc |= LIT(b, ", \"message\": ");
        rc |= append_nullable_string(b, info->message);
        rc |= LIT(b, "}");
    }
    rc |= LIT(b, "]}");
    return rc ? -1 : 0;
}

static int append_timestamp(buf_t *b, int64_t ms)
{
    char tmp[32];
    timestamp_format(ms, tmp);
    return json_append_string(b, tmp);
}

static int append_string_array(buf_t *b, const char *const *items, uint32_t n)
{
    int rc = LIT(b, "[");
    for (uint32_t i = 0; i < n; i++) {
        if (i) rc |= LIT(b, ", ");
        rc |= json_append_string(b, items[i]);
    }
    return rc | LIT(b, "]");
}

int json_append_event(buf_t *b, const event_t *ev)
{
    int rc = 0;
    if (ev->kind == EVENT_PRIOR_AUTH) {
        const pa_event_t *p = &ev->pa;
        rc |= LIT(b, "{\"kind\": \"prior_auth\", \"event_id\": ");
        rc |= json_append_string(b, p->event_id);
        rc |= LIT(b, ", \"pa_id\": ");
        rc |= json_append_string(b, p->pa_id);
        rc |= LIT(b, ", \"received_at\": ");
        rc |= append_timestamp(b, p->received_at_ms);
        rc |= LIT(b, ", \"urgency\": ");
        rc |= json_append_string(b, urgency_name(p->urgency));
        rc |= LIT(b, ", \"member_id\": ");
        rc |= json_append_string(b, p->member_id);
        rc |= LIT(b, ", \"birth_date\": ");
        rc |= append_date(b, p->birth_date);
        rc |= LIT(b, ", \"diagnosis_codes\": ");
        rc |= append_string_array(b, p->diagnosis_codes, p->n_diagnosis_codes);
        rc |= LIT(b, ", \"disease_status\": ");
        rc |= json_append_string(b, disease_status_name(p->disease_status));
        rc |= LIT(b, ", \"braf_v600\": ");
        rc |= json_append_string(b, braf_status_name(p->braf_v600));
        rc |= LIT(b, ", \"prior_therapies\": [");
        for (uint32_t i = 0; i < p->n_prior_therapies; i++) {
            if (i) rc |= LIT(b, ", ");
            rc |= LIT(b, "{\"drug\": ");
            rc |= json_append_string(b, p->prior_therapies[i].drug);
            rc |= LIT(b, ", \"start_date\": ");
            rc |= append_date(b, p->prior_therapies[i].start_date);
            rc |= LIT(b, ", \"end_date\": ");
            rc |= append_date(b, p->prior_therapies[i].end_date);
            rc |= LIT(b, "}");
        }
        rc |= LIT(b, "], \"lymphodepletion\": ");
        rc |= json_append_string(b, lymphodepletion_name(p->lymphodepletion));
        rc |= LIT(b, ", \"prescriber_npi\": ");
        rc |= json_append_string(b, p->prescriber_npi);
        rc |= LIT(b, ", \"prescriber_taxonomy\": ");
        rc |= append_nullable_string(b, p->prescriber_taxonomy);
        rc |= LIT(b, ", \"consulting_npi\": ");
        rc |= append_nullable_string(b, p->consulting_npi);
        rc |= LIT(b, ", \"consulting_taxonomy\": ");
        rc |= append_nullable_string(b, p->consulting_taxonomy);
        rc |= LIT(b, ", \"requested_dose_cells\": ");
        rc |= p->has_requested_dose_cells ? append_i64(b, p->requested_dose_cells) : LIT(b, "null");
        rc |= LIT(b, "}");
    } else {
        const claim_event_t *c = &ev->claim;
        rc |= LIT(b, "{\"kind\": \"claim\", \"event_id\": ");
        rc |= json_append_string(b, c->event_id);
        rc |= LIT(b, ", \"claim_id\": ");
        rc |= json_append_string(b, c->claim_id);
        rc |= LIT(b, ", \"line_number\": ");
        rc |= append_i64(b, c->line_number);
        rc |= LIT(b, ", \"received_at\": ");
        rc |= append_timestamp(b, c->received_at_ms);
        rc |= LIT(b, ", \"member_id\": ");
        rc |= json_append_string(b, c->member_id);
        rc |= LIT(b, ", \"birth_date\": ");
        rc |= append_date(b, c->birth_date);
        rc |= LIT(b, ", \"service_date\": ");
        rc |= append_date(b, c->service_date);
        rc |= LIT(b, ", \"hcpcs_code\": ");
        rc |= json_append_string(b, c->hcpcs_code);
        rc |= LIT(b, ", \"ndc\": ");
        rc |= append_nullable_string(b, c->ndc);
        rc |= LIT(b, ", \"units\": ");
        rc |= append_i64(b, c->units);
        rc |= LIT(b, ", \"dose_viable_cells\": ");
        rc |= c->has_dose_viable_cells ? append_i64(b, c->dose_viable_cells) : LIT(b, "null");
        rc |= LIT(b, ", \"diagnosis_codes\": ");
        rc |= append_string_array(b, c->diagnosis_codes, c->n_diagnosis_codes);
        rc |= LIT(b, ", \"rendering_npi\": ");
        rc |= json_append_string(b, c->rendering_npi);
        rc |= LIT(b, ", \"authorization_id\": ");
        rc |= append_nullable_string(b, c->authorization_id);
        rc |= LIT(b, ", \"billed_amount_cents\": ");
        rc |= append_i64(b, c->billed_amount_cents);
        rc |= LIT(b, "}");
    }
    return rc ? -1 : 0;
}
