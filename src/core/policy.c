/* Policy facts from JSON. Every problem is reported with the key path that holds it, because
 * the person reading the start-up error is an operator who just edited the file. */
#include "policy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "errtext.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_drug(const void *a, const void *b)
{
    return strcmp(((const drug_entry_t *)a)->name, ((const drug_entry_t *)b)->name);
}

typedef size_t (*normaliser_t)(const char *, char *, size_t);

/* Loads an array of strings (or an object's keys) into a sorted, de-duplicated set, each item
 * passed through the same normaliser the judge applies to input. */
static int load_set(json_t *node, const char *path, normaliser_t norm, string_set_t *out, char *err,
                    size_t errlen)
{
    size_t n = json_is_array(node)    ? json_array_size(node)
               : json_is_object(node) ? json_object_size(node)
                                      : 0;
    if (!json_is_array(node) && !json_is_object(node))
        return errtext_set(err, errlen, "%s: must be a list of strings", path);
    if (n == 0) return errtext_set(err, errlen, "%s: must not be empty", path);
    out->items = calloc(n, sizeof(char *));
    if (!out->items) return errtext_set(err, errlen, "%s: out of memory", path);
    size_t i = 0;
    if (json_is_array(node)) {
        json_t *v;
        size_t idx;
        json_array_foreach(node, idx, v)
        {
            if (!json_is_string(v) || json_string_length(v) == 0 ||
                json_string_length(v) > EVENT_MAX_STRING_BYTES)
                return errtext_set(err, errlen, "%s[%zu]: must be a non-empty string", path, idx);
            char tmp[EVENT_MAX_STRING_BYTES + 1];
            /* Checked after normalising: "." or " " would become "", a prefix of every code. */
            if (norm(json_string_value(v), tmp, sizeof tmp) == 0)
                return errtext_set(err, errlen, "%s[%zu]: empty once normalised", path, idx);
            if (!(out->items[i++] = strdup(tmp))) return errtext_set(err, errlen, "out of memory");
            out->n = i;
        }
    } else {
        const char *key;
        json_t *v;
        json_object_foreach(node, key, v)
        {
            if (strlen(key) == 0 || strlen(key) > EVENT_MAX_STRING_BYTES)
                return errtext_set(err, errlen, "%s: keys must be non-empty codes", path);
            char tmp[EVENT_MAX_STRING_BYTES + 1];
            if (norm(key, tmp, sizeof tmp) == 0)
                return errtext_set(err, errlen, "%s: a key is empty once normalised", path);
            if (!(out->items[i++] = strdup(tmp))) return errtext_set(err, errlen, "out of memory");
            out->n = i;
        }
    }
    qsort(out->items, out->n, sizeof(char *), cmp_str);
    for (size_t k = 1; k < out->n; k++)
        if (strcmp(out->items[k - 1], out->items[k]) == 0)
            return errtext_set(err, errlen, "%s: \"%s\" is listed twice", path, out->items[k]);
    return 0;
}

static void free_set(string_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->items[i]);
    free(s->items);
}

static int get_int(json_t *obj, const char *key, const char *path, int64_t min, int64_t max,
                   int64_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return errtext_set(err, errlen, "%s.%s: missing or not an integer", path, key);
    *out = json_integer_value(v);
    if (*out < min || *out > max)
        return errtext_set(err, errlen, "%s.%s: %lld is outside %lld..%lld", path, key,
                           (long long)*out, (long long)min, (long long)max);
    return 0;
}

static int load_drugs(policy_t *p, json_t *drugs, char *err, size_t errlen)
{
    static const struct {
        const char *key;
        unsigned cls;
    } lists[] = {{"pd1_pdl1", DRUG_PD1_PDL1},
                 {"braf_inhibitors", DRUG_BRAF_INHIBITOR},
                 {"amtagvi", DRUG_AMTAGVI}};
    if (!json_is_object(drugs)) return errtext_set(err, errlen, "drugs: missing or not an object");
    size_t total = 0;
    for (size_t l = 0; l < 3; l++) {
        json_t *arr = json_object_get(drugs, lists[l].key);
        if (!json_is_array(arr) || json_array_size(arr) == 0)
            return errtext_set(err, errlen, "drugs.%s: missing or not a non-empty list",
                               lists[l].key);
        total += json_array_size(arr);
    }
    p->drugs = calloc(total, sizeof(drug_entry_t));
    if (!p->drugs) return errtext_set(err, errlen, "out of memory");
    for (size_t l = 0; l < 3; l++) {
        json_t *arr = json_object_get(drugs, lists[l].key), *v;
        size_t idx;
        json_array_foreach(arr, idx, v)
        {
            if (!json_is_string(v) || json_string_length(v) == 0 ||
                json_string_length(v) > EVENT_MAX_STRING_BYTES)
                return errtext_set(err, errlen, "drugs.%s[%zu]: must be a non-empty string",
                                   lists[l].key, idx);
            char name[EVENT_MAX_STRING_BYTES + 1];
            if (normalise_drug(json_string_value(v), name, sizeof name) == 0)
                return errtext_set(err, errlen, "drugs.%s[%zu]: empty once normalised",
                                   lists[l].key, idx);
            /* A name in two lists (a combination product) belongs to both classes. */
            size_t k;
            for (k = 0; k < p->n_drugs; k++)
                if (strcmp(p->drugs[k].name, name) == 0) break;
            if (k == p->n_drugs) {
                if (!(p->drugs[k].name = strdup(name)))
                    return errtext_set(err, errlen, "out of memory");
                p->n_drugs++;
            }
            p->drugs[k].classes |= lists[l].cls;
        }
    }
    qsort(p->drugs, p->n_drugs, sizeof(drug_entry_t), cmp_drug);
    return 0;
}

static int copy_code(json_t *v, char *dst, size_t cap, const char *path, const char *key, char *err,
                     size_t errlen)
{
    dst[0] = '\0';
    if (v == NULL || json_is_null(v)) return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap)
        return errtext_set(err, errlen, "%s.%s: must be null or a code of 1..%zu characters", path,
                           key, cap - 1);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int load_reasons(policy_t *p, json_t *reasons, char *err, size_t errlen)
{
    if (!json_is_object(reasons))
        return errtext_set(err, errlen, "reasons: missing or not an object");
    for (int k = 0; k < 2; k++) {
        const event_kind_t kind = (event_kind_t)k;
        const char *key = event_kind_name(kind); /* the file's keys are the kinds' names */
        char path[64];
        json_t *table = json_object_get(reasons, key);
        if (!json_is_object(table))
            return errtext_set(err, errlen, "reasons.%s: missing or not an object", key);
        const char *name;
        json_t *entry;
        json_object_foreach(table, name, entry)
        {
            reason_code_t code;
            snprintf(path, sizeof path, "reasons.%s.%s", key, name);
            if (reason_code_from_name(name, &code) != 0)
                return errtext_set(err, errlen, "%s: unknown reason code", path);
            /* Only the codes the kind can give (contract §6 for PAs, §7 for claims). */
            if (reason_criterion(kind, code) < 0)
                return errtext_set(err, errlen, "%s: this code is never given for a %s", path, key);
            if (!json_is_object(entry))
                return errtext_set(err, errlen, "%s: must be an object", path);
            reason_info_t *info = &p->reasons[kind][code];
            json_t *msg = json_object_get(entry, "message");
            if (!json_is_string(msg) || json_string_length(msg) == 0)
                return errtext_set(err, errlen, "%s.message: missing or empty", path);
            if (!(info->message = strdup(json_string_value(msg))))
                return errtext_set(err, errlen, "out of memory");
            if (copy_code(json_object_get(entry, "group"), info->group, sizeof info->group, path,
                          "group", err, errlen) != 0 ||
                copy_code(json_object_get(entry, "carc"), info->carc, sizeof info->carc, path,
                          "carc", err, errlen) != 0 ||
                copy_code(json_object_get(entry, "rarc"), info->rarc, sizeof info->rarc, path,
                          "rarc", err, errlen) != 0)
                return -1;
            /* Contract §6: PA reasons carry no claim adjustment codes; §7: every claim reason
             * has a group and a CARC. */
            if (kind == EVENT_PRIOR_AUTH && (info->group[0] || info->carc[0] || info->rarc[0]))
                return errtext_set(err, errlen,
                                   "%s: prior_auth reasons carry no group, carc or rarc", path);
            if (kind == EVENT_CLAIM && (!info->group[0] || !info->carc[0]))
                return errtext_set(err, errlen, "%s: a claim reason needs a group and a carc",
                                   path);
            info->present = true;
        }
        size_t n;
        const kind_reason_t *given = kind_reasons(kind, &n);
        for (size_t i = 0; i < n; i++)
            if (!p->reasons[kind][given[i].code].present)
                return errtext_set(err, errlen, "reasons.%s.%s: missing", key,
                                   reason_code_name(given[i].code));
    }
    return 0;
}

static int load(policy_t *p, json_t *root, char *err, size_t errlen)
{
    if (!json_is_object(root))
        return errtext_set(err, errlen, "the policy file must hold a JSON object");
    json_t *fmt = json_object_get(root, "format");
    if (!json_is_integer(fmt) || json_integer_value(fmt) != 1)
        return errtext_set(err, errlen,
                           "format: must be 1 (this build reads policy file format 1)");
    json_t *id = json_object_get(root, "policy_id"), *fv = json_object_get(root, "file_version");
    if (!json_is_string(id) || json_string_length(id) == 0)
        return errtext_set(err, errlen, "policy_id: missing or not a string");
    if (!json_is_string(fv) || json_string_length(fv) == 0)
        return errtext_set(err, errlen, "file_version: missing or not a string");
    if (!(p->policy_id = strdup(json_string_value(id))) ||
        !(p->file_version = strdup(json_string_value(fv))))
        return errtext_set(err, errlen, "out of memory");

    json_t *versions = json_object_get(root, "versions"), *v;
    size_t idx;
    if (!json_is_array(versions) || json_array_size(versions) == 0 ||
        json_array_size(versions) > POLICY_MAX_VERSIONS)
        return errtext_set(err, errlen, "versions: must be a list of 1..%d effective dates",
                           POLICY_MAX_VERSIONS);
    json_array_foreach(versions, idx, v)
    {
        date_t d;
        if (!json_is_string(v) || date_parse(json_string_value(v), json_string_length(v), &d) != 0)
            return errtext_set(err, errlen, "versions[%zu]: not a YYYY-MM-DD date", idx);
        if (idx > 0 && d <= p->versions[idx - 1])
            return errtext_set(err, errlen,
                               "versions[%zu]: effective dates must be strictly ascending", idx);
        p->versions[idx] = d;
        p->n_versions = idx + 1;
    }

    json_t *ind = json_object_get(root, "indication");
    if (!json_is_object(ind))
        return errtext_set(err, errlen, "indication: missing or not an object");
    if (load_set(json_object_get(ind, "melanoma_prefixes"), "indication.melanoma_prefixes",
                 normalise_icd10, &p->melanoma_prefixes, err, errlen) != 0 ||
        load_set(json_object_get(ind, "melanoma_history_codes"),
                 "indication.melanoma_history_codes", normalise_icd10, &p->melanoma_history_codes,
                 err, errlen) != 0 ||
        load_set(json_object_get(ind, "secondary_prefixes"), "indication.secondary_prefixes",
                 normalise_icd10, &p->secondary_prefixes, err, errlen) != 0 ||
        load_set(json_object_get(ind, "excluded_prefixes"), "indication.excluded_prefixes",
                 normalise_icd10, &p->excluded_prefixes, err, errlen) != 0 ||
        load_drugs(p, json_object_get(root, "drugs"), err, errlen) != 0 ||
        load_set(json_object_get(root, "oncologist_taxonomies"), "oncologist_taxonomies",
                 normalise_code, &p->oncologist_taxonomies, err, errlen) != 0 ||
        load_set(json_object_get(root, "covered_hcpcs"), "covered_hcpcs", normalise_code,
                 &p->covered_hcpcs, err, errlen) != 0)
        return -1;

    json_t *lim = json_object_get(root, "limits");
    if (!json_is_object(lim)) return errtext_set(err, errlen, "limits: missing or not an object");
    int64_t age, months, doses, units, dmin, dmax;
    if (get_int(lim, "adult_age_years", "limits", 0, 150, &age, err, errlen) != 0 ||
        get_int(lim, "approval_months", "limits", 1, 120, &months, err, errlen) != 0 ||
        get_int(lim, "max_doses", "limits", 1, 100, &doses, err, errlen) != 0 ||
        get_int(lim, "max_units", "limits", 1, 1000, &units, err, errlen) != 0 ||
        get_int(lim, "dose_min_cells", "limits", 1, INT64_MAX, &dmin, err, errlen) != 0 ||
        get_int(lim, "dose_max_cells", "limits", 1, INT64_MAX, &dmax, err, errlen) != 0)
        return -1;
    if (dmin > dmax)
        return errtext_set(err, errlen,
                           "limits.dose_min_cells: greater than limits.dose_max_cells");
    p->adult_age_years = (int)age;
    p->approval_months = (int)months;
    p->max_doses = (int32_t)doses;
    p->max_units = (int32_t)units;
    p->dose_min_cells = dmin;
    p->dose_max_cells = dmax;

    return load_reasons(p, json_object_get(root, "reasons"), err, errlen);
}

policy_t *policy_load_text(const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        errtext_set(err, errlen, "not valid JSON at line %d column %d: %s", jerr.line, jerr.column,
                    jerr.text);
        return NULL;
    }
    policy_t *p = calloc(1, sizeof *p);
    if (!p) {
        json_decref(root);
        errtext_set(err, errlen, "out of memory");
        return NULL;
    }
    int rc = load(p, root, err, errlen);
    json_decref(root);
    if (rc != 0) {
        policy_free(p);
        return NULL;
    }
    return p;
}

void policy_free(policy_t *p)
{
    if (!p) return;
    free(p->policy_id);
    free(p->file_version);
    free_set(&p->melanoma_prefixes);
    free_set(&p->melanoma_history_codes);
    free_set(&p->secondary_prefixes);
    free_set(&p->excluded_prefixes);
    free_set(&p->oncologist_taxonomies);
    free_set(&p->covered_hcpcs);
    for (size_t i = 0; i < p->n_drugs; i++) free(p->drugs[i].name);
    free(p->drugs);
    for (int k = 0; k < 2; k++)
        for (int c = 0; c < REASON_COUNT; c++) free(p->reasons[k][c].message);
    free(p);
}

date_t policy_version_on(const policy_t *p, date_t day)
{
    date_t found = DATE_NULL;
    for (size_t i = 0; i < p->n_versions && p->versions[i] <= day; i++) found = p->versions[i];
    return found;
}

bool string_set_contains(const string_set_t *set, const char *s)
{
    return bsearch(&s, set->items, set->n, sizeof(char *), cmp_str) != NULL;
}

bool string_set_has_prefix_of(const string_set_t *set, const char *s)
{
    for (size_t i = 0; i < set->n; i++)
        if (strncmp(s, set->items[i], strlen(set->items[i])) == 0) return true;
    return false;
}

unsigned policy_drug_classes(const policy_t *p, const char *normalised_name)
{
    drug_entry_t key = {(char *)normalised_name, 0};
    const drug_entry_t *e = bsearch(&key, p->drugs, p->n_drugs, sizeof key, cmp_drug);
    return e ? e->classes : 0;
}

const reason_info_t *policy_reason(const policy_t *p, event_kind_t kind, reason_code_t code)
{
    return &p->reasons[kind][code];
}
