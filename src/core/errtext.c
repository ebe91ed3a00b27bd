#include "errtext.h"

#include <stdio.h>

/* Longest message before its prefix; longer ones are cut, never overrun. */
#define ERRTEXT_MSG_MAX 256

int errtext_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errtext_vset_prefixed(err, errlen, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

void errtext_vset_prefixed(char *err, size_t errlen, const char *prefix, const char *fmt,
                           va_list ap)
{
    if (!err || errlen == 0) return;
    if (!prefix) {
        vsnprintf(err, errlen, fmt, ap);
        return;
    }
    char msg[ERRTEXT_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    snprintf(err, errlen, "%s: %s", prefix, msg);
}
