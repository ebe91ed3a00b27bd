/**
 * @file errtext.h
 * @brief Error messages into a caller's fixed buffer (`char *err, size_t errlen`), the one way
 * every layer reports a failure.
 *
 * Messages that can reach a dead letter or a log must name fields and problems, never quote a
 * value of the event (values are PHI): no string, length, index or count read from the input.
 */
#ifndef AMTAGVI_ERRTEXT_H
#define AMTAGVI_ERRTEXT_H

#include <stdarg.h>
#include <stddef.h>

/** @brief Formats the message into err (truncated to errlen, always terminated). @returns -1. */
int errtext_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * @brief Formats "prefix: message" into err, or the message alone when prefix is NULL; for
 * variadic wrappers that add a context (the event kind) to every message they report.
 */
void errtext_vset_prefixed(char *err, size_t errlen, const char *prefix, const char *fmt,
                           va_list ap) __attribute__((format(printf, 4, 0)));

#endif
