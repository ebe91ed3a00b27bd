/* The COPY anchor for ops/bench: loads a text-format COPY file (the rows the worker wrote,
 * exported with COPY ... TO) into a table with the same indexes, BATCH rows per transaction —
 * the worker's batch size — so the worker can be compared with PostgreSQL's own bulk path.
 * usage: bench_copy CONNINFO FILE TABLE COLUMNS BATCH   (prints one JSON object) */
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

static int run(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

static int flush_copy(PGconn *c, const char *copy_sql, const char *data, size_t len)
{
    if (run(c, "BEGIN") != 0) return -1;
    PGresult *r = PQexec(c, copy_sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fprintf(stderr, "%s", PQresultErrorMessage(r));
        return -1;
    }
    PQclear(r);
    PQputCopyData(c, data, (int)len);
    PQputCopyEnd(c, NULL);
    while ((r = PQgetResult(c))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "%s", PQresultErrorMessage(r));
            return -1;
        }
        PQclear(r);
    }
    return run(c, "COMMIT");
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_copy CONNINFO FILE TABLE COLUMNS BATCH\n");
        return 2;
    }
    long batch = atol(argv[5]);
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(c));
        return 1;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    char copy_sql[4096];
    snprintf(copy_sql, sizeof copy_sql, "COPY %s (%s) FROM STDIN", argv[3], argv[4]);
    /* Read everything first so file I/O is not timed. */
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    if (fread(data, 1, (size_t)size, f) != (size_t)size) return 1;
    fclose(f);
    long rows = 0, in_batch = 0;
    size_t start = 0;
    double t0 = now();
    for (long i = 0; i < size; i++) {
        if (data[i] != '\n') continue;
        rows++;
        if (++in_batch == batch) {
            if (flush_copy(c, copy_sql, data + start, (size_t)i + 1 - start) != 0) return 1;
            start = (size_t)i + 1;
            in_batch = 0;
        }
    }
    if (in_batch && flush_copy(c, copy_sql, data + start, (size_t)size - start) != 0) return 1;
    double secs = now() - t0;
    printf("{\"rows\": %ld, \"seconds\": %.3f, \"per_s\": %.0f}\n", rows, secs, rows / secs);
    free(data);
    PQfinish(c);
    return 0;
}
