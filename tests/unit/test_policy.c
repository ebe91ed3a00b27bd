/* Policy data (contract §4, §5, §7 table, §1 "policy is data") and normalisation (§3). */
#include "test_support.h"
#include "policy_file.h"

/* ---- loading ---- */

START_TEST(test_loads)
{
    const policy_t *p = support_policy();
    ck_assert_str_eq(p->policy_id, "IP0625");
    ck_assert_ptr_nonnull(p->file_version);
    ck_assert(p->file_version[0] != '\0');
    ck_assert_uint_eq(p->n_versions, 3);
    assert_date(p->versions[0], ymd(2024, 6, 15), "version 1");
    assert_date(p->versions[1], ymd(2025, 5, 1), "version 2");
    assert_date(p->versions[2], ymd(2026, 5, 1), "version 3");
    ck_assert_int_eq(p->adult_age_years, 18);
    ck_assert_int_eq(p->approval_months, 6);
    ck_assert_int_eq(p->max_doses, 1);
    ck_assert_int_eq(p->max_units, 1);
    ck_assert(p->dose_min_cells == DOSE_MIN);
    ck_assert(p->dose_max_cells == DOSE_MAX);
}
END_TEST

START_TEST(test_version_on)
{
    const policy_t *p = support_policy();
    assert_date(policy_version_on(p, ymd(2024, 6, 14)), DATE_NULL, "2024-06-14");
    assert_date(policy_version_on(p, ymd(1970, 1, 1)), DATE_NULL, "1970-01-01");
    assert_date(policy_version_on(p, DATE_MIN), DATE_NULL, "0001-01-01");
    assert_date(policy_version_on(p, ymd(2024, 6, 15)), ymd(2024, 6, 15), "2024-06-15");
    assert_date(policy_version_on(p, ymd(2025, 4, 30)), ymd(2024, 6, 15), "2025-04-30");
    assert_date(policy_version_on(p, ymd(2025, 5, 1)), ymd(2025, 5, 1), "2025-05-01");
    assert_date(policy_version_on(p, ymd(2026, 4, 30)), ymd(2025, 5, 1), "2026-04-30");
    assert_date(policy_version_on(p, ymd(2026, 5, 1)), ymd(2026, 5, 1), "2026-05-01");
    assert_date(policy_version_on(p, ymd(2030, 1, 1)), ymd(2026, 5, 1), "2030-01-01");
    assert_date(policy_version_on(p, DATE_MAX), ymd(2026, 5, 1), "9999-12-31");
}
END_TEST

/* ---- §5 code sets ---- */

START_TEST(test_drug_classes)
{
    const policy_t *p = support_policy();
    static const char *pd1[] = {"pembrolizumab",
                                "keytruda",
                                "keytruda qlex",
                                "nivolumab",
                                "opdivo",
                                "opdivo qvantig",
                                "nivolumab and relatlimab",
                                "nivolumab and relatlimab-rmbw",
                                "opdualag",
                                "cemiplimab",
                                "cemiplimab-rwlc",
                                "libtayo",
                                "dostarlimab",
                                "dostarlimab-gxly",
                                "jemperli",
                                "retifanlimab",
                                "retifanlimab-dlwr",
                                "zynyz",
                                "toripalimab",
                                "toripalimab-tpzi",
                                "loqtorzi",
                                "tislelizumab",
                                "tislelizumab-jsgr",
                                "tevimbra",
                                "penpulimab",
                                "penpulimab-kcqx",
                                "atezolizumab",
                                "tecentriq",
                                "tecentriq hybreza",
                                "durvalumab",
                                "imfinzi",
                                "avelumab",
                                "bavencio",
                                "cosibelimab",
                                "cosibelimab-ipdl",
                                "unloxcyt"};
    for (size_t i = 0; i < sizeof pd1 / sizeof pd1[0]; i++)
        ck_assert_msg(policy_drug_classes(p, pd1[i]) == DRUG_PD1_PDL1, "%s should be PD-1/PD-L1",
                      pd1[i]);
    static const char *braf[] = {"vemurafenib", "zelboraf",    "dabrafenib",
                                 "tafinlar",    "encorafenib", "braftovi"};
    for (size_t i = 0; i < sizeof braf / sizeof braf[0]; i++)
        ck_assert_msg(policy_drug_classes(p, braf[i]) == DRUG_BRAF_INHIBITOR,
                      "%s should be a BRAF inhibitor", braf[i]);
    ck_assert_uint_eq(policy_drug_classes(p, "lifileucel"), DRUG_AMTAGVI);
    ck_assert_uint_eq(policy_drug_classes(p, "amtagvi"), DRUG_AMTAGVI);
    static const char *none[] = {"ipilimumab",     "yervoy",        "trametinib",  "mekinist",
                                 "cobimetinib",    "cotellic",      "binimetinib", "mektovi",
                                 "Opdivo",         "opdivo ",       "pembro",      "",
                                 "keytruda  qlex", "nivolumab and", "zzz"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        ck_assert_msg(policy_drug_classes(p, none[i]) == 0, "\"%s\" should have no class", none[i]);
}
END_TEST

START_TEST(test_code_sets)
{
    const policy_t *p = support_policy();
    ck_assert(string_set_contains(&p->covered_hcpcs, "C9399"));
    ck_assert(string_set_contains(&p->covered_hcpcs, "J3590"));
    ck_assert(!string_set_contains(&p->covered_hcpcs, "J359"));
    ck_assert(!string_set_contains(&p->covered_hcpcs, "J35900"));
    ck_assert(!string_set_contains(&p->covered_hcpcs, "j3590"));
    ck_assert_uint_eq(p->covered_hcpcs.n, 2);
    static const char *onc[] = {"207RX0202X", "207RH0003X", "2086X0206X",
                                "2080P0207X", "207VX0201X", "2085R0001X"};
    for (size_t i = 0; i < 6; i++)
        ck_assert(string_set_contains(&p->oncologist_taxonomies, onc[i]));
    ck_assert_uint_eq(p->oncologist_taxonomies.n, 6);
    ck_assert(!string_set_contains(&p->oncologist_taxonomies, "207R00000X"));
    ck_assert(string_set_has_prefix_of(&p->melanoma_prefixes, "C439"));
    ck_assert(string_set_has_prefix_of(&p->melanoma_prefixes, "C43"));
    ck_assert(!string_set_has_prefix_of(&p->melanoma_prefixes, "C4"));
    ck_assert(!string_set_has_prefix_of(&p->melanoma_prefixes, "D039"));
    ck_assert(string_set_contains(&p->melanoma_history_codes, "Z85820"));
    ck_assert(string_set_has_prefix_of(&p->secondary_prefixes, "C7800"));
    ck_assert(string_set_has_prefix_of(&p->secondary_prefixes, "C773"));
    ck_assert(string_set_has_prefix_of(&p->secondary_prefixes, "C7989"));
    ck_assert(!string_set_has_prefix_of(&p->secondary_prefixes, "C76"));
    ck_assert(string_set_has_prefix_of(&p->excluded_prefixes, "D039"));
    ck_assert(string_set_has_prefix_of(&p->excluded_prefixes, "C6940"));
}
END_TEST

/* ---- §6 / §7 reason table ---- */

/* The contract's reason tables, the one place the tests state them: §6 lists the reasons a PA
 * gives (no group, CARC or RARC), §7 those of a claim with their codes; each under its
 * criterion, in the contract's order. */
static const struct {
    event_kind_t kind;
    reason_code_t code;
    int criterion;
    const char *group, *carc, *rarc;
} CONTRACT_REASONS[] = {
    {EVENT_PRIOR_AUTH, REASON_NO_POLICY_IN_EFFECT, PA_POLICY, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_DX_NOT_COVERED, PA_INDICATION, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_DX_MISSING, PA_INDICATION, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_AGE_UNDER_18, PA_1A, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_BIRTH_DATE_INVALID, PA_1A, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_DISEASE_RESECTABLE, PA_1B, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_DISEASE_STATUS_UNKNOWN, PA_1B, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_NO_PRIOR_PD1_PDL1, PA_1C, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_NO_PRIOR_BRAF_INHIBITOR, PA_1D, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_BRAF_STATUS_UNKNOWN, PA_1D, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_LYMPHODEPLETION_NOT_PLANNED, PA_1E, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_LYMPHODEPLETION_UNKNOWN, PA_1E, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_PRIOR_AMTAGVI, PA_1F, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_PRESCRIBER_NOT_ONCOLOGIST, PA_1G, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_PRESCRIBER_NPI_INVALID, PA_1G, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_PRESCRIBER_TAXONOMY_MISSING, PA_1G, "", "", ""},
    {EVENT_PRIOR_AUTH, REASON_DOSE_OUT_OF_RANGE, PA_DOSE, "", "", ""},
    {EVENT_CLAIM, REASON_ORIGINAL_NOT_FOUND, CLAIM_ORIGINAL, "CO", "16", "M47"},
    {EVENT_CLAIM, REASON_NO_POLICY_IN_EFFECT, CLAIM_POLICY, "OA", "133", ""},
    {EVENT_CLAIM, REASON_DUPLICATE_CLAIM_LINE, CLAIM_DUPLICATE, "OA", "18", ""},
    {EVENT_CLAIM, REASON_HCPCS_NOT_COVERED, CLAIM_HCPCS, "CO", "96", "N130"},
    {EVENT_CLAIM, REASON_DX_MISSING, CLAIM_DIAGNOSIS, "CO", "16", "M76"},
    {EVENT_CLAIM, REASON_DX_NOT_COVERED, CLAIM_DIAGNOSIS, "CO", "167", ""},
    {EVENT_CLAIM, REASON_UNITS_INVALID, CLAIM_UNITS, "CO", "16", "M53"},
    {EVENT_CLAIM, REASON_UNITS_EXCEED_SINGLE_DOSE, CLAIM_UNITS, "CO", "151", ""},
    {EVENT_CLAIM, REASON_DOSE_NOT_REPORTED, CLAIM_DOSE, "CO", "16", "N350"},
    {EVENT_CLAIM, REASON_DOSE_OUT_OF_RANGE, CLAIM_DOSE, "CO", "153", ""},
    {EVENT_CLAIM, REASON_AUTH_NOT_FOUND, CLAIM_AUTHORIZATION, "CO", "197", "M62"},
    {EVENT_CLAIM, REASON_AUTH_PENDING, CLAIM_AUTHORIZATION, "OA", "133", ""},
    {EVENT_CLAIM, REASON_AUTH_EXPIRED, CLAIM_AUTHORIZATION, "CO", "302", ""},
    {EVENT_CLAIM, REASON_AUTH_NOT_VALID_ON_SERVICE_DATE, CLAIM_AUTHORIZATION, "CO", "197", "N54"},
    {EVENT_CLAIM, REASON_AUTH_DENIED, CLAIM_AUTHORIZATION, "CO", "39", ""},
    {EVENT_CLAIM, REASON_AUTH_MISSING, CLAIM_AUTHORIZATION, "CO", "197", ""},
    {EVENT_CLAIM, REASON_PRIOR_DOSE_PAID, CLAIM_SINGLE_DOSE, "CO", "119", ""},
};
#define N_CONTRACT_REASONS (sizeof CONTRACT_REASONS / sizeof CONTRACT_REASONS[0])

/* kind_reasons() and reason_criterion(), which the policy loader and the store go by, are
 * exactly the contract's lists. */
START_TEST(test_kind_reasons_are_the_contract)
{
    for (int k = 0; k < 2; k++) {
        size_t n, at = 0;
        const kind_reason_t *given = kind_reasons((event_kind_t)k, &n);
        for (size_t i = 0; i < N_CONTRACT_REASONS; i++) {
            if (CONTRACT_REASONS[i].kind != (event_kind_t)k) continue;
            ck_assert_msg(at < n, "%s gives no %s", event_kind_name((event_kind_t)k),
                          reason_code_name(CONTRACT_REASONS[i].code));
            ck_assert_msg(given[at].code == CONTRACT_REASONS[i].code &&
                              given[at].criterion == CONTRACT_REASONS[i].criterion,
                          "%s reason %zu is %s under %s, expected %s under %s",
                          event_kind_name((event_kind_t)k), at, reason_code_name(given[at].code),
                          criterion_name((event_kind_t)k, given[at].criterion),
                          reason_code_name(CONTRACT_REASONS[i].code),
                          criterion_name((event_kind_t)k, CONTRACT_REASONS[i].criterion));
            at++;
        }
        ck_assert_uint_eq(at, n);
        for (int c = 0; c < REASON_COUNT; c++) {
            int crit = -1;
            for (size_t i = 0; i < n; i++)
                if (given[i].code == (reason_code_t)c) crit = given[i].criterion;
            ck_assert_int_eq(reason_criterion((event_kind_t)k, (reason_code_t)c), crit);
        }
    }
}
END_TEST

/* The policy's entry for a reason has these codes and a message. */
static void assert_reason_info(event_kind_t kind, reason_code_t code, const char *group,
                               const char *carc, const char *rarc)
{
    const reason_info_t *r = policy_reason(support_policy(), kind, code);
    ck_assert_msg(r != NULL && r->present, "%s %s missing from the policy's reason table",
                  event_kind_name(kind), reason_code_name(code));
    ck_assert_msg(strcmp(r->group, group) == 0 && strcmp(r->carc, carc) == 0 &&
                      strcmp(r->rarc, rarc) == 0,
                  "%s %s: group/carc/rarc \"%s\"/\"%s\"/\"%s\", expected \"%s\"/\"%s\"/\"%s\"",
                  event_kind_name(kind), reason_code_name(code), r->group, r->carc, r->rarc, group,
                  carc, rarc);
    ck_assert_msg(r->message != NULL && r->message[0] != '\0', "%s %s has no message",
                  event_kind_name(kind), reason_code_name(code));
}

/* The shipped policy file has the contract's reason table, and nothing else. */
START_TEST(test_reason_table)
{
    for (size_t i = 0; i < N_CONTRACT_REASONS; i++)
        assert_reason_info(CONTRACT_REASONS[i].kind, CONTRACT_REASONS[i].code,
                           CONTRACT_REASONS[i].group, CONTRACT_REASONS[i].carc,
                           CONTRACT_REASONS[i].rarc);
    for (int k = 0; k < 2; k++)
        for (int c = 0; c < REASON_COUNT; c++)
            ck_assert_msg(
                policy_reason(support_policy(), (event_kind_t)k, (reason_code_t)c)->present ==
                    (reason_criterion((event_kind_t)k, c) >= 0),
                "%s %s: in the policy's table when it should not be, or not when it "
                "should",
                event_kind_name((event_kind_t)k), reason_code_name((reason_code_t)c));
}
END_TEST

START_TEST(test_reason_names)
{
    for (int c = 0; c < REASON_COUNT; c++) {
        reason_code_t back = REASON_COUNT;
        const char *name = reason_code_name((reason_code_t)c);
        ck_assert_ptr_nonnull(name);
        ck_assert_int_eq(reason_code_from_name(name, &back), 0);
        ck_assert_int_eq(back, c);
    }
    ck_assert_str_eq(reason_code_name(REASON_AUTH_MISSING), "AUTH_MISSING");
    ck_assert_str_eq(reason_code_name(REASON_NO_POLICY_IN_EFFECT), "NO_POLICY_IN_EFFECT");
    reason_code_t r;
    ck_assert_int_eq(reason_code_from_name("auth_missing", &r), -1);
    ck_assert_int_eq(reason_code_from_name("NOT_A_CODE", &r), -1);
    ck_assert_int_eq(reason_code_from_name("", &r), -1);
}
END_TEST

/* ---- malformed policy files: NULL and a message that names the problem ---- */

static char *policy_text_ = NULL;
static size_t policy_len_ = 0;

static void text_setup(void)
{
    policy_text_ = support_read_file(AMTAGVI_POLICY_FILE, &policy_len_);
}

static void text_teardown(void)
{
    free(policy_text_);
    policy_text_ = NULL;
}

/* The policy text with the first occurrence of from replaced by to. */
static char *mutate(const char *from, const char *to)
{
    const char *at = strstr(policy_text_, from);
    ck_assert_msg(at != NULL, "test bug: \"%s\" is not in the policy file", from);
    size_t pre = (size_t)(at - policy_text_), fl = strlen(from), tl = strlen(to);
    char *out = malloc(policy_len_ - fl + tl + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, policy_text_, pre);
    memcpy(out + pre, to, tl);
    memcpy(out + pre + tl, at + fl, policy_len_ - pre - fl + 1);
    return out;
}

/* Loading text must fail with a non-empty message containing each of the needles. */
static void expect_rejected(const char *what, const char *text, const char *needle)
{
    char err[512];
    memset(err, 0, sizeof err);
    policy_t *p = policy_load_text(text, strlen(text), err, sizeof err);
    if (p) policy_free(p);
    ck_assert_msg(p == NULL, "%s: policy_load_text accepted it", what);
    ck_assert_msg(err[0] != '\0', "%s: rejected without a message", what);
    if (needle)
        ck_assert_msg(strstr(err, needle) != NULL, "%s: message \"%s\" does not name \"%s\"", what,
                      err, needle);
}

static void expect_mutation_rejected(const char *from, const char *to, const char *needle)
{
    char *t = mutate(from, to);
    expect_rejected(from, t, needle);
    free(t);
}

START_TEST(test_load_text_valid)
{
    char err[256] = "";
    policy_t *p = policy_load_text(policy_text_, policy_len_, err, sizeof err);
    ck_assert_msg(p != NULL, "the shipped policy text did not load: %s", err);
    ck_assert_str_eq(p->policy_id, "IP0625");
    ck_assert_uint_eq(p->n_versions, 3);
    ck_assert_uint_eq(policy_drug_classes(p, "keytruda qlex"), DRUG_PD1_PDL1);
    policy_free(p);
    policy_free(NULL);
}
END_TEST

START_TEST(test_load_text_not_json)
{
    expect_rejected("not JSON", "this is not json", NULL);
    expect_rejected("empty", "", NULL);
    expect_rejected("array", "[1, 2, 3]", NULL);
    expect_rejected("empty object", "{}", NULL);
    char *half = strndup(policy_text_, policy_len_ / 2);
    expect_rejected("truncated", half, NULL);
    free(half);
}
END_TEST

START_TEST(test_load_text_versions)
{
    expect_mutation_rejected("\"versions\": [\"2024-06-15\", \"2025-05-01\", \"2026-05-01\"],", "",
                             "versions");
    expect_mutation_rejected("[\"2024-06-15\", \"2025-05-01\", \"2026-05-01\"]",
                             "[\"2025-05-01\", \"2024-06-15\", \"2026-05-01\"]", "versions");
    expect_mutation_rejected("[\"2024-06-15\", \"2025-05-01\", \"2026-05-01\"]",
                             "[\"2024-06-15\", \"2024-06-15\", \"2026-05-01\"]", "versions");
    expect_mutation_rejected("\"2024-06-15\", \"2025-05-01\"", "\"2024-06-31\", \"2025-05-01\"",
                             "versions");
    expect_mutation_rejected("\"2024-06-15\", \"2025-05-01\"", "\"2024-6-15\", \"2025-05-01\"",
                             "versions");
    expect_mutation_rejected("[\"2024-06-15\", \"2025-05-01\", \"2026-05-01\"]", "[]", "versions");
    expect_mutation_rejected("[\"2024-06-15\", \"2025-05-01\", \"2026-05-01\"]", "\"2024-06-15\"",
                             "versions");
}
END_TEST

START_TEST(test_load_text_reasons)
{
    /* a claim reason the judge can emit is missing from the claim table */
    expect_mutation_rejected(
        "\"AUTH_MISSING\": {\"group\": \"CO\", \"carc\": \"197\", \"rarc\": null, \"message\": "
        "\"Prior authorization is required and none is on file.\"},",
        "", "AUTH_MISSING");
    /* the claim lifecycle's reason (contract §10) is one the judge can emit too */
    expect_mutation_rejected(
        "\"ORIGINAL_NOT_FOUND\": {\"group\": \"CO\", \"carc\": \"16\", \"rarc\": \"M47\", "
        "\"message\": \"The replacement or void names no live claim line of this member "
        "(original claim number and line); correct the reference and resubmit.\"},",
        "", "ORIGINAL_NOT_FOUND");
    /* an unknown reason code name */
    expect_mutation_rejected("\"claim\": {", "\"claim\": {\"NOT_A_CODE\": {\"message\": \"x\"}, ",
                             "NOT_A_CODE");
    expect_mutation_rejected("\"prior_auth\": {",
                             "\"prior_auth\": {\"AGE_UNDER_21\": {\"message\": \"x\"}, ",
                             "AGE_UNDER_21");
    /* a PA reason missing from the PA table */
    expect_mutation_rejected("\"PRIOR_AMTAGVI\": {\"message\": \"Criterion 1.F: the patient has "
                             "previously been treated with Amtagvi.\"},",
                             "", "PRIOR_AMTAGVI");
}
END_TEST

START_TEST(test_load_text_limits)
{
    expect_mutation_rejected("\"dose_min_cells\": 7500000000", "\"dose_min_cells\": 80000000000",
                             "dose_m");
    expect_mutation_rejected("\"dose_min_cells\": 7500000000,\n    \"dose_max_cells\": 72000000000",
                             "\"dose_min_cells\": 7500000000", "dose_max_cells");
    expect_mutation_rejected("\"covered_hcpcs\": [\"C9399\", \"J3590\"],", "", "covered_hcpcs");
    expect_mutation_rejected("\"policy_id\": \"IP0625\",", "", "policy_id");
}
END_TEST

START_TEST(test_load_text_small_err_buffer)
{
    char err[8];
    memset(err, 'x', sizeof err);
    policy_t *p = policy_load_text("nope", 4, err, sizeof err);
    ck_assert_ptr_null(p);
    ck_assert_msg(memchr(err, '\0', sizeof err) != NULL, "message not NUL-terminated in errlen");
}
END_TEST

START_TEST(test_load_file_missing)
{
    char err[256] = "";
    policy_t *p = policy_load_file("/nonexistent/IP0625.json", err, sizeof err);
    ck_assert_ptr_null(p);
    ck_assert(err[0] != '\0');
}
END_TEST

/* ---- §3 normalisation and NPI ---- */

/* Each input normalises to the expected text, and the function returns its length. */
typedef struct {
    const char *in, *want;
} norm_case_t;

static void expect_normalised(size_t (*f)(const char *, char *, size_t), const char *name,
                              const norm_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char out[64];
        size_t len = f(cases[i].in, out, sizeof out);
        ck_assert_msg(strcmp(out, cases[i].want) == 0 && len == strlen(cases[i].want),
                      "%s(\"%s\") = \"%s\" (length %zu), expected \"%s\"", name, cases[i].in, out,
                      len, cases[i].want);
    }
}

START_TEST(test_normalise_icd10)
{
    static const norm_case_t cases[] = {
        {"c43.9 ", "C439"}, {" z85.820", "Z85820"}, {"C 78. 00", "C7800"}, {"C43", "C43"}, {"", ""},
        {" . ", ""}};
    expect_normalised(normalise_icd10, "normalise_icd10", cases, sizeof cases / sizeof *cases);
}
END_TEST

START_TEST(test_normalise_code)
{
    static const norm_case_t cases[] = {{" j3590 ", "J3590"},
                                        {"207rx0202x", "207RX0202X"},
                                        {"\t2085r0001x\n", "2085R0001X"},
                                        {"   ", ""}};
    expect_normalised(normalise_code, "normalise_code", cases, sizeof cases / sizeof *cases);
}
END_TEST

START_TEST(test_normalise_drug)
{
    static const norm_case_t cases[] = {
        {"  Keytruda   Qlex ", "keytruda qlex"},
        {"NIVOLUMAB AND RELATLIMAB-RMBW", "nivolumab and relatlimab-rmbw"},
        {"Opdivo\tQvantig", "opdivo qvantig"},
        {"\t Tecentriq \t\n Hybreza\t", "tecentriq hybreza"},
        {"lifileucel", "lifileucel"},
        {"   ", ""}};
    expect_normalised(normalise_drug, "normalise_drug", cases, sizeof cases / sizeof *cases);
}
END_TEST

START_TEST(test_npi)
{
    ck_assert(npi_valid("1234567893"));
    ck_assert(npi_valid("1245319599"));
    ck_assert(npi_valid("1003000126"));
    ck_assert(npi_valid("1987654328"));
    ck_assert(!npi_valid("1234567890"));
    ck_assert(!npi_valid("1234567894"));
    ck_assert(!npi_valid("1003000127"));
    ck_assert(!npi_valid("123456789"));
    ck_assert(!npi_valid("12345678931"));
    ck_assert(!npi_valid(" 1234567893"));
    ck_assert(!npi_valid("1234567893 "));
    ck_assert(!npi_valid("123456789 "));
    ck_assert(!npi_valid("12345a7893"));
    ck_assert(!npi_valid("123456789X"));
    ck_assert(!npi_valid("-234567893"));
    ck_assert(!npi_valid(""));
    /* a plain Luhn over the 10 digits without the 80840 prefix is not the NPI rule */
    ck_assert(!npi_valid("1234567897"));
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("facts");
    tcase_add_test(tc, test_loads);
    tcase_add_test(tc, test_version_on);
    tcase_add_test(tc, test_drug_classes);
    tcase_add_test(tc, test_code_sets);
    tcase_add_test(tc, test_kind_reasons_are_the_contract);
    tcase_add_test(tc, test_reason_table);
    tcase_add_test(tc, test_reason_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("load");
    tcase_add_checked_fixture(tc, text_setup, text_teardown);
    tcase_add_test(tc, test_load_text_valid);
    tcase_add_test(tc, test_load_text_not_json);
    tcase_add_test(tc, test_load_text_versions);
    tcase_add_test(tc, test_load_text_reasons);
    tcase_add_test(tc, test_load_text_limits);
    tcase_add_test(tc, test_load_text_small_err_buffer);
    tcase_add_test(tc, test_load_file_missing);
    suite_add_tcase(s, tc);

    tc = tcase_create("normalise");
    tcase_add_test(tc, test_normalise_icd10);
    tcase_add_test(tc, test_normalise_code);
    tcase_add_test(tc, test_normalise_drug);
    tcase_add_test(tc, test_npi);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return support_run(policy_suite());
}
