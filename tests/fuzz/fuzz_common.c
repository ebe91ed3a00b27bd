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

/* Claim "version 3" as another producer might write it: fields reordered, a writer-only field,
 * the frequency enum reordered with a symbol the reader lacks (read as its default, ORIGINAL),
 * dose_viable_cells and billed_amount_cents as int (promoted), ndc as ["string", "null"], the
 * member and the hcpcs code as bytes. */
const char FUZZ_CLAIM_V3_JSON[] =
    "{\"type\": \"record\", \"name\": \"ClaimLine\", \"namespace\": \"com.amtagvi.ip0625\", "
    "\"fields\": ["
    "{\"name\": \"claim_id\", \"type\": \"string\"},"
    "{\"name\": \"event_id\", \"type\": \"string\"},"
    "{\"name\": \"channel\", \"type\": [\"null\", \"string\", \"long\"]},"
    "{\"name\": \"line_number\", \"type\": \"int\"},"
    "{\"name\": \"received_at\", \"type\": \"long\"},"
    "{\"name\": \"member_id\", \"type\": \"bytes\"},"
    "{\"name\": \"birth_date\", \"type\": \"int\"},"
    "{\"name\": \"service_date\", \"type\": \"int\"},"
    "{\"name\": \"hcpcs_code\", \"type\": \"bytes\"},"
    "{\"name\": \"ndc\", \"type\": [\"string\", \"null\"]},"
    "{\"name\": \"units\", \"type\": \"int\"},"
    "{\"name\": \"dose_viable_cells\", \"type\": [\"null\", \"int\"]},"
    "{\"name\": \"diagnosis_codes\", \"type\": {\"type\": \"array\", \"items\": \"string\"}},"
    "{\"name\": \"rendering_npi\", \"type\": \"string\"},"
    "{\"name\": \"authorization_id\", \"type\": [\"null\", \"string\"]},"
    "{\"name\": \"billed_amount_cents\", \"type\": \"int\"},"
    "{\"name\": \"frequency_code\", \"type\": {\"type\": \"enum\", \"name\": "
    "\"FrequencyCode\", \"symbols\": [\"VOID\", \"CORRECTED\", \"ORIGINAL\", \"REPLACEMENT\"]}},"
    "{\"name\": \"original_claim_id\", \"type\": [\"null\", \"string\"]}]}";

avro_codec_t *fuzz_codec(const char *target)
{
    char err[256];
    /* The worker's defaults: claims of schema version 2 under id 4 and of version 1 under id 2,
     * so the older seeds (claims framed under id 2) still decode. */
    avro_codec_ids_t ids = AVRO_CODEC_DEFAULT_IDS;
    avro_codec_t *c = avro_codec_new(&ids, err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s: avro_codec_new: %s\n", target, err);
        exit(2);
    }
    /* And a writer schema of another shape, resolved to the claim reader. */
    if (avro_codec_add_writer(c, FUZZ_CLAIM_V3_ID, FUZZ_CLAIM_V3_JSON, err, sizeof err) !=
        AVRO_WRITER_OK) {
        fprintf(stderr, "%s: the claim v3 writer: %s\n", target, err);
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
    /* Contract §10: MEM-1002's claim line CLM-77021/1 (AUTH_DENIED) voided under its own claim
     * number with a padded reference, so fuzzed events meet a reversed line and a line only a
     * void carries, beside MEM-1001's live paid line and MEM-1003's live pended one. */
    "{\"kind\": \"claim\", \"event_id\": \"fz-21\", \"claim_id\": \"CLM-77021\", "
    "\"line_number\": 1, \"received_at\": \"2026-07-20T09:30:00Z\", \"member_id\": \"MEM-1002\", "
    "\"birth_date\": \"2009-01-15\", \"service_date\": \"2026-07-14\", \"hcpcs_code\": \"J3590\", "
    "\"ndc\": null, \"units\": 1, \"dose_viable_cells\": 33400000000, \"diagnosis_codes\": "
    "[\"C43.9\"], \"rendering_npi\": \"1245319599\", \"authorization_id\": \"PA-1002\", "
    "\"billed_amount_cents\": 51500000, \"frequency_code\": \"ORIGINAL\"}",
    "{\"kind\": \"claim\", \"event_id\": \"fz-22\", \"claim_id\": \"CLM-77021-V\", "
    "\"line_number\": 1, \"received_at\": \"2026-07-21T09:30:00Z\", \"member_id\": \"MEM-1002\", "
    "\"birth_date\": \"2009-01-15\", \"service_date\": \"2026-07-14\", \"hcpcs_code\": \"J3590\", "
    "\"ndc\": null, \"units\": 1, \"dose_viable_cells\": 33400000000, \"diagnosis_codes\": "
    "[\"C43.9\"], \"rendering_npi\": \"1245319599\", \"authorization_id\": null, "
    "\"billed_amount_cents\": 51500000, \"frequency_code\": \"VOID\", \"original_claim_id\": "
    "\" CLM-77021\\t\"}",
};
#define N_HISTORY (sizeof HISTORY_LINES / sizeof *HISTORY_LINES)
#define MAX_HISTORY 16
_Static_assert(N_HISTORY <= MAX_HISTORY, "the reversal check holds MAX_HISTORY flags");

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
        FUZZ_ASSERT((unsigned)c->frequency_code <= FREQUENCY_VOID, "frequency_code %d",
                    (int)c->frequency_code);
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

/* True when s, with leading and trailing ASCII space, tab, CR and LF removed, is empty
 * (contract §10: such a reference names no line). */
static bool blank_reference(const char *s)
{
    if (!s) return true;
    for (; *s; s++)
        if (!strchr(" \t\r\n", *s)) return false;
    return true;
}

/* Contract §7 ORIGINAL check and §10, for one claim determination on its own. */
static void check_claim_lifecycle(const determination_t *d)
{
    const int original = d->criteria[CLAIM_ORIGINAL];
    FUZZ_ASSERT((unsigned)d->frequency_code <= FREQUENCY_VOID, "frequency_code %d",
                (int)d->frequency_code);
    const char *freq = frequency_code_name(d->frequency_code);
    if (d->frequency_code == FREQUENCY_ORIGINAL) {
        FUZZ_ASSERT(original == STATUS_NOT_APPLICABLE, "an ORIGINAL with ORIGINAL %s",
                    criterion_status_name(original));
        FUZZ_ASSERT(d->original_claim_id == NULL, "an ORIGINAL keeps an original_claim_id");
    } else {
        FUZZ_ASSERT(original == STATUS_MET || original == STATUS_NOT_MET, "a %s with ORIGINAL %s",
                    freq, criterion_status_name(original));
    }
    /* reversed_event_id is set exactly when ORIGINAL is MET */
    FUZZ_ASSERT((original == STATUS_MET) == (d->reversed_event_id != NULL),
                "ORIGINAL %s but reversed_event_id %s", criterion_status_name(original),
                d->reversed_event_id ? "set" : "null");
    if (original == STATUS_MET)
        FUZZ_ASSERT(!blank_reference(d->original_claim_id),
                    "a %s with a blank reference found its line", freq);
    if (original == STATUS_NOT_MET) {
        /* ORIGINAL_NOT_FOUND: DENIED, one reason, every later check not applicable */
        FUZZ_ASSERT(d->outcome == OUTCOME_DENIED, "ORIGINAL NOT_MET but %s",
                    outcome_name(d->outcome));
        FUZZ_ASSERT(d->n_reasons == 1 && d->reasons[0].code == REASON_ORIGINAL_NOT_FOUND,
                    "ORIGINAL NOT_MET with %u reasons, the first %s", d->n_reasons,
                    d->n_reasons ? reason_code_name((reason_code_t)d->reasons[0].code) : "-");
    }
    const bool accepted_void = d->frequency_code == FREQUENCY_VOID && original == STATUS_MET;
    if (original == STATUS_NOT_MET || accepted_void)
        for (int c = CLAIM_POLICY; c < CLAIM_CRITERIA_COUNT; c++)
            FUZZ_ASSERT(d->criteria[c] == STATUS_NOT_APPLICABLE,
                        "a %s stopped by ORIGINAL with %s %s", freq, criterion_name(EVENT_CLAIM, c),
                        criterion_status_name(d->criteria[c]));
    if (accepted_void) {
        /* an accepted VOID: APPROVED, no reasons, pays nothing */
        FUZZ_ASSERT(d->outcome == OUTCOME_APPROVED && d->n_reasons == 0,
                    "an accepted VOID is %s with %u reasons", outcome_name(d->outcome),
                    d->n_reasons);
        FUZZ_ASSERT(d->matched_pa_id == NULL, "an accepted VOID with a matched_pa_id");
    }
    if (d->frequency_code == FREQUENCY_REPLACEMENT && original == STATUS_MET)
        FUZZ_ASSERT(d->criteria[CLAIM_POLICY] != STATUS_NOT_APPLICABLE,
                    "an accepted REPLACEMENT was not judged as a line");
    FUZZ_ASSERT(determination_bills(d) ==
                    (d->frequency_code == FREQUENCY_ORIGINAL ||
                     (d->frequency_code == FREQUENCY_REPLACEMENT && original == STATUS_MET)),
                "a %s with ORIGINAL %s: determination_bills is %d", freq,
                criterion_status_name(original), determination_bills(d));
    FUZZ_ASSERT(determination_reverses(d) == (original == STATUS_MET),
                "a %s with ORIGINAL %s: determination_reverses is %d", freq,
                criterion_status_name(original), determination_reverses(d));
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

    /* policy_version is the version in force on the decision date (a claim's service date),
     * whether or not POLICY was checked: an accepted VOID and a line not found report it too. */
    FUZZ_ASSERT(policy_version_on(p, d->decision_date) == d->policy_version,
                "policy_version is not the version in force on the decision date");
    /* POLICY, when checked: UNKNOWN exactly when no version is in force, and then PENDED. */
    const int policy = pa ? PA_POLICY : CLAIM_POLICY;
    if (pa || d->criteria[policy] != STATUS_NOT_APPLICABLE) {
        if (d->policy_version == DATE_NULL) {
            FUZZ_ASSERT(d->criteria[policy] == STATUS_UNKNOWN, "no policy version but POLICY is %s",
                        criterion_status_name(d->criteria[policy]));
            FUZZ_ASSERT(d->outcome == OUTCOME_PENDED, "no policy version but %s",
                        outcome_name(d->outcome));
        } else {
            FUZZ_ASSERT(d->criteria[policy] == STATUS_MET,
                        "policy version in force but POLICY is %s",
                        criterion_status_name(d->criteria[policy]));
        }
    }
    if (pa) {
        FUZZ_ASSERT(d->original_claim_id == NULL && d->reversed_event_id == NULL,
                    "a PA determination with a claim reference or a reversal");
        FUZZ_ASSERT(!determination_bills(d) && !determination_reverses(d),
                    "a PA determination bills or reverses a claim line");
    } else {
        check_claim_lifecycle(d);
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
    /* Contract §8 version 2: frequency_code (claims) and reversed_event_id, null otherwise. */
    json_t *freq = json_object_get(root, "frequency_code");
    json_t *rev = json_object_get(root, "reversed_event_id");
    FUZZ_ASSERT(freq != NULL && rev != NULL, "frequency_code or reversed_event_id is missing");
    if (d->kind == EVENT_CLAIM)
        FUZZ_ASSERT(json_is_string(freq) && strcmp(json_string_value(freq),
                                                   frequency_code_name(d->frequency_code)) == 0,
                    "frequency_code does not survive JSON");
    else
        FUZZ_ASSERT(json_is_null(freq), "a PA determination with a frequency_code");
    if (d->reversed_event_id)
        FUZZ_ASSERT(json_is_string(rev) &&
                        strcmp(json_string_value(rev), d->reversed_event_id) == 0,
                    "reversed_event_id does not survive JSON");
    else
        FUZZ_ASSERT(json_is_null(rev), "reversed_event_id should be null");
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
        a->frequency_code != b->frequency_code ||
        (a->matched_pa_id == NULL) != (b->matched_pa_id == NULL) ||
        (a->reversed_event_id == NULL) != (b->reversed_event_id == NULL))
        return false;
    if (a->reversed_event_id && strcmp(a->reversed_event_id, b->reversed_event_id) != 0)
        return false;
    if (memcmp(a->criteria, b->criteria, (size_t)n) != 0) return false;
    for (int i = 0; i < a->n_reasons; i++)
        if (a->reasons[i].criterion != b->reasons[i].criterion ||
            a->reasons[i].code != b->reasons[i].code ||
            a->reasons[i].status != b->reasons[i].status)
            return false;
    return !a->matched_pa_id || strcmp(a->matched_pa_id, b->matched_pa_id) == 0;
}

/* engine_is_reversed of every history event, in history order. */
static void history_reversed(const engine_t *e, bool *out)
{
    const event_t *hist;
    size_t nh = fuzz_history(&hist);
    for (size_t i = 0; i < nh; i++) out[i] = engine_is_reversed(e, event_id_of(&hist[i]));
}

/* Leading and trailing ASCII space, tab, CR and LF removed (contract §10); sets *n. */
static const char *trimmed_reference(const char *s, size_t *n)
{
    while (*s && strchr(" \t\r\n", *s)) s++;
    size_t len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1])) len--;
    *n = len;
    return s;
}

/* Contract §10: judging d changed the history's reversals (before -> after) only as its
 * acceptance allows: nothing comes back to life, and only an accepted VOID or REPLACEMENT
 * reverses, and then only determinations of the line it names, the reported one among them. */
static void check_reversals(const engine_t *e, const determination_t *d, const bool *before,
                            const bool *after)
{
    const event_t *hist;
    size_t nh = fuzz_history(&hist);
    bool reported = false;
    for (size_t i = 0; i < nh; i++) {
        const char *id = event_id_of(&hist[i]);
        FUZZ_ASSERT(!before[i] || after[i], "history event %s came back to life", id);
        if (before[i] || !after[i]) continue;
        FUZZ_ASSERT(determination_reverses(d), "a %s that reverses nothing reversed %s",
                    d->kind == EVENT_CLAIM ? frequency_code_name(d->frequency_code) : "PA", id);
        const determination_t *h = engine_lookup(e, id);
        size_t n;
        const char *ref = trimmed_reference(d->original_claim_id, &n);
        FUZZ_ASSERT(h && h->kind == EVENT_CLAIM && strcmp(h->member_id, d->member_id) == 0 &&
                        h->line_number == d->line_number && strlen(h->claim_id) == n &&
                        memcmp(h->claim_id, ref, n) == 0,
                    "%s reversed %s, not of the line it names", d->event_id, id);
        reported |= strcmp(id, d->reversed_event_id) == 0;
    }
    /* the reported determination is one of those just reversed: only history precedes d */
    if (determination_reverses(d)) {
        FUZZ_ASSERT(reported, "reversed_event_id is not one of the determinations reversed");
        FUZZ_ASSERT(engine_is_reversed(e, d->reversed_event_id),
                    "reversed_event_id names a determination that is not reversed");
        const determination_t *r = engine_lookup(e, d->reversed_event_id);
        FUZZ_ASSERT(r && determination_bills(r) && r->line_number == d->line_number &&
                        strcmp(r->member_id, d->member_id) == 0,
                    "reversed_event_id names no billed determination of the line");
    }
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
    bool before[MAX_HISTORY] = {false}, after[MAX_HISTORY] = {false};
    history_reversed(e, before);
    int rc = engine_process(e, ev, &d);
    FUZZ_ASSERT(rc >= 0, "engine_process ran out of memory");
    FUZZ_ASSERT(d != NULL, "engine_process gave no determination");
    fuzz_check_determination(p, d);
    FUZZ_ASSERT(strcmp(d->event_id, event_id) == 0, "determination of another event_id");
    FUZZ_ASSERT(engine_lookup(e, event_id) == d, "engine_lookup does not find the determination");
    history_reversed(e, after);
    if (rc == ENGINE_JUDGED) {
        check_reversals(e, d, before, after);
    } else {
        /* a replay changes no history (contract §10) */
        FUZZ_ASSERT(memcmp(before, after, sizeof before) == 0, "a replay changed reversals");
    }
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
    history_reversed(e, before);
    FUZZ_ASSERT(memcmp(before, after, sizeof before) == 0, "the second delivery changed reversals");

    /* Judging is a function of event, history and policy: a fresh run agrees. */
    if (!earlier) {
        determination_t first = *d;
        char matched[EVENT_MAX_STRING_BYTES + 1] = "", reversed[EVENT_MAX_STRING_BYTES + 1] = "";
        if (d->matched_pa_id) snprintf(matched, sizeof matched, "%s", d->matched_pa_id);
        if (d->reversed_event_id) snprintf(reversed, sizeof reversed, "%s", d->reversed_event_id);
        /* the reset reuses the arena */
        first.matched_pa_id = d->matched_pa_id ? matched : NULL;
        first.reversed_event_id = d->reversed_event_id ? reversed : NULL;
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
