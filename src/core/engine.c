/* The adjudication engine: contract §1 (replays, history), §6 (PA criteria) and §7 (claim
 * checks). All memory comes from one arena, so a worker batch or a retro member is released
 * in one reset. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

typedef struct {
    const char *pa_id;
    bool has_approved;
    uint64_t approved_pos;
    date_t valid_from;
    date_t valid_until;
    uint64_t latest_pos;
    outcome_t latest_outcome;
} pa_state_t;

/* A claim line's billed determinations (contract §10), as counts: a reversal takes back every
 * live one at once, and a new billed one is always the most recent, so counts and the two
 * most recent event_ids are all the rules need. */
typedef struct {
    const char *claim_id;
    int32_t line_number;
    uint32_t live;                  /**< live billed determinations */
    uint32_t live_final;            /**< of those, APPROVED or DENIED */
    uint32_t live_approved;         /**< of those, APPROVED: paid doses */
    const char *last_live;          /**< event_id of the most recent live billed one */
    const char *last_live_approved; /**< event_id of the most recent live billed APPROVED one */
    uint64_t reversed_at;           /**< stream position of the line's last reversal, or 0 */
} line_state_t;

struct member_history {
    const char *member_id;
    pa_state_t *pas;
    uint32_t n_pas, cap_pas;
    line_state_t *lines;
    uint32_t n_lines, cap_lines;
    uint32_t paid_doses; /**< live billed APPROVED claim lines (contract §10) */
};

typedef struct {
    determination_t det;
    uint64_t fingerprint;
    uint64_t position; /**< in the engine's stream order */
} stored_t;

/* Open-addressing string map; keys and values live in the arena. The full hash is kept beside
 * each slot so a probe rarely touches a key that is not the one sought. */
typedef struct {
    uint64_t *hashes; /* 0 = empty slot */
    const char **keys;
    void **values;
    size_t cap; /* power of two */
    size_t n;
} strmap_t;

struct engine {
    const policy_t *policy;
    arena_t arena;
    strmap_t members;
    strmap_t events;
    uint64_t position;
};

static line_state_t *find_line(const member_history_t *h, const char *claim_id,
                               int32_t line_number);

/* ---------------------------------------------------------------- string map */

static uint64_t hash_str(const char *s)
{
    uint64_t h = hash_bytes(s, strlen(s), 0x5bd1e995);
    return h ? h : 1;
}

static void *strmap_get_h(const strmap_t *m, const char *key, uint64_t h)
{
    if (m->cap == 0) return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->hashes[i]) return NULL;
        if (m->hashes[i] == h && strcmp(m->keys[i], key) == 0) return m->values[i];
    }
}

static void *strmap_get(const strmap_t *m, const char *key)
{
    return strmap_get_h(m, key, hash_str(key));
}

static int strmap_grow(strmap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *hashes = calloc(cap, sizeof *hashes);
    const char **keys = malloc(cap * sizeof *keys);
    void **values = malloc(cap * sizeof *values);
    if (!hashes || !keys || !values) {
        free(hashes);
        free(keys);
        free(values);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->hashes[i]) continue;
        size_t j = m->hashes[i] & (cap - 1);
        while (hashes[j]) j = (j + 1) & (cap - 1);
        hashes[j] = m->hashes[i];
        keys[j] = m->keys[i];
        values[j] = m->values[i];
    }
    free(m->hashes);
    free(m->keys);
    free(m->values);
    m->hashes = hashes;
    m->keys = keys;
    m->values = values;
    m->cap = cap;
    return 0;
}

/* key must outlive the map (it is an arena string); h is hash_str(key). */
static int strmap_put_h(strmap_t *m, const char *key, uint64_t h, void *value)
{
    if ((m->n + 1) * 10 > m->cap * 7 && strmap_grow(m) != 0) return -1;
    size_t i = h & (m->cap - 1);
    while (m->hashes[i]) i = (i + 1) & (m->cap - 1);
    m->hashes[i] = h;
    m->keys[i] = key;
    m->values[i] = value;
    m->n++;
    return 0;
}

static void strmap_clear(strmap_t *m)
{
    if (m->n == 0) return;
    memset(m->hashes, 0, m->cap * sizeof *m->hashes);
    m->n = 0;
}

static void strmap_free(strmap_t *m)
{
    free(m->hashes);
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- engine lifecycle */

engine_t *engine_new(const policy_t *policy)
{
    engine_t *e = calloc(1, sizeof *e);
    if (e) e->policy = policy;
    return e;
}

void engine_free(engine_t *e)
{
    if (!e) return;
    arena_free(&e->arena);
    strmap_free(&e->members);
    strmap_free(&e->events);
    free(e);
}

void engine_reset(engine_t *e)
{
    arena_reset(&e->arena);
    strmap_clear(&e->members);
    strmap_clear(&e->events);
    e->position = 0;
}

size_t engine_size(const engine_t *e)
{
    return e->events.n;
}

const determination_t *engine_lookup(const engine_t *e, const char *event_id)
{
    stored_t *s = strmap_get(&e->events, event_id);
    return s ? &s->det : NULL;
}

bool engine_is_reversed(const engine_t *e, const char *event_id)
{
    const stored_t *s = strmap_get(&e->events, event_id);
    if (!s || !determination_bills(&s->det)) return false;
    const member_history_t *m = strmap_get(&e->members, s->det.member_id);
    const line_state_t *l = m ? find_line(m, s->det.claim_id, s->det.line_number) : NULL;
    return l && l->reversed_at > s->position;
}

/* ---------------------------------------------------------------- shared rules */

/* Contract §5: melanoma is a C43 code, or a personal history of melanoma (Z85820) together with
 * a secondary malignancy code; excluded prefixes (in situ, eye) never count. Returns the
 * number of non-empty codes through *n_codes. */
static bool has_melanoma(const policy_t *p, const char *const *codes, uint32_t n, uint32_t *n_codes)
{
    bool primary = false, history = false, secondary = false;
    uint32_t nonempty = 0;
    for (uint32_t i = 0; i < n; i++) {
        char c[EVENT_MAX_STRING_BYTES + 1];
        if (normalise_icd10(codes[i], c, sizeof c) == 0) continue;
        nonempty++;
        if (string_set_has_prefix_of(&p->excluded_prefixes, c)) continue;
        if (string_set_has_prefix_of(&p->melanoma_prefixes, c)) primary = true;
        if (string_set_contains(&p->melanoma_history_codes, c)) history = true;
        if (string_set_has_prefix_of(&p->secondary_prefixes, c)) secondary = true;
    }
    *n_codes = nonempty;
    return primary || (history && secondary);
}

static void set(determination_t *d, int criterion, criterion_status_t status, reason_code_t code)
{
    d->criteria[criterion] = (uint8_t)status;
    if (status == STATUS_NOT_MET || status == STATUS_UNKNOWN) {
        d->reasons[d->n_reasons].criterion = (uint8_t)criterion;
        d->reasons[d->n_reasons].code = (uint8_t)code;
        d->reasons[d->n_reasons].status = (uint8_t)status;
        d->n_reasons++;
    }
}

static void set_rest_not_applicable(determination_t *d, int from)
{
    for (int c = from; c < criteria_count(d->kind); c++) d->criteria[c] = STATUS_NOT_APPLICABLE;
}

static outcome_t outcome_of(const determination_t *d)
{
    bool unknown = false;
    for (int c = 0; c < criteria_count(d->kind); c++) {
        if (d->criteria[c] == STATUS_NOT_MET) return OUTCOME_DENIED;
        if (d->criteria[c] == STATUS_UNKNOWN) unknown = true;
    }
    return unknown ? OUTCOME_PENDED : OUTCOME_APPROVED;
}

/* ---------------------------------------------------------------- §6 prior authorization */

typedef enum { PERSON_QUALIFIES, PERSON_UNVERIFIED, PERSON_NOT_ONCOLOGIST } person_t;

static person_t judge_person(const policy_t *p, const char *npi, const char *taxonomy,
                             bool *npi_invalid)
{
    bool valid = npi_valid(npi);
    char tax[EVENT_MAX_STRING_BYTES + 1];
    bool has_tax = taxonomy && normalise_code(taxonomy, tax, sizeof tax) > 0;
    if (!valid) *npi_invalid = true;
    if (!valid || !has_tax) return PERSON_UNVERIFIED;
    return string_set_contains(&p->oncologist_taxonomies, tax) ? PERSON_QUALIFIES
                                                               : PERSON_NOT_ONCOLOGIST;
}

static void criterion_prescriber(const policy_t *p, const pa_event_t *ev, determination_t *d)
{
    bool npi_invalid = false;
    person_t who[2];
    int n = 0;
    who[n++] = judge_person(p, ev->prescriber_npi, ev->prescriber_taxonomy, &npi_invalid);
    if (ev->consulting_npi && ev->consulting_npi[0])
        who[n++] = judge_person(p, ev->consulting_npi, ev->consulting_taxonomy, &npi_invalid);
    bool qualifies = false, unverified = false;
    for (int i = 0; i < n; i++) {
        qualifies |= who[i] == PERSON_QUALIFIES;
        unverified |= who[i] == PERSON_UNVERIFIED;
    }
    if (qualifies)
        set(d, PA_1G, STATUS_MET, 0);
    else if (unverified)
        set(d, PA_1G, STATUS_UNKNOWN,
            npi_invalid ? REASON_PRESCRIBER_NPI_INVALID : REASON_PRESCRIBER_TAXONOMY_MISSING);
    else
        set(d, PA_1G, STATUS_NOT_MET, REASON_PRESCRIBER_NOT_ONCOLOGIST);
}

void judge_prior_auth(const policy_t *p, const member_history_t *h, const pa_event_t *ev,
                      determination_t *d)
{
    memset(d, 0, sizeof *d);
    d->kind = EVENT_PRIOR_AUTH;
    d->event_id = ev->event_id;
    d->member_id = ev->member_id;
    d->pa_id = ev->pa_id;
    d->valid_from = d->valid_until = DATE_NULL;
    const date_t day = date_of_timestamp_ms(ev->received_at_ms);
    d->decision_date = day;
    d->policy_version = policy_version_on(p, day);
    if (d->policy_version == DATE_NULL) {
        set(d, PA_POLICY, STATUS_UNKNOWN, REASON_NO_POLICY_IN_EFFECT);
        set_rest_not_applicable(d, PA_INDICATION);
        d->outcome = OUTCOME_PENDED;
        return;
    }
    set(d, PA_POLICY, STATUS_MET, 0);

    uint32_t n_codes;
    bool melanoma = has_melanoma(p, ev->diagnosis_codes, ev->n_diagnosis_codes, &n_codes);
    if (n_codes == 0)
        set(d, PA_INDICATION, STATUS_UNKNOWN, REASON_DX_MISSING);
    else
        set(d, PA_INDICATION, melanoma ? STATUS_MET : STATUS_NOT_MET, REASON_DX_NOT_COVERED);

    if (ev->birth_date > day)
        set(d, PA_1A, STATUS_UNKNOWN, REASON_BIRTH_DATE_INVALID);
    else
        set(d, PA_1A,
            day >= date_add_years(ev->birth_date, p->adult_age_years) ? STATUS_MET : STATUS_NOT_MET,
            REASON_AGE_UNDER_18);

    switch (ev->disease_status) {
    case DISEASE_UNRESECTABLE:
    case DISEASE_METASTATIC:
        set(d, PA_1B, STATUS_MET, 0);
        break;
    case DISEASE_RESECTABLE:
        set(d, PA_1B, STATUS_NOT_MET, REASON_DISEASE_RESECTABLE);
        break;
    default:
        set(d, PA_1B, STATUS_UNKNOWN, REASON_DISEASE_STATUS_UNKNOWN);
        break;
    }

    /* A therapy counts only if it had started by the decision date (contract §3). */
    unsigned classes = 0;
    for (uint32_t i = 0; i < ev->n_prior_therapies; i++) {
        const prior_therapy_t *t = &ev->prior_therapies[i];
        if (t->start_date != DATE_NULL && t->start_date > day) continue;
        char name[EVENT_MAX_STRING_BYTES + 1];
        normalise_drug(t->drug, name, sizeof name);
        classes |= policy_drug_classes(p, name);
    }
    set(d, PA_1C, classes & DRUG_PD1_PDL1 ? STATUS_MET : STATUS_NOT_MET, REASON_NO_PRIOR_PD1_PDL1);

    if (classes & DRUG_BRAF_INHIBITOR)
        set(d, PA_1D, STATUS_MET, 0);
    else if (ev->braf_v600 == BRAF_NEGATIVE)
        set(d, PA_1D, STATUS_NOT_APPLICABLE, 0);
    else if (ev->braf_v600 == BRAF_POSITIVE)
        set(d, PA_1D, STATUS_NOT_MET, REASON_NO_PRIOR_BRAF_INHIBITOR);
    else
        set(d, PA_1D, STATUS_UNKNOWN, REASON_BRAF_STATUS_UNKNOWN);

    switch (ev->lymphodepletion) {
    case LYMPHODEPLETION_RECEIVED:
    case LYMPHODEPLETION_PLANNED:
        set(d, PA_1E, STATUS_MET, 0);
        break;
    case LYMPHODEPLETION_NOT_PLANNED:
        set(d, PA_1E, STATUS_NOT_MET, REASON_LYMPHODEPLETION_NOT_PLANNED);
        break;
    default:
        set(d, PA_1E, STATUS_UNKNOWN, REASON_LYMPHODEPLETION_UNKNOWN);
        break;
    }

    bool treated = (classes & DRUG_AMTAGVI) || h->paid_doses > 0;
    set(d, PA_1F, treated ? STATUS_NOT_MET : STATUS_MET, REASON_PRIOR_AMTAGVI);

    criterion_prescriber(p, ev, d);

    if (!ev->has_requested_dose_cells)
        set(d, PA_DOSE, STATUS_NOT_APPLICABLE, 0);
    else
        set(d, PA_DOSE,
            ev->requested_dose_cells >= p->dose_min_cells &&
                    ev->requested_dose_cells <= p->dose_max_cells
                ? STATUS_MET
                : STATUS_NOT_MET,
            REASON_DOSE_OUT_OF_RANGE);

    d->outcome = outcome_of(d);
    if (d->outcome == OUTCOME_APPROVED) {
        d->has_authorization = true;
        d->valid_from = day;
        d->valid_until = date_add_months(day, p->approval_months);
        d->max_doses = p->max_doses;
        d->dose_min_cells = p->dose_min_cells;
        d->dose_max_cells = p->dose_max_cells;
    }
}

/* ---------------------------------------------------------------- §7 claim lines */

static bool is_space_char(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims authorization_id into out; returns false when it is null or blank ("" counts as null). */
static bool trimmed_auth(const char *s, char *out, size_t outlen)
{
    if (!s) return false;
    while (is_space_char(*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && is_space_char(s[n - 1])) n--;
    if (n == 0 || n >= outlen) return false; /* >= outlen cannot pass contract §2 */
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static void check_authorization(const member_history_t *h, const claim_event_t *ev,
                                determination_t *d)
{
    char auth[EVENT_MAX_STRING_BYTES + 1];
    const pa_state_t *only = NULL;
    if (trimmed_auth(ev->authorization_id, auth, sizeof auth)) {
        for (uint32_t i = 0; i < h->n_pas && !only; i++)
            if (strcmp(h->pas[i].pa_id, auth) == 0) only = &h->pas[i];
        if (!only) {
            set(d, CLAIM_AUTHORIZATION, STATUS_NOT_MET, REASON_AUTH_NOT_FOUND);
            return;
        }
    }
    const pa_state_t *matched = NULL;
    uint64_t matched_pos = 0;
    bool pended = false, expired = false, not_yet = false, denied = false;
    const date_t sd = ev->service_date;
    for (uint32_t i = 0; i < h->n_pas; i++) {
        const pa_state_t *s = &h->pas[i];
        if (only && s != only) continue;
        /* The standing determination: the latest approval if any, else the latest one. */
        if (s->has_approved) {
            if (s->valid_from <= sd && sd < s->valid_until) {
                if (!matched || s->approved_pos > matched_pos) {
                    matched = s;
                    matched_pos = s->approved_pos;
                }
            } else if (sd >= s->valid_until) {
                expired = true;
            } else {
                not_yet = true;
            }
        } else if (s->latest_outcome == OUTCOME_PENDED) {
            pended = true;
        } else if (s->latest_outcome == OUTCOME_DENIED) {
            denied = true;
        }
    }
    if (matched) {
        set(d, CLAIM_AUTHORIZATION, STATUS_MET, 0);
        d->matched_pa_id = matched->pa_id;
    } else if (pended) {
        set(d, CLAIM_AUTHORIZATION, STATUS_UNKNOWN, REASON_AUTH_PENDING);
    } else if (expired) {
        set(d, CLAIM_AUTHORIZATION, STATUS_NOT_MET, REASON_AUTH_EXPIRED);
    } else if (not_yet) {
        set(d, CLAIM_AUTHORIZATION, STATUS_NOT_MET, REASON_AUTH_NOT_VALID_ON_SERVICE_DATE);
    } else if (denied) {
        set(d, CLAIM_AUTHORIZATION, STATUS_NOT_MET, REASON_AUTH_DENIED);
    } else {
        set(d, CLAIM_AUTHORIZATION, STATUS_NOT_MET, REASON_AUTH_MISSING);
    }
}

static line_state_t *find_line_n(const member_history_t *h, const char *claim_id, size_t n,
                                 int32_t line_number)
{
    for (uint32_t i = 0; i < h->n_lines; i++) {
        line_state_t *l = &h->lines[i];
        if (l->line_number == line_number && strncmp(l->claim_id, claim_id, n) == 0 &&
            l->claim_id[n] == '\0')
            return l;
    }
    return NULL;
}

static line_state_t *find_line(const member_history_t *h, const char *claim_id, int32_t line_number)
{
    return find_line_n(h, claim_id, strlen(claim_id), line_number);
}

/* Contract §10: the line a REPLACEMENT or VOID names is its original_claim_id with leading and
 * trailing ASCII space, tab, CR and LF removed, compared byte for byte. Sets *start and returns
 * the length (0 for null or blank). */
static size_t reference_view(const char *s, const char **start)
{
    *start = s;
    if (!s) return 0;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    *start = s;
    return n;
}

/* The live line a determination's reference names, or NULL. */
static line_state_t *referenced_line(const member_history_t *h, const char *original_claim_id,
                                     int32_t line_number)
{
    const char *ref;
    size_t n = reference_view(original_claim_id, &ref);
    line_state_t *l = n ? find_line_n(h, ref, n, line_number) : NULL;
    return l && l->live ? l : NULL;
}

void judge_claim(const policy_t *p, const member_history_t *h, const claim_event_t *ev,
                 determination_t *d)
{
    memset(d, 0, sizeof *d);
    d->kind = EVENT_CLAIM;
    d->event_id = ev->event_id;
    d->member_id = ev->member_id;
    d->claim_id = ev->claim_id;
    d->line_number = ev->line_number;
    d->frequency_code = ev->frequency_code;
    d->valid_from = d->valid_until = DATE_NULL;
    d->decision_date = ev->service_date;
    d->policy_version = policy_version_on(p, ev->service_date);

    /* Contract §10: a REPLACEMENT or VOID first names a live billed line, which it reverses;
     * the checks below then see history with that line already reversed. */
    const line_state_t *reversed = NULL;
    if (ev->frequency_code == FREQUENCY_ORIGINAL) {
        set(d, CLAIM_ORIGINAL, STATUS_NOT_APPLICABLE, 0);
    } else {
        d->original_claim_id = ev->original_claim_id;
        reversed = referenced_line(h, ev->original_claim_id, ev->line_number);
        if (!reversed) {
            set(d, CLAIM_ORIGINAL, STATUS_NOT_MET, REASON_ORIGINAL_NOT_FOUND);
            set_rest_not_applicable(d, CLAIM_POLICY);
            d->outcome = OUTCOME_DENIED;
            return;
        }
        set(d, CLAIM_ORIGINAL, STATUS_MET, 0);
        d->reversed_event_id =
            reversed->last_live_approved ? reversed->last_live_approved : reversed->last_live;
        if (ev->frequency_code == FREQUENCY_VOID) {
            set_rest_not_applicable(d, CLAIM_POLICY);
            d->outcome = OUTCOME_APPROVED;
            return;
        }
    }

    if (d->policy_version == DATE_NULL) {
        set(d, CLAIM_POLICY, STATUS_UNKNOWN, REASON_NO_POLICY_IN_EFFECT);
        set_rest_not_applicable(d, CLAIM_DUPLICATE);
        d->outcome = OUTCOME_PENDED;
        return;
    }
    set(d, CLAIM_POLICY, STATUS_MET, 0);

    const line_state_t *line = find_line(h, ev->claim_id, ev->line_number);
    if (line && line != reversed && line->live_final > 0) {
        set(d, CLAIM_DUPLICATE, STATUS_NOT_MET, REASON_DUPLICATE_CLAIM_LINE);
        set_rest_not_applicable(d, CLAIM_HCPCS);
        d->outcome = OUTCOME_DENIED;
        return;
    }
    set(d, CLAIM_DUPLICATE, STATUS_MET, 0);

    char hcpcs[EVENT_MAX_STRING_BYTES + 1];
    normalise_code(ev->hcpcs_code, hcpcs, sizeof hcpcs);
    set(d, CLAIM_HCPCS, string_set_contains(&p->covered_hcpcs, hcpcs) ? STATUS_MET : STATUS_NOT_MET,
        REASON_HCPCS_NOT_COVERED);

    uint32_t n_codes;
    bool melanoma = has_melanoma(p, ev->diagnosis_codes, ev->n_diagnosis_codes, &n_codes);
    if (n_codes == 0)
        set(d, CLAIM_DIAGNOSIS, STATUS_NOT_MET, REASON_DX_MISSING);
    else
        set(d, CLAIM_DIAGNOSIS, melanoma ? STATUS_MET : STATUS_NOT_MET, REASON_DX_NOT_COVERED);

    if (ev->units < 1)
        set(d, CLAIM_UNITS, STATUS_NOT_MET, REASON_UNITS_INVALID);
    else if (ev->units > p->max_units)
        set(d, CLAIM_UNITS, STATUS_NOT_MET, REASON_UNITS_EXCEED_SINGLE_DOSE);
    else
        set(d, CLAIM_UNITS, STATUS_MET, 0);

    if (!ev->has_dose_viable_cells)
        set(d, CLAIM_DOSE, STATUS_NOT_MET, REASON_DOSE_NOT_REPORTED);
    else if (ev->dose_viable_cells < p->dose_min_cells || ev->dose_viable_cells > p->dose_max_cells)
        set(d, CLAIM_DOSE, STATUS_NOT_MET, REASON_DOSE_OUT_OF_RANGE);
    else
        set(d, CLAIM_DOSE, STATUS_MET, 0);

    check_authorization(h, ev, d);

    uint32_t paid = h->paid_doses - (reversed ? reversed->live_approved : 0);
    set(d, CLAIM_SINGLE_DOSE, paid >= (uint32_t)p->max_doses ? STATUS_NOT_MET : STATUS_MET,
        REASON_PRIOR_DOSE_PAID);

    d->outcome = outcome_of(d);
}

/* ---------------------------------------------------------------- history */

static member_history_t *member_get(engine_t *e, const char *member_id, bool create)
{
    uint64_t h = hash_str(member_id);
    member_history_t *m = strmap_get_h(&e->members, member_id, h);
    if (m || !create) return m;
    m = arena_alloc(&e->arena, sizeof *m);
    if (!m) return NULL;
    memset(m, 0, sizeof *m);
    if (!(m->member_id = arena_strdup(&e->arena, member_id))) return NULL;
    if (strmap_put_h(&e->members, m->member_id, h, m) != 0) return NULL;
    return m;
}

/* Grows an arena array by doubling (the old block is simply abandoned to the arena). */
static void *grow(arena_t *a, void *old, uint32_t n, uint32_t *cap, size_t size)
{
    if (n < *cap) return old;
    uint32_t ncap = *cap ? *cap * 2 : 2;
    void *p = arena_alloc(a, ncap * size);
    if (!p) return NULL;
    if (n) memcpy(p, old, n * size);
    *cap = ncap;
    return p;
}

static int history_apply(engine_t *e, member_history_t *m, const determination_t *d, uint64_t pos)
{
    if (d->kind == EVENT_PRIOR_AUTH) {
        pa_state_t *s = NULL;
        for (uint32_t i = 0; i < m->n_pas && !s; i++)
            if (strcmp(m->pas[i].pa_id, d->pa_id) == 0) s = &m->pas[i];
        if (!s) {
            pa_state_t *pas = grow(&e->arena, m->pas, m->n_pas, &m->cap_pas, sizeof *pas);
            if (!pas) return -1;
            m->pas = pas;
            s = &m->pas[m->n_pas++];
            memset(s, 0, sizeof *s);
            s->pa_id = d->pa_id; /* already an arena copy */
        }
        s->latest_pos = pos;
        s->latest_outcome = d->outcome;
        if (d->outcome == OUTCOME_APPROVED) {
            s->has_approved = true;
            s->approved_pos = pos;
            s->valid_from = d->valid_from;
            s->valid_until = d->valid_until;
        }
        return 0;
    }
    /* Contract §10: an accepted VOID or REPLACEMENT reverses every live billed determination
     * of the line it names; then a billed determination (an ORIGINAL, an accepted
     * REPLACEMENT) becomes live on its own line, PENDED ones too (they can be voided). */
    if (determination_reverses(d)) {
        line_state_t *l = referenced_line(m, d->original_claim_id, d->line_number);
        if (l) {
            m->paid_doses -= l->live_approved;
            l->live = l->live_final = l->live_approved = 0;
            l->last_live = l->last_live_approved = NULL;
            l->reversed_at = pos;
        }
    }
    if (!determination_bills(d)) return 0;
    line_state_t *l = find_line(m, d->claim_id, d->line_number);
    if (!l) {
        line_state_t *lines = grow(&e->arena, m->lines, m->n_lines, &m->cap_lines, sizeof *lines);
        if (!lines) return -1;
        m->lines = lines;
        l = &m->lines[m->n_lines++];
        memset(l, 0, sizeof *l);
        l->claim_id = d->claim_id;
        l->line_number = d->line_number;
    }
    l->live++;
    l->last_live = d->event_id;
    if (d->outcome != OUTCOME_PENDED) l->live_final++;
    if (d->outcome == OUTCOME_APPROVED) {
        l->live_approved++;
        l->last_live_approved = d->event_id;
        m->paid_doses++;
    }
    return 0;
}

static const char *dup_or_null(arena_t *a, const char *s, bool *oom)
{
    if (!s) return NULL;
    const char *c = arena_strdup(a, s);
    if (!c) *oom = true;
    return c;
}

/* Copies d and its strings into the arena and indexes it by event_id. */
static stored_t *store(engine_t *e, const determination_t *d, uint64_t fingerprint, uint64_t h)
{
    stored_t *s = arena_alloc(&e->arena, sizeof *s);
    if (!s) return NULL;
    s->det = *d;
    s->fingerprint = fingerprint;
    s->position = ++e->position;
    bool oom = false;
    s->det.event_id = dup_or_null(&e->arena, d->event_id, &oom);
    s->det.member_id = dup_or_null(&e->arena, d->member_id, &oom);
    s->det.pa_id = dup_or_null(&e->arena, d->pa_id, &oom);
    s->det.claim_id = dup_or_null(&e->arena, d->claim_id, &oom);
    s->det.matched_pa_id = dup_or_null(&e->arena, d->matched_pa_id, &oom);
    s->det.original_claim_id = dup_or_null(&e->arena, d->original_claim_id, &oom);
    s->det.reversed_event_id = dup_or_null(&e->arena, d->reversed_event_id, &oom);
    if (oom || strmap_put_h(&e->events, s->det.event_id, h, s) != 0) return NULL;
    return s;
}

int engine_load(engine_t *e, const determination_t *d, uint64_t fingerprint)
{
    uint64_t h = hash_str(d->event_id);
    if (strmap_get_h(&e->events, d->event_id, h)) return 0; /* loaded twice: keep the first */
    stored_t *s = store(e, d, fingerprint, h);
    if (!s) return -1;
    member_history_t *m = member_get(e, s->det.member_id, true);
    if (!m) return -1;
    return history_apply(e, m, &s->det, s->position);
}

int engine_process(engine_t *e, const event_t *ev, const determination_t **out)
{
    const char *event_id = event_id_of(ev);
    uint64_t fp = event_fingerprint(ev);
    uint64_t h = hash_str(event_id);
    stored_t *seen = strmap_get_h(&e->events, event_id, h);
    if (seen) {
        *out = &seen->det;
        return seen->fingerprint == 0 || seen->fingerprint == fp ? ENGINE_REPLAYED
                                                                 : ENGINE_REPLAYED_DIFFERENT;
    }
    /* The member is created before judging so its history is found once; judging never fails. */
    member_history_t *m = member_get(e, event_member_of(ev), true);
    if (!m) return -1;
    determination_t d;
    if (ev->kind == EVENT_PRIOR_AUTH)
        judge_prior_auth(e->policy, m, &ev->pa, &d);
    else
        judge_claim(e->policy, m, &ev->claim, &d);
    determination_id_for(event_id, d.determination_id);
    stored_t *s = store(e, &d, fp, h);
    if (!s || history_apply(e, m, &s->det, s->position) != 0) return -1;
    *out = &s->det;
    return ENGINE_JUDGED;
}
