/* The naive baseline for ops/bench: the same determination rows written one INSERT per
 * transaction, the way a simple consumer would. Copies up to N rows of a source table into an
 * empty table with the same columns and indexes. Prints one JSON object.
 * usage: bench_naive CONNINFO SOURCE_TABLE TARGET_TABLE N */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_naive CONNINFO SOURCE TARGET N\n");
        return 2;
    }
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(c));
        return 1;
    }
    char sql[8192];
    /* Every column but the identity as text, in table order. */
    snprintf(sql, sizeof sql,
             "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM "
             "information_schema.columns WHERE table_name = '%s' AND is_identity = 'NO'",
             argv[2]);
    PGresult *r = PQexec(c, sql);
    char cols[4096];
    snprintf(cols, sizeof cols, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    int ncols = 1;
    for (const char *p = cols; *p; p++) ncols += *p == ',';
    snprintf(sql, sizeof sql, "SELECT %s FROM %s LIMIT %s", cols, argv[2], argv[4]);
    PGresult *rows = PQexec(c, sql);
    if (PQresultStatus(rows) != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s", PQresultErrorMessage(rows));
        return 1;
    }
    char insert[8192];
    int o = snprintf(insert, sizeof insert, "INSERT INTO %s (%s) VALUES (", argv[3], cols);
    for (int i = 0; i < ncols; i++)
        o += snprintf(insert + o, sizeof insert - (size_t)o, "%s$%d", i ? ", " : "", i + 1);
    snprintf(insert + o, sizeof insert - (size_t)o, ")");
    const char *values[64];
    int n = PQntuples(rows);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < ncols && k < 64; k++)
            values[k] = PQgetisnull(rows, i, k) ? NULL : PQgetvalue(rows, i, k);
        /* Autocommit: one transaction (and one WAL flush) per event. */
        PGresult *ir = PQexecParams(c, insert, ncols, NULL, values, NULL, NULL, 0);
        if (PQresultStatus(ir) != PGRES_COMMAND_OK) {
            fprintf(stderr, "%s", PQresultErrorMessage(ir));
            return 1;
        }
        PQclear(ir);
    }
    double secs = now() - t0;
    printf("{\"rows\": %d, \"seconds\": %.3f, \"per_s\": %.0f}\n", n, secs, n / secs);
    PQclear(rows);
    PQfinish(c);
    return 0;
}
