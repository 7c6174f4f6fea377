/* segue serve: the HTTP service applications and monitoring talk to.
 * OFREP flag evaluation (routing), Prometheus /metrics, the JSON API and
 * /healthz, on libmicrohttpd. Built on libsegue's public API only, like the
 * CLI that starts it.
 *
 * Threads: libmicrohttpd's own (requests), one that reads each migration's
 * routing every serve.refresh, one that reads each migration's status.
 * Requests only read what those two threads published, under a lock: no
 * request waits on a database. */
#ifndef SEGUE_HTTP_H
#define SEGUE_HTTP_H

#include <segue/segue.h>
#include <stddef.h>

typedef struct http_server http_server;

/* Where a message goes: level as SG_LOG_*, msg borrowed for the call. */
typedef void (*http_log_fn)(void *ud, int level, const char *msg);

typedef struct http_config {
    const char *listen;       /* "HOST:PORT" or "[V6]:PORT"; port 0 picks one */
    const char *token;        /* needed as "Authorization: Bearer T" or
                               * "X-API-Key: T" on every path but /healthz;
                               * NULL: none (only allowed on loopback) */
    const char **specs;       /* the migrations' spec files, borrowed during
                               * http_start */
    size_t n_specs;
    http_log_fn log;
    void *log_ud;
} http_config;

/* Opens each spec (read-only) and a router on it, starts the threads and
 * listens. On failure returns the library's error code (SG_ESPEC, SG_EDB),
 * or SG_EINVAL for a bad address or a non-loopback one without a token,
 * with the reason in err (what, the address, a hint); *out NULL. */
int http_start(http_server **out, const http_config *c, char *err, size_t err_len);
/* The address listened on, with the port chosen: "http://127.0.0.1:8321".
 * Borrowed from the server. */
const char *http_url(const http_server *s);
/* Stops listening, ends the threads, frees everything. NULL allowed. */
void http_stop(http_server *s);

#endif
