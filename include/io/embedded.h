/**
 * @file embedded.h
 * @brief Files compiled into the binary: the Avro schemas and the SQL migrations (see
 * cmake/embed_schemas.cmake).
 */
#ifndef AMTAGVI_EMBEDDED_H
#define AMTAGVI_EMBEDDED_H

typedef struct {
    const char *name; /**< file name without its last extension: "001_core", "claim.v1" */
    const char *text;
} embedded_file_t;

/** The schemas/ .avsc files, in name order, ended by {NULL, NULL}. */
extern const embedded_file_t amtagvi_schema_files[];
/** The sql/ .sql files, in name order (= migration order), ended by {NULL, NULL}. */
extern const embedded_file_t amtagvi_migration_files[];

/** @returns the JSON text of schemas/<name>.avsc ("prior_auth", "claim", "determination", and
 * the previous versions "claim.v1", "determination.v1"), or NULL. */
const char *amtagvi_schema_text(const char *name);

#endif
