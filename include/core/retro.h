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
    FINDING_OUTCOME_CHANGED,      /**< any other change of outcome (PAs, pends, reversed lines) */
    FINDING_REASONS_CHANGED,      /**< same outcome, different criteria or reasons */
    FINDING_REVERSAL_CHANGED,     /**< a replacement or void now reverses another line, or none,
                                       or one where it reversed none (contract §10) */
} finding_t;

/** @returns the finding's stored name ("POSSIBLE_OVERPAYMENT", ...), NULL for none. */
const char *finding_name(finding_t f);

/** A stored determination as retro reads it back. */
typedef struct {
    event_kind_t kind;
    outcome_t outcome;
    const char *criteria;          /**< trace "MNUA..."; a claim's may be 8 letters (before §10) */
    const char *reasons_csv;       /**< "A,B" in contract order */
    const char *reversed_event_id; /**< NULL when none */
} retro_stored_t;

/**
 * @brief What the re-judged determination now of the same event means against the stored one.
 *
 * reversed: the line now bills was reversed by a later accepted VOID or REPLACEMENT of the
 * member's replayed stream (engine_is_reversed once the member's events are all replayed). A
 * reversed line pays nothing either way, so it is never POSSIBLE_OVERPAYMENT nor NOW_PAYABLE;
 * its change of outcome is OUTCOME_CHANGED. Money findings come first (a REPLACEMENT that was
 * paid and is now ORIGINAL_NOT_FOUND is POSSIBLE_OVERPAYMENT), then REVERSAL_CHANGED, then
 * OUTCOME_CHANGED, then REASONS_CHANGED. A VOID pays nothing: its acceptance changing is
 * REVERSAL_CHANGED. A claim trace stored before the ORIGINAL check existed compares as if its
 * ORIGINAL letter were NOT_APPLICABLE.
 */
finding_t retro_judge(const retro_stored_t *old, const determination_t *now, bool reversed);

/** @returns true when now's reversed_event_id differs from the stored one (NULL = none). */
bool retro_reversal_changed(const char *old_reversed_event_id, const determination_t *now);

/** @brief Writes the determination's reason codes as "A,B" (at most 512 bytes). */
void reasons_csv(const determination_t *d, char *out, size_t outlen);

#endif
