/**
 * @file event.h
 * @brief The two input events of contract §2, as the policy core sees them.
 *
 * Strings are NUL-terminated and borrowed: whoever decoded the event (the JSON reader, the Avro
 * codec) owns their storage and keeps it alive while the event is judged. A NULL pointer is a
 * null value. Arrays are fixed at the contract's limit of 64 items, so an event needs no
 * allocation of its own.
 */
#ifndef AMTAGVI_EVENT_H
#define AMTAGVI_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"

/** Contract §2 limits: longer strings and arrays are rejected, not judged. */
#define EVENT_MAX_STRING_BYTES 128
#define EVENT_MAX_ARRAY_ITEMS 64

typedef enum { EVENT_PRIOR_AUTH = 0, EVENT_CLAIM = 1 } event_kind_t;

typedef enum { URGENCY_STANDARD = 0, URGENCY_EXPEDITED = 1 } urgency_t;

typedef enum {
    DISEASE_RESECTABLE = 0,
    DISEASE_UNRESECTABLE = 1,
    DISEASE_METASTATIC = 2,
    DISEASE_UNKNOWN = 3
} disease_status_t;

typedef enum { BRAF_POSITIVE = 0, BRAF_NEGATIVE = 1, BRAF_UNKNOWN = 2 } braf_status_t;

typedef enum {
    LYMPHODEPLETION_RECEIVED = 0,
    LYMPHODEPLETION_PLANNED = 1,
    LYMPHODEPLETION_NOT_PLANNED = 2,
    LYMPHODEPLETION_UNKNOWN = 3
} lymphodepletion_t;

/** X12 claim frequency (contract §10): 1 original, 7 replacement, 8 void. */
typedef enum {
    FREQUENCY_ORIGINAL = 0,
    FREQUENCY_REPLACEMENT = 1,
    FREQUENCY_VOID = 2
} frequency_code_t;

typedef struct {
    const char *drug;  /**< required */
    date_t start_date; /**< DATE_NULL when null */
    date_t end_date;   /**< DATE_NULL when null; recorded only */
} prior_therapy_t;

typedef struct {
    const char *event_id;
    const char *pa_id;
    int64_t received_at_ms; /**< UTC ms; its calendar day is the decision date D */
    urgency_t urgency;
    const char *member_id;
    date_t birth_date;
    uint32_t n_diagnosis_codes;
    const char *diagnosis_codes[EVENT_MAX_ARRAY_ITEMS];
    disease_status_t disease_status;
    braf_status_t braf_v600;
    uint32_t n_prior_therapies;
    prior_therapy_t prior_therapies[EVENT_MAX_ARRAY_ITEMS];
    lymphodepletion_t lymphodepletion;
    const char *prescriber_npi;
    const char *prescriber_taxonomy; /**< nullable */
    const char *consulting_npi;      /**< nullable */
    const char *consulting_taxonomy; /**< nullable */
    bool has_requested_dose_cells;
    int64_t requested_dose_cells;
} pa_event_t;

typedef struct {
    const char *event_id;
    const char *claim_id;
    int32_t line_number;
    int64_t received_at_ms;
    const char *member_id;
    date_t birth_date;
    date_t service_date;
    const char *hcpcs_code;
    const char *ndc; /**< nullable */
    int32_t units;
    bool has_dose_viable_cells;
    int64_t dose_viable_cells;
    uint32_t n_diagnosis_codes;
    const char *diagnosis_codes[EVENT_MAX_ARRAY_ITEMS];
    const char *rendering_npi;
    const char *authorization_id; /**< nullable; "" counts as null */
    int64_t billed_amount_cents;
    frequency_code_t
        frequency_code;            /**< ORIGINAL when the writer (JSON, claim schema v1) lacks it */
    const char *original_claim_id; /**< nullable; names the line a REPLACEMENT or VOID acts on */
} claim_event_t;

typedef struct {
    event_kind_t kind;
    union {
        pa_event_t pa;
        claim_event_t claim;
    };
} event_t;

/** @returns "prior_auth" or "claim". */
const char *event_kind_name(event_kind_t kind);
const char *urgency_name(urgency_t u);
const char *disease_status_name(disease_status_t s);
const char *braf_status_name(braf_status_t s);
const char *lymphodepletion_name(lymphodepletion_t l);
const char *frequency_code_name(frequency_code_t f);

/* ---- the fields of an event, described once for every adapter ---- */

/** How a field's value is held in the event (or in an array item). */
typedef enum {
    EVENT_FIELD_STRING,       /**< const char *; NULL when null */
    EVENT_FIELD_TIMESTAMP,    /**< int64_t UTC milliseconds */
    EVENT_FIELD_DATE,         /**< date_t; DATE_NULL when null */
    EVENT_FIELD_INT,          /**< int32_t */
    EVENT_FIELD_LONG,         /**< int64_t; a nullable one has a presence bool at aux_offset */
    EVENT_FIELD_ENUM,         /**< an enum held as int; symbols[] are its contract names */
    EVENT_FIELD_STRING_ARRAY, /**< const char *[]; its uint32_t count at aux_offset */
    EVENT_FIELD_RECORD_ARRAY, /**< item_size-byte items of item_fields; count as above */
} event_field_type_t;

/**
 * One field of contract §2: its name in JSON and in the Avro schemas, how it is held, whether it
 * may be null. Messages name fields by label, never by value (no PHI).
 */
typedef struct event_field {
    const char *name;  /**< "drug" */
    const char *label; /**< "prior_therapies[].drug"; the name for a top-level field */
    event_field_type_t type;
    bool nullable;
    size_t offset;     /**< of the value, from the start of the event_t or the array item */
    size_t aux_offset; /**< arrays: the item count; nullable longs: the presence bool */
    const char *const *symbols; /**< enums: the symbols, in the enum's order */
    int n_symbols;
    /** Enums: the value a writer that lacks the field (JSON absent or null, an older Avro
     * schema) gives, as has_default/default_symbol; without a default such a field is missing. */
    bool has_default;
    int default_symbol;
    const char *item_label;                /**< arrays: "diagnosis_codes[]" */
    const struct event_field *item_fields; /**< record arrays: the item's fields */
    size_t n_item_fields;
    size_t item_size;
} event_field_t;

/** The most fields an event kind has. */
#define EVENT_MAX_FIELDS 20

/**
 * @brief The fields of an event kind in contract order, which is also the Avro schemas' order
 * (the codec checks that when it starts); any kind but EVENT_PRIOR_AUTH gets the claim's.
 * @returns the table and sets *n.
 */
const event_field_t *event_fields(event_kind_t kind, size_t *n);

/** @returns the symbol's index in an enum field, or -1 when it is not one of its symbols. */
int event_field_symbol(const event_field_t *f, const char *s, size_t n);

/** @returns true when the field holds null in the record (event_t or array item) at base. */
static inline bool event_field_is_null(const event_field_t *f, const void *base)
{
    const char *p = (const char *)base + f->offset;
    switch (f->type) {
    case EVENT_FIELD_STRING:
        return *(const char *const *)p == NULL;
    case EVENT_FIELD_DATE:
        return *(const date_t *)p == DATE_NULL;
    case EVENT_FIELD_LONG:
        return f->nullable && !*(const bool *)((const char *)base + f->aux_offset);
    default:
        return false;
    }
}

/** @returns true when a writer may leave the field out or null: it is nullable or has a default. */
static inline bool event_field_optional(const event_field_t *f)
{
    return f->nullable || f->has_default;
}

/** @brief Stores null in the field: NULL, DATE_NULL, a cleared presence bool, or an enum's
 * default. */
void event_field_set_null(const event_field_t *f, void *base);

/** @brief The event's id and member, whatever its kind. */
const char *event_id_of(const event_t *ev);
const char *event_member_of(const event_t *ev);

/**
 * @brief A 64-bit fingerprint of every field of the event, used to notice a replayed event_id
 * whose content differs from the one first judged (contract §1: that is logged).
 */
uint64_t event_fingerprint(const event_t *ev);

/**
 * @brief Checks the contract §2 string rules on every string of the event: valid UTF-8 and at
 * most 128 bytes. Decoders call it so JSON and Avro reject the same things.
 * @returns 0, or -1 with a message naming the field in err.
 */
int event_check_strings(const event_t *ev, char *err, size_t errlen);

/** @returns true when the n bytes are valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool utf8_valid(const char *s, size_t n);

#endif
