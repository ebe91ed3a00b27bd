#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_file.h"

/* The policy file is read once at start; 1 MiB is far above any real policy and keeps a
 * mistaken path (a log file, a device) from being slurped. */
#define POLICY_FILE_MAX (1 << 20)

policy_t *policy_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(POLICY_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, POLICY_FILE_MAX + 1, f) : 0;
    int read_error = ferror(f);
    fclose(f);
    if (!text || read_error || n > POLICY_FILE_MAX) {
        snprintf(err, errlen, "%s: %s", path,
                 !text        ? "out of memory"
                 : read_error ? "read error"
                              : "larger than 1 MiB");
        free(text);
        return NULL;
    }
    char inner[400];
    policy_t *p = policy_load_text(text, n, inner, sizeof inner);
    free(text);
    if (!p) snprintf(err, errlen, "%s: %s", path, inner);
    return p;
}
