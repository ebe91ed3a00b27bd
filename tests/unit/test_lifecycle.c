/* The claim lifecycle, contract §10 (replacements and voids), and the ORIGINAL check of §7,
 * through the engine. Each test states one rule and fails when the rule breaks. */
#include "test_support.h"

/* ---- expectations ---- */

/* claim_base() under an approved PA: an ORIGINAL passes every check but ORIGINAL, which does
 * not apply; an accepted REPLACEMENT passes ORIGINAL too. */
static const uint8_t PAID_ORIGINAL[] = {NA, M, M, M, M, M, M, M, M};
static const uint8_t PAID_REPLACEMENT[] = {M, M, M, M, M, M, M, M, M};
/* An accepted VOID: ORIGINAL MET, the rest NOT_APPLICABLE; a line not found stops the same way. */
static const uint8_t VOID_ACCEPTED[] = {M, NA, NA, NA, NA, NA, NA, NA, NA};
static const uint8_t NOT_FOUND[] = {N, NA, NA, NA, NA, NA, NA, NA, NA};
static const uint8_t DUPLICATE_ORIGINAL[] = {NA, M, N, NA, NA, NA, NA, NA, NA};
static const uint8_t DOSE_PAID_ORIGINAL[] = {NA, M, M, M, M, M, M, M, N};

static const reason_t R_NOT_FOUND = {CLAIM_ORIGINAL, REASON_ORIGINAL_NOT_FOUND, N};
static const reason_t R_DUPLICATE = {CLAIM_DUPLICATE, REASON_DUPLICATE_CLAIM_LINE, N};
static const reason_t R_DOSE_PAID = {CLAIM_SINGLE_DOSE, REASON_PRIOR_DOSE_PAID, N};

/* ---- events ---- */

/* The member's PA pa_id, judged; as pa_base() it is APPROVED unless the member has a paid dose
 * (1.F). @returns its 1.F status. */
static int pa_1f(const char *event_id, const char *pa_id, const char *member)
{
    event_t ev;
    pa_base(&ev, event_id, pa_id, member);
    const determination_t *d = process(&ev);
    assert_outcome(d, d->criteria[PA_1F] == M ? OUTCOME_APPROVED : OUTCOME_DENIED);
    return d->criteria[PA_1F];
}

static void approve_pa(const char *event_id, const char *member)
{
    ck_assert_int_eq(pa_1f(event_id, "PA-1", member), M);
}

/* claim_base() (no authorization_id: the member's standing approved PA) of a frequency. */
static void line_event(event_t *ev, frequency_code_t f, const char *event_id, const char *claim_id,
                       int line, const char *member, const char *original_claim_id)
{
    claim_base(ev, event_id, claim_id, line, member, NULL);
    ev->claim.frequency_code = f;
    ev->claim.original_claim_id = original_claim_id;
}

static const determination_t *bill(const char *event_id, const char *claim_id, int line,
                                   const char *member)
{
    event_t ev;
    line_event(&ev, FREQUENCY_ORIGINAL, event_id, claim_id, line, member, NULL);
    return process(&ev);
}

static const determination_t *void_line(const char *event_id, const char *claim_id, int line,
                                        const char *member, const char *original_claim_id)
{
    event_t ev;
    line_event(&ev, FREQUENCY_VOID, event_id, claim_id, line, member, original_claim_id);
    return process(&ev);
}

static const determination_t *replace_line(const char *event_id, const char *claim_id, int line,
                                           const char *member, const char *original_claim_id)
{
    event_t ev;
    line_event(&ev, FREQUENCY_REPLACEMENT, event_id, claim_id, line, member, original_claim_id);
    return process(&ev);
}

/* ---- checks ---- */

static void expect_paid(const determination_t *d, frequency_code_t f, const char *reversed)
{
    assert_judged(d, f == FREQUENCY_ORIGINAL ? PAID_ORIGINAL : PAID_REPLACEMENT, 0, NULL,
                  OUTCOME_APPROVED);
    ck_assert_int_eq(d->frequency_code, f);
    ck_assert_ptr_nonnull(d->matched_pa_id);
    assert_str_or_null(d->reversed_event_id, reversed, "reversed_event_id");
}

static void expect_void_accepted(const determination_t *d, const char *reversed)
{
    assert_judged(d, VOID_ACCEPTED, 0, NULL, OUTCOME_APPROVED);
    ck_assert_int_eq(d->frequency_code, FREQUENCY_VOID);
    assert_str_or_null(d->reversed_event_id, reversed, "reversed_event_id");
    assert_str_or_null(d->matched_pa_id, NULL, "matched_pa_id");
    ck_assert(!d->has_authorization);
    ck_assert(determination_reverses(d));
    ck_assert(!determination_bills(d));
}

static void expect_not_found(const determination_t *d)
{
    assert_judged(d, NOT_FOUND, 1, &R_NOT_FOUND, OUTCOME_DENIED);
    assert_str_or_null(d->reversed_event_id, NULL, "reversed_event_id");
    assert_str_or_null(d->matched_pa_id, NULL, "matched_pa_id");
    ck_assert(!determination_reverses(d));
    ck_assert(!determination_bills(d));
}

static void expect_duplicate(const determination_t *d)
{
    assert_judged(d, DUPLICATE_ORIGINAL, 1, &R_DUPLICATE, OUTCOME_DENIED);
}

/* An ORIGINAL denied by SINGLE_DOSE alone: the member has a paid dose. */
static void expect_dose_paid(const determination_t *d)
{
    assert_judged(d, DOSE_PAID_ORIGINAL, 1, &R_DOSE_PAID, OUTCOME_DENIED);
}

static void expect_reversed(const char *event_id, bool reversed)
{
    ck_assert_msg(engine_is_reversed(g_engine, event_id) == reversed,
                  "%s: engine_is_reversed is %d, expected %d", event_id, !reversed, reversed);
}

/* ---- voids ---- */

START_TEST(test_void_of_paid_line_frees_the_dose)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    /* paid: another line fails SINGLE_DOSE, a new PA fails 1.F */
    expect_dose_paid(bill("c-2", "CLM-2", 1, "MEM-1"));
    ck_assert_int_eq(pa_1f("pa-2", "PA-2", "MEM-1"), N);
    expect_reversed("c-1", false);

    const determination_t *v = void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1");
    expect_void_accepted(v, "c-1");
    assert_str_or_null(v->original_claim_id, "CLM-1", "original_claim_id");
    expect_reversed("c-1", true);
    expect_reversed("v-1", false);

    /* no paid dose left: 1.F and SINGLE_DOSE pass again */
    ck_assert_int_eq(pa_1f("pa-3", "PA-3", "MEM-1"), M);
    expect_paid(bill("c-3", "CLM-3", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    /* the void reversed one line only: c-2 (DENIED) is still a live final line */
    expect_duplicate(bill("c-4", "CLM-2", 1, "MEM-1"));
}
END_TEST

START_TEST(test_void_each_line_of_a_claim)
{
    /* each event is one line: voiding line 1 leaves line 2 live */
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    expect_dose_paid(bill("c-2", "CLM-1", 2, "MEM-1"));
    expect_void_accepted(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"), "c-1");
    expect_reversed("c-2", false);
    expect_duplicate(bill("c-3", "CLM-1", 2, "MEM-1"));
    /* the void of line 2 names its own line_number */
    expect_void_accepted(void_line("v-2", "CLM-1", 2, "MEM-1", "CLM-1"), "c-3");
    expect_reversed("c-2", true);
    expect_reversed("c-3", true);
    /* a line_number the claim never had */
    expect_not_found(void_line("v-3", "CLM-1", 3, "MEM-1", "CLM-1"));
}
END_TEST

START_TEST(test_void_denied_and_pended_lines)
{
    approve_pa("pa-1", "MEM-1");
    event_t ev;
    /* a DENIED line */
    line_event(&ev, FREQUENCY_ORIGINAL, "d-1", "CLM-D", 1, "MEM-1", NULL);
    ev.claim.units = 2;
    assert_outcome(process(&ev), OUTCOME_DENIED);
    expect_void_accepted(void_line("v-1", "CLM-D", 1, "MEM-1", "CLM-D"), "d-1");
    expect_reversed("d-1", true);
    /* no longer a live final line: the same line billed again is not a duplicate */
    expect_paid(bill("d-2", "CLM-D", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);

    /* a PENDED line (no policy on its service date) */
    line_event(&ev, FREQUENCY_ORIGINAL, "p-1", "CLM-P", 1, "MEM-2", NULL);
    ev.claim.service_date = ymd(2024, 6, 1);
    assert_outcome(process(&ev), OUTCOME_PENDED);
    const determination_t *v = void_line("v-2", "CLM-P", 1, "MEM-2", "CLM-P");
    expect_void_accepted(v, "p-1");
    expect_reversed("p-1", true);
    /* and now there is nothing live to void */
    expect_not_found(void_line("v-3", "CLM-P", 1, "MEM-2", "CLM-P"));
}
END_TEST

START_TEST(test_accepted_void_fields)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    /* a void with every fault a line can have, and a service date before any policy version:
     * APPROVED, no reasons, later checks not applicable; policy_version still from its own
     * service_date (none in force: null) */
    event_t ev;
    line_event(&ev, FREQUENCY_VOID, "v-1", "CLM-V", 1, "MEM-1", "CLM-1");
    ev.claim.service_date = ymd(2024, 6, 14);
    ev.claim.hcpcs_code = "J9999";
    ev.claim.n_diagnosis_codes = 0;
    ev.claim.units = 0;
    ev.claim.has_dose_viable_cells = false;
    ev.claim.authorization_id = "PA-404";
    const determination_t *d = process(&ev);
    expect_void_accepted(d, "c-1");
    assert_date(d->policy_version, DATE_NULL, "policy_version");
    assert_date(d->decision_date, ymd(2024, 6, 14), "decision_date");
    assert_str_or_null(d->claim_id, "CLM-V", "claim_id");
    ck_assert_int_eq(d->line_number, 1);
    ck_assert_ptr_null(x12_action_of(d));
    char id[UUID_STRING_LEN + 1];
    determination_id_for("v-1", id);
    ck_assert_str_eq(d->determination_id, id);

    /* policy_version of a void on a date some version covers */
    approve_pa("pa-2", "MEM-2");
    expect_paid(bill("c-2", "CLM-2", 1, "MEM-2"), FREQUENCY_ORIGINAL, NULL);
    line_event(&ev, FREQUENCY_VOID, "v-2", "CLM-2", 1, "MEM-2", "CLM-2");
    ev.claim.service_date = ymd(2025, 6, 1);
    d = process(&ev);
    expect_void_accepted(d, "c-2");
    assert_date(d->policy_version, ymd(2025, 5, 1), "policy_version");
    line_event(&ev, FREQUENCY_VOID, "v-3", "CLM-2", 1, "MEM-2", "CLM-2");
    ev.claim.service_date = ymd(2024, 6, 15);
    d = process(&ev);
    expect_not_found(d);
    assert_date(d->policy_version, ymd(2024, 6, 15), "policy_version");
}
END_TEST

/* ---- replacements ---- */

START_TEST(test_replacement_corrected_dose_is_not_a_second_dose)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    event_t ev;
    line_event(&ev, FREQUENCY_REPLACEMENT, "r-1", "CLM-1", 1, "MEM-1", "CLM-1");
    ev.claim.dose_viable_cells = 40000000000LL;
    /* judged against history with c-1 reversed: not a duplicate of its own line, no prior
     * paid dose */
    const determination_t *d = process(&ev);
    expect_paid(d, FREQUENCY_REPLACEMENT, "c-1");
    assert_str_or_null(d->original_claim_id, "CLM-1", "original_claim_id");
    ck_assert(determination_bills(d));
    ck_assert(determination_reverses(d));
    expect_reversed("c-1", true);
    expect_reversed("r-1", false);
    /* the replacement is now the paid dose */
    expect_dose_paid(bill("c-2", "CLM-2", 1, "MEM-1"));
    ck_assert_int_eq(pa_1f("pa-2", "PA-2", "MEM-1"), N);
    /* and the live final line */
    expect_duplicate(bill("c-3", "CLM-1", 1, "MEM-1"));
}
END_TEST

START_TEST(test_replacement_on_own_line_is_not_its_own_duplicate)
{
    /* the original was DENIED (final), so its line would be a duplicate for an ORIGINAL */
    approve_pa("pa-1", "MEM-1");
    event_t ev;
    line_event(&ev, FREQUENCY_ORIGINAL, "c-1", "CLM-1", 1, "MEM-1", NULL);
    ev.claim.has_dose_viable_cells = false;
    assert_outcome(process(&ev), OUTCOME_DENIED);
    expect_duplicate(bill("c-2", "CLM-1", 1, "MEM-1"));
    /* the replacement reverses both (c-1 and the duplicate c-2) and is judged on its own */
    expect_paid(replace_line("r-1", "CLM-1", 1, "MEM-1", "CLM-1"), FREQUENCY_REPLACEMENT, "c-2");
    expect_reversed("c-1", true);
    expect_reversed("c-2", true);
}
END_TEST

START_TEST(test_replacement_under_a_new_claim_number)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    expect_paid(replace_line("r-1", "CLM-1R", 1, "MEM-1", "CLM-1"), FREQUENCY_REPLACEMENT, "c-1");
    /* the live line is now CLM-1R/1; CLM-1/1 is reversed and can be billed again (then the
     * dose of r-1 is paid) */
    expect_not_found(void_line("v-1", "CLM-X", 1, "MEM-1", "CLM-1"));
    expect_dose_paid(bill("c-2", "CLM-1", 1, "MEM-1"));
    expect_void_accepted(void_line("v-2", "CLM-X", 1, "MEM-1", "CLM-1R"), "r-1");
    expect_reversed("r-1", true);
    /* c-2 (DENIED, billed after the replacement) is live on CLM-1/1 */
    expect_reversed("c-2", false);
    expect_void_accepted(void_line("v-3", "CLM-X", 1, "MEM-1", "CLM-1"), "c-2");
}
END_TEST

START_TEST(test_replacement_own_line_duplicate_still_reverses)
{
    /* a replacement whose own line (not the one it names) is live and final: DUPLICATE, yet
     * the line it names stays reversed */
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    event_t ev;
    line_event(&ev, FREQUENCY_ORIGINAL, "c-2", "CLM-2", 1, "MEM-1", NULL);
    ev.claim.units = 0;
    assert_outcome(process(&ev), OUTCOME_DENIED);
    const determination_t *d = replace_line("r-1", "CLM-2", 1, "MEM-1", "CLM-1");
    const uint8_t want[] = {M, M, N, NA, NA, NA, NA, NA, NA};
    assert_judged(d, want, 1, &R_DUPLICATE, OUTCOME_DENIED);
    assert_str_or_null(d->reversed_event_id, "c-1", "reversed_event_id");
    expect_reversed("c-1", true);
    expect_reversed("c-2", false);
    ck_assert_int_eq(pa_1f("pa-2", "PA-2", "MEM-1"), M);
}
END_TEST

START_TEST(test_reversal_stands_whatever_the_replacement_outcome)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    event_t ev;
    line_event(&ev, FREQUENCY_REPLACEMENT, "r-1", "CLM-1", 1, "MEM-1", "CLM-1");
    ev.claim.units = 2;
    const determination_t *d = process(&ev);
    const uint8_t want[] = {M, M, M, M, M, N, M, M, M};
    const reason_t r = {CLAIM_UNITS, REASON_UNITS_EXCEED_SINGLE_DOSE, N};
    assert_judged(d, want, 1, &r, OUTCOME_DENIED);
    assert_str_or_null(d->reversed_event_id, "c-1", "reversed_event_id");
    expect_reversed("c-1", true);
    /* nothing is paid now */
    ck_assert_int_eq(pa_1f("pa-2", "PA-2", "MEM-1"), M);
    /* resubmitting the denied replacement: a REPLACEMENT naming its own claim_id */
    expect_paid(replace_line("r-2", "CLM-1", 1, "MEM-1", "CLM-1"), FREQUENCY_REPLACEMENT, "r-1");
    expect_reversed("r-1", true);
}
END_TEST

START_TEST(test_replacement_before_any_policy)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    event_t ev;
    line_event(&ev, FREQUENCY_REPLACEMENT, "r-1", "CLM-1", 1, "MEM-1", "CLM-1");
    ev.claim.service_date = ymd(2024, 6, 1);
    const determination_t *d = process(&ev);
    const uint8_t want[] = {M, U, NA, NA, NA, NA, NA, NA, NA};
    const reason_t r = {CLAIM_POLICY, REASON_NO_POLICY_IN_EFFECT, U};
    assert_judged(d, want, 1, &r, OUTCOME_PENDED);
    assert_date(d->policy_version, DATE_NULL, "policy_version");
    assert_str_or_null(d->reversed_event_id, "c-1", "reversed_event_id");
    expect_reversed("c-1", true);
    /* r-1 is billed and live but PENDED: not final (no duplicate), not paid */
    expect_reversed("r-1", false);
    expect_paid(bill("c-2", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    /* a void now names both live ones; the approved one is reported */
    expect_void_accepted(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"), "c-2");
    expect_reversed("r-1", true);
}
END_TEST

/* ---- the ORIGINAL check: what is not found ---- */

START_TEST(test_reference_trimming)
{
    static const struct {
        const char *ref;
        bool found;
    } cases[] = {
        {"CLM-1", true},
        {" CLM-1", true},
        {"CLM-1 ", true},
        {"\tCLM-1\t", true},
        {"\r\nCLM-1\r\n", true},
        {" \t\r\n CLM-1 \n\r\t ", true},
        {"\fCLM-1", false}, /* form feed is not trimmed */
        {"CLM-1\v", false}, /* nor vertical tab */
        {"\vCLM-1\f", false},
        {"CLM-1\xc2\xa0", false}, /* nor a no-break space */
        {"clm-1", false},         /* byte for byte */
        {"CLM- 1", false},        /* inside is kept */
        {"CLM-1\t\fCLM-1", false},
        {"CLM-", false},
        {"CLM-1X", false},
        {"", false},
        {"   ", false},
        {" \t\r\n", false},
        {NULL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int f = FREQUENCY_REPLACEMENT; f <= FREQUENCY_VOID; f++) {
            engine_reset(g_engine);
            approve_pa("pa-1", "MEM-1");
            expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
            event_t ev;
            line_event(&ev, (frequency_code_t)f, "x-1", "CLM-1", 1, "MEM-1", cases[i].ref);
            const determination_t *d = process(&ev);
            ck_assert_msg(d->criteria[CLAIM_ORIGINAL] == (cases[i].found ? M : N),
                          "case %zu (%s): ORIGINAL is %s", i,
                          frequency_code_name((frequency_code_t)f),
                          status_str(d->criteria[CLAIM_ORIGINAL]));
            /* the reference is kept as given, untrimmed */
            assert_str_or_null(d->original_claim_id, cases[i].ref, "original_claim_id");
            if (!cases[i].found) {
                expect_not_found(d);
                expect_reversed("c-1", false);
                continue;
            }
            if (f == FREQUENCY_VOID)
                expect_void_accepted(d, "c-1");
            else
                expect_paid(d, FREQUENCY_REPLACEMENT, "c-1");
            expect_reversed("c-1", true);
        }
    }
}
END_TEST

START_TEST(test_claim_id_is_never_trimmed)
{
    approve_pa("pa-1", "MEM-1");
    /* billed under " CLM-2 ": another line than CLM-2 */
    expect_paid(bill("c-1", " CLM-2 ", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    /* a reference is trimmed, so none can name " CLM-2 " */
    expect_not_found(void_line("v-1", "CLM-2", 1, "MEM-1", " CLM-2 "));
    expect_not_found(void_line("v-2", "CLM-2", 1, "MEM-1", "CLM-2"));
    expect_reversed("c-1", false);
    /* an empty claim_id cannot be named either (the reference trims to empty) */
    approve_pa("pa-2", "MEM-2");
    expect_paid(bill("c-2", "", 1, "MEM-2"), FREQUENCY_ORIGINAL, NULL);
    expect_not_found(void_line("v-3", "", 1, "MEM-2", ""));
    expect_reversed("c-2", false);
}
END_TEST

START_TEST(test_other_members_claim_not_found)
{
    approve_pa("pa-a", "MEM-A");
    expect_paid(bill("a-1", "CLM-1", 1, "MEM-A"), FREQUENCY_ORIGINAL, NULL);
    expect_not_found(void_line("b-1", "CLM-1", 1, "MEM-B", "CLM-1"));
    expect_not_found(replace_line("b-2", "CLM-1", 1, "MEM-B", "CLM-1"));
    /* MEM-A's history is unchanged */
    expect_reversed("a-1", false);
    expect_duplicate(bill("a-2", "CLM-1", 1, "MEM-A"));
    ck_assert_int_eq(pa_1f("pa-a2", "PA-2", "MEM-A"), N);
}
END_TEST

START_TEST(test_line_already_reversed_not_found)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    expect_void_accepted(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"), "c-1");
    expect_not_found(void_line("v-2", "CLM-1", 1, "MEM-1", "CLM-1"));
    expect_not_found(replace_line("r-1", "CLM-1", 1, "MEM-1", "CLM-1"));
    /* r-1 billed nothing: the line can be billed, and no dose is paid */
    expect_paid(bill("c-2", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
}
END_TEST

START_TEST(test_line_only_voids_carry_not_found)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    /* the void is sent under its own claim number CLM-V */
    expect_void_accepted(void_line("v-1", "CLM-V", 1, "MEM-1", "CLM-1"), "c-1");
    /* CLM-V/1 carries only that void: nothing to void or replace there */
    expect_not_found(void_line("v-2", "CLM-W", 1, "MEM-1", "CLM-V"));
    expect_not_found(replace_line("r-1", "CLM-V", 1, "MEM-1", "CLM-V"));
    /* nor is it a duplicate target */
    expect_paid(bill("c-2", "CLM-V", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    expect_reversed("v-1", false);
}
END_TEST

START_TEST(test_void_before_its_original)
{
    approve_pa("pa-1", "MEM-1");
    expect_not_found(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"));
    expect_not_found(replace_line("r-1", "CLM-1", 1, "MEM-1", "CLM-1"));
    /* nothing is held back: the original, arriving later, is judged and stays live */
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    expect_reversed("c-1", false);
    expect_dose_paid(bill("c-2", "CLM-2", 1, "MEM-1"));
    expect_duplicate(bill("c-3", "CLM-1", 1, "MEM-1"));
}
END_TEST

START_TEST(test_stopped_replacement_bills_nothing)
{
    approve_pa("pa-1", "MEM-1");
    event_t ev;
    line_event(&ev, FREQUENCY_REPLACEMENT, "r-1", "CLM-1", 1, "MEM-1", "CLM-0");
    const determination_t *r = process(&ev);
    expect_not_found(r);
    ck_assert_int_eq(r->frequency_code, FREQUENCY_REPLACEMENT);
    expect_reversed("r-1", false);
    /* not a target */
    expect_not_found(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"));
    expect_not_found(replace_line("r-2", "CLM-1", 1, "MEM-1", "CLM-1"));
    /* not a duplicate (it is DENIED, a final outcome, yet its line is free) and not paid */
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    ck_assert_int_eq(pa_1f("pa-2", "PA-2", "MEM-1"), N); /* c-1's dose, only */
    /* a void of the line reports c-1, never r-1 */
    expect_void_accepted(void_line("v-2", "CLM-1", 1, "MEM-1", "CLM-1"), "c-1");
    ck_assert_int_eq(pa_1f("pa-3", "PA-3", "MEM-1"), M);
}
END_TEST

/* ---- reversed_event_id, and what a reversal touches ---- */

START_TEST(test_reversed_event_id_prefers_approved)
{
    /* an APPROVED line with a later DENIED duplicate: the approved one is reported, both are
     * reversed */
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    expect_duplicate(bill("c-2", "CLM-1", 1, "MEM-1"));
    expect_void_accepted(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"), "c-1");
    expect_reversed("c-1", true);
    expect_reversed("c-2", true);

    /* a line voided once (p-1), then billed PENDED, then APPROVED (judged afresh), then a
     * DENIED duplicate: the void reports the APPROVED one of the three live ones */
    event_t ev;
    line_event(&ev, FREQUENCY_ORIGINAL, "p-1", "CLM-2", 1, "MEM-2", NULL);
    assert_outcome(process(&ev), OUTCOME_DENIED); /* no PA yet: AUTH_MISSING */
    expect_void_accepted(void_line("v-2", "CLM-2", 1, "MEM-2", "CLM-2"), "p-1");
    line_event(&ev, FREQUENCY_ORIGINAL, "p-2", "CLM-2", 1, "MEM-2", NULL);
    ev.claim.service_date = ymd(2024, 6, 1);
    assert_outcome(process(&ev), OUTCOME_PENDED);
    approve_pa("pa-2", "MEM-2");
    expect_paid(bill("p-3", "CLM-2", 1, "MEM-2"), FREQUENCY_ORIGINAL, NULL);
    expect_duplicate(bill("p-4", "CLM-2", 1, "MEM-2"));
    expect_void_accepted(void_line("v-3", "CLM-2", 1, "MEM-2", "CLM-2"), "p-3");
    expect_reversed("p-2", true);
    expect_reversed("p-4", true);
}
END_TEST

START_TEST(test_reversed_event_id_most_recent_without_approval)
{
    /* two PENDED lines: the most recent is reported */
    event_t ev;
    line_event(&ev, FREQUENCY_ORIGINAL, "p-1", "CLM-1", 1, "MEM-1", NULL);
    ev.claim.service_date = ymd(2024, 6, 1);
    assert_outcome(process(&ev), OUTCOME_PENDED);
    line_event(&ev, FREQUENCY_ORIGINAL, "p-2", "CLM-1", 1, "MEM-1", NULL);
    ev.claim.service_date = ymd(2024, 6, 2);
    assert_outcome(process(&ev), OUTCOME_PENDED);
    expect_void_accepted(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"), "p-2");
    expect_reversed("p-1", true);

    /* DENIED, then its DENIED duplicate */
    line_event(&ev, FREQUENCY_ORIGINAL, "d-1", "CLM-2", 1, "MEM-1", NULL);
    assert_outcome(process(&ev), OUTCOME_DENIED);
    expect_duplicate(bill("d-2", "CLM-2", 1, "MEM-1"));
    expect_void_accepted(void_line("v-2", "CLM-2", 1, "MEM-1", "CLM-2"), "d-2");
}
END_TEST

START_TEST(test_reversed_event_id_most_recent_approved_loaded)
{
    /* stored history may hold two live APPROVED determinations of a line (judged under other
     * rules, or by hand); the most recent by stream position is reported */
    const char *ids[] = {"s-1", "s-2", "s-3"};
    const outcome_t outcomes[] = {OUTCOME_APPROVED, OUTCOME_APPROVED, OUTCOME_DENIED};
    for (int i = 0; i < 3; i++) {
        determination_t d;
        memset(&d, 0, sizeof d);
        d.kind = EVENT_CLAIM;
        d.event_id = ids[i];
        determination_id_for(ids[i], d.determination_id);
        d.member_id = "MEM-1";
        d.claim_id = "CLM-1";
        d.line_number = 1;
        d.frequency_code = FREQUENCY_ORIGINAL;
        d.outcome = outcomes[i];
        d.policy_version = d.decision_date = ymd(2026, 5, 1);
        memcpy(d.criteria, outcomes[i] == OUTCOME_APPROVED ? PAID_ORIGINAL : DUPLICATE_ORIGINAL,
               CLAIM_CRITERIA_COUNT);
        if (outcomes[i] == OUTCOME_DENIED) {
            d.n_reasons = 1;
            d.reasons[0] = R_DUPLICATE;
        }
        ck_assert_int_eq(engine_load(g_engine, &d, 0), 0);
    }
    expect_void_accepted(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"), "s-2");
    for (int i = 0; i < 3; i++) expect_reversed(ids[i], true);
}
END_TEST

START_TEST(test_reversal_never_touches_later_determinations)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    expect_dose_paid(bill("c-2", "CLM-2", 1, "MEM-1"));
    expect_void_accepted(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"), "c-1");
    /* the same line billed again after the void: live */
    expect_paid(bill("c-3", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    expect_reversed("c-1", true);
    expect_reversed("c-3", false);
    expect_dose_paid(bill("c-4", "CLM-3", 1, "MEM-1"));
    expect_duplicate(bill("c-5", "CLM-1", 1, "MEM-1"));
    /* nothing judged before the void was re-judged: c-1 stays APPROVED, c-2 DENIED */
    assert_outcome(engine_lookup(g_engine, "c-1"), OUTCOME_APPROVED);
    expect_dose_paid(engine_lookup(g_engine, "c-2"));
    /* a second void reverses c-3 and c-5 (c-3 reported), not c-1 again */
    expect_void_accepted(void_line("v-2", "CLM-1", 1, "MEM-1", "CLM-1"), "c-3");
    expect_reversed("c-3", true);
    expect_reversed("c-5", true);
    ck_assert_int_eq(pa_1f("pa-2", "PA-2", "MEM-1"), M);
}
END_TEST

START_TEST(test_duplicate_looks_only_at_live_billed_final_lines)
{
    approve_pa("pa-1", "MEM-1");
    /* a live PENDED line: not final */
    event_t ev;
    line_event(&ev, FREQUENCY_ORIGINAL, "p-1", "CLM-P", 1, "MEM-1", NULL);
    ev.claim.service_date = ymd(2024, 6, 1);
    assert_outcome(process(&ev), OUTCOME_PENDED);
    /* a live DENIED line: final */
    line_event(&ev, FREQUENCY_ORIGINAL, "d-1", "CLM-D", 1, "MEM-1", NULL);
    ev.claim.units = 0;
    assert_outcome(process(&ev), OUTCOME_DENIED);
    expect_duplicate(bill("d-2", "CLM-D", 1, "MEM-1"));
    /* a reversed DENIED line: not live (the void is sent under CLM-V/1, a line only it
     * carries) */
    expect_void_accepted(void_line("v-1", "CLM-V", 1, "MEM-1", "CLM-D"), "d-2");
    /* a line only a stopped replacement carries: not billed */
    expect_not_found(replace_line("r-1", "CLM-R", 1, "MEM-1", "CLM-404"));
    /* each of those lines is free (DUPLICATE MET); the first one billed is the paid dose */
    expect_paid(bill("c-1", "CLM-P", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    expect_dose_paid(bill("c-2", "CLM-D", 1, "MEM-1"));
    expect_dose_paid(bill("c-3", "CLM-R", 1, "MEM-1"));
    expect_dose_paid(bill("c-4", "CLM-V", 1, "MEM-1"));
    /* c-2, billed on CLM-D/1 after the void, is live and final */
    expect_duplicate(bill("c-5", "CLM-D", 1, "MEM-1"));
}
END_TEST

/* ---- replays ---- */

START_TEST(test_replayed_void_reverses_nothing_again)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    event_t v;
    line_event(&v, FREQUENCY_VOID, "v-1", "CLM-1", 1, "MEM-1", "CLM-1");
    expect_void_accepted(process(&v), "c-1");
    expect_paid(bill("c-2", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);

    const determination_t *r = NULL;
    ck_assert_int_eq(engine_process(g_engine, &v, &r), ENGINE_REPLAYED);
    expect_void_accepted(r, "c-1");
    /* c-2 is still live and paid */
    expect_reversed("c-2", false);
    expect_dose_paid(bill("c-3", "CLM-3", 1, "MEM-1"));
    expect_duplicate(bill("c-4", "CLM-1", 1, "MEM-1"));

    /* a replay with other content (another reference) is still the stored determination */
    v.claim.original_claim_id = "CLM-3";
    ck_assert_int_eq(engine_process(g_engine, &v, &r), ENGINE_REPLAYED_DIFFERENT);
    expect_void_accepted(r, "c-1");
    expect_reversed("c-3", false);
    expect_reversed("c-2", false);
}
END_TEST

START_TEST(test_replayed_reversed_original_stays_reversed)
{
    approve_pa("pa-1", "MEM-1");
    event_t c;
    line_event(&c, FREQUENCY_ORIGINAL, "c-1", "CLM-1", 1, "MEM-1", NULL);
    expect_paid(process(&c), FREQUENCY_ORIGINAL, NULL);
    event_t rp;
    line_event(&rp, FREQUENCY_REPLACEMENT, "r-1", "CLM-1", 1, "MEM-1", "CLM-1");
    rp.claim.units = 3; /* DENIED: no dose paid after it */
    assert_outcome(process(&rp), OUTCOME_DENIED);

    const determination_t *r = NULL;
    ck_assert_int_eq(engine_process(g_engine, &c, &r), ENGINE_REPLAYED);
    expect_paid(r, FREQUENCY_ORIGINAL, NULL); /* the stored determination, as it was */
    expect_reversed("c-1", true);
    /* not back to life: no dose paid, and the void finds only r-1 */
    ck_assert_int_eq(pa_1f("pa-2", "PA-2", "MEM-1"), M);
    ck_assert_int_eq(engine_process(g_engine, &rp, &r), ENGINE_REPLAYED);
    assert_str_or_null(r->reversed_event_id, "c-1", "reversed_event_id");
    expect_void_accepted(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"), "r-1");
    expect_not_found(void_line("v-2", "CLM-1", 1, "MEM-1", "CLM-1"));
}
END_TEST

/* ---- ORIGINAL ignores original_claim_id ---- */

START_TEST(test_original_claim_id_ignored_on_original)
{
    approve_pa("pa-1", "MEM-1");
    expect_paid(bill("c-1", "CLM-9", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    event_t ev;
    line_event(&ev, FREQUENCY_ORIGINAL, "c-2", "CLM-1", 1, "MEM-1", "CLM-9");
    const determination_t *d = process(&ev);
    /* judged as any original: ORIGINAL does not apply, CLM-9/1 is not reversed (its dose
     * stays paid) */
    expect_dose_paid(d);
    assert_str_or_null(d->original_claim_id, NULL, "original_claim_id");
    assert_str_or_null(d->reversed_event_id, NULL, "reversed_event_id");
    ck_assert(!determination_reverses(d));
    ck_assert(determination_bills(d));
    expect_reversed("c-1", false);
    /* a blank or unknown reference changes nothing either */
    approve_pa("pa-2", "MEM-2");
    line_event(&ev, FREQUENCY_ORIGINAL, "c-3", "CLM-2", 1, "MEM-2", "   ");
    d = process(&ev);
    assert_judged(d, PAID_ORIGINAL, 0, NULL, OUTCOME_APPROVED);
    assert_str_or_null(d->original_claim_id, NULL, "original_claim_id");
}
END_TEST

/* ---- engine_is_reversed ---- */

START_TEST(test_engine_is_reversed)
{
    ck_assert(!engine_is_reversed(g_engine, "nope"));
    approve_pa("pa-1", "MEM-1");
    expect_reversed("pa-1", false); /* a PA bills nothing */
    expect_paid(bill("c-1", "CLM-1", 1, "MEM-1"), FREQUENCY_ORIGINAL, NULL);
    expect_paid(replace_line("r-1", "CLM-1", 1, "MEM-1", "CLM-1"), FREQUENCY_REPLACEMENT, "c-1");
    expect_not_found(void_line("v-0", "CLM-2", 1, "MEM-1", "CLM-2"));
    expect_void_accepted(void_line("v-1", "CLM-1", 1, "MEM-1", "CLM-1"), "r-1");
    expect_reversed("c-1", true);
    expect_reversed("r-1", true); /* an accepted replacement is billed, and can be reversed */
    expect_reversed("v-0", false);
    expect_reversed("v-1", false); /* a void bills nothing */
    expect_reversed("c-", false);
    expect_reversed("C-1", false);
    /* a reset forgets */
    engine_reset(g_engine);
    expect_reversed("c-1", false);
}
END_TEST

/* ---- engine_load: the worker's restart path ---- */

#define STREAM 14

/* One stream for MEM-1, its expected outcomes and reversals, judged in one engine. */
static void stream_events(event_t *evs)
{
    pa_base(&evs[0], "s-0", "PA-1", "MEM-1");
    line_event(&evs[1], FREQUENCY_ORIGINAL, "s-1", "CLM-1", 1, "MEM-1", NULL);
    line_event(&evs[2], FREQUENCY_ORIGINAL, "s-2", "CLM-1", 1, "MEM-1", NULL);
    line_event(&evs[3], FREQUENCY_VOID, "s-3", "CLM-1", 1, "MEM-1", " CLM-1\t");
    line_event(&evs[4], FREQUENCY_VOID, "s-4", "CLM-1", 1, "MEM-1", "CLM-1");
    line_event(&evs[5], FREQUENCY_ORIGINAL, "s-5", "CLM-1", 1, "MEM-1", NULL);
    line_event(&evs[6], FREQUENCY_REPLACEMENT, "s-6", "CLM-1R", 1, "MEM-1", "CLM-1\r\n");
    evs[6].claim.units = 2;
    line_event(&evs[7], FREQUENCY_ORIGINAL, "s-7", "CLM-2", 1, "MEM-1", NULL);
    line_event(&evs[8], FREQUENCY_REPLACEMENT, "s-8", "CLM-9", 1, "MEM-1", "CLM-404");
    pa_base(&evs[9], "s-9", "PA-2", "MEM-1");
    line_event(&evs[10], FREQUENCY_VOID, "s-10", "CLM-V", 1, "MEM-1", "CLM-2");
    pa_base(&evs[11], "s-11", "PA-3", "MEM-1");
    line_event(&evs[12], FREQUENCY_REPLACEMENT, "s-12", "CLM-1R", 1, "MEM-1", "CLM-1R");
    evs[12].claim.service_date = ymd(2024, 1, 1);
    line_event(&evs[13], FREQUENCY_ORIGINAL, "s-13", "CLM-1R", 1, "MEM-1", NULL);
}

static const outcome_t STREAM_OUTCOMES[STREAM] = {
    OUTCOME_APPROVED, OUTCOME_APPROVED, OUTCOME_DENIED,   OUTCOME_APPROVED, OUTCOME_DENIED,
    OUTCOME_APPROVED, OUTCOME_DENIED,   OUTCOME_APPROVED, OUTCOME_DENIED,   OUTCOME_DENIED,
    OUTCOME_APPROVED, OUTCOME_APPROVED, OUTCOME_PENDED,   OUTCOME_APPROVED};
static const char *const STREAM_REVERSED_ID[STREAM] = {NULL, NULL, NULL, "s-1", NULL, NULL,  "s-5",
                                                       NULL, NULL, NULL, "s-7", NULL, "s-6", NULL};
static const bool STREAM_IS_REVERSED[STREAM] = {false, true,  true,  false, false, true,  true,
                                                true,  false, false, false, false, false, false};

/* After the stream: a new line (s-13's dose is paid), a void of CLM-1R/1 (reports s-13, the
 * approved one, over the pended s-12), then a PA (1.F passes again). */
static void after_stream(event_t *evs)
{
    line_event(&evs[0], FREQUENCY_ORIGINAL, "n-1", "CLM-3", 1, "MEM-1", NULL);
    line_event(&evs[1], FREQUENCY_VOID, "n-2", "CLM-1R", 1, "MEM-1", "CLM-1R");
    pa_base(&evs[2], "n-3", "PA-4", "MEM-1");
}

static void check_stream_state(engine_t *e, const char *when)
{
    for (int i = 0; i < STREAM; i++) {
        char id[8];
        snprintf(id, sizeof id, "s-%d", i);
        ck_assert_msg(engine_is_reversed(e, id) == STREAM_IS_REVERSED[i],
                      "%s: %s reversed is %d, expected %d", when, id, !STREAM_IS_REVERSED[i],
                      STREAM_IS_REVERSED[i]);
    }
}

START_TEST(test_load_equals_processing)
{
    event_t evs[STREAM], after[3];
    stream_events(evs);
    after_stream(after);

    snapshot_t direct[STREAM], next[3];
    for (int i = 0; i < STREAM; i++) {
        const determination_t *d = process(&evs[i]);
        assert_outcome(d, STREAM_OUTCOMES[i]);
        assert_str_or_null(d->reversed_event_id, STREAM_REVERSED_ID[i], "reversed_event_id");
        snapshot(&direct[i], d);
    }
    ck_assert_int_eq(direct[9].d.criteria[PA_1F], N);  /* s-7 paid */
    ck_assert_int_eq(direct[11].d.criteria[PA_1F], M); /* s-7 voided */
    check_stream_state(g_engine, "direct");
    for (int i = 0; i < 3; i++) snapshot(&next[i], process(&after[i]));
    expect_dose_paid(&next[0].d);
    expect_void_accepted(&next[1].d, "s-13");
    ck_assert_int_eq(next[2].d.criteria[PA_1F], M);

    /* a restart after any prefix of the stream: a fresh engine loads the stored
     * determinations in order, then judges the rest */
    for (int split = 0; split <= STREAM; split++) {
        engine_t *e = engine_new(support_policy());
        ck_assert_ptr_nonnull(e);
        snapshot_t stored[STREAM];
        for (int i = 0; i < split; i++) {
            snapshot(&stored[i], &direct[i].d);
            ck_assert_int_eq(engine_load(e, &stored[i].d, event_fingerprint(&evs[i])), 0);
        }
        /* the engine keeps copies: scribble over the loaded strings */
        for (int i = 0; i < split; i++) {
            memset(stored[i].claim_id, 'X', 3);
            memset(stored[i].original, 'X', 3);
            memset(stored[i].reversed, 'X', 3);
            memset(stored[i].member_id, 'X', 3);
        }
        for (int i = split; i < STREAM; i++) {
            const determination_t *d = NULL;
            ck_assert_int_eq(engine_process(e, &evs[i], &d), ENGINE_JUDGED);
            assert_same_determination(d, &direct[i].d);
        }
        char when[32];
        snprintf(when, sizeof when, "split %d", split);
        check_stream_state(e, when);
        for (int i = 0; i < 3; i++) {
            const determination_t *d = NULL;
            ck_assert_int_eq(engine_process(e, &after[i], &d), ENGINE_JUDGED);
            assert_same_determination(d, &next[i].d);
        }
        /* replays of loaded and judged events alike: stored, no history change */
        for (int i = 0; i < STREAM; i++) {
            const determination_t *d = NULL;
            ck_assert_int_eq(engine_process(e, &evs[i], &d), ENGINE_REPLAYED);
            assert_same_determination(d, &direct[i].d);
        }
        ck_assert(engine_is_reversed(e, "s-13"));
        engine_free(e);
    }
}
END_TEST

START_TEST(test_load_void_reverses_again)
{
    /* a stored accepted VOID, loaded after its original, reverses the same line */
    approve_pa("pa-1", "MEM-1");
    snapshot_t s[3];
    snapshot(&s[0], engine_lookup(g_engine, "pa-1"));
    snapshot(&s[1], bill("c-1", "CLM-1", 1, "MEM-1"));
    snapshot(&s[2], void_line("v-1", "CLM-9", 1, "MEM-1", "\tCLM-1 "));
    expect_void_accepted(&s[2].d, "c-1");

    engine_t *e = engine_new(support_policy());
    ck_assert_ptr_nonnull(e);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(engine_load(e, &s[i].d, 0), 0);
    ck_assert(engine_is_reversed(e, "c-1"));
    const determination_t *v = engine_lookup(e, "v-1");
    ck_assert_ptr_nonnull(v);
    assert_same_determination(v, &s[2].d);
    /* the line is free and no dose is paid */
    event_t ev;
    line_event(&ev, FREQUENCY_ORIGINAL, "c-2", "CLM-1", 1, "MEM-1", NULL);
    const determination_t *d = NULL;
    ck_assert_int_eq(engine_process(e, &ev, &d), ENGINE_JUDGED);
    expect_paid(d, FREQUENCY_ORIGINAL, NULL);
    engine_free(e);

    /* loaded before its original (a partial or out-of-order load): it reverses nothing, and
     * the original loaded after it is live */
    e = engine_new(support_policy());
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(engine_load(e, &s[0].d, 0), 0);
    ck_assert_int_eq(engine_load(e, &s[2].d, 0), 0);
    ck_assert_int_eq(engine_load(e, &s[1].d, 0), 0);
    ck_assert(!engine_is_reversed(e, "c-1"));
    engine_free(e);
}
END_TEST

/* ---- criteria traces stored before ORIGINAL existed ---- */

START_TEST(test_criteria_from_legacy_trace)
{
    determination_t d;
    memset(&d, 0, sizeof d);
    d.kind = EVENT_CLAIM;
    memset(d.criteria, 0xEE, sizeof d.criteria);
    /* 8 letters: POLICY .. SINGLE_DOSE, ORIGINAL NOT_APPLICABLE */
    ck_assert_int_eq(criteria_from_trace("MMMUMANM", EVENT_CLAIM, &d), 0);
    const uint8_t legacy[] = {NA, M, M, M, U, M, NA, N, M};
    assert_criteria(&d, legacy);
    char trace[MAX_CRITERIA + 1];
    criteria_trace(&d, trace);
    ck_assert_str_eq(trace, "AMMMUMANM");
    /* 9 letters: as written */
    ck_assert_int_eq(criteria_from_trace("NAAAAAAAA", EVENT_CLAIM, &d), 0);
    assert_criteria(&d, NOT_FOUND);
    ck_assert_int_eq(criteria_from_trace("MAAAAAAAA", EVENT_CLAIM, &d), 0);
    assert_criteria(&d, VOID_ACCEPTED);
    criteria_trace(&d, trace);
    ck_assert_str_eq(trace, "MAAAAAAAA");
    /* a legacy POLICY-pended line */
    ck_assert_int_eq(criteria_from_trace("UAAAAAAA", EVENT_CLAIM, &d), 0);
    const uint8_t pended[] = {NA, U, NA, NA, NA, NA, NA, NA, NA};
    assert_criteria(&d, pended);
    /* malformed */
    ck_assert_int_eq(criteria_from_trace("MMMMMMM", EVENT_CLAIM, &d), -1);
    ck_assert_int_eq(criteria_from_trace("MMMMMMMMMM", EVENT_CLAIM, &d), -1);
    ck_assert_int_eq(criteria_from_trace("MMMMMMMX", EVENT_CLAIM, &d), -1);
    ck_assert_int_eq(criteria_from_trace("XMMMMMMMM", EVENT_CLAIM, &d), -1);
    ck_assert_int_eq(criteria_from_trace("", EVENT_CLAIM, &d), -1);
    /* a PA trace has no legacy form: 9 letters is one short */
    d.kind = EVENT_PRIOR_AUTH;
    ck_assert_int_eq(criteria_from_trace("MMMMMAMMM", EVENT_PRIOR_AUTH, &d), -1);
    ck_assert_int_eq(criteria_from_trace("MMMMMAMMMA", EVENT_PRIOR_AUTH, &d), 0);
    ck_assert_int_eq(d.criteria[PA_POLICY], M);
    ck_assert_int_eq(d.criteria[PA_DOSE], NA);
}
END_TEST

static Suite *lifecycle_suite(void)
{
    Suite *s = suite_create("lifecycle");
    TCase *tc = tcase_create("void");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_void_of_paid_line_frees_the_dose);
    tcase_add_test(tc, test_void_each_line_of_a_claim);
    tcase_add_test(tc, test_void_denied_and_pended_lines);
    tcase_add_test(tc, test_accepted_void_fields);
    suite_add_tcase(s, tc);

    tc = tcase_create("replacement");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_replacement_corrected_dose_is_not_a_second_dose);
    tcase_add_test(tc, test_replacement_on_own_line_is_not_its_own_duplicate);
    tcase_add_test(tc, test_replacement_under_a_new_claim_number);
    tcase_add_test(tc, test_replacement_own_line_duplicate_still_reverses);
    tcase_add_test(tc, test_reversal_stands_whatever_the_replacement_outcome);
    tcase_add_test(tc, test_replacement_before_any_policy);
    suite_add_tcase(s, tc);

    tc = tcase_create("original_check");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_reference_trimming);
    tcase_add_test(tc, test_claim_id_is_never_trimmed);
    tcase_add_test(tc, test_other_members_claim_not_found);
    tcase_add_test(tc, test_line_already_reversed_not_found);
    tcase_add_test(tc, test_line_only_voids_carry_not_found);
    tcase_add_test(tc, test_void_before_its_original);
    tcase_add_test(tc, test_stopped_replacement_bills_nothing);
    tcase_add_test(tc, test_original_claim_id_ignored_on_original);
    suite_add_tcase(s, tc);

    tc = tcase_create("history");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_reversed_event_id_prefers_approved);
    tcase_add_test(tc, test_reversed_event_id_most_recent_without_approval);
    tcase_add_test(tc, test_reversed_event_id_most_recent_approved_loaded);
    tcase_add_test(tc, test_reversal_never_touches_later_determinations);
    tcase_add_test(tc, test_duplicate_looks_only_at_live_billed_final_lines);
    tcase_add_test(tc, test_replayed_void_reverses_nothing_again);
    tcase_add_test(tc, test_replayed_reversed_original_stays_reversed);
    tcase_add_test(tc, test_engine_is_reversed);
    suite_add_tcase(s, tc);

    tc = tcase_create("load");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_load_equals_processing);
    tcase_add_test(tc, test_load_void_reverses_again);
    tcase_add_test(tc, test_criteria_from_legacy_trace);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return support_run(lifecycle_suite());
}
