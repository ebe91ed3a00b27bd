/**
 * @file record.h
 * @brief A Kafka record header, as the Kafka adapter and the store both carry it.
 */
#ifndef AMTAGVI_RECORD_H
#define AMTAGVI_RECORD_H

#include <stddef.h>

/** @brief One record header: a name and a value of size bytes (value NULL: a null header). */
typedef struct {
    const char *name;
    const void *value;
    size_t size;
} record_header_t;

#endif
