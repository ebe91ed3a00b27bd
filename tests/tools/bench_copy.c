/* The COPY anchor for ops/bench: loads a COPY file (the rows the worker wrote, exported with
 * COPY ... TO, text or binary format) into a table with the same indexes, BATCH rows per
 * transaction — the worker's batch size — so the worker can be compared with PostgreSQL's own
 * bulk path. The worker writes binary COPY; the anchor is given the same format.
 * usage: bench_copy CONNINFO FILE TABLE COLUMNS BATCH   (prints one JSON object) */
#include <libpq-fe.h>
#include <stdint.h>
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

static uint32_t be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static uint16_t be16(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint16_t)(u[0] << 8 | u[1]);
}

static int run(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

static int flush_copy(PGconn *c, const char *copy_sql, const char *header, size_t header_len,
                      const char *data, size_t len)
{
    if (run(c, "BEGIN") != 0) return -1;
    PGresult *r = PQexec(c, copy_sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fprintf(stderr, "%s", PQresultErrorMessage(r));
        return -1;
    }
    PQclear(r);
    static const char trailer[2] = {(char)0xff, (char)0xff};
    if (header_len) PQputCopyData(c, header, (int)header_len);
    PQputCopyData(c, data, (int)len);
    if (header_len) PQputCopyData(c, trailer, 2);
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
    /* Read everything first so file I/O is not timed. */
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    if (fread(data, 1, (size_t)size, f) != (size_t)size) return 1;
    fclose(f);
    long rows = 0, in_batch = 0;
    static const char magic[11] = "PGCOPY\n\377\r\n";
    const int binary = size >= 19 && memcmp(data, magic, 11) == 0;
    snprintf(copy_sql, sizeof copy_sql, "COPY %s (%s) FROM STDIN%s", argv[3], argv[4],
             binary ? " WITH (FORMAT binary)" : "");
    double t0 = now();
    if (binary) {
        /* Header: signature, flags, extension length (+ extension); then per tuple a 16-bit
         * field count and per field a 32-bit length (-1: NULL) and the bytes; trailer -1. */
        size_t pos = 19 + be32(data + 15);
        const size_t header_len = pos;
        size_t start = pos;
        while (pos + 2 <= (size_t)size) {
            int16_t nf = (int16_t)be16(data + pos);
            if (nf < 0) break;
            pos += 2;
            for (int k = 0; k < nf; k++) {
                int32_t len = (int32_t)be32(data + pos);
                pos += 4 + (len > 0 ? (size_t)len : 0);
            }
            rows++;
            if (++in_batch == batch) {
                if (flush_copy(c, copy_sql, data, header_len, data + start, pos - start) != 0)
                    return 1;
                start = pos;
                in_batch = 0;
            }
        }
        if (in_batch && flush_copy(c, copy_sql, data, header_len, data + start, pos - start) != 0)
            return 1;
    } else {
        size_t start = 0;
        for (long i = 0; i < size; i++) {
            if (data[i] != '\n') continue;
            rows++;
            if (++in_batch == batch) {
                if (flush_copy(c, copy_sql, NULL, 0, data + start, (size_t)i + 1 - start) != 0)
                    return 1;
                start = (size_t)i + 1;
                in_batch = 0;
            }
        }
        if (in_batch && flush_copy(c, copy_sql, NULL, 0, data + start, (size_t)size - start) != 0)
            return 1;
    }
    double secs = now() - t0;
    printf("{\"rows\": %ld, \"seconds\": %.3f, \"per_s\": %.0f}\n", rows, secs, rows / secs);
    free(data);
    PQfinish(c);
    return 0;
}
