/* Confluent Schema Registry client: every libcurl call of the project is here. */
#include "registry.h"

#include "buf.h"
#include "lru.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_URLS 16
#define CONNECT_TIMEOUT_MS 2000L
#define CACHE_BUCKETS 2048 /* power of two, twice REGISTRY_CACHE_MAX_IDS */
#define MSG_MAX 300        /* the registry's message quoted in err, at most */
#define CONTENT_TYPE "application/vnd.schemaregistry.v1+json"

typedef struct centry {
    int32_t id;
    char *text;
    size_t len;
    struct centry *hnext; /* bucket chain */
    lru_link_t lru;       /* in the cache's LRU list */
} centry_t;

struct registry {
    pthread_mutex_t mu;
    size_t n_urls;
    char *urls[MAX_URLS];    /* base URLs as given, trailing '/' removed */
    char *display[MAX_URLS]; /* the same without user:password@, for error texts */
    size_t current;          /* the last URL that answered */
    char *basic_auth;
    char *secret; /* the password part of basic_auth (or a URL's), never printed */
    char *url_secrets[MAX_URLS];
    char *ca_location;
    long timeout_ms;
    CURL *curl; /* one handle: its connections are kept alive between requests */
    struct curl_slist *headers;
    centry_t *buckets[CACHE_BUCKETS];
    lru_list_t lru; /* the cached ids, most recently used first */
    size_t cache_ids, cache_bytes;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *registry_status_name(registry_status_t s)
{
    switch (s) {
    case REGISTRY_OK:
        return "ok";
    case REGISTRY_NOT_FOUND:
        return "not_found";
    case REGISTRY_REFUSED:
        return "refused";
    case REGISTRY_UNAVAILABLE:
        return "unavailable";
    case REGISTRY_UNREADABLE:
        return "unreadable";
    }
    return "unknown";
}

/* ------------------------------------------------------------------ URLs */

static bool has_prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* The authority's user:password@ part: [*start, *end) holds "user:password@" or is empty. */
static void userinfo_span(const char *url, const char **start, const char **end)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t auth_len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth_len);
    /* the last '@' of the authority ends the userinfo */
    for (const char *q = at; q && q < p + auth_len;
         q = memchr(q + 1, '@', auth_len - (size_t)(q + 1 - p)))
        at = q;
    *start = p;
    *end = at ? at + 1 : p;
}

static char *strndup_or_null(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static int add_url(registry_t *r, const char *s, size_t n, char *err, size_t errlen)
{
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    while (n && s[n - 1] == '/') n--;
    if (!n) return 0;
    if (r->n_urls == MAX_URLS)
        return snprintf(err, errlen, "schema.registry.url: more than %d URLs", MAX_URLS), -1;
    char *url = strndup_or_null(s, n);
    if (!url) return snprintf(err, errlen, "out of memory"), -1;
    const char *us, *ue;
    userinfo_span(url, &us, &ue);
    buf_t d = {0};
    buf_append(&d, url, (size_t)(us - url));
    if (ue > us) buf_append_str(&d, "****@");
    buf_append_str(&d, ue);
    size_t i = r->n_urls++;
    r->urls[i] = url;
    r->display[i] = d.data;
    if (ue > us) {
        const char *colon = memchr(us, ':', (size_t)(ue - us));
        if (colon && ue - 1 > colon + 1)
            r->url_secrets[i] = strndup_or_null(colon + 1, (size_t)(ue - 1 - (colon + 1)));
    }
    if (!d.data) return snprintf(err, errlen, "out of memory"), -1;
    if (!has_prefix_ci(url, "http://") && !has_prefix_ci(url, "https://")) {
        snprintf(err, errlen, "schema.registry.url: '%s' is not an http:// or https:// URL",
                 r->display[i]);
        return -1;
    }
    if (strchr(url, '?') || strchr(url, '#')) {
        snprintf(err, errlen, "schema.registry.url: '%s' has a query or fragment", r->display[i]);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ life */

registry_t *registry_new(const registry_config_t *cfg, char *err, size_t errlen)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl global init failed: %s", curl_easy_strerror(curl_init_rc));
        return NULL;
    }
    registry_t *r = calloc(1, sizeof *r);
    if (!r) return snprintf(err, errlen, "out of memory"), NULL;
    pthread_mutex_init(&r->mu, NULL);
    const char *urls = cfg && cfg->urls ? cfg->urls : "";
    for (const char *p = urls;;) {
        size_t n = strcspn(p, ",");
        if (add_url(r, p, n, err, errlen) != 0) goto fail;
        if (!p[n]) break;
        p += n + 1;
    }
    if (!r->n_urls) {
        snprintf(err, errlen, "schema.registry.url: no URL given");
        goto fail;
    }
    if (cfg->basic_auth && cfg->basic_auth[0]) {
        const char *colon = strchr(cfg->basic_auth, ':');
        if (!colon || colon == cfg->basic_auth) {
            snprintf(err, errlen,
                     "schema.registry.basic.auth.user.info: expected user:password (the value "
                     "is not shown)");
            goto fail;
        }
        r->basic_auth = strdup(cfg->basic_auth);
        if (colon[1]) r->secret = strdup(colon + 1);
        if (!r->basic_auth || (colon[1] && !r->secret)) goto oom;
    }
    if (cfg->ca_location && cfg->ca_location[0] && !(r->ca_location = strdup(cfg->ca_location)))
        goto oom;
    r->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
    r->curl = curl_easy_init();
    if (!r->curl) {
        snprintf(err, errlen, "libcurl: could not make a handle");
        goto fail;
    }
    struct curl_slist *h =
        curl_slist_append(NULL, "Accept: " CONTENT_TYPE ", application/vnd.schemaregistry+json, "
                                "application/json");
    if (h) r->headers = h, h = curl_slist_append(h, "Content-Type: " CONTENT_TYPE);
    if (!h) goto oom;
    r->headers = h;
    return r;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    registry_free(r);
    return NULL;
}

static void cache_clear(registry_t *r)
{
    for (lru_link_t *l = r->lru.head, *next; l; l = next) {
        next = l->next;
        centry_t *e = LRU_ENTRY(l, centry_t, lru);
        free(e->text);
        free(e);
    }
    memset(r->buckets, 0, sizeof r->buckets);
    r->lru = (lru_list_t){NULL, NULL};
    r->cache_ids = r->cache_bytes = 0;
}

void registry_free(registry_t *r)
{
    if (!r) return;
    cache_clear(r);
    if (r->curl) curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    for (size_t i = 0; i < r->n_urls; i++) {
        free(r->urls[i]);
        free(r->display[i]);
        free(r->url_secrets[i]);
    }
    free(r->basic_auth);
    free(r->secret);
    free(r->ca_location);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ------------------------------------------------------------------ cache */

static size_t bucket_of(int32_t id)
{
    return (size_t)(((uint32_t)id * 2654435761u) >> 21) & (CACHE_BUCKETS - 1);
}

static centry_t *cache_find(registry_t *r, int32_t id)
{
    for (centry_t *e = r->buckets[bucket_of(id)]; e; e = e->hnext)
        if (e->id == id) {
            lru_touch(&r->lru, &e->lru);
            return e;
        }
    return NULL;
}

static void cache_evict(registry_t *r, centry_t *e)
{
    centry_t **pp = &r->buckets[bucket_of(e->id)];
    while (*pp != e) pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(&r->lru, &e->lru);
    r->cache_ids--;
    r->cache_bytes -= e->len;
    free(e->text);
    free(e);
}

/* Takes text (malloc'ed) on success; on failure (out of memory) the caller keeps it. */
static int cache_put(registry_t *r, int32_t id, char *text, size_t len)
{
    if (len > REGISTRY_CACHE_MAX_BYTES) return -1;
    centry_t *e = calloc(1, sizeof *e);
    if (!e) return -1;
    while (r->lru.tail && (r->cache_ids >= REGISTRY_CACHE_MAX_IDS ||
                           r->cache_bytes + len > REGISTRY_CACHE_MAX_BYTES))
        cache_evict(r, LRU_ENTRY(r->lru.tail, centry_t, lru));
    e->id = id;
    e->text = text;
    e->len = len;
    size_t b = bucket_of(id);
    e->hnext = r->buckets[b];
    r->buckets[b] = e;
    lru_push_front(&r->lru, &e->lru);
    r->cache_ids++;
    r->cache_bytes += len;
    return 0;
}

/* ------------------------------------------------------------------ HTTP */

typedef struct {
    buf_t body;
    bool too_big;
} answer_t;

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    answer_t *a = ud;
    size_t len = size * n;
    if (a->body.len + len > REGISTRY_MAX_ANSWER_BYTES) {
        a->too_big = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (buf_append(&a->body, p, len) != 0) return 0;
    return len;
}

/* True when text holds one of the secrets (then it is not quoted). */
static bool holds_secret(const registry_t *r, const char *text)
{
    if (r->secret && r->secret[0] && strstr(text, r->secret)) return true;
    for (size_t i = 0; i < r->n_urls; i++)
        if (r->url_secrets[i] && r->url_secrets[i][0] && strstr(text, r->url_secrets[i]))
            return true;
    return false;
}

/* The registry's {"error_code": N, "message": "..."} for err, or the start of a non-JSON body
 * (printable ASCII only), secrets withheld. */
static void describe_error_body(const registry_t *r, const answer_t *a, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!a->body.len) return;
    json_t *j = json_loadb(a->body.data, a->body.len, 0, NULL);
    char msg[MSG_MAX + 1] = "";
    long long code = -1;
    if (json_is_object(j)) {
        json_t *c = json_object_get(j, "error_code");
        if (json_is_integer(c)) code = json_integer_value(c);
        json_t *m = json_object_get(j, "message");
        if (json_is_string(m)) snprintf(msg, sizeof msg, "%s", json_string_value(m));
    } else {
        size_t n = 0;
        for (size_t i = 0; i < a->body.len && n < 120; i++) {
            unsigned char ch = (unsigned char)a->body.data[i];
            msg[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
        }
        msg[n] = '\0';
    }
    json_decref(j);
    if (holds_secret(r, msg)) snprintf(msg, sizeof msg, "(message withheld: it quotes a secret)");
    if (code >= 0 && msg[0])
        snprintf(out, outlen, ", error_code %lld: %s", code, msg);
    else if (code >= 0)
        snprintf(out, outlen, ", error_code %lld", code);
    else if (msg[0])
        snprintf(out, outlen, ": %s", msg);
}

static long error_code_of(const answer_t *a)
{
    json_t *j = json_loadb(a->body.data ? a->body.data : "", a->body.len, 0, NULL);
    long code = -1;
    json_t *c = json_object_get(j, "error_code");
    if (json_is_integer(c)) code = (long)json_integer_value(c);
    json_decref(j);
    return code;
}

/* One request to URL i. On REGISTRY_OK, *json is the parsed 2xx answer (caller decrefs); on
 * NOT_FOUND / REFUSED, *http and a->body tell the caller why (err is filled generically). */
static registry_status_t attempt(registry_t *r, size_t i, const char *path, const char *post,
                                 answer_t *a, long *http, json_t **json, char *err, size_t errlen)
{
    CURL *h = r->curl;
    char url[4096], cerr[CURL_ERROR_SIZE] = "";
    if ((size_t)snprintf(url, sizeof url, "%s%s", r->urls[i], path) >= sizeof url) {
        snprintf(err, errlen, "schema registry %s: URL too long", r->display[i]);
        return REGISTRY_REFUSED;
    }
    buf_clear(&a->body);
    a->too_big = false;
    *http = 0;
    *json = NULL;
    curl_easy_reset(h); /* keeps live connections */
    long connect_ms = r->timeout_ms < CONNECT_TIMEOUT_MS ? r->timeout_ms : CONNECT_TIMEOUT_MS;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "amtagvi-adjudicator/" AMTAGVI_VERSION);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    if (r->basic_auth) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, r->basic_auth);
    }
    if (r->ca_location) curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_location);
    if (post) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(post));
    }
    CURLcode cc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL); /* cerr goes out of scope */
    if (cc != CURLE_OK) {
        if (a->too_big) {
            snprintf(err, errlen, "schema registry %s: the answer is larger than %zu bytes",
                     r->display[i], (size_t)REGISTRY_MAX_ANSWER_BYTES);
            return REGISTRY_REFUSED;
        }
        const char *why = cerr[0] && !holds_secret(r, cerr) ? cerr : curl_easy_strerror(cc);
        snprintf(err, errlen, "schema registry %s unavailable: %s", r->display[i], why);
        return REGISTRY_UNAVAILABLE;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http);
    char detail[MSG_MAX + 64];
    if (*http >= 200 && *http < 300) {
        json_error_t je;
        *json = json_loadb(a->body.data ? a->body.data : "", a->body.len, 0, &je);
        if (!json_is_object(*json)) {
            json_decref(*json);
            *json = NULL;
            snprintf(err, errlen,
                     "schema registry %s unavailable: HTTP %ld with an answer that is not a JSON "
                     "object",
                     r->display[i], *http);
            return REGISTRY_UNAVAILABLE;
        }
        return REGISTRY_OK;
    }
    describe_error_body(r, a, detail, sizeof detail);
    if (*http == 404) {
        /* Only the registry's own "not found" (error_code 404xx: 40401 subject, 40403 schema)
         * is permanent. A 404 without it comes from something else on that URL (a wrong path
         * prefix, a proxy): treated as unavailable, so messages are not dead-lettered for a
         * configuration mistake. */
        long code = error_code_of(a);
        if (code >= 40400 && code <= 40499) {
            snprintf(err, errlen, "schema registry %s: HTTP 404%s", r->display[i], detail);
            return REGISTRY_NOT_FOUND;
        }
        snprintf(err, errlen,
                 "schema registry %s unavailable: HTTP 404 without the registry's error_code "
                 "(is the URL the registry's base URL?)%s",
                 r->display[i], detail);
        return REGISTRY_UNAVAILABLE;
    }
    if (*http == 408 || *http == 429 || *http >= 500 || *http < 200 ||
        (*http >= 300 && *http < 400)) {
        snprintf(err, errlen, "schema registry %s unavailable: HTTP %ld%s", r->display[i], *http,
                 detail);
        return REGISTRY_UNAVAILABLE;
    }
    if (*http == 401 || *http == 403)
        snprintf(err, errlen,
                 "schema registry %s refused the credentials: HTTP %ld%s (check "
                 "schema.registry.basic.auth.user.info)",
                 r->display[i], *http, detail);
    else
        snprintf(err, errlen, "schema registry %s refused the request: HTTP %ld%s", r->display[i],
                 *http, detail);
    return REGISTRY_REFUSED;
}

/* The request on the last URL that answered, then the others in order. Called locked. */
static registry_status_t request(registry_t *r, const char *path, const char *post, answer_t *a,
                                 long *http, size_t *url_index, json_t **json, char *err,
                                 size_t errlen)
{
    char last[512] = "";
    size_t start = r->current;
    for (size_t k = 0; k < r->n_urls; k++) {
        size_t i = (start + k) % r->n_urls;
        registry_status_t st = attempt(r, i, path, post, a, http, json, last, sizeof last);
        if (st != REGISTRY_UNAVAILABLE) {
            r->current = i;
            *url_index = i;
            snprintf(err, errlen, "%s", last);
            return st;
        }
    }
    if (r->n_urls == 1)
        snprintf(err, errlen, "%s", last);
    else
        snprintf(err, errlen, "all %zu schema registry URLs unavailable; the last: %s", r->n_urls,
                 last);
    return REGISTRY_UNAVAILABLE;
}

/* ------------------------------------------------------------------ API */

registry_status_t registry_schema_by_id(registry_t *r, int32_t id, char **schema_json, char *err,
                                        size_t errlen)
{
    *schema_json = NULL;
    if (id < 0) {
        snprintf(err, errlen, "schema id %ld is negative: no registry id", (long)id);
        return REGISTRY_NOT_FOUND;
    }
    pthread_mutex_lock(&r->mu);
    centry_t *e = cache_find(r, id);
    if (e) {
        *schema_json = strndup_or_null(e->text, e->len);
        pthread_mutex_unlock(&r->mu);
        if (!*schema_json) return snprintf(err, errlen, "out of memory"), REGISTRY_UNAVAILABLE;
        return REGISTRY_OK;
    }
    char path[64], inner[512];
    snprintf(path, sizeof path, "/schemas/ids/%ld", (long)id);
    answer_t a = {0};
    long http;
    size_t ui = 0;
    json_t *j = NULL;
    registry_status_t st = request(r, path, NULL, &a, &http, &ui, &j, inner, sizeof inner);
    if (st == REGISTRY_REFUSED && a.too_big) st = REGISTRY_UNREADABLE;
    if (st == REGISTRY_NOT_FOUND) {
        snprintf(err, errlen, "schema id %ld not found in the schema registry (%s)", (long)id,
                 inner);
    } else if (st != REGISTRY_OK) {
        snprintf(err, errlen, "schema id %ld: %s", (long)id, inner);
    } else {
        json_t *schema = json_object_get(j, "schema");
        json_t *type = json_object_get(j, "schemaType");
        json_t *refs = json_object_get(j, "references");
        if (!json_is_string(schema)) {
            snprintf(err, errlen,
                     "schema id %ld: schema registry %s answered without a \"schema\" string",
                     (long)id, r->display[ui]);
            st = REGISTRY_UNAVAILABLE;
        } else if (type && !json_is_null(type) &&
                   !(json_is_string(type) && strcasecmp(json_string_value(type), "AVRO") == 0)) {
            char tname[40];
            snprintf(tname, sizeof tname, "%s",
                     json_is_string(type) ? json_string_value(type) : "(not a string)");
            for (char *p = tname; *p; p++)
                if (!isprint((unsigned char)*p)) *p = '?';
            snprintf(err, errlen, "schema id %ld is a %s schema, not AVRO: not readable here",
                     (long)id, tname);
            st = REGISTRY_UNREADABLE;
        } else if (json_is_array(refs) && json_array_size(refs) > 0) {
            snprintf(err, errlen,
                     "schema id %ld uses %zu schema references, which are not supported", (long)id,
                     json_array_size(refs));
            st = REGISTRY_UNREADABLE;
        } else {
            size_t len = json_string_length(schema);
            char *text = strndup_or_null(json_string_value(schema), len);
            char *copy = text ? strndup_or_null(text, len) : NULL;
            if (!text || !copy) {
                free(text);
                free(copy);
                snprintf(err, errlen, "out of memory");
                st = REGISTRY_UNAVAILABLE;
            } else {
                if (cache_put(r, id, text, len) != 0) free(text);
                *schema_json = copy;
            }
        }
    }
    pthread_mutex_unlock(&r->mu);
    json_decref(j);
    buf_free(&a.body);
    return st;
}

registry_status_t registry_register(registry_t *r, const char *subject, const char *schema_json,
                                    int32_t *id, char *err, size_t errlen)
{
    *id = -1;
    if (!subject || !subject[0]) return snprintf(err, errlen, "empty subject"), REGISTRY_REFUSED;
    json_t *req = json_pack("{s:s}", "schema", schema_json ? schema_json : "");
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) {
        snprintf(err, errlen, "subject %s: the schema text is not valid UTF-8 (or out of memory)",
                 subject);
        return REGISTRY_REFUSED;
    }
    pthread_mutex_lock(&r->mu);
    char *esc = curl_easy_escape(r->curl, subject, 0);
    buf_t path = {0};
    if (esc) buf_printf(&path, "/subjects/%s/versions", esc);
    curl_free(esc);
    registry_status_t st;
    answer_t a = {0};
    json_t *j = NULL;
    if (!path.data) {
        snprintf(err, errlen, "out of memory");
        st = REGISTRY_UNAVAILABLE;
    } else {
        char inner[512];
        long http;
        size_t ui = 0;
        st = request(r, path.data, body, &a, &http, &ui, &j, inner, sizeof inner);
        if (st == REGISTRY_OK) {
            json_t *jid = json_object_get(j, "id");
            json_int_t v = json_is_integer(jid) ? json_integer_value(jid) : -1;
            if (v < 0 || v > INT32_MAX) {
                snprintf(err, errlen,
                         "subject %s: schema registry %s answered without an id in 0..%ld", subject,
                         r->display[ui], (long)INT32_MAX);
                st = REGISTRY_UNAVAILABLE;
            } else {
                *id = (int32_t)v;
            }
        } else if (st == REGISTRY_REFUSED && http == 409) {
            snprintf(err, errlen,
                     "subject %s: the schema is incompatible with the registered "
                     "versions (%s)",
                     subject, inner);
        } else if (st == REGISTRY_REFUSED && http == 422) {
            snprintf(err, errlen, "subject %s: the registry found the schema invalid (%s)", subject,
                     inner);
        } else {
            snprintf(err, errlen, "subject %s: %s", subject, inner);
        }
    }
    pthread_mutex_unlock(&r->mu);
    json_decref(j);
    buf_free(&a.body);
    buf_free(&path);
    free(body);
    return st;
}

int registry_subject(const char *strategy, const char *topic, const char *record_full_name,
                     char *out, size_t outlen)
{
    if (!out || !outlen || !strategy || !record_full_name || !record_full_name[0]) return -1;
    out[0] = '\0';
    int n;
    if (strcmp(strategy, "record") == 0) {
        n = snprintf(out, outlen, "%s", record_full_name);
    } else if (strcmp(strategy, "topic_record") == 0) {
        if (!topic || !topic[0]) return -1;
        n = snprintf(out, outlen, "%s-%s", topic, record_full_name);
    } else {
        return -1;
    }
    if (n < 0 || (size_t)n >= outlen) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
