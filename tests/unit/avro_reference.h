/**
 * @file avro_reference.h
 * @brief A determination encoded through avro-c's generic values, field by field by name from
 * the embedded schema: the reference test_avro_codec checks the codec's direct encoder against,
 * byte for byte. Test code only; slow, and it trusts its input (check with the codec first).
 */
#ifndef AMTAGVI_AVRO_REFERENCE_H
#define AMTAGVI_AVRO_REFERENCE_H

#include <stdint.h>

#include "avro_codec.h"

typedef struct avro_reference avro_reference_t;

/** @returns the reference encoder (the determination schema, its class and a value). */
avro_reference_t *avro_reference_new(void);
void avro_reference_free(avro_reference_t *r);

/**
 * @brief Appends the Confluent-framed encoding of the determination, with the policy's reason
 * texts and the worker's meta (NULL: none), to out. @returns 0 or -1.
 */
int avro_reference_encode_determination(avro_reference_t *r, const determination_t *d,
                                        const policy_t *p, const determination_meta_t *meta,
                                        int32_t schema_id, buf_t *out);

#endif
