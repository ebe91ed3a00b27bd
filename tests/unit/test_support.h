/**
 * @file test_support.h
 * @brief Shared helpers for the unit suites: the policy, event builders, assertions.
 *
 * Expectations come from docs/CONTRACT.md (the contract), never from the implementation.
 * Every helper is static inline so a suite that does not use one does not warn.
 */
#ifndef AMTAGVI_TEST_SUPPORT_H
#define AMTAGVI_TEST_SUPPORT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "determination.h"
#include "engine.h"
#include "event.h"
#include "policy.h"
#include "policy_file.h"

/* Short names for criterion statuses, used in expectation tables. */
#define M STATUS_MET
#define N STATUS_NOT_MET
#define U STATUS_UNKNOWN
#define NA STATUS_NOT_APPLICABLE

/* Valid NPIs (Luhn over 80840 + 9 digits) and oncologist / non-oncologist taxonomies. */
#define NPI_A "1234567893"
#define NPI_B "1245319599"
#define NPI_C "1003000126"
#define NPI_BAD "1234567890"
#define TAX_MED_ONC "207RX0202X"
#define TAX_HEM_ONC "207RH0003X"
#define TAX_FAMILY "207Q00000X"
#define TAX_INTERNAL "207R00000X"

#define DOSE_MIN 7500000000LL
#define DOSE_MAX 72000000000LL

/* ---- the policy: loaded once per process, freed by support_teardown_all ---- */

static policy_t *support_policy_ = NULL;

static inline const policy_t *support_policy(void)
{
    if (!support_policy_) {
        char err[512] = "";
        support_policy_ = policy_load_file(AMTAGVI_POLICY_FILE, err, sizeof err);
        ck_assert_msg(support_policy_ != NULL, "policy %s did not load: %s", AMTAGVI_POLICY_FILE,
                      err);
    }
    return support_policy_;
}

static inline void support_teardown_all(void)
{
    policy_free(support_policy_);
    support_policy_ = NULL;
}

/* Reads a whole file into a NUL-terminated malloc'd buffer. */
static inline char *support_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    ck_assert_uint_eq(got, (size_t)n);
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

/* ---- dates ---- */

static inline date_t ymd(int y, int m, int d)
{
    return date_from_ymd(y, m, d);
}

static inline int64_t ts(const char *s)
{
    int64_t ms = 0;
    ck_assert_msg(timestamp_parse(s, strlen(s), &ms) == 0, "timestamp %s did not parse", s);
    return ms;
}

static inline const char *fmt_date(date_t d, char buf[16])
{
    if (d == DATE_NULL) return "null";
    date_format(d, buf);
    return buf;
}

/* ---- a fresh engine per test (checked fixture) ---- */

static engine_t *g_engine = NULL;

static inline void engine_setup(void)
{
    g_engine = engine_new(support_policy());
    ck_assert_ptr_nonnull(g_engine);
}

static inline void engine_teardown(void)
{
    engine_free(g_engine);
    g_engine = NULL;
}

/* Processes a new event in g_engine and requires it to be judged (not a replay). */
static inline const determination_t *process(const event_t *ev)
{
    const determination_t *d = NULL;
    int rc = engine_process(g_engine, ev, &d);
    ck_assert_msg(rc == ENGINE_JUDGED, "event %s: engine_process returned %d, expected JUDGED",
                  event_id_of(ev), rc);
    ck_assert_ptr_nonnull(d);
    return d;
}

/* ---- event builders ---- */

/*
 * A prior-authorization request every criterion of §6 approves: D = 2026-06-02 (version
 * 2026-05-01), adult, C43.9, metastatic, BRAF negative (1.D NOT_APPLICABLE), prior Opdivo
 * started 2020-01-15, lymphodepletion planned, a medical oncologist with a valid NPI, no
 * consultant, no requested dose (DOSE NOT_APPLICABLE).
 */
static inline void pa_base(event_t *ev, const char *event_id, const char *pa_id,
                           const char *member_id)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = EVENT_PRIOR_AUTH;
    pa_event_t *p = &ev->pa;
    p->event_id = event_id;
    p->pa_id = pa_id;
    p->received_at_ms = ts("2026-06-02T14:05:00Z");
    p->urgency = URGENCY_STANDARD;
    p->member_id = member_id;
    p->birth_date = ymd(1970, 3, 2);
    p->n_diagnosis_codes = 1;
    p->diagnosis_codes[0] = "C43.9";
    p->disease_status = DISEASE_METASTATIC;
    p->braf_v600 = BRAF_NEGATIVE;
    p->n_prior_therapies = 1;
    p->prior_therapies[0].drug = "Opdivo";
    p->prior_therapies[0].start_date = ymd(2020, 1, 15);
    p->prior_therapies[0].end_date = ymd(2020, 11, 15);
    p->lymphodepletion = LYMPHODEPLETION_PLANNED;
    p->prescriber_npi = NPI_A;
    p->prescriber_taxonomy = TAX_MED_ONC;
    p->consulting_npi = NULL;
    p->consulting_taxonomy = NULL;
    p->has_requested_dose_cells = false;
    p->requested_dose_cells = 0;
}

static inline void pa_set_dx(event_t *ev, uint32_t n, const char *const *codes)
{
    ev->pa.n_diagnosis_codes = n;
    for (uint32_t i = 0; i < n; i++) ev->pa.diagnosis_codes[i] = codes[i];
}

static inline void pa_set_therapy(event_t *ev, uint32_t i, const char *drug, date_t start)
{
    ev->pa.prior_therapies[i].drug = drug;
    ev->pa.prior_therapies[i].start_date = start;
    ev->pa.prior_therapies[i].end_date = DATE_NULL;
    if (ev->pa.n_prior_therapies < i + 1) ev->pa.n_prior_therapies = i + 1;
}

static inline void pa_set_dose(event_t *ev, int64_t cells)
{
    ev->pa.has_requested_dose_cells = true;
    ev->pa.requested_dose_cells = cells;
}

/*
 * A claim line every check of §7 passes given an approved PA with D = 2026-06-02: J3590, one
 * unit, 33.4e9 cells, C43.9, service 2026-07-14.
 */
static inline void claim_base(event_t *ev, const char *event_id, const char *claim_id, int line,
                              const char *member_id, const char *authorization_id)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = EVENT_CLAIM;
    claim_event_t *c = &ev->claim;
    c->event_id = event_id;
    c->claim_id = claim_id;
    c->line_number = line;
    c->received_at_ms = ts("2026-07-20T09:30:00Z");
    c->member_id = member_id;
    c->birth_date = ymd(1970, 3, 2);
    c->service_date = ymd(2026, 7, 14);
    c->hcpcs_code = "J3590";
    c->ndc = "73776-0001-12";
    c->units = 1;
    c->has_dose_viable_cells = true;
    c->dose_viable_cells = 33400000000LL;
    c->n_diagnosis_codes = 1;
    c->diagnosis_codes[0] = "C43.9";
    c->rendering_npi = NPI_B;
    c->authorization_id = authorization_id;
    c->billed_amount_cents = 51500000;
}

/* ---- assertions ---- */

static inline const char *status_str(int s)
{
    return criterion_status_name((criterion_status_t)s);
}

/* Every criterion's status, exactly. */
static inline void assert_criteria(const determination_t *d, const uint8_t *expected)
{
    int n = criteria_count(d->kind);
    for (int i = 0; i < n; i++)
        ck_assert_msg(d->criteria[i] == expected[i], "%s: criterion %s is %s, expected %s",
                      d->event_id, criterion_name(d->kind, i), status_str(d->criteria[i]),
                      status_str(expected[i]));
}

/* The reasons, exactly and in order. */
static inline void assert_reasons(const determination_t *d, int n, const reason_t *expected)
{
    char got[512] = "";
    for (int i = 0; i < d->n_reasons && i < MAX_CRITERIA; i++) {
        size_t l = strlen(got);
        snprintf(got + l, sizeof got - l, "%s%s/%s/%s", i ? ", " : "",
                 criterion_name(d->kind, d->reasons[i].criterion),
                 reason_code_name((reason_code_t)d->reasons[i].code),
                 status_str(d->reasons[i].status));
    }
    ck_assert_msg(d->n_reasons == n, "%s: %d reasons [%s], expected %d", d->event_id, d->n_reasons,
                  got, n);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(d->reasons[i].criterion == expected[i].criterion &&
                          d->reasons[i].code == expected[i].code &&
                          d->reasons[i].status == expected[i].status,
                      "%s: reason %d is wrong; got [%s], expected %s/%s/%s", d->event_id, i, got,
                      criterion_name(d->kind, expected[i].criterion),
                      reason_code_name((reason_code_t)expected[i].code),
                      status_str(expected[i].status));
    }
}

static inline void assert_outcome(const determination_t *d, outcome_t o)
{
    ck_assert_msg(d->outcome == o, "%s: outcome %s, expected %s", d->event_id,
                  outcome_name(d->outcome), outcome_name(o));
}

/* The criteria, the reasons and the outcome, exactly. */
static inline void assert_judged(const determination_t *d, const uint8_t *criteria, int n_reasons,
                                 const reason_t *reasons, outcome_t o)
{
    assert_criteria(d, criteria);
    assert_reasons(d, n_reasons, reasons);
    assert_outcome(d, o);
}

static inline void assert_str_or_null(const char *got, const char *expected, const char *what)
{
    if (expected == NULL)
        ck_assert_msg(got == NULL, "%s: got \"%s\", expected null", what, got);
    else {
        ck_assert_msg(got != NULL, "%s: got null, expected \"%s\"", what, expected);
        ck_assert_str_eq(got, expected);
    }
}

static inline void assert_date(date_t got, date_t expected, const char *what)
{
    char a[16], b[16];
    ck_assert_msg(got == expected, "%s: %s, expected %s", what, fmt_date(got, a),
                  fmt_date(expected, b));
}

/* Field-by-field equality of two determinations (strings by content). */
static inline void assert_same_determination(const determination_t *a, const determination_t *b)
{
    ck_assert_str_eq(a->determination_id, b->determination_id);
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert_str_eq(a->event_id, b->event_id);
    ck_assert_str_eq(a->member_id, b->member_id);
    assert_str_or_null(a->pa_id, b->pa_id, "pa_id");
    assert_str_or_null(a->claim_id, b->claim_id, "claim_id");
    assert_str_or_null(a->matched_pa_id, b->matched_pa_id, "matched_pa_id");
    assert_str_or_null(a->original_claim_id, b->original_claim_id, "original_claim_id");
    assert_str_or_null(a->reversed_event_id, b->reversed_event_id, "reversed_event_id");
    if (a->kind == EVENT_CLAIM) {
        ck_assert_int_eq(a->line_number, b->line_number);
        ck_assert_int_eq(a->frequency_code, b->frequency_code);
    }
    ck_assert_int_eq(a->policy_version, b->policy_version);
    ck_assert_int_eq(a->decision_date, b->decision_date);
    ck_assert_int_eq(a->outcome, b->outcome);
    ck_assert_mem_eq(a->criteria, b->criteria, (size_t)criteria_count(a->kind));
    ck_assert_int_eq(a->n_reasons, b->n_reasons);
    for (int i = 0; i < a->n_reasons; i++) {
        ck_assert_int_eq(a->reasons[i].criterion, b->reasons[i].criterion);
        ck_assert_int_eq(a->reasons[i].code, b->reasons[i].code);
        ck_assert_int_eq(a->reasons[i].status, b->reasons[i].status);
    }
    ck_assert_int_eq(a->has_authorization, b->has_authorization);
    if (a->has_authorization) {
        ck_assert_int_eq(a->valid_from, b->valid_from);
        ck_assert_int_eq(a->valid_until, b->valid_until);
        ck_assert_int_eq(a->max_doses, b->max_doses);
        ck_assert(a->dose_min_cells == b->dose_min_cells);
        ck_assert(a->dose_max_cells == b->dose_max_cells);
    }
}

/* A deep-enough snapshot: copies the struct and the strings it points at. */
typedef struct {
    determination_t d;
    char event_id[160], member_id[160], pa_id[160], claim_id[160], matched[160];
    char original[160], reversed[160];
} snapshot_t;

static inline void snapshot(snapshot_t *s, const determination_t *d)
{
    s->d = *d;
    snprintf(s->event_id, sizeof s->event_id, "%s", d->event_id);
    snprintf(s->member_id, sizeof s->member_id, "%s", d->member_id);
    s->d.event_id = s->event_id;
    s->d.member_id = s->member_id;
    if (d->pa_id) s->d.pa_id = strcpy(s->pa_id, d->pa_id);
    if (d->claim_id) s->d.claim_id = strcpy(s->claim_id, d->claim_id);
    if (d->matched_pa_id) s->d.matched_pa_id = strcpy(s->matched, d->matched_pa_id);
    if (d->original_claim_id) s->d.original_claim_id = strcpy(s->original, d->original_claim_id);
    if (d->reversed_event_id) s->d.reversed_event_id = strcpy(s->reversed, d->reversed_event_id);
}

/* Runs one suite; returns the process exit status. */
static inline int support_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    support_teardown_all();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
