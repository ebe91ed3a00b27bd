/* Claim-line checks, contract §7, through the engine (history matters for most of them). */
#include "test_support.h"

/* claim_base() with an approved PA in force: every check MET, but ORIGINAL, which does not apply
 * to an ORIGINAL line (contract §10). */
static const uint8_t ALL_MET[CLAIM_CRITERIA_COUNT] = {NA, M, M, M, M, M, M, M, M};

/* A PA of member/pa_id (D from received when given) judged to outcome: as pa_base() it is
 * APPROVED; PENDED by 1.E UNKNOWN; DENIED by 1.B NOT_MET. */
static const determination_t *pa_judged(const char *event_id, const char *pa_id, const char *member,
                                        const char *received, outcome_t outcome)
{
    event_t ev;
    pa_base(&ev, event_id, pa_id, member);
    if (received) ev.pa.received_at_ms = ts(received);
    if (outcome == OUTCOME_PENDED) ev.pa.lymphodepletion = LYMPHODEPLETION_UNKNOWN;
    if (outcome == OUTCOME_DENIED) ev.pa.disease_status = DISEASE_RESECTABLE;
    const determination_t *d = process(&ev);
    assert_outcome(d, outcome);
    return d;
}

static const determination_t *approve_pa(const char *event_id, const char *pa_id,
                                         const char *member, const char *received)
{
    return pa_judged(event_id, pa_id, member, received, OUTCOME_APPROVED);
}

static const determination_t *pend_pa(const char *event_id, const char *pa_id, const char *member,
                                      const char *received)
{
    return pa_judged(event_id, pa_id, member, received, OUTCOME_PENDED);
}

static const determination_t *deny_pa(const char *event_id, const char *pa_id, const char *member,
                                      const char *received)
{
    return pa_judged(event_id, pa_id, member, received, OUTCOME_DENIED);
}

/* Judges claim_base(event_id, claim_id, line, member, authorization_id) as it is. */
static const determination_t *claim_judged(const char *event_id, const char *claim_id, int line,
                                           const char *member, const char *authorization_id)
{
    event_t ev;
    claim_base(&ev, event_id, claim_id, line, member, authorization_id);
    return process(&ev);
}

/*
 * Requires: check crit has status, every other check MET, exactly one reason (crit, code) when
 * the check fails, the outcome §7 gives, and matched_pa_id.
 */
static void expect_only(const determination_t *d, int crit, int status, reason_code_t code,
                        const char *matched)
{
    uint8_t want[CLAIM_CRITERIA_COUNT];
    memcpy(want, ALL_MET, sizeof want);
    want[crit] = (uint8_t)status;
    assert_criteria(d, want);
    if (status == N || status == U) {
        const reason_t r = {(uint8_t)crit, (uint8_t)code, (uint8_t)status};
        assert_reasons(d, 1, &r);
        assert_outcome(d, status == N ? OUTCOME_DENIED : OUTCOME_PENDED);
    } else {
        assert_reasons(d, 0, NULL);
        assert_outcome(d, OUTCOME_APPROVED);
    }
    assert_str_or_null(d->matched_pa_id, matched, "matched_pa_id");
}

/* The AUTHORIZATION check alone fails (or passes) with code; matched only when MET. */
static void expect_auth(const determination_t *d, int status, reason_code_t code,
                        const char *matched)
{
    expect_only(d, CLAIM_AUTHORIZATION, status, code, status == M ? matched : NULL);
}

/* ---- the approved line and the determination's fields ---- */

START_TEST(test_approved_line)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 3, "MEM-1", "PA-1");
    const determination_t *d = process(&ev);
    expect_only(d, CLAIM_POLICY, M, 0, "PA-1");
    ck_assert_int_eq(d->kind, EVENT_CLAIM);
    ck_assert_str_eq(d->event_id, "cl-1");
    ck_assert_str_eq(d->member_id, "MEM-1");
    assert_str_or_null(d->claim_id, "CLM-1", "claim_id");
    ck_assert_int_eq(d->line_number, 3);
    assert_str_or_null(d->pa_id, NULL, "pa_id");
    ck_assert_ptr_null(x12_action_of(d));
    ck_assert(!d->has_authorization);
    assert_date(d->policy_version, ymd(2026, 5, 1), "policy_version");
    assert_date(d->decision_date, ymd(2026, 7, 14), "decision_date");
    /* an ORIGINAL (claim_base's default frequency) names and reverses nothing */
    ck_assert_int_eq(d->frequency_code, FREQUENCY_ORIGINAL);
    assert_str_or_null(d->original_claim_id, NULL, "original_claim_id");
    assert_str_or_null(d->reversed_event_id, NULL, "reversed_event_id");
    ck_assert(determination_bills(d));
    ck_assert(!determination_reverses(d));
    char id[UUID_STRING_LEN + 1];
    determination_id_for("cl-1", id);
    ck_assert_str_eq(d->determination_id, id);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_int_eq(criteria_count(EVENT_CLAIM), 9);
    static const char *names[] = {"ORIGINAL", "POLICY", "DUPLICATE",     "HCPCS",      "DIAGNOSIS",
                                  "UNITS",    "DOSE",   "AUTHORIZATION", "SINGLE_DOSE"};
    ck_assert_int_eq(CLAIM_ORIGINAL, 0); /* contract §8: ORIGINAL first */
    for (int i = 0; i < 9; i++) ck_assert_str_eq(criterion_name(EVENT_CLAIM, i), names[i]);
    ck_assert_str_eq(event_kind_name(EVENT_CLAIM), "claim");
}
END_TEST

/* ---- POLICY: by service_date ---- */

START_TEST(test_policy_none_on_service_date)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.service_date = ymd(2024, 6, 14);
    ev.claim.received_at_ms = ts("2026-07-20T09:30:00Z"); /* recorded only */
    ev.claim.hcpcs_code = "J9999";                        /* would fail, but POLICY stops */
    ev.claim.units = 5;
    const determination_t *d = process(&ev);
    const uint8_t want[] = {NA, U, NA, NA, NA, NA, NA, NA, NA};
    const reason_t r = {CLAIM_POLICY, REASON_NO_POLICY_IN_EFFECT, U};
    assert_judged(d, want, 1, &r, OUTCOME_PENDED);
    assert_date(d->policy_version, DATE_NULL, "policy_version");
    assert_str_or_null(d->matched_pa_id, NULL, "matched_pa_id");
}
END_TEST

START_TEST(test_policy_versions_by_service_date)
{
    /* a PA decided on 2024-06-15 covers until 2024-12-15 */
    approve_pa("pa-1", "PA-1", "MEM-1", "2024-06-15T08:00:00Z");
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.service_date = ymd(2024, 6, 15);
    ev.claim.received_at_ms = ts("2020-01-01T00:00:00Z"); /* recorded only */
    const determination_t *d = process(&ev);
    expect_only(d, CLAIM_POLICY, M, 0, "PA-1");
    assert_date(d->policy_version, ymd(2024, 6, 15), "policy_version");

    /* the later versions, through other members so SINGLE_DOSE stays MET */
    approve_pa("pa-2", "PA-2", "MEM-2", "2026-04-01T08:00:00Z");
    claim_base(&ev, "cl-2", "CLM-2", 1, "MEM-2", NULL);
    ev.claim.service_date = ymd(2026, 4, 30);
    d = process(&ev);
    expect_only(d, CLAIM_POLICY, M, 0, "PA-2");
    assert_date(d->policy_version, ymd(2025, 5, 1), "policy_version");

    approve_pa("pa-3", "PA-3", "MEM-3", "2026-04-01T08:00:00Z");
    claim_base(&ev, "cl-3", "CLM-3", 1, "MEM-3", NULL);
    ev.claim.service_date = ymd(2026, 5, 1);
    d = process(&ev);
    expect_only(d, CLAIM_POLICY, M, 0, "PA-3");
    assert_date(d->policy_version, ymd(2026, 5, 1), "policy_version");
}
END_TEST

/* ---- HCPCS ---- */

START_TEST(test_hcpcs)
{
    static const struct {
        const char *code;
        int status;
    } cases[] = {{"J3590", M}, {"C9399", M}, {" j3590 ", M}, {"c9399", M}, {"J9999", N},
                 {"Q2055", N}, {"J359", N},  {"J35900", N},  {"", N},      {"J 3590", N}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        event_t ev;
        claim_base(&ev, "cl-h", "CLM-H", 1, "MEM-1", "PA-1");
        ev.claim.hcpcs_code = cases[i].code;
        /* each against a fresh history, so an earlier paid line does not interfere */
        engine_reset(g_engine);
        approve_pa("pa-1", "PA-1", "MEM-1", NULL);
        const determination_t *d = process(&ev);
        expect_only(d, CLAIM_HCPCS, cases[i].status,
                    cases[i].status == N ? REASON_HCPCS_NOT_COVERED : 0, "PA-1");
    }
}
END_TEST

/* ---- DIAGNOSIS (claims deny missing billing data: CO-16) ---- */

static void with_claim_dx(uint32_t n, const char *const *codes, int status, reason_code_t code)
{
    engine_reset(g_engine);
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    claim_base(&ev, "cl-dx", "CLM-DX", 1, "MEM-1", "PA-1");
    ev.claim.n_diagnosis_codes = n;
    for (uint32_t i = 0; i < n; i++) ev.claim.diagnosis_codes[i] = codes[i];
    expect_only(process(&ev), CLAIM_DIAGNOSIS, status, code, "PA-1");
}

START_TEST(test_diagnosis)
{
    with_claim_dx(0, NULL, N, REASON_DX_MISSING);
    const char *empties[] = {"", ""};
    with_claim_dx(2, empties, N, REASON_DX_MISSING);
    const char *c61[] = {"C61"};
    with_claim_dx(1, c61, N, REASON_DX_NOT_COVERED);
    const char *d03[] = {"D03.9"};
    with_claim_dx(1, d03, N, REASON_DX_NOT_COVERED);
    const char *c69[] = {"C69.40", "Z85820"};
    with_claim_dx(2, c69, N, REASON_DX_NOT_COVERED);
    const char *z85[] = {"Z85.820"};
    with_claim_dx(1, z85, N, REASON_DX_NOT_COVERED);
    const char *sec[] = {"Z85.820", "C78.00"};
    with_claim_dx(2, sec, M, 0);
    const char *lower[] = {"", "c43.9"};
    with_claim_dx(2, lower, M, 0);
}
END_TEST

/* ---- UNITS ---- */

START_TEST(test_units)
{
    static const struct {
        int32_t units;
        int status;
        reason_code_t code;
    } cases[] = {{1, M, 0},
                 {0, N, REASON_UNITS_INVALID},
                 {-1, N, REASON_UNITS_INVALID},
                 {INT32_MIN, N, REASON_UNITS_INVALID},
                 {2, N, REASON_UNITS_EXCEED_SINGLE_DOSE},
                 {INT32_MAX, N, REASON_UNITS_EXCEED_SINGLE_DOSE}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        engine_reset(g_engine);
        approve_pa("pa-1", "PA-1", "MEM-1", NULL);
        event_t ev;
        claim_base(&ev, "cl-u", "CLM-U", 1, "MEM-1", "PA-1");
        ev.claim.units = cases[i].units;
        expect_only(process(&ev), CLAIM_UNITS, cases[i].status, cases[i].code, "PA-1");
    }
}
END_TEST

/* ---- DOSE ---- */

START_TEST(test_dose)
{
    static const struct {
        bool has;
        int64_t cells;
        int status;
        reason_code_t code;
    } cases[] = {{false, 0, N, REASON_DOSE_NOT_REPORTED},
                 {false, 33400000000LL, N, REASON_DOSE_NOT_REPORTED},
                 {true, 7500000000LL, M, 0},
                 {true, 72000000000LL, M, 0},
                 {true, 7499999999LL, N, REASON_DOSE_OUT_OF_RANGE},
                 {true, 72000000001LL, N, REASON_DOSE_OUT_OF_RANGE},
                 {true, 0, N, REASON_DOSE_OUT_OF_RANGE},
                 {true, -33400000000LL, N, REASON_DOSE_OUT_OF_RANGE},
                 {true, INT64_MAX, N, REASON_DOSE_OUT_OF_RANGE}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        engine_reset(g_engine);
        approve_pa("pa-1", "PA-1", "MEM-1", NULL);
        event_t ev;
        claim_base(&ev, "cl-d", "CLM-D", 1, "MEM-1", "PA-1");
        ev.claim.has_dose_viable_cells = cases[i].has;
        ev.claim.dose_viable_cells = cases[i].cells;
        expect_only(process(&ev), CLAIM_DOSE, cases[i].status, cases[i].code, "PA-1");
    }
}
END_TEST

/* ---- AUTHORIZATION ---- */

START_TEST(test_auth_missing_and_not_found)
{
    expect_auth(claim_judged("cl-1", "CLM-1", 1, "MEM-1", NULL), N, REASON_AUTH_MISSING, NULL);
    expect_auth(claim_judged("cl-2", "CLM-2", 1, "MEM-1", ""), N, REASON_AUTH_MISSING, NULL);
    expect_auth(claim_judged("cl-3", "CLM-3", 1, "MEM-1", "PA-1"), N, REASON_AUTH_NOT_FOUND, NULL);
}
END_TEST

START_TEST(test_auth_id_limits_and_matches)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    /* names another pa_id: not found, although PA-1 would authorize */
    expect_auth(claim_judged("cl-1", "CLM-1", 1, "MEM-1", "PA-2"), N, REASON_AUTH_NOT_FOUND, NULL);
    /* exact match: case matters */
    expect_auth(claim_judged("cl-2", "CLM-2", 1, "MEM-1", "pa-1"), N, REASON_AUTH_NOT_FOUND, NULL);
    expect_auth(claim_judged("cl-3", "CLM-3", 1, "MEM-1", "PA-1X"), N, REASON_AUTH_NOT_FOUND, NULL);
    expect_auth(claim_judged("cl-3b", "CLM-3B", 1, "MEM-1", "PA-"), N, REASON_AUTH_NOT_FOUND, NULL);
    /* trimmed before matching */
    expect_auth(claim_judged("cl-4", "CLM-4", 1, "MEM-1", "  PA-1 "), M, 0, "PA-1");
}
END_TEST

START_TEST(test_auth_empty_id_is_null)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    expect_auth(claim_judged("cl-1", "CLM-1", 1, "MEM-1", ""), M, 0, "PA-1");
}
END_TEST

START_TEST(test_auth_whitespace_id)
{
    /* Ambiguity: an authorization_id of only spaces trims to "", which counts as null. */
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    expect_auth(claim_judged("cl-1", "CLM-1", 1, "MEM-1", "   "), M, 0, "PA-1");
}
END_TEST

START_TEST(test_auth_other_member)
{
    approve_pa("pa-1", "PA-1", "MEM-B", NULL);
    expect_auth(claim_judged("cl-1", "CLM-1", 1, "MEM-A", "PA-1"), N, REASON_AUTH_NOT_FOUND, NULL);
    expect_auth(claim_judged("cl-2", "CLM-2", 1, "MEM-A", NULL), N, REASON_AUTH_MISSING, NULL);
    /* MEM-B's own claim is fine */
    expect_auth(claim_judged("cl-3", "CLM-1", 1, "MEM-B", "PA-1"), M, 0, "PA-1");
}
END_TEST

START_TEST(test_auth_window_edges)
{
    /* D = 2026-06-02: valid_from 2026-06-02, valid_until 2026-12-02 (exclusive) */
    static const struct {
        int status;
        reason_code_t code;
    } cases[] = {
        {M, 0},
        {M, 0},
        {N, REASON_AUTH_EXPIRED},
        {N, REASON_AUTH_NOT_VALID_ON_SERVICE_DATE},
        {N, REASON_AUTH_EXPIRED},
    };
    const date_t service[] = {ymd(2026, 6, 2), ymd(2026, 12, 1), ymd(2026, 12, 2), ymd(2026, 6, 1),
                              ymd(2027, 6, 1)};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        engine_reset(g_engine);
        approve_pa("pa-1", "PA-1", "MEM-1", NULL);
        event_t ev;
        claim_base(&ev, "cl-w", "CLM-W", 1, "MEM-1", (i % 2) ? NULL : "PA-1");
        ev.claim.service_date = service[i];
        expect_auth(process(&ev), cases[i].status, cases[i].code, "PA-1");
    }
}
END_TEST

START_TEST(test_auth_clamped_window)
{
    /* D = 2026-08-31: valid_until 2027-02-28 */
    approve_pa("pa-1", "PA-1", "MEM-1", "2026-08-31T12:00:00Z");
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.service_date = ymd(2027, 2, 28);
    expect_auth(process(&ev), N, REASON_AUTH_EXPIRED, NULL);
    claim_base(&ev, "cl-2", "CLM-2", 1, "MEM-1", "PA-1");
    ev.claim.service_date = ymd(2027, 2, 27);
    expect_auth(process(&ev), M, 0, "PA-1");
}
END_TEST

START_TEST(test_auth_pending)
{
    pend_pa("pa-1", "PA-1", "MEM-1", NULL);
    expect_auth(claim_judged("cl-1", "CLM-1", 1, "MEM-1", "PA-1"), U, REASON_AUTH_PENDING, NULL);
    expect_auth(claim_judged("cl-2", "CLM-2", 1, "MEM-1", NULL), U, REASON_AUTH_PENDING, NULL);
}
END_TEST

START_TEST(test_auth_denied)
{
    deny_pa("pa-1", "PA-1", "MEM-1", NULL);
    expect_auth(claim_judged("cl-1", "CLM-1", 1, "MEM-1", "PA-1"), N, REASON_AUTH_DENIED, NULL);
    expect_auth(claim_judged("cl-2", "CLM-2", 1, "MEM-1", NULL), N, REASON_AUTH_DENIED, NULL);
}
END_TEST

START_TEST(test_auth_policy_pended_pa)
{
    /* a PA pended for want of a policy version is a standing PENDED PA */
    pend_pa("pa-1", "PA-1", "MEM-1", "2024-06-01T12:00:00Z");
    expect_auth(claim_judged("cl-1", "CLM-1", 1, "MEM-1", NULL), U, REASON_AUTH_PENDING, NULL);
}
END_TEST

START_TEST(test_auth_precedence)
{
    /* valid approved beats a pended one */
    approve_pa("a-pa1", "PA-1", "MEM-A", NULL);
    pend_pa("a-pa2", "PA-2", "MEM-A", "2026-07-01T10:00:00Z");
    expect_auth(claim_judged("a-cl", "CLM-A", 1, "MEM-A", NULL), M, 0, "PA-1");

    /* pended beats expired */
    approve_pa("b-pa1", "PA-1", "MEM-B", "2025-06-02T10:00:00Z"); /* until 2025-12-02 */
    pend_pa("b-pa2", "PA-2", "MEM-B", "2026-07-01T10:00:00Z");
    expect_auth(claim_judged("b-cl", "CLM-B", 1, "MEM-B", NULL), U, REASON_AUTH_PENDING, NULL);

    /* expired beats not-yet-valid */
    approve_pa("c-pa1", "PA-1", "MEM-C", "2025-06-02T10:00:00Z");
    approve_pa("c-pa2", "PA-2", "MEM-C", "2026-08-01T10:00:00Z");
    expect_auth(claim_judged("c-cl", "CLM-C", 1, "MEM-C", NULL), N, REASON_AUTH_EXPIRED, NULL);

    /* not-yet-valid beats denied */
    deny_pa("d-pa1", "PA-1", "MEM-D", NULL);
    approve_pa("d-pa2", "PA-2", "MEM-D", "2026-08-01T10:00:00Z");
    expect_auth(claim_judged("d-cl", "CLM-D", 1, "MEM-D", NULL), N,
                REASON_AUTH_NOT_VALID_ON_SERVICE_DATE, NULL);

    /* expired beats denied */
    approve_pa("e-pa1", "PA-1", "MEM-E", "2025-06-02T10:00:00Z");
    deny_pa("e-pa2", "PA-2", "MEM-E", NULL);
    expect_auth(claim_judged("e-cl", "CLM-E", 1, "MEM-E", NULL), N, REASON_AUTH_EXPIRED, NULL);

    /* pended beats denied */
    deny_pa("f-pa1", "PA-1", "MEM-F", NULL);
    pend_pa("f-pa2", "PA-2", "MEM-F", NULL);
    expect_auth(claim_judged("f-cl", "CLM-F", 1, "MEM-F", NULL), U, REASON_AUTH_PENDING, NULL);

    /* naming the pended PA considers only it, although PA-1 would authorize */
    approve_pa("g-pa1", "PA-1", "MEM-G", NULL);
    pend_pa("g-pa2", "PA-2", "MEM-G", NULL);
    expect_auth(claim_judged("g-cl1", "CLM-G1", 1, "MEM-G", "PA-2"), U, REASON_AUTH_PENDING, NULL);
    /* naming the denied PA: AUTH_DENIED, although PA-1 would authorize */
    deny_pa("g-pa3", "PA-3", "MEM-G", NULL);
    expect_auth(claim_judged("g-cl2", "CLM-G2", 1, "MEM-G", "PA-3"), N, REASON_AUTH_DENIED, NULL);
    expect_auth(claim_judged("g-cl3", "CLM-G3", 1, "MEM-G", "PA-1"), M, 0, "PA-1");
}
END_TEST

START_TEST(test_auth_most_recent_valid_is_matched)
{
    approve_pa("a-pa1", "PA-1", "MEM-A", "2026-06-02T10:00:00Z");
    approve_pa("a-pa2", "PA-2", "MEM-A", "2026-06-10T10:00:00Z");
    expect_auth(claim_judged("a-cl", "CLM-A", 1, "MEM-A", NULL), M, 0, "PA-2");

    /* "most recent" is stream position, not decision date */
    approve_pa("b-pa1", "PA-9", "MEM-B", "2026-06-10T10:00:00Z");
    approve_pa("b-pa2", "PA-3", "MEM-B", "2026-06-02T10:00:00Z");
    expect_auth(claim_judged("b-cl", "CLM-B", 1, "MEM-B", NULL), M, 0, "PA-3");

    /* a more recent approval that does not cover the service date is passed over */
    approve_pa("c-pa1", "PA-1", "MEM-C", "2026-06-02T10:00:00Z");
    approve_pa("c-pa2", "PA-2", "MEM-C", "2026-08-01T10:00:00Z");
    expect_auth(claim_judged("c-cl", "CLM-C", 1, "MEM-C", NULL), M, 0, "PA-1");
}
END_TEST

/* ---- standing determination of a pa_id (several events of one pa_id) ---- */

START_TEST(test_standing_pended_then_approved)
{
    pend_pa("pa-1a", "PA-1", "MEM-1", NULL);
    approve_pa("pa-1b", "PA-1", "MEM-1", NULL);
    expect_auth(claim_judged("cl-1", "CLM-1", 1, "MEM-1", "PA-1"), M, 0, "PA-1");
}
END_TEST

START_TEST(test_standing_approval_not_taken_back)
{
    approve_pa("pa-1a", "PA-1", "MEM-1", NULL);
    deny_pa("pa-1b", "PA-1", "MEM-1", NULL);
    pend_pa("pa-1c", "PA-1", "MEM-1", NULL);
    event_t ev;
    expect_auth(claim_judged("cl-1", "CLM-1", 1, "MEM-1", "PA-1"), M, 0, "PA-1");
    claim_base(&ev, "cl-2", "CLM-2", 1, "MEM-2", NULL); /* other member: nothing */
    expect_auth(process(&ev), N, REASON_AUTH_MISSING, NULL);
}
END_TEST

START_TEST(test_standing_most_recent_without_approval)
{
    deny_pa("a-1", "PA-1", "MEM-A", NULL);
    pend_pa("a-2", "PA-1", "MEM-A", NULL);
    expect_auth(claim_judged("a-cl", "CLM-A", 1, "MEM-A", "PA-1"), U, REASON_AUTH_PENDING, NULL);

    pend_pa("b-1", "PA-1", "MEM-B", NULL);
    deny_pa("b-2", "PA-1", "MEM-B", NULL);
    expect_auth(claim_judged("b-cl", "CLM-B", 1, "MEM-B", "PA-1"), N, REASON_AUTH_DENIED, NULL);
}
END_TEST

START_TEST(test_standing_most_recent_approval_window)
{
    /* two approvals of PA-1: the most recent one (D = 2026-06-02) stands */
    approve_pa("pa-1a", "PA-1", "MEM-1", "2026-01-10T10:00:00Z"); /* until 2026-07-10 */
    approve_pa("pa-1b", "PA-1", "MEM-1", "2026-06-02T10:00:00Z"); /* until 2026-12-02 */
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.service_date = ymd(2026, 8, 1);
    expect_auth(process(&ev), M, 0, "PA-1");
    /* before the standing approval's valid_from, although the first approval covered it */
    claim_base(&ev, "cl-2", "CLM-2", 1, "MEM-1", "PA-1");
    ev.claim.service_date = ymd(2026, 2, 1);
    /* cl-1 was paid, so SINGLE_DOSE fails too */
    const determination_t *d = process(&ev);
    const uint8_t want[] = {NA, M, M, M, M, M, M, N, N};
    const reason_t r[] = {{CLAIM_AUTHORIZATION, REASON_AUTH_NOT_VALID_ON_SERVICE_DATE, N},
                          {CLAIM_SINGLE_DOSE, REASON_PRIOR_DOSE_PAID, N}};
    assert_judged(d, want, 2, r, OUTCOME_DENIED);
    assert_str_or_null(d->matched_pa_id, NULL, "matched_pa_id");
}
END_TEST

START_TEST(test_pa_id_under_two_members)
{
    /* the same pa_id under another member is a different PA */
    approve_pa("a-1", "PA-1", "MEM-A", NULL);
    deny_pa("b-1", "PA-1", "MEM-B", NULL);
    expect_auth(claim_judged("a-cl", "CLM-1", 1, "MEM-A", "PA-1"), M, 0, "PA-1");
    expect_auth(claim_judged("b-cl", "CLM-1", 1, "MEM-B", "PA-1"), N, REASON_AUTH_DENIED, NULL);
}
END_TEST

/* ---- SINGLE_DOSE ---- */

START_TEST(test_single_dose)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    expect_only(claim_judged("cl-1", "CLM-1", 1, "MEM-1", "PA-1"), CLAIM_POLICY, M, 0, "PA-1");
    /* another line (different claim): the dose was paid */
    claim_base(&ev, "cl-2", "CLM-2", 1, "MEM-1", NULL);
    ev.claim.service_date = ymd(2026, 8, 1);
    expect_only(process(&ev), CLAIM_SINGLE_DOSE, N, REASON_PRIOR_DOSE_PAID, "PA-1");
    /* another line of the same claim */
    expect_only(claim_judged("cl-3", "CLM-1", 2, "MEM-1", "PA-1"), CLAIM_SINGLE_DOSE, N,
                REASON_PRIOR_DOSE_PAID, "PA-1");
    /* another member is unaffected */
    approve_pa("pa-2", "PA-1", "MEM-2", NULL);
    expect_only(claim_judged("cl-4", "CLM-1", 1, "MEM-2", "PA-1"), CLAIM_POLICY, M, 0, "PA-1");
}
END_TEST

START_TEST(test_single_dose_ignores_unpaid_lines)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.units = 2; /* denied */
    expect_only(process(&ev), CLAIM_UNITS, N, REASON_UNITS_EXCEED_SINGLE_DOSE, "PA-1");
    claim_base(&ev, "cl-2", "CLM-2", 1, "MEM-1", "PA-1");
    ev.claim.service_date = ymd(2024, 1, 1); /* pended: no policy */
    assert_outcome(process(&ev), OUTCOME_PENDED);
    expect_only(claim_judged("cl-3", "CLM-3", 1, "MEM-1", "PA-1"), CLAIM_POLICY, M, 0, "PA-1");
}
END_TEST

START_TEST(test_paid_line_fails_later_pa)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    assert_outcome(claim_judged("cl-1", "CLM-1", 1, "MEM-1", "PA-1"), OUTCOME_APPROVED);
    pa_base(&ev, "pa-2", "PA-2", "MEM-1");
    const determination_t *d = process(&ev);
    ck_assert_int_eq(d->criteria[PA_1F], N);
    assert_outcome(d, OUTCOME_DENIED);
    /* and the claim for that denied PA: AUTH_DENIED and PRIOR_DOSE_PAID */
    claim_base(&ev, "cl-2", "CLM-2", 1, "MEM-1", "PA-2");
    d = process(&ev);
    const uint8_t want[] = {NA, M, M, M, M, M, M, N, N};
    assert_criteria(d, want);
    const reason_t r[] = {{CLAIM_AUTHORIZATION, REASON_AUTH_DENIED, N},
                          {CLAIM_SINGLE_DOSE, REASON_PRIOR_DOSE_PAID, N}};
    assert_reasons(d, 2, r);
}
END_TEST

/* ---- DUPLICATE ---- */

static void expect_duplicate(const determination_t *d)
{
    const uint8_t want[] = {NA, M, N, NA, NA, NA, NA, NA, NA};
    const reason_t r = {CLAIM_DUPLICATE, REASON_DUPLICATE_CLAIM_LINE, N};
    assert_judged(d, want, 1, &r, OUTCOME_DENIED);
    assert_str_or_null(d->matched_pa_id, NULL, "matched_pa_id");
}

START_TEST(test_duplicate_of_approved_line)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    assert_outcome(claim_judged("cl-1", "CLM-1", 1, "MEM-1", "PA-1"), OUTCOME_APPROVED);
    expect_duplicate(claim_judged("cl-1-again", "CLM-1", 1, "MEM-1", "PA-1"));
    /* even with other faults: only the DUPLICATE reason */
    claim_base(&ev, "cl-1-third", "CLM-1", 1, "MEM-1", "PA-404");
    ev.claim.hcpcs_code = "J9999";
    ev.claim.units = 0;
    expect_duplicate(process(&ev));
}
END_TEST

START_TEST(test_duplicate_of_denied_line)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.has_dose_viable_cells = false;
    expect_only(process(&ev), CLAIM_DOSE, N, REASON_DOSE_NOT_REPORTED, "PA-1");
    /* the corrected line under a new event_id is still a duplicate of a final line */
    expect_duplicate(claim_judged("cl-1-corrected", "CLM-1", 1, "MEM-1", "PA-1"));
}
END_TEST

START_TEST(test_not_duplicate)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.units = 3;
    assert_outcome(process(&ev), OUTCOME_DENIED);
    /* another line of the same claim */
    expect_only(claim_judged("cl-2", "CLM-1", 2, "MEM-1", "PA-1"), CLAIM_POLICY, M, 0, "PA-1");
    /* the same claim_id and line under another member */
    approve_pa("pa-2", "PA-1", "MEM-2", NULL);
    expect_only(claim_judged("cl-3", "CLM-1", 1, "MEM-2", "PA-1"), CLAIM_POLICY, M, 0, "PA-1");
}
END_TEST

START_TEST(test_pended_line_judged_afresh)
{
    pend_pa("pa-1a", "PA-1", "MEM-1", NULL);
    expect_auth(claim_judged("cl-1a", "CLM-1", 1, "MEM-1", "PA-1"), U, REASON_AUTH_PENDING, NULL);
    /* resubmitted while still pended: pends again, not a duplicate */
    expect_auth(claim_judged("cl-1b", "CLM-1", 1, "MEM-1", "PA-1"), U, REASON_AUTH_PENDING, NULL);
    /* the PA is approved; the line is judged afresh */
    approve_pa("pa-1b", "PA-1", "MEM-1", NULL);
    expect_only(claim_judged("cl-1c", "CLM-1", 1, "MEM-1", "PA-1"), CLAIM_POLICY, M, 0, "PA-1");
    /* now final: the next event for it is a duplicate */
    expect_duplicate(claim_judged("cl-1d", "CLM-1", 1, "MEM-1", "PA-1"));
}
END_TEST

START_TEST(test_policy_pended_line_judged_afresh)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    claim_base(&ev, "cl-1a", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.service_date = ymd(2024, 6, 1);
    assert_outcome(process(&ev), OUTCOME_PENDED);
    expect_only(claim_judged("cl-1b", "CLM-1", 1, "MEM-1", "PA-1"), CLAIM_POLICY, M, 0, "PA-1");
}
END_TEST

START_TEST(test_policy_checked_before_duplicate)
{
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    assert_outcome(claim_judged("cl-1", "CLM-1", 1, "MEM-1", "PA-1"), OUTCOME_APPROVED);
    claim_base(&ev, "cl-2", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.service_date = ymd(2024, 6, 1);
    const determination_t *d = process(&ev);
    const uint8_t want[] = {NA, U, NA, NA, NA, NA, NA, NA, NA};
    const reason_t r = {CLAIM_POLICY, REASON_NO_POLICY_IN_EFFECT, U};
    assert_judged(d, want, 1, &r, OUTCOME_PENDED);
}
END_TEST

/* ---- several failures: order and outcome ---- */

START_TEST(test_all_billing_faults_in_order)
{
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 1, "MEM-1", NULL);
    ev.claim.hcpcs_code = "J9999";
    ev.claim.n_diagnosis_codes = 0;
    ev.claim.units = 2;
    ev.claim.has_dose_viable_cells = false;
    const determination_t *d = process(&ev);
    const uint8_t want[] = {NA, M, M, N, N, N, N, N, M};
    const reason_t r[] = {{CLAIM_HCPCS, REASON_HCPCS_NOT_COVERED, N},
                          {CLAIM_DIAGNOSIS, REASON_DX_MISSING, N},
                          {CLAIM_UNITS, REASON_UNITS_EXCEED_SINGLE_DOSE, N},
                          {CLAIM_DOSE, REASON_DOSE_NOT_REPORTED, N},
                          {CLAIM_AUTHORIZATION, REASON_AUTH_MISSING, N}};
    assert_judged(d, want, 5, r, OUTCOME_DENIED);
}
END_TEST

START_TEST(test_denied_beats_pended)
{
    pend_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.dose_viable_cells = 1;
    const determination_t *d = process(&ev);
    const uint8_t want[] = {NA, M, M, M, M, M, N, U, M};
    const reason_t r[] = {{CLAIM_DOSE, REASON_DOSE_OUT_OF_RANGE, N},
                          {CLAIM_AUTHORIZATION, REASON_AUTH_PENDING, U}};
    assert_judged(d, want, 2, r, OUTCOME_DENIED);
    assert_str_or_null(d->matched_pa_id, NULL, "matched_pa_id");
}
END_TEST

START_TEST(test_matched_despite_other_denial)
{
    /* AUTHORIZATION MET names the PA even when another check denies the line */
    approve_pa("pa-1", "PA-1", "MEM-1", NULL);
    event_t ev;
    claim_base(&ev, "cl-1", "CLM-1", 1, "MEM-1", NULL);
    ev.claim.units = 0;
    expect_only(process(&ev), CLAIM_UNITS, N, REASON_UNITS_INVALID, "PA-1");
}
END_TEST

static Suite *judge_claim_suite(void)
{
    Suite *s = suite_create("judge_claim");
    TCase *tc = tcase_create("billing");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_approved_line);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_policy_none_on_service_date);
    tcase_add_test(tc, test_policy_versions_by_service_date);
    tcase_add_test(tc, test_hcpcs);
    tcase_add_test(tc, test_diagnosis);
    tcase_add_test(tc, test_units);
    tcase_add_test(tc, test_dose);
    tcase_add_test(tc, test_all_billing_faults_in_order);
    tcase_add_test(tc, test_denied_beats_pended);
    tcase_add_test(tc, test_matched_despite_other_denial);
    suite_add_tcase(s, tc);

    tc = tcase_create("authorization");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_auth_missing_and_not_found);
    tcase_add_test(tc, test_auth_id_limits_and_matches);
    tcase_add_test(tc, test_auth_empty_id_is_null);
    tcase_add_test(tc, test_auth_whitespace_id);
    tcase_add_test(tc, test_auth_other_member);
    tcase_add_test(tc, test_auth_window_edges);
    tcase_add_test(tc, test_auth_clamped_window);
    tcase_add_test(tc, test_auth_pending);
    tcase_add_test(tc, test_auth_denied);
    tcase_add_test(tc, test_auth_policy_pended_pa);
    tcase_add_test(tc, test_auth_precedence);
    tcase_add_test(tc, test_auth_most_recent_valid_is_matched);
    tcase_add_test(tc, test_standing_pended_then_approved);
    tcase_add_test(tc, test_standing_approval_not_taken_back);
    tcase_add_test(tc, test_standing_most_recent_without_approval);
    tcase_add_test(tc, test_standing_most_recent_approval_window);
    tcase_add_test(tc, test_pa_id_under_two_members);
    suite_add_tcase(s, tc);

    tc = tcase_create("history");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_single_dose);
    tcase_add_test(tc, test_single_dose_ignores_unpaid_lines);
    tcase_add_test(tc, test_paid_line_fails_later_pa);
    tcase_add_test(tc, test_duplicate_of_approved_line);
    tcase_add_test(tc, test_duplicate_of_denied_line);
    tcase_add_test(tc, test_not_duplicate);
    tcase_add_test(tc, test_pended_line_judged_afresh);
    tcase_add_test(tc, test_policy_pended_line_judged_afresh);
    tcase_add_test(tc, test_policy_checked_before_duplicate);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return support_run(judge_claim_suite());
}
