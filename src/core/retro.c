#include "retro.h"

#include <stdio.h>
#include <string.h>

const char *finding_name(finding_t f)
{
    switch (f) {
    case FINDING_POSSIBLE_OVERPAYMENT:
        return "POSSIBLE_OVERPAYMENT";
    case FINDING_NOW_PAYABLE:
        return "NOW_PAYABLE";
    case FINDING_OUTCOME_CHANGED:
        return "OUTCOME_CHANGED";
    case FINDING_REASONS_CHANGED:
        return "REASONS_CHANGED";
    case FINDING_REVERSAL_CHANGED:
        return "REVERSAL_CHANGED";
    default:
        return NULL;
    }
}

void reasons_csv(const determination_t *d, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < d->n_reasons && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? "," : "",
                              reason_code_name(d->reasons[i].code));
}

bool retro_reversal_changed(const char *old_reversed_event_id, const determination_t *now)
{
    const char *n = now->reversed_event_id;
    if (!old_reversed_event_id || !n) return old_reversed_event_id != n;
    return strcmp(old_reversed_event_id, n) != 0;
}

finding_t retro_judge(const retro_stored_t *old, const determination_t *now, bool reversed)
{
    /* The stored trace read back the way the store does (an 8-letter claim trace has ORIGINAL
     * NOT_APPLICABLE) and written again, so it compares letter for letter with now's. */
    determination_t then;
    memset(&then, 0, sizeof then);
    then.kind = old->kind;
    then.frequency_code = now->frequency_code; /* the same payload, decoded again */
    char old_trace[MAX_CRITERIA + 1] = "";
    bool old_trace_ok = criteria_from_trace(old->criteria, old->kind, &then) == 0;
    if (old_trace_ok) criteria_trace(&then, old_trace);

    if (now->outcome != old->outcome && old->kind == EVENT_CLAIM && !reversed) {
        /* Only claim lines move money, and only billed ones (an ORIGINAL, an accepted
         * REPLACEMENT): a VOID pays nothing, and a reversed line is not a paid dose. */
        bool billed_then = old_trace_ok && determination_bills(&then);
        if (billed_then && old->outcome == OUTCOME_APPROVED && now->outcome == OUTCOME_DENIED)
            return FINDING_POSSIBLE_OVERPAYMENT;
        if (determination_bills(now) && old->outcome == OUTCOME_DENIED &&
            now->outcome == OUTCOME_APPROVED)
            return FINDING_NOW_PAYABLE;
    }
    if (retro_reversal_changed(old->reversed_event_id, now)) return FINDING_REVERSAL_CHANGED;
    if (now->outcome != old->outcome) return FINDING_OUTCOME_CHANGED;
    char trace[MAX_CRITERIA + 1], csv[512];
    criteria_trace(now, trace);
    reasons_csv(now, csv, sizeof csv);
    if (!old_trace_ok || strcmp(trace, old_trace) != 0 || strcmp(csv, old->reasons_csv) != 0)
        return FINDING_REASONS_CHANGED;
    return FINDING_NONE;
}
