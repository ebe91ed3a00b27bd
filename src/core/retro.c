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

finding_t retro_compare(event_kind_t kind, outcome_t old_outcome, const char *old_criteria,
                        const char *old_reasons_csv, const determination_t *now)
{
    if (now->outcome != old_outcome) {
        /* Only claim lines move money: an approved line is a paid dose. */
        if (kind == EVENT_CLAIM && old_outcome == OUTCOME_APPROVED &&
            now->outcome == OUTCOME_DENIED)
            return FINDING_POSSIBLE_OVERPAYMENT;
        if (kind == EVENT_CLAIM && old_outcome == OUTCOME_DENIED &&
            now->outcome == OUTCOME_APPROVED)
            return FINDING_NOW_PAYABLE;
        return FINDING_OUTCOME_CHANGED;
    }
    char trace[MAX_CRITERIA + 1], csv[512];
    criteria_trace(now, trace);
    reasons_csv(now, csv, sizeof csv);
    if (strcmp(trace, old_criteria) != 0 || strcmp(csv, old_reasons_csv) != 0)
        return FINDING_REASONS_CHANGED;
    return FINDING_NONE;
}
