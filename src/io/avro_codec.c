/* Confluent-framed Avro for the two input events, on avro-c's value API, and the determination,
 * written directly.
 *
 * avro-c 1.11.1 trusts its input: a string, bytes or array length read from the message is
 * allocated before it is compared with what is left (a 5-byte body can ask for 2 GiB), a failed
 * string read leaks, an enum index is stored without a range check, a union index is used to
 * index the branch table without one (an out-of-bounds read), and avro_reader_is_eof() is
 * always false for a memory reader. So every body is first walked here against a compiled copy
 * of its schema: only a body the walker accepts (every length within the bytes left, every index
 * in range, nothing after the record) is handed to avro_value_read. A bounding allocator is
 * installed as a second line of defence. */
#include "avro_codec.h"

#include <avro.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "errtext.h"

/* Largest single allocation avro-c may make. Events are a few KiB; a bigger request can only
 * come from a hostile length that slipped past the walker. */
#define AVRO_ALLOC_LIMIT ((size_t)1 << 20)
/* Largest encoded body (a determination is under 4 KiB). */
#define ENCODE_LIMIT ((size_t)16 << 20)
#define HEADER_LEN 5
#define PLAN_MAX_DEPTH 16

enum {
    SCHEMA_PA = 0,
    SCHEMA_CLAIM = 1,    /* claim schema version 2 (contract §11) */
    SCHEMA_CLAIM_V1 = 2, /* version 1: no frequency fields */
    SCHEMA_DETERMINATION = 3,
    SCHEMA_COUNT = 4
};
/* The event schemas come first: they are read and written through avro-c's generic values (a
 * determination is written directly). */
#define EVENT_SCHEMAS 3
/* The embedded schema files (embedded.h) and the kind each one's messages name. */
static const char *const SCHEMA_NAMES[SCHEMA_COUNT] = {"prior_auth", "claim", "claim.v1",
                                                       "determination"};
static const char *const SCHEMA_KINDS[SCHEMA_COUNT] = {"prior_auth", "claim", "claim",
                                                       "determination"};

/* ------------------------------------------------------------------ bounded allocator */

static void *bounded_alloc(void *user_data, void *ptr, size_t osize, size_t nsize)
{
    (void)user_data;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (nsize > AVRO_ALLOC_LIMIT) return NULL; /* avro-c reports ENOMEM and unwinds */
    return realloc(ptr, nsize);
}

static pthread_once_t allocator_once = PTHREAD_ONCE_INIT;

/* The allocator is process-wide in avro-c; it allocates exactly as the default one does
 * (realloc/free), so memory allocated before the switch is still freed correctly. */
static void install_allocator(void)
{
    avro_set_allocator(bounded_alloc, NULL);
}

/* ------------------------------------------------------------------ schema plan for the walker */

/* A flat copy of a schema tree: one node per position (so each knows its own field path for
 * messages), children contiguous in kids[]. Links are followed at compile time. */
typedef struct {
    avro_type_t type;
    uint32_t n;     /* enum symbols, union branches, record fields, fixed size */
    uint32_t kids;  /* index into plan.kids of the first child */
    uint32_t min;   /* fewest bytes an encoding of this node takes (bounds block counts) */
    char *path;     /* "prior_therapies[].drug"; "" for the root */
    bool is_string; /* string rather than bytes */
} pnode_t;

typedef struct {
    pnode_t *nodes;
    size_t n_nodes, cap_nodes;
    uint32_t *kids;
    size_t n_kids, cap_kids;
} plan_t;

static void plan_free(plan_t *pl)
{
    for (size_t i = 0; i < pl->n_nodes; i++) free(pl->nodes[i].path);
    free(pl->nodes);
    free(pl->kids);
    memset(pl, 0, sizeof *pl);
}

static char *path_join(const char *parent, const char *sep, const char *name)
{
    size_t a = strlen(parent), b = strlen(sep), c = strlen(name);
    char *p = malloc(a + b + c + 1);
    if (!p) return NULL;
    memcpy(p, parent, a);
    memcpy(p + a, sep, b);
    memcpy(p + a + b, name, c + 1);
    return p;
}

/* Compiles schema s into pl; returns the node index or -1. */
static long plan_build(plan_t *pl, avro_schema_t s, const char *path, int depth, char *err,
                       size_t errlen)
{
    while (is_avro_link(s)) s = avro_schema_link_target(s);
    if (depth > PLAN_MAX_DEPTH) {
        snprintf(err, errlen, "schema nests deeper than %d at %s", PLAN_MAX_DEPTH, path);
        return -1;
    }
    if (pl->n_nodes == pl->cap_nodes) {
        size_t cap = pl->cap_nodes ? pl->cap_nodes * 2 : 64;
        pnode_t *n = realloc(pl->nodes, cap * sizeof *n);
        if (!n) goto nomem;
        pl->nodes = n;
        pl->cap_nodes = cap;
    }
    size_t me = pl->n_nodes++;
    pnode_t node = {.type = avro_typeof(s), .path = strdup(path)};
    pl->nodes[me] = node;
    if (!pl->nodes[me].path) goto nomem;

    size_t nkids = 0;
    switch (node.type) {
    case AVRO_NULL:
        node.min = 0;
        break;
    case AVRO_BOOLEAN:
    case AVRO_INT32:
    case AVRO_INT64:
        node.min = 1;
        break;
    case AVRO_FLOAT:
        node.min = 4;
        break;
    case AVRO_DOUBLE:
        node.min = 8;
        break;
    case AVRO_STRING:
    case AVRO_BYTES:
        node.is_string = node.type == AVRO_STRING;
        node.min = 1;
        break;
    case AVRO_FIXED:
        node.n = (uint32_t)avro_schema_fixed_size(s);
        node.min = node.n;
        break;
    case AVRO_ENUM:
        node.n = (uint32_t)avro_schema_enum_number_of_symbols(s);
        node.min = 1;
        break;
    case AVRO_UNION:
        node.n = (uint32_t)avro_schema_union_size(s);
        nkids = node.n;
        break;
    case AVRO_RECORD:
        node.n = (uint32_t)avro_schema_record_size(s);
        nkids = node.n;
        break;
    case AVRO_ARRAY:
    case AVRO_MAP:
        nkids = 1;
        node.min = 1;
        break;
    default:
        snprintf(err, errlen, "unsupported schema type at %s", path);
        return -1;
    }
    /* Reserve this node's child slots before building the children, which append their own. */
    if (pl->n_kids + nkids > pl->cap_kids) {
        size_t cap = pl->cap_kids ? pl->cap_kids * 2 : 64;
        while (cap < pl->n_kids + nkids) cap *= 2;
        uint32_t *k = realloc(pl->kids, cap * sizeof *k);
        if (!k) goto nomem;
        pl->kids = k;
        pl->cap_kids = cap;
    }
    node.kids = (uint32_t)pl->n_kids;
    pl->n_kids += nkids;

    uint32_t union_min = UINT32_MAX;
    for (size_t i = 0; i < nkids; i++) {
        avro_schema_t child;
        char *cpath;
        if (node.type == AVRO_RECORD) {
            child = avro_schema_record_field_get_by_index(s, (int)i);
            const char *fname = avro_schema_record_field_name(s, (int)i);
            cpath = path[0] ? path_join(path, ".", fname) : strdup(fname);
        } else if (node.type == AVRO_UNION) {
            child = avro_schema_union_branch(s, (int)i);
            cpath = strdup(path);
        } else if (node.type == AVRO_ARRAY) {
            child = avro_schema_array_items(s);
            cpath = path_join(path, "[]", "");
        } else {
            child = avro_schema_map_values(s);
            cpath = path_join(path, "{}", "");
        }
        if (!cpath) goto nomem;
        long k = plan_build(pl, child, cpath, depth + 1, err, errlen);
        free(cpath);
        if (k < 0) return -1;
        pl->kids[node.kids + i] = (uint32_t)k;
        uint32_t kmin = pl->nodes[k].min;
        if (node.type == AVRO_RECORD) node.min += kmin;
        if (node.type == AVRO_UNION && kmin < union_min) union_min = kmin;
    }
    if (node.type == AVRO_UNION) node.min = 1 + (union_min == UINT32_MAX ? 0 : union_min);
    node.path = pl->nodes[me].path;
    pl->nodes[me] = node;
    return (long)me;

nomem:
    snprintf(err, errlen, "out of memory compiling the schema");
    return -1;
}

/* ------------------------------------------------------------------ the walker */

/* What the contract (§2) allows; the walker reports breaking it as DECODE_INVALID, after the
 * whole body has been checked for structure, so a message that is both truncated and
 * over-long is reported as malformed. */
typedef struct {
    size_t max_string;
    uint64_t max_items;
} limits_t;

typedef struct {
    const unsigned char *p, *end;
    const plan_t *plan;
    limits_t lim;
    const char *kind;
    char *err;
    size_t errlen;
    bool invalid; /* a contract limit was broken; err holds the first such message */
} walker_t;

static int walk_fail(walker_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int walk_fail(walker_t *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errtext_vset_prefixed(w->err, w->errlen, w->kind, fmt, ap);
    va_end(ap);
    return -1;
}

static void walk_invalid(walker_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void walk_invalid(walker_t *w, const char *fmt, ...)
{
    if (w->invalid) return; /* keep the first */
    va_list ap;
    va_start(ap, fmt);
    errtext_vset_prefixed(w->err, w->errlen, w->kind, fmt, ap);
    va_end(ap);
    w->invalid = true;
}

static size_t walk_left(const walker_t *w)
{
    return (size_t)(w->end - w->p);
}

/* The walker's messages name the field and the problem, never what the message holds: no
 * length, count, index or offset read from it (the values are PHI, and a position betrays the
 * lengths before it). */
static const char *field_label(const pnode_t *n)
{
    return n->path[0] ? n->path : "(record)";
}

/* A zigzag varint of at most 10 bytes whose value fits 64 bits (the 10th byte may only carry
 * the top bit); avro-c accepts 10 bytes of 7 bits and silently drops the excess. */
static int walk_long(walker_t *w, const pnode_t *n, int64_t *out)
{
    uint64_t v = 0;
    for (int i = 0;; i++) {
        if (w->p >= w->end)
            return walk_fail(w, "field %s: input ends inside a number", field_label(n));
        unsigned b = *w->p++;
        if (i == 9 && b > 1)
            return walk_fail(w, "field %s: number overflows 64 bits", field_label(n));
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) break;
    }
    *out = (int64_t)((v >> 1) ^ (0 - (v & 1)));
    return 0;
}

static int walk_node(walker_t *w, uint32_t idx);

static int walk_blocks(walker_t *w, const pnode_t *n)
{
    const pnode_t *item = &w->plan->nodes[w->plan->kids[n->kids]];
    /* A map entry is its key (a string, at least its length byte) and its value. */
    uint64_t item_min = n->type == AVRO_MAP ? 1u + item->min : item->min;
    uint64_t total = 0;
    for (;;) {
        int64_t count, size = -1;
        if (walk_long(w, n, &count) != 0) return -1;
        if (count == 0) break;
        if (count < 0) {
            if (count == INT64_MIN)
                return walk_fail(w, "field %s: bad block count", field_label(n));
            count = -count;
            if (walk_long(w, n, &size) != 0) return -1;
            if (size < 0 || (uint64_t)size > walk_left(w))
                return walk_fail(w, "field %s: input ends before the block's declared byte size",
                                 field_label(n));
        }
        /* Each item takes at least item_min bytes, so a count the input cannot hold is a lie;
         * items of no bytes at all (array of null) are bounded by the item limit instead. */
        if (item_min > 0 ? (uint64_t)count > walk_left(w) / item_min
                         : total + (uint64_t)count > w->lim.max_items)
            return walk_fail(w, "field %s: input ends before the block's declared items",
                             field_label(n));
        total += (uint64_t)count;
        if (total > w->lim.max_items)
            walk_invalid(w, "field %s has more than %llu items", n->path,
                         (unsigned long long)w->lim.max_items);
        const unsigned char *block = w->p;
        for (int64_t i = 0; i < count; i++) {
            if (n->type == AVRO_MAP) {
                int64_t klen;
                if (walk_long(w, n, &klen) != 0) return -1;
                if (klen < 0 || (uint64_t)klen > walk_left(w))
                    return walk_fail(w, "field %s: input ends before the declared map key length",
                                     field_label(n));
                w->p += klen;
            }
            if (walk_node(w, w->plan->kids[n->kids]) != 0) return -1;
        }
        if (size >= 0 && (uint64_t)size != (uint64_t)(w->p - block))
            return walk_fail(w, "field %s: block byte size is not the size of its items",
                             field_label(n));
    }
    return 0;
}

static int walk_node(walker_t *w, uint32_t idx)
{
    const pnode_t *n = &w->plan->nodes[idx];
    int64_t v;
    switch (n->type) {
    case AVRO_NULL:
        return 0;
    case AVRO_BOOLEAN:
        if (w->p >= w->end) return walk_fail(w, "field %s: input ends", field_label(n));
        if (*w->p > 1) return walk_fail(w, "field %s: boolean is not 0 or 1", field_label(n));
        w->p++;
        return 0;
    case AVRO_INT32:
        if (walk_long(w, n, &v) != 0) return -1;
        if (v < INT32_MIN || v > INT32_MAX)
            return walk_fail(w, "field %s: int is out of the 32-bit range", field_label(n));
        return 0;
    case AVRO_INT64:
        return walk_long(w, n, &v);
    case AVRO_FLOAT:
    case AVRO_DOUBLE:
    case AVRO_FIXED: {
        size_t need = n->type == AVRO_FLOAT ? 4 : n->type == AVRO_DOUBLE ? 8 : n->n;
        if (walk_left(w) < need) return walk_fail(w, "field %s: input ends", field_label(n));
        w->p += need;
        return 0;
    }
    case AVRO_STRING:
    case AVRO_BYTES: {
        const char *what = n->is_string ? "string" : "bytes";
        if (walk_long(w, n, &v) != 0) return -1;
        if (v < 0) return walk_fail(w, "field %s: negative %s length", field_label(n), what);
        if ((uint64_t)v > walk_left(w))
            return walk_fail(w, "field %s: input ends before the declared %s length",
                             field_label(n), what);
        if (n->is_string && (uint64_t)v > w->lim.max_string)
            walk_invalid(w, "field %s: declared length over the %zu-byte limit", n->path,
                         w->lim.max_string);
        w->p += v;
        return 0;
    }
    case AVRO_ENUM:
    case AVRO_UNION:
        /* An index into the symbols or the branches (whose node follows). */
        if (walk_long(w, n, &v) != 0) return -1;
        if (v < 0 || v >= (int64_t)n->n)
            return walk_fail(w, "field %s: %s out of range", field_label(n),
                             n->type == AVRO_ENUM ? "enum index" : "union branch");
        return n->type == AVRO_ENUM ? 0 : walk_node(w, w->plan->kids[n->kids + (uint32_t)v]);
    case AVRO_RECORD:
        for (uint32_t i = 0; i < n->n; i++)
            if (walk_node(w, w->plan->kids[n->kids + i]) != 0) return -1;
        return 0;
    case AVRO_ARRAY:
    case AVRO_MAP:
        return walk_blocks(w, n);
    default:
        return walk_fail(w, "field %s: unsupported schema type", field_label(n));
    }
}

/* ------------------------------------------------------------------ determination fields */

/* Determination fields, in schema order: the direct encoder writes them in this order, and
 * codec_new checks the schema has exactly these. */
static const char *const DETERMINATION_FIELDS[] = {
    "determination_id", "event_id", "kind", "member_id", "pa_id", "claim_id", "line_number",
    "policy_id", "policy_version", "outcome", "x12_action", "criteria", "reasons", "authorization",
    "matched_pa_id", "decided_at", "topic", "partition", "offset",
    /* version 2 (contract §11): last, so a reader of version 1 resolves them away */
    "frequency_code", "reversed_event_id"};
#define N_DETERMINATION_FIELDS ((int)(sizeof DETERMINATION_FIELDS / sizeof *DETERMINATION_FIELDS))

/* ------------------------------------------------------------------ codec */

struct avro_codec {
    avro_codec_ids_t ids;
    avro_schema_t schema[SCHEMA_COUNT];
    avro_value_iface_t *iface[EVENT_SCHEMAS];
    avro_value_t value[EVENT_SCHEMAS];
    bool has_value[EVENT_SCHEMAS];
    plan_t plan[EVENT_SCHEMAS];
    /* How many of event.h's fields (the first ones) each event schema holds: all of them but
     * in claim version 1, which lacks the trailing frequency fields. */
    size_t n_fields[EVENT_SCHEMAS];
    avro_reader_t reader;
    avro_writer_t writer;
    char *scratch;
    size_t scratch_cap;
};

const char *decode_status_name(decode_status_t s)
{
    switch (s) {
    case DECODE_OK:
        return "ok";
    case DECODE_EMPTY:
        return "empty";
    case DECODE_BAD_MAGIC:
        return "bad_magic";
    case DECODE_UNKNOWN_SCHEMA:
        return "unknown_schema";
    case DECODE_MALFORMED:
        return "malformed";
    case DECODE_TRAILING_BYTES:
        return "trailing_bytes";
    case DECODE_INVALID:
        return "invalid";
    }
    return "unknown";
}

static avro_schema_t resolve(avro_schema_t s)
{
    while (s && is_avro_link(s)) s = avro_schema_link_target(s);
    return s;
}

static int check_enum(avro_schema_t s, const event_field_t *f, char *err, size_t errlen)
{
    if (!is_avro_enum(s) || avro_schema_enum_number_of_symbols(s) != f->n_symbols)
        return errtext_set(err, errlen, "field %s: not the expected enum", f->name);
    for (int i = 0; i < f->n_symbols; i++)
        if (strcmp(avro_schema_enum_get(s, i), f->symbols[i]) != 0)
            return errtext_set(err, errlen, "field %s: symbol %d is not %s", f->name, i,
                               f->symbols[i]);
    return 0;
}

static int record_matches(avro_schema_t rec, const event_field_t *fields, size_t n, size_t *bad,
                          char *err, size_t errlen);

/* @returns 1 when schema s holds the field as event.h describes it, 0 when it does not, -1 with
 * err for an enum whose symbols differ. A nullable field is the union ["null", its type]. */
static int field_matches(avro_schema_t s, const event_field_t *f, char *err, size_t errlen)
{
    size_t bad;
    s = resolve(s);
    if (f->nullable) {
        if (!is_avro_union(s) || avro_schema_union_size(s) != 2 ||
            !is_avro_null(resolve(avro_schema_union_branch(s, 0))))
            return 0;
        s = resolve(avro_schema_union_branch(s, 1));
    }
    avro_schema_t items = is_avro_array(s) ? resolve(avro_schema_array_items(s)) : NULL;
    switch (f->type) {
    case EVENT_FIELD_STRING:
        return is_avro_string(s);
    case EVENT_FIELD_TIMESTAMP:
    case EVENT_FIELD_LONG:
        return is_avro_int64(s);
    case EVENT_FIELD_DATE:
    case EVENT_FIELD_INT:
        return is_avro_int32(s);
    case EVENT_FIELD_ENUM:
        return check_enum(s, f, err, errlen) == 0 ? 1 : -1;
    case EVENT_FIELD_STRING_ARRAY:
        return items && is_avro_string(items);
    case EVENT_FIELD_RECORD_ARRAY:
        return items ? record_matches(items, f->item_fields, f->n_item_fields, &bad, err, errlen)
                     : 0;
    }
    return 0;
}

/* @returns 1 when the record has exactly these fields in this order; 0 when it does not, with
 * *bad the first field that differs (n when the record's kind or size does); -1 as above. */
static int record_matches(avro_schema_t rec, const event_field_t *fields, size_t n, size_t *bad,
                          char *err, size_t errlen)
{
    *bad = n;
    if (!is_avro_record(rec) || avro_schema_record_size(rec) != n) return 0;
    for (*bad = 0; *bad < n; (*bad)++) {
        const char *name = avro_schema_record_field_name(rec, (int)*bad);
        if (!name || strcmp(name, fields[*bad].name) != 0) return 0;
        int ok = field_matches(avro_schema_record_field_get_by_index(rec, (int)*bad), &fields[*bad],
                               err, errlen);
        if (ok <= 0) return ok;
    }
    return 1;
}

/* The codec reads and writes events by field index, so the schema must be exactly event.h's
 * table; *present is then the table's size. An older version of a schema (older: claim version
 * 1) may instead be the table without some trailing fields, each one a writer may leave out
 * (event_field_optional: nullable or with a default), which decoding fills with null or the
 * default; *present is then how many fields it holds. */
static int check_event_schema(avro_schema_t rec, event_kind_t kind, bool older,
                              const char *schema_name, size_t *present, char *err, size_t errlen)
{
    size_t n, bad;
    const event_field_t *fields = event_fields(kind, &n);
    size_t m = n;
    if (older && is_avro_record(rec) && avro_schema_record_size(rec) < n) {
        m = avro_schema_record_size(rec);
        for (size_t i = m; i < n; i++)
            if (!event_field_optional(&fields[i]))
                return errtext_set(err, errlen,
                                   "%s schema: lacks field %s, which a writer may not leave out",
                                   schema_name, fields[i].name);
    }
    int ok = record_matches(rec, fields, m, &bad, err, errlen);
    if (ok < 0) return -1;
    if (ok == 0 && bad == m)
        return errtext_set(err, errlen, "%s schema: expected a record of %zu fields", schema_name,
                           m);
    if (ok == 0)
        return errtext_set(err, errlen, "%s schema: field %zu is not %s of the expected type",
                           schema_name, bad, fields[bad].name);
    *present = m;
    return 0;
}

static int check_determination_schema(avro_schema_t rec, char *err, size_t errlen)
{
    if (!is_avro_record(rec) || avro_schema_record_size(rec) != N_DETERMINATION_FIELDS)
        return errtext_set(err, errlen, "determination schema: expected a record of %d fields",
                           N_DETERMINATION_FIELDS);
    for (int i = 0; i < N_DETERMINATION_FIELDS; i++) {
        const char *name = avro_schema_record_field_name(rec, i);
        if (!name || strcmp(name, DETERMINATION_FIELDS[i]) != 0)
            return errtext_set(err, errlen, "determination schema: field %d is not %s", i,
                               DETERMINATION_FIELDS[i]);
    }
    /* frequency_code is written as its frequency_code_t index: ["null", enum in that order]. */
    avro_schema_t f = resolve(avro_schema_record_field_get(rec, "frequency_code"));
    avro_schema_t e = f && is_avro_union(f) && avro_schema_union_size(f) == 2 &&
                              is_avro_null(resolve(avro_schema_union_branch(f, 0)))
                          ? resolve(avro_schema_union_branch(f, 1))
                          : NULL;
    if (!e || !is_avro_enum(e) || avro_schema_enum_number_of_symbols(e) != FREQUENCY_VOID + 1)
        return errtext_set(err, errlen,
                           "determination schema: frequency_code is not [\"null\", the frequency "
                           "enum]");
    for (int i = 0; i <= FREQUENCY_VOID; i++)
        if (strcmp(avro_schema_enum_get(e, i), frequency_code_name((frequency_code_t)i)) != 0)
            return errtext_set(err, errlen,
                               "determination schema: frequency_code symbol %d is not %s", i,
                               frequency_code_name((frequency_code_t)i));
    return 0;
}

avro_codec_t *avro_codec_new(const avro_codec_ids_t *ids, char *err, size_t errlen)
{
    pthread_once(&allocator_once, install_allocator);
    avro_codec_t *c = calloc(1, sizeof *c);
    if (!c) {
        errtext_set(err, errlen, "out of memory");
        return NULL;
    }
    c->ids = ids ? *ids : AVRO_CODEC_DEFAULT_IDS;
    int32_t v1 = c->ids.claim_v1_schema_id;
    if (c->ids.prior_auth_schema_id == c->ids.claim_schema_id ||
        c->ids.prior_auth_schema_id == c->ids.determination_schema_id ||
        c->ids.claim_schema_id == c->ids.determination_schema_id ||
        (v1 > 0 && (v1 == c->ids.prior_auth_schema_id || v1 == c->ids.claim_schema_id ||
                    v1 == c->ids.determination_schema_id))) {
        errtext_set(err, errlen, "the schema ids must differ");
        goto error;
    }
    for (int k = 0; k < SCHEMA_COUNT; k++) {
        const char *text = amtagvi_schema_text(SCHEMA_NAMES[k]);
        if (!text) {
            errtext_set(err, errlen, "schema %s is not compiled in", SCHEMA_NAMES[k]);
            goto error;
        }
        if (avro_schema_from_json_length(text, strlen(text), &c->schema[k]) != 0) {
            c->schema[k] = NULL;
            errtext_set(err, errlen, "schema %s: %s", SCHEMA_NAMES[k], avro_strerror());
            goto error;
        }
    }
    for (int k = 0; k < EVENT_SCHEMAS; k++) {
        if (!(c->iface[k] = avro_generic_class_from_schema(c->schema[k]))) {
            errtext_set(err, errlen, "schema %s: %s", SCHEMA_NAMES[k], avro_strerror());
            goto error;
        }
        if (avro_generic_value_new(c->iface[k], &c->value[k]) != 0) {
            errtext_set(err, errlen, "schema %s: %s", SCHEMA_NAMES[k], avro_strerror());
            goto error;
        }
        c->has_value[k] = true;
    }
    if (check_event_schema(c->schema[SCHEMA_PA], EVENT_PRIOR_AUTH, false, SCHEMA_NAMES[SCHEMA_PA],
                           &c->n_fields[SCHEMA_PA], err, errlen) != 0 ||
        check_event_schema(c->schema[SCHEMA_CLAIM], EVENT_CLAIM, false, SCHEMA_NAMES[SCHEMA_CLAIM],
                           &c->n_fields[SCHEMA_CLAIM], err, errlen) != 0 ||
        check_event_schema(c->schema[SCHEMA_CLAIM_V1], EVENT_CLAIM, true,
                           SCHEMA_NAMES[SCHEMA_CLAIM_V1], &c->n_fields[SCHEMA_CLAIM_V1], err,
                           errlen) != 0 ||
        check_determination_schema(c->schema[SCHEMA_DETERMINATION], err, errlen) != 0)
        goto error;
    for (int k = 0; k < EVENT_SCHEMAS; k++)
        if (plan_build(&c->plan[k], c->schema[k], "", 0, err, errlen) < 0) goto error;
    c->reader = avro_reader_memory("", 0);
    c->scratch_cap = 4096;
    c->scratch = malloc(c->scratch_cap);
    c->writer = c->scratch ? avro_writer_memory(c->scratch, (int64_t)c->scratch_cap) : NULL;
    if (!c->reader || !c->writer) {
        errtext_set(err, errlen, "out of memory");
        goto error;
    }
    return c;

error:
    avro_codec_free(c);
    return NULL;
}

void avro_codec_free(avro_codec_t *c)
{
    if (!c) return;
    for (int k = 0; k < EVENT_SCHEMAS; k++) {
        if (c->has_value[k]) avro_value_decref(&c->value[k]);
        if (c->iface[k]) avro_value_iface_decref(c->iface[k]);
        plan_free(&c->plan[k]);
    }
    for (int k = 0; k < SCHEMA_COUNT; k++)
        if (c->schema[k]) avro_schema_decref(c->schema[k]);
    if (c->reader) avro_reader_free(c->reader);
    if (c->writer) avro_writer_free(c->writer);
    free(c->scratch);
    free(c);
}

/* ------------------------------------------------------------------ decode */

typedef struct {
    arena_t *arena;
    const char *kind;
    char *err;
    size_t errlen;
} fill_t;

static decode_status_t fill_fail(fill_t *f, decode_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static decode_status_t fill_fail(fill_t *f, decode_status_t st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errtext_vset_prefixed(f->err, f->errlen, f->kind, fmt, ap);
    va_end(ap);
    return st;
}

/* avro-c failing after the walker accepted the body means the two disagree; report it as
 * malformed without avro-c's reason, which may quote a length or an index it read. */
#define AVRO_TRY(f, call, field)                                                                   \
    do {                                                                                           \
        if ((call) != 0)                                                                           \
            return fill_fail((f), DECODE_MALFORMED, "field %s: avro-c cannot read it", (field));   \
    } while (0)

static decode_status_t fill_string(fill_t *f, avro_value_t *v, const char **out, const char *field)
{
    const char *s;
    size_t size;
    AVRO_TRY(f, avro_value_get_string(v, &s, &size), field);
    size_t n = size ? size - 1 : 0; /* avro-c counts the NUL it appends */
    /* The event holds C strings: an embedded NUL would silently cut the value short. */
    if (memchr(s, '\0', n))
        return fill_fail(f, DECODE_INVALID, "field %s contains a NUL character", field);
    if (!(*out = arena_strndup(f->arena, s, n)))
        return fill_fail(f, DECODE_MALFORMED, "field %s: out of memory", field);
    return DECODE_OK;
}

static decode_status_t fill_date(fill_t *f, avro_value_t *v, date_t *out, const char *field)
{
    int32_t d;
    AVRO_TRY(f, avro_value_get_int(v, &d), field);
    if (!date_in_range(d))
        return fill_fail(f, DECODE_INVALID, "field %s is not a date within 0001-01-01..9999-12-31",
                         field);
    *out = d;
    return DECODE_OK;
}

/* The union's branch: 0 is null. */
static decode_status_t fill_branch(fill_t *f, avro_value_t *v, avro_value_t *branch, bool *present,
                                   const char *field)
{
    int disc;
    AVRO_TRY(f, avro_value_get_discriminant(v, &disc), field);
    if (disc != 0 && disc != 1)
        return fill_fail(f, DECODE_MALFORMED, "field %s: union branch out of range", field);
    *present = disc == 1;
    if (*present) AVRO_TRY(f, avro_value_get_current_branch(v, branch), field);
    return DECODE_OK;
}

/* Fills the field of the record (event_t or array item) at base from the value v. */
static decode_status_t fill_field(fill_t *f, const event_field_t *fd, avro_value_t *v, char *base)
{
    char *at = base + fd->offset;
    avro_value_t b, item;
    decode_status_t st;
    size_t n;
    int64_t l;
    int32_t i32;
    int sym;
    if (fd->nullable) {
        bool present;
        if ((st = fill_branch(f, v, &b, &present, fd->label)) != DECODE_OK) return st;
        if (!present) {
            event_field_set_null(fd, base);
            return DECODE_OK;
        }
        v = &b;
        if (fd->type == EVENT_FIELD_LONG) *(bool *)(base + fd->aux_offset) = true;
    }
    switch (fd->type) {
    case EVENT_FIELD_STRING:
        return fill_string(f, v, (const char **)at, fd->label);
    case EVENT_FIELD_TIMESTAMP:
        AVRO_TRY(f, avro_value_get_long(v, &l), fd->label);
        /* The same span a JSON timestamp can say, so both forms accept the same events. */
        if (l < (int64_t)DATE_MIN * MS_PER_DAY || l > ((int64_t)DATE_MAX + 1) * MS_PER_DAY - 1)
            return fill_fail(f, DECODE_INVALID,
                             "field %s is not a time within 0001-01-01..9999-12-31", fd->label);
        *(int64_t *)at = l;
        return DECODE_OK;
    case EVENT_FIELD_DATE:
        return fill_date(f, v, (date_t *)at, fd->label);
    case EVENT_FIELD_INT:
        AVRO_TRY(f, avro_value_get_int(v, &i32), fd->label);
        *(int32_t *)at = i32;
        return DECODE_OK;
    case EVENT_FIELD_LONG:
        AVRO_TRY(f, avro_value_get_long(v, &l), fd->label);
        *(int64_t *)at = l;
        return DECODE_OK;
    case EVENT_FIELD_ENUM:
        AVRO_TRY(f, avro_value_get_enum(v, &sym), fd->label);
        /* avro-c stores any index it reads; the walker has checked, this keeps it local. */
        if (sym < 0 || sym >= fd->n_symbols)
            return fill_fail(f, DECODE_MALFORMED, "field %s: enum index out of range", fd->label);
        *(int *)at = sym;
        return DECODE_OK;
    case EVENT_FIELD_STRING_ARRAY:
    case EVENT_FIELD_RECORD_ARRAY:
        AVRO_TRY(f, avro_value_get_size(v, &n), fd->label);
        if (n > EVENT_MAX_ARRAY_ITEMS)
            return fill_fail(f, DECODE_INVALID, "field %s has more than %d items", fd->label,
                             EVENT_MAX_ARRAY_ITEMS);
        *(uint32_t *)(base + fd->aux_offset) = (uint32_t)n;
        for (size_t i = 0; i < n; i++) {
            AVRO_TRY(f, avro_value_get_by_index(v, i, &item, NULL), fd->label);
            if (fd->type == EVENT_FIELD_STRING_ARRAY) {
                if ((st = fill_string(f, &item, (const char **)at + i, fd->item_label)) !=
                    DECODE_OK)
                    return st;
                continue;
            }
            char *item_base = at + i * fd->item_size;
            for (size_t k = 0; k < fd->n_item_fields; k++) {
                avro_value_t x;
                AVRO_TRY(f, avro_value_get_by_index(&item, k, &x, NULL), fd->label);
                if ((st = fill_field(f, &fd->item_fields[k], &x, item_base)) != DECODE_OK)
                    return st;
            }
        }
        return DECODE_OK;
    }
    return fill_fail(f, DECODE_MALFORMED, "field %s: unknown field type", fd->label);
}

decode_status_t avro_codec_decode_event(avro_codec_t *c, const void *msg, size_t len, event_t *out,
                                        arena_t *arena, char *err, size_t errlen)
{
    const unsigned char *m = msg;
    if (!m || len == 0) {
        errtext_set(err, errlen, "empty message");
        return DECODE_EMPTY;
    }
    if (len < HEADER_LEN) {
        errtext_set(err, errlen, "message is shorter than the 5-byte header");
        return DECODE_BAD_MAGIC;
    }
    if (m[0] != 0) {
        errtext_set(err, errlen, "magic byte is not 0");
        return DECODE_BAD_MAGIC;
    }
    int32_t id = (int32_t)((uint32_t)m[1] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 8 |
                           (uint32_t)m[4]);
    int k;
    if (id == c->ids.prior_auth_schema_id) {
        k = SCHEMA_PA;
    } else if (id == c->ids.claim_schema_id) {
        k = SCHEMA_CLAIM;
    } else if (c->ids.claim_v1_schema_id > 0 && id == c->ids.claim_v1_schema_id) {
        k = SCHEMA_CLAIM_V1;
    } else if (c->ids.claim_v1_schema_id > 0) {
        errtext_set(err, errlen,
                    "schema id %d is none of the prior_auth (%d) and claim (%d; version 1: %d) "
                    "schemas",
                    id, c->ids.prior_auth_schema_id, c->ids.claim_schema_id,
                    c->ids.claim_v1_schema_id);
        return DECODE_UNKNOWN_SCHEMA;
    } else {
        errtext_set(err, errlen,
                    "schema id %d is neither the prior_auth (%d) nor the claim (%d) schema", id,
                    c->ids.prior_auth_schema_id, c->ids.claim_schema_id);
        return DECODE_UNKNOWN_SCHEMA;
    }
    const char *kind = SCHEMA_KINDS[k];

    walker_t w = {.p = m + HEADER_LEN,
                  .end = m + len,
                  .plan = &c->plan[k],
                  .lim = {EVENT_MAX_STRING_BYTES, EVENT_MAX_ARRAY_ITEMS},
                  .kind = kind,
                  .err = err,
                  .errlen = errlen};
    if (walk_node(&w, 0) != 0) return DECODE_MALFORMED;
    if (w.p != w.end) {
        errtext_set(err, errlen, "%s: bytes after the record", kind);
        return DECODE_TRAILING_BYTES;
    }
    if (w.invalid) return DECODE_INVALID;

    /* The walker vouches for every length and index, so avro-c allocates no more than the
     * message holds. */
    avro_value_t *rec = &c->value[k];
    avro_reader_memory_set_source(c->reader, (const char *)(m + HEADER_LEN),
                                  (int64_t)(len - HEADER_LEN));
    if (avro_value_read(c->reader, rec) != 0) {
        errtext_set(err, errlen, "%s: avro-c cannot read the record", kind);
        return DECODE_MALFORMED;
    }

    memset(out, 0, sizeof *out);
    out->kind = k == SCHEMA_PA ? EVENT_PRIOR_AUTH : EVENT_CLAIM;
    size_t nfields;
    const event_field_t *fields = event_fields(out->kind, &nfields);
    fill_t f = {arena, kind, err, errlen};
    /* Fields an older schema lacks (claim version 1: frequency_code, original_claim_id) are
     * what a writer that leaves them out means: null, or the enum's default (ORIGINAL). */
    for (size_t i = c->n_fields[k]; i < nfields; i++) event_field_set_null(&fields[i], out);
    for (size_t i = 0; i < c->n_fields[k]; i++) {
        avro_value_t v;
        if (avro_value_get_by_index(rec, i, &v, NULL) != 0) {
            errtext_set(err, errlen, "%s: field %s: avro-c cannot read it", kind, fields[i].label);
            return DECODE_MALFORMED;
        }
        decode_status_t st = fill_field(&f, &fields[i], &v, (char *)out);
        if (st != DECODE_OK) return st;
    }
    char inner[256];
    if (event_check_strings(out, inner, sizeof inner) != 0) {
        errtext_set(err, errlen, "%s: %s", kind, inner);
        return DECODE_INVALID;
    }
    return DECODE_OK;
}

/* ------------------------------------------------------------------ encode */

/* Writes the value into the scratch buffer, growing it while avro-c reports it full, then
 * appends the Confluent header and the body to out. */
/* The Confluent wire-format header: magic byte 0, then the schema id, big-endian. */
static int append_frame_header(buf_t *out, int32_t schema_id)
{
    uint32_t id = (uint32_t)schema_id;
    unsigned char hdr[HEADER_LEN] = {0, (unsigned char)(id >> 24), (unsigned char)(id >> 16),
                                     (unsigned char)(id >> 8), (unsigned char)id};
    return buf_append(out, hdr, HEADER_LEN);
}

static int encode_value(avro_codec_t *c, avro_value_t *v, int32_t schema_id, buf_t *out, char *err,
                        size_t errlen)
{
    for (;;) {
        avro_writer_memory_set_dest(c->writer, c->scratch, (int64_t)c->scratch_cap);
        int rc = avro_value_write(c->writer, v);
        if (rc == 0) break;
        if (rc != ENOSPC) return errtext_set(err, errlen, "avro encoding failed: %s", strerror(rc));
        if (c->scratch_cap >= ENCODE_LIMIT)
            return errtext_set(err, errlen, "encoded record exceeds %zu bytes", ENCODE_LIMIT);
        char *bigger = realloc(c->scratch, c->scratch_cap * 2);
        if (!bigger) return errtext_set(err, errlen, "out of memory");
        c->scratch = bigger;
        c->scratch_cap *= 2;
    }
    size_t n = (size_t)avro_writer_tell(c->writer);
    if (buf_reserve(out, HEADER_LEN + n) != 0) return errtext_set(err, errlen, "out of memory");
    append_frame_header(out, schema_id);
    buf_append(out, c->scratch, n);
    return 0;
}

#define ENC(call, what)                                                                            \
    do {                                                                                           \
        if ((call) != 0) {                                                                         \
            errtext_set(err, errlen, "field %s: avro-c cannot encode it", (what));                 \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)

_Static_assert(sizeof(date_t) == sizeof(int32_t), "a date is written as an Avro int");

/* Sets the value v from the field of the record (event_t or array item) at base. */
static int encode_field(const event_field_t *fd, avro_value_t *v, const char *base, char *err,
                        size_t errlen)
{
    const char *at = base + fd->offset;
    avro_value_t b, item;
    int rc = -1;
    if (event_field_is_null(fd, base)) {
        if (!fd->nullable) return errtext_set(err, errlen, "required field %s is null", fd->label);
        ENC(avro_value_set_branch(v, 0, &b), fd->label);
        ENC(avro_value_set_null(&b), fd->label);
        return 0;
    }
    if (fd->nullable) {
        ENC(avro_value_set_branch(v, 1, &b), fd->label);
        v = &b;
    }
    switch (fd->type) {
    case EVENT_FIELD_STRING:
        ENC(avro_value_set_string(v, *(const char *const *)at), fd->label);
        break;
    case EVENT_FIELD_TIMESTAMP:
    case EVENT_FIELD_LONG:
        ENC(avro_value_set_long(v, *(const int64_t *)at), fd->label);
        break;
    case EVENT_FIELD_DATE:
    case EVENT_FIELD_INT:
        ENC(avro_value_set_int(v, *(const int32_t *)at), fd->label);
        break;
    case EVENT_FIELD_ENUM: {
        int sym = *(const int *)at;
        if (sym < 0 || sym >= fd->n_symbols)
            return errtext_set(err, errlen, "field %s has no such symbol", fd->label);
        ENC(avro_value_set_enum(v, sym), fd->label);
        break;
    }
    case EVENT_FIELD_STRING_ARRAY:
    case EVENT_FIELD_RECORD_ARRAY: {
        uint32_t n = *(const uint32_t *)(base + fd->aux_offset);
        if (n > EVENT_MAX_ARRAY_ITEMS)
            return errtext_set(err, errlen, "field %s has more than %d items", fd->label,
                               EVENT_MAX_ARRAY_ITEMS);
        for (uint32_t j = 0; j < n; j++) {
            ENC(avro_value_append(v, &item, NULL), fd->label);
            if (fd->type == EVENT_FIELD_STRING_ARRAY) {
                const char *s = ((const char *const *)at)[j];
                if (!s) return errtext_set(err, errlen, "field %s has a null item", fd->label);
                ENC(avro_value_set_string(&item, s), fd->label);
                continue;
            }
            for (size_t k = 0; k < fd->n_item_fields; k++) {
                ENC(avro_value_get_by_index(&item, k, &b, NULL), fd->label);
                if (encode_field(&fd->item_fields[k], &b, at + j * fd->item_size, err, errlen) != 0)
                    return -1;
            }
        }
        break;
    }
    }
    rc = 0;
cleanup:
    return rc;
}

int avro_codec_encode_event(avro_codec_t *c, const event_t *ev, buf_t *out, char *err,
                            size_t errlen)
{
    return avro_codec_encode_event_version(c, ev, 2, out, err, errlen);
}

int avro_codec_encode_event_version(avro_codec_t *c, const event_t *ev, int claim_version,
                                    buf_t *out, char *err, size_t errlen)
{
    if (ev->kind != EVENT_PRIOR_AUTH && ev->kind != EVENT_CLAIM)
        return errtext_set(err, errlen, "unknown event kind");
    if (claim_version != 1 && claim_version != 2)
        return errtext_set(err, errlen, "claim schema version %d: only 1 and 2 exist",
                           claim_version);
    int k = ev->kind == EVENT_PRIOR_AUTH ? SCHEMA_PA
            : claim_version == 1         ? SCHEMA_CLAIM_V1
                                         : SCHEMA_CLAIM;
    int32_t id = k == SCHEMA_PA      ? c->ids.prior_auth_schema_id
                 : k == SCHEMA_CLAIM ? c->ids.claim_schema_id
                                     : c->ids.claim_v1_schema_id;
    if (k == SCHEMA_CLAIM_V1) {
        /* Version 1 has no frequency fields: writing it would turn the claim into another one
         * (a VOID into an ORIGINAL). Names and symbols only, no values. */
        if (id <= 0)
            return errtext_set(err, errlen,
                               "claim schema version 1 has no schema id "
                               "(schema.id.claim.v1 is 0)");
        if (ev->claim.frequency_code != FREQUENCY_ORIGINAL)
            return errtext_set(err, errlen,
                               "a %s claim cannot be written with claim schema version 1, which "
                               "has no frequency_code (only ORIGINAL claims can)",
                               frequency_code_name(ev->claim.frequency_code));
        if (ev->claim.original_claim_id)
            return errtext_set(err, errlen,
                               "a claim with an original_claim_id cannot be written with claim "
                               "schema version 1, which has no such field");
    }
    size_t nfields;
    const event_field_t *fields = event_fields(ev->kind, &nfields);
    avro_value_t *rec = &c->value[k];
    int rc = -1;

    ENC(avro_value_reset(rec), "the record");
    for (size_t i = 0; i < c->n_fields[k]; i++) {
        avro_value_t v;
        ENC(avro_value_get_by_index(rec, i, &v, NULL), fields[i].name);
        if (encode_field(&fields[i], &v, (const char *)ev, err, errlen) != 0) goto cleanup;
    }
    rc = encode_value(c, rec, id, out, err, errlen);
cleanup:
    return rc;
}

/* What the determination encoder requires of a determination. @returns 0 or -1 with err. */
static int check_determination(const determination_t *d, const policy_t *p, char *err,
                               size_t errlen)
{
    if (d->kind != EVENT_PRIOR_AUTH && d->kind != EVENT_CLAIM)
        return errtext_set(err, errlen, "unknown determination kind");
    if (!d->event_id || !d->member_id || !p || !p->policy_id)
        return errtext_set(err, errlen, "determination lacks event_id, member_id or policy_id");
    if ((unsigned)d->outcome > OUTCOME_PENDED || d->n_reasons > MAX_CRITERIA)
        return errtext_set(err, errlen, "determination has an unknown outcome or too many reasons");
    for (int i = 0; i < criteria_count(d->kind); i++)
        if (d->criteria[i] > STATUS_NOT_APPLICABLE)
            return errtext_set(err, errlen, "criterion %s has an unknown status",
                               criterion_name(d->kind, i));
    for (int i = 0; i < d->n_reasons; i++) {
        const reason_t *r = &d->reasons[i];
        if (!criterion_name(d->kind, r->criterion) || !reason_code_name((reason_code_t)r->code) ||
            r->status > STATUS_NOT_APPLICABLE)
            return errtext_set(err, errlen, "reason %d has an unknown criterion, code or status",
                               i);
    }
    if (d->has_authorization && !d->pa_id)
        return errtext_set(err, errlen, "authorization without a pa_id");
    if (d->kind == EVENT_CLAIM && (unsigned)d->frequency_code > FREQUENCY_VOID)
        return errtext_set(err, errlen, "determination has an unknown frequency_code");
    return 0;
}

/* ------------------------------------------------------------------ determinations, directly */

/* The worker encodes one determination per event. Through avro-c's generic values that took
 * ~5 us each (per-field lookups, a hashed map for the criteria, a copy of every string): a
 * fifth of the worker's CPU at 50,000 events/s. This writes the same bytes directly, in the
 * schema's field order (checked against the schema when the codec is made); test_avro_codec
 * compares it byte for byte with a generic-value encoder kept with the tests
 * (tests/unit/avro_reference.c). */

typedef struct {
    buf_t *b;
    int bad; /* an append ran out of memory */
} wr_t;

static void put_long(wr_t *w, int64_t v)
{
    uint64_t u = (uint64_t)v;
    uint64_t z = (u << 1) ^ (v < 0 ? ~UINT64_C(0) : 0); /* zigzag */
    unsigned char tmp[10];
    size_t n = 0;
    while (z > 0x7f) {
        tmp[n++] = (unsigned char)((z & 0x7f) | 0x80);
        z >>= 7;
    }
    tmp[n++] = (unsigned char)z;
    w->bad |= buf_append(w->b, tmp, n);
}

static void put_string(wr_t *w, const char *s)
{
    size_t n = strlen(s);
    put_long(w, (int64_t)n);
    w->bad |= buf_append(w->b, s, n);
}

/* ["null", "string"]: branch 0 is null. */
static void put_opt_string(wr_t *w, const char *s)
{
    put_long(w, s ? 1 : 0);
    if (s) put_string(w, s);
}

static void put_opt_long(wr_t *w, bool present, int64_t v)
{
    put_long(w, present ? 1 : 0);
    if (present) put_long(w, v);
}

int avro_codec_encode_determination(avro_codec_t *c, const determination_t *d, const policy_t *p,
                                    const determination_meta_t *meta, buf_t *out, char *err,
                                    size_t errlen)
{
    bool pa = d->kind == EVENT_PRIOR_AUTH;
    int ncrit = criteria_count(d->kind);
    if (check_determination(d, p, err, errlen) != 0) return -1;

    const size_t start = out->len;
    wr_t wr = {out, 0}, *w = &wr;
    w->bad |= append_frame_header(out, c->ids.determination_schema_id);
    put_string(w, d->determination_id);
    put_string(w, d->event_id);
    put_long(w, pa ? 0 : 1);
    put_string(w, d->member_id);
    put_opt_string(w, pa ? d->pa_id : NULL);
    put_opt_string(w, pa ? NULL : d->claim_id);
    put_opt_long(w, !pa, d->line_number);
    put_string(w, p->policy_id);
    put_opt_long(w, d->policy_version != DATE_NULL, d->policy_version);
    put_long(w, (int64_t)d->outcome);
    put_opt_string(w, x12_action_of(d));
    /* criteria: one map block in the contract's order, then the end marker */
    if (ncrit > 0) {
        put_long(w, ncrit);
        for (int i = 0; i < ncrit; i++) {
            put_string(w, criterion_name(d->kind, i));
            put_long(w, d->criteria[i]);
        }
    }
    put_long(w, 0);
    if (d->n_reasons > 0) {
        put_long(w, d->n_reasons);
        for (int i = 0; i < d->n_reasons; i++) {
            const reason_t *r = &d->reasons[i];
            const reason_info_t *info = policy_reason(p, d->kind, (reason_code_t)r->code);
            put_string(w, criterion_name(d->kind, r->criterion));
            put_string(w, reason_code_name((reason_code_t)r->code));
            put_long(w, r->status);
            /* An empty code in the policy file means the reason has none (null). */
            put_opt_string(w, info->group[0] ? info->group : NULL);
            put_opt_string(w, info->carc[0] ? info->carc : NULL);
            put_opt_string(w, info->rarc[0] ? info->rarc : NULL);
            put_string(w, info->message ? info->message : "");
        }
    }
    put_long(w, 0);
    put_long(w, d->has_authorization ? 1 : 0);
    if (d->has_authorization) {
        put_string(w, d->pa_id);
        put_long(w, d->valid_from);
        put_long(w, d->valid_until);
        put_long(w, d->max_doses);
        put_long(w, d->dose_min_cells);
        put_long(w, d->dose_max_cells);
    }
    put_opt_string(w, d->matched_pa_id);
    /* Without a worker (evaluate, tests) there is no source position: -1 says so. */
    put_long(w, meta ? meta->decided_at_ms : 0);
    put_string(w, meta && meta->topic ? meta->topic : "");
    put_long(w, meta ? meta->partition : -1);
    put_long(w, meta ? meta->offset : -1);
    /* version 2: ["null", FrequencyCode] (a claim's, null for a PA), ["null", "string"] */
    put_long(w, pa ? 0 : 1);
    if (!pa) put_long(w, (int64_t)d->frequency_code);
    put_opt_string(w, d->reversed_event_id);
    if (w->bad || out->len - start > ENCODE_LIMIT) {
        out->len = start;
        if (out->data) out->data[start] = '\0';
        return w->bad ? errtext_set(err, errlen, "out of memory")
                      : errtext_set(err, errlen, "encoded record exceeds %zu bytes", ENCODE_LIMIT);
    }
    return 0;
}
