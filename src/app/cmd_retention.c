/* `retention`: removes (archives or deletes) determinations decided before a horizon, beside the
 * running workers, except the rows the judge still needs (docs/DECISIONS.md "Retention").
 *
 * Rows go in small batches, one transaction each, oldest decision dates first, with a pause
 * between them: the workers only insert, so a batch never holds a lock they wait for, and the
 * WAL and I/O of a run are spread out. SIGTERM/SIGINT stop the run between two batches (status
 * interrupted); running it again resumes, since every batch committed is progress. The output
 * is counts, dates and ids only. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "date.h"
#include "log.h"
#include "store.h"

/* A horizon closer than this needs --force: a void or replacement of a removed line is refused
 * (ORIGINAL_NOT_FOUND) and a replayed event older than the horizon is judged anew, so the
 * horizon must lie beyond the claims-correction window (timely filing is a year at most). */
#define RETENTION_FLOOR_DAYS 400
#define DEFAULT_BATCH_ROWS 5000
#define DEFAULT_PAUSE_MS 100
/* How long the workers' next batches may wait behind the start of a run (retention_max_seq). */
#define LOCK_TIMEOUT_MS 1000

static volatile sig_atomic_t stop_requested = 0;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static date_t today_utc(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return date_of_timestamp_ms((int64_t)ts.tv_sec * 1000);
}

/* Sleeps ms unless a stop is requested (the signal interrupts nanosleep). */
static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (!stop_requested && nanosleep(&ts, &ts) != 0) {
    }
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static const char USAGE[] =
    "usage: amtagvi-adjudicator retention --config FILE (--older-than-days N | --before "
    "YYYY-MM-DD)\n"
    "           [--mode archive|delete] [--batch-rows N] [--pause-ms MS] [--dry-run] [--force]\n"
    "  removes determinations decided before the horizon, except those the judge still needs\n"
    "  (paid doses, the voids and replacements of kept lines, approvals still usable), in\n"
    "  batches of --batch-rows (default 5000) with --pause-ms (default 100) between them.\n"
    "  archive (default) moves them to determinations_archive, delete deletes them. A horizon\n"
    "  less than 400 days back needs --force. SIGTERM/SIGINT stop between batches; running\n"
    "  again resumes. database.url must name the owner of the tables (the migrate role).\n";

int cmd_retention(int argc, char **argv)
{
    const char *config_path = NULL, *before_s = NULL, *mode_s = "archive";
    long days = -1, batch_rows = DEFAULT_BATCH_ROWS, pause = DEFAULT_PAUSE_MS;
    bool dry_run = false, force = false;
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"older-than-days", required_argument, 0, 'o'},
                                         {"before", required_argument, 0, 'b'},
                                         {"mode", required_argument, 0, 'm'},
                                         {"batch-rows", required_argument, 0, 'r'},
                                         {"pause-ms", required_argument, 0, 'p'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"force", no_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'o':
            ok = parse_long(optarg, 0, 3650000, &days);
            break;
        case 'b':
            before_s = optarg;
            break;
        case 'm':
            mode_s = optarg;
            ok = strcmp(optarg, "archive") == 0 || strcmp(optarg, "delete") == 0;
            break;
        case 'r':
            ok = parse_long(optarg, 1, 1000000, &batch_rows);
            break;
        case 'p':
            ok = parse_long(optarg, 0, 600000, &pause);
            break;
        case 'n':
            dry_run = true;
            break;
        case 'f':
            force = true;
            break;
        default:
            fputs(USAGE, c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
        if (!ok) {
            fprintf(stderr, "amtagvi-adjudicator: retention: bad value for --%s: '%s'\n%s",
                    c == 'o'   ? "older-than-days"
                    : c == 'm' ? "mode"
                    : c == 'r' ? "batch-rows"
                               : "pause-ms",
                    optarg, USAGE);
            return 2;
        }
    }
    if (optind < argc || (days < 0) == (before_s == NULL)) {
        fprintf(stderr,
                "amtagvi-adjudicator: retention needs one of --older-than-days and "
                "--before\n%s",
                USAGE);
        return 2;
    }
    const date_t today = today_utc();
    date_t horizon;
    if (before_s) {
        if (date_parse(before_s, strlen(before_s), &horizon) != 0) {
            fprintf(stderr, "amtagvi-adjudicator: retention: --before '%s' is not a date\n",
                    before_s);
            return 2;
        }
        days = (long)today - (long)horizon;
    } else {
        horizon = today - (date_t)days;
    }
    char h[16], t[16];
    date_format(horizon, h);
    date_format(today, t);
    if (days < RETENTION_FLOOR_DAYS && !force) {
        fprintf(stderr,
                "amtagvi-adjudicator: retention: refused: the horizon %s is %ld days before "
                "today (%s), less than %d. A void or replacement of a removed line would be "
                "refused (ORIGINAL_NOT_FOUND) and a replayed older event judged anew; the "
                "horizon must lie beyond the claims-correction window. --force overrides.\n",
                h, days, t, RETENTION_FLOOR_DAYS);
        return 2;
    }
    const retention_mode_t mode =
        strcmp(mode_s, "delete") == 0 ? RETENTION_DELETE : RETENTION_ARCHIVE;
    config_t cfg;
    if (cli_load_config(&cfg, config_path) != 0) {
        config_free(&cfg);
        return 2;
    }
    store_t *store = store_new(cfg.database_url, cfg.worker_id);
    if (!store) {
        fprintf(stderr, "amtagvi-adjudicator: retention: out of memory\n");
        config_free(&cfg);
        return 1;
    }
    /* No SA_RESTART: a signal cuts the pause between batches short. */
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int rc = 1;
    int64_t run_id = 0, removed_total = 0, batches = 0;
    retention_plan_t plan;
    const double t0 = mono_s();
    store_status_t st = store_retention_begin(store, horizon, mode, dry_run, &run_id);
    if (st != STORE_OK) {
        fprintf(stderr, "amtagvi-adjudicator: retention: %s\n", store_error(store));
        goto cleanup;
    }
    log_at(LOG_INFO, "retention started",
           "\"run_id\":%lld,\"horizon\":\"%s\",\"mode\":\"%s\",\"batch_rows\":%ld,"
           "\"pause_ms\":%ld,\"dry_run\":%s",
           (long long)run_id, h, mode_s, batch_rows, pause, dry_run ? "true" : "false");
    if ((st = store_retention_plan(store, run_id, horizon, dry_run, LOCK_TIMEOUT_MS, &plan)) !=
        STORE_OK) {
        fprintf(stderr, "amtagvi-adjudicator: retention: %s\n", store_error(store));
        store_retention_finish(store, run_id, "failed");
        goto cleanup;
    }
    printf("retention run %lld%s: horizon %s (%ld days before %s), mode %s\n", (long long)run_id,
           dry_run ? " (dry run)" : "", h, days, t, mode_s);
    printf("  kept, the judge needs them        %lld (paid doses %lld, authorizations %lld, "
           "reversals %lld, reversed lines %lld)\n",
           (long long)plan.kept, (long long)plan.paid_doses, (long long)plan.authorizations,
           (long long)plan.reversals, (long long)plan.reversed_lines);
    printf("  %-34s%lld\n", dry_run ? "would be removed" : "to remove", (long long)plan.removable);
    fflush(stdout);
    const char *status = "finished";
    if (!dry_run) {
        date_t cursor = DATE_NULL;
        double last_report = t0;
        while (!stop_requested) {
            int64_t n = 0;
            if ((st = store_retention_batch(store, run_id, horizon, mode, plan.max_seq,
                                            (int)batch_rows, &cursor, &n)) != STORE_OK)
                break;
            if (n == 0) break;
            batches++;
            removed_total += n;
            double now = mono_s();
            if (now - last_report >= 5.0) {
                char through[16];
                date_format(cursor, through);
                fprintf(stderr, "retention: %lld/%lld rows %s, %lld batches, at %s\n",
                        (long long)removed_total, (long long)plan.removable,
                        mode == RETENTION_DELETE ? "deleted" : "moved", (long long)batches,
                        through);
                last_report = now;
            }
            if (n < batch_rows) break; /* the last one */
            pause_ms(pause);
        }
        if (st != STORE_OK)
            status = "failed";
        else if (stop_requested)
            status = "interrupted";
    }
    if (st != STORE_OK)
        fprintf(stderr, "amtagvi-adjudicator: retention: batch failed: %s\n", store_error(store));
    store_status_t fst = store_retention_finish(store, run_id, status);
    if (fst != STORE_OK)
        fprintf(stderr, "amtagvi-adjudicator: retention: %s\n", store_error(store));
    const double secs = mono_s() - t0;
    if (!dry_run)
        printf("  %-34s%lld in %lld batches, %.1f s\n",
               mode == RETENTION_DELETE ? "deleted" : "moved to determinations_archive",
               (long long)removed_total, (long long)batches, secs);
    printf("  status                            %s%s\n", status,
           strcmp(status, "interrupted") == 0 ? " (run again to resume)" : "");
    log_at(LOG_INFO, "retention stopped",
           "\"run_id\":%lld,\"status\":\"%s\",\"removed\":%lld,\"batches\":%lld,\"kept\":%lld",
           (long long)run_id, status, (long long)removed_total, (long long)batches,
           (long long)plan.kept);
    rc = st == STORE_OK && fst == STORE_OK ? 0 : 1;

cleanup:
    store_free(store);
    config_free(&cfg);
    return rc;
}
