/**
 * @file policy.h
 * @brief Policy facts (contract §4, §5, §7 table) loaded once from a versioned JSON file.
 *
 * The loaded policy is immutable and shared read-only by every judge call; nothing in it is
 * global. Code sets are sorted arrays searched with bsearch.
 */
#ifndef AMTAGVI_POLICY_H
#define AMTAGVI_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "determination.h"

#define POLICY_MAX_VERSIONS 32

/** Classes a normalised drug name can belong to (a name may be in several). */
enum {
    DRUG_PD1_PDL1 = 1u << 0,
    DRUG_BRAF_INHIBITOR = 1u << 1,
    DRUG_AMTAGVI = 1u << 2,
};

typedef struct {
    char **items; /**< sorted, unique */
    size_t n;
} string_set_t;

typedef struct {
    char *name;
    unsigned classes;
} drug_entry_t;

typedef struct {
    bool present;
    char group[3]; /**< "CO", "OA", ... or "" (null) */
    char carc[8];  /**< "197" or "" (null) */
    char rarc[8];  /**< "M62" or "" (null) */
    char *message;
} reason_info_t;

typedef struct policy {
    char *policy_id;    /**< "IP0625" */
    char *file_version; /**< the data file's own revision, recorded with every retro run */
    size_t n_versions;
    date_t versions[POLICY_MAX_VERSIONS]; /**< effective dates, ascending */

    string_set_t melanoma_prefixes;      /**< "C43" */
    string_set_t melanoma_history_codes; /**< "Z85820" */
    string_set_t secondary_prefixes;     /**< "C77", "C78", "C79" */
    string_set_t excluded_prefixes;      /**< "D03", "C69": never count */
    string_set_t oncologist_taxonomies;
    string_set_t covered_hcpcs;
    drug_entry_t *drugs; /**< sorted by name */
    size_t n_drugs;

    int adult_age_years;    /**< 18 */
    int approval_months;    /**< 6 */
    int32_t max_doses;      /**< 1 */
    int32_t max_units;      /**< 1 */
    int64_t dose_min_cells; /**< 7.5e9 */
    int64_t dose_max_cells; /**< 72e9 */

    reason_info_t reasons[2][REASON_COUNT]; /**< [event_kind_t][reason_code_t] */
} policy_t;

/**
 * @brief Parses and validates the policy from text in memory (policy_file.h reads the file).
 * @returns the policy, or NULL with a message naming the problem (the key) in err.
 */
policy_t *policy_load_text(const char *text, size_t len, char *err, size_t errlen);

void policy_free(policy_t *p);

/** @returns the effective date of the version in force on day, or DATE_NULL if none. */
date_t policy_version_on(const policy_t *p, date_t day);

/** @returns true when the set holds exactly s. */
bool string_set_contains(const string_set_t *set, const char *s);

/** @returns true when s starts with an entry of the set. */
bool string_set_has_prefix_of(const string_set_t *set, const char *s);

/** @returns the DRUG_* class bits of a normalised drug name (0 when not listed). */
unsigned policy_drug_classes(const policy_t *p, const char *normalised_name);

/** @returns the reason's group/CARC/RARC/message for a kind. */
const reason_info_t *policy_reason(const policy_t *p, event_kind_t kind, reason_code_t code);

#endif
