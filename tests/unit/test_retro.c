/* retro_compare: what a change between a stored and a re-judged determination means. */
#include "retro.h"
#include "test_support.h"

/* A re-judged determination: its outcome, criteria trace ("MMNM..."), and reasons. */
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

START_TEST(unchanged_is_no_finding)
{
    determination_t d = claim(OUTCOME_APPROVED, "MMMMMMMM", 0, NULL);
    ck_assert_int_eq(retro_compare(EVENT_CLAIM, OUTCOME_APPROVED, "MMMMMMMM", "", &d),
                     FINDING_NONE);
}
END_TEST

START_TEST(paid_now_denied_is_possible_overpayment)
{
    reason_code_t r[] = {REASON_AUTH_EXPIRED};
    determination_t d = claim(OUTCOME_DENIED, "MMMMMMNM", 1, r);
    finding_t f = retro_compare(EVENT_CLAIM, OUTCOME_APPROVED, "MMMMMMMM", "", &d);
    ck_assert_int_eq(f, FINDING_POSSIBLE_OVERPAYMENT);
    ck_assert_str_eq(finding_name(f), "POSSIBLE_OVERPAYMENT");
}
END_TEST

START_TEST(denied_now_paid_is_now_payable)
{
    determination_t d = claim(OUTCOME_APPROVED, "MMMMMMMM", 0, NULL);
    ck_assert_int_eq(retro_compare(EVENT_CLAIM, OUTCOME_DENIED, "MMMMMMNM", "AUTH_MISSING", &d),
                     FINDING_NOW_PAYABLE);
}
END_TEST

START_TEST(pa_and_pend_changes_are_outcome_changed)
{
    determination_t pa = judged(EVENT_PRIOR_AUTH, OUTCOME_DENIED, "MMNMMAMMMA", 0, NULL);
    ck_assert_int_eq(retro_compare(EVENT_PRIOR_AUTH, OUTCOME_APPROVED, "MMMMMAMMMA", "", &pa),
                     FINDING_OUTCOME_CHANGED);
    reason_code_t r[] = {REASON_AUTH_PENDING};
    determination_t c = claim(OUTCOME_PENDED, "MMMMMMUM", 1, r);
    ck_assert_int_eq(retro_compare(EVENT_CLAIM, OUTCOME_APPROVED, "MMMMMMMM", "", &c),
                     FINDING_OUTCOME_CHANGED);
}
END_TEST

START_TEST(same_outcome_other_reasons_is_reasons_changed)
{
    reason_code_t r[] = {REASON_DX_MISSING, REASON_AUTH_EXPIRED};
    determination_t d = claim(OUTCOME_DENIED, "MMMNMMNM", 2, r);
    char csv[512];
    reasons_csv(&d, csv, sizeof csv);
    ck_assert_str_eq(csv, "DX_MISSING,AUTH_EXPIRED");
    ck_assert_int_eq(retro_compare(EVENT_CLAIM, OUTCOME_DENIED, "MMMNMMMM", "DX_MISSING", &d),
                     FINDING_REASONS_CHANGED);
    /* Same reasons but a different criteria trace still counts. */
    ck_assert_int_eq(
        retro_compare(EVENT_CLAIM, OUTCOME_DENIED, "MMMNMMNA", "DX_MISSING,AUTH_EXPIRED", &d),
        FINDING_REASONS_CHANGED);
    ck_assert_int_eq(
        retro_compare(EVENT_CLAIM, OUTCOME_DENIED, "MMMNMMNM", "DX_MISSING,AUTH_EXPIRED", &d),
        FINDING_NONE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retro");
    TCase *tc = tcase_create("compare");
    tcase_add_test(tc, unchanged_is_no_finding);
    tcase_add_test(tc, paid_now_denied_is_possible_overpayment);
    tcase_add_test(tc, denied_now_paid_is_now_payable);
    tcase_add_test(tc, pa_and_pend_changes_are_outcome_changed);
    tcase_add_test(tc, same_outcome_other_reasons_is_reasons_changed);
    suite_add_tcase(s, tc);
    return support_run(s);
}
