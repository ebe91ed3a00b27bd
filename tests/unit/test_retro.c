/* retro_judge: what a change between a stored and a re-judged determination means, voids and
 * replacements (contract §10) included. */
#include "retro.h"
#include "test_support.h"

/* A re-judged determination: its outcome, criteria trace ("AMMNM..."), and reasons. */
static determination_t judged(event_kind_t kind, outcome_t o, const char *trace, int n,
                              const reason_code_t *codes)
{
    determination_t d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.outcome = o;
    ck_assert_int_eq(criteria_from_trace(trace, kind, &d), 0);
    for (int i = 0; i < n; i++) {
        d.reasons[i].code = (uint8_t)codes[i];
        d.reasons[i].criterion = (uint8_t)reason_criterion(kind, codes[i]);
    }
    d.n_reasons = (uint8_t)n;
    return d;
}

static determination_t claim(outcome_t o, const char *trace, int n, const reason_code_t *codes)
{
    return judged(EVENT_CLAIM, o, trace, n, codes);
}

static finding_t cmp(event_kind_t kind, outcome_t o, const char *trace, const char *reasons,
                     const char *reversed_event_id, const determination_t *now, bool reversed)
{
    retro_stored_t old = {kind, o, trace, reasons, reversed_event_id};
    return retro_judge(&old, now, reversed);
}

START_TEST(unchanged_is_no_finding)
{
    determination_t d = claim(OUTCOME_APPROVED, "AMMMMMMMM", 0, NULL);
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_APPROVED, "AMMMMMMMM", "", NULL, &d, false),
                     FINDING_NONE);
}
END_TEST

START_TEST(old_eight_letter_trace_compares_as_original_not_applicable)
{
    /* Stored before the ORIGINAL check existed: 8 letters, read as ORIGINAL NOT_APPLICABLE. */
    determination_t d = claim(OUTCOME_APPROVED, "AMMMMMMMM", 0, NULL);
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_APPROVED, "MMMMMMMM", "", NULL, &d, false),
                     FINDING_NONE);
    reason_code_t r[] = {REASON_AUTH_EXPIRED};
    determination_t e = claim(OUTCOME_DENIED, "AMMMMMMNM", 1, r);
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_DENIED, "MMMMMMNM", "AUTH_EXPIRED", NULL, &e, false),
                     FINDING_NONE);
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_DENIED, "MMMMMMNA", "AUTH_EXPIRED", NULL, &e, false),
                     FINDING_REASONS_CHANGED);
    /* A malformed stored trace never compares equal. */
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_DENIED, "MMM", "AUTH_EXPIRED", NULL, &e, false),
                     FINDING_REASONS_CHANGED);
}
END_TEST

START_TEST(paid_now_denied_is_possible_overpayment)
{
    reason_code_t r[] = {REASON_AUTH_EXPIRED};
    determination_t d = claim(OUTCOME_DENIED, "AMMMMMMNM", 1, r);
    finding_t f = cmp(EVENT_CLAIM, OUTCOME_APPROVED, "AMMMMMMMM", "", NULL, &d, false);
    ck_assert_int_eq(f, FINDING_POSSIBLE_OVERPAYMENT);
    ck_assert_str_eq(finding_name(f), "POSSIBLE_OVERPAYMENT");
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_APPROVED, "MMMMMMMM", "", NULL, &d, false),
                     FINDING_POSSIBLE_OVERPAYMENT);
}
END_TEST

START_TEST(reversed_line_is_never_an_overpayment)
{
    /* Paid then, denied now, but a later void reversed the line: no money to recover. */
    reason_code_t r[] = {REASON_AUTH_EXPIRED};
    determination_t d = claim(OUTCOME_DENIED, "AMMMMMMNM", 1, r);
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_APPROVED, "AMMMMMMMM", "", NULL, &d, true),
                     FINDING_OUTCOME_CHANGED);
    /* ... nor payable now. */
    determination_t a = claim(OUTCOME_APPROVED, "AMMMMMMMM", 0, NULL);
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_DENIED, "AMMMMMMNM", "AUTH_EXPIRED", NULL, &a, true),
                     FINDING_OUTCOME_CHANGED);
}
END_TEST

START_TEST(denied_now_paid_is_now_payable)
{
    determination_t d = claim(OUTCOME_APPROVED, "AMMMMMMMM", 0, NULL);
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_DENIED, "MMMMMMNM", "AUTH_MISSING", NULL, &d, false),
                     FINDING_NOW_PAYABLE);
}
END_TEST

START_TEST(void_acceptance_changing_is_reversal_changed)
{
    /* Accepted then (APPROVED, reversed e1), ORIGINAL_NOT_FOUND now: a void pays nothing, so
     * no overpayment; its reversal changed. */
    reason_code_t nf[] = {REASON_ORIGINAL_NOT_FOUND};
    determination_t now = claim(OUTCOME_DENIED, "NAAAAAAAA", 1, nf);
    now.frequency_code = FREQUENCY_VOID;
    now.original_claim_id = "C1";
    finding_t f = cmp(EVENT_CLAIM, OUTCOME_APPROVED, "MAAAAAAAA", "", "e1", &now, false);
    ck_assert_int_eq(f, FINDING_REVERSAL_CHANGED);
    ck_assert_str_eq(finding_name(f), "REVERSAL_CHANGED");
    ck_assert(retro_reversal_changed("e1", &now));

    /* ... and the reverse: not found then, accepted now (not NOW_PAYABLE). */
    determination_t acc = claim(OUTCOME_APPROVED, "MAAAAAAAA", 0, NULL);
    acc.frequency_code = FREQUENCY_VOID;
    acc.original_claim_id = "C1";
    acc.reversed_event_id = "e1";
    ck_assert_int_eq(
        cmp(EVENT_CLAIM, OUTCOME_DENIED, "NAAAAAAAA", "ORIGINAL_NOT_FOUND", NULL, &acc, false),
        FINDING_REVERSAL_CHANGED);

    /* Same outcome, another target (the line's most recent approved determination changed). */
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_APPROVED, "MAAAAAAAA", "", "e2", &acc, false),
                     FINDING_REVERSAL_CHANGED);
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_APPROVED, "MAAAAAAAA", "", "e1", &acc, false),
                     FINDING_NONE);
    ck_assert(!retro_reversal_changed("e1", &acc));
    ck_assert(retro_reversal_changed(NULL, &acc));
    ck_assert(!retro_reversal_changed(NULL, &now));
}
END_TEST

START_TEST(replacement_paid_then_not_found_now_is_overpayment)
{
    /* An accepted, paid REPLACEMENT that now names no live line: money first; the reversal
     * change is in the finding's old/new reversed_event_id. */
    reason_code_t nf[] = {REASON_ORIGINAL_NOT_FOUND};
    determination_t now = claim(OUTCOME_DENIED, "NAAAAAAAA", 1, nf);
    now.frequency_code = FREQUENCY_REPLACEMENT;
    now.original_claim_id = "C1";
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_APPROVED, "MMMMMMMMM", "", "e1", &now, false),
                     FINDING_POSSIBLE_OVERPAYMENT);
    ck_assert(retro_reversal_changed("e1", &now));
    /* Not found then (it billed nothing), accepted and paid now: now payable. */
    determination_t paid = claim(OUTCOME_APPROVED, "MMMMMMMMM", 0, NULL);
    paid.frequency_code = FREQUENCY_REPLACEMENT;
    paid.original_claim_id = "C1";
    paid.reversed_event_id = "e1";
    ck_assert_int_eq(
        cmp(EVENT_CLAIM, OUTCOME_DENIED, "NAAAAAAAA", "ORIGINAL_NOT_FOUND", NULL, &paid, false),
        FINDING_NOW_PAYABLE);
    /* A replacement accepted both times, its own outcome moving from approved to denied. */
    reason_code_t ex[] = {REASON_AUTH_EXPIRED};
    determination_t den = claim(OUTCOME_DENIED, "MMMMMMMNM", 1, ex);
    den.frequency_code = FREQUENCY_REPLACEMENT;
    den.original_claim_id = "C1";
    den.reversed_event_id = "e1";
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_APPROVED, "MMMMMMMMM", "", "e1", &den, false),
                     FINDING_POSSIBLE_OVERPAYMENT);
}
END_TEST

START_TEST(pa_and_pend_changes_are_outcome_changed)
{
    determination_t pa = judged(EVENT_PRIOR_AUTH, OUTCOME_DENIED, "MMNMMAMMMA", 0, NULL);
    ck_assert_int_eq(cmp(EVENT_PRIOR_AUTH, OUTCOME_APPROVED, "MMMMMAMMMA", "", NULL, &pa, false),
                     FINDING_OUTCOME_CHANGED);
    reason_code_t r[] = {REASON_AUTH_PENDING};
    determination_t c = claim(OUTCOME_PENDED, "AMMMMMMUM", 1, r);
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_APPROVED, "AMMMMMMMM", "", NULL, &c, false),
                     FINDING_OUTCOME_CHANGED);
}
END_TEST

START_TEST(same_outcome_other_reasons_is_reasons_changed)
{
    reason_code_t r[] = {REASON_DX_MISSING, REASON_AUTH_EXPIRED};
    determination_t d = claim(OUTCOME_DENIED, "AMMMNMMNM", 2, r);
    char csv[512];
    reasons_csv(&d, csv, sizeof csv);
    ck_assert_str_eq(csv, "DX_MISSING,AUTH_EXPIRED");
    ck_assert_int_eq(cmp(EVENT_CLAIM, OUTCOME_DENIED, "AMMMNMMMM", "DX_MISSING", NULL, &d, false),
                     FINDING_REASONS_CHANGED);
    /* Same reasons but a different criteria trace still counts. */
    ck_assert_int_eq(
        cmp(EVENT_CLAIM, OUTCOME_DENIED, "AMMMNMMNA", "DX_MISSING,AUTH_EXPIRED", NULL, &d, false),
        FINDING_REASONS_CHANGED);
    ck_assert_int_eq(
        cmp(EVENT_CLAIM, OUTCOME_DENIED, "AMMMNMMNM", "DX_MISSING,AUTH_EXPIRED", NULL, &d, false),
        FINDING_NONE);
}
END_TEST

/* What cmd_retro does: the member's stream replayed through a fresh engine, then each event of
 * the window compared once the whole stream is replayed. Stored: the claim was paid (its PA
 * was on file then); replayed here without the PA, it is AUTH_MISSING. */
static finding_t replay_claim_then(bool with_void)
{
    engine_t *e = engine_new(support_policy());
    ck_assert_ptr_nonnull(e);
    event_t ev;
    const determination_t *d;
    claim_base(&ev, "c1", "CL1", 1, "M1", NULL);
    ck_assert_int_eq(engine_process(e, &ev, &d), ENGINE_JUDGED);
    ck_assert_int_eq(d->outcome, OUTCOME_DENIED);
    if (with_void) {
        claim_base(&ev, "v1", "CL1-VOID", 1, "M1", NULL);
        ev.claim.frequency_code = FREQUENCY_VOID;
        ev.claim.original_claim_id = " CL1\t";
        ck_assert_int_eq(engine_process(e, &ev, &d), ENGINE_JUDGED);
        ck_assert_int_eq(d->outcome, OUTCOME_APPROVED);
        ck_assert_str_eq(d->reversed_event_id, "c1");
        /* the void as stored (accepted, reversing c1): no finding */
        retro_stored_t v = {EVENT_CLAIM, OUTCOME_APPROVED, "MAAAAAAAA", "", "c1"};
        ck_assert_int_eq(retro_judge(&v, d, engine_is_reversed(e, "v1")), FINDING_NONE);
    }
    retro_stored_t old = {EVENT_CLAIM, OUTCOME_APPROVED, "MMMMMMMM", "", NULL};
    finding_t f = retro_judge(&old, engine_lookup(e, "c1"), engine_is_reversed(e, "c1"));
    engine_free(e);
    return f;
}

START_TEST(replayed_void_keeps_a_line_from_being_an_overpayment)
{
    ck_assert_int_eq(replay_claim_then(false), FINDING_POSSIBLE_OVERPAYMENT);
    ck_assert_int_eq(replay_claim_then(true), FINDING_OUTCOME_CHANGED);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retro");
    TCase *tc = tcase_create("compare");
    tcase_add_test(tc, unchanged_is_no_finding);
    tcase_add_test(tc, old_eight_letter_trace_compares_as_original_not_applicable);
    tcase_add_test(tc, paid_now_denied_is_possible_overpayment);
    tcase_add_test(tc, reversed_line_is_never_an_overpayment);
    tcase_add_test(tc, denied_now_paid_is_now_payable);
    tcase_add_test(tc, void_acceptance_changing_is_reversal_changed);
    tcase_add_test(tc, replacement_paid_then_not_found_now_is_overpayment);
    tcase_add_test(tc, pa_and_pend_changes_are_outcome_changed);
    tcase_add_test(tc, same_outcome_other_reasons_is_reasons_changed);
    tcase_add_test(tc, replayed_void_keeps_a_line_from_being_an_overpayment);
    suite_add_tcase(s, tc);
    return support_run(s);
}
