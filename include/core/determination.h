/**
 * @file determination.h
 * @brief The determination of contract §8: criteria, reasons, outcome, authorization.
 *
 * Reason codes and criteria are C enums because the judging logic names them; everything a
 * payer tunes about a reason (group, CARC, RARC, message) lives in the policy file.
 */
#ifndef AMTAGVI_DETERMINATION_H
#define AMTAGVI_DETERMINATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "event.h"

typedef enum {
    STATUS_MET = 0,
    STATUS_NOT_MET = 1,
    STATUS_UNKNOWN = 2,
    STATUS_NOT_APPLICABLE = 3
} criterion_status_t;

typedef enum { OUTCOME_APPROVED = 0, OUTCOME_DENIED = 1, OUTCOME_PENDED = 2 } outcome_t;

/** Prior-authorization criteria, contract §6, in reporting order. */
typedef enum {
    PA_POLICY = 0,
    PA_INDICATION,
    PA_1A,
    PA_1B,
    PA_1C,
    PA_1D,
    PA_1E,
    PA_1F,
    PA_1G,
    PA_DOSE,
    PA_CRITERIA_COUNT
} pa_criterion_t;

/** Claim-line checks, contract §7, in reporting order. */
typedef enum {
    CLAIM_ORIGINAL = 0, /**< contract §10: REPLACEMENT and VOID name a live billed line */
    CLAIM_POLICY,
    CLAIM_DUPLICATE,
    CLAIM_HCPCS,
    CLAIM_DIAGNOSIS,
    CLAIM_UNITS,
    CLAIM_DOSE,
    CLAIM_AUTHORIZATION,
    CLAIM_SINGLE_DOSE,
    CLAIM_CRITERIA_COUNT
} claim_criterion_t;

#define MAX_CRITERIA 10

/** Every reason code of contract §6 and §7. The X-macro keeps enum and names in one place. */
#define REASON_CODES(X)                                                                            \
    X(NO_POLICY_IN_EFFECT)                                                                         \
    X(DX_NOT_COVERED)                                                                              \
    X(DX_MISSING)                                                                                  \
    X(AGE_UNDER_18)                                                                                \
    X(BIRTH_DATE_INVALID)                                                                          \
    X(DISEASE_RESECTABLE)                                                                          \
    X(DISEASE_STATUS_UNKNOWN)                                                                      \
    X(NO_PRIOR_PD1_PDL1)                                                                           \
    X(NO_PRIOR_BRAF_INHIBITOR)                                                                     \
    X(BRAF_STATUS_UNKNOWN)                                                                         \
    X(LYMPHODEPLETION_NOT_PLANNED)                                                                 \
    X(LYMPHODEPLETION_UNKNOWN)                                                                     \
    X(PRIOR_AMTAGVI)                                                                               \
    X(PRESCRIBER_NOT_ONCOLOGIST)                                                                   \
    X(PRESCRIBER_NPI_INVALID)                                                                      \
    X(PRESCRIBER_TAXONOMY_MISSING)                                                                 \
    X(DOSE_OUT_OF_RANGE)                                                                           \
    X(ORIGINAL_NOT_FOUND)                                                                          \
    X(DUPLICATE_CLAIM_LINE)                                                                        \
    X(HCPCS_NOT_COVERED)                                                                           \
    X(UNITS_INVALID)                                                                               \
    X(UNITS_EXCEED_SINGLE_DOSE)                                                                    \
    X(DOSE_NOT_REPORTED)                                                                           \
    X(AUTH_NOT_FOUND)                                                                              \
    X(AUTH_PENDING)                                                                                \
    X(AUTH_EXPIRED)                                                                                \
    X(AUTH_NOT_VALID_ON_SERVICE_DATE)                                                              \
    X(AUTH_DENIED)                                                                                 \
    X(AUTH_MISSING)                                                                                \
    X(PRIOR_DOSE_PAID)

#define REASON_ENUM_ITEM(name) REASON_##name,
typedef enum { REASON_CODES(REASON_ENUM_ITEM) REASON_COUNT } reason_code_t;
#undef REASON_ENUM_ITEM

typedef struct {
    uint8_t criterion; /**< pa_criterion_t or claim_criterion_t, by the kind */
    uint8_t code;      /**< reason_code_t */
    uint8_t status;    /**< STATUS_NOT_MET or STATUS_UNKNOWN */
} reason_t;

#define UUID_STRING_LEN 36

typedef struct {
    char determination_id[UUID_STRING_LEN + 1];
    event_kind_t kind;
    const char *event_id;
    const char *member_id;
    const char *pa_id;     /**< PA only */
    const char *claim_id;  /**< claim only */
    int32_t line_number;   /**< claim only */
    date_t policy_version; /**< effective date of the version in force, or DATE_NULL */
    date_t decision_date;  /**< PA: D; claim: service_date (for retro windows and dashboards) */
    outcome_t outcome;
    uint8_t criteria[MAX_CRITERIA]; /**< criterion_status_t, count by kind */
    uint8_t n_reasons;
    reason_t reasons[MAX_CRITERIA];
    bool has_authorization; /**< PA approved */
    date_t valid_from;      /**< inclusive */
    date_t valid_until;     /**< exclusive */
    int32_t max_doses;
    int64_t dose_min_cells;
    int64_t dose_max_cells;
    const char *matched_pa_id;       /**< claim with AUTHORIZATION MET */
    frequency_code_t frequency_code; /**< claim only (contract §10) */
    /** Claim REPLACEMENT or VOID: the line reference as given (trimmed only when compared;
     * NULL for an ORIGINAL or a null reference). Not printed (contract §8 has no such field) but
     * stored, so that history rebuilt from stored determinations reverses the same line the
     * judgment did. */
    const char *original_claim_id;
    /** Claim whose ORIGINAL check is MET: the event_id of the determination it reversed. */
    const char *reversed_event_id;
} determination_t;

/** @returns true when a claim determination bills its line (contract §10): an ORIGINAL, or a
 * REPLACEMENT whose ORIGINAL check is MET. */
bool determination_bills(const determination_t *d);
/** @returns true when a claim determination is an accepted VOID or REPLACEMENT: it reverses
 * the line (member_id, original_claim_id, line_number). */
bool determination_reverses(const determination_t *d);

const char *criterion_status_name(criterion_status_t s);
const char *outcome_name(outcome_t o);
/** @returns "A1", "A3", "A4" for a PA determination, NULL for a claim. */
const char *x12_action_of(const determination_t *d);
/** @returns the number of criteria a determination of that kind reports. */
int criteria_count(event_kind_t kind);
/** @returns the criterion's contract name ("1.A", "AUTHORIZATION", ...). */
const char *criterion_name(event_kind_t kind, int criterion);
/** @returns the reason code's contract name ("AUTH_MISSING", ...). */
const char *reason_code_name(reason_code_t code);
/** @returns 0 and sets *out for a known reason code name, else -1. */
int reason_code_from_name(const char *s, reason_code_t *out);
int criterion_status_from_name(const char *s, criterion_status_t *out);
/** A reason a kind of determination can give, and the criterion it is given under. */
typedef struct {
    reason_code_t code;
    int criterion; /**< pa_criterion_t or claim_criterion_t, by the kind */
} kind_reason_t;
/**
 * @brief The reasons a kind can give (contract §6 for a PA, §7 for a claim), in the contract's
 * order. @returns the list and sets *n.
 */
const kind_reason_t *kind_reasons(event_kind_t kind, size_t *n);
/** @returns the criterion a reason code belongs to for a kind (each code has one), or -1. */
int reason_criterion(event_kind_t kind, reason_code_t code);
int outcome_from_name(const char *s, outcome_t *out);

/**
 * @brief The compact criteria trace stored with a determination: one letter per criterion in
 * contract order (M met, N not met, U unknown, A not applicable); out holds MAX_CRITERIA + 1.
 */
void criteria_trace(const determination_t *d, char *out);
/** @brief Sets d->criteria from a trace for a kind. A claim trace one letter short was written
 * before the ORIGINAL check existed: ORIGINAL is then NOT_APPLICABLE. @returns 0, or -1 if
 * malformed. */
int criteria_from_trace(const char *trace, event_kind_t kind, determination_t *d);

/**
 * @brief Fills out with the determination_id of an event: a UUIDv5 (RFC 4122, SHA-1) of the
 * event_id in the project's fixed namespace, so a replay gets the same id everywhere.
 */
void determination_id_for(const char *event_id, char out[UUID_STRING_LEN + 1]);

#endif
