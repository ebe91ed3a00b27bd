#include "fuzz_common.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_event.h"
#include "policy_file.h"

#ifndef AMTAGVI_POLICY_FILE
#error "build with -DAMTAGVI_POLICY_FILE=\"<source>/policy/IP0625.json\""
#endif

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\n==fuzz== invariant broken at %s:%d: %s\n==fuzz== ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

const policy_t *fuzz_policy(void)
{
    static policy_t *policy;
    if (policy) return policy;
    const char *path = getenv("AMTAGVI_POLICY_FILE");
    if (!path || !*path) path = AMTAGVI_POLICY_FILE;
    char err[512];
    policy = policy_load_file(path, err, sizeof err);
    if (!policy) {
        fprintf(stderr, "fuzz: cannot load the policy: %s\n", err);
        exit(2);
    }
    return policy;
}

avro_codec_t *fuzz_codec(const char *target)
{
    char err[256];
    avro_codec_ids_t ids = {1, 2, 3};
    avro_codec_t *c = avro_codec_new(&ids, err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s: avro_codec_new: %s\n", target, err);
        exit(2);
    }
    return c;
}

engine_t *fuzz_engine(const char *target)
{
    engine_t *e = engine_new(fuzz_policy());
    if (!e) {
        fprintf(stderr, "%s: engine_new failed\n", target);
        exit(2);
    }
    return e;
}

/* Golden examples ex-01, ex-02, ex-04, ex-05, ex-06 (approved PA + paid claim for MEM-1001, a
 * denied PA for MEM-1002, a pended PA + a pending claim for MEM-1003) and an approved PA for
 * MEM-1007 with no claim yet, so a fuzzed claim can match, expire, pend or be denied. */
static const char *const HISTORY_LINES[] = {
    "{\"kind\": \"prior_auth\", \"event_id\": \"ex-01\", \"pa_id\": \"PA-1001\", \"received_at\": "
    "\"2026-06-02T14:05:00Z\", \"urgency\": \"STANDARD\", \"member_id\": \"MEM-1001\", "
    "\"birth_date\": \"1970-03-02\", \"diagnosis_codes\": [\"C43.9\"], \"disease_status\": "
    "\"METASTATIC\", \"braf_v600\": \"NEGATIVE\", \"prior_therapies\": [{\"drug\": \"Opdivo\", "
    "\"start_date\": \"2025-02-01\", \"end_date\": \"2025-11-15\"}], \"lymphodepletion\": "
    "\"PLANNED\", \"prescriber_npi\": \"1234567893\", \"prescriber_taxonomy\": \"207RX0202X\", "
    "\"consulting_npi\": null, \"consulting_taxonomy\": null, \"requested_dose_cells\": null}",
    "{\"kind\": \"claim\", \"event_id\": \"ex-02\", \"claim_id\": \"CLM-77001\", \"line_number\": "
    "1, \"received_at\": \"2026-07-20T09:30:00Z\", \"member_id\": \"MEM-1001\", \"birth_date\": "
    "\"1970-03-02\", \"service_date\": \"2026-07-14\", \"hcpcs_code\": \"J3590\", \"ndc\": "
    "\"73776-0001-12\", \"units\": 1, \"dose_viable_cells\": 33400000000, \"diagnosis_codes\": "
    "[\"C43.9\"], \"rendering_npi\": \"1245319599\", \"authorization_id\": \"PA-1001\", "
    "\"billed_amount_cents\": 51500000}",
    "{\"kind\": \"prior_auth\", \"event_id\": \"ex-04\", \"pa_id\": \"PA-1002\", \"received_at\": "
    "\"2026-06-10T15:00:00Z\", \"urgency\": \"STANDARD\", \"member_id\": \"MEM-1002\", "
    "\"birth_date\": \"2009-01-15\", \"diagnosis_codes\": [\"C43.9\"], \"disease_status\": "
    "\"METASTATIC\", \"braf_v600\": \"POSITIVE\", \"prior_therapies\": [{\"drug\": "
    "\"pembrolizumab\"}, {\"drug\": \"trametinib\"}], \"lymphodepletion\": \"PLANNED\", "
    "\"prescriber_npi\": \"1234567893\", \"prescriber_taxonomy\": \"207RX0202X\", "
    "\"consulting_npi\": null, \"consulting_taxonomy\": null, \"requested_dose_cells\": null}",
    "{\"kind\": \"prior_auth\", \"event_id\": \"ex-05\", \"pa_id\": \"PA-1003\", \"received_at\": "
    "\"2026-06-10T15:00:00Z\", \"urgency\": \"STANDARD\", \"member_id\": \"MEM-1003\", "
    "\"birth_date\": \"1970-03-02\", \"diagnosis_codes\": [\"C43.9\"], \"disease_status\": "
    "\"METASTATIC\", \"braf_v600\": \"NEGATIVE\", \"prior_therapies\": [{\"drug\": \"Keytruda\", "
    "\"start_date\": \"2025-01-05\", \"end_date\": \"2025-09-30\"}], \"lymphodepletion\": "
    "\"UNKNOWN\", \"prescriber_npi\": \"1234567893\", \"prescriber_taxonomy\": \"207RX0202X\", "
    "\"consulting_npi\": null, \"consulting_taxonomy\": null, \"requested_dose_cells\": null}",
    "{\"kind\": \"claim\", \"event_id\": \"ex-06\", \"claim_id\": \"CLM-77003\", \"line_number\": "
    "1, \"received_at\": \"2026-07-20T09:30:00Z\", \"member_id\": \"MEM-1003\", \"birth_date\": "
    "\"1970-03-02\", \"service_date\": \"2026-07-01\", \"hcpcs_code\": \"J3590\", \"ndc\": "
    "\"73776-0001-12\", \"units\": 1, \"dose_viable_cells\": 21300000000, \"diagnosis_codes\": "
    "[\"C43.9\"], \"rendering_npi\": \"1245319599\", \"authorization_id\": null, "
    "\"billed_amount_cents\": 51500000}",
    "{\"kind\": \"prior_auth\", \"event_id\": \"ex-71\", \"pa_id\": \"PA-1007\", \"received_at\": "
    "\"2026-06-02T14:05:00Z\", \"urgency\": \"EXPEDITED\", \"member_id\": \"MEM-1007\", "
    "\"birth_date\": \"1961-12-31\", \"diagnosis_codes\": [\"Z85.820\", \"C78.00\"], "
    "\"disease_status\": \"UNRESECTABLE\", \"braf_v600\": \"POSITIVE\", \"prior_therapies\": "
    "[{\"drug\": \"Keytruda\", \"start_date\": \"2025-01-05\", \"end_date\": null}, {\"drug\": "
    "\"dabrafenib\", \"start_date\": null, \"end_date\": null}], \"lymphodepletion\": "
    "\"RECEIVED\", \"prescriber_npi\": \"1234567893\", \"prescriber_taxonomy\": \"208D00000X\", "
    "\"consulting_npi\": \"1245319599\", \"consulting_taxonomy\": \"207RH0003X\", "
    "\"requested_dose_cells\": 30000000000}",
};
#define N_HISTORY (sizeof HISTORY_LINES / sizeof *HISTORY_LINES)

size_t fuzz_history(const event_t **events)
{
    static event_t parsed[N_HISTORY];
    static char *lines[N_HISTORY];
    if (!lines[0]) {
        for (size_t i = 0; i < N_HISTORY; i++) {
            char err[256];
            lines[i] = strdup(HISTORY_LINES[i]); /* the parser unescapes in place */
            if (!lines[i] ||
                json_event_parse(lines[i], strlen(lines[i]), &parsed[i], err, sizeof err) != 0) {
                fprintf(stderr, "fuzz: history line %zu does not parse: %s\n", i, err);
                exit(2);
            }
        }
    }
    *events = parsed;
    return N_HISTORY;
}

/* ------------------------------------------------------------------ events (contract §2) */

static void check_required(const char *s, const char *field)
{
    FUZZ_ASSERT(s != NULL, "required field %s is NULL in an accepted event", field);
}

static void check_date(date_t d, const char *field)
{
    FUZZ_ASSERT(date_in_range(d), "field %s = %d is not a day in 0001-01-01..9999-12-31", field,
                (int)d);
}

static void check_opt_date(date_t d, const char *field)
{
    if (d != DATE_NULL) check_date(d, field);
}

void fuzz_check_event(const event_t *ev)
{
    char err[256];
    FUZZ_ASSERT(ev->kind == EVENT_PRIOR_AUTH || ev->kind == EVENT_CLAIM, "kind %d", (int)ev->kind);
    FUZZ_ASSERT(event_check_strings(ev, err, sizeof err) == 0, "accepted event breaks §2: %s", err);
    if (ev->kind == EVENT_PRIOR_AUTH) {
        const pa_event_t *p = &ev->pa;
        check_required(p->event_id, "event_id");
        check_required(p->pa_id, "pa_id");
        check_required(p->member_id, "member_id");
        check_required(p->prescriber_npi, "prescriber_npi");
        /* The decision date D is the UTC day of received_at: a real day, as any date. */
        check_date(date_of_timestamp_ms(p->received_at_ms), "received_at (UTC day)");
        check_date(p->birth_date, "birth_date");
        FUZZ_ASSERT(p->n_diagnosis_codes <= EVENT_MAX_ARRAY_ITEMS, "%u diagnosis codes",
                    p->n_diagnosis_codes);
        for (uint32_t i = 0; i < p->n_diagnosis_codes; i++)
            check_required(p->diagnosis_codes[i], "diagnosis_codes[]");
        FUZZ_ASSERT(p->n_prior_therapies <= EVENT_MAX_ARRAY_ITEMS, "%u prior therapies",
                    p->n_prior_therapies);
        for (uint32_t i = 0; i < p->n_prior_therapies; i++) {
            check_required(p->prior_therapies[i].drug, "prior_therapies[].drug");
            check_opt_date(p->prior_therapies[i].start_date, "prior_therapies[].start_date");
            check_opt_date(p->prior_therapies[i].end_date, "prior_therapies[].end_date");
        }
        FUZZ_ASSERT((unsigned)p->urgency <= URGENCY_EXPEDITED, "urgency %d", (int)p->urgency);
        FUZZ_ASSERT((unsigned)p->disease_status <= DISEASE_UNKNOWN, "disease_status %d",
                    (int)p->disease_status);
        FUZZ_ASSERT((unsigned)p->braf_v600 <= BRAF_UNKNOWN, "braf_v600 %d", (int)p->braf_v600);
        FUZZ_ASSERT((unsigned)p->lymphodepletion <= LYMPHODEPLETION_UNKNOWN, "lymphodepletion %d",
                    (int)p->lymphodepletion);
        if (!p->has_requested_dose_cells)
            FUZZ_ASSERT(p->requested_dose_cells == 0, "null requested_dose_cells carries %lld",
                        (long long)p->requested_dose_cells);
    } else {
        const claim_event_t *c = &ev->claim;
        check_required(c->event_id, "event_id");
        check_required(c->claim_id, "claim_id");
        check_required(c->member_id, "member_id");
        check_required(c->hcpcs_code, "hcpcs_code");
        check_required(c->rendering_npi, "rendering_npi");
        check_date(date_of_timestamp_ms(c->received_at_ms), "received_at (UTC day)");
        check_date(c->birth_date, "birth_date");
        check_date(c->service_date, "service_date");
        FUZZ_ASSERT(c->n_diagnosis_codes <= EVENT_MAX_ARRAY_ITEMS, "%u diagnosis codes",
                    c->n_diagnosis_codes);
        for (uint32_t i = 0; i < c->n_diagnosis_codes; i++)
            check_required(c->diagnosis_codes[i], "diagnosis_codes[]");
        if (!c->has_dose_viable_cells)
            FUZZ_ASSERT(c->dose_viable_cells == 0, "null dose_viable_cells carries %lld",
                        (long long)c->dose_viable_cells);
    }
}

/* ------------------------------------------------------------------ determinations (§6-§8) */

static bool is_uuid(const char *s)
{
    if (strlen(s) != UUID_STRING_LEN) return false;
    for (int i = 0; i < UUID_STRING_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i])) return false;
    }
    return true;
}

void fuzz_check_determination(const policy_t *p, const determination_t *d)
{
    FUZZ_ASSERT(d->kind == EVENT_PRIOR_AUTH || d->kind == EVENT_CLAIM, "kind %d", (int)d->kind);
    const bool pa = d->kind == EVENT_PRIOR_AUTH;
    const int n = criteria_count(d->kind);
    FUZZ_ASSERT(d->event_id && d->member_id, "determination without event_id or member_id");
    FUZZ_ASSERT(pa ? d->pa_id != NULL : d->claim_id != NULL, "determination without its %s",
                pa ? "pa_id" : "claim_id");
    FUZZ_ASSERT(is_uuid(d->determination_id), "determination_id \"%.40s\" is not a UUID",
                d->determination_id);
    char expect_id[UUID_STRING_LEN + 1];
    determination_id_for(d->event_id, expect_id);
    FUZZ_ASSERT(strcmp(expect_id, d->determination_id) == 0,
                "determination_id is not the UUIDv5 of the event_id");
    FUZZ_ASSERT((unsigned)d->outcome <= OUTCOME_PENDED, "outcome %d", (int)d->outcome);

    int open = 0; /* criteria NOT_MET or UNKNOWN: each has exactly one reason */
    bool any_not_met = false, any_unknown = false;
    for (int c = 0; c < n; c++) {
        FUZZ_ASSERT(d->criteria[c] <= STATUS_NOT_APPLICABLE, "criterion %s has status %u",
                    criterion_name(d->kind, c), d->criteria[c]);
        any_not_met |= d->criteria[c] == STATUS_NOT_MET;
        any_unknown |= d->criteria[c] == STATUS_UNKNOWN;
        open += d->criteria[c] == STATUS_NOT_MET || d->criteria[c] == STATUS_UNKNOWN;
    }
    outcome_t expect = any_not_met   ? OUTCOME_DENIED
                       : any_unknown ? OUTCOME_PENDED
                                     : OUTCOME_APPROVED;
    FUZZ_ASSERT(d->outcome == expect, "outcome %s but the criteria say %s",
                outcome_name(d->outcome), outcome_name(expect));
    FUZZ_ASSERT(d->n_reasons == open, "%u reasons for %d open criteria", d->n_reasons, open);
    for (int i = 0; i < d->n_reasons; i++) {
        const reason_t *r = &d->reasons[i];
        FUZZ_ASSERT(r->criterion < n, "reason %d: criterion %u", i, r->criterion);
        FUZZ_ASSERT(r->code < REASON_COUNT, "reason %d: code %u", i, r->code);
        FUZZ_ASSERT(i == 0 || d->reasons[i - 1].criterion < r->criterion,
                    "reasons are not in criterion order");
        FUZZ_ASSERT(r->status == d->criteria[r->criterion],
                    "reason %s has status %u, its criterion %u",
                    reason_code_name((reason_code_t)r->code), r->status, d->criteria[r->criterion]);
        FUZZ_ASSERT(reason_criterion(d->kind, (reason_code_t)r->code) == r->criterion,
                    "reason %s reported under criterion %s",
                    reason_code_name((reason_code_t)r->code),
                    criterion_name(d->kind, r->criterion));
        const reason_info_t *info = policy_reason(p, d->kind, (reason_code_t)r->code);
        FUZZ_ASSERT(info->present && info->message, "reason %s of a %s is not in the policy",
                    reason_code_name((reason_code_t)r->code), event_kind_name(d->kind));
    }

    /* POLICY (criterion 0 of both kinds): UNKNOWN exactly when no version is in force. */
    if (d->policy_version == DATE_NULL) {
        FUZZ_ASSERT(d->criteria[0] == STATUS_UNKNOWN, "no policy version but POLICY is %s",
                    criterion_status_name(d->criteria[0]));
        FUZZ_ASSERT(d->outcome == OUTCOME_PENDED, "no policy version but %s",
                    outcome_name(d->outcome));
    } else {
        FUZZ_ASSERT(d->criteria[0] == STATUS_MET, "policy version in force but POLICY is %s",
                    criterion_status_name(d->criteria[0]));
        FUZZ_ASSERT(policy_version_on(p, d->decision_date) == d->policy_version,
                    "policy_version is not the version in force on the decision date");
    }

    FUZZ_ASSERT(d->has_authorization == (pa && d->outcome == OUTCOME_APPROVED),
                "authorization present=%d for a %s %s", d->has_authorization,
                outcome_name(d->outcome), event_kind_name(d->kind));
    if (d->has_authorization) {
        FUZZ_ASSERT(d->valid_from == d->decision_date, "authorization starts off D");
        FUZZ_ASSERT(d->valid_from < d->valid_until, "empty authorization window %d..%d",
                    (int)d->valid_from, (int)d->valid_until);
        FUZZ_ASSERT(d->max_doses == p->max_doses && d->dose_min_cells == p->dose_min_cells &&
                        d->dose_max_cells == p->dose_max_cells,
                    "authorization limits are not the policy's");
    }
    if (!pa)
        FUZZ_ASSERT((d->criteria[CLAIM_AUTHORIZATION] == STATUS_MET) == (d->matched_pa_id != NULL),
                    "AUTHORIZATION %s but matched_pa_id %s",
                    criterion_status_name(d->criteria[CLAIM_AUTHORIZATION]),
                    d->matched_pa_id ? "set" : "null");
    else
        FUZZ_ASSERT(d->matched_pa_id == NULL, "a PA determination with a matched_pa_id");
}

static void check_json_date(json_t *v, date_t want, const char *key)
{
    if (want == DATE_NULL) {
        FUZZ_ASSERT(json_is_null(v), "%s should be null", key);
        return;
    }
    date_t got;
    const char *s = json_string_value(v);
    FUZZ_ASSERT(s != NULL, "%s is not a string", key);
    if (want > DATE_MAX) {
        /* Only an authorization decided in late 9999 ends here: a five-digit year, in full. */
        int y, m, d;
        date_to_ymd(want, &y, &m, &d);
        char expect[16];
        snprintf(expect, sizeof expect, "%05d-%02d-%02d", y, m, d);
        FUZZ_ASSERT(strcmp(s, expect) == 0, "%s is written as \"%s\", expected \"%s\"", key, s,
                    expect);
        return;
    }
    FUZZ_ASSERT(date_parse(s, strlen(s), &got) == 0 && got == want,
                "%s is written as \"%s\", not a real day equal to day number %d", key, s,
                (int)want);
}

void fuzz_check_determination_json(const policy_t *p, const determination_t *d)
{
    buf_t b = {0};
    FUZZ_ASSERT(json_append_determination(&b, d, p) == 0, "json_append_determination failed");
    json_error_t jerr;
    json_t *root = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &jerr);
    FUZZ_ASSERT(root != NULL, "determination JSON does not parse (column %d: %s): %.300s",
                jerr.column, jerr.text, b.data);
    FUZZ_ASSERT(json_is_object(root), "determination JSON is not an object");
    const char *eid = json_string_value(json_object_get(root, "event_id"));
    const char *mid = json_string_value(json_object_get(root, "member_id"));
    const char *kind = json_string_value(json_object_get(root, "kind"));
    const char *outcome = json_string_value(json_object_get(root, "outcome"));
    FUZZ_ASSERT(eid && strcmp(eid, d->event_id) == 0, "event_id does not survive JSON");
    FUZZ_ASSERT(mid && strcmp(mid, d->member_id) == 0, "member_id does not survive JSON");
    FUZZ_ASSERT(kind && strcmp(kind, event_kind_name(d->kind)) == 0, "kind does not survive JSON");
    FUZZ_ASSERT(outcome && strcmp(outcome, outcome_name(d->outcome)) == 0,
                "outcome does not survive JSON");
    FUZZ_ASSERT(json_object_size(json_object_get(root, "criteria")) ==
                    (size_t)criteria_count(d->kind),
                "criteria object has the wrong size");
    FUZZ_ASSERT(json_array_size(json_object_get(root, "reasons")) == d->n_reasons,
                "reasons array has the wrong size");
    const char *idkey = d->kind == EVENT_PRIOR_AUTH ? "pa_id" : "claim_id";
    const char *id = json_string_value(json_object_get(root, idkey));
    const char *want = d->kind == EVENT_PRIOR_AUTH ? d->pa_id : d->claim_id;
    FUZZ_ASSERT(id && strcmp(id, want) == 0, "%s does not survive JSON", idkey);
    /* Every date written is the real day the determination holds (YYYY-MM-DD of 0001..9999). */
    check_json_date(json_object_get(root, "policy_version"), d->policy_version, "policy_version");
    json_t *auth = json_object_get(root, "authorization");
    FUZZ_ASSERT(d->has_authorization ? json_is_object(auth) : json_is_null(auth),
                "authorization is %s", d->has_authorization ? "missing" : "not null");
    if (d->has_authorization) {
        check_json_date(json_object_get(auth, "valid_from"), d->valid_from, "valid_from");
        check_json_date(json_object_get(auth, "valid_until"), d->valid_until, "valid_until");
    }
    json_decref(root);
    buf_free(&b);
}

/* ------------------------------------------------------------------ judging */

static bool same_judgement(const determination_t *a, const determination_t *b)
{
    int n = criteria_count(a->kind);
    if (a->kind != b->kind || a->outcome != b->outcome || a->n_reasons != b->n_reasons ||
        a->policy_version != b->policy_version || a->has_authorization != b->has_authorization ||
        a->valid_from != b->valid_from || a->valid_until != b->valid_until ||
        (a->matched_pa_id == NULL) != (b->matched_pa_id == NULL))
        return false;
    if (memcmp(a->criteria, b->criteria, (size_t)n) != 0) return false;
    for (int i = 0; i < a->n_reasons; i++)
        if (a->reasons[i].criterion != b->reasons[i].criterion ||
            a->reasons[i].code != b->reasons[i].code ||
            a->reasons[i].status != b->reasons[i].status)
            return false;
    return !a->matched_pa_id || strcmp(a->matched_pa_id, b->matched_pa_id) == 0;
}

static const event_t *load_history(engine_t *e, const policy_t *p, const char *event_id)
{
    const event_t *hist, *same_id = NULL;
    size_t nh = fuzz_history(&hist);
    engine_reset(e);
    for (size_t i = 0; i < nh; i++) {
        const determination_t *hd;
        FUZZ_ASSERT(engine_process(e, &hist[i], &hd) == ENGINE_JUDGED,
                    "history event %zu not judged", i);
        fuzz_check_determination(p, hd);
        if (strcmp(event_id_of(&hist[i]), event_id) == 0) same_id = &hist[i];
    }
    return same_id;
}

const determination_t *fuzz_judge(engine_t *e, const policy_t *p, const event_t *ev)
{
    const char *event_id = event_id_of(ev);
    const event_t *earlier = load_history(e, p, event_id);
    const determination_t *d, *again;
    int rc = engine_process(e, ev, &d);
    FUZZ_ASSERT(rc >= 0, "engine_process ran out of memory");
    FUZZ_ASSERT(d != NULL, "engine_process gave no determination");
    fuzz_check_determination(p, d);
    FUZZ_ASSERT(strcmp(d->event_id, event_id) == 0, "determination of another event_id");
    FUZZ_ASSERT(engine_lookup(e, event_id) == d, "engine_lookup does not find the determination");
    if (earlier) {
        /* The event_id of a history event: a replay, reported different when the content is. */
        bool same = event_fingerprint(earlier) == event_fingerprint(ev);
        FUZZ_ASSERT(rc == (same ? ENGINE_REPLAYED : ENGINE_REPLAYED_DIFFERENT),
                    "replay of a history event_id: result %d, content %s", rc,
                    same ? "same" : "different");
    } else {
        FUZZ_ASSERT(rc == ENGINE_JUDGED, "a new event_id was not judged (result %d)", rc);
        FUZZ_ASSERT(d->kind == ev->kind, "determination of another kind");
        FUZZ_ASSERT(strcmp(d->member_id, event_member_of(ev)) == 0,
                    "determination of another member");
        if (ev->kind == EVENT_PRIOR_AUTH) {
            FUZZ_ASSERT(strcmp(d->pa_id, ev->pa.pa_id) == 0, "determination of another pa_id");
            FUZZ_ASSERT(d->decision_date == date_of_timestamp_ms(ev->pa.received_at_ms),
                        "decision date is not the UTC day of received_at");
        } else {
            FUZZ_ASSERT(strcmp(d->claim_id, ev->claim.claim_id) == 0 &&
                            d->line_number == ev->claim.line_number,
                        "determination of another claim line");
            FUZZ_ASSERT(d->decision_date == ev->claim.service_date,
                        "a claim's decision date is not its service date");
        }
    }
    /* The same event again is a plain replay of the same determination (contract §1). */
    int rc2 = engine_process(e, ev, &again);
    FUZZ_ASSERT(rc2 == (rc == ENGINE_JUDGED ? ENGINE_REPLAYED : rc), "second delivery: %d after %d",
                rc2, rc);
    FUZZ_ASSERT(again == d, "second delivery returned another determination");

    /* Judging is a function of event, history and policy: a fresh run agrees. */
    if (!earlier) {
        determination_t first = *d;
        char matched[EVENT_MAX_STRING_BYTES + 1] = "";
        if (d->matched_pa_id) snprintf(matched, sizeof matched, "%s", d->matched_pa_id);
        first.matched_pa_id = d->matched_pa_id ? matched : NULL; /* the reset reuses the arena */
        load_history(e, p, event_id);
        FUZZ_ASSERT(engine_process(e, ev, &again) == ENGINE_JUDGED, "re-run not judged");
        FUZZ_ASSERT(same_judgement(&first, again), "judging the same event twice disagrees");
        d = again;
    }
    return d;
}

/* avro-c's generic records lay their fields out without alignment padding, so a live codec
 * holds heap pointers at unaligned addresses; without use_unaligned LeakSanitizer reports every
 * buffer the codec keeps for reuse as leaked. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "use_unaligned=1";
}
