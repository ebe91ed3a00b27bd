#include "http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

#define HTTP_MAX_REQUEST 8192
#define HTTP_MAX_CONNECTIONS 16
#define HTTP_READ_TIMEOUT_MS 2000
#define HTTP_WRITE_TIMEOUT_MS 2000
/* After the response, unread request bytes are read and dropped for a moment: closing a socket
 * with unread input sends a reset, which can destroy the response before the client reads it. */
#define HTTP_LINGER_MS 500
/* The longest poll(): stop is noticed at once through the wake pipe, at the latest by this. */
#define HTTP_POLL_MS 200
/* After EMFILE the listening socket stays readable; stop polling it for a while, not spin. */
#define HTTP_ACCEPT_PAUSE_MS 100

typedef enum { CONN_FREE = 0, CONN_READING, CONN_WRITING, CONN_DRAINING } conn_state_t;

typedef struct {
    int fd;
    conn_state_t state;
    int64_t deadline_ms;
    size_t in_len;
    char in[HTTP_MAX_REQUEST];
    buf_t out;
    size_t out_sent;
} conn_t;

struct http_server {
    metrics_t *metrics;
    int listen_fd;
    int wake[2]; /* a self-pipe: stop writes a byte so poll() returns at once */
    int port;
    atomic_bool stopping;
    pthread_t thread;
    int64_t accept_paused_until_ms;
    conn_t conns[HTTP_MAX_CONNECTIONS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* ------------------------------------------------------------------ responses */

static void conn_close(conn_t *c)
{
    close(c->fd);
    c->fd = -1;
    c->state = CONN_FREE;
    c->in_len = 0;
    c->out_sent = 0;
    buf_clear(&c->out); /* the capacity is kept for the next connection */
}

static void conn_respond(conn_t *c, int status, const char *reason, const char *content_type,
                         const char *extra_headers, const char *body, size_t body_len)
{
    buf_clear(&c->out);
    c->out_sent = 0;
    int rc = buf_printf(&c->out,
                        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                        "Connection: close\r\n\r\n",
                        status, reason, content_type, body_len, extra_headers);
    rc |= buf_append(&c->out, body, body_len);
    if (rc != 0) {
        conn_close(c);
        return;
    }
    c->state = CONN_WRITING;
    c->deadline_ms = mono_ms() + HTTP_WRITE_TIMEOUT_MS;
}

static void conn_respond_text(conn_t *c, int status, const char *reason, const char *body)
{
    conn_respond(c, status, reason, "text/plain; charset=utf-8", "", body, strlen(body));
}

static void conn_respond_metrics(http_server_t *h, conn_t *c)
{
    /* Render into a scratch buffer, then copy it behind the headers: Content-Length must be
     * known before the headers are written. */
    buf_t body = {0};
    if (metrics_render(h->metrics, &body) != 0) {
        conn_respond_text(c, 500, "Internal Server Error", "cannot render metrics\n");
    } else {
        conn_respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", "",
                     body.data ? body.data : "", body.len);
    }
    buf_free(&body);
}

/* ------------------------------------------------------------------ requests */

/* RFC 9110 token characters, for the method. */
static bool is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* The end of the header block ("\r\n\r\n", or bare "\n\n" from hand-typed requests), or 0. */
static size_t header_end(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] != '\n') continue;
        if (p[i + 1] == '\n') return i + 2;
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') return i + 3;
    }
    return 0;
}

static bool path_is(const char *target, size_t len, const char *path)
{
    size_t n = strlen(path);
    return len == n && memcmp(target, path, n) == 0;
}

/* Answers a complete request held in c->in[0..len). Only the request line matters: no route
 * reads headers or a body. */
static void conn_handle_request(http_server_t *h, conn_t *c, size_t len)
{
    const char *line = c->in;
    const char *eol = memchr(line, '\n', len);
    size_t line_len = (size_t)(eol - line);
    if (line_len && line[line_len - 1] == '\r') line_len--;

    /* method SP request-target SP HTTP-version, nothing else (RFC 9112 §3). */
    const char *sp1 = memchr(line, ' ', line_len);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', line_len - (size_t)(sp1 + 1 - line)) : NULL;
    if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1) {
        conn_respond_text(c, 400, "Bad Request", "bad request\n");
        return;
    }
    size_t method_len = (size_t)(sp1 - line);
    const char *target = sp1 + 1;
    size_t target_len = (size_t)(sp2 - target);
    const char *version = sp2 + 1;
    size_t version_len = line_len - (size_t)(version - line);
    bool ok = version_len == 8 &&
              (memcmp(version, "HTTP/1.1", 8) == 0 || memcmp(version, "HTTP/1.0", 8) == 0);
    for (size_t i = 0; ok && i < method_len; i++) ok = is_tchar(line[i]);
    for (size_t i = 0; ok && i < target_len; i++)
        ok = (unsigned char)target[i] > 0x20 && (unsigned char)target[i] < 0x7f;
    if (!ok) {
        conn_respond_text(c, 400, "Bad Request", "bad request\n");
        return;
    }
    if (method_len != 3 || memcmp(line, "GET", 3) != 0) {
        conn_respond(c, 405, "Method Not Allowed", "text/plain; charset=utf-8", "Allow: GET\r\n",
                     "method not allowed\n", strlen("method not allowed\n"));
        return;
    }
    const char *query = memchr(target, '?', target_len);
    size_t path_len = query ? (size_t)(query - target) : target_len;

    if (path_is(target, path_len, "/metrics")) {
        conn_respond_metrics(h, c);
    } else if (path_is(target, path_len, "/healthz")) {
        if (metrics_is_live(h->metrics))
            conn_respond_text(c, 200, "OK", "ok\n");
        else
            conn_respond_text(c, 503, "Service Unavailable", "worker loop stalled\n");
    } else if (path_is(target, path_len, "/readyz")) {
        if (metrics_is_ready(h->metrics))
            conn_respond_text(c, 200, "OK", "ready\n");
        else
            conn_respond_text(c, 503, "Service Unavailable", "not ready\n");
    } else {
        conn_respond_text(c, 404, "Not Found", "not found\n");
    }
}

/* ------------------------------------------------------------------ connection states */

static void conn_on_readable(http_server_t *h, conn_t *c)
{
    for (;;) {
        if (c->in_len == sizeof c->in) {
            conn_respond_text(c, 431, "Request Header Fields Too Large", "request too large\n");
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            /* The client hung up (or reset) before a whole request: nobody to answer. */
            conn_close(c);
            return;
        }
        size_t scanned = c->in_len > 2 ? c->in_len - 2 : 0;
        c->in_len += (size_t)n;
        size_t end = header_end(c->in + scanned, c->in_len - scanned);
        if (end) {
            conn_handle_request(h, c, scanned + end);
            return;
        }
    }
}

static void conn_on_writable(conn_t *c)
{
    while (c->out_sent < c->out.len) {
        /* MSG_NOSIGNAL: a client gone away must not SIGPIPE the worker process. */
        ssize_t n = send(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0) {
            conn_close(c);
            return;
        }
        c->out_sent += (size_t)n;
    }
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_DRAINING;
    c->deadline_ms = mono_ms() + HTTP_LINGER_MS;
}

static void conn_on_drainable(conn_t *c)
{
    char scratch[4096];
    for (;;) {
        ssize_t n = recv(c->fd, scratch, sizeof scratch, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) break;
    }
    conn_close(c);
}

static void server_accept(http_server_t *h)
{
    for (;;) {
        conn_t *c = NULL;
        for (size_t i = 0; i < HTTP_MAX_CONNECTIONS && !c; i++)
            if (h->conns[i].state == CONN_FREE) c = &h->conns[i];
        if (!c) return; /* the backlog holds the rest until a slot frees */
        int fd = accept(h->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log_at(LOG_WARN, "metrics server cannot accept", "\"error\":\"%s\"",
                       strerror(errno));
                h->accept_paused_until_ms = mono_ms() + HTTP_ACCEPT_PAUSE_MS;
            }
            return;
        }
        if (set_nonblocking(fd) != 0) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->state = CONN_READING;
        c->in_len = 0;
        c->deadline_ms = mono_ms() + HTTP_READ_TIMEOUT_MS;
    }
}

static void *server_main(void *arg)
{
    http_server_t *h = arg;
    struct pollfd fds[2 + HTTP_MAX_CONNECTIONS];
    conn_t *polled[2 + HTTP_MAX_CONNECTIONS];

    while (!atomic_load(&h->stopping)) {
        int64_t now = mono_ms();
        int timeout = HTTP_POLL_MS;
        nfds_t n = 0;
        fds[n++] = (struct pollfd){h->wake[0], POLLIN, 0};
        bool free_slot = false;
        for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
            conn_t *c = &h->conns[i];
            if (c->state == CONN_FREE) {
                free_slot = true;
                continue;
            }
            if (now >= c->deadline_ms) {
                /* Too slow to send a request, to read the answer, or to hang up. */
                conn_close(c);
                free_slot = true;
                continue;
            }
            if (c->deadline_ms - now < timeout) timeout = (int)(c->deadline_ms - now);
            polled[n] = c;
            fds[n++] = (struct pollfd){c->fd, c->state == CONN_WRITING ? POLLOUT : POLLIN, 0};
        }
        nfds_t listen_at = 0;
        if (free_slot && now >= h->accept_paused_until_ms) {
            listen_at = n;
            fds[n++] = (struct pollfd){h->listen_fd, POLLIN, 0};
        }
        int ready = poll(fds, n, timeout);
        if (ready < 0) {
            if (errno != EINTR) {
                log_at(LOG_WARN, "metrics server poll failed", "\"error\":\"%s\"", strerror(errno));
                struct timespec pause = {0, HTTP_ACCEPT_PAUSE_MS * 1000000L};
                nanosleep(&pause, NULL);
            }
            continue;
        }
        if (fds[0].revents) break; /* stop */
        for (nfds_t i = 1; i < n; i++) {
            if (!fds[i].revents) continue;
            if (i == listen_at) {
                server_accept(h);
                continue;
            }
            conn_t *c = polled[i];
            if (c->state == CONN_READING)
                conn_on_readable(h, c);
            else if (c->state == CONN_DRAINING)
                conn_on_drainable(c);
            /* A response is sent at once when the socket takes it; POLLOUT only finishes
             * what did not fit. Errors (POLLERR, POLLHUP) surface from send()/recv(). */
            if (c->state == CONN_WRITING) conn_on_writable(c);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ start and stop */

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

static int server_listen(http_server_t *h, const char *address, char *err, size_t errlen)
{
    char host[256], port[8];
    if (!address || parse_address(address, host, sizeof host, port, sizeof port) != 0) {
        snprintf(err, errlen, "metrics address \"%s\" is not host:port", address ? address : "");
        return -1;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "metrics address %s: %s", address, gai_strerror(gai));
        return -1;
    }
    int last_errno = 0;
    /* The first address that binds: one listening socket, on exactly the address given. */
    for (struct addrinfo *ai = res; ai && h->listen_fd < 0; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        /* A restarted worker rebinds at once instead of waiting out TIME_WAIT sockets. */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (set_nonblocking(fd) != 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
            listen(fd, 64) != 0) {
            last_errno = errno;
            close(fd);
            continue;
        }
        h->listen_fd = fd;
    }
    freeaddrinfo(res);
    if (h->listen_fd < 0) {
        snprintf(err, errlen, "metrics address %s: %s", address, strerror(last_errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(h->listen_fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(err, errlen, "metrics address %s: %s", address, strerror(errno));
        return -1;
    }
    h->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

static void server_free(http_server_t *h)
{
    for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
        if (h->conns[i].state != CONN_FREE) conn_close(&h->conns[i]);
        buf_free(&h->conns[i].out);
    }
    if (h->listen_fd >= 0) close(h->listen_fd);
    if (h->wake[0] >= 0) close(h->wake[0]);
    if (h->wake[1] >= 0) close(h->wake[1]);
    free(h);
}

http_server_t *http_server_start(const char *address, metrics_t *m, char *err, size_t errlen)
{
    http_server_t *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->metrics = m;
    h->listen_fd = h->wake[0] = h->wake[1] = -1;
    atomic_init(&h->stopping, false);
    for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++) h->conns[i].fd = -1;
    if (server_listen(h, address, err, errlen) != 0) goto fail;
    if (pipe(h->wake) != 0 || set_nonblocking(h->wake[0]) != 0 ||
        set_nonblocking(h->wake[1]) != 0) {
        snprintf(err, errlen, "metrics server pipe: %s", strerror(errno));
        goto fail;
    }
    /* Signals stay with the worker's threads: SIGTERM must reach the main loop's handler. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&h->thread, NULL, server_main, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "metrics server thread: %s", strerror(rc));
        goto fail;
    }
    log_at(LOG_INFO, "metrics server listening", "\"address\":\"%.*s\",\"port\":%d",
           (int)strcspn(address, "\"\\"), address, h->port);
    return h;

fail:
    server_free(h);
    return NULL;
}

int http_server_port(const http_server_t *h)
{
    return h->port;
}

void http_server_stop(http_server_t *h)
{
    if (!h) return;
    atomic_store(&h->stopping, true);
    /* If the pipe is full a wake-up is already pending; the poll timeout covers the rest. */
    ssize_t ignored = write(h->wake[1], "x", 1);
    (void)ignored;
    pthread_join(h->thread, NULL);
    server_free(h);
}
