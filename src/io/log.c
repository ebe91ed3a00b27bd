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

/* Appends s (n bytes) JSON-escaped; control characters become \u00XX. */
static size_t put_escaped(char *out, size_t o, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n && o + 7 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            out[o++] = '\\';
            out[o++] = 'u';
            out[o++] = '0';
            out[o++] = '0';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    return o;
}

/* A small printf for the fields: every %s / %.*s argument is JSON-escaped, so a message from
 * libpq or librdkafka (quotes, newlines) cannot break the line. Supports %s %.*s %d %u %ld %lld
 * %zu %%, which is all the callers use. */
static void format_fields(char *out, size_t cap, const char *fmt, va_list ap)
{
    size_t o = 0;
    for (const char *f = fmt; *f && o + 1 < cap; f++) {
        if (*f != '%') {
            out[o++] = *f;
            continue;
        }
        f++;
        char num[32];
        int len = -1;
        if (f[0] == '.' && f[1] == '*' && f[2] == 's') {
            int n = va_arg(ap, int);
            const char *s = va_arg(ap, const char *);
            o = put_escaped(out, o, cap, s ? s : "", s ? strnlen(s, (size_t)(n < 0 ? 0 : n)) : 0);
            f += 2;
        } else if (*f == 's') {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "";
            o = put_escaped(out, o, cap, s, strlen(s));
        } else if (*f == 'd') {
            len = snprintf(num, sizeof num, "%d", va_arg(ap, int));
        } else if (*f == 'u') {
            len = snprintf(num, sizeof num, "%u", va_arg(ap, unsigned));
        } else if (f[0] == 'z' && f[1] == 'u') {
            len = snprintf(num, sizeof num, "%zu", va_arg(ap, size_t));
            f++;
        } else if (f[0] == 'l' && f[1] == 'l' && f[2] == 'd') {
            len = snprintf(num, sizeof num, "%lld", va_arg(ap, long long));
            f += 2;
        } else if (f[0] == 'l' && f[1] == 'd') {
            len = snprintf(num, sizeof num, "%ld", va_arg(ap, long));
            f++;
        } else if (*f == '%') {
            out[o++] = '%';
        } else {
            break; /* an unsupported conversion: stop rather than misread the arguments */
        }
        for (int i = 0; i < len && o + 1 < cap; i++) out[o++] = num[i];
    }
    out[o] = '\0';
}

void log_at(log_level_t level, const char *msg, const char *fields_fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < threshold) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32], fields[2048] = "", m[512];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    if (fields_fmt) {
        va_list ap;
        va_start(ap, fields_fmt);
        format_fields(fields, sizeof fields, fields_fmt, ap);
        va_end(ap);
    }
    m[put_escaped(m, 0, sizeof m, msg, strlen(msg))] = '\0';
    /* One fprintf per line so concurrent writers do not interleave within a line. */
    fprintf(stderr, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"%s\"%s%s}\n", stamp,
            ts.tv_nsec / 1000000, names[level], m, fields[0] ? "," : "", fields);
}
