#include "http_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "log.h"

#define HTTP_MAX_CONNECTIONS 16u
#define HTTP_TIMEOUT_S 2u
/* Per connection, for the request head, MHD's bookkeeping and the response headers: heads of
 * up to about 12 KB pass (Prometheus and kubelet send a few hundred bytes), larger ones are
 * refused. */
#define HTTP_MEMORY_LIMIT ((size_t)12 * 1024)

struct http_server {
    struct MHD_Daemon *daemon;
    metrics_t *metrics;
    int port;
    pthread_t starter;
    char start_error[256]; /* MHD's last message while starting, for err */
};

/* MHD's messages become JSON lines at debug level: a client can provoke them at will. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    http_server_t *h = cls;
    char text[sizeof h->start_error];
    vsnprintf(text, sizeof text, fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    /* Only the starting thread writes here, never MHD's own. */
    if (pthread_equal(pthread_self(), h->starter)) memcpy(h->start_error, text, sizeof text);
    log_at(LOG_DEBUG, "metrics server", "\"detail\":\"%s\"", text);
}

/* RFC 9110 token characters. MHD passes any method on. */
static bool is_token(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s)))
            return false;
    return true;
}

/* No control characters, spaces or non-ASCII bytes in the (decoded) path. */
static bool is_clean_path(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return false;
    return true;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               void *body, size_t len, enum MHD_ResponseMemoryMode mode,
                               bool allow_get)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE) free(body);
        return MHD_NO; /* MHD closes the connection */
    }
    enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    /* One request per connection: nothing for a slow or hostile client to hold open. */
    if (ok == MHD_YES) ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    if (ok == MHD_YES && allow_get) ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
    if (ok == MHD_YES) ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    return respond(c, status, "text/plain; charset=utf-8", (void *)text, strlen(text),
                   MHD_RESPMEM_PERSISTENT, false);
}

/* Called once per request, once its head is in; no route reads a body, so it answers at once
 * (MHD then closes rather than read an upload nobody wants). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    http_server_t *h = cls;
    (void)version, (void)upload_data, (void)upload_data_size, (void)req_cls;

    if (!is_token(method) || !is_clean_path(url)) return respond_text(c, 400, "bad request\n");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
        /* MHD never sends a body to HEAD, so none is declared: Content-Length stays true. */
        static const char text[] = "method not allowed\n";
        size_t len = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? 0 : sizeof text - 1;
        return respond(c, 405, "text/plain; charset=utf-8", (void *)text, len,
                       MHD_RESPMEM_PERSISTENT, true);
    }
    if (strcmp(url, "/metrics") == 0) {
        buf_t b = {0};
        if (metrics_render(h->metrics, &b) != 0) {
            buf_free(&b);
            return respond_text(c, 500, "cannot render metrics\n");
        }
        /* MHD frees the body with free() once it is sent. */
        return respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len,
                       MHD_RESPMEM_MUST_FREE, false);
    }
    if (strcmp(url, "/healthz") == 0)
        return metrics_is_live(h->metrics) ? respond_text(c, 200, "ok\n")
                                           : respond_text(c, 503, "worker loop stalled\n");
    if (strcmp(url, "/readyz") == 0)
        return metrics_is_ready(h->metrics) ? respond_text(c, 200, "ready\n")
                                            : respond_text(c, 503, "not ready\n");
    return respond_text(c, 404, "not found\n");
}

/* Splits "host:port" or "[v6]:port" into host and port; no default host, so nothing is
 * exposed on every interface by accident. */
static int parse_address(const char *address, char *host, size_t hostlen, char *port,
                         size_t portlen)
{
    const char *colon = strrchr(address, ':');
    if (!colon) return -1;
    const char *h = address;
    size_t hl = (size_t)(colon - address);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    } else if (memchr(h, ':', hl)) {
        return -1; /* an IPv6 address needs brackets */
    }
    const char *p = colon + 1;
    size_t pl = strlen(p);
    if (hl == 0 || hl >= hostlen || pl == 0 || pl > 5 || pl >= portlen) return -1;
    for (size_t i = 0; i < pl; i++)
        if (p[i] < '0' || p[i] > '9') return -1;
    if (atoi(p) > 65535) return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, p, pl + 1);
    return 0;
}

http_server_t *http_server_start(const char *address, metrics_t *m, char *err, size_t errlen)
{
    char host[256], port[8];
    if (!address || parse_address(address, host, sizeof host, port, sizeof port) != 0) {
        snprintf(err, errlen, "metrics address \"%s\" is not host:port", address ? address : "");
        return NULL;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "metrics address %s: %s", address, gai_strerror(gai));
        return NULL;
    }
    http_server_t *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(res);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->metrics = m;
    h->starter = pthread_self();

    /* One listening socket, on the first resolved address that binds (MHD sets SO_REUSEADDR,
     * so a restarted worker rebinds at once). MHD blocks SIGPIPE in its thread and sends with
     * MSG_NOSIGNAL; the other signals are blocked here so that its thread inherits the mask
     * and they stay with the worker's threads (SIGTERM must reach the main loop's handler). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (struct addrinfo *ai = res; ai && !h->daemon; ai = ai->ai_next) {
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
        if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
        /* The port is only for MHD's messages; the socket address carries it too. */
        h->daemon = MHD_start_daemon(
            flags, (uint16_t)atoi(port), NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
            mhd_log, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
            HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_MEMORY_LIMIT, MHD_OPTION_END);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    freeaddrinfo(res);
    const union MHD_DaemonInfo *info =
        h->daemon ? MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || info->port == 0) {
        snprintf(err, errlen, "metrics address %s: %s", address,
                 h->start_error[0] ? h->start_error : "cannot start the HTTP server");
        http_server_stop(h);
        return NULL;
    }
    h->port = info->port;
    log_at(LOG_INFO, "metrics server listening", "\"address\":\"%s\",\"port\":%d", address,
           h->port);
    return h;
}

int http_server_port(const http_server_t *h)
{
    return h->port;
}

void http_server_stop(http_server_t *h)
{
    if (!h) return;
    /* Wakes MHD's thread through its pipe, joins it and closes every socket. */
    if (h->daemon) MHD_stop_daemon(h->daemon);
    free(h);
}
