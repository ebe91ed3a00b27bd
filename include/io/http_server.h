/**
 * @file http_server.h
 * @brief A tiny HTTP/1.1 server on its own thread for Prometheus and Kubernetes probes.
 *
 * Routes (GET only; other methods get 405, other paths 404):
 * - `/metrics`: metrics_render(), `text/plain; version=0.0.4`;
 * - `/healthz`: 200 "ok" while the worker loop ticks within the stall limit, else 503;
 * - `/readyz`: 200 "ready" while the worker says it is ready, else 503.
 *
 * Built on libmicrohttpd, on its own internal thread: one request per connection
 * (`Connection: close`), at most 16 connections, 12 KiB of memory each (a request head of up
 * to about 12 KB; larger ones are refused) and a 2 s idle timeout, so a slow or hostile client
 * delays nobody else. HEAD gets 405 too. Requests the library cannot parse get its own answer
 * (400 or 505 with an HTML page, or a close); its messages go to the JSON log at debug level.
 * The worker thread only ever touches the registry; nothing here can block it.
 *
 * Example: `http_server_start("127.0.0.1:9464", m, err, sizeof err)`. Bind a routable
 * address only where the network is trusted: the endpoints carry no PHI, but no
 * authentication either.
 */
#ifndef AMTAGVI_HTTP_SERVER_H
#define AMTAGVI_HTTP_SERVER_H

#include <stddef.h>

#include "metrics.h"

typedef struct http_server http_server_t;

/**
 * @brief Binds address ("host:port", "[v6]:port"; port 0 picks a free one) and starts serving
 * m, which must outlive the server. Only that address is bound.
 * @returns the server, or NULL with err (bad address, bind failure, out of memory).
 */
http_server_t *http_server_start(const char *address, metrics_t *m, char *err, size_t errlen);

/** @brief The port actually bound (useful after port 0). */
int http_server_port(const http_server_t *h);

/**
 * @brief Stops serving at once (MHD wakes its thread through a pipe), joins the thread, closes
 * every socket and frees h. NULL is a no-op.
 */
void http_server_stop(http_server_t *h);

#endif
