/* The engine: idempotency (§1), history and supersession (§7), loading, reset, ids (§8). */
#include "test_support.h"

static int process_rc(const event_t *ev, const determination_t **out)
{
    *out = NULL;
    return engine_process(g_engine, ev, out);
}

static void expect_claim(const determination_t *d, outcome_t o, int single_dose, int duplicate)
{
    assert_outcome(d, o);
    ck_assert_int_eq(d->criteria[CLAIM_SINGLE_DOSE], single_dose);
    ck_assert_int_eq(d->criteria[CLAIM_DUPLICATE], duplicate);
}

/* MEM-1's claim line CLM-1/1 naming auth: paid, on PA-1. */
static const determination_t *expect_paid_on_pa1(const char *event_id, const char *auth)
{
    event_t ev;
    claim_base(&ev, event_id, "CLM-1", 1, "MEM-1", auth);
    const determination_t *d = process(&ev);
    expect_claim(d, OUTCOME_APPROVED, M, M);
    assert_str_or_null(d->matched_pa_id, "PA-1", "matched_pa_id");
    return d;
}

/* MEM-1's PA-1 (e-1), then *claim: its line CLM-1/1 (e-2) naming PA-1. @returns the claim's
 * determination. */
static const determination_t *pa_then_claim(event_t *claim)
{
    event_t pa;
    pa_base(&pa, "e-1", "PA-1", "MEM-1");
    process(&pa);
    claim_base(claim, "e-2", "CLM-1", 1, "MEM-1", "PA-1");
    return process(claim);
}

/* ---- idempotency ---- */

START_TEST(test_replay_same_content)
{
    event_t pa;
    pa_base(&pa, "e-1", "PA-1", "MEM-1");
    const determination_t *first = process(&pa);
    snapshot_t snap;
    snapshot(&snap, first);
    ck_assert_uint_eq(engine_size(g_engine), 1);

    const determination_t *again = NULL;
    ck_assert_int_eq(process_rc(&pa, &again), ENGINE_REPLAYED);
    ck_assert_ptr_nonnull(again);
    ck_assert_ptr_eq(again, engine_lookup(g_engine, "e-1"));
    assert_same_determination(again, &snap.d);
    ck_assert_uint_eq(engine_size(g_engine), 1);
    /* the first pointer is still valid and unchanged */
    assert_same_determination(first, &snap.d);
}
END_TEST

START_TEST(test_replay_approved_claim_is_not_its_own_duplicate)
{
    event_t ev, claim;
    const determination_t *d = pa_then_claim(&claim);
    expect_claim(d, OUTCOME_APPROVED, M, M);
    snapshot_t snap;
    snapshot(&snap, d);

    for (int i = 0; i < 3; i++) {
        const determination_t *r = NULL;
        ck_assert_int_eq(process_rc(&claim, &r), ENGINE_REPLAYED);
        assert_same_determination(r, &snap.d);
        expect_claim(r, OUTCOME_APPROVED, M, M);
    }
    ck_assert_uint_eq(engine_size(g_engine), 2);

    /* history holds the line once: the next line fails SINGLE_DOSE, the PA still stands */
    claim_base(&ev, "e-3", "CLM-2", 1, "MEM-1", "PA-1");
    d = process(&ev);
    expect_claim(d, OUTCOME_DENIED, N, M);
    ck_assert_int_eq(d->n_reasons, 1);
    assert_str_or_null(d->matched_pa_id, "PA-1", "matched_pa_id");
}
END_TEST

START_TEST(test_replay_different_content)
{
    event_t ev, claim;
    const determination_t *d = pa_then_claim(&claim);
    snapshot_t snap;
    snapshot(&snap, d);

    /* same event_id, units changed: the stored determination, reported as different */
    claim.claim.units = 2;
    const determination_t *r = NULL;
    ck_assert_int_eq(process_rc(&claim, &r), ENGINE_REPLAYED_DIFFERENT);
    assert_same_determination(r, &snap.d);
    assert_outcome(r, OUTCOME_APPROVED);
    ck_assert_uint_eq(engine_size(g_engine), 2);

    /* same event_id now for another member and kind: still the stored determination */
    pa_base(&ev, "e-2", "PA-9", "MEM-9");
    ck_assert_int_eq(process_rc(&ev, &r), ENGINE_REPLAYED_DIFFERENT);
    assert_same_determination(r, &snap.d);

    /* a different PA under a replayed event_id changes nothing either */
    pa_base(&ev, "e-1", "PA-1", "MEM-1");
    ev.pa.disease_status = DISEASE_RESECTABLE;
    ck_assert_int_eq(process_rc(&ev, &r), ENGINE_REPLAYED_DIFFERENT);
    assert_outcome(r, OUTCOME_APPROVED);
    ck_assert_uint_eq(engine_size(g_engine), 2);
}
END_TEST

START_TEST(test_fingerprint)
{
    event_t a, b;
    pa_base(&a, "e-1", "PA-1", "MEM-1");
    pa_base(&b, "e-1", "PA-1", "MEM-1");
    ck_assert(event_fingerprint(&a) == event_fingerprint(&b));
    b.pa.requested_dose_cells = 5;
    b.pa.has_requested_dose_cells = true;
    ck_assert(event_fingerprint(&a) != event_fingerprint(&b));
    pa_base(&b, "e-1", "PA-1", "MEM-1");
    b.pa.prior_therapies[0].drug = "Keytruda";
    ck_assert(event_fingerprint(&a) != event_fingerprint(&b));
    claim_base(&a, "c-1", "CLM-1", 1, "MEM-1", NULL);
    claim_base(&b, "c-1", "CLM-1", 1, "MEM-1", NULL);
    ck_assert(event_fingerprint(&a) == event_fingerprint(&b));
    b.claim.billed_amount_cents += 1;
    ck_assert(event_fingerprint(&a) != event_fingerprint(&b));
    /* the version 2 fields (contract §10) count too */
    claim_base(&b, "c-1", "CLM-1", 1, "MEM-1", NULL);
    b.claim.frequency_code = FREQUENCY_VOID;
    ck_assert(event_fingerprint(&a) != event_fingerprint(&b));
    uint64_t void_fp = event_fingerprint(&b);
    b.claim.original_claim_id = "CLM-1";
    ck_assert(event_fingerprint(&b) != void_fp);
    b.claim.frequency_code = FREQUENCY_REPLACEMENT;
    ck_assert(event_fingerprint(&a) != event_fingerprint(&b));
    ck_assert(event_fingerprint(&b) != void_fp);
}
END_TEST

START_TEST(test_second_event_for_approved_line)
{
    event_t ev;
    pa_base(&ev, "e-1", "PA-1", "MEM-1");
    process(&ev);
    claim_base(&ev, "e-2", "CLM-1", 1, "MEM-1", "PA-1");
    process(&ev);
    claim_base(&ev, "e-3", "CLM-1", 1, "MEM-1", "PA-1");
    const determination_t *d = process(&ev);
    assert_outcome(d, OUTCOME_DENIED);
    const reason_t r = {CLAIM_DUPLICATE, REASON_DUPLICATE_CLAIM_LINE, N};
    assert_reasons(d, 1, &r);
    ck_assert_uint_eq(engine_size(g_engine), 3);
}
END_TEST

/* ---- pa_id supersession ---- */

START_TEST(test_supersession_pended_then_approved)
{
    event_t ev;
    pa_base(&ev, "e-1", "PA-1", "MEM-1");
    ev.pa.disease_status = DISEASE_UNKNOWN;
    assert_outcome(process(&ev), OUTCOME_PENDED);
    claim_base(&ev, "e-2", "CLM-1", 1, "MEM-1", "PA-1");
    assert_outcome(process(&ev), OUTCOME_PENDED);
    pa_base(&ev, "e-3", "PA-1", "MEM-1");
    assert_outcome(process(&ev), OUTCOME_APPROVED);
    expect_paid_on_pa1("e-4", "PA-1");
}
END_TEST

START_TEST(test_supersession_approved_then_denied)
{
    event_t ev;
    pa_base(&ev, "e-1", "PA-1", "MEM-1");
    assert_outcome(process(&ev), OUTCOME_APPROVED);
    pa_base(&ev, "e-2", "PA-1", "MEM-1");
    ev.pa.lymphodepletion = LYMPHODEPLETION_NOT_PLANNED;
    assert_outcome(process(&ev), OUTCOME_DENIED);
    expect_paid_on_pa1("e-3", NULL);
}
END_TEST

START_TEST(test_replay_does_not_move_an_event)
{
    /* PA-1: pended (e-1), then denied (e-2). Replaying e-1 must not make it most recent. */
    event_t p1, p2;
    pa_base(&p1, "e-1", "PA-1", "MEM-1");
    p1.pa.braf_v600 = BRAF_UNKNOWN;
    assert_outcome(process(&p1), OUTCOME_PENDED);
    pa_base(&p2, "e-2", "PA-1", "MEM-1");
    p2.pa.disease_status = DISEASE_RESECTABLE;
    assert_outcome(process(&p2), OUTCOME_DENIED);
    const determination_t *r = NULL;
    ck_assert_int_eq(process_rc(&p1, &r), ENGINE_REPLAYED);
    assert_outcome(r, OUTCOME_PENDED);
    event_t c;
    claim_base(&c, "e-3", "CLM-1", 1, "MEM-1", "PA-1");
    const determination_t *d = process(&c);
    const reason_t want = {CLAIM_AUTHORIZATION, REASON_AUTH_DENIED, N};
    assert_reasons(d, 1, &want);
}
END_TEST

START_TEST(test_replay_does_not_move_matched_pa)
{
    /* PA-1 then PA-2 both approved and valid: PA-2 is the most recent. A replay of PA-1 does
     * not change that. */
    event_t p1, p2;
    pa_base(&p1, "e-1", "PA-1", "MEM-1");
    process(&p1);
    pa_base(&p2, "e-2", "PA-2", "MEM-1");
    process(&p2);
    const determination_t *r = NULL;
    ck_assert_int_eq(process_rc(&p1, &r), ENGINE_REPLAYED);
    event_t c;
    claim_base(&c, "e-3", "CLM-1", 1, "MEM-1", NULL);
    assert_str_or_null(process(&c)->matched_pa_id, "PA-2", "matched_pa_id");
}
END_TEST

START_TEST(test_members_isolated)
{
    event_t ev;
    pa_base(&ev, "a-1", "PA-1", "MEM-A");
    process(&ev);
    claim_base(&ev, "a-2", "CLM-1", 1, "MEM-A", "PA-1");
    expect_claim(process(&ev), OUTCOME_APPROVED, M, M);
    /* MEM-B: no PA of its own */
    claim_base(&ev, "b-1", "CLM-1", 1, "MEM-B", "PA-1");
    const determination_t *d = process(&ev);
    const reason_t r = {CLAIM_AUTHORIZATION, REASON_AUTH_NOT_FOUND, N};
    assert_reasons(d, 1, &r);
    ck_assert_int_eq(d->criteria[CLAIM_DUPLICATE], M);
    /* MEM-B's PA is not failed by MEM-A's paid dose */
    pa_base(&ev, "b-2", "PA-1", "MEM-B");
    assert_outcome(process(&ev), OUTCOME_APPROVED);
}
END_TEST

/* ---- engine_load ---- */

/*
 * Builds a history on a scratch engine and returns copies of its determinations, so the
 * target engine's load has to copy strings (the scratch engine is freed before use).
 */
typedef struct {
    snapshot_t s[8];
    uint64_t fp[8];
    int n;
} history_t;

/* Judges ev on the scratch engine and appends a copy of its determination to h. */
static const determination_t *scratch_judge(engine_t *scratch, history_t *h, const event_t *ev)
{
    const determination_t *d = NULL;
    ck_assert_int_eq(engine_process(scratch, ev, &d), ENGINE_JUDGED);
    snapshot(&h->s[h->n], d);
    h->fp[h->n++] = event_fingerprint(ev);
    return d;
}

static void scratch_history(history_t *h, int with_claim)
{
    engine_t *scratch = engine_new(support_policy());
    ck_assert_ptr_nonnull(scratch);
    event_t ev;
    h->n = 0;

    pa_base(&ev, "h-1", "PA-1", "MEM-1");
    ev.pa.lymphodepletion = LYMPHODEPLETION_UNKNOWN; /* pended */
    scratch_judge(scratch, h, &ev);

    pa_base(&ev, "h-2", "PA-1", "MEM-1"); /* approved */
    scratch_judge(scratch, h, &ev);

    pa_base(&ev, "h-3", "PA-1", "MEM-1"); /* denied resubmission */
    ev.pa.disease_status = DISEASE_RESECTABLE;
    scratch_judge(scratch, h, &ev);

    if (with_claim) {
        claim_base(&ev, "h-4", "CLM-1", 1, "MEM-1", "PA-1");
        assert_outcome(scratch_judge(scratch, h, &ev), OUTCOME_APPROVED);
    }
    engine_free(scratch);
}

static void load_history(const history_t *h)
{
    for (int i = 0; i < h->n; i++) ck_assert_int_eq(engine_load(g_engine, &h->s[i].d, h->fp[i]), 0);
    ck_assert_uint_eq(engine_size(g_engine), (size_t)h->n);
}

START_TEST(test_load_then_claim)
{
    history_t h;
    scratch_history(&h, 0);
    load_history(&h);
    for (int i = 0; i < h.n; i++) {
        const determination_t *got = engine_lookup(g_engine, h.s[i].d.event_id);
        ck_assert_ptr_nonnull(got);
        assert_same_determination(got, &h.s[i].d);
    }
    /* the approval loaded as history stands despite the later denied resubmission */
    expect_paid_on_pa1("n-1", "PA-1");
}
END_TEST

START_TEST(test_load_paid_line)
{
    history_t h;
    scratch_history(&h, 1);
    load_history(&h);
    event_t ev;
    /* duplicate of the loaded paid line */
    claim_base(&ev, "n-1", "CLM-1", 1, "MEM-1", "PA-1");
    const determination_t *d = process(&ev);
    const reason_t dup = {CLAIM_DUPLICATE, REASON_DUPLICATE_CLAIM_LINE, N};
    assert_reasons(d, 1, &dup);
    /* another line: the loaded dose was paid */
    claim_base(&ev, "n-2", "CLM-2", 1, "MEM-1", "PA-1");
    d = process(&ev);
    expect_claim(d, OUTCOME_DENIED, N, M);
    /* a new PA fails 1.F */
    pa_base(&ev, "n-3", "PA-2", "MEM-1");
    d = process(&ev);
    ck_assert_int_eq(d->criteria[PA_1F], N);
    assert_outcome(d, OUTCOME_DENIED);
}
END_TEST

START_TEST(test_load_then_replay)
{
    history_t h;
    scratch_history(&h, 1);
    load_history(&h);
    event_t ev;
    const determination_t *r = NULL;
    /* the stored event again: a replay, not a duplicate line */
    claim_base(&ev, "h-4", "CLM-1", 1, "MEM-1", "PA-1");
    ck_assert_int_eq(process_rc(&ev, &r), ENGINE_REPLAYED);
    assert_same_determination(r, &h.s[3].d);
    expect_claim(r, OUTCOME_APPROVED, M, M);
    /* different content */
    ev.claim.units = 7;
    ck_assert_int_eq(process_rc(&ev, &r), ENGINE_REPLAYED_DIFFERENT);
    assert_same_determination(r, &h.s[3].d);
    ck_assert_uint_eq(engine_size(g_engine), 4);
}
END_TEST

START_TEST(test_load_unknown_fingerprint)
{
    history_t h;
    scratch_history(&h, 1);
    for (int i = 0; i < h.n; i++) ck_assert_int_eq(engine_load(g_engine, &h.s[i].d, 0), 0);
    event_t ev;
    claim_base(&ev, "h-4", "CLM-1", 1, "MEM-1", "PA-1");
    ev.claim.units = 7;
    const determination_t *r = NULL;
    /* fingerprint 0: a replay is never reported as different */
    ck_assert_int_eq(process_rc(&ev, &r), ENGINE_REPLAYED);
    assert_same_determination(r, &h.s[3].d);
}
END_TEST

START_TEST(test_load_copies_strings)
{
    history_t h;
    scratch_history(&h, 1);
    load_history(&h);
    /* scribble over the caller's strings: the engine must hold its own copies */
    for (int i = 0; i < h.n; i++) {
        memset(h.s[i].event_id, 'X', 8);
        memset(h.s[i].member_id, 'X', 8);
        memset(h.s[i].pa_id, 'X', 8);
        memset(h.s[i].claim_id, 'X', 8);
        memset(h.s[i].matched, 'X', 8);
    }
    const determination_t *d = engine_lookup(g_engine, "h-2");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->event_id, "h-2");
    ck_assert_str_eq(d->member_id, "MEM-1");
    ck_assert_str_eq(d->pa_id, "PA-1");
    d = engine_lookup(g_engine, "h-4");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->claim_id, "CLM-1");
    ck_assert_str_eq(d->matched_pa_id, "PA-1");
    event_t ev;
    claim_base(&ev, "n-1", "CLM-1", 1, "MEM-1", "PA-1");
    d = process(&ev);
    const reason_t dup = {CLAIM_DUPLICATE, REASON_DUPLICATE_CLAIM_LINE, N};
    assert_reasons(d, 1, &dup);
    claim_base(&ev, "n-2", "CLM-2", 1, "MEM-1", "PA-1");
    d = process(&ev);
    expect_claim(d, OUTCOME_DENIED, N, M);
    assert_str_or_null(d->matched_pa_id, "PA-1", "matched_pa_id");
}
END_TEST

START_TEST(test_load_equals_processing)
{
    /* the same stream judged directly and judged after loading its first half must agree */
    event_t evs[6];
    pa_base(&evs[0], "s-1", "PA-1", "MEM-1");
    evs[0].pa.braf_v600 = BRAF_UNKNOWN;
    claim_base(&evs[1], "s-2", "CLM-1", 1, "MEM-1", "PA-1");
    pa_base(&evs[2], "s-3", "PA-1", "MEM-1");
    claim_base(&evs[3], "s-4", "CLM-1", 1, "MEM-1", "PA-1");
    claim_base(&evs[4], "s-5", "CLM-1", 2, "MEM-1", "PA-1");
    pa_base(&evs[5], "s-6", "PA-2", "MEM-1");

    snapshot_t direct[6];
    for (int i = 0; i < 6; i++) snapshot(&direct[i], process(&evs[i]));
    assert_outcome(&direct[1].d, OUTCOME_PENDED);
    assert_outcome(&direct[3].d, OUTCOME_APPROVED);
    assert_outcome(&direct[4].d, OUTCOME_DENIED);
    assert_outcome(&direct[5].d, OUTCOME_DENIED);

    for (int split = 0; split <= 6; split++) {
        engine_reset(g_engine);
        for (int i = 0; i < split; i++)
            ck_assert_int_eq(engine_load(g_engine, &direct[i].d, event_fingerprint(&evs[i])), 0);
        for (int i = split; i < 6; i++) assert_same_determination(process(&evs[i]), &direct[i].d);
        for (int i = 0; i < 6; i++) {
            const determination_t *r = NULL;
            ck_assert_int_eq(process_rc(&evs[i], &r), ENGINE_REPLAYED);
            assert_same_determination(r, &direct[i].d);
        }
    }
}
END_TEST

/* ---- reset ---- */

START_TEST(test_reset_forgets)
{
    event_t ev;
    pa_base(&ev, "e-1", "PA-1", "MEM-1");
    process(&ev);
    claim_base(&ev, "e-2", "CLM-1", 1, "MEM-1", "PA-1");
    expect_claim(process(&ev), OUTCOME_APPROVED, M, M);
    engine_reset(g_engine);
    ck_assert_uint_eq(engine_size(g_engine), 0);
    ck_assert_ptr_null(engine_lookup(g_engine, "e-1"));
    ck_assert_ptr_null(engine_lookup(g_engine, "e-2"));
    /* the same claim event is judged anew: PA-1 unknown, no paid dose, no duplicate */
    const determination_t *d = process(&ev);
    const reason_t r = {CLAIM_AUTHORIZATION, REASON_AUTH_NOT_FOUND, N};
    assert_reasons(d, 1, &r);
    expect_claim(d, OUTCOME_DENIED, M, M);
    /* reset twice and reuse */
    engine_reset(g_engine);
    engine_reset(g_engine);
    pa_base(&ev, "e-1", "PA-1", "MEM-1");
    assert_outcome(process(&ev), OUTCOME_APPROVED);
    ck_assert_uint_eq(engine_size(g_engine), 1);
}
END_TEST

START_TEST(test_lookup_and_size)
{
    ck_assert_uint_eq(engine_size(g_engine), 0);
    ck_assert_ptr_null(engine_lookup(g_engine, "nope"));
    event_t ev;
    pa_base(&ev, "e-1", "PA-1", "MEM-1");
    const determination_t *d = process(&ev);
    ck_assert_ptr_eq(engine_lookup(g_engine, "e-1"), d);
    ck_assert_ptr_null(engine_lookup(g_engine, "e-"));
    ck_assert_ptr_null(engine_lookup(g_engine, "e-10"));
    ck_assert_ptr_null(engine_lookup(g_engine, "E-1"));
}
END_TEST

/* ---- many members: growth keeps pointers and history right ---- */

START_TEST(test_many_members)
{
    enum { MEMBERS = 4000 };
    static char ids[MEMBERS][3][24];
    static char members[MEMBERS][24];
    const determination_t *first = NULL;
    for (int i = 0; i < MEMBERS; i++) {
        snprintf(members[i], sizeof members[i], "MEM-%d", i);
        snprintf(ids[i][0], sizeof ids[i][0], "pa-%d", i);
        snprintf(ids[i][1], sizeof ids[i][1], "cl-%d", i);
        snprintf(ids[i][2], sizeof ids[i][2], "cl2-%d", i);
        event_t ev;
        pa_base(&ev, ids[i][0], "PA-1", members[i]);
        const determination_t *d = process(&ev);
        if (i == 0) first = d;
        assert_outcome(d, OUTCOME_APPROVED);
        claim_base(&ev, ids[i][1], "CLM-1", 1, members[i], "PA-1");
        assert_outcome(process(&ev), OUTCOME_APPROVED);
    }
    ck_assert_uint_eq(engine_size(g_engine), 2 * MEMBERS);
    /* pointers handed out earlier stay valid */
    ck_assert_str_eq(first->event_id, "pa-0");
    ck_assert_str_eq(first->pa_id, "PA-1");
    assert_outcome(first, OUTCOME_APPROVED);
    for (int i = 0; i < MEMBERS; i++) {
        event_t ev;
        claim_base(&ev, ids[i][1], "CLM-1", 1, members[i], "PA-1");
        const determination_t *r = NULL;
        ck_assert_int_eq(process_rc(&ev, &r), ENGINE_REPLAYED);
        assert_outcome(r, OUTCOME_APPROVED);
        claim_base(&ev, ids[i][2], "CLM-2", 1, members[i], "PA-1");
        const determination_t *d = process(&ev);
        expect_claim(d, OUTCOME_DENIED, N, M);
    }
    ck_assert_uint_eq(engine_size(g_engine), 3 * MEMBERS);
}
END_TEST

/* ---- determination_id (§8): UUIDv5 of event_id ---- */

static void assert_uuid_shape(const char *u)
{
    ck_assert_uint_eq(strlen(u), UUID_STRING_LEN);
    for (int i = 0; i < UUID_STRING_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ck_assert_msg(u[i] == '-', "%s: no hyphen at %d", u, i);
        else
            ck_assert_msg(strchr("0123456789abcdef", u[i]) != NULL && u[i] != '\0',
                          "%s: not lower-case hex at %d", u, i);
    }
    ck_assert_msg(u[14] == '5', "%s: version nibble is not 5", u);
    ck_assert_msg(strchr("89ab", u[19]) != NULL, "%s: variant is not 10xx", u);
}

START_TEST(test_determination_id_known_values)
{
    /* python3: uuid.uuid5(uuid.UUID("1087c614-d8e5-5733-b26d-5854114041b2"), event_id), the
     * namespace documented in src/core/determination.c, itself
     * uuid5(NAMESPACE_URL, "urn:amtagvi-adjudicator:determination") */
    static const struct {
        const char *event_id;
        const char *uuid;
    } known[] = {
        {"ex-01", "bfa51aaf-6858-57b2-b6a0-0a9125f194f1"},
        {"evt-1", "107afa74-0005-503f-b14d-6bdeefb5c3a9"},
        {"PA-event-1", "edbea228-36b7-5b0a-8c0d-1fe561d09652"},
        {"", "5432eb54-8db0-5074-8f68-3b36995b3a63"},
        {"\xc3\xa9-1", "7d3643f1-5ba7-5334-b723-a15feefa533c"},
        /* 16 + 39 = 55 bytes: one SHA-1 block; 16 + 40 = 56: two; 16 + 48 = 64 */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "6d1cd1af-392f-5b6a-b267-8555c09a8da1"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "06b16327-d767-50b2-950d-25260d00f3b9"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "f6fd535b-6e63-5892-83fd-b69e20802cf3"},
    };
    char out[UUID_STRING_LEN + 1];
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        memset(out, 'z', sizeof out);
        determination_id_for(known[i].event_id, out);
        ck_assert_str_eq(out, known[i].uuid);
        assert_uuid_shape(out);
    }
    char x128[129];
    memset(x128, 'x', 128);
    x128[128] = '\0';
    determination_id_for(x128, out);
    ck_assert_str_eq(out, "51e9cd79-5901-56a6-8eb2-6eceda9e0e6a");
}
END_TEST

START_TEST(test_determination_id_in_determinations)
{
    event_t ev;
    pa_base(&ev, "ex-01", "PA-1", "MEM-1");
    const determination_t *d = process(&ev);
    ck_assert_str_eq(d->determination_id, "bfa51aaf-6858-57b2-b6a0-0a9125f194f1");
    claim_base(&ev, "evt-1", "CLM-1", 1, "MEM-1", NULL);
    d = process(&ev);
    ck_assert_str_eq(d->determination_id, "107afa74-0005-503f-b14d-6bdeefb5c3a9");
    /* equal for equal ids (fresh engine, different content), different otherwise */
    engine_reset(g_engine);
    pa_base(&ev, "evt-1", "PA-7", "MEM-7");
    d = process(&ev);
    ck_assert_str_eq(d->determination_id, "107afa74-0005-503f-b14d-6bdeefb5c3a9");
    char a[UUID_STRING_LEN + 1], b[UUID_STRING_LEN + 1];
    determination_id_for("evt-1", a);
    determination_id_for("evt-2", b);
    ck_assert_str_ne(a, b);
    assert_uuid_shape(b);
    determination_id_for("evt-1", b);
    ck_assert_str_eq(a, b);
}
END_TEST

/* ---- events: §2 string rules and enum symbols ---- */

START_TEST(test_utf8_valid)
{
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"", true},
        {"abc", true},
        {"\xc3\xa9", true},
        {"\xe2\x82\xac", true},
        {"\xf0\x9f\x98\x80", true},
        {"\xef\xbf\xbf", true},
        {"\xf4\x8f\xbf\xbf", true},
        {"\xed\x9f\xbf", true},
        {"\xc0\xaf", false},
        {"\xc1\xbf", false},
        {"\xe0\x80\xaf", false},
        {"\xf0\x80\x80\xaf", false},
        {"\xed\xa0\x80", false},
        {"\xed\xbf\xbf", false},
        {"\xf4\x90\x80\x80", false},
        {"\xf5\x80\x80\x80", false},
        {"\xc3", false},
        {"a\xe2\x82", false},
        {"\x80", false},
        {"\xbf", false},
        {"\xff", false},
        {"\xfe", false},
        {"\xf8\x88\x80\x80\x80", false},
        {"\xc3\x28", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(utf8_valid(cases[i].s, strlen(cases[i].s)) == cases[i].ok,
                      "utf8_valid case %zu should be %d", i, cases[i].ok);
    /* only n bytes are looked at */
    ck_assert(utf8_valid("ab\xff", 2));
    ck_assert(!utf8_valid("\xe2\x82\xac", 2));
}
END_TEST

START_TEST(test_event_check_strings)
{
    char err[256];
    char s128[129], s129[130];
    memset(s128, 'A', 128);
    s128[128] = '\0';
    memset(s129, 'A', 129);
    s129[129] = '\0';
    event_t ev;

    pa_base(&ev, "e-1", "PA-1", "MEM-1");
    ck_assert_int_eq(event_check_strings(&ev, err, sizeof err), 0);
    ev.pa.prescriber_taxonomy = s128; /* exactly 128 bytes: fine */
    ck_assert_int_eq(event_check_strings(&ev, err, sizeof err), 0);
    ev.pa.prescriber_taxonomy = s129;
    err[0] = '\0';
    ck_assert_int_eq(event_check_strings(&ev, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "prescriber_taxonomy") != NULL, "message \"%s\"", err);

    pa_base(&ev, "e-1", "PA-1", "MEM-1");
    pa_set_therapy(&ev, 1, "Opdivo\xff", DATE_NULL);
    err[0] = '\0';
    ck_assert_int_eq(event_check_strings(&ev, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "drug") != NULL || strstr(err, "prior_therapies") != NULL,
                  "message \"%s\"", err);

    pa_base(&ev, "e-1", "PA-1", "MEM-1");
    const char *dx[] = {"C43.9", "C43\xed\xa0\x80"};
    pa_set_dx(&ev, 2, dx);
    err[0] = '\0';
    ck_assert_int_eq(event_check_strings(&ev, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "diagnosis_codes") != NULL, "message \"%s\"", err);

    /* a 4-byte character counts as 4 bytes: 32 of them are 128 bytes, 33 too many */
    char emoji[4 * 33 + 1];
    for (int i = 0; i < 33; i++) memcpy(emoji + 4 * i, "\xf0\x9f\x98\x80", 4);
    emoji[4 * 32] = '\0';
    claim_base(&ev, "c-1", "CLM-1", 1, "MEM-1", NULL);
    ev.claim.rendering_npi = emoji;
    ck_assert_int_eq(event_check_strings(&ev, err, sizeof err), 0);
    emoji[4 * 32] = '\xf0';
    emoji[4 * 33] = '\0';
    err[0] = '\0';
    ck_assert_int_eq(event_check_strings(&ev, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "rendering_npi") != NULL, "message \"%s\"", err);

    claim_base(&ev, "c-1", "CLM-1", 1, "MEM-1", s129);
    err[0] = '\0';
    ck_assert_int_eq(event_check_strings(&ev, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "authorization_id") != NULL, "message \"%s\"", err);
    /* null nullable fields are fine */
    claim_base(&ev, "c-1", "CLM-1", 1, "MEM-1", NULL);
    ev.claim.ndc = NULL;
    ck_assert_int_eq(event_check_strings(&ev, err, sizeof err), 0);
}
END_TEST

/* ---- event_fingerprint and event_check_strings against the field table (event.h) ----
 * Both name every field by hand (they run for every event); these walk the table the decoders
 * walk, so a field added there and not to them fails here. */

/* A base event of the kind with every array holding one item. */
static void base_event(event_t *ev, event_kind_t kind)
{
    if (kind == EVENT_PRIOR_AUTH)
        pa_base(ev, "e-1", "PA-1", "MEM-1");
    else
        claim_base(ev, "c-1", "CLM-1", 1, "MEM-1", "PA-1");
}

typedef void (*slot_fn)(const event_field_t *f, char *base, const char *label, void *ctx);

/* Calls fn for every value of the record at base: each field, an array's first item (label
 * item_label) and each field of a record array's first item. */
static void each_slot(const event_field_t *fields, size_t n, char *base, slot_fn fn, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        const event_field_t *f = &fields[i];
        fn(f, base, f->label, ctx);
        bool array = f->type == EVENT_FIELD_STRING_ARRAY || f->type == EVENT_FIELD_RECORD_ARRAY;
        ck_assert_msg(!array || *(uint32_t *)(base + f->aux_offset) > 0,
                      "test bug: the base event has no %s", f->name);
        if (f->type == EVENT_FIELD_RECORD_ARRAY)
            each_slot(f->item_fields, f->n_item_fields, base + f->offset, fn, ctx);
    }
}

/* Changes the value in place (an array: its count, or its first string). */
static void change(const event_field_t *f, char *base, bool item)
{
    char *at = base + f->offset;
    switch (f->type) {
    case EVENT_FIELD_STRING:
        *(const char **)at = *(const char **)at ? NULL : "changed";
        break;
    case EVENT_FIELD_TIMESTAMP:
    case EVENT_FIELD_LONG:
        if (f->nullable)
            *(bool *)(base + f->aux_offset) ^= true;
        else
            *(int64_t *)at += 1;
        break;
    case EVENT_FIELD_DATE:
        *(date_t *)at = *(date_t *)at == DATE_NULL ? ymd(2020, 1, 1) : *(date_t *)at + 1;
        break;
    case EVENT_FIELD_INT:
        *(int32_t *)at += 1;
        break;
    case EVENT_FIELD_ENUM:
        *(int *)at = (*(int *)at + 1) % f->n_symbols;
        break;
    case EVENT_FIELD_STRING_ARRAY:
        if (item)
            ((const char **)at)[0] = "changed";
        else
            *(uint32_t *)(base + f->aux_offset) += 1;
        break;
    case EVENT_FIELD_RECORD_ARRAY:
        *(uint32_t *)(base + f->aux_offset) += 1;
        break;
    }
}

typedef struct {
    event_t *ev;
    uint64_t base_fp;
    int seen;
} fp_ctx_t;

static void fingerprint_changes(const event_field_t *f, char *base, const char *label, void *ctx)
{
    fp_ctx_t *c = ctx;
    for (int item = 0; item < (f->type == EVENT_FIELD_STRING_ARRAY ? 2 : 1); item++) {
        event_t saved = *c->ev;
        change(f, base, item);
        ck_assert_msg(event_fingerprint(c->ev) != c->base_fp,
                      "%s %s: changing it leaves the fingerprint as it was",
                      event_kind_name(c->ev->kind), item ? f->item_label : label);
        *c->ev = saved;
        c->seen++;
    }
}

START_TEST(test_fingerprint_covers_every_field)
{
    for (int kind = 0; kind < 2; kind++) {
        event_t ev;
        base_event(&ev, (event_kind_t)kind);
        fp_ctx_t c = {&ev, event_fingerprint(&ev), 0};
        size_t n;
        const event_field_t *fields = event_fields((event_kind_t)kind, &n);
        each_slot(fields, n, (char *)&ev, fingerprint_changes, &c);
        ck_assert_int_ge(c.seen, (int)n);
    }
}
END_TEST

typedef struct {
    event_t *ev;
    const char *too_long;
    int strings;
} strings_ctx_t;

static void string_checked(const event_field_t *f, char *base, const char *label, void *ctx)
{
    strings_ctx_t *c = ctx;
    if (f->type != EVENT_FIELD_STRING && f->type != EVENT_FIELD_STRING_ARRAY) return;
    const char **slot = (const char **)(base + f->offset); /* an array: its first item */
    const char *what = f->type == EVENT_FIELD_STRING ? label : f->item_label;
    const char *saved = *slot;
    char err[256] = "";
    *slot = c->too_long;
    ck_assert_msg(event_check_strings(c->ev, err, sizeof err) == -1,
                  "%s %s: a 129-byte value passes the check", event_kind_name(c->ev->kind), what);
    ck_assert_msg(strstr(err, what) != NULL, "%s: message \"%s\" does not name it", what, err);
    *slot = "\xff";
    ck_assert_msg(event_check_strings(c->ev, err, sizeof err) == -1,
                  "%s %s: invalid UTF-8 passes the check", event_kind_name(c->ev->kind), what);
    *slot = saved;
    c->strings++;
}

START_TEST(test_check_strings_covers_every_string)
{
    char s129[130];
    memset(s129, 'A', 129);
    s129[129] = '\0';
    for (int kind = 0; kind < 2; kind++) {
        event_t ev;
        base_event(&ev, (event_kind_t)kind);
        strings_ctx_t c = {&ev, s129, 0};
        size_t n;
        const event_field_t *fields = event_fields((event_kind_t)kind, &n);
        each_slot(fields, n, (char *)&ev, string_checked, &c);
        /* a PA has 9 strings; a claim 8 of schema version 1 and original_claim_id */
        ck_assert_int_eq(c.strings, 9);
    }
}
END_TEST

/* The PA field of that name in the event's field table (event.h), which both decoders read. */
static const event_field_t *pa_field(const char *name)
{
    size_t n;
    const event_field_t *fields = event_fields(EVENT_PRIOR_AUTH, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0) return &fields[i];
    ck_abort_msg("no PA field %s", name);
    return NULL;
}

START_TEST(test_enum_symbols)
{
    static const struct {
        const char *field, *symbol;
        int want; /* -1: not a symbol */
    } cases[] = {
        {"urgency", "STANDARD", URGENCY_STANDARD},
        {"urgency", "EXPEDITED", URGENCY_EXPEDITED},
        {"urgency", "standard", -1},
        {"urgency", "URGENT", -1},
        {"urgency", "", -1},
        {"disease_status", "RESECTABLE", DISEASE_RESECTABLE},
        {"disease_status", "UNRESECTABLE", DISEASE_UNRESECTABLE},
        {"disease_status", "METASTATIC", DISEASE_METASTATIC},
        {"disease_status", "UNKNOWN", DISEASE_UNKNOWN},
        {"disease_status", "METASTATIC ", -1},
        {"braf_v600", "POSITIVE", BRAF_POSITIVE},
        {"braf_v600", "NEGATIVE", BRAF_NEGATIVE},
        {"braf_v600", "UNKNOWN", BRAF_UNKNOWN},
        {"braf_v600", "POS", -1},
        {"lymphodepletion", "RECEIVED", LYMPHODEPLETION_RECEIVED},
        {"lymphodepletion", "PLANNED", LYMPHODEPLETION_PLANNED},
        {"lymphodepletion", "NOT_PLANNED", LYMPHODEPLETION_NOT_PLANNED},
        {"lymphodepletion", "UNKNOWN", LYMPHODEPLETION_UNKNOWN},
        {"lymphodepletion", "NOT PLANNED", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *sym = cases[i].symbol;
        int got = event_field_symbol(pa_field(cases[i].field), sym, strlen(sym));
        ck_assert_msg(got == cases[i].want, "%s \"%s\" → %d, expected %d", cases[i].field, sym, got,
                      cases[i].want);
    }
    /* a prefix of a symbol given by length is not the symbol */
    const event_field_t *lympho = pa_field("lymphodepletion");
    ck_assert_int_eq(event_field_symbol(lympho, "PLANNEDX", 7), LYMPHODEPLETION_PLANNED);
    ck_assert_int_eq(event_field_symbol(lympho, "PLANNED", 6), -1);
    ck_assert_str_eq(urgency_name(URGENCY_EXPEDITED), "EXPEDITED");
    ck_assert_str_eq(disease_status_name(DISEASE_UNRESECTABLE), "UNRESECTABLE");
    ck_assert_str_eq(braf_status_name(BRAF_NEGATIVE), "NEGATIVE");
    ck_assert_str_eq(lymphodepletion_name(LYMPHODEPLETION_NOT_PLANNED), "NOT_PLANNED");
    event_t ev;
    claim_base(&ev, "c-9", "CLM-9", 1, "MEM-9", NULL);
    ck_assert_str_eq(event_id_of(&ev), "c-9");
    ck_assert_str_eq(event_member_of(&ev), "MEM-9");
    pa_base(&ev, "p-9", "PA-9", "MEM-8");
    ck_assert_str_eq(event_id_of(&ev), "p-9");
    ck_assert_str_eq(event_member_of(&ev), "MEM-8");
}
END_TEST

/* The claim field of that name in the event's field table. */
static const event_field_t *claim_field(const char *name)
{
    size_t n;
    const event_field_t *fields = event_fields(EVENT_CLAIM, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0) return &fields[i];
    ck_abort_msg("no claim field %s", name);
    return NULL;
}

START_TEST(test_frequency_fields)
{
    /* contract §2 and §11: version 2 of the claim schema ends with frequency_code, an enum with
     * default ORIGINAL, and original_claim_id, a nullable string */
    size_t n;
    const event_field_t *fields = event_fields(EVENT_CLAIM, &n);
    ck_assert_uint_eq(n, 17);
    ck_assert_str_eq(fields[n - 2].name, "frequency_code");
    ck_assert_str_eq(fields[n - 1].name, "original_claim_id");

    const event_field_t *f = claim_field("frequency_code");
    ck_assert_int_eq(f->type, EVENT_FIELD_ENUM);
    ck_assert(!f->nullable);
    ck_assert(f->has_default);
    ck_assert_int_eq(f->default_symbol, FREQUENCY_ORIGINAL);
    ck_assert(event_field_optional(f));
    ck_assert_int_eq(f->n_symbols, 3);
    ck_assert_int_eq(event_field_symbol(f, "ORIGINAL", 8), FREQUENCY_ORIGINAL);
    ck_assert_int_eq(event_field_symbol(f, "REPLACEMENT", 11), FREQUENCY_REPLACEMENT);
    ck_assert_int_eq(event_field_symbol(f, "VOID", 4), FREQUENCY_VOID);
    ck_assert_int_eq(event_field_symbol(f, "void", 4), -1);
    ck_assert_int_eq(event_field_symbol(f, "8", 1), -1);
    ck_assert_int_eq(event_field_symbol(f, "", 0), -1);
    ck_assert_str_eq(frequency_code_name(FREQUENCY_ORIGINAL), "ORIGINAL");
    ck_assert_str_eq(frequency_code_name(FREQUENCY_REPLACEMENT), "REPLACEMENT");
    ck_assert_str_eq(frequency_code_name(FREQUENCY_VOID), "VOID");

    /* a writer that lacks it (JSON absent or null, claim schema v1) gives ORIGINAL */
    event_t ev;
    claim_base(&ev, "c-1", "CLM-1", 1, "MEM-1", NULL);
    ev.claim.frequency_code = FREQUENCY_VOID;
    event_field_set_null(f, &ev);
    ck_assert_int_eq(ev.claim.frequency_code, FREQUENCY_ORIGINAL);

    const event_field_t *o = claim_field("original_claim_id");
    ck_assert_int_eq(o->type, EVENT_FIELD_STRING);
    ck_assert(o->nullable);
    ck_assert(event_field_optional(o));
    ev.claim.original_claim_id = "CLM-0";
    ck_assert(!event_field_is_null(o, &ev));
    event_field_set_null(o, &ev);
    ck_assert_ptr_null(ev.claim.original_claim_id);
    ck_assert(event_field_is_null(o, &ev));

    /* an enum without a default stays missing when absent; a required field is not optional */
    ck_assert(!pa_field("urgency")->has_default);
    ck_assert(!event_field_optional(pa_field("urgency")));
    ck_assert(!event_field_optional(claim_field("claim_id")));
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("idempotency");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_replay_same_content);
    tcase_add_test(tc, test_replay_approved_claim_is_not_its_own_duplicate);
    tcase_add_test(tc, test_replay_different_content);
    tcase_add_test(tc, test_fingerprint);
    tcase_add_test(tc, test_second_event_for_approved_line);
    suite_add_tcase(s, tc);

    tc = tcase_create("history");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_supersession_pended_then_approved);
    tcase_add_test(tc, test_supersession_approved_then_denied);
    tcase_add_test(tc, test_replay_does_not_move_an_event);
    tcase_add_test(tc, test_replay_does_not_move_matched_pa);
    tcase_add_test(tc, test_members_isolated);
    tcase_add_test(tc, test_load_then_claim);
    tcase_add_test(tc, test_load_paid_line);
    tcase_add_test(tc, test_load_then_replay);
    tcase_add_test(tc, test_load_unknown_fingerprint);
    tcase_add_test(tc, test_load_copies_strings);
    tcase_add_test(tc, test_load_equals_processing);
    tcase_add_test(tc, test_reset_forgets);
    tcase_add_test(tc, test_lookup_and_size);
    tcase_add_test(tc, test_many_members);
    suite_add_tcase(s, tc);

    tc = tcase_create("ids");
    tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
    tcase_add_test(tc, test_determination_id_known_values);
    tcase_add_test(tc, test_determination_id_in_determinations);
    suite_add_tcase(s, tc);

    tc = tcase_create("events");
    tcase_add_test(tc, test_utf8_valid);
    tcase_add_test(tc, test_event_check_strings);
    tcase_add_test(tc, test_enum_symbols);
    tcase_add_test(tc, test_frequency_fields);
    tcase_add_test(tc, test_fingerprint_covers_every_field);
    tcase_add_test(tc, test_check_strings_covers_every_string);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return support_run(engine_suite());
}
