/* Prior-authorization criteria, contract §3, §4 and §6, through the engine (the public path). */
#include "test_support.h"

/* The statuses pa_base() earns: everything MET, 1.D (BRAF negative) and DOSE (null) N/A. */
static const uint8_t BASELINE[PA_CRITERIA_COUNT] = {M, M, M, M, M, NA, M, M, M, NA};

/* Judges ev with an empty history. */
static const determination_t *judge(const event_t *ev)
{
    engine_reset(g_engine);
    return process(ev);
}

static void expect_approved_shape(const determination_t *d)
{
    assert_outcome(d, OUTCOME_APPROVED);
    ck_assert(d->has_authorization);
    ck_assert_str_eq(x12_action_of(d), "A1");
    ck_assert_int_eq(d->n_reasons, 0);
}

/*
 * Judges ev (pa_base with one change) and requires exactly: criterion crit has status, every
 * other criterion its baseline, one reason (crit, code, status) when NOT_MET or UNKNOWN, and
 * the outcome §6 maps that to.
 */
static const determination_t *expect_only(const event_t *ev, int crit, int status,
                                          reason_code_t code)
{
    const determination_t *d = judge(ev);
    uint8_t want[PA_CRITERIA_COUNT];
    memcpy(want, BASELINE, sizeof want);
    want[crit] = (uint8_t)status;
    assert_criteria(d, want);
    if (status == N || status == U) {
        reason_t r = {(uint8_t)crit, (uint8_t)code, (uint8_t)status};
        assert_reasons(d, 1, &r);
        assert_outcome(d, status == N ? OUTCOME_DENIED : OUTCOME_PENDED);
        ck_assert_str_eq(x12_action_of(d), status == N ? "A3" : "A4");
        ck_assert(!d->has_authorization);
    } else {
        assert_reasons(d, 0, NULL);
        expect_approved_shape(d);
    }
    return d;
}

static void with_dx(const char *a, const char *b, int crit_status, reason_code_t code)
{
    event_t ev;
    pa_base(&ev, "pa-dx", "PA-DX", "MEM-1");
    const char *codes[2] = {a, b};
    pa_set_dx(&ev, b ? 2 : 1, codes);
    expect_only(&ev, PA_INDICATION, crit_status, code);
}

/* ---- the baseline and the approval ---- */

START_TEST(test_baseline_approved)
{
    event_t ev;
    pa_base(&ev, "pa-1", "PA-1001", "MEM-1001");
    const determination_t *d = expect_only(&ev, PA_POLICY, M, 0);
    ck_assert_int_eq(d->kind, EVENT_PRIOR_AUTH);
    ck_assert_str_eq(d->event_id, "pa-1");
    ck_assert_str_eq(d->member_id, "MEM-1001");
    assert_str_or_null(d->pa_id, "PA-1001", "pa_id");
    assert_str_or_null(d->claim_id, NULL, "claim_id");
    assert_str_or_null(d->matched_pa_id, NULL, "matched_pa_id");
    assert_date(d->policy_version, ymd(2026, 5, 1), "policy_version");
    assert_date(d->decision_date, ymd(2026, 6, 2), "decision_date");
    assert_date(d->valid_from, ymd(2026, 6, 2), "valid_from");
    assert_date(d->valid_until, ymd(2026, 12, 2), "valid_until");
    ck_assert_int_eq(d->max_doses, 1);
    ck_assert(d->dose_min_cells == DOSE_MIN);
    ck_assert(d->dose_max_cells == DOSE_MAX);
    char id[UUID_STRING_LEN + 1];
    determination_id_for("pa-1", id);
    ck_assert_str_eq(d->determination_id, id);
}
END_TEST

START_TEST(test_authorization_window_clamps)
{
    static const char *received[] = {"2026-08-31T10:00:00Z", "2025-08-31T10:00:00Z",
                                     "2027-08-31T10:00:00Z", "2026-08-31T23:30:00-01:00",
                                     "2026-05-01T00:00:00Z", "2026-12-31T12:00:00Z"};
    const date_t from[] = {ymd(2026, 8, 31), ymd(2025, 8, 31), ymd(2027, 8, 31),
                           ymd(2026, 9, 1),  ymd(2026, 5, 1),  ymd(2026, 12, 31)};
    const date_t until[] = {ymd(2027, 2, 28), ymd(2026, 2, 28), ymd(2028, 2, 29),
                            ymd(2027, 3, 1),  ymd(2026, 11, 1), ymd(2027, 6, 30)};
    for (size_t i = 0; i < sizeof received / sizeof received[0]; i++) {
        event_t ev;
        pa_base(&ev, "pa-w", "PA-W", "MEM-W");
        ev.pa.received_at_ms = ts(received[i]);
        const determination_t *d = judge(&ev);
        expect_approved_shape(d);
        assert_date(d->decision_date, from[i], received[i]);
        assert_date(d->valid_from, from[i], received[i]);
        assert_date(d->valid_until, until[i], received[i]);
    }
}
END_TEST

START_TEST(test_requested_dose_in_authorization)
{
    event_t ev;
    pa_base(&ev, "pa-d", "PA-D", "MEM-D");
    pa_set_dose(&ev, 20000000000LL);
    const determination_t *d = judge(&ev);
    ck_assert_int_eq(d->criteria[PA_DOSE], M);
    expect_approved_shape(d);
    /* the authorization carries the policy's dose bounds, not the requested dose */
    ck_assert(d->dose_min_cells == DOSE_MIN);
    ck_assert(d->dose_max_cells == DOSE_MAX);
    ck_assert_int_eq(d->max_doses, 1);
}
END_TEST

/* ---- POLICY (§4) ---- */

START_TEST(test_policy_before_first_version)
{
    event_t ev;
    pa_base(&ev, "pa-p", "PA-P", "MEM-P");
    ev.pa.received_at_ms = ts("2024-06-14T23:59:59.999Z");
    const determination_t *d = judge(&ev);
    const uint8_t want[] = {U, NA, NA, NA, NA, NA, NA, NA, NA, NA};
    const reason_t r = {PA_POLICY, REASON_NO_POLICY_IN_EFFECT, U};
    assert_judged(d, want, 1, &r, OUTCOME_PENDED);
    ck_assert_str_eq(x12_action_of(d), "A4");
    assert_date(d->policy_version, DATE_NULL, "policy_version");
    ck_assert(!d->has_authorization);

    /* everything else wrong too: still only the POLICY reason */
    pa_base(&ev, "pa-p2", "PA-P2", "MEM-P");
    ev.pa.received_at_ms = ts("2020-01-01T00:00:00Z");
    ev.pa.n_diagnosis_codes = 0;
    ev.pa.birth_date = ymd(2019, 1, 1);
    ev.pa.disease_status = DISEASE_RESECTABLE;
    ev.pa.n_prior_therapies = 0;
    ev.pa.lymphodepletion = LYMPHODEPLETION_NOT_PLANNED;
    ev.pa.prescriber_npi = NPI_BAD;
    pa_set_dose(&ev, 1);
    d = judge(&ev);
    assert_judged(d, want, 1, &r, OUTCOME_PENDED);
    assert_date(d->policy_version, DATE_NULL, "policy_version");
}
END_TEST

START_TEST(test_policy_versions_by_decision_date)
{
    static const char *received[] = {"2024-06-15T00:00:00Z", "2025-04-30T23:59:59Z",
                                     "2025-05-01T00:00:00Z", "2026-04-30T12:00:00Z",
                                     "2026-05-01T00:00:00Z", "2024-06-14T23:00:00-02:00"};
    const date_t version[] = {ymd(2024, 6, 15), ymd(2024, 6, 15), ymd(2025, 5, 1),
                              ymd(2025, 5, 1),  ymd(2026, 5, 1),  ymd(2024, 6, 15)};
    for (size_t i = 0; i < sizeof received / sizeof received[0]; i++) {
        event_t ev;
        pa_base(&ev, "pa-v", "PA-V", "MEM-V");
        ev.pa.received_at_ms = ts(received[i]);
        const determination_t *d = judge(&ev);
        assert_criteria(d, BASELINE);
        expect_approved_shape(d);
        assert_date(d->policy_version, version[i], received[i]);
    }
    /* 2024-06-15T01:00+02:00 is 2024-06-14 UTC: no policy */
    event_t ev;
    pa_base(&ev, "pa-v2", "PA-V", "MEM-V");
    ev.pa.received_at_ms = ts("2024-06-15T01:00:00+02:00");
    const determination_t *d = judge(&ev);
    ck_assert_int_eq(d->criteria[PA_POLICY], U);
    assert_outcome(d, OUTCOME_PENDED);
    assert_date(d->policy_version, DATE_NULL, "policy_version");
}
END_TEST

/* ---- INDICATION (§5) ---- */

START_TEST(test_indication_melanoma_codes)
{
    with_dx("C43.9", NULL, M, 0);
    with_dx("C43.30", NULL, M, 0);
    with_dx("C4359", NULL, M, 0);
    with_dx("c43.9", NULL, M, 0);
    with_dx(" c43 .9 ", NULL, M, 0);
    with_dx("C61", "C43.9", M, 0);
    /* D03 / C69 do not count, but do not veto a melanoma code either */
    with_dx("D03.9", "C43.9", M, 0);
}
END_TEST

START_TEST(test_indication_history_plus_secondary)
{
    with_dx("Z85.820", "C78.00", M, 0);
    with_dx("Z85820", "C77.3", M, 0);
    with_dx("C79.9", "z85.820", M, 0);
    with_dx("Z85820", NULL, N, REASON_DX_NOT_COVERED);
    with_dx("C77.3", NULL, N, REASON_DX_NOT_COVERED);
    with_dx("C78.00", "C79.51", N, REASON_DX_NOT_COVERED);
    with_dx("Z85820", "C76.0", N, REASON_DX_NOT_COVERED);
    with_dx("Z85.82", "C78.00", N, REASON_DX_NOT_COVERED);
}
END_TEST

START_TEST(test_indication_excluded_and_other)
{
    with_dx("D03.9", NULL, N, REASON_DX_NOT_COVERED);
    with_dx("D03.59", NULL, N, REASON_DX_NOT_COVERED);
    with_dx("C69.40", NULL, N, REASON_DX_NOT_COVERED);
    with_dx("C69.40", "Z85820", N, REASON_DX_NOT_COVERED);
    with_dx("C61", NULL, N, REASON_DX_NOT_COVERED);
    with_dx("C4", NULL, N, REASON_DX_NOT_COVERED);
    with_dx("XC43", NULL, N, REASON_DX_NOT_COVERED);
}
END_TEST

START_TEST(test_indication_missing)
{
    event_t ev;
    pa_base(&ev, "pa-dx0", "PA-DX", "MEM-1");
    ev.pa.n_diagnosis_codes = 0;
    expect_only(&ev, PA_INDICATION, U, REASON_DX_MISSING);
    /* empty entries are dropped before anything looks at the list */
    const char *empties[] = {"", ""};
    pa_set_dx(&ev, 2, empties);
    expect_only(&ev, PA_INDICATION, U, REASON_DX_MISSING);
    /* an empty entry beside a real one is simply dropped */
    const char *mixed[] = {"", "C43.9"};
    pa_set_dx(&ev, 2, mixed);
    expect_only(&ev, PA_INDICATION, M, 0);
    const char *mixed2[] = {"", "C61"};
    pa_set_dx(&ev, 2, mixed2);
    expect_only(&ev, PA_INDICATION, N, REASON_DX_NOT_COVERED);
}
END_TEST

START_TEST(test_indication_blank_after_normalisation)
{
    /* Ambiguity: " " and "." normalise to "" (§3 removes spaces and dots), so they are empty
     * entries and dropped, leaving no codes. */
    event_t ev;
    pa_base(&ev, "pa-dxb", "PA-DX", "MEM-1");
    const char *blank[] = {" ", "."};
    pa_set_dx(&ev, 2, blank);
    expect_only(&ev, PA_INDICATION, U, REASON_DX_MISSING);
}
END_TEST

START_TEST(test_excluded_prefixes_are_data)
{
    /* §1 code sets are policy data, §5 excluded prefixes never count: with C78 added to the
     * excluded list, Z85820 + C78 no longer establishes melanoma while Z85820 + C79 still does. */
    size_t len = 0;
    char *text = support_read_file(AMTAGVI_POLICY_FILE, &len);
    const char *from = "\"excluded_prefixes\": [\"D03\", \"C69\"]";
    char *at = strstr(text, from);
    ck_assert_ptr_nonnull(at);
    char *mod = malloc(len + 16);
    ck_assert_ptr_nonnull(mod);
    size_t pre = (size_t)(at - text);
    memcpy(mod, text, pre);
    strcpy(mod + pre, "\"excluded_prefixes\": [\"D03\", \"C69\", \"C78\"]");
    strcat(mod, at + strlen(from));
    char err[256] = "";
    policy_t *p = policy_load_text(mod, strlen(mod), err, sizeof err);
    ck_assert_msg(p != NULL, "modified policy did not load: %s", err);
    engine_t *e = engine_new(p);
    ck_assert_ptr_nonnull(e);
    event_t ev;
    const determination_t *d = NULL;
    const char *c78[] = {"Z85820", "C78.00"};
    pa_base(&ev, "x-1", "PA-X", "MEM-X");
    pa_set_dx(&ev, 2, c78);
    ck_assert_int_eq(engine_process(e, &ev, &d), ENGINE_JUDGED);
    ck_assert_int_eq(d->criteria[PA_INDICATION], N);
    const char *c79[] = {"Z85820", "C79.9"};
    pa_base(&ev, "x-2", "PA-X", "MEM-X");
    pa_set_dx(&ev, 2, c79);
    ck_assert_int_eq(engine_process(e, &ev, &d), ENGINE_JUDGED);
    ck_assert_int_eq(d->criteria[PA_INDICATION], M);
    engine_free(e);
    policy_free(p);
    free(mod);
    free(text);
}
END_TEST

/* ---- 1.A age (§3: 18 on X when X >= birth_date + 18 years) ---- */

static void with_age(const char *received, date_t birth, int status, reason_code_t code)
{
    event_t ev;
    pa_base(&ev, "pa-age", "PA-AGE", "MEM-A");
    ev.pa.received_at_ms = ts(received);
    ev.pa.birth_date = birth;
    expect_only(&ev, PA_1A, status, code);
}

START_TEST(test_age_18th_birthday)
{
    with_age("2026-06-02T14:05:00Z", ymd(2008, 6, 2), M, 0);
    with_age("2026-06-02T14:05:00Z", ymd(2008, 6, 3), N, REASON_AGE_UNDER_18);
    with_age("2026-06-02T14:05:00Z", ymd(2008, 6, 1), M, 0);
    with_age("2026-06-02T14:05:00Z", ymd(2010, 1, 1), N, REASON_AGE_UNDER_18);
    with_age("2026-06-02T14:05:00Z", ymd(1920, 1, 1), M, 0);
}
END_TEST

START_TEST(test_age_leap_birthday)
{
    with_age("2026-02-28T09:00:00Z", ymd(2008, 2, 29), M, 0);
    with_age("2026-02-27T23:59:59Z", ymd(2008, 2, 29), N, REASON_AGE_UNDER_18);
    with_age("2026-03-01T00:00:00Z", ymd(2008, 2, 29), M, 0);
}
END_TEST

START_TEST(test_age_birth_after_decision_date)
{
    with_age("2026-06-02T14:05:00Z", ymd(2026, 6, 3), U, REASON_BIRTH_DATE_INVALID);
    with_age("2026-06-02T14:05:00Z", ymd(2090, 1, 1), U, REASON_BIRTH_DATE_INVALID);
    /* born on D: not after D, so a (very) minor */
    with_age("2026-06-02T14:05:00Z", ymd(2026, 6, 2), N, REASON_AGE_UNDER_18);
}
END_TEST

START_TEST(test_age_offset_moves_decision_date)
{
    /* 23:30 at -02:00 is 01:30 UTC on the 2nd: D is the 18th birthday */
    with_age("2026-06-01T23:30:00-02:00", ymd(2008, 6, 2), M, 0);
    /* 01:00 at +02:00 is 23:00 UTC on the 1st: a day short */
    with_age("2026-06-02T01:00:00+02:00", ymd(2008, 6, 2), N, REASON_AGE_UNDER_18);
    /* birth date equal to the local date but after the UTC date */
    with_age("2026-06-02T01:00:00+02:00", ymd(2026, 6, 2), U, REASON_BIRTH_DATE_INVALID);
}
END_TEST

/* ---- 1.B disease status ---- */

/* 1.B and 1.E each read one enum: a value and the status and reason it earns. */
typedef struct {
    int value;
    int status;
    reason_code_t code;
} enum_case_t;

static void expect_enum_cases(int crit, const enum_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        event_t ev;
        pa_base(&ev, "pa-enum", "PA-ENUM", "MEM-ENUM");
        if (crit == PA_1B)
            ev.pa.disease_status = (disease_status_t)cases[i].value;
        else
            ev.pa.lymphodepletion = (lymphodepletion_t)cases[i].value;
        expect_only(&ev, crit, cases[i].status, cases[i].code);
    }
}

START_TEST(test_disease_status)
{
    static const enum_case_t cases[] = {
        {DISEASE_UNRESECTABLE, M, 0},
        {DISEASE_METASTATIC, M, 0},
        {DISEASE_RESECTABLE, N, REASON_DISEASE_RESECTABLE},
        {DISEASE_UNKNOWN, U, REASON_DISEASE_STATUS_UNKNOWN},
    };
    expect_enum_cases(PA_1B, cases, sizeof cases / sizeof cases[0]);
}
END_TEST

/* ---- 1.C prior PD-1 / PD-L1 ---- */

static void with_therapy(const char *drug, date_t start, int status, reason_code_t code)
{
    event_t ev;
    pa_base(&ev, "pa-1c", "PA-1C", "MEM-C");
    ev.pa.n_prior_therapies = 0;
    pa_set_therapy(&ev, 0, drug, start);
    expect_only(&ev, PA_1C, status, code);
}

START_TEST(test_pd1_name_variants)
{
    const date_t past = ymd(2024, 1, 1);
    static const char *yes[] = {"Keytruda",
                                "KEYTRUDA",
                                " pembrolizumab ",
                                "Keytruda Qlex",
                                "  KEYTRUDA   qlex ",
                                "Nivolumab and Relatlimab-RMBW",
                                "nivolumab  and\trelatlimab",
                                "Opdualag",
                                "Opdivo Qvantig",
                                "Tecentriq Hybreza",
                                "cemiplimab-rwlc",
                                "Libtayo",
                                "penpulimab-kcqx",
                                "Unloxcyt",
                                "durvalumab",
                                "Bavencio",
                                "Zynyz",
                                "Loqtorzi",
                                "Tevimbra",
                                "Jemperli"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) with_therapy(yes[i], past, M, 0);
}
END_TEST

START_TEST(test_pd1_not_counting)
{
    const date_t past = ymd(2024, 1, 1);
    with_therapy("ipilimumab", past, N, REASON_NO_PRIOR_PD1_PDL1);
    with_therapy("Yervoy", past, N, REASON_NO_PRIOR_PD1_PDL1);
    with_therapy("pembro", past, N, REASON_NO_PRIOR_PD1_PDL1);
    with_therapy("keytruda-x", past, N, REASON_NO_PRIOR_PD1_PDL1);
    with_therapy("opdivo+yervoy", past, N, REASON_NO_PRIOR_PD1_PDL1);
    with_therapy("", past, N, REASON_NO_PRIOR_PD1_PDL1);
    event_t ev;
    pa_base(&ev, "pa-1c0", "PA-1C", "MEM-C");
    ev.pa.n_prior_therapies = 0;
    expect_only(&ev, PA_1C, N, REASON_NO_PRIOR_PD1_PDL1);
}
END_TEST

START_TEST(test_pd1_start_date)
{
    /* D = 2026-06-02 */
    with_therapy("pembrolizumab", ymd(2026, 6, 3), N, REASON_NO_PRIOR_PD1_PDL1);
    with_therapy("pembrolizumab", ymd(2026, 6, 2), M, 0);
    with_therapy("pembrolizumab", ymd(2026, 6, 1), M, 0);
    with_therapy("pembrolizumab", DATE_NULL, M, 0);
    /* start date after the UTC decision date though equal to the local date */
    event_t ev;
    pa_base(&ev, "pa-1cs", "PA-1C", "MEM-C");
    ev.pa.received_at_ms = ts("2026-06-02T01:00:00+02:00"); /* D = 2026-06-01 */
    ev.pa.n_prior_therapies = 0;
    pa_set_therapy(&ev, 0, "Opdivo", ymd(2026, 6, 2));
    expect_only(&ev, PA_1C, N, REASON_NO_PRIOR_PD1_PDL1);
}
END_TEST

START_TEST(test_pd1_among_several)
{
    event_t ev;
    pa_base(&ev, "pa-1cm", "PA-1C", "MEM-C");
    ev.pa.n_prior_therapies = 0;
    pa_set_therapy(&ev, 0, "ipilimumab", ymd(2023, 1, 1));
    pa_set_therapy(&ev, 1, "pembrolizumab", ymd(2027, 1, 1)); /* future: does not count */
    pa_set_therapy(&ev, 2, "dacarbazine", DATE_NULL);
    expect_only(&ev, PA_1C, N, REASON_NO_PRIOR_PD1_PDL1);
    pa_set_therapy(&ev, 3, "Imfinzi", ymd(2022, 5, 5));
    expect_only(&ev, PA_1C, M, 0);
    /* the 64th therapy is looked at too */
    pa_base(&ev, "pa-1cx", "PA-1C", "MEM-C");
    ev.pa.n_prior_therapies = 0;
    for (uint32_t i = 0; i < EVENT_MAX_ARRAY_ITEMS - 1; i++)
        pa_set_therapy(&ev, i, "ipilimumab", ymd(2023, 1, 1));
    pa_set_therapy(&ev, EVENT_MAX_ARRAY_ITEMS - 1, "avelumab", ymd(2023, 1, 1));
    expect_only(&ev, PA_1C, M, 0);
}
END_TEST

/* ---- 1.D BRAF ---- */

static void with_braf(braf_status_t s, const char *drug, date_t start, int status,
                      reason_code_t code)
{
    event_t ev;
    pa_base(&ev, "pa-1d", "PA-1D", "MEM-D");
    ev.pa.braf_v600 = s;
    if (drug) pa_set_therapy(&ev, 1, drug, start);
    expect_only(&ev, PA_1D, status, code);
}

START_TEST(test_braf)
{
    const date_t past = ymd(2024, 1, 1);
    with_braf(BRAF_POSITIVE, "dabrafenib", past, M, 0);
    with_braf(BRAF_POSITIVE, "Tafinlar", past, M, 0);
    with_braf(BRAF_POSITIVE, " ENCORAFENIB", DATE_NULL, M, 0);
    with_braf(BRAF_POSITIVE, "Zelboraf", ymd(2026, 6, 2), M, 0);
    with_braf(BRAF_POSITIVE, "trametinib", past, N, REASON_NO_PRIOR_BRAF_INHIBITOR);
    with_braf(BRAF_POSITIVE, "Mekinist", past, N, REASON_NO_PRIOR_BRAF_INHIBITOR);
    with_braf(BRAF_POSITIVE, "cobimetinib", past, N, REASON_NO_PRIOR_BRAF_INHIBITOR);
    with_braf(BRAF_POSITIVE, "binimetinib", past, N, REASON_NO_PRIOR_BRAF_INHIBITOR);
    with_braf(BRAF_POSITIVE, NULL, 0, N, REASON_NO_PRIOR_BRAF_INHIBITOR);
    with_braf(BRAF_POSITIVE, "dabrafenib", ymd(2026, 6, 3), N, REASON_NO_PRIOR_BRAF_INHIBITOR);
    with_braf(BRAF_NEGATIVE, NULL, 0, NA, 0);
    with_braf(BRAF_NEGATIVE, "trametinib", past, NA, 0);
    with_braf(BRAF_NEGATIVE, "vemurafenib", past, M, 0);
    with_braf(BRAF_UNKNOWN, NULL, 0, U, REASON_BRAF_STATUS_UNKNOWN);
    with_braf(BRAF_UNKNOWN, "trametinib", past, U, REASON_BRAF_STATUS_UNKNOWN);
    with_braf(BRAF_UNKNOWN, "vemurafenib", past, M, 0);
    with_braf(BRAF_UNKNOWN, "vemurafenib", ymd(2026, 6, 3), U, REASON_BRAF_STATUS_UNKNOWN);
}
END_TEST

/* ---- 1.E lymphodepletion ---- */

START_TEST(test_lymphodepletion)
{
    static const enum_case_t cases[] = {
        {LYMPHODEPLETION_RECEIVED, M, 0},
        {LYMPHODEPLETION_PLANNED, M, 0},
        {LYMPHODEPLETION_NOT_PLANNED, N, REASON_LYMPHODEPLETION_NOT_PLANNED},
        {LYMPHODEPLETION_UNKNOWN, U, REASON_LYMPHODEPLETION_UNKNOWN},
    };
    expect_enum_cases(PA_1E, cases, sizeof cases / sizeof cases[0]);
}
END_TEST

/* ---- 1.F prior Amtagvi ---- */

START_TEST(test_prior_amtagvi_therapy)
{
    static const char *names[] = {"Amtagvi", "AMTAGVI", "lifileucel", " Lifileucel "};
    for (size_t i = 0; i < 4; i++) {
        event_t ev;
        pa_base(&ev, "pa-1f", "PA-1F", "MEM-F");
        pa_set_therapy(&ev, 1, names[i], ymd(2025, 1, 1));
        expect_only(&ev, PA_1F, N, REASON_PRIOR_AMTAGVI);
        pa_set_therapy(&ev, 1, names[i], DATE_NULL);
        expect_only(&ev, PA_1F, N, REASON_PRIOR_AMTAGVI);
        /* a start date after D does not count */
        pa_set_therapy(&ev, 1, names[i], ymd(2026, 6, 3));
        expect_only(&ev, PA_1F, M, 0);
    }
}
END_TEST

START_TEST(test_prior_amtagvi_paid_claim)
{
    event_t pa, claim;
    pa_base(&pa, "f-pa1", "PA-1", "MEM-F");
    assert_outcome(process(&pa), OUTCOME_APPROVED);
    claim_base(&claim, "f-cl1", "CLM-1", 1, "MEM-F", "PA-1");
    assert_outcome(process(&claim), OUTCOME_APPROVED);
    pa_base(&pa, "f-pa2", "PA-2", "MEM-F");
    pa.pa.received_at_ms = ts("2026-08-01T10:00:00Z");
    const determination_t *d = process(&pa);
    uint8_t want[PA_CRITERIA_COUNT];
    memcpy(want, BASELINE, sizeof want);
    want[PA_1F] = N;
    const reason_t r = {PA_1F, REASON_PRIOR_AMTAGVI, N};
    assert_judged(d, want, 1, &r, OUTCOME_DENIED);
    /* a resubmission of the already approved pa_id fails 1.F too */
    pa_base(&pa, "f-pa3", "PA-1", "MEM-F");
    d = process(&pa);
    assert_criteria(d, want);
    assert_outcome(d, OUTCOME_DENIED);
    /* another member is unaffected */
    pa_base(&pa, "f-pa4", "PA-1", "MEM-OTHER");
    d = process(&pa);
    assert_criteria(d, BASELINE);
    assert_outcome(d, OUTCOME_APPROVED);
}
END_TEST

START_TEST(test_prior_amtagvi_unpaid_claims)
{
    /* denied and pended claim lines are not paid doses */
    event_t pa, claim;
    claim_base(&claim, "u-cl1", "CLM-1", 1, "MEM-U", NULL); /* no PA: AUTH_MISSING, denied */
    assert_outcome(process(&claim), OUTCOME_DENIED);
    pa_base(&pa, "u-pa1", "PA-1", "MEM-U");
    pa.pa.lymphodepletion = LYMPHODEPLETION_UNKNOWN;
    assert_outcome(process(&pa), OUTCOME_PENDED);
    claim_base(&claim, "u-cl2", "CLM-2", 1, "MEM-U", "PA-1"); /* AUTH_PENDING, pended */
    assert_outcome(process(&claim), OUTCOME_PENDED);
    pa_base(&pa, "u-pa2", "PA-2", "MEM-U");
    const determination_t *d = process(&pa);
    assert_criteria(d, BASELINE);
    assert_outcome(d, OUTCOME_APPROVED);
}
END_TEST

/* ---- 1.G prescriber ---- */

static void with_prescriber(const char *npi, const char *tax, const char *cnpi, const char *ctax,
                            int status, reason_code_t code)
{
    event_t ev;
    pa_base(&ev, "pa-1g", "PA-1G", "MEM-G");
    ev.pa.prescriber_npi = npi;
    ev.pa.prescriber_taxonomy = tax;
    ev.pa.consulting_npi = cnpi;
    ev.pa.consulting_taxonomy = ctax;
    expect_only(&ev, PA_1G, status, code);
}

START_TEST(test_prescriber_qualifies)
{
    with_prescriber(NPI_A, TAX_MED_ONC, NULL, NULL, M, 0);
    with_prescriber(NPI_A, "207RH0003X", NULL, NULL, M, 0);
    with_prescriber(NPI_A, "2086X0206X", NULL, NULL, M, 0);
    with_prescriber(NPI_A, "2080P0207X", NULL, NULL, M, 0);
    with_prescriber(NPI_A, "207VX0201X", NULL, NULL, M, 0);
    with_prescriber(NPI_A, "2085R0001X", NULL, NULL, M, 0);
    with_prescriber(NPI_A, "207rx0202x", NULL, NULL, M, 0);
    with_prescriber(NPI_A, "  207RX0202X ", NULL, NULL, M, 0);
    /* a qualified prescriber needs no consultant, whatever the consultant looks like */
    with_prescriber(NPI_A, TAX_MED_ONC, NPI_BAD, NULL, M, 0);
}
END_TEST

START_TEST(test_consultant_qualifies)
{
    with_prescriber(NPI_A, TAX_FAMILY, NPI_B, TAX_HEM_ONC, M, 0);
    with_prescriber(NPI_A, NULL, NPI_B, TAX_HEM_ONC, M, 0);
    with_prescriber(NPI_BAD, TAX_MED_ONC, NPI_B, " 207rh0003x", M, 0);
    with_prescriber(NPI_BAD, NULL, NPI_C, TAX_MED_ONC, M, 0);
}
END_TEST

START_TEST(test_prescriber_unverified)
{
    with_prescriber(NPI_BAD, TAX_MED_ONC, NULL, NULL, U, REASON_PRESCRIBER_NPI_INVALID);
    with_prescriber(" " NPI_A, TAX_MED_ONC, NULL, NULL, U, REASON_PRESCRIBER_NPI_INVALID);
    with_prescriber("123456789", TAX_MED_ONC, NULL, NULL, U, REASON_PRESCRIBER_NPI_INVALID);
    with_prescriber("", TAX_MED_ONC, NULL, NULL, U, REASON_PRESCRIBER_NPI_INVALID);
    with_prescriber(NPI_A, NULL, NULL, NULL, U, REASON_PRESCRIBER_TAXONOMY_MISSING);
    with_prescriber(NPI_A, "", NULL, NULL, U, REASON_PRESCRIBER_TAXONOMY_MISSING);
    /* trimmed, "   " is empty */
    with_prescriber(NPI_A, "   ", NULL, NULL, U, REASON_PRESCRIBER_TAXONOMY_MISSING);
    /* an invalid NPI is reported before a missing taxonomy */
    with_prescriber(NPI_BAD, NULL, NULL, NULL, U, REASON_PRESCRIBER_NPI_INVALID);
    with_prescriber(NPI_A, NULL, NPI_BAD, TAX_FAMILY, U, REASON_PRESCRIBER_NPI_INVALID);
    with_prescriber(NPI_A, TAX_FAMILY, NPI_BAD, TAX_MED_ONC, U, REASON_PRESCRIBER_NPI_INVALID);
    /* a non-oncologist prescriber with an unverified consultant */
    with_prescriber(NPI_A, TAX_FAMILY, NPI_B, NULL, U, REASON_PRESCRIBER_TAXONOMY_MISSING);
    with_prescriber(NPI_A, TAX_FAMILY, NPI_B, "", U, REASON_PRESCRIBER_TAXONOMY_MISSING);
    /* NPIs are not trimmed: a consulting NPI of one space is a consultant with an invalid NPI */
    with_prescriber(NPI_A, TAX_FAMILY, " ", TAX_MED_ONC, U, REASON_PRESCRIBER_NPI_INVALID);
    with_prescriber(NPI_A, TAX_MED_ONC, " ", NULL, M, 0);
    /* an unverified prescriber with a verified non-oncologist consultant */
    with_prescriber(NPI_A, NULL, NPI_B, TAX_FAMILY, U, REASON_PRESCRIBER_TAXONOMY_MISSING);
}
END_TEST

START_TEST(test_prescriber_not_oncologist)
{
    with_prescriber(NPI_A, TAX_FAMILY, NULL, NULL, N, REASON_PRESCRIBER_NOT_ONCOLOGIST);
    with_prescriber(NPI_A, TAX_FAMILY, NPI_B, TAX_INTERNAL, N, REASON_PRESCRIBER_NOT_ONCOLOGIST);
    with_prescriber(NPI_A, "207RX0202", NULL, NULL, N, REASON_PRESCRIBER_NOT_ONCOLOGIST);
    /* an empty or null consulting NPI means no consultant: its taxonomy is ignored */
    with_prescriber(NPI_A, TAX_FAMILY, "", TAX_MED_ONC, N, REASON_PRESCRIBER_NOT_ONCOLOGIST);
    with_prescriber(NPI_A, TAX_FAMILY, NULL, TAX_MED_ONC, N, REASON_PRESCRIBER_NOT_ONCOLOGIST);
    with_prescriber(NPI_A, TAX_FAMILY, "", NULL, N, REASON_PRESCRIBER_NOT_ONCOLOGIST);
}
END_TEST

/* ---- DOSE ---- */

START_TEST(test_requested_dose)
{
    event_t ev;
    pa_base(&ev, "pa-dose", "PA-DOSE", "MEM-DOSE");
    expect_only(&ev, PA_DOSE, NA, 0);
    static const struct {
        int64_t cells;
        int status;
    } cases[] = {
        {7500000000LL, M}, {72000000000LL, M}, {33400000000LL, M},
        {7499999999LL, N}, {72000000001LL, N}, {0, N},
        {-1, N},           {-7500000000LL, N}, {INT64_MAX, N},
        {INT64_MIN, N},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pa_set_dose(&ev, cases[i].cells);
        expect_only(&ev, PA_DOSE, cases[i].status,
                    cases[i].status == N ? REASON_DOSE_OUT_OF_RANGE : 0);
    }
}
END_TEST

/* ---- outcome and reason order ---- */

START_TEST(test_everything_wrong_reason_order)
{
    event_t ev;
    pa_base(&ev, "pa-all", "PA-ALL", "MEM-ALL");
    ev.pa.n_diagnosis_codes = 0;                         /* INDICATION UNKNOWN */
    ev.pa.birth_date = ymd(2010, 1, 1);                  /* 1.A NOT_MET */
    ev.pa.disease_status = DISEASE_UNKNOWN;              /* 1.B UNKNOWN */
    ev.pa.n_prior_therapies = 0;                         /* 1.C NOT_MET */
    pa_set_therapy(&ev, 0, "Amtagvi", DATE_NULL);        /* 1.F NOT_MET */
    ev.pa.braf_v600 = BRAF_UNKNOWN;                      /* 1.D UNKNOWN */
    ev.pa.lymphodepletion = LYMPHODEPLETION_NOT_PLANNED; /* 1.E NOT_MET */
    ev.pa.prescriber_taxonomy = NULL;                    /* 1.G UNKNOWN */
    pa_set_dose(&ev, 100);                               /* DOSE NOT_MET */
    const determination_t *d = judge(&ev);
    const uint8_t want[] = {M, U, N, U, N, U, N, N, U, N};
    const reason_t r[] = {
        {PA_INDICATION, REASON_DX_MISSING, U},     {PA_1A, REASON_AGE_UNDER_18, N},
        {PA_1B, REASON_DISEASE_STATUS_UNKNOWN, U}, {PA_1C, REASON_NO_PRIOR_PD1_PDL1, N},
        {PA_1D, REASON_BRAF_STATUS_UNKNOWN, U},    {PA_1E, REASON_LYMPHODEPLETION_NOT_PLANNED, N},
        {PA_1F, REASON_PRIOR_AMTAGVI, N},          {PA_1G, REASON_PRESCRIBER_TAXONOMY_MISSING, U},
        {PA_DOSE, REASON_DOSE_OUT_OF_RANGE, N},
    };
    assert_judged(d, want, 9, r, OUTCOME_DENIED);
    ck_assert_str_eq(x12_action_of(d), "A3");
    ck_assert(!d->has_authorization);
    assert_date(d->policy_version, ymd(2026, 5, 1), "policy_version");
}
END_TEST

START_TEST(test_denied_beats_pended)
{
    event_t ev;
    pa_base(&ev, "pa-dp", "PA-DP", "MEM-DP");
    ev.pa.disease_status = DISEASE_UNKNOWN;              /* UNKNOWN */
    ev.pa.lymphodepletion = LYMPHODEPLETION_NOT_PLANNED; /* NOT_MET */
    const determination_t *d = judge(&ev);
    const uint8_t want[] = {M, M, M, U, M, NA, N, M, M, NA};
    const reason_t r[] = {{PA_1B, REASON_DISEASE_STATUS_UNKNOWN, U},
                          {PA_1E, REASON_LYMPHODEPLETION_NOT_PLANNED, N}};
    assert_judged(d, want, 2, r, OUTCOME_DENIED);
    ck_assert_str_eq(x12_action_of(d), "A3");
}
END_TEST

START_TEST(test_only_unknowns_pend)
{
    event_t ev;
    pa_base(&ev, "pa-pp", "PA-PP", "MEM-PP");
    ev.pa.braf_v600 = BRAF_UNKNOWN;
    ev.pa.prescriber_npi = NPI_BAD;
    ev.pa.birth_date = ymd(2030, 1, 1);
    const determination_t *d = judge(&ev);
    const uint8_t want[] = {M, M, U, M, M, U, M, M, U, NA};
    const reason_t r[] = {{PA_1A, REASON_BIRTH_DATE_INVALID, U},
                          {PA_1D, REASON_BRAF_STATUS_UNKNOWN, U},
                          {PA_1G, REASON_PRESCRIBER_NPI_INVALID, U}};
    assert_judged(d, want, 3, r, OUTCOME_PENDED);
    ck_assert_str_eq(x12_action_of(d), "A4");
    ck_assert(!d->has_authorization);
}
END_TEST

START_TEST(test_x12_action_of)
{
    determination_t d;
    memset(&d, 0, sizeof d);
    d.kind = EVENT_PRIOR_AUTH;
    d.outcome = OUTCOME_APPROVED;
    ck_assert_str_eq(x12_action_of(&d), "A1");
    d.outcome = OUTCOME_DENIED;
    ck_assert_str_eq(x12_action_of(&d), "A3");
    d.outcome = OUTCOME_PENDED;
    ck_assert_str_eq(x12_action_of(&d), "A4");
    d.kind = EVENT_CLAIM;
    for (int o = 0; o < 3; o++) {
        d.outcome = (outcome_t)o;
        ck_assert_ptr_null(x12_action_of(&d));
    }
}
END_TEST

START_TEST(test_names)
{
    ck_assert_int_eq(criteria_count(EVENT_PRIOR_AUTH), 10);
    static const char *names[] = {"POLICY", "INDICATION", "1.A", "1.B", "1.C",
                                  "1.D",    "1.E",        "1.F", "1.G", "DOSE"};
    for (int i = 0; i < 10; i++) ck_assert_str_eq(criterion_name(EVENT_PRIOR_AUTH, i), names[i]);
    ck_assert_str_eq(outcome_name(OUTCOME_APPROVED), "APPROVED");
    ck_assert_str_eq(outcome_name(OUTCOME_DENIED), "DENIED");
    ck_assert_str_eq(outcome_name(OUTCOME_PENDED), "PENDED");
    ck_assert_str_eq(criterion_status_name(STATUS_MET), "MET");
    ck_assert_str_eq(criterion_status_name(STATUS_NOT_MET), "NOT_MET");
    ck_assert_str_eq(criterion_status_name(STATUS_UNKNOWN), "UNKNOWN");
    ck_assert_str_eq(criterion_status_name(STATUS_NOT_APPLICABLE), "NOT_APPLICABLE");
    ck_assert_str_eq(event_kind_name(EVENT_PRIOR_AUTH), "prior_auth");
}
END_TEST

static Suite *judge_pa_suite(void)
{
    Suite *s = suite_create("judge_pa");
    TCase *tc = tcase_create("approval");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_baseline_approved);
    tcase_add_test(tc, test_authorization_window_clamps);
    tcase_add_test(tc, test_requested_dose_in_authorization);
    tcase_add_test(tc, test_policy_before_first_version);
    tcase_add_test(tc, test_policy_versions_by_decision_date);
    suite_add_tcase(s, tc);

    tc = tcase_create("criteria");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_indication_melanoma_codes);
    tcase_add_test(tc, test_indication_history_plus_secondary);
    tcase_add_test(tc, test_indication_excluded_and_other);
    tcase_add_test(tc, test_indication_missing);
    tcase_add_test(tc, test_indication_blank_after_normalisation);
    tcase_add_test(tc, test_excluded_prefixes_are_data);
    tcase_add_test(tc, test_age_18th_birthday);
    tcase_add_test(tc, test_age_leap_birthday);
    tcase_add_test(tc, test_age_birth_after_decision_date);
    tcase_add_test(tc, test_age_offset_moves_decision_date);
    tcase_add_test(tc, test_disease_status);
    tcase_add_test(tc, test_pd1_name_variants);
    tcase_add_test(tc, test_pd1_not_counting);
    tcase_add_test(tc, test_pd1_start_date);
    tcase_add_test(tc, test_pd1_among_several);
    tcase_add_test(tc, test_braf);
    tcase_add_test(tc, test_lymphodepletion);
    tcase_add_test(tc, test_prior_amtagvi_therapy);
    tcase_add_test(tc, test_prior_amtagvi_paid_claim);
    tcase_add_test(tc, test_prior_amtagvi_unpaid_claims);
    tcase_add_test(tc, test_prescriber_qualifies);
    tcase_add_test(tc, test_consultant_qualifies);
    tcase_add_test(tc, test_prescriber_unverified);
    tcase_add_test(tc, test_prescriber_not_oncologist);
    tcase_add_test(tc, test_requested_dose);
    suite_add_tcase(s, tc);

    tc = tcase_create("outcome");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_everything_wrong_reason_order);
    tcase_add_test(tc, test_denied_beats_pended);
    tcase_add_test(tc, test_only_unknowns_pend);
    tcase_add_test(tc, test_x12_action_of);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return support_run(judge_pa_suite());
}
