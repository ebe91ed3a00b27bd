/**
 * @file retro.h
 * @brief Retro-review: what changed between a stored determination and a re-judged one.
 * Pure; the retro command streams stored events through a fresh engine per member and asks
 * this module what each difference means for the payer.
 */
#ifndef AMTAGVI_RETRO_H
#define AMTAGVI_RETRO_H

#include <stdbool.h>

#include "determination.h"

typedef enum {
    FINDING_NONE = 0,
    FINDING_POSSIBLE_OVERPAYMENT, /**< a claim line paid then would now be denied */
    FINDING_NOW_PAYABLE,          /**< a claim line denied then would now be paid */
    FINDING_OUTCOME_CHANGED,      /**< any other change of outcome (PAs, pends) */
    FINDING_REASONS_CHANGED,      /**< same outcome, different criteria or reasons */
} finding_t;

/** @returns the finding's stored name ("POSSIBLE_OVERPAYMENT", ...), NULL for none. */
const char *finding_name(finding_t f);

/**
 * @brief Compares a stored determination (outcome, criteria trace "MNUA...", reason codes
 * "A,B" in contract order) with a new one of the same event.
 */
finding_t retro_compare(event_kind_t kind, outcome_t old_outcome, const char *old_criteria,
                        const char *old_reasons_csv, const determination_t *now);

/** @brief Writes the determination's reason codes as "A,B" (at most 512 bytes). */
void reasons_csv(const determination_t *d, char *out, size_t outlen);

#endif
