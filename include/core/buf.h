/**
 * @file buf.h
 * @brief A growable byte buffer and a bump arena for strings that live as long as a batch.
 */
#ifndef AMTAGVI_BUF_H
#define AMTAGVI_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} buf_t;

/** @brief Makes room for n more bytes. @returns 0 or -1 when memory ran out. */
int buf_reserve(buf_t *b, size_t n);
int buf_append(buf_t *b, const void *p, size_t n);
int buf_append_str(buf_t *b, const char *s);
int buf_append_char(buf_t *b, char c);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** @brief Keeps the memory, drops the content. */
static inline void buf_clear(buf_t *b)
{
    b->len = 0;
}
void buf_free(buf_t *b);

/** A bump allocator in chunks; everything is released at once by arena_reset/arena_free. */
typedef struct arena_chunk arena_chunk_t;
typedef struct {
    arena_chunk_t *head;
    arena_chunk_t *spare;
} arena_t;

void *arena_alloc(arena_t *a, size_t n);
/** @returns a NUL-terminated copy of n bytes of s, or NULL when memory ran out. */
char *arena_strndup(arena_t *a, const char *s, size_t n);
char *arena_strdup(arena_t *a, const char *s);
/** @brief Releases everything allocated; keeps one chunk for reuse. */
void arena_reset(arena_t *a);
void arena_free(arena_t *a);

/**
 * @brief A fast 64-bit non-cryptographic hash of n bytes (word at a time, multiply-xorshift
 * mixing), for hash tables and content fingerprints; stable across runs and machines.
 */
uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);

#endif
