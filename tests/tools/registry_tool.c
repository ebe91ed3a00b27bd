/* registry_tool: drives the Schema Registry client (src/io/registry.c) for
 * tests/registry/registry_client.py. One command per stdin line, fields separated by tabs; one
 * JSON object per answer on stdout, so a test can keep one client (and its cache) alive while
 * it stops and starts the registry.
 *
 *   new URLS TIMEOUT_MS [BASIC_AUTH [CA_FILE]]  -> {"ok":true} | {"ok":false,"err":...}
 *   get ID                                      -> {"status":...,"ms":N,"schema":...,"err":...}
 *   register SUBJECT SCHEMA_FILE                -> {"status":...,"ms":N,"id":N,"err":...}
 *   subject STRATEGY TOPIC FULL_NAME            -> {"rc":N,"subject":...}
 *   free                                        -> {"ok":true}
 */
#include "registry.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void answer(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    puts(s ? s : "{\"ok\":false,\"err\":\"out of memory\"}");
    fflush(stdout);
    free(s);
    json_decref(j);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
            } else {
                buf = b;
            }
        }
    }
    fclose(f);
    if (buf) buf[len] = '\0';
    return buf;
}

int main(void)
{
    registry_t *r = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        if (line[got - 1] == '\n') line[--got] = '\0';
        char *argv[8] = {0};
        int argc = 0;
        for (char *p = line; p && argc < 8;) {
            argv[argc++] = p;
            p = strchr(p, '\t');
            if (p) *p++ = '\0';
        }
        if (!argc || !argv[0][0]) continue;
        char err[1024] = "";
        if (strcmp(argv[0], "new") == 0 && argc >= 3) {
            registry_free(r);
            registry_config_t cfg = {argv[1], argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL,
                                     atol(argv[2])};
            r = registry_new(&cfg, err, sizeof err);
            answer(r ? json_pack("{s:b}", "ok", 1) : json_pack("{s:b,s:s}", "ok", 0, "err", err));
        } else if (strcmp(argv[0], "get") == 0 && argc == 2 && r) {
            char *schema = NULL;
            double t0 = now_ms();
            registry_status_t st = registry_schema_by_id(r, (int32_t)strtol(argv[1], NULL, 10),
                                                         &schema, err, sizeof err);
            double ms = now_ms() - t0;
            answer(json_pack("{s:s,s:f,s:s?,s:s}", "status", registry_status_name(st), "ms", ms,
                             "schema", schema, "err", st == REGISTRY_OK ? "" : err));
            free(schema);
        } else if (strcmp(argv[0], "register") == 0 && argc == 3 && r) {
            char *text = read_file(argv[2]);
            if (!text) {
                answer(json_pack("{s:s,s:s}", "status", "tool_error", "err", "cannot read file"));
                continue;
            }
            int32_t id = -1;
            double t0 = now_ms();
            registry_status_t st = registry_register(r, argv[1], text, &id, err, sizeof err);
            double ms = now_ms() - t0;
            answer(json_pack("{s:s,s:f,s:i,s:s}", "status", registry_status_name(st), "ms", ms,
                             "id", (int)id, "err", st == REGISTRY_OK ? "" : err));
            free(text);
        } else if (strcmp(argv[0], "subject") == 0 && argc == 4) {
            char out[256];
            int rc = registry_subject(argv[1], argv[2], argv[3], out, sizeof out);
            answer(json_pack("{s:i,s:s}", "rc", rc, "subject", rc == 0 ? out : ""));
        } else if (strcmp(argv[0], "free") == 0) {
            registry_free(r);
            r = NULL;
            answer(json_pack("{s:b}", "ok", 1));
        } else {
            answer(json_pack("{s:s,s:s}", "status", "tool_error", "err",
                             r ? "unknown command" : "unknown command or no client (new first)"));
        }
    }
    registry_free(r);
    free(line);
    return 0;
}
