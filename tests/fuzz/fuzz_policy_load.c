/* libFuzzer target: policy_load_text on arbitrary bytes (an operator's edited policy file).
 *
 * Asserts: a rejected file carries a message naming the problem; an accepted policy is
 * well-formed (ids, 1..32 strictly ascending real effective dates, non-empty sorted unique code
 * sets and drug list, limits within the loader's documented ranges, every reason of each kind
 * present with a message, PA reasons without claim codes, claim reasons with group and CARC);
 * judging fixed events with it — a fixed history plus probe events chosen to reach every
 * branch the limits steer (approval windows, dose ranges, units, second doses, dates at both
 * ends of the calendar) — keeps the §8 invariants, and every determination encodes to Avro and
 * to JSON that jansson accepts. policy_free releases everything (LeakSanitizer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"
#include "fuzz_common.h"
#include "json_event.h"

static avro_codec_t *codec;
static buf_t enc;

/* Events judged after the history (fuzz_common.c) with every policy the loader accepts. */
static const char *const PROBE_LINES[] = {
    /* the claim on MEM-1007's approved PA */
    "{\"kind\": \"claim\", \"event_id\": \"pr-1\", \"claim_id\": \"CLM-9\", \"line_number\": 1, "
    "\"received_at\": \"2026-07-20T09:30:00Z\", \"member_id\": \"MEM-1007\", \"birth_date\": "
    "\"1961-12-31\", \"service_date\": \"2026-07-01\", \"hcpcs_code\": \" c9399 \", \"ndc\": null, "
    "\"units\": 1, \"dose_viable_cells\": 30000000000, \"diagnosis_codes\": [\"c43.9\"], "
    "\"rendering_npi\": \"1245319599\", \"authorization_id\": \" PA-1007 \", "
    "\"billed_amount_cents\": 1}",
    /* a second dose for MEM-1001, no authorization quoted, extreme numbers */
    "{\"kind\": \"claim\", \"event_id\": \"pr-2\", \"claim_id\": \"CLM-77002\", \"line_number\": "
    "-2147483648, \"received_at\": \"0001-01-01T00:00:00Z\", \"member_id\": \"MEM-1001\", "
    "\"birth_date\": \"0001-01-01\", \"service_date\": \"9999-12-31\", \"hcpcs_code\": \"J3590\", "
    "\"ndc\": \"\", \"units\": 2147483647, \"dose_viable_cells\": -9223372036854775808, "
    "\"diagnosis_codes\": [\"\", \" \", \"Z85820\", \"C79.9\"], \"rendering_npi\": \"0\", "
    "\"authorization_id\": \"\", \"billed_amount_cents\": 9223372036854775807}",
    /* a PA that meets every criterion on the last day whose longest approval window (120
     * months, the loader's maximum) still ends within 9999 */
    "{\"kind\": \"prior_auth\", \"event_id\": \"pr-3\", \"pa_id\": \"PA-9\", \"received_at\": "
    "\"9989-12-31T23:59:59.999Z\", \"urgency\": \"EXPEDITED\", \"member_id\": \"MEM-9\", "
    "\"birth_date\": \"0001-01-01\", \"diagnosis_codes\": [\"C43.9\"], \"disease_status\": "
    "\"METASTATIC\", \"braf_v600\": \"POSITIVE\", \"prior_therapies\": [{\"drug\": \" OPDIVO \"}, "
    "{\"drug\": \"Zelboraf\", \"start_date\": \"0001-01-01\", \"end_date\": null}], "
    "\"lymphodepletion\": \"RECEIVED\", \"prescriber_npi\": \"1234567893\", "
    "\"prescriber_taxonomy\": \"207rx0202x\", \"consulting_npi\": \"\", \"consulting_taxonomy\": "
    "null, \"requested_dose_cells\": 7500000000}",
    /* a PA on the first day of the calendar, dose at the top of the range */
    "{\"kind\": \"prior_auth\", \"event_id\": \"pr-4\", \"pa_id\": \"PA-1001\", \"received_at\": "
    "\"0001-01-01T00:00:00Z\", \"urgency\": \"STANDARD\", \"member_id\": \"MEM-1001\", "
    "\"birth_date\": \"0001-01-01\", \"diagnosis_codes\": [\"C43\"], \"disease_status\": "
    "\"UNRESECTABLE\", \"braf_v600\": \"UNKNOWN\", \"prior_therapies\": [{\"drug\": "
    "\"keytruda\"}], "
    "\"lymphodepletion\": \"PLANNED\", \"prescriber_npi\": \"1234567893\", "
    "\"prescriber_taxonomy\": \"207RX0202X\", \"consulting_npi\": null, \"consulting_taxonomy\": "
    "null, \"requested_dose_cells\": 72000000000}",
    /* a claim on MEM-1003's pended PA, units over one */
    "{\"kind\": \"claim\", \"event_id\": \"pr-5\", \"claim_id\": \"CLM-77003\", \"line_number\": "
    "2, "
    "\"received_at\": \"2026-07-20T09:30:00+14:00\", \"member_id\": \"MEM-1003\", \"birth_date\": "
    "\"1970-03-02\", \"service_date\": \"2026-12-31\", \"hcpcs_code\": \"C9399\", \"ndc\": null, "
    "\"units\": 3, \"dose_viable_cells\": 7500000000, \"diagnosis_codes\": [\"C43.9\"], "
    "\"rendering_npi\": \"1245319599\", \"authorization_id\": null, \"billed_amount_cents\": 0}",
};
#define N_PROBES (sizeof PROBE_LINES / sizeof *PROBE_LINES)
static event_t probes[N_PROBES];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    codec = fuzz_codec("fuzz_policy_load");
    for (size_t i = 0; i < N_PROBES; i++) {
        char *line = strdup(PROBE_LINES[i]); /* kept: the events borrow it */
        if (!line || json_event_parse(line, strlen(line), &probes[i], err, sizeof err) != 0) {
            fprintf(stderr, "fuzz_policy_load: probe %zu does not parse: %s\n", i, err);
            exit(2);
        }
    }
    const event_t *h;
    fuzz_history(&h);
    return 0;
}

static void check_set(const string_set_t *s, const char *name)
{
    FUZZ_ASSERT(s->n >= 1 && s->items, "%s is empty", name);
    for (size_t i = 0; i < s->n; i++) {
        FUZZ_ASSERT(s->items[i] && strlen(s->items[i]) <= EVENT_MAX_STRING_BYTES,
                    "%s[%zu] is NULL or too long", name, i);
        FUZZ_ASSERT(i == 0 || strcmp(s->items[i - 1], s->items[i]) < 0,
                    "%s is not sorted and unique at %zu", name, i);
        FUZZ_ASSERT(string_set_contains(s, s->items[i]), "%s does not find its own item %zu", name,
                    i);
    }
}

static void check_policy(const policy_t *p)
{
    FUZZ_ASSERT(p->policy_id && p->policy_id[0], "no policy_id");
    FUZZ_ASSERT(p->file_version && p->file_version[0], "no file_version");
    FUZZ_ASSERT(p->n_versions >= 1 && p->n_versions <= POLICY_MAX_VERSIONS, "%zu versions",
                p->n_versions);
    for (size_t i = 0; i < p->n_versions; i++) {
        FUZZ_ASSERT(date_in_range(p->versions[i]), "versions[%zu] is not a real day", i);
        FUZZ_ASSERT(i == 0 || p->versions[i - 1] < p->versions[i], "versions not ascending");
        FUZZ_ASSERT(policy_version_on(p, p->versions[i]) == p->versions[i],
                    "version %zu is not in force on its own effective date", i);
    }
    FUZZ_ASSERT(policy_version_on(p, p->versions[0] - 1) == DATE_NULL,
                "a version is in force before the first effective date");
    check_set(&p->melanoma_prefixes, "melanoma_prefixes");
    check_set(&p->melanoma_history_codes, "melanoma_history_codes");
    check_set(&p->secondary_prefixes, "secondary_prefixes");
    check_set(&p->excluded_prefixes, "excluded_prefixes");
    check_set(&p->oncologist_taxonomies, "oncologist_taxonomies");
    check_set(&p->covered_hcpcs, "covered_hcpcs");
    FUZZ_ASSERT(p->n_drugs >= 3 && p->drugs, "%zu drugs", p->n_drugs);
    for (size_t i = 0; i < p->n_drugs; i++) {
        FUZZ_ASSERT(p->drugs[i].name && strlen(p->drugs[i].name) <= EVENT_MAX_STRING_BYTES,
                    "drug %zu", i);
        FUZZ_ASSERT(i == 0 || strcmp(p->drugs[i - 1].name, p->drugs[i].name) < 0,
                    "drugs not sorted and unique at %zu", i);
        FUZZ_ASSERT(p->drugs[i].classes != 0 && p->drugs[i].classes < 8, "drug %zu classes %u", i,
                    p->drugs[i].classes);
        FUZZ_ASSERT(policy_drug_classes(p, p->drugs[i].name) == p->drugs[i].classes,
                    "drug %zu is not found by name", i);
    }
    FUZZ_ASSERT(p->adult_age_years >= 0 && p->adult_age_years <= 150, "adult_age_years %d",
                p->adult_age_years);
    FUZZ_ASSERT(p->approval_months >= 1 && p->approval_months <= 120, "approval_months %d",
                p->approval_months);
    FUZZ_ASSERT(p->max_doses >= 1 && p->max_doses <= 100, "max_doses %d", (int)p->max_doses);
    FUZZ_ASSERT(p->max_units >= 1 && p->max_units <= 1000, "max_units %d", (int)p->max_units);
    FUZZ_ASSERT(p->dose_min_cells >= 1 && p->dose_min_cells <= p->dose_max_cells,
                "dose range %lld..%lld", (long long)p->dose_min_cells,
                (long long)p->dose_max_cells);
    for (int k = 0; k < 2; k++)
        for (int c = 0; c < REASON_COUNT; c++) {
            const reason_info_t *r = &p->reasons[k][c];
            if (!r->present) continue;
            FUZZ_ASSERT(r->message && r->message[0], "reason %s without a message",
                        reason_code_name((reason_code_t)c));
            FUZZ_ASSERT(memchr(r->group, '\0', sizeof r->group) &&
                            memchr(r->carc, '\0', sizeof r->carc) &&
                            memchr(r->rarc, '\0', sizeof r->rarc),
                        "reason %s: an unterminated code", reason_code_name((reason_code_t)c));
            if (k == EVENT_PRIOR_AUTH)
                FUZZ_ASSERT(!r->group[0] && !r->carc[0] && !r->rarc[0],
                            "PA reason %s carries claim codes", reason_code_name((reason_code_t)c));
            else
                FUZZ_ASSERT(r->group[0] && r->carc[0], "claim reason %s lacks group or CARC",
                            reason_code_name((reason_code_t)c));
        }
}

static void check_outputs(const policy_t *p, const determination_t *d)
{
    char err[256];
    fuzz_check_determination(p, d);
    fuzz_check_determination_json(p, d);
    buf_clear(&enc);
    FUZZ_ASSERT(avro_codec_encode_determination(codec, d, p, NULL, &enc, err, sizeof err) == 0,
                "the determination does not encode: %s", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    policy_t *p = policy_load_text((const char *)data, size, err, sizeof err);
    if (!p) {
        FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL,
                    "a rejected policy without a message");
        return 0;
    }
    check_policy(p);
    engine_t *e = engine_new(p);
    FUZZ_ASSERT(e != NULL, "engine_new failed");
    const event_t *hist;
    size_t nh = fuzz_history(&hist);
    for (size_t i = 0; i < nh; i++) {
        const determination_t *d;
        FUZZ_ASSERT(engine_process(e, &hist[i], &d) == ENGINE_JUDGED, "history %zu not judged", i);
        check_outputs(p, d);
    }
    for (size_t i = 0; i < N_PROBES; i++) check_outputs(p, fuzz_judge(e, p, &probes[i]));
    engine_free(e);
    policy_free(p);
    return 0;
}
