/**
 * @file lru.h
 * @brief An intrusive least-recently-used list: the codec's writer schemas and the registry
 * client's schema texts are each kept by id in a hash and forgotten from the tail of one.
 *
 * An entry embeds an lru_link_t; LRU_ENTRY gets the entry back from its link.
 */
#ifndef AMTAGVI_LRU_H
#define AMTAGVI_LRU_H

#include <stddef.h>

typedef struct lru_link {
    struct lru_link *prev, *next; /**< prev: more recently used */
} lru_link_t;

typedef struct {
    lru_link_t *head, *tail; /**< head: the most recently used */
} lru_list_t;

#define LRU_ENTRY(link, type, member) ((type *)(void *)((char *)(link)-offsetof(type, member)))

static inline void lru_unlink(lru_list_t *l, lru_link_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NULL;
}

static inline void lru_push_front(lru_list_t *l, lru_link_t *e)
{
    e->prev = NULL;
    e->next = l->head;
    if (l->head) l->head->prev = e;
    l->head = e;
    if (!l->tail) l->tail = e;
}

/** @brief Marks e as the most recently used. */
static inline void lru_touch(lru_list_t *l, lru_link_t *e)
{
    if (l->head == e) return;
    lru_unlink(l, e);
    lru_push_front(l, e);
}

#endif
