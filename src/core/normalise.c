/* Contract §3 normalisation. Outputs are truncated to outlen-1 bytes; callers pass buffers of
 * EVENT_MAX_STRING_BYTES + 1, which every accepted input fits. */
#include <stdbool.h>
#include <stddef.h>

#include "engine.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

size_t normalise_icd10(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    for (; *s && o + 1 < outlen; s++)
        if (!is_space(*s) && *s != '.') out[o++] = upper(*s);
    out[o] = '\0';
    return o;
}

size_t normalise_code(const char *s, char *out, size_t outlen)
{
    while (is_space(*s)) s++;
    size_t o = 0;
    for (; *s && o + 1 < outlen; s++) out[o++] = upper(*s);
    while (o > 0 && is_space(out[o - 1])) o--;
    out[o] = '\0';
    return o;
}

size_t normalise_drug(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    bool pending_space = false;
    while (is_space(*s)) s++;
    for (; *s && o + 1 < outlen; s++) {
        if (is_space(*s)) {
            pending_space = true;
            continue;
        }
        if (pending_space && o + 2 < outlen) out[o++] = ' ';
        pending_space = false;
        out[o++] = lower(*s);
    }
    out[o] = '\0';
    return o;
}

bool npi_valid(const char *npi)
{
    if (!npi) return false;
    int digits[10];
    for (int i = 0; i < 10; i++) {
        if (npi[i] < '0' || npi[i] > '9') return false;
        digits[i] = npi[i] - '0';
    }
    if (npi[10] != '\0') return false;
    /* Luhn over the prefix 80840 (the NPI's ISO card issuer prefix) and the first 9 digits,
     * doubling every second digit from the right of that 14-digit payload; the constant 24 is
     * the prefix's own Luhn contribution. */
    int sum = 24;
    for (int i = 0; i < 9; i++) {
        int d = digits[8 - i];
        if (i % 2 == 0) {
            d *= 2;
            if (d > 9) d -= 9;
        }
        sum += d;
    }
    return (10 - sum % 10) % 10 == digits[9];
}
