#include "determination.h"

#include <string.h>

static const char *const STATUS[] = {"MET", "NOT_MET", "UNKNOWN", "NOT_APPLICABLE"};
static const char *const OUTCOME[] = {"APPROVED", "DENIED", "PENDED"};
static const char *const PA_CRITERIA[PA_CRITERIA_COUNT] = {
    "POLICY", "INDICATION", "1.A", "1.B", "1.C", "1.D", "1.E", "1.F", "1.G", "DOSE"};
static const char *const CLAIM_CRITERIA[CLAIM_CRITERIA_COUNT] = {
    "ORIGINAL", "POLICY", "DUPLICATE",     "HCPCS",      "DIAGNOSIS",
    "UNITS",    "DOSE",   "AUTHORIZATION", "SINGLE_DOSE"};

#define REASON_NAME_ITEM(name) #name,
static const char *const REASON_NAMES[REASON_COUNT] = {REASON_CODES(REASON_NAME_ITEM)};
#undef REASON_NAME_ITEM

const char *criterion_status_name(criterion_status_t s)
{
    return STATUS[s];
}

const char *outcome_name(outcome_t o)
{
    return OUTCOME[o];
}

const char *x12_action_of(const determination_t *d)
{
    if (d->kind != EVENT_PRIOR_AUTH) return NULL;
    /* X12 278 action codes: A1 certified in total, A3 not certified, A4 pended. */
    switch (d->outcome) {
    case OUTCOME_APPROVED:
        return "A1";
    case OUTCOME_DENIED:
        return "A3";
    default:
        return "A4";
    }
}

int criteria_count(event_kind_t kind)
{
    return kind == EVENT_CLAIM ? CLAIM_CRITERIA_COUNT : PA_CRITERIA_COUNT;
}

const char *criterion_name(event_kind_t kind, int criterion)
{
    if (criterion < 0 || criterion >= criteria_count(kind)) return NULL;
    return kind == EVENT_CLAIM ? CLAIM_CRITERIA[criterion] : PA_CRITERIA[criterion];
}

const char *reason_code_name(reason_code_t code)
{
    return (unsigned)code < REASON_COUNT ? REASON_NAMES[code] : NULL;
}

int reason_code_from_name(const char *s, reason_code_t *out)
{
    for (int i = 0; i < REASON_COUNT; i++) {
        if (strcmp(REASON_NAMES[i], s) == 0) {
            *out = (reason_code_t)i;
            return 0;
        }
    }
    return -1;
}

/* Which reasons each kind gives, under which criterion, in the contract's order. */
static const kind_reason_t PA_REASONS[] = {
    {REASON_NO_POLICY_IN_EFFECT, PA_POLICY},
    {REASON_DX_NOT_COVERED, PA_INDICATION},
    {REASON_DX_MISSING, PA_INDICATION},
    {REASON_AGE_UNDER_18, PA_1A},
    {REASON_BIRTH_DATE_INVALID, PA_1A},
    {REASON_DISEASE_RESECTABLE, PA_1B},
    {REASON_DISEASE_STATUS_UNKNOWN, PA_1B},
    {REASON_NO_PRIOR_PD1_PDL1, PA_1C},
    {REASON_NO_PRIOR_BRAF_INHIBITOR, PA_1D},
    {REASON_BRAF_STATUS_UNKNOWN, PA_1D},
    {REASON_LYMPHODEPLETION_NOT_PLANNED, PA_1E},
    {REASON_LYMPHODEPLETION_UNKNOWN, PA_1E},
    {REASON_PRIOR_AMTAGVI, PA_1F},
    {REASON_PRESCRIBER_NOT_ONCOLOGIST, PA_1G},
    {REASON_PRESCRIBER_NPI_INVALID, PA_1G},
    {REASON_PRESCRIBER_TAXONOMY_MISSING, PA_1G},
    {REASON_DOSE_OUT_OF_RANGE, PA_DOSE},
};

static const kind_reason_t CLAIM_REASONS[] = {
    {REASON_ORIGINAL_NOT_FOUND, CLAIM_ORIGINAL},
    {REASON_NO_POLICY_IN_EFFECT, CLAIM_POLICY},
    {REASON_DUPLICATE_CLAIM_LINE, CLAIM_DUPLICATE},
    {REASON_HCPCS_NOT_COVERED, CLAIM_HCPCS},
    {REASON_DX_MISSING, CLAIM_DIAGNOSIS},
    {REASON_DX_NOT_COVERED, CLAIM_DIAGNOSIS},
    {REASON_UNITS_INVALID, CLAIM_UNITS},
    {REASON_UNITS_EXCEED_SINGLE_DOSE, CLAIM_UNITS},
    {REASON_DOSE_NOT_REPORTED, CLAIM_DOSE},
    {REASON_DOSE_OUT_OF_RANGE, CLAIM_DOSE},
    {REASON_AUTH_NOT_FOUND, CLAIM_AUTHORIZATION},
    {REASON_AUTH_PENDING, CLAIM_AUTHORIZATION},
    {REASON_AUTH_EXPIRED, CLAIM_AUTHORIZATION},
    {REASON_AUTH_NOT_VALID_ON_SERVICE_DATE, CLAIM_AUTHORIZATION},
    {REASON_AUTH_DENIED, CLAIM_AUTHORIZATION},
    {REASON_AUTH_MISSING, CLAIM_AUTHORIZATION},
    {REASON_PRIOR_DOSE_PAID, CLAIM_SINGLE_DOSE},
};

const kind_reason_t *kind_reasons(event_kind_t kind, size_t *n)
{
    bool pa = kind == EVENT_PRIOR_AUTH;
    *n = pa ? sizeof PA_REASONS / sizeof *PA_REASONS : sizeof CLAIM_REASONS / sizeof *CLAIM_REASONS;
    return pa ? PA_REASONS : CLAIM_REASONS;
}

int reason_criterion(event_kind_t kind, reason_code_t code)
{
    size_t n;
    const kind_reason_t *r = kind_reasons(kind, &n);
    for (size_t i = 0; i < n; i++)
        if (r[i].code == code) return r[i].criterion;
    return -1;
}

int criterion_status_from_name(const char *s, criterion_status_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(STATUS[i], s) == 0) {
            *out = (criterion_status_t)i;
            return 0;
        }
    }
    return -1;
}

int outcome_from_name(const char *s, outcome_t *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(OUTCOME[i], s) == 0) {
            *out = (outcome_t)i;
            return 0;
        }
    }
    return -1;
}

void criteria_trace(const determination_t *d, char *out)
{
    static const char letters[] = "MNUA";
    int n = criteria_count(d->kind);
    for (int c = 0; c < n; c++) out[c] = letters[d->criteria[c]];
    out[n] = '\0';
}

int criteria_from_trace(const char *trace, event_kind_t kind, determination_t *d)
{
    int n = criteria_count(kind), len = (int)strlen(trace), skip = 0;
    if (kind == EVENT_CLAIM && len == n - 1) {
        d->criteria[CLAIM_ORIGINAL] = STATUS_NOT_APPLICABLE; /* stored before contract §10 */
        skip = 1;
    } else if (len != n) {
        return -1;
    }
    for (int c = skip; c < n; c++) {
        const char *p = strchr("MNUA", trace[c - skip]);
        if (!p || !trace[c - skip]) return -1;
        d->criteria[c] = (uint8_t)(p - "MNUA");
    }
    return 0;
}

bool determination_bills(const determination_t *d)
{
    if (d->kind != EVENT_CLAIM) return false;
    return d->frequency_code == FREQUENCY_ORIGINAL || (d->frequency_code == FREQUENCY_REPLACEMENT &&
                                                       d->criteria[CLAIM_ORIGINAL] == STATUS_MET);
}

bool determination_reverses(const determination_t *d)
{
    return d->kind == EVENT_CLAIM && d->frequency_code != FREQUENCY_ORIGINAL &&
           d->criteria[CLAIM_ORIGINAL] == STATUS_MET && d->original_claim_id;
}

/* ---- SHA-1 (FIPS 180-4), only for RFC 4122 name-based UUIDs; not used for security. ---- */

typedef struct {
    uint32_t h[5];
    uint64_t len;
    unsigned char block[64];
    size_t fill;
} sha1_t;

static uint32_t rol(uint32_t v, int n)
{
    return (v << n) | (v >> (32 - n));
}

/* Rounds unrolled by macro over a 16-word circular schedule: about twice as fast as the
 * textbook 80-word form, and the id is computed for every event. */
#define SHA1_W(i)                                                                                  \
    (w[(i)&15] = rol(w[((i) + 13) & 15] ^ w[((i) + 8) & 15] ^ w[((i) + 2) & 15] ^ w[(i)&15], 1))
#define SHA1_R(a, b, c, d, e, f, k, wi)                                                            \
    do {                                                                                           \
        e += rol(a, 5) + (f) + (k) + (wi);                                                         \
        b = rol(b, 30);                                                                            \
    } while (0)
/* Five rounds, the registers rotating one place each: with W the word of round i, where W is
 * SHA1_IN (the block's own words, rounds 0-15), SHA1_W (the schedule, 16-79) or SHA1_IN_W. */
#define SHA1_5(F, k, W, i)                                                                         \
    do {                                                                                           \
        SHA1_R(a, b, c, d, e, F(b, c, d), k, W(i));                                                \
        SHA1_R(e, a, b, c, d, F(a, b, c), k, W((i) + 1));                                          \
        SHA1_R(d, e, a, b, c, F(e, a, b), k, W((i) + 2));                                          \
        SHA1_R(c, d, e, a, b, F(d, e, a), k, W((i) + 3));                                          \
        SHA1_R(b, c, d, e, a, F(c, d, e), k, W((i) + 4));                                          \
    } while (0)
#define SHA1_IN(i) w[i]
#define SHA1_IN_W(i) ((i) < 16 ? w[i] : SHA1_W(i)) /* i a constant: folded */
#define F1(b, c, d) (d ^ (b & (c ^ d)))
#define F2(b, c, d) (b ^ c ^ d)
#define F3(b, c, d) ((b & c) | (d & (b | c)))

static void sha1_block(sha1_t *s, const unsigned char *p)
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    int i = 0;
    for (; i < 15; i += 5) SHA1_5(F1, 0x5A827999, SHA1_IN, i);
    SHA1_5(F1, 0x5A827999, SHA1_IN_W, 15); /* w[15], then the schedule */
    for (i = 20; i < 40; i += 5) SHA1_5(F2, 0x6ED9EBA1, SHA1_W, i);
    for (; i < 60; i += 5) SHA1_5(F3, 0x8F1BBCDC, SHA1_W, i);
    for (; i < 80; i += 5) SHA1_5(F2, 0xCA62C1D6, SHA1_W, i);
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
}

static void sha1_update(sha1_t *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->len += n;
    while (n > 0) {
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->block + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill == 64) {
            sha1_block(s, s->block);
            s->fill = 0;
        }
    }
}

static void sha1_final(sha1_t *s, unsigned char out[20])
{
    uint64_t bits = s->len * 8;
    s->block[s->fill++] = 0x80;
    if (s->fill > 56) {
        memset(s->block + s->fill, 0, 64 - s->fill);
        sha1_block(s, s->block);
        s->fill = 0;
    }
    memset(s->block + s->fill, 0, 56 - s->fill);
    for (int i = 0; i < 8; i++) s->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_block(s, s->block);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
}

/* The namespace is uuid5(NAMESPACE_URL, "urn:amtagvi-adjudicator:determination")
 * = 1087c614-d8e5-5733-b26d-5854114041b2. Changing it changes every determination_id ever
 * published, so it is fixed for the life of the product. */
static const unsigned char DETERMINATION_NAMESPACE[16] = {
    0x10, 0x87, 0xc6, 0x14, 0xd8, 0xe5, 0x57, 0x33, 0xb2, 0x6d, 0x58, 0x54, 0x11, 0x40, 0x41, 0xb2};

void determination_id_for(const char *event_id, char out[UUID_STRING_LEN + 1])
{
    sha1_t s = {{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}, 0, {0}, 0};
    unsigned char digest[20];
    sha1_update(&s, DETERMINATION_NAMESPACE, 16);
    sha1_update(&s, event_id, strlen(event_id));
    sha1_final(&s, digest);
    digest[6] = (unsigned char)((digest[6] & 0x0F) | 0x50);
    digest[8] = (unsigned char)((digest[8] & 0x3F) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[digest[i] >> 4];
        out[o++] = hex[digest[i] & 15];
    }
    out[o] = '\0';
}
