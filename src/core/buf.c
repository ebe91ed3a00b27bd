#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_reserve(buf_t *b, size_t n)
{
    if (b->cap - b->len >= n) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) return -1;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(buf_t *b, const void *p, size_t n)
{
    if (buf_reserve(b, n + 1) != 0) return -1;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_append_str(buf_t *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_append_char(buf_t *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n + 1) != 0) return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void buf_free(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

struct arena_chunk {
    arena_chunk_t *next;
    size_t used;
    size_t cap;
    _Alignas(16) unsigned char mem[];
};

#define ARENA_CHUNK 65536

void *arena_alloc(arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    arena_chunk_t *c = a->head;
    if (!c || c->cap - c->used < n) {
        /* Reuse chunks kept by arena_reset before asking malloc: fresh pages cost a fault. */
        if (a->spare && a->spare->cap >= n) {
            c = a->spare;
            a->spare = c->next;
        } else {
            size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
            c = malloc(sizeof(*c) + cap);
            if (!c) return NULL;
            c->cap = cap;
        }
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->mem + c->used;
    c->used += n;
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena_t *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void arena_reset(arena_t *a)
{
    /* Keep every standard chunk for reuse (a steady batch size stops allocating); oversized
     * ones go back to malloc. */
    for (arena_chunk_t *c = a->head; c;) {
        arena_chunk_t *next = c->next;
        if (c->cap == ARENA_CHUNK) {
            c->next = a->spare;
            a->spare = c;
        } else {
            free(c);
        }
        c = next;
    }
    a->head = NULL;
}

void arena_free(arena_t *a)
{
    arena_reset(a);
    for (arena_chunk_t *c = a->spare; c;) {
        arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->spare = NULL;
}

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return x;
}

uint64_t hash_bytes(const void *data, size_t n, uint64_t seed)
{
    /* One multiply per word while consuming (FxHash-style), a full mix at the end: the keys are
     * short ids, so the per-word cost matters more than avalanche inside the loop. */
    const unsigned char *p = data;
    uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = ((h << 5 | h >> 59) ^ w) * 0x517cc1b727220a95ULL;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    if (n) memcpy(&w, p, n);
    return mix64(h ^ w ^ ((uint64_t)n << 56));
}
