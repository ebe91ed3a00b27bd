/* Confluent-framed Avro for the two input events and the determination. Events are written
 * with avro-c's value API, determinations directly; events are read by a walker and a resolving
 * reader of our own, avro-c only parsing the writer schemas.
 *
 * Reading: every schema id a message can carry is a writer schema registered with
 * avro_codec_add_writer (the pinned ids: our embedded schemas), whose resolution to our reader
 * schema (Avro specification, "Schema Resolution") is planned once, when it is added. avro-c
 * 1.11.1's own resolution (avro_resolved_writer) is not used: it refuses reader fields that have
 * defaults, maps enum symbols by position rather than by name (a reordered enum silently turns
 * VOID into ORIGINAL), and ignores aliases.
 *
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
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "errtext.h"
#include "lru.h"

/* Largest single allocation avro-c may make. Events are a few KiB; a bigger request can only
 * come from a hostile length that slipped past the walker. */
#define AVRO_ALLOC_LIMIT ((size_t)1 << 20)
/* Largest encoded body (a determination is under 4 KiB). */
#define ENCODE_LIMIT ((size_t)16 << 20)
#define HEADER_LEN 5
#define PLAN_MAX_DEPTH 16
/* Most types in one writer schema (ours have about 40). */
#define PLAN_MAX_NODES 4096

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
/* The embedded schema files (embedded.h). */
static const char *const SCHEMA_NAMES[SCHEMA_COUNT] = {"prior_auth", "claim", "claim.v1",
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
    /* Resolution to the reader (planned once per writer schema id, see resolve_record). */
    uint8_t res;             /* RES_SKIP (a writer-only value), RES_READ, RES_NULL, RES_BAD */
    bool limit;              /* it feeds a reader string or array: the contract's limits apply */
    const event_field_t *rf; /* a record's field: the reader field it fills, NULL: skipped */
    int8_t *symmap;          /* enum: the reader symbol of each writer symbol, -1: none */
    const event_field_t *rfields; /* record: the reader record's fields */
    uint32_t n_rfields;
    uint32_t missing; /* record: bit j set when reader field j is not in the writer (default) */
} pnode_t;

typedef struct {
    pnode_t *nodes;
    size_t n_nodes, cap_nodes;
    uint32_t *kids;
    size_t n_kids, cap_kids;
} plan_t;

static void plan_free(plan_t *pl)
{
    for (size_t i = 0; i < pl->n_nodes; i++) {
        free(pl->nodes[i].path);
        free(pl->nodes[i].symmap);
    }
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
    if (pl->n_nodes >= PLAN_MAX_NODES) {
        snprintf(err, errlen, "schema has more than %d types", PLAN_MAX_NODES);
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
        if (n->limit && total > w->lim.max_items)
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
        if (n->limit && (uint64_t)v > w->lim.max_string)
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

/* One writer schema id: its outcome, and for a resolvable one the walker's plan of the writer
 * schema annotated with how each value is read into the reader (event.h's fields). */
typedef struct writer {
    int32_t id;
    avro_writer_status_t status;
    bool pinned; /* an embedded schema under a pinned id: never forgotten */
    event_kind_t kind;
    char *msg; /* why it is not resolvable (NOT_OURS, INCOMPATIBLE, INVALID) */
    plan_t plan;
    lru_link_t lru; /* in the codec's LRU list */
    struct writer *hnext;
} writer_t;

#define WRITER_BUCKETS 2048 /* a power of two, twice AVRO_CODEC_MAX_WRITERS */

/* The reader side of a kind: our schema's JSON (for names and aliases, which avro-c drops). */
typedef struct {
    json_t *json;
    char *full_name;
} reader_t;

struct avro_codec {
    avro_codec_ids_t ids;
    bool registry_mode;
    avro_schema_t schema[SCHEMA_COUNT];
    avro_value_iface_t *iface[EVENT_SCHEMAS];
    avro_value_t value[EVENT_SCHEMAS];
    bool has_value[EVENT_SCHEMAS];
    /* How many of event.h's fields (the first ones) each event schema holds when it is written:
     * all of them but in claim version 1, which lacks the trailing frequency fields. */
    size_t n_fields[EVENT_SCHEMAS];
    reader_t readers[2]; /* by event_kind_t */
    writer_t *buckets[WRITER_BUCKETS];
    lru_list_t lru; /* the writers, most recently used first */
    size_t n_writers;
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
    case DECODE_INCOMPATIBLE_SCHEMA:
        return "incompatible_schema";
    case DECODE_INVALID:
        return "invalid";
    }
    return "unknown";
}

const char *avro_writer_status_name(avro_writer_status_t s)
{
    switch (s) {
    case AVRO_WRITER_OK:
        return "ok";
    case AVRO_WRITER_NOT_OURS:
        return "not_ours";
    case AVRO_WRITER_INCOMPATIBLE:
        return "incompatible";
    case AVRO_WRITER_INVALID:
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

/* ------------------------------------------------------------------ schema resolution */

/* The Avro specification's "Schema Resolution", writer -> our reader, planned once per writer
 * schema id. avro-c 1.11.1's resolved writer cannot be used for it: it refuses reader fields
 * that have defaults, maps enums by position rather than by symbol name, and ignores aliases.
 * So the plan is annotations on the walker's plan of the writer schema (pnode_t.res, rf,
 * symmap, missing), and decoding reads the bytes the walker has vouched for directly into the
 * event. The reader's names and aliases come from our schema's JSON (avro-c drops aliases). */

enum { RES_SKIP = 0, RES_READ, RES_NULL, RES_BAD };

/* What a writer value is read as: a reader field (its type, nullable or not), an item of a
 * string array (a string, not null) or of a record array (the item record). */
typedef struct {
    const event_field_t *f;
    event_field_type_t type;
    bool nullable;
    bool record; /* the item record of f (a RECORD_ARRAY) */
    const char *label;
    json_t *rtype; /* the reader's JSON of the (non-null) type: enum and record names */
} target_t;

typedef struct {
    plan_t *pl;
    char *err;
    size_t errlen;
} rplan_t;

static const char *avro_type_name(avro_type_t t)
{
    switch (t) {
    case AVRO_STRING:
        return "string";
    case AVRO_BYTES:
        return "bytes";
    case AVRO_INT32:
        return "int";
    case AVRO_INT64:
        return "long";
    case AVRO_FLOAT:
        return "float";
    case AVRO_DOUBLE:
        return "double";
    case AVRO_BOOLEAN:
        return "boolean";
    case AVRO_NULL:
        return "null";
    case AVRO_RECORD:
        return "record";
    case AVRO_ENUM:
        return "enum";
    case AVRO_FIXED:
        return "fixed";
    case AVRO_MAP:
        return "map";
    case AVRO_ARRAY:
        return "array";
    case AVRO_UNION:
        return "union";
    default:
        return "type";
    }
}

static const char *reader_type_name(const target_t *t)
{
    if (t->record) return "record";
    switch (t->type) {
    case EVENT_FIELD_STRING:
        return "string";
    case EVENT_FIELD_TIMESTAMP:
        return "long (timestamp-millis)";
    case EVENT_FIELD_DATE:
        return "int (date)";
    case EVENT_FIELD_INT:
        return "int";
    case EVENT_FIELD_LONG:
        return "long";
    case EVENT_FIELD_ENUM:
        return "enum";
    case EVENT_FIELD_STRING_ARRAY:
        return "array of string";
    case EVENT_FIELD_RECORD_ARRAY:
        return "array of record";
    }
    return "type";
}

static const char *unqualified(const char *s)
{
    const char *dot = strrchr(s, '.');
    return dot ? dot + 1 : s;
}

/* The reader JSON of a field's type without its null branch: ["null", T] -> T. */
static json_t *rj_nonnull(json_t *type)
{
    if (!json_is_array(type)) return type;
    size_t i;
    json_t *b;
    json_array_foreach(type, i, b)
    {
        if (!(json_is_string(b) && strcmp(json_string_value(b), "null") == 0)) return b;
    }
    return NULL;
}

/* The reader record's JSON field object of that name. */
static json_t *rj_field(json_t *record, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(record, "fields"), i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && strcmp(n, name) == 0) return f;
    }
    return NULL;
}

/* Named types (enums, nested records) match by unqualified name or a reader alias (spec). A
 * reference by name (a JSON string) has no aliases. */
static bool rj_name_matches(json_t *rtype, const char *writer_name)
{
    if (!writer_name) return false;
    const char *w = unqualified(writer_name);
    if (json_is_string(rtype)) return strcmp(unqualified(json_string_value(rtype)), w) == 0;
    const char *n = json_string_value(json_object_get(rtype, "name"));
    if (n && strcmp(unqualified(n), w) == 0) return true;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(rtype, "aliases"), i, a)
    {
        if (json_is_string(a) && strcmp(unqualified(json_string_value(a)), w) == 0) return true;
    }
    return false;
}

static int resolve_record(rplan_t *R, avro_schema_t ws, uint32_t widx, const event_field_t *fields,
                          size_t nf, json_t *rjson, const char *kind);

static int res_bad(rplan_t *R, uint32_t widx, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int res_bad(rplan_t *R, uint32_t widx, char *why, size_t whylen, const char *fmt, ...)
{
    R->pl->nodes[widx].res = RES_BAD;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return 0;
}

/* Resolves the writer value ws (plan node widx) to the target. @returns 1 when it (or a branch
 * of its union) can be read as the target, 0 when it never can (the node is RES_BAD, why says
 * why), -1 with R->err when the writer schema is incompatible outright (a nested record) or
 * memory ran out. */
static int resolve_value(rplan_t *R, avro_schema_t ws, uint32_t widx, const target_t *t, char *why,
                         size_t whylen)
{
    ws = resolve(ws);
    pnode_t *n = &R->pl->nodes[widx];
    avro_type_t wt = n->type;
    if (wt == AVRO_UNION) {
        /* Each writer branch resolves against the reader (a union ["null", T] or T): one that
         * cannot is an error only when a message selects it. */
        bool any = false;
        for (uint32_t b = 0; b < n->n; b++) {
            char bwhy[160];
            int r = resolve_value(R, avro_schema_union_branch(ws, (int)b), R->pl->kids[n->kids + b],
                                  t, bwhy, sizeof bwhy);
            if (r < 0) return -1;
            if (r > 0) any = true;
        }
        n = &R->pl->nodes[widx];
        n->res = any ? RES_READ : RES_BAD;
        if (!any)
            snprintf(why, whylen, "no branch of the writer's union can be read as the reader's %s",
                     reader_type_name(t));
        return any;
    }
    if (wt == AVRO_NULL) {
        if (t->nullable) {
            n->res = RES_NULL;
            return 1;
        }
        return res_bad(R, widx, why, whylen, "the writer's null cannot be read as the reader's %s",
                       reader_type_name(t));
    }
    bool ok = false;
    if (t->record) {
        if (wt != AVRO_RECORD || !rj_name_matches(t->rtype, avro_schema_name(ws)))
            return res_bad(R, widx, why, whylen,
                           "the writer's %s is not the reader's record (by name or alias)",
                           avro_type_name(wt));
        if (resolve_record(R, ws, widx, t->f->item_fields, t->f->n_item_fields, t->rtype,
                           t->label) != 0)
            return -1;
        return 1;
    }
    switch (t->type) {
    case EVENT_FIELD_STRING:
        ok = wt == AVRO_STRING || wt == AVRO_BYTES; /* string <-> bytes */
        n->limit = ok;
        break;
    case EVENT_FIELD_TIMESTAMP:
    case EVENT_FIELD_LONG:
        ok = wt == AVRO_INT64 || wt == AVRO_INT32; /* int -> long */
        break;
    case EVENT_FIELD_DATE:
    case EVENT_FIELD_INT:
        ok = wt == AVRO_INT32;
        break;
    case EVENT_FIELD_ENUM: {
        if (wt != AVRO_ENUM) break;
        if (!rj_name_matches(t->rtype, avro_schema_name(ws)))
            return res_bad(R, widx, why, whylen,
                           "the writer's enum is not the reader's enum (by name or alias)");
        /* By symbol name; a symbol the reader lacks reads as its default, or (none) fails
         * when a message holds it. */
        n->symmap = malloc(n->n ? n->n : 1);
        if (!n->symmap) return errtext_set(R->err, R->errlen, "out of memory");
        for (uint32_t i = 0; i < n->n; i++) {
            const char *sym = avro_schema_enum_get(ws, (int)i);
            int r = sym ? event_field_symbol(t->f, sym, strlen(sym)) : -1;
            if (r < 0 && t->f->has_default) r = t->f->default_symbol;
            n->symmap[i] = (int8_t)r;
        }
        ok = true;
        break;
    }
    case EVENT_FIELD_STRING_ARRAY:
    case EVENT_FIELD_RECORD_ARRAY: {
        if (wt != AVRO_ARRAY) break;
        bool rec = t->type == EVENT_FIELD_RECORD_ARRAY;
        json_t *ritems = t->rtype ? json_object_get(t->rtype, "items") : NULL;
        target_t it = {.f = t->f,
                       .type = EVENT_FIELD_STRING,
                       .record = rec,
                       .label = t->f->item_label,
                       .rtype = ritems};
        char iwhy[160];
        int r = resolve_value(R, avro_schema_array_items(ws), R->pl->kids[n->kids], &it, iwhy,
                              sizeof iwhy);
        if (r < 0) return -1;
        if (r == 0) return res_bad(R, widx, why, whylen, "its items: %s", iwhy);
        n = &R->pl->nodes[widx];
        n->limit = true;
        ok = true;
        break;
    }
    }
    if (!ok)
        return res_bad(R, widx, why, whylen, "the writer's %s cannot be read as the reader's %s",
                       avro_type_name(wt), reader_type_name(t));
    n->res = RES_READ;
    return 1;
}

/* The writer field that fills reader field f: by name, else by one of its reader aliases. */
static int writer_field_for(avro_schema_t ws, const event_field_t *f, json_t *rfield)
{
    int n = (int)avro_schema_record_size(ws);
    for (int k = 0; k < n; k++)
        if (strcmp(avro_schema_record_field_name(ws, k), f->name) == 0) return k;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(rfield, "aliases"), i, a)
    {
        if (!json_is_string(a)) continue;
        for (int k = 0; k < n; k++)
            if (strcmp(avro_schema_record_field_name(ws, k), json_string_value(a)) == 0) return k;
    }
    return -1;
}

/* Resolves the writer record ws (plan node widx) to the reader record fields[]: each reader
 * field is read from its writer field or takes its default; writer-only fields are skipped.
 * @returns 0, or -1 with a message naming the field in R->err. */
static int resolve_record(rplan_t *R, avro_schema_t ws, uint32_t widx, const event_field_t *fields,
                          size_t nf, json_t *rjson, const char *kind)
{
    ws = resolve(ws);
    pnode_t *n = &R->pl->nodes[widx];
    n->res = RES_READ;
    n->rfields = fields;
    n->n_rfields = (uint32_t)nf;
    n->missing = 0;
    for (uint32_t k = 0; k < n->n; k++) R->pl->nodes[R->pl->kids[n->kids + k]].rf = NULL;
    for (size_t j = 0; j < nf; j++) {
        const event_field_t *f = &fields[j];
        json_t *rfield = rj_field(rjson, f->name);
        int k = writer_field_for(ws, f, rfield);
        if (k < 0) {
            if (!event_field_optional(f))
                return errtext_set(R->err, R->errlen,
                                   "%s: field %s: missing in the writer schema and has no default",
                                   kind, f->label);
            R->pl->nodes[widx].missing |= (uint32_t)1 << j;
            continue;
        }
        uint32_t kid = R->pl->kids[R->pl->nodes[widx].kids + (uint32_t)k];
        if (R->pl->nodes[kid].rf)
            return errtext_set(R->err, R->errlen,
                               "%s: field %s: its writer field also fills field %s (aliases)", kind,
                               f->label, R->pl->nodes[kid].rf->label);
        target_t t = {.f = f,
                      .type = f->type,
                      .nullable = f->nullable,
                      .label = f->label,
                      .rtype = rj_nonnull(json_object_get(rfield, "type"))};
        char why[200];
        int r = resolve_value(R, avro_schema_record_field_get_by_index(ws, k), kid, &t, why,
                              sizeof why);
        if (r < 0) return -1;
        if (r == 0) return errtext_set(R->err, R->errlen, "%s: field %s: %s", kind, f->label, why);
        R->pl->nodes[kid].rf = f;
    }
    return 0;
}

/* ------------------------------------------------------------------ the writer table */

static size_t writer_bucket(int32_t id)
{
    return ((uint32_t)id * 2654435761u) >> 21 & (WRITER_BUCKETS - 1);
}

static writer_t *writer_find(const avro_codec_t *c, int32_t id)
{
    for (writer_t *w = c->buckets[writer_bucket(id)]; w; w = w->hnext)
        if (w->id == id) return w;
    return NULL;
}

static void writer_free(writer_t *w)
{
    if (!w) return;
    plan_free(&w->plan);
    free(w->msg);
    free(w);
}

/* Forgets the writer: out of its bucket and the LRU list, freed. */
static void writer_remove(avro_codec_t *c, writer_t *w)
{
    writer_t **pp = &c->buckets[writer_bucket(w->id)];
    while (*pp != w) pp = &(*pp)->hnext;
    *pp = w->hnext;
    lru_unlink(&c->lru, &w->lru);
    c->n_writers--;
    writer_free(w);
}

static avro_writer_status_t writer_set(writer_t *w, avro_writer_status_t st, const char *msg)
{
    w->status = st;
    if (msg && !(w->msg = strdup(msg))) return AVRO_WRITER_INVALID;
    return st;
}

/* Decides the kind and plans the resolution of one writer schema into w. */
static avro_writer_status_t writer_plan(avro_codec_t *c, writer_t *w, const char *json, char *err,
                                        size_t errlen)
{
    avro_schema_t ws = NULL;
    char msg[512];
    avro_writer_status_t st;
    if (!json || avro_schema_from_json_length(json, strlen(json), &ws) != 0) {
        snprintf(msg, sizeof msg, "schema id %d: the writer schema is not a parseable Avro schema",
                 w->id);
        st = writer_set(w, AVRO_WRITER_INVALID, msg);
        goto done;
    }
    avro_schema_t root = resolve(ws);
    const char *name = is_avro_record(root) ? avro_schema_name(root) : NULL;
    const char *ns = name ? avro_schema_namespace(root) : NULL;
    char full[512];
    snprintf(full, sizeof full, "%s%s%s", ns && *ns ? ns : "", ns && *ns ? "." : "",
             name ? name : "");
    int kind = -1;
    for (int k = 0; name && k < 2 && kind < 0; k++) {
        reader_t *r = &c->readers[k];
        if (strcmp(full, r->full_name) == 0) kind = k;
        /* a reader alias: a full name, or a name in the reader's namespace */
        const char *rdot = strrchr(r->full_name, '.');
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(r->json, "aliases"), i, a)
        {
            const char *s = json_string_value(a);
            if (!s || kind >= 0) continue;
            char afull[512];
            if (strchr(s, '.') || !rdot)
                snprintf(afull, sizeof afull, "%s", s);
            else
                snprintf(afull, sizeof afull, "%.*s.%s", (int)(rdot - r->full_name), r->full_name,
                         s);
            if (strcmp(full, afull) == 0) kind = k;
        }
    }
    if (kind < 0) {
        snprintf(msg, sizeof msg,
                 "schema id %d: the writer schema (%s%.200s) is neither the prior_auth (%.100s) "
                 "nor the claim (%.100s) record",
                 w->id, name ? "record " : "not a record", full, c->readers[0].full_name,
                 c->readers[1].full_name);
        st = writer_set(w, AVRO_WRITER_NOT_OURS, msg);
        goto done;
    }
    w->kind = (event_kind_t)kind;
    const char *kname = event_kind_name(w->kind);
    char inner[400];
    rplan_t R = {&w->plan, inner, sizeof inner};
    size_t nf;
    const event_field_t *fields = event_fields(w->kind, &nf);
    if (plan_build(&w->plan, ws, "", 0, inner, sizeof inner) < 0) {
        snprintf(msg, sizeof msg, "%s: schema id %d: the writer schema: %.400s", kname, w->id,
                 inner);
        st = writer_set(w, AVRO_WRITER_INCOMPATIBLE, msg);
        goto done;
    }
    if (resolve_record(&R, root, 0, fields, nf, c->readers[kind].json, kname) != 0) {
        /* inner is "<kind>: field X: ..." */
        const char *rest = strncmp(inner, kname, strlen(kname)) == 0 && inner[strlen(kname)] == ':'
                               ? inner + strlen(kname) + 2
                               : inner;
        snprintf(msg, sizeof msg, "%s: schema id %d: %.400s", kname, w->id, rest);
        st = writer_set(w, AVRO_WRITER_INCOMPATIBLE, msg);
        goto done;
    }
    st = writer_set(w, AVRO_WRITER_OK, NULL);
done:
    if (ws) avro_schema_decref(ws);
    if (st != AVRO_WRITER_OK) {
        plan_free(&w->plan);
        errtext_set(err, errlen, "%s", w->msg ? w->msg : "out of memory");
    } else if (errlen) {
        err[0] = '\0';
    }
    return st;
}

static avro_writer_status_t add_writer(avro_codec_t *c, int32_t id, const char *schema_json,
                                       bool pinned, char *err, size_t errlen)
{
    writer_t *w = writer_find(c, id);
    if (w) {
        if (w->status != AVRO_WRITER_OK)
            errtext_set(err, errlen, "%s", w->msg);
        else if (errlen)
            err[0] = '\0';
        return w->status;
    }
    if (c->n_writers >= AVRO_CODEC_MAX_WRITERS) {
        lru_link_t *old = c->lru.tail;
        while (old && LRU_ENTRY(old, writer_t, lru)->pinned) old = old->prev;
        if (old) writer_remove(c, LRU_ENTRY(old, writer_t, lru));
    }
    if (!(w = calloc(1, sizeof *w))) {
        errtext_set(err, errlen, "out of memory");
        return AVRO_WRITER_INVALID;
    }
    w->id = id;
    w->pinned = pinned;
    avro_writer_status_t st = writer_plan(c, w, schema_json, err, errlen);
    if (st != AVRO_WRITER_OK && !w->msg) { /* out of memory: not remembered */
        writer_free(w);
        return st;
    }
    size_t b = writer_bucket(id);
    w->hnext = c->buckets[b];
    c->buckets[b] = w;
    lru_push_front(&c->lru, &w->lru);
    c->n_writers++;
    return st;
}

avro_writer_status_t avro_codec_add_writer(avro_codec_t *c, int32_t id, const char *schema_json,
                                           char *err, size_t errlen)
{
    return add_writer(c, id, schema_json, false, err, errlen);
}

bool avro_codec_has_writer(const avro_codec_t *c, int32_t id)
{
    return writer_find(c, id) != NULL;
}

int32_t avro_codec_frame_id(const void *msg, size_t len)
{
    const unsigned char *m = msg;
    if (!m || len < HEADER_LEN || m[0] != 0) return -1;
    return (int32_t)((uint32_t)m[1] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 8 |
                     (uint32_t)m[4]);
}

void avro_codec_set_determination_id(avro_codec_t *c, int32_t id)
{
    c->ids.determination_schema_id = id;
}

void avro_codec_set_event_ids(avro_codec_t *c, int32_t prior_auth_id, int32_t claim_id,
                              int32_t claim_v1_id)
{
    c->ids.prior_auth_schema_id = prior_auth_id;
    c->ids.claim_schema_id = claim_id;
    c->ids.claim_v1_schema_id = claim_v1_id;
}

/* The record's full name in a schema's JSON: namespace + "." + name, or a dotted name. */
static char *json_full_name(json_t *root)
{
    const char *name = json_string_value(json_object_get(root, "name"));
    const char *ns = json_string_value(json_object_get(root, "namespace"));
    if (!name) return NULL;
    size_t n = (ns ? strlen(ns) + 1 : 0) + strlen(name) + 1;
    char *s = malloc(n);
    if (!s) return NULL;
    if (ns && *ns && !strchr(name, '.'))
        snprintf(s, n, "%s.%s", ns, name);
    else
        snprintf(s, n, "%s", name);
    return s;
}

static const char *const TEXT_NAMES[] = {"prior_auth", "claim", "claim.v1", "determination",
                                         "determination.v1"};
#define N_TEXT_NAMES (sizeof TEXT_NAMES / sizeof *TEXT_NAMES)
static char *text_full_names[N_TEXT_NAMES];
static pthread_once_t text_once = PTHREAD_ONCE_INIT;

static void text_full_names_init(void)
{
    for (size_t i = 0; i < N_TEXT_NAMES; i++) {
        const char *t = amtagvi_schema_text(TEXT_NAMES[i]);
        json_t *j = t ? json_loads(t, 0, NULL) : NULL;
        text_full_names[i] = j ? json_full_name(j) : NULL;
        json_decref(j);
    }
}

const char *avro_codec_schema_text(const char *name, const char **full_name)
{
    for (size_t i = 0; name && i < N_TEXT_NAMES; i++) {
        if (strcmp(name, TEXT_NAMES[i]) != 0) continue;
        pthread_once(&text_once, text_full_names_init);
        if (full_name) *full_name = text_full_names[i];
        return amtagvi_schema_text(TEXT_NAMES[i]);
    }
    if (full_name) *full_name = NULL;
    return NULL;
}

/* ------------------------------------------------------------------ codec */

avro_codec_t *avro_codec_new(const avro_codec_ids_t *ids, char *err, size_t errlen)
{
    return avro_codec_new_opts(ids, NULL, err, errlen);
}

avro_codec_t *avro_codec_new_opts(const avro_codec_ids_t *ids, const avro_codec_opts_t *opts,
                                  char *err, size_t errlen)
{
    pthread_once(&allocator_once, install_allocator);
    avro_codec_t *c = calloc(1, sizeof *c);
    if (!c) {
        errtext_set(err, errlen, "out of memory");
        return NULL;
    }
    c->ids = ids ? *ids : AVRO_CODEC_DEFAULT_IDS;
    c->registry_mode = opts && opts->registry_mode;
    int32_t v1 = c->ids.claim_v1_schema_id;
    if (!c->registry_mode &&
        (c->ids.prior_auth_schema_id == c->ids.claim_schema_id ||
         c->ids.prior_auth_schema_id == c->ids.determination_schema_id ||
         c->ids.claim_schema_id == c->ids.determination_schema_id ||
         (v1 > 0 && (v1 == c->ids.prior_auth_schema_id || v1 == c->ids.claim_schema_id ||
                     v1 == c->ids.determination_schema_id)))) {
        errtext_set(err, errlen, "the schema ids must differ");
        goto error;
    }
    for (int k = 0; k < SCHEMA_COUNT; k++) {
        const char *text = amtagvi_schema_text(SCHEMA_NAMES[k]);
        if (opts && k == SCHEMA_PA && opts->reader_prior_auth_json)
            text = opts->reader_prior_auth_json;
        if (opts && k == SCHEMA_CLAIM && opts->reader_claim_json) text = opts->reader_claim_json;
        if (!text) {
            errtext_set(err, errlen, "schema %s is not compiled in", SCHEMA_NAMES[k]);
            goto error;
        }
        if (avro_schema_from_json_length(text, strlen(text), &c->schema[k]) != 0) {
            c->schema[k] = NULL;
            errtext_set(err, errlen, "schema %s: %s", SCHEMA_NAMES[k], avro_strerror());
            goto error;
        }
        if (k == SCHEMA_PA || k == SCHEMA_CLAIM) {
            reader_t *r = &c->readers[k == SCHEMA_PA ? EVENT_PRIOR_AUTH : EVENT_CLAIM];
            if (!(r->json = json_loads(text, 0, NULL)) ||
                !(r->full_name = json_full_name(r->json))) {
                errtext_set(err, errlen, "schema %s: no record name", SCHEMA_NAMES[k]);
                goto error;
            }
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
    /* Events are written by field index: our schemas must be event.h's tables (version 1 of
     * the claim: the table without its trailing fields). */
    if (check_event_schema(c->schema[SCHEMA_PA], EVENT_PRIOR_AUTH, false, SCHEMA_NAMES[SCHEMA_PA],
                           &c->n_fields[SCHEMA_PA], err, errlen) != 0 ||
        check_event_schema(c->schema[SCHEMA_CLAIM], EVENT_CLAIM, false, SCHEMA_NAMES[SCHEMA_CLAIM],
                           &c->n_fields[SCHEMA_CLAIM], err, errlen) != 0 ||
        check_event_schema(c->schema[SCHEMA_CLAIM_V1], EVENT_CLAIM, true,
                           SCHEMA_NAMES[SCHEMA_CLAIM_V1], &c->n_fields[SCHEMA_CLAIM_V1], err,
                           errlen) != 0 ||
        check_determination_schema(c->schema[SCHEMA_DETERMINATION], err, errlen) != 0)
        goto error;
    c->reader = avro_reader_memory("", 0);
    c->scratch_cap = 4096;
    c->scratch = malloc(c->scratch_cap);
    c->writer = c->scratch ? avro_writer_memory(c->scratch, (int64_t)c->scratch_cap) : NULL;
    if (!c->reader || !c->writer) {
        errtext_set(err, errlen, "out of memory");
        goto error;
    }
    if (!c->registry_mode) {
        /* The pinned ids: our own schemas as writer schemas, through the same resolution. */
        const struct {
            int32_t id;
            int k;
        } pinned[] = {{c->ids.prior_auth_schema_id, SCHEMA_PA},
                      {c->ids.claim_schema_id, SCHEMA_CLAIM},
                      {v1, SCHEMA_CLAIM_V1}};
        for (size_t i = 0; i < sizeof pinned / sizeof *pinned; i++) {
            if (pinned[i].k == SCHEMA_CLAIM_V1 && v1 <= 0) continue;
            char inner[512];
            if (add_writer(c, pinned[i].id, amtagvi_schema_text(SCHEMA_NAMES[pinned[i].k]), true,
                           inner, sizeof inner) != AVRO_WRITER_OK) {
                errtext_set(err, errlen, "schema %s: %s", SCHEMA_NAMES[pinned[i].k], inner);
                goto error;
            }
        }
    }
    return c;

error:
    avro_codec_free(c);
    return NULL;
}

void avro_codec_free(avro_codec_t *c)
{
    if (!c) return;
    while (c->lru.head) writer_remove(c, LRU_ENTRY(c->lru.head, writer_t, lru));
    for (int k = 0; k < EVENT_SCHEMAS; k++) {
        if (c->has_value[k]) avro_value_decref(&c->value[k]);
        if (c->iface[k]) avro_value_iface_decref(c->iface[k]);
    }
    for (int k = 0; k < SCHEMA_COUNT; k++)
        if (c->schema[k]) avro_schema_decref(c->schema[k]);
    for (int k = 0; k < 2; k++) {
        json_decref(c->readers[k].json);
        free(c->readers[k].full_name);
    }
    if (c->reader) avro_reader_free(c->reader);
    if (c->writer) avro_writer_free(c->writer);
    free(c->scratch);
    free(c);
}

/* ------------------------------------------------------------------ decode */

/* The second pass over a body the walker accepted: reads it in writer order into the event,
 * through the writer's resolution plan. Every length and index has been checked, so a read
 * cannot fail structurally (the checks that remain are cheap and keep it local); what can fail
 * is the contract (DECODE_INVALID) and a value the reader has no place for
 * (DECODE_INCOMPATIBLE_SCHEMA). */
typedef struct {
    walker_t *w;
    const pnode_t *nodes;
    const uint32_t *kids;
    arena_t *arena;
    int32_t id; /* the message's schema id, for messages about the writer schema */
} rd_t;

static decode_status_t rd_fail(rd_t *r, decode_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static decode_status_t rd_fail(rd_t *r, decode_status_t st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errtext_vset_prefixed(r->w->err, r->w->errlen, r->w->kind, fmt, ap);
    va_end(ap);
    return st;
}

static inline decode_status_t rd_long(rd_t *r, uint32_t idx, int64_t *v)
{
    return walk_long(r->w, &r->nodes[idx], v) == 0 ? DECODE_OK : DECODE_MALFORMED;
}

/* A union's branch replaces it (the walker checked the index); then a value the reader cannot
 * take is an error now that a message holds it. */
static decode_status_t rd_select(rd_t *r, uint32_t *idx, const char *label)
{
    const pnode_t *n = &r->nodes[*idx];
    if (n->type == AVRO_UNION) {
        int64_t b;
        if (rd_long(r, *idx, &b) != DECODE_OK) return DECODE_MALFORMED;
        if (b < 0 || b >= (int64_t)n->n)
            return rd_fail(r, DECODE_MALFORMED, "field %s: union branch out of range", label);
        *idx = r->kids[n->kids + (uint32_t)b];
        n = &r->nodes[*idx];
    }
    if (n->res == RES_BAD)
        return rd_fail(r, DECODE_INCOMPATIBLE_SCHEMA,
                       "schema id %d: field %s: the writer's %s cannot be read as the reader's "
                       "type",
                       (int)r->id, label, avro_type_name(n->type));
    return DECODE_OK;
}

static decode_status_t rd_string(rd_t *r, uint32_t idx, const char **out, const char *label)
{
    int64_t len;
    if (rd_long(r, idx, &len) != DECODE_OK) return DECODE_MALFORMED;
    if (len < 0 || (uint64_t)len > walk_left(r->w))
        return rd_fail(r, DECODE_MALFORMED, "field %s: input ends", label);
    const char *s = (const char *)r->w->p;
    r->w->p += len;
    /* The event holds C strings: an embedded NUL would silently cut the value short. */
    if (memchr(s, '\0', (size_t)len))
        return rd_fail(r, DECODE_INVALID, "field %s contains a NUL character", label);
    if (!(*out = arena_strndup(r->arena, s, (size_t)len)))
        return rd_fail(r, DECODE_MALFORMED, "field %s: out of memory", label);
    return DECODE_OK;
}

static decode_status_t rd_record(rd_t *r, uint32_t idx, char *base);

/* Reads the writer value at node idx into reader field f of the record at base. */
static decode_status_t rd_field(rd_t *r, uint32_t idx, const event_field_t *f, char *base)
{
    decode_status_t st;
    if ((st = rd_select(r, &idx, f->label)) != DECODE_OK) return st;
    const pnode_t *n = &r->nodes[idx];
    if (n->res == RES_NULL) {
        event_field_set_null(f, base);
        return DECODE_OK;
    }
    char *at = base + f->offset;
    int64_t l;
    switch (f->type) {
    case EVENT_FIELD_STRING:
        return rd_string(r, idx, (const char **)at, f->label);
    case EVENT_FIELD_TIMESTAMP:
        if (rd_long(r, idx, &l) != DECODE_OK) return DECODE_MALFORMED;
        /* The same span a JSON timestamp can say, so both forms accept the same events. */
        if (l < (int64_t)DATE_MIN * MS_PER_DAY || l > ((int64_t)DATE_MAX + 1) * MS_PER_DAY - 1)
            return rd_fail(r, DECODE_INVALID,
                           "field %s is not a time within 0001-01-01..9999-12-31", f->label);
        *(int64_t *)at = l;
        return DECODE_OK;
    case EVENT_FIELD_LONG:
        if (rd_long(r, idx, &l) != DECODE_OK) return DECODE_MALFORMED;
        *(int64_t *)at = l;
        if (f->nullable) *(bool *)(base + f->aux_offset) = true;
        return DECODE_OK;
    case EVENT_FIELD_DATE:
    case EVENT_FIELD_INT:
        if (rd_long(r, idx, &l) != DECODE_OK) return DECODE_MALFORMED;
        if (l < INT32_MIN || l > INT32_MAX)
            return rd_fail(r, DECODE_MALFORMED, "field %s: int is out of the 32-bit range",
                           f->label);
        if (f->type == EVENT_FIELD_DATE && !date_in_range((int32_t)l))
            return rd_fail(r, DECODE_INVALID,
                           "field %s is not a date within 0001-01-01..9999-12-31", f->label);
        *(int32_t *)at = (int32_t)l;
        return DECODE_OK;
    case EVENT_FIELD_ENUM: {
        if (rd_long(r, idx, &l) != DECODE_OK) return DECODE_MALFORMED;
        if (l < 0 || l >= (int64_t)n->n)
            return rd_fail(r, DECODE_MALFORMED, "field %s: enum index out of range", f->label);
        int sym = n->symmap[l];
        if (sym < 0)
            return rd_fail(r, DECODE_INCOMPATIBLE_SCHEMA,
                           "schema id %d: field %s: a symbol of the writer's enum is not one of "
                           "the reader's, which has no default",
                           (int)r->id, f->label);
        *(int *)at = sym;
        return DECODE_OK;
    }
    case EVENT_FIELD_STRING_ARRAY:
    case EVENT_FIELD_RECORD_ARRAY: {
        uint32_t item = r->kids[n->kids], total = 0;
        for (;;) {
            int64_t count, size;
            if (rd_long(r, idx, &count) != DECODE_OK) return DECODE_MALFORMED;
            if (count == 0) break;
            if (count < 0) {
                if (count == INT64_MIN) return DECODE_MALFORMED;
                count = -count;
                if (rd_long(r, idx, &size) != DECODE_OK) return DECODE_MALFORMED;
            }
            if ((uint64_t)count > EVENT_MAX_ARRAY_ITEMS - total)
                return rd_fail(r, DECODE_INVALID, "field %s has more than %d items", f->label,
                               EVENT_MAX_ARRAY_ITEMS);
            for (int64_t i = 0; i < count; i++, total++) {
                uint32_t it = item;
                if ((st = rd_select(r, &it, f->item_label)) != DECODE_OK) return st;
                if (f->type == EVENT_FIELD_STRING_ARRAY)
                    st = rd_string(r, it, (const char **)at + total, f->item_label);
                else
                    st = rd_record(r, it, at + total * f->item_size);
                if (st != DECODE_OK) return st;
            }
        }
        *(uint32_t *)(base + f->aux_offset) = total;
        return DECODE_OK;
    }
    }
    return rd_fail(r, DECODE_MALFORMED, "field %s: unknown field type", f->label);
}

/* Reads a writer record (node idx, resolved) into the reader record at base. */
static decode_status_t rd_record(rd_t *r, uint32_t idx, char *base)
{
    const pnode_t *n = &r->nodes[idx];
    for (uint32_t m = n->missing; m; m &= m - 1)
        event_field_set_null(&n->rfields[__builtin_ctz(m)], base);
    for (uint32_t k = 0; k < n->n; k++) {
        uint32_t kid = r->kids[n->kids + k];
        const event_field_t *f = r->nodes[kid].rf;
        decode_status_t st;
        if (!f) {
            if (walk_node(r->w, kid) != 0) return DECODE_MALFORMED; /* writer-only: skipped */
        } else if ((st = rd_field(r, kid, f, base)) != DECODE_OK) {
            return st;
        }
    }
    return DECODE_OK;
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
    int32_t id = avro_codec_frame_id(m, len);
    writer_t *wr = writer_find(c, id);
    if (!wr) {
        if (c->registry_mode)
            errtext_set(err, errlen, "schema id %d: no writer schema is known for it", id);
        else if (c->ids.claim_v1_schema_id > 0)
            errtext_set(err, errlen,
                        "schema id %d is none of the prior_auth (%d) and claim (%d; version 1: "
                        "%d) schemas",
                        id, c->ids.prior_auth_schema_id, c->ids.claim_schema_id,
                        c->ids.claim_v1_schema_id);
        else
            errtext_set(err, errlen,
                        "schema id %d is neither the prior_auth (%d) nor the claim (%d) schema", id,
                        c->ids.prior_auth_schema_id, c->ids.claim_schema_id);
        return DECODE_UNKNOWN_SCHEMA;
    }
    lru_touch(&c->lru, &wr->lru);
    if (wr->status != AVRO_WRITER_OK) {
        errtext_set(err, errlen, "%s", wr->msg);
        return wr->status == AVRO_WRITER_INCOMPATIBLE ? DECODE_INCOMPATIBLE_SCHEMA
                                                      : DECODE_UNKNOWN_SCHEMA;
    }
    const char *kind = event_kind_name(wr->kind);

    walker_t w = {.p = m + HEADER_LEN,
                  .end = m + len,
                  .plan = &wr->plan,
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

    /* The walker vouches for every length and index: read the body again, into the event. */
    memset(out, 0, sizeof *out);
    out->kind = wr->kind;
    w.p = m + HEADER_LEN;
    rd_t r = {&w, wr->plan.nodes, wr->plan.kids, arena, id};
    decode_status_t st = rd_record(&r, 0, (char *)out);
    if (st != DECODE_OK) return st;
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
