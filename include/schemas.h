/**
 * @file schemas.h
 * @brief The Avro schemas of schemas/, compiled into the binary (see cmake/embed_schemas.cmake
 * and src/io/embedded.c).
 */
#ifndef AMTAGVI_SCHEMAS_H
#define AMTAGVI_SCHEMAS_H

/** @returns the JSON text of schemas/<name>.avsc ("prior_auth", "claim", "determination"), or NULL.
 */
const char *amtagvi_schema_text(const char *name);

#endif
