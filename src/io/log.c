#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The one process-wide setting of the adapters; the policy core never logs. */
static log_level_t threshold = LOG_INFO;

void log_set_level(const char *name)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) threshold = (log_level_t)i;
}

void log_at(log_level_t level, const char *msg, const char *fields_fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < threshold) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32], fields[1024] = "";
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    if (fields_fmt) {
        va_list ap;
        va_start(ap, fields_fmt);
        vsnprintf(fields, sizeof fields, fields_fmt, ap);
        va_end(ap);
    }
    /* One fprintf per line so concurrent writers do not interleave within a line. */
    fprintf(stderr, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"%s\"%s%s}\n", stamp,
            ts.tv_nsec / 1000000, names[level], msg, fields[0] ? "," : "", fields);
}
