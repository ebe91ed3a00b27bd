/* `evaluate` (contract §9): the engine without Kafka or PostgreSQL, through the same judging
 * code the worker calls. History lives in memory for the whole stream. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "engine.h"
#include "json_event.h"
#include "log.h"

#define FLUSH_AT (1 << 16)

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n' && s[i] != '\f' &&
            s[i] != '\v')
            return false;
    return true;
}

static int flush(buf_t *out)
{
    if (out->len && fwrite(out->data, 1, out->len, stdout) != out->len) return -1;
    buf_clear(out);
    return 0;
}

int cmd_evaluate(int argc, char **argv)
{
    const char *policy_path = NULL;
    static const struct option opts[] = {
        {"policy", required_argument, 0, 'p'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
        if (c == 'p') {
            policy_path = optarg;
        } else {
            fputs("usage: amtagvi-adjudicator evaluate [--policy FILE] < events.jsonl\n",
                  c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    config_t cfg;
    if (cli_load_config(&cfg, NULL) != 0) {
        config_free(&cfg);
        return 2;
    }
    policy_t *policy = cli_load_policy(cli_policy_path(policy_path, &cfg));
    config_free(&cfg);
    if (!policy) return 1;
    engine_t *engine = engine_new(policy);
    buf_t out = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) != -1) {
        lineno++;
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n') len--;
        if (len && line[len - 1] == '\r') len--;
        if (blank(line, len)) continue;
        event_t ev;
        char err[256];
        if (json_event_parse(line, len, &ev, err, sizeof err) != 0) {
            buf_printf(&out, "{\"line\": %ld, \"rejected\": true, \"error\": ", lineno);
            json_append_string(&out, err);
            buf_append_str(&out, "}\n");
        } else {
            const determination_t *d;
            int r = engine_process(engine, &ev, &d);
            if (r < 0) {
                fprintf(stderr, "amtagvi-adjudicator: out of memory at line %ld\n", lineno);
                rc = 1;
                break;
            }
            if (r == ENGINE_REPLAYED_DIFFERENT) {
                /* Event ids are not PHI; the differing content is not logged. */
                log_at(LOG_WARN,
                       "replayed event_id with different content; stored determination returned",
                       "\"line\":%ld,\"event_id\":\"%s\"", lineno, d->event_id);
            }
            if (json_append_determination(&out, d, policy) != 0 || buf_append_char(&out, '\n')) {
                rc = 1;
                break;
            }
        }
        if (out.len >= FLUSH_AT && flush(&out) != 0) {
            rc = 1;
            break;
        }
    }
    if (flush(&out) != 0 || fflush(stdout) != 0) {
        perror("amtagvi-adjudicator: writing stdout");
        rc = 1;
    }
    if (ferror(stdin)) {
        perror("amtagvi-adjudicator: reading stdin");
        rc = 1;
    }
    free(line);
    buf_free(&out);
    engine_free(engine);
    policy_free(policy);
    return rc;
}
