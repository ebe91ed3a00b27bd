/* PostgreSQL adapter. A batch is one transaction: fence on the consumer offsets, COPY the new
 * determinations (COPY is the fastest idempotent path here because replays are filtered out by
 * the engine before the write, and the fence guarantees no other worker writes the same
 * offsets), COPY the dead letters, move the offsets, commit. */
#include "store.h"

#include <ctype.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mono.h"
#include "embedded.h"

struct store {
    char *url;
    char *worker_id;
    PGconn *conn;
    char error[512];
    buf_t copy; /* COPY data of the batch in hand */
    /* Text array literals ('{...}') bound as the statement's array parameters; kept between
     * batches so their memory is reused. */
    buf_t array_param[5];
    PGresult *retro_result; /* rows of the last retro FETCH, freed by the next */
};

static store_status_t fail(store_t *s, store_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static store_status_t fail(store_t *s, store_status_t st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    /* Strip the newline libpq puts at the end of its messages. */
    size_t n = strlen(s->error);
    while (n && (s->error[n - 1] == '\n' || s->error[n - 1] == ' ')) s->error[--n] = '\0';
    return st;
}

store_t *store_new(const char *url, const char *worker_id)
{
    store_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->url = strdup(url);
    s->worker_id = strdup(worker_id);
    if (!s->url || !s->worker_id) {
        store_free(s);
        return NULL;
    }
    return s;
}

void store_free(store_t *s)
{
    if (!s) return;
    if (s->retro_result) PQclear(s->retro_result);
    if (s->conn) PQfinish(s->conn);
    free(s->url);
    free(s->worker_id);
    buf_free(&s->copy);
    for (size_t i = 0; i < sizeof s->array_param / sizeof *s->array_param; i++)
        buf_free(&s->array_param[i]);
    free(s);
}

const char *store_error(const store_t *s)
{
    return s->error;
}

store_status_t store_connect(store_t *s)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK) return STORE_OK;
    if (s->conn) PQfinish(s->conn);
    /* Bounded waits on a dead server: connecting gives up after 10 s, and an established
     * connection whose packets go unanswered fails after 30 s (TCP keepalives and
     * tcp_user_timeout), so a stop request is never stuck behind the network. The URL's own
     * settings, if any, win: it is expanded after these. */
    static const char *const keys[] = {"connect_timeout",
                                       "keepalives_idle",
                                       "keepalives_interval",
                                       "keepalives_count",
                                       "tcp_user_timeout",
                                       "dbname",
                                       NULL};
    const char *values[] = {"10", "10", "5", "3", "30000", s->url, NULL};
    s->conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(s->conn) != CONNECTION_OK)
        return fail(s, STORE_RETRY, "cannot connect to PostgreSQL: %s", PQerrorMessage(s->conn));
    /* A batch's queries are a few thousand index probes. Costed high (the history query runs
     * with sequential scans off), PostgreSQL would compile them with LLVM and start parallel
     * workers for every batch: measured at a tenth of the database's CPU, for nothing. */
    PGresult *r = PQexec(s->conn, "SET application_name = 'amtagvi-adjudicator'; "
                                  "SET statement_timeout = '60s'; SET jit = off; "
                                  "SET max_parallel_workers_per_gather = 0");
    PQclear(r);
    return STORE_OK;
}

/* Runs a command; any failure is STORE_RETRY after a rollback, so the caller redoes the batch. */
static store_status_t exec_params(store_t *s, const char *sql, int n, const char *const *values,
                                  PGresult **out)
{
    PGresult *r = PQexecParams(s->conn, sql, n, NULL, values, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fail(s, STORE_RETRY, "%s", PQresultErrorMessage(r));
        PQclear(r);
        return STORE_RETRY;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return STORE_OK;
}

/* What a failed statement means for the batch. Content the database refuses (a data exception,
 * an integrity constraint, a program limit such as an index row that is too big) fails again
 * on every retry: it is STORE_REJECTED, and the rows behind it are isolated. A unique violation
 * is the exception: it means another worker stored the same event first, and the retry's
 * history load turns the row into a replay. Everything else (connection, shutdown, resources,
 * serialization, permissions) is STORE_RETRY: back off and redo the batch. */
static store_status_t classify(const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!state || strlen(state) != 5) return STORE_RETRY;
    if (strcmp(state, "23505") == 0) return STORE_RETRY;
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ||
        strncmp(state, "54", 2) == 0)
        return STORE_REJECTED;
    return STORE_RETRY;
}

/* Why PostgreSQL refused a row, without its message: a data error's message and detail quote
 * the value ("Failing row contains (...)"), and values are PHI. */
static void describe_refusal(const PGresult *r, char *out, size_t outlen)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    const char *column = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);
    const char *table = PQresultErrorField(r, PG_DIAG_TABLE_NAME);
    snprintf(out, outlen, "PostgreSQL refused the row: SQLSTATE %s%s%s%s%s%s%s",
             state ? state : "?", table ? ", table " : "", table ? table : "",
             constraint ? ", constraint " : "", constraint ? constraint : "",
             column ? ", column " : "", column ? column : "");
}

static void rollback(store_t *s)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK) PQclear(PQexec(s->conn, "ROLLBACK"));
}

/* ------------------------------------------------------------------ migrations */

store_status_t store_migrate(store_t *s, int *applied)
{
    *applied = 0;
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    /* One migrator at a time across all workers; the lock dies with the session. */
    if (exec_params(s, "SELECT pg_advisory_lock(625062500)", 0, NULL, NULL) != STORE_OK ||
        exec_params(s,
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
                    "applied_at timestamptz NOT NULL DEFAULT now())",
                    0, NULL, NULL) != STORE_OK)
        return STORE_RETRY;
    store_status_t st = STORE_OK;
    for (int i = 0; amtagvi_migration_files[i].name && st == STORE_OK; i++) {
        const char *name = amtagvi_migration_files[i].name;
        PGresult *r;
        if ((st = exec_params(s, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, &name,
                              &r)) != STORE_OK)
            break;
        int done = PQntuples(r);
        PQclear(r);
        if (done) continue;
        if ((st = exec_params(s, "BEGIN", 0, NULL, NULL)) != STORE_OK) break;
        r = PQexec(s->conn, amtagvi_migration_files[i].text);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            st = fail(s, STORE_RETRY, "migration %s failed: %s", name, PQresultErrorMessage(r));
            PQclear(r);
            rollback(s);
            break;
        }
        PQclear(r);
        if ((st = exec_params(s, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, &name,
                              NULL)) != STORE_OK ||
            (st = exec_params(s, "COMMIT", 0, NULL, NULL)) != STORE_OK) {
            rollback(s);
            break;
        }
        (*applied)++;
    }
    PQclear(PQexec(s->conn, "SELECT pg_advisory_unlock(625062500)"));
    return st;
}

/* ------------------------------------------------------------------ helpers */

/* The first n array parameters, emptied for a new statement. */
static buf_t *array_params(store_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) buf_clear(&s->array_param[i]);
    return s->array_param;
}

/* Appends a PostgreSQL array element, quoted and escaped. */
static void array_add(buf_t *b, const char *v)
{
    buf_append_char(b, b->len ? ',' : '{');
    buf_append_char(b, '"');
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') buf_append_char(b, '\\');
        buf_append_char(b, *v);
    }
    buf_append_char(b, '"');
}

static const char *array_end(buf_t *b)
{
    if (b->len == 0) buf_append_str(b, "{");
    buf_append_char(b, '}');
    return b->data;
}

static void array_add_i64(buf_t *b, int64_t v)
{
    buf_printf(b, "%c%lld", b->len ? ',' : '{', (long long)v);
}

/* Columns shared by the history and republish queries, in this order. */
#define DET_COLUMNS                                                                                \
    "event_id, kind, member_id, pa_id, claim_id, line_number, "                                    \
    "policy_version - date '1970-01-01', decision_date - date '1970-01-01', outcome, criteria, "   \
    "array_to_string(reason_codes, ','), valid_from - date '1970-01-01', "                         \
    "valid_until - date '1970-01-01', auth_max_doses, auth_dose_min, auth_dose_max, "              \
    "matched_pa_id, fingerprint, "                                                                 \
    "(extract(epoch from decided_at) * 1000)::bigint, source_topic, source_partition, "            \
    "source_offset, seq, frequency_code, original_claim_id, reversed_event_id"

static const char *col(PGresult *r, int row, int c)
{
    return PQgetisnull(r, row, c) ? NULL : PQgetvalue(r, row, c);
}

static date_t col_date(PGresult *r, int row, int c)
{
    return PQgetisnull(r, row, c) ? DATE_NULL : (date_t)atol(PQgetvalue(r, row, c));
}

/* Rebuilds a determination from a row of DET_COLUMNS; strings point into the result. */
static int row_to_determination(PGresult *r, int i, determination_t *d, uint64_t *fingerprint)
{
    memset(d, 0, sizeof *d);
    d->event_id = col(r, i, 0);
    d->kind = strcmp(col(r, i, 1), "claim") == 0 ? EVENT_CLAIM : EVENT_PRIOR_AUTH;
    d->member_id = col(r, i, 2);
    d->pa_id = col(r, i, 3);
    d->claim_id = col(r, i, 4);
    d->line_number = col(r, i, 5) ? atoi(col(r, i, 5)) : 0;
    d->policy_version = col_date(r, i, 6);
    d->decision_date = col_date(r, i, 7);
    outcome_t o;
    if (outcome_from_name(col(r, i, 8), &o) != 0) return -1;
    d->outcome = o;
    if (criteria_from_trace(col(r, i, 9), d->kind, d) != 0) return -1;
    char codes[1024];
    snprintf(codes, sizeof codes, "%s", col(r, i, 10));
    for (char *save = NULL, *tok = strtok_r(codes, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        reason_code_t code;
        if (reason_code_from_name(tok, &code) != 0 || d->n_reasons >= MAX_CRITERIA) return -1;
        int crit = reason_criterion(d->kind, code);
        if (crit < 0) return -1;
        d->reasons[d->n_reasons++] = (reason_t){(uint8_t)crit, (uint8_t)code, d->criteria[crit]};
    }
    d->valid_from = col_date(r, i, 11);
    d->valid_until = col_date(r, i, 12);
    d->has_authorization = d->valid_from != DATE_NULL;
    d->max_doses = col(r, i, 13) ? atoi(col(r, i, 13)) : 0;
    d->dose_min_cells = col(r, i, 14) ? atoll(col(r, i, 14)) : 0;
    d->dose_max_cells = col(r, i, 15) ? atoll(col(r, i, 15)) : 0;
    d->matched_pa_id = col(r, i, 16);
    *fingerprint = (uint64_t)atoll(col(r, i, 17));
    /* Contract §10: a claim row stored before migration 006 has no frequency_code and was an
     * ORIGINAL. original_claim_id is what history needs to reverse the same line again. */
    const char *freq = col(r, i, 23);
    d->frequency_code = FREQUENCY_ORIGINAL;
    if (freq && d->kind == EVENT_CLAIM) {
        if (strcmp(freq, "REPLACEMENT") == 0)
            d->frequency_code = FREQUENCY_REPLACEMENT;
        else if (strcmp(freq, "VOID") == 0)
            d->frequency_code = FREQUENCY_VOID;
        else if (strcmp(freq, "ORIGINAL") != 0)
            return -1;
    }
    d->original_claim_id = col(r, i, 24);
    d->reversed_event_id = col(r, i, 25);
    determination_id_for(d->event_id, d->determination_id);
    return 0;
}

/* ------------------------------------------------------------------ positions and history */

store_status_t store_position(store_t *s, const char *group, const char *topic, int32_t partition,
                              int64_t start_offset, int64_t *next, int64_t *published)
{
    char part[16], start[24];
    snprintf(part, sizeof part, "%d", partition);
    snprintf(start, sizeof start, "%lld", (long long)start_offset);
    const char *v[5] = {group, topic, part, start, s->worker_id};
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    if (exec_params(s,
                    "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, "
                    "published_offset, updated_by) VALUES ($1, $2, $3, $4, $4, $5) "
                    "ON CONFLICT DO NOTHING",
                    5, v, NULL) != STORE_OK)
        return STORE_RETRY;
    PGresult *r;
    if (exec_params(s,
                    "SELECT next_offset, published_offset FROM consumer_offsets WHERE "
                    "consumer_group = $1 AND topic = $2 AND partition = $3",
                    3, v, &r) != STORE_OK)
        return STORE_RETRY;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return fail(s, STORE_RETRY, "consumer_offsets row vanished for %s[%d]", topic, partition);
    }
    *next = atoll(PQgetvalue(r, 0, 0));
    *published = atoll(PQgetvalue(r, 0, 1));
    PQclear(r);
    return STORE_OK;
}

store_status_t store_load_history(store_t *s, engine_t *e, const char *const *members,
                                  size_t n_members, const char *const *event_ids,
                                  size_t n_event_ids)
{
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    buf_t *member_ids = array_params(s, 2), *ids = member_ids + 1;
    for (size_t i = 0; i < n_members; i++) array_add(member_ids, members[i]);
    for (size_t i = 0; i < n_event_ids; i++) array_add(ids, event_ids[i]);
    const char *v[2] = {array_end(member_ids), array_end(ids)};
    PGresult *r;
    /* A batch asks for a few thousand keys in a table of millions. Costed from a cold cache the
     * planner prefers one sequential scan (and with "member OR event_id" it has no other
     * choice), so the load would grow with the table instead of the batch: two index-driven
     * branches, with sequential scans off for this statement only. */
    if (exec_params(s, "SET enable_seqscan = off", 0, NULL, NULL) != STORE_OK) return STORE_RETRY;
    store_status_t q = exec_params(
        s,
        "SELECT " DET_COLUMNS " FROM determinations WHERE member_id = ANY($1::text[]) "
        "UNION ALL SELECT " DET_COLUMNS " FROM determinations WHERE event_id = ANY($2::text[]) "
        "AND NOT member_id = ANY($1::text[]) ORDER BY seq",
        2, v, &r);
    if (exec_params(s, "RESET enable_seqscan", 0, NULL, NULL) != STORE_OK || q != STORE_OK) {
        if (q == STORE_OK) PQclear(r);
        return STORE_RETRY;
    }
    store_status_t st = STORE_OK;
    for (int i = 0; i < PQntuples(r); i++) {
        determination_t d;
        uint64_t fp;
        if (row_to_determination(r, i, &d, &fp) != 0) {
            st = fail(s, STORE_RETRY, "stored determination %s cannot be read back", col(r, i, 0));
            break;
        }
        if (engine_load(e, &d, fp) != 0) {
            st = fail(s, STORE_RETRY, "out of memory loading history");
            break;
        }
    }
    PQclear(r);
    return st;
}

/* ------------------------------------------------------------------ the batch transaction */

/* COPY text format: backslash, tab, newline and carriage return are escaped. */
static void copy_text(buf_t *b, const char *v)
{
    if (!v) {
        buf_append(b, "\\N", 2);
        return;
    }
    for (; *v; v++) {
        switch (*v) {
        case '\\':
            buf_append(b, "\\\\", 2);
            break;
        case '\t':
            buf_append(b, "\\t", 2);
            break;
        case '\n':
            buf_append(b, "\\n", 2);
            break;
        case '\r':
            buf_append(b, "\\r", 2);
            break;
        default:
            buf_append_char(b, *v);
        }
    }
}

static void copy_bytea(buf_t *b, const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (!p) {
        buf_append(b, "\\N", 2);
        return;
    }
    buf_reserve(b, 3 + 2 * n + 1);
    buf_append(b, "\\\\x", 3);
    const unsigned char *u = p;
    char *w = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        *w++ = hex[u[i] >> 4];
        *w++ = hex[u[i] & 15];
    }
    b->len += 2 * n;
    b->data[b->len] = '\0';
}

static void copy_date(buf_t *b, date_t d)
{
    if (d == DATE_NULL) {
        buf_append(b, "\\N", 2);
        return;
    }
    char tmp[16];
    buf_append(b, tmp, (size_t)date_format(d, tmp));
}

/* COPY binary format (PostgreSQL docs, "COPY", Binary Format): big-endian integers; per field a
 * 4-byte length (-1 for NULL) and the type's binary send form. Binary saves the server the
 * text parsing of every value (measured: 300,000 rows load in 0.65 s instead of 1.5 s) and the
 * worker the hex encoding of every payload. */
#define PG_EPOCH_DAYS 10957                  /* 2000-01-01 in days since 1970-01-01 */
#define PG_EPOCH_US INT64_C(946684800000000) /* ... in microseconds */
#define TEXT_OID 25

static void bin_i16(buf_t *b, int16_t v)
{
    uint16_t u = (uint16_t)v;
    unsigned char x[2] = {(unsigned char)(u >> 8), (unsigned char)u};
    buf_append(b, x, 2);
}

static void bin_i32(buf_t *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    unsigned char x[4] = {(unsigned char)(u >> 24), (unsigned char)(u >> 16),
                          (unsigned char)(u >> 8), (unsigned char)u};
    buf_append(b, x, 4);
}

static void bin_i64(buf_t *b, int64_t v)
{
    bin_i32(b, (int32_t)(uint32_t)((uint64_t)v >> 32));
    bin_i32(b, (int32_t)(uint32_t)(uint64_t)v);
}

static void bin_null(buf_t *b)
{
    bin_i32(b, -1);
}

static void bin_bytes(buf_t *b, const void *p, size_t n)
{
    bin_i32(b, (int32_t)n);
    buf_append(b, p, n);
}

static void bin_text(buf_t *b, const char *v)
{
    if (v)
        bin_bytes(b, v, strlen(v));
    else
        bin_null(b);
}

static void bin_int4(buf_t *b, int32_t v)
{
    bin_i32(b, 4);
    bin_i32(b, v);
}

static void bin_int8(buf_t *b, int64_t v)
{
    bin_i32(b, 8);
    bin_i64(b, v);
}

static void bin_date(buf_t *b, date_t d)
{
    if (d == DATE_NULL)
        bin_null(b);
    else
        bin_int4(b, d - PG_EPOCH_DAYS);
}

static void bin_timestamptz(buf_t *b, int64_t ms)
{
    bin_int8(b, ms * 1000 - PG_EPOCH_US);
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
}

static void bin_uuid(buf_t *b, const char *text)
{
    unsigned char u[16];
    size_t n = 0;
    for (const char *p = text; *p && n < 16; p++) {
        if (*p == '-') continue;
        u[n++] = (unsigned char)(hex_value(p[0]) << 4 | hex_value(p[1]));
        p++;
    }
    bin_bytes(b, u, sizeof u);
}

static void bin_header(buf_t *b)
{
    buf_append(b, "PGCOPY\n\377\r\n\0", 11);
    bin_i32(b, 0); /* flags */
    bin_i32(b, 0); /* header extension length */
}

/* reason_codes text[]: ndim, has-nulls flag, element type, (size, lower bound) per dimension,
 * then the elements. An empty array has no dimensions. */
static void bin_reasons(buf_t *b, const determination_t *d)
{
    size_t len = 12 + (d->n_reasons ? 8 : 0);
    for (int k = 0; k < d->n_reasons; k++) len += 4 + strlen(reason_code_name(d->reasons[k].code));
    bin_i32(b, (int32_t)len);
    bin_i32(b, d->n_reasons ? 1 : 0);
    bin_i32(b, 0);
    bin_i32(b, TEXT_OID);
    if (d->n_reasons) {
        bin_i32(b, d->n_reasons);
        bin_i32(b, 1);
    }
    for (int k = 0; k < d->n_reasons; k++) bin_text(b, reason_code_name(d->reasons[k].code));
}

/* One determinations row, in the column order of the COPY in store_commit_batch. */
static void bin_row(buf_t *b, const store_row_t *row)
{
    const determination_t *d = row->det;
    char trace[MAX_CRITERIA + 1];
    criteria_trace(d, trace);
    bin_i16(b, 29);
    bin_text(b, d->event_id);
    bin_uuid(b, d->determination_id);
    bin_text(b, event_kind_name(d->kind));
    bin_text(b, d->member_id);
    bin_text(b, d->kind == EVENT_PRIOR_AUTH ? d->pa_id : NULL);
    bin_text(b, d->kind == EVENT_CLAIM ? d->claim_id : NULL);
    if (d->kind == EVENT_CLAIM)
        bin_int4(b, d->line_number);
    else
        bin_null(b);
    bin_date(b, d->policy_version);
    bin_date(b, d->decision_date);
    bin_text(b, outcome_name(d->outcome));
    bin_text(b, trace);
    bin_reasons(b, d);
    if (d->has_authorization) {
        bin_date(b, d->valid_from);
        bin_date(b, d->valid_until);
        bin_int4(b, d->max_doses);
        bin_int8(b, d->dose_min_cells);
        bin_int8(b, d->dose_max_cells);
    } else {
        for (int k = 0; k < 5; k++) bin_null(b);
    }
    bin_text(b, d->matched_pa_id);
    bin_int8(b, (int64_t)row->fingerprint);
    bin_bytes(b, row->payload, row->payload_len);
    bin_timestamptz(b, row->received_at_ms);
    bin_text(b, row->topic);
    bin_int4(b, row->partition);
    bin_int8(b, row->offset);
    bin_timestamptz(b, row->decided_at_ms);
    bin_text(b, row->urgency);
    /* Contract §10, migration 006: what engine_load needs to reverse the same lines again. */
    bool claim = d->kind == EVENT_CLAIM;
    bin_text(b, claim ? frequency_code_name(d->frequency_code) : NULL);
    bin_text(b, claim ? d->original_claim_id : NULL);
    bin_text(b, claim ? d->reversed_event_id : NULL);
}

/* COPYs data. @returns STORE_OK, STORE_RETRY, or STORE_REJECTED with the refusal described
 * (no values) in s->error. */
static store_status_t copy_rows(store_t *s, const char *sql, buf_t *data)
{
    PGresult *r = PQexec(s->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fail(s, STORE_RETRY, "%s", PQresultErrorMessage(r));
        PQclear(r);
        return STORE_RETRY;
    }
    PQclear(r);
    /* PQputCopyData takes an int: send a large batch in pieces. */
    for (size_t off = 0; off < data->len;) {
        size_t n = data->len - off > (1u << 30) ? (1u << 30) : data->len - off;
        if (PQputCopyData(s->conn, data->data + off, (int)n) != 1)
            return fail(s, STORE_RETRY, "COPY failed: %s", PQerrorMessage(s->conn));
        off += n;
    }
    if (PQputCopyEnd(s->conn, NULL) != 1)
        return fail(s, STORE_RETRY, "COPY failed: %s", PQerrorMessage(s->conn));
    store_status_t st = STORE_OK;
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && st == STORE_OK) {
            st = classify(r);
            if (st == STORE_REJECTED)
                describe_refusal(r, s->error, sizeof s->error);
            else
                fail(s, st, "%s", PQresultErrorMessage(r));
        }
        PQclear(r);
    }
    return st;
}

static store_status_t fence(store_t *s, const char *group, const store_position_t *pos, size_t n)
{
    buf_t *topics = array_params(s, 2), *partitions = topics + 1;
    for (size_t i = 0; i < n; i++) {
        array_add(topics, pos[i].topic);
        array_add_i64(partitions, pos[i].partition);
    }
    const char *v[3] = {group, array_end(topics), array_end(partitions)};
    PGresult *r;
    if (exec_params(s,
                    "SELECT topic, partition, next_offset FROM consumer_offsets WHERE "
                    "consumer_group = $1 AND (topic, partition) IN "
                    "(SELECT * FROM unnest($2::text[], $3::int[])) FOR UPDATE",
                    3, v, &r) != STORE_OK)
        return STORE_RETRY;
    store_status_t st = STORE_OK;
    for (size_t i = 0; i < n && st == STORE_OK; i++) {
        bool found = false;
        for (int k = 0; k < PQntuples(r); k++) {
            if (strcmp(PQgetvalue(r, k, 0), pos[i].topic) == 0 &&
                atoi(PQgetvalue(r, k, 1)) == pos[i].partition) {
                found = true;
                int64_t now_next = atoll(PQgetvalue(r, k, 2));
                if (now_next != pos[i].expected_next)
                    st = fail(s, STORE_FENCED,
                              "%s[%d] is at offset %lld in the database, this worker expected "
                              "%lld: another worker has taken the partition",
                              pos[i].topic, pos[i].partition, (long long)now_next,
                              (long long)pos[i].expected_next);
            }
        }
        if (!found && st == STORE_OK)
            st = fail(s, STORE_FENCED, "%s[%d] has no consumer_offsets row", pos[i].topic,
                      pos[i].partition);
    }
    PQclear(r);
    return st;
}

/* Writes a timestamp for COPY text, or NULL outside what PostgreSQL and the calendar take. */
static void copy_timestamp_ms(buf_t *b, int64_t ms)
{
    /* 0001-01-01 .. 9999-12-31: a record's timestamp is whatever its producer set. */
    if (ms < INT64_C(-62135596800000) || ms > INT64_C(253402300799999)) {
        buf_append(b, "\\N", 2);
        return;
    }
    int64_t days = ms / 86400000 - (ms % 86400000 < 0), in_day = ms - days * 86400000;
    char date[16];
    date_format((date_t)days, date);
    buf_printf(b, "%s %02d:%02d:%02d.%03d+00", date, (int)(in_day / 3600000),
               (int)(in_day / 60000 % 60), (int)(in_day / 1000 % 60), (int)(in_day % 1000));
}

static void append_hex(buf_t *b, const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = p;
    buf_reserve(b, 2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = hex[u[i] >> 4];
        b->data[b->len++] = hex[u[i] & 15];
    }
    b->data[b->len] = '\0';
}

/* The headers column: [[name hex, value hex or null], ...]. Hex because header names and
 * values are arbitrary bytes (not always UTF-8, which jsonb requires); an operator reads one
 * with convert_from(decode(h->>0, 'hex'), 'UTF8'). */
static void copy_headers(buf_t *b, const record_header_t *h, size_t n)
{
    if (!h || n == 0) {
        buf_append(b, "\\N", 2);
        return;
    }
    buf_append_char(b, '[');
    for (size_t i = 0; i < n; i++) {
        buf_append_str(b, i ? ",[\"" : "[\"");
        append_hex(b, h[i].name, strlen(h[i].name));
        buf_append_str(b, "\",");
        if (h[i].value) {
            buf_append_char(b, '"');
            append_hex(b, h[i].value, h[i].size);
            buf_append_str(b, "\"]");
        } else {
            buf_append_str(b, "null]");
        }
    }
    buf_append_char(b, ']');
}

static void dead_letter_line(buf_t *b, const store_dead_letter_t *dl, const char *group,
                             const char *worker_id)
{
    copy_text(b, dl->topic);
    buf_printf(b, "\t%d\t%lld\t", dl->partition, (long long)dl->offset);
    copy_text(b, dl->reason);
    buf_append_char(b, '\t');
    copy_text(b, dl->error);
    buf_append_char(b, '\t');
    copy_bytea(b, dl->key, dl->key_len);
    buf_append_char(b, '\t');
    copy_bytea(b, dl->payload, dl->payload_len);
    buf_append_char(b, '\t');
    copy_text(b, dl->stage ? dl->stage : "decode");
    buf_append_char(b, '\t');
    copy_headers(b, dl->headers, dl->n_headers);
    buf_append_char(b, '\t');
    if (dl->timestamp_ms >= 0)
        copy_timestamp_ms(b, dl->timestamp_ms);
    else
        buf_append(b, "\\N", 2);
    buf_append_char(b, '\t');
    copy_text(b, dl->consumer_group ? dl->consumer_group : group);
    buf_append_char(b, '\t');
    copy_text(b, dl->worker_id ? dl->worker_id : worker_id);
    buf_printf(b, "\t%d\n", dl->replay_count);
}

#define COPY_DETERMINATIONS                                                                        \
    "COPY determinations (event_id, determination_id, kind, member_id, pa_id, claim_id, "          \
    "line_number, policy_version, decision_date, outcome, criteria, reason_codes, valid_from, "    \
    "valid_until, auth_max_doses, auth_dose_min, auth_dose_max, matched_pa_id, fingerprint, "      \
    "payload, received_at, source_topic, source_partition, source_offset, decided_at, "            \
    "urgency, frequency_code, original_claim_id, reversed_event_id) FROM STDIN WITH (FORMAT "      \
    "binary)"

/* COPYs rows[lo, hi) in binary. */
static store_status_t copy_determinations(store_t *s, const store_row_t *rows, size_t lo, size_t hi)
{
    buf_t *b = &s->copy;
    buf_clear(b);
    bin_header(b);
    for (size_t i = lo; i < hi; i++) bin_row(b, &rows[i]);
    bin_i16(b, -1); /* trailer */
    return copy_rows(s, COPY_DETERMINATIONS, b);
}

/* Finds the rows of [lo, hi) that PostgreSQL refuses, by bisection, each try under a savepoint
 * that is rolled back: about k log2 n COPYs for k refused rows among n. Debezium's JDBC sink
 * goes record by record; bisection finds one bad row of a 2,000-row batch in 22 small COPYs. */
static store_status_t find_refused(store_t *s, const store_row_t *rows, size_t lo, size_t hi,
                                   store_rejection_t *out, size_t *n_out)
{
    if (exec_params(s, "SAVEPOINT probe", 0, NULL, NULL) != STORE_OK) return STORE_RETRY;
    store_status_t st = copy_determinations(s, rows, lo, hi);
    char why[sizeof out->error];
    snprintf(why, sizeof why, "%.*s", (int)sizeof why - 1, s->error);
    if (exec_params(s, "ROLLBACK TO SAVEPOINT probe", 0, NULL, NULL) != STORE_OK)
        return STORE_RETRY;
    if (st != STORE_REJECTED) return st;
    if (hi - lo == 1) {
        out[*n_out].row = lo;
        memcpy(out[*n_out].error, why, sizeof why);
        (*n_out)++;
        return STORE_OK;
    }
    size_t mid = lo + (hi - lo) / 2;
    st = find_refused(s, rows, lo, mid, out, n_out);
    if (st == STORE_OK) st = find_refused(s, rows, mid, hi, out, n_out);
    return st;
}

static store_status_t isolate_refused(store_t *s, const store_row_t *rows, size_t n_rows,
                                      store_rejection_t *rejected, size_t *n_rejected)
{
    char first[sizeof s->error];
    snprintf(first, sizeof first, "%s", s->error);
    *n_rejected = 0;
    store_status_t st = exec_params(s, "BEGIN", 0, NULL, NULL);
    if (st == STORE_OK) st = find_refused(s, rows, 0, n_rows, rejected, n_rejected);
    rollback(s);
    if (st != STORE_OK) return st;
    /* Refused together but not one by one (no such case is known): retrying is all that is
     * left, and it is logged with the first refusal. */
    if (*n_rejected == 0)
        return fail(s, STORE_RETRY, "%s (no single row refused on its own)", first);
    snprintf(s->error, sizeof s->error, "%s", first);
    return STORE_REJECTED;
}

/* The batch's row in worker_batches, written once its COMMIT has returned, so that committed_at
 * and duration_ms (first message polled -> commit) include the commit itself. It is a statistic,
 * not a record of the batch: it goes in its own transaction with synchronous_commit off (no
 * second WAL flush to wait for), in one round trip, and a failure is logged by the caller's
 * next error, never turned into a failed batch. A crash between the two commits loses the row. */
static void record_batch(store_t *s, const store_batch_stats_t *stats, int64_t commit_ms)
{
    char *worker = PQescapeLiteral(s->conn, s->worker_id, strlen(s->worker_id));
    if (!worker) return;
    char sql[512];
    snprintf(sql, sizeof sql,
             "BEGIN; SET LOCAL synchronous_commit = off; INSERT INTO worker_batches (worker_id, "
             "committed_at, messages, judged, replayed, dead_letters, duration_ms) VALUES (%s, "
             "clock_timestamp(), %d, %d, %d, %d, %lld) ON CONFLICT DO NOTHING; COMMIT",
             worker, stats->messages, stats->judged, stats->replayed, stats->dead_letters,
             (long long)stats->duration_ms + (long long)commit_ms);
    PQfreemem(worker);
    PGresult *r = PQexec(s->conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        rollback(s);
        return;
    }
    PQclear(r);
}

store_status_t store_commit_batch(store_t *s, const char *group, const store_row_t *rows,
                                  size_t n_rows, const store_dead_letter_t *dead, size_t n_dead,
                                  const store_position_t *positions, size_t n_positions,
                                  const store_batch_stats_t *stats, store_rejection_t *rejected,
                                  size_t *n_rejected)
{
    *n_rejected = 0;
    const int64_t t0 = mono_ms();
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    store_status_t st = exec_params(s, "BEGIN", 0, NULL, NULL);
    if (st == STORE_OK) st = fence(s, group, positions, n_positions);
    if (st == STORE_OK && n_rows) {
        st = copy_determinations(s, rows, 0, n_rows);
        if (st == STORE_REJECTED) {
            rollback(s);
            return isolate_refused(s, rows, n_rows, rejected, n_rejected);
        }
    }
    if (st == STORE_OK && n_dead) {
        buf_t *b = &s->copy;
        buf_clear(b);
        for (size_t i = 0; i < n_dead; i++) dead_letter_line(b, &dead[i], group, s->worker_id);
        st = copy_rows(s,
                       "COPY dead_letters (source_topic, source_partition, source_offset, reason, "
                       "error, message_key, payload, stage, headers, source_timestamp, "
                       "consumer_group, worker_id, replay_count) FROM STDIN",
                       b);
        /* Every column of a dead letter is bytes, or text and JSON this process wrote: a
         * refusal here is a defect, not a message to isolate. It is retried and logged. */
        if (st == STORE_REJECTED) st = STORE_RETRY;
    }
    if (st == STORE_OK) {
        buf_t *topics = array_params(s, 5), *partitions = topics + 1, *next = topics + 2,
              *published = topics + 3, *high_watermarks = topics + 4;
        for (size_t i = 0; i < n_positions; i++) {
            array_add(topics, positions[i].topic);
            array_add_i64(partitions, positions[i].partition);
            array_add_i64(next, positions[i].new_next);
            array_add_i64(published, positions[i].published);
            array_add_i64(high_watermarks, positions[i].high_watermark);
        }
        const char *v[7] = {group,
                            array_end(topics),
                            array_end(partitions),
                            array_end(next),
                            array_end(published),
                            s->worker_id,
                            array_end(high_watermarks)};
        st = exec_params(s,
                         "UPDATE consumer_offsets o SET next_offset = x.n, published_offset = "
                         "x.pub, high_watermark = CASE WHEN x.hw >= 0 THEN x.hw ELSE "
                         "o.high_watermark END, updated_at = now(), updated_by = $6 FROM "
                         "unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[], $7::bigint[]) "
                         "AS x(t, p, n, pub, hw) WHERE o.consumer_group = $1 AND o.topic = x.t AND "
                         "o.partition = x.p",
                         7, v, NULL);
    }
    if (st == STORE_OK) st = exec_params(s, "COMMIT", 0, NULL, NULL);
    if (st != STORE_OK) {
        char saved[sizeof s->error];
        memcpy(saved, s->error, sizeof saved);
        rollback(s);
        memcpy(s->error, saved, sizeof saved);
        return st;
    }
    if (stats) record_batch(s, stats, mono_ms() - t0);
    return STORE_OK;
}

store_status_t store_mark_published(store_t *s, const char *group, const char *topic,
                                    int32_t partition, int64_t published)
{
    char part[16], pub[24];
    snprintf(part, sizeof part, "%d", partition);
    snprintf(pub, sizeof pub, "%lld", (long long)published);
    const char *v[4] = {group, topic, part, pub};
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    return exec_params(s,
                       "UPDATE consumer_offsets SET published_offset = greatest(published_offset, "
                       "$4::bigint) WHERE consumer_group = $1 AND topic = $2 AND partition = $3",
                       4, v, NULL);
}

/* ------------------------------------------------------------------ dead letters */

#define DL_COLUMNS                                                                                 \
    "source_topic, source_partition, source_offset, reason, error, message_key, payload, stage, "  \
    "headers::text, (extract(epoch FROM source_timestamp) * 1000)::bigint, consumer_group, "       \
    "worker_id, replay_count"

/* What a dead letter read back owns: its bytes, decoded from the row. */
typedef struct {
    unsigned char *key, *payload;
    record_header_t *headers;
    char *header_bytes; /* every name (NUL-terminated) and value, one after the other */
} dl_read_t;

static void dl_read_free(dl_read_t *m)
{
    PQfreemem(m->key);
    PQfreemem(m->payload);
    free(m->headers);
    free(m->header_bytes);
    *m = (dl_read_t){0};
}

static int hex_decode(const char *hex, size_t n, char *out)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        if (!isxdigit((unsigned char)hex[i]) || !isxdigit((unsigned char)hex[i + 1])) return -1;
        out[i / 2] = (char)(hex_value(hex[i]) << 4 | hex_value(hex[i + 1]));
    }
    return n % 2 ? -1 : 0;
}

/* The headers column back into records ([[name hex, value hex or null], ...]). */
static int parse_headers(const char *text, dl_read_t *m, size_t *n_out)
{
    *n_out = 0;
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    if (!json_is_array(root)) {
        json_decref(root);
        return -1;
    }
    size_t n = json_array_size(root), bytes = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *h = json_array_get(root, i);
        json_t *name = json_array_get(h, 0), *value = json_array_get(h, 1);
        if (!json_is_string(name) || !(json_is_string(value) || json_is_null(value))) {
            json_decref(root);
            return -1;
        }
        bytes += json_string_length(name) / 2 + 1 + json_string_length(value) / 2;
    }
    m->headers = calloc(n + 1, sizeof *m->headers);
    m->header_bytes = malloc(bytes + 1);
    char *w = m->header_bytes;
    int rc = m->headers && m->header_bytes ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *h = json_array_get(root, i);
        json_t *name = json_array_get(h, 0), *value = json_array_get(h, 1);
        size_t nl = json_string_length(name);
        rc = hex_decode(json_string_value(name), nl, w);
        w[nl / 2] = '\0';
        m->headers[i].name = w;
        w += nl / 2 + 1;
        if (json_is_string(value) && rc == 0) {
            size_t vl = json_string_length(value);
            rc = hex_decode(json_string_value(value), vl, w);
            m->headers[i].value = w;
            m->headers[i].size = vl / 2;
            w += vl / 2;
        }
    }
    json_decref(root);
    if (rc == 0) *n_out = n;
    return rc;
}

/* Row i of a DL_COLUMNS result as a dead letter; its bytes are owned by m. */
static int read_dead_letter(PGresult *r, int i, store_dead_letter_t *dl, dl_read_t *m)
{
    *m = (dl_read_t){0};
    size_t klen = 0, plen = 0, n_headers = 0;
    if (!PQgetisnull(r, i, 5) &&
        !(m->key = PQunescapeBytea((unsigned char *)PQgetvalue(r, i, 5), &klen)))
        return -1;
    if (!PQgetisnull(r, i, 6) &&
        !(m->payload = PQunescapeBytea((unsigned char *)PQgetvalue(r, i, 6), &plen)))
        return -1;
    if (!PQgetisnull(r, i, 8) && parse_headers(PQgetvalue(r, i, 8), m, &n_headers) != 0) return -1;
    *dl = (store_dead_letter_t){
        .topic = PQgetvalue(r, i, 0),
        .partition = atoi(PQgetvalue(r, i, 1)),
        .offset = atoll(PQgetvalue(r, i, 2)),
        .reason = PQgetvalue(r, i, 3),
        .error = PQgetvalue(r, i, 4),
        .key = m->key,
        .key_len = klen,
        .payload = m->payload,
        .payload_len = plen,
        .stage = PQgetvalue(r, i, 7),
        .headers = m->headers,
        .n_headers = n_headers,
        .timestamp_ms = PQgetisnull(r, i, 9) ? -1 : atoll(PQgetvalue(r, i, 9)),
        .consumer_group = PQgetisnull(r, i, 10) ? NULL : PQgetvalue(r, i, 10),
        .worker_id = PQgetisnull(r, i, 11) ? NULL : PQgetvalue(r, i, 11),
        .replay_count = atoi(PQgetvalue(r, i, 12))};
    return 0;
}

store_status_t store_replay_candidates(store_t *s, const store_replay_filter_t *f,
                                       store_replay_cb cb, void *ctx, long *held)
{
    char guard[16], limit[24];
    snprintf(guard, sizeof guard, "%d", f->max_replays);
    snprintf(limit, sizeof limit, "%ld", f->limit > 0 ? f->limit : LONG_MAX);
    const char *v[5] = {f->reason, f->topic, f->since, guard, limit};
    *held = 0;
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    PGresult *r;
    if (exec_params(s,
                    "SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL AND "
                    "($1::text IS NULL OR reason = $1) AND ($2::text IS NULL OR source_topic = "
                    "$2) AND ($3::timestamptz IS NULL OR received_at >= $3) AND replay_count >= "
                    "$4::int",
                    4, v, &r) != STORE_OK)
        return STORE_RETRY;
    *held = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (exec_params(s,
                    "SELECT " DL_COLUMNS " FROM dead_letters WHERE replayed_at IS NULL AND "
                    "($1::text IS NULL OR reason = $1) AND ($2::text IS NULL OR source_topic = "
                    "$2) AND ($3::timestamptz IS NULL OR received_at >= $3) AND replay_count < "
                    "$4::int ORDER BY received_at, source_topic, source_partition, "
                    "source_offset LIMIT $5::bigint",
                    5, v, &r) != STORE_OK)
        return STORE_RETRY;
    store_status_t st = STORE_OK;
    for (int i = 0; i < PQntuples(r) && st == STORE_OK; i++) {
        store_dead_letter_t dl;
        dl_read_t m;
        if (read_dead_letter(r, i, &dl, &m) != 0)
            st = fail(s, STORE_RETRY, "dead letter %s[%s]@%s cannot be read back",
                      PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
        else if (cb(ctx, &dl) != 0)
            st = fail(s, STORE_RETRY, "replay of %s[%s]@%s stopped", PQgetvalue(r, i, 0),
                      PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
        dl_read_free(&m);
    }
    PQclear(r);
    return st;
}

store_status_t store_mark_replayed(store_t *s, const char *topic, int32_t partition, int64_t offset)
{
    char part[16], off[24];
    snprintf(part, sizeof part, "%d", partition);
    snprintf(off, sizeof off, "%lld", (long long)offset);
    const char *v[3] = {topic, part, off};
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    return exec_params(s,
                       "UPDATE dead_letters SET replayed_at = now() WHERE source_topic = $1 AND "
                       "source_partition = $2 AND source_offset = $3",
                       3, v, NULL);
}

store_status_t store_republish(store_t *s, const char *topic, int32_t partition, int64_t from,
                               int64_t to, store_republish_cb cb, void *ctx)
{
    char part[16], f[24], t[24];
    snprintf(part, sizeof part, "%d", partition);
    snprintf(f, sizeof f, "%lld", (long long)from);
    snprintf(t, sizeof t, "%lld", (long long)to);
    const char *v[4] = {topic, part, f, t};
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    PGresult *dr, *lr;
    if (exec_params(s,
                    "SELECT " DET_COLUMNS " FROM determinations WHERE source_topic = $1 AND "
                    "source_partition = $2 AND source_offset >= $3 AND source_offset < $4 "
                    "ORDER BY source_offset",
                    4, v, &dr) != STORE_OK)
        return STORE_RETRY;
    if (exec_params(s,
                    "SELECT " DL_COLUMNS " FROM dead_letters WHERE source_topic = $1 AND "
                    "source_partition = $2 AND source_offset >= $3 AND source_offset < $4 "
                    "ORDER BY source_offset",
                    4, v, &lr) != STORE_OK) {
        PQclear(dr);
        return STORE_RETRY;
    }
    store_status_t st = STORE_OK;
    int i = 0, k = 0, nd = PQntuples(dr), nl = PQntuples(lr);
    while (st == STORE_OK && (i < nd || k < nl)) {
        int64_t doff = i < nd ? atoll(PQgetvalue(dr, i, 21)) : INT64_MAX;
        int64_t loff = k < nl ? atoll(PQgetvalue(lr, k, 2)) : INT64_MAX;
        if (doff < loff) {
            determination_t d;
            uint64_t fp;
            if (row_to_determination(dr, i, &d, &fp) != 0 ||
                cb(ctx, &d, NULL, atoll(PQgetvalue(dr, i, 18)), topic, partition, doff) != 0)
                st = fail(s, STORE_RETRY, "republishing %s[%d]@%lld failed", topic, partition,
                          (long long)doff);
            i++;
        } else {
            store_dead_letter_t dl;
            dl_read_t m;
            if (read_dead_letter(lr, k, &dl, &m) != 0 ||
                cb(ctx, NULL, &dl, 0, topic, partition, loff) != 0)
                st = fail(s, STORE_RETRY, "republishing dead letter %s[%d]@%lld failed", topic,
                          partition, (long long)loff);
            dl_read_free(&m);
            k++;
        }
    }
    PQclear(dr);
    PQclear(lr);
    return st;
}

/* ------------------------------------------------------------------ retro-review */

static void fmt_date(date_t d, char *buf)
{
    date_format(d, buf);
}

store_status_t store_retro_create_run(store_t *s, date_t from, date_t to, const char *file_version,
                                      const char *sha256, int64_t *run_id)
{
    char f[16], t[16];
    fmt_date(from, f);
    fmt_date(to, t);
    const char *v[4] = {f, t, file_version, sha256};
    PGresult *r;
    if (store_connect(s) != STORE_OK ||
        exec_params(s,
                    "INSERT INTO retro_runs (window_from, window_to, policy_file_version, "
                    "policy_file_sha256) VALUES ($1, $2, $3, $4) RETURNING run_id",
                    4, v, &r) != STORE_OK)
        return STORE_RETRY;
    *run_id = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return STORE_OK;
}

store_status_t store_retro_open(store_t *s, date_t from, date_t to, int64_t *events,
                                int64_t *members)
{
    char f[16], t[16];
    fmt_date(from, f);
    fmt_date(to, t);
    const char *v[2] = {f, t};
    PGresult *r;
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    /* One snapshot for the counts and the cursor, so progress totals match what is read. A dry
     * run writes nothing but its temporary member list (so no READ ONLY transaction) and rolls
     * back at the end. */
    if (exec_params(s, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL, NULL) != STORE_OK)
        return STORE_RETRY;
    if (exec_params(s,
                    "CREATE TEMP TABLE retro_members ON COMMIT DROP AS SELECT DISTINCT member_id "
                    "FROM determinations WHERE decision_date BETWEEN $1 AND $2",
                    2, v, NULL) != STORE_OK ||
        exec_params(s,
                    "SELECT (SELECT count(*) FROM retro_members), (SELECT count(*) FROM "
                    "determinations d JOIN retro_members m USING (member_id))",
                    0, NULL, &r) != STORE_OK) {
        rollback(s);
        return STORE_RETRY;
    }
    *members = atoll(PQgetvalue(r, 0, 0));
    *events = atoll(PQgetvalue(r, 0, 1));
    PQclear(r);
    if (exec_params(s,
                    "DECLARE retro_cursor NO SCROLL CURSOR FOR SELECT d.event_id, d.member_id, "
                    "d.kind, d.payload, (d.decision_date - date '1970-01-01')::int4, d.outcome, "
                    "d.criteria, array_to_string(d.reason_codes, ','), d.reversed_event_id "
                    "FROM determinations d "
                    "JOIN retro_members m USING (member_id) ORDER BY d.member_id, d.seq",
                    0, NULL, NULL) != STORE_OK) {
        rollback(s);
        return STORE_RETRY;
    }
    return STORE_OK;
}

store_status_t store_retro_fetch(store_t *s, retro_row_t *rows, size_t max, size_t *n)
{
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH %zu FROM retro_cursor", max);
    if (s->retro_result) PQclear(s->retro_result);
    /* Binary results: the payload arrives as raw bytes instead of hex text. libpq still
     * NUL-terminates every value, so text columns can be used as C strings. */
    s->retro_result = PQexecParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(s->retro_result) != PGRES_TUPLES_OK) {
        fail(s, STORE_RETRY, "%s", PQresultErrorMessage(s->retro_result));
        PQclear(s->retro_result);
        s->retro_result = NULL;
        return STORE_RETRY;
    }
    PGresult *r = s->retro_result;
    *n = (size_t)PQntuples(r);
    for (size_t i = 0; i < *n; i++) {
        int k = (int)i;
        const unsigned char *day = (const unsigned char *)PQgetvalue(r, k, 4);
        outcome_t o = OUTCOME_PENDED;
        outcome_from_name(PQgetvalue(r, k, 5), &o);
        rows[i] = (retro_row_t){
            .event_id = PQgetvalue(r, k, 0),
            .member_id = PQgetvalue(r, k, 1),
            .kind = strcmp(PQgetvalue(r, k, 2), "claim") == 0 ? EVENT_CLAIM : EVENT_PRIOR_AUTH,
            .payload = PQgetvalue(r, k, 3),
            .payload_len = (size_t)PQgetlength(r, k, 3),
            .decision_date = (date_t)((uint32_t)day[0] << 24 | (uint32_t)day[1] << 16 |
                                      (uint32_t)day[2] << 8 | day[3]),
            .outcome = o,
            .criteria = PQgetvalue(r, k, 6),
            .reasons_csv = PQgetvalue(r, k, 7),
            .reversed_event_id = PQgetisnull(r, k, 8) ? NULL : PQgetvalue(r, k, 8)};
    }
    return STORE_OK;
}

store_status_t store_retro_add_findings(store_t *s, int64_t run_id, const retro_finding_row_t *rows,
                                        size_t n)
{
    if (n == 0) return STORE_OK;
    buf_t *b = &s->copy;
    buf_clear(b);
    for (size_t i = 0; i < n; i++) {
        const retro_finding_row_t *f = &rows[i];
        buf_printf(b, "%lld\t", (long long)run_id);
        copy_text(b, f->event_id);
        buf_append_char(b, '\t');
        copy_text(b, f->member_id);
        buf_printf(b, "\t%s\t", f->kind);
        copy_date(b, f->decision_date);
        buf_printf(b, "\t%s\t%s\t{%s}\t{%s}\t%s\t", f->old_outcome, f->new_outcome,
                   f->old_reasons_csv, f->new_reasons_csv, f->finding);
        copy_text(b, f->old_reversed_event_id);
        buf_append_char(b, '\t');
        copy_text(b, f->new_reversed_event_id);
        buf_append_char(b, '\n');
    }
    return copy_rows(s,
                     "COPY retro_findings (run_id, event_id, member_id, kind, decision_date, "
                     "old_outcome, new_outcome, old_reasons, new_reasons, finding, "
                     "old_reversed_event_id, new_reversed_event_id) FROM STDIN",
                     b);
}

store_status_t store_retro_close(store_t *s, int64_t run_id, const retro_counts_t *c, bool ok)
{
    if (s->retro_result) {
        PQclear(s->retro_result);
        s->retro_result = NULL;
    }
    if (run_id <= 0 || !ok) {
        rollback(s);
        if (run_id > 0) {
            char id[24];
            snprintf(id, sizeof id, "%lld", (long long)run_id);
            const char *v[1] = {id};
            exec_params(s,
                        "UPDATE retro_runs SET status = 'failed', finished_at = now() WHERE "
                        "run_id = $1",
                        1, v, NULL);
        }
        return STORE_OK;
    }
    char vals[9][24];
    int64_t nums[9] = {run_id,
                       c->members,
                       c->events_replayed,
                       c->events_in_window,
                       c->changed,
                       c->paid_now_denied,
                       c->denied_now_paid,
                       c->undecodable,
                       c->reversals_changed};
    const char *v[9];
    for (int i = 0; i < 9; i++) {
        snprintf(vals[i], sizeof vals[i], "%lld", (long long)nums[i]);
        v[i] = vals[i];
    }
    store_status_t st = exec_params(
        s,
        "UPDATE retro_runs SET status = 'finished', finished_at = clock_timestamp(), members = $2, "
        "events_replayed = $3, events_in_window = $4, changed = $5, paid_now_denied = $6, "
        "denied_now_paid = $7, undecodable = $8, reversals_changed = $9 WHERE run_id = $1",
        9, v, NULL);
    if (st == STORE_OK) st = exec_params(s, "COMMIT", 0, NULL, NULL);
    if (st != STORE_OK) rollback(s);
    return st;
}

/* ------------------------------------------------------------------ retention */

/* One retention run per database at a time (migrate's lock is 625062500). */
#define RETENTION_LOCK "625062514"

/* A claim line that bills (contract §10, as the 006 views say it): an ORIGINAL (null on a row
 * written before 006) or an accepted REPLACEMENT. */
#define BILLED_D                                                                                   \
    "(d.frequency_code IS NULL OR d.frequency_code = 'ORIGINAL' OR "                               \
    "(d.frequency_code = 'REPLACEMENT' AND d.reversed_event_id IS NOT NULL))"
/* Rows the run may remove: decided before the horizon ($1) and numbered up to max_seq ($2). */
#define OLD_D "(d.decision_date < $1 AND d.seq <= $2)"
#define OLD_P "(p.decision_date < $1 AND p.seq <= $2)"
#define OLD_R "(r.decision_date < $1 AND r.seq <= $2)"
#define OLD_T "(t.decision_date < $1 AND t.seq <= $2)"
/* Rows that stay whatever this run does. */
#define REMAINS_B                                                                                  \
    "(b.decision_date >= $1 OR b.seq > $2 OR EXISTS (SELECT 1 FROM retention_keep k "              \
    "WHERE k.event_id = b.event_id))"
#define REMAINS_R                                                                                  \
    "(r.decision_date >= $1 OR r.seq > $2 OR EXISTS (SELECT 1 FROM retention_keep k "              \
    "WHERE k.event_id = r.event_id))"

static void fmt_i64(int64_t v, char *buf, size_t n)
{
    snprintf(buf, n, "%lld", (long long)v);
}

store_status_t store_retention_begin(store_t *s, date_t horizon, retention_mode_t mode,
                                     bool dry_run, int64_t *run_id)
{
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    PGresult *r;
    if (exec_params(s, "SELECT pg_try_advisory_lock(" RETENTION_LOCK ")", 0, NULL, &r) != STORE_OK)
        return STORE_RETRY;
    bool locked = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!locked) return fail(s, STORE_FENCED, "another retention run holds the retention lock");
    char h[16];
    fmt_date(horizon, h);
    const char *v[3] = {h, mode == RETENTION_DELETE ? "delete" : "archive",
                        dry_run ? "true" : "false"};
    if (exec_params(s,
                    "INSERT INTO retention_runs (horizon, mode, dry_run) VALUES ($1, $2, $3) "
                    "RETURNING run_id",
                    3, v, &r) != STORE_OK) {
        PQclear(PQexec(s->conn, "SELECT pg_advisory_unlock(" RETENTION_LOCK ")"));
        return STORE_RETRY;
    }
    *run_id = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return STORE_OK;
}

/* The last row number handed out while no batch is being written: every row at or below it is
 * committed (or never will be), every row written later gets a larger one (007: no cache).
 * SHARE waits for the batches in flight and holds new ones back; lock_timeout bounds how long
 * the workers can be held behind it, and the lock is tried again after a pause. */
static store_status_t retention_max_seq(store_t *s, int lock_timeout_ms, int64_t *max_seq)
{
    char set_timeout[64];
    snprintf(set_timeout, sizeof set_timeout, "SET LOCAL lock_timeout = '%dms'", lock_timeout_ms);
    for (int attempt = 0;; attempt++) {
        if (exec_params(s, "BEGIN", 0, NULL, NULL) != STORE_OK ||
            exec_params(s, set_timeout, 0, NULL, NULL) != STORE_OK)
            return STORE_RETRY;
        PGresult *r = PQexec(s->conn, "LOCK TABLE determinations IN SHARE MODE");
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        bool busy = PQresultStatus(r) != PGRES_COMMAND_OK && state && strcmp(state, "55P03") == 0;
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !busy) {
            fail(s, STORE_RETRY, "%s", PQresultErrorMessage(r));
            PQclear(r);
            rollback(s);
            return STORE_RETRY;
        }
        PQclear(r);
        if (busy) {
            rollback(s);
            if (attempt >= 30)
                return fail(s, STORE_RETRY,
                            "determinations stayed locked by another session (30 tries)");
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (exec_params(s,
                        "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence("
                        "'determinations', 'seq')::regclass), 0)",
                        0, NULL, &r) != STORE_OK) {
            rollback(s);
            return STORE_RETRY;
        }
        *max_seq = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (exec_params(s, "COMMIT", 0, NULL, NULL) != STORE_OK) {
            rollback(s);
            return STORE_RETRY;
        }
        return STORE_OK;
    }
}

/* The rules of what stays (docs/DECISIONS.md "Retention"); $1 horizon, $2 max_seq. The first
 * two seed retention_keep, the last three are applied until none adds a row (a kept row can
 * make another one needed). */
static const char *const KEEP_SEEDS[] = {
    /* Paid doses: billed APPROVED claim lines that no later accepted void or replacement of the
     * member names (the reversal test of dashboards.paid_doses_daily). */
    "INSERT INTO retention_keep (event_id, why) SELECT d.event_id, 'paid_dose' "
    "FROM determinations d WHERE " OLD_D " AND d.kind = 'claim' AND d.outcome = 'APPROVED' "
    "AND " BILLED_D " AND NOT EXISTS (SELECT 1 FROM determinations r "
    "WHERE r.reversed_event_id IS NOT NULL AND r.member_id = d.member_id "
    "AND btrim(r.original_claim_id, E' \\t\\r\\n') = d.claim_id "
    "AND r.line_number = d.line_number AND r.seq > d.seq) ON CONFLICT DO NOTHING",
    /* Approvals a claim with a service date at or after the horizon can still match. */
    "INSERT INTO retention_keep (event_id, why) SELECT d.event_id, 'authorization' "
    "FROM determinations d WHERE d.kind = 'prior_auth' AND d.outcome = 'APPROVED' "
    "AND d.valid_until > $1 AND " OLD_D " ON CONFLICT DO NOTHING",
    /* A PA still pending (never approved, its latest determination PENDED): a claim citing it
     * pends (AUTH_PENDING); without it the claim would be denied (AUTH_NOT_FOUND). */
    "INSERT INTO retention_keep (event_id, why) SELECT d.event_id, 'authorization' "
    "FROM determinations d WHERE d.kind = 'prior_auth' AND d.outcome = 'PENDED' AND " OLD_D
    " AND NOT EXISTS (SELECT 1 FROM determinations l WHERE l.member_id = d.member_id "
    "AND l.kind = 'prior_auth' AND l.pa_id = d.pa_id AND (l.seq > d.seq OR l.outcome = "
    "'APPROVED')) ON CONFLICT DO NOTHING",
};

static const char *const KEEP_CLOSURE[] = {
    /* A void or replacement older than the horizon stays while a row of the line it reversed,
     * before it, stays: without it that row would come back to life on reload. */
    "INSERT INTO retention_keep (event_id, why) SELECT r.event_id, 'reversal' "
    "FROM determinations r WHERE r.reversed_event_id IS NOT NULL AND " OLD_R " "
    "AND NOT EXISTS (SELECT 1 FROM retention_keep k WHERE k.event_id = r.event_id) "
    "AND EXISTS (SELECT 1 FROM determinations b WHERE b.member_id = r.member_id "
    "AND b.kind = 'claim' AND b.claim_id = btrim(r.original_claim_id, E' \\t\\r\\n') "
    "AND b.line_number = r.line_number AND b.seq < r.seq AND " REMAINS_B ") "
    "ON CONFLICT DO NOTHING",
    /* The row a remaining void or replacement reversed: replayed (retro), the reversal finds
     * its line and is accepted again instead of ORIGINAL_NOT_FOUND. */
    "INSERT INTO retention_keep (event_id, why) SELECT t.event_id, 'reversed_line' "
    "FROM determinations r JOIN determinations t ON t.event_id = r.reversed_event_id "
    "WHERE r.reversed_event_id IS NOT NULL AND " OLD_T " AND " REMAINS_R " "
    "ON CONFLICT DO NOTHING",
    /* The approvals a kept claim line matched: replayed, it matches them again. */
    "INSERT INTO retention_keep (event_id, why) SELECT p.event_id, 'authorization' "
    "FROM retention_keep k JOIN determinations c ON c.event_id = k.event_id "
    "JOIN determinations p ON p.member_id = c.member_id AND p.pa_id = c.matched_pa_id "
    "WHERE c.matched_pa_id IS NOT NULL AND p.kind = 'prior_auth' AND p.outcome = 'APPROVED' "
    "AND " OLD_P " ON CONFLICT DO NOTHING",
};

static store_status_t exec_count(store_t *s, const char *sql, int n, const char *const *v,
                                 int64_t *count)
{
    PGresult *r;
    if (exec_params(s, sql, n, v, &r) != STORE_OK) return STORE_RETRY;
    *count = atoll(PQcmdTuples(r));
    PQclear(r);
    return STORE_OK;
}

store_status_t store_retention_plan(store_t *s, int64_t run_id, date_t horizon, bool dry_run,
                                    int lock_timeout_ms, retention_plan_t *plan)
{
    memset(plan, 0, sizeof *plan);
    if (store_connect(s) != STORE_OK ||
        retention_max_seq(s, lock_timeout_ms, &plan->max_seq) != STORE_OK)
        return STORE_RETRY;
    char h[16], m[24], id[24];
    fmt_date(horizon, h);
    fmt_i64(plan->max_seq, m, sizeof m);
    fmt_i64(run_id, id, sizeof id);
    const char *v[2] = {h, m};
    /* One snapshot for the rules and the count; the scans of a large table may take longer than
     * a batch's statement_timeout. */
    if (exec_params(s, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL, NULL) != STORE_OK)
        return STORE_RETRY;
    int64_t added = 0;
    store_status_t st = exec_params(s, "SET LOCAL statement_timeout = 0", 0, NULL, NULL);
    if (st == STORE_OK) st = exec_params(s, "TRUNCATE retention_keep", 0, NULL, NULL);
    for (size_t i = 0; st == STORE_OK && i < sizeof KEEP_SEEDS / sizeof *KEEP_SEEDS; i++)
        st = exec_count(s, KEEP_SEEDS[i], 2, v, &added);
    do {
        int64_t round = 0;
        for (size_t i = 0; st == STORE_OK && i < sizeof KEEP_CLOSURE / sizeof *KEEP_CLOSURE; i++) {
            st = exec_count(s, KEEP_CLOSURE[i], 2, v, &added);
            round += added;
        }
        added = round;
    } while (st == STORE_OK && added > 0);
    PGresult *r = NULL;
    if (st == STORE_OK)
        st = exec_params(s,
                         "SELECT count(*), count(*) FILTER (WHERE why = 'paid_dose'), "
                         "count(*) FILTER (WHERE why = 'authorization'), "
                         "count(*) FILTER (WHERE why = 'reversal'), "
                         "count(*) FILTER (WHERE why = 'reversed_line'), "
                         "(SELECT count(*) FROM determinations d WHERE " OLD_D " AND NOT "
                         "EXISTS (SELECT 1 FROM retention_keep k WHERE k.event_id = d.event_id)) "
                         "FROM retention_keep",
                         2, v, &r);
    if (st == STORE_OK) {
        plan->kept = atoll(PQgetvalue(r, 0, 0));
        plan->paid_doses = atoll(PQgetvalue(r, 0, 1));
        plan->authorizations = atoll(PQgetvalue(r, 0, 2));
        plan->reversals = atoll(PQgetvalue(r, 0, 3));
        plan->reversed_lines = atoll(PQgetvalue(r, 0, 4));
        plan->removable = atoll(PQgetvalue(r, 0, 5));
        PQclear(r);
    }
    /* A dry run leaves the last real run's list as it was. */
    if (st == STORE_OK) st = exec_params(s, dry_run ? "ROLLBACK" : "COMMIT", 0, NULL, NULL);
    if (st != STORE_OK) {
        rollback(s);
        return STORE_RETRY;
    }
    char kept[24], paid[24];
    fmt_i64(plan->kept, kept, sizeof kept);
    fmt_i64(plan->paid_doses, paid, sizeof paid);
    const char *u[4] = {id, m, kept, paid};
    return exec_params(s,
                       "UPDATE retention_runs SET max_seq = $2, rows_kept = $3, "
                       "kept_paid_doses = $4 WHERE run_id = $1",
                       4, u, NULL);
}

store_status_t store_retention_batch(store_t *s, int64_t run_id, date_t horizon,
                                     retention_mode_t mode, int64_t max_seq, int batch_rows,
                                     date_t *cursor, int64_t *removed)
{
    *removed = 0;
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    char h[16], m[24], from[16], limit[16];
    fmt_date(horizon, h);
    fmt_i64(max_seq, m, sizeof m);
    if (*cursor == DATE_NULL)
        snprintf(from, sizeof from, "-infinity");
    else
        fmt_date(*cursor, from);
    snprintf(limit, sizeof limit, "%d", batch_rows);
    const char *v[4] = {h, m, from, limit};
    /* The oldest first, through determinations_dash_day (decision_date, ...); from the last
     * batch's day on, so that each batch does not walk again over the index entries of the
     * rows the batches before it removed. */
#define VICTIMS                                                                                    \
    "WITH victims AS (SELECT d.event_id FROM determinations d WHERE d.decision_date >= $3 "        \
    "AND " OLD_D " AND NOT EXISTS (SELECT 1 FROM retention_keep k "                                \
    "WHERE k.event_id = d.event_id) ORDER BY d.decision_date LIMIT $4), "
    static const char archive_sql[] =
        VICTIMS "moved AS (DELETE FROM determinations d USING victims v "
                "WHERE d.event_id = v.event_id RETURNING d.*), "
                "kept AS (INSERT INTO determinations_archive SELECT * FROM moved "
                "RETURNING decision_date) "
                "SELECT count(*), max(decision_date) - date '1970-01-01' FROM kept";
    static const char delete_sql[] =
        VICTIMS "gone AS (DELETE FROM determinations d USING victims v "
                "WHERE d.event_id = v.event_id RETURNING d.decision_date) "
                "SELECT count(*), max(decision_date) - date '1970-01-01' FROM gone";
#undef VICTIMS
    PGresult *r;
    if (exec_params(s, "BEGIN", 0, NULL, NULL) != STORE_OK) return STORE_RETRY;
    if (exec_params(s, mode == RETENTION_DELETE ? delete_sql : archive_sql, 4, v, &r) != STORE_OK) {
        rollback(s);
        return STORE_RETRY;
    }
    int64_t n = atoll(PQgetvalue(r, 0, 0));
    date_t last = col_date(r, 0, 1);
    PQclear(r);
    /* Rows decided before through may be gone: all of the removable ones before the last
     * batch's last day, some of that day's. */
    date_t through = n < batch_rows || last == DATE_NULL ? horizon : last + 1;
    if (through > horizon) through = horizon;
    char id[24], count[24], thr[16];
    fmt_i64(run_id, id, sizeof id);
    fmt_i64(n, count, sizeof count);
    fmt_date(through, thr);
    const char *u[4] = {id, count, thr, mode == RETENTION_DELETE ? "t" : "f"};
    if (exec_params(s,
                    "UPDATE retention_runs SET batches = batches + 1, "
                    "rows_moved = rows_moved + CASE WHEN $4 THEN 0 ELSE $2::bigint END, "
                    "rows_deleted = rows_deleted + CASE WHEN $4 THEN $2::bigint ELSE 0 END, "
                    "removed_through = CASE WHEN $2::bigint > 0 THEN greatest(removed_through, "
                    "$3::date) ELSE removed_through END WHERE run_id = $1",
                    4, u, NULL) != STORE_OK ||
        exec_params(s, "COMMIT", 0, NULL, NULL) != STORE_OK) {
        rollback(s);
        return STORE_RETRY;
    }
    *removed = n;
    if (last != DATE_NULL) *cursor = last;
    return STORE_OK;
}

store_status_t store_retention_finish(store_t *s, int64_t run_id, const char *status)
{
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    char id[24];
    fmt_i64(run_id, id, sizeof id);
    const char *v[2] = {id, status};
    /* A finished run removed everything removable before its horizon. */
    store_status_t st =
        exec_params(s,
                    "UPDATE retention_runs SET status = $2, finished_at = clock_timestamp(), "
                    "removed_through = CASE WHEN $2 = 'finished' AND NOT dry_run THEN horizon "
                    "ELSE removed_through END WHERE run_id = $1",
                    2, v, NULL);
    PQclear(PQexec(s->conn, "SELECT pg_advisory_unlock(" RETENTION_LOCK ")"));
    return st;
}

store_status_t store_retention_horizon(store_t *s, date_t *horizon)
{
    *horizon = DATE_NULL;
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    PGresult *r = PQexec(s->conn, "SELECT retention_horizon() - date '1970-01-01'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        /* 42883: no such function, a database before migration 008: nothing was removed. */
        bool absent = state && strcmp(state, "42883") == 0;
        if (!absent) fail(s, STORE_RETRY, "%s", PQresultErrorMessage(r));
        PQclear(r);
        return absent ? STORE_OK : STORE_RETRY;
    }
    *horizon = col_date(r, 0, 0);
    PQclear(r);
    return STORE_OK;
}

store_status_t store_retro_note_horizon(store_t *s, int64_t run_id, date_t horizon,
                                        bool before_horizon)
{
    char id[24], h[16];
    fmt_i64(run_id, id, sizeof id);
    fmt_date(horizon, h);
    const char *v[3] = {id, horizon == DATE_NULL ? NULL : h, before_horizon ? "t" : "f"};
    if (store_connect(s) != STORE_OK) return STORE_RETRY;
    return exec_params(s,
                       "UPDATE retro_runs SET retention_horizon = $2, "
                       "before_retention_horizon = $3 WHERE run_id = $1",
                       3, v, NULL);
}
