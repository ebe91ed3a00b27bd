/* JSON Lines events for `evaluate` and `produce`. A general JSON library would build a tree per
 * line and cost more than the judge itself; this reader walks the line once, records where
 * each known field's value lies, then converts those values by the event kind's field table
 * (event.h, the same table the Avro codec walks). */
#include "json_event.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errtext.h"

#define MAX_DEPTH 32

typedef struct {
    char *p; /* cursor */
    char *end;
    char *err;
    size_t errlen;
    const char *kind; /* for messages */
} parser_t;

/* Messages name the field and the problem, never the text of the line (values are PHI). */
static int perr(parser_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(parser_t *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errtext_vset_prefixed(ps->err, ps->errlen, ps->kind, fmt, ap);
    va_end(ap);
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

/* An array field and the record (event_t or array item) that holds it. */
typedef struct {
    const event_field_t *f;
    char *base;
} array_ctx_t;

static int convert(parser_t *ps, const event_field_t *f, char *base);

static int string_item(parser_t *ps, uint32_t i, void *ctx)
{
    const array_ctx_t *a = ctx;
    char *s;
    size_t n;
    if (is_null(ps)) return perr(ps, "field %s has a null item", a->f->name);
    if (parse_string_value(ps, &s, &n, a->f->item_label) != 0) return -1;
    ((const char **)(a->base + a->f->offset))[i] = s;
    return 0;
}

/* An object item: its fields in the order they come, unknown keys skipped. */
static int record_item(parser_t *ps, uint32_t i, void *ctx)
{
    const array_ctx_t *a = ctx;
    const event_field_t *fields = a->f->item_fields;
    const size_t n_fields = a->f->n_item_fields;
    const char *what = a->f->item_label;
    char *item = a->base + a->f->offset + i * a->f->item_size;
    bool seen[EVENT_MAX_FIELDS] = {false};
    if (ps->p >= ps->end || *ps->p != '{')
        return perr(ps, "field %s must hold objects", a->f->name);
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            skip_ws(ps);
            char *key;
            size_t klen;
            if (ps->p >= ps->end || *ps->p != '"') return perr(ps, "%s: object key expected", what);
            /* The first pass (skip_value) has validated every key, so this cannot fail. */
            if (parse_string(ps, &key, &klen, what) != 0) return -1;
            if (expect(ps, ':', what) != 0) return -1;
            skip_ws(ps);
            size_t k = 0;
            while (k < n_fields && strcmp(key, fields[k].name) != 0) k++;
            if (k == n_fields) {
                if (skip_value(ps, 2, what) != 0) return -1;
            } else {
                if (seen[k]) return perr(ps, "%s: field %s appears twice", what, fields[k].name);
                seen[k] = true;
                if (convert(ps, &fields[k], item) != 0) return -1;
            }
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (expect(ps, '}', what) != 0) return -1;
            break;
        }
    }
    for (size_t k = 0; k < n_fields; k++) {
        if (seen[k]) continue;
        if (!event_field_optional(&fields[k]))
            return perr(ps, "required field %s is missing", fields[k].label);
        event_field_set_null(&fields[k], item);
    }
    return 0;
}

/* Converts the value at the cursor into the field of the record (event_t or array item). */
static int convert(parser_t *ps, const event_field_t *f, char *base)
{
    const char *name = f->label;
    char *at = base + f->offset;
    if (is_null(ps)) {
        if (!event_field_optional(f)) return perr(ps, "required field %s is null", name);
        ps->p += 4;
        event_field_set_null(f, base);
        return 0;
    }
    char *s;
    size_t n;
    int64_t v;
    int sym;
    array_ctx_t items = {f, base};
    switch (f->type) {
    case EVENT_FIELD_STRING:
        if (parse_string_value(ps, &s, &n, name) != 0) return -1;
        *(const char **)at = s;
        return 0;
    case EVENT_FIELD_TIMESTAMP:
        if (parse_string_value(ps, &s, &n, name) != 0) return -1;
        if (timestamp_parse(s, n, (int64_t *)at) != 0)
            return perr(ps, "field %s is not a YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM) timestamp",
                        name);
        return 0;
    case EVENT_FIELD_DATE:
        return parse_date_value(ps, (date_t *)at, name);
    case EVENT_FIELD_INT:
        if (parse_int64(ps, INT32_MIN, INT32_MAX, &v, name, "a 32-bit integer") != 0) return -1;
        *(int32_t *)at = (int32_t)v;
        return 0;
    case EVENT_FIELD_LONG:
        if (parse_int64(ps, INT64_MIN, INT64_MAX, &v, name, "a 64-bit integer") != 0) return -1;
        *(int64_t *)at = v;
        if (f->nullable) *(bool *)(base + f->aux_offset) = true;
        return 0;
    case EVENT_FIELD_ENUM:
        if (parse_string_value(ps, &s, &n, name) != 0) return -1;
        if ((sym = event_field_symbol(f, s, n)) < 0)
            return perr(ps, "field %s has an unknown symbol", name);
        *(int *)at = sym;
        return 0;
    case EVENT_FIELD_STRING_ARRAY:
        return parse_array(ps, name, (uint32_t *)(base + f->aux_offset), string_item, &items);
    case EVENT_FIELD_RECORD_ARRAY:
        return parse_array(ps, name, (uint32_t *)(base + f->aux_offset), record_item, &items);
    }
    return -1;
}

/* Every top-level key either kind knows, built once from event.h's tables so that one scan of
 * a short list finds a key whatever the kind (which may come last); key_of maps each kind's
 * fields back to their keys. */
typedef struct {
    const char *name;
    size_t len;
} key_t_;

#define K_KIND 0 /* the "kind" key, in no table */
#define MAX_KEYS (1 + 2 * EVENT_MAX_FIELDS)
static key_t_ keys[MAX_KEYS];
static size_t n_keys;
static size_t key_of[2][EVENT_MAX_FIELDS]; /* [event_kind_t][field index] */
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;

static void build_keys(void)
{
    keys[n_keys++] = (key_t_){"kind", 4};
    for (int kind = 0; kind < 2; kind++) {
        size_t nf;
        const event_field_t *fields = event_fields((event_kind_t)kind, &nf);
        for (size_t i = 0; i < nf; i++) {
            size_t k = 0;
            while (k < n_keys && strcmp(keys[k].name, fields[i].name) != 0) k++;
            if (k == n_keys) keys[n_keys++] = (key_t_){fields[i].name, strlen(fields[i].name)};
            key_of[kind][i] = k;
        }
    }
}

static int key_index(const char *k, size_t n)
{
    for (size_t i = 0; i < n_keys; i++)
        if (keys[i].name[0] == k[0] && keys[i].len == n && memcmp(keys[i].name, k, n) == 0)
            return (int)i;
    return -1;
}

int json_event_parse(char *line, size_t len, event_t *out, char *err, size_t errlen)
{
    parser_t ps = {line, line + len, err, errlen, NULL};
    char *at[MAX_KEYS] = {0}; /* where each known key's value starts */
    pthread_once(&keys_once, build_keys);
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
                if (at[k]) return perr(&ps, "field %s appears twice", keys[k].name);
                at[k] = ps.p;
            }
            if (skip_value(&ps, 1, k >= 0 ? keys[k].name : "line is not valid JSON") != 0)
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
    memset(out, 0, sizeof *out);
    if (kn == 10 && memcmp(kind, "prior_auth", 10) == 0) {
        out->kind = EVENT_PRIOR_AUTH;
        out->pa.birth_date = DATE_NULL;
    } else if (kn == 5 && memcmp(kind, "claim", 5) == 0) {
        out->kind = EVENT_CLAIM;
    } else {
        return perr(&ps, "unknown kind (expected \"prior_auth\" or \"claim\")");
    }
    ps.kind = event_kind_name(out->kind);
    size_t nfields;
    const event_field_t *fields = event_fields(out->kind, &nfields);
    /* Report the first problem in contract field order, so the message is stable. */
    for (size_t i = 0; i < nfields; i++) {
        const event_field_t *f = &fields[i];
        char *value = at[key_of[out->kind][i]];
        if (!value) {
            if (!event_field_optional(f))
                return perr(&ps, "required field %s is missing", f->label);
            event_field_set_null(f, out);
            continue;
        }
        ps.p = value;
        if (convert(&ps, f, (char *)out) != 0) return -1;
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
    rc |= LIT(b, ", \"frequency_code\": ");
    rc |= append_nullable_string(b, d->kind == EVENT_CLAIM ? frequency_code_name(d->frequency_code)
                                                           : NULL);
    rc |= LIT(b, ", \"reversed_event_id\": ");
    rc |= append_nullable_string(b, d->reversed_event_id);
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

/* The fields of a record (event_t or array item) at base, each as `"name": value`, separated
 * by ", ". */
static int append_fields(buf_t *b, const event_field_t *fields, size_t n, const char *base)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const event_field_t *f = &fields[i];
        const char *at = base + f->offset;
        if (i) rc |= LIT(b, ", ");
        rc |= json_append_string(b, f->name);
        rc |= LIT(b, ": ");
        if (event_field_is_null(f, base)) {
            rc |= LIT(b, "null");
            continue;
        }
        uint32_t count = 0;
        if (f->type == EVENT_FIELD_STRING_ARRAY || f->type == EVENT_FIELD_RECORD_ARRAY)
            count = *(const uint32_t *)(base + f->aux_offset);
        switch (f->type) {
        case EVENT_FIELD_STRING:
            rc |= json_append_string(b, *(const char *const *)at);
            break;
        case EVENT_FIELD_TIMESTAMP:
            rc |= append_timestamp(b, *(const int64_t *)at);
            break;
        case EVENT_FIELD_DATE:
            rc |= append_date(b, *(const date_t *)at);
            break;
        case EVENT_FIELD_INT:
            rc |= append_i64(b, *(const int32_t *)at);
            break;
        case EVENT_FIELD_LONG:
            rc |= append_i64(b, *(const int64_t *)at);
            break;
        case EVENT_FIELD_ENUM:
            rc |= json_append_string(b, f->symbols[*(const int *)at]);
            break;
        case EVENT_FIELD_STRING_ARRAY:
            rc |= append_string_array(b, (const char *const *)at, count);
            break;
        case EVENT_FIELD_RECORD_ARRAY:
            rc |= LIT(b, "[");
            for (uint32_t k = 0; k < count; k++) {
                if (k) rc |= LIT(b, ", ");
                rc |= LIT(b, "{");
                rc |= append_fields(b, f->item_fields, f->n_item_fields, at + k * f->item_size);
                rc |= LIT(b, "}");
            }
            rc |= LIT(b, "]");
            break;
        }
    }
    return rc;
}

int json_append_event(buf_t *b, const event_t *ev)
{
    size_t n;
    const event_field_t *fields = event_fields(ev->kind, &n);
    int rc = LIT(b, "{\"kind\": ");
    rc |= json_append_string(
        b, event_kind_name(ev->kind == EVENT_PRIOR_AUTH ? EVENT_PRIOR_AUTH : EVENT_CLAIM));
    rc |= LIT(b, ", ");
    rc |= append_fields(b, fields, n, (const char *)ev);
    rc |= LIT(b, "}");
    return rc ? -1 : 0;
}
