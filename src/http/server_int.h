/* What the service's files share: the server, one entry per migration with
 * what its threads last read, a request and the ways to answer it. */
#ifndef SEGUE_HTTP_SERVER_INT_H
#define SEGUE_HTTP_SERVER_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <segue/outcomes.h>
#include <segue/shadow.h>

#include "http.h"

struct MHD_Connection;
struct MHD_Daemon;

/* OFREP answers counted per migration, flag and reason (metrics). */
typedef enum http_eval {
    HTTP_EVAL_STATIC = 0,
    HTTP_EVAL_SPLIT,
    HTTP_EVAL_DISABLED,
    HTTP_EVAL_TARGETING_KEY_MISSING,
    HTTP_EVAL_INVALID_CONTEXT,
    HTTP_EVAL_GENERAL,
    HTTP_EVAL_TARGETING_MATCH,    /* a segment of cutover.segments decided */
    HTTP_EVAL_N
} http_eval;
const char *http_eval_name(http_eval e);

enum { HTTP_FLAG_READS = 0, HTTP_FLAG_WRITES = 1, HTTP_FLAG_N };

/* An application outcome taken by POST /api/v1/events, waiting for the
 * status thread to report it through the migration's router. */
typedef struct http_event {
    int side;
    bool ok;
    double ms;
    char kind[SG_OUTCOME_KIND_MAX + 1];
} http_event;

/* One audit row as the dashboard shows it. */
typedef struct http_audit {
    char at[32], who[64], action[40], from[24], to[24], detail[240], reason[160];
} http_audit;
#define HTTP_AUDIT_TAIL 20

/* One point of the dashboard's charts, taken every HTTP_SAMPLE_MS. */
typedef struct http_sample {
    int64_t at_ms;                /* wall clock */
    double lag_s;
    double heartbeat_lag_s;       /* -1 unknown */
    int64_t backlog;
    int64_t rows;                 /* backfill rows copied */
    double shadow_mismatch_rate;  /* over the shadow window; -1 none */
    int64_t app_ops[2], app_errors[2]; /* totals so far, per side */
} http_sample;
#define HTTP_SAMPLE_MS 10000
#define HTTP_SAMPLES 360          /* an hour */

/* Events waiting per migration; more are refused (503) until drained. */
#define HTTP_EVENTS_QUEUED 100000

/* Running totals of a migration's application outcomes (totals.c): the
 * settled minutes, read once (and again every hour), up to to_ms. Status
 * thread only. */
typedef struct http_totals {
    sg_outcome *settled;
    size_t n_settled;
    int64_t to_ms;      /* ms since the epoch; 0: nothing read yet */
    int64_t resync_ms;  /* when to read every settled minute again */
} http_totals;
/* Every outcome reported so far (*out: free it), reading only the minutes
 * not yet settled, now_ms the wall clock. Errors: those of
 * sg_migration_outcomes_between (message on m). */
int http_totals_read(http_totals *t, sg_migration *m, int64_t now_ms, sg_outcome **out,
                     size_t *n);
void http_totals_free(http_totals *t);

/* A migration served. The fields under "guarded" are written by the
 * service's threads and read by requests, both under http_server.lock. */
typedef struct http_mig {
    char *name;
    char *spec;                   /* its path */
    sg_migration *m;              /* status thread only; reopened after a
                                   * failure and while not started */
    sg_router *router;            /* routing thread only */
    sg_router *reporter;          /* status thread only: writes the events */
    /* guarded */
    bool routing_ok;              /* a routing was read */
    sg_route_state routing;       /* the last one */
    sg_segments *segments;        /* the segments its router applies, or NULL */
    int64_t routing_read_ms;      /* monotonic ms it was read at */
    char routing_err[512];        /* the last failure to read it, or "" */
    bool status_ok;
    sg_status status;
    int64_t status_ms;            /* monotonic ms of the last status read */
    char status_err[512];
    sg_outcome *outcomes;         /* all reported since the start */
    size_t n_outcomes;
    http_totals totals;           /* status thread only: outcomes' sums */
    sg_consistency *cons;         /* per mapping */
    size_t n_cons;
    sg_backlog *backlog;          /* per changelog */
    size_t n_backlog;
    sg_shadow_shape *shapes;      /* the busiest, since the start */
    size_t n_shapes;
    sg_fence_time *fences;        /* every write fence */
    size_t n_fences;
    http_audit audit[HTTP_AUDIT_TAIL]; /* the latest last */
    size_t n_audit;
    http_sample samples[HTTP_SAMPLES]; /* a ring */
    size_t n_samples, next_sample;
    http_event *events;           /* taken, not yet reported */
    size_t n_events;
    char events_err[512];         /* the last failure to record them */
    /* counters, updated without the lock */
    _Atomic int64_t events_taken[2][2];  /* [side][ok] */
    _Atomic int64_t events_refused;
    _Atomic int64_t evals[HTTP_FLAG_N][HTTP_EVAL_N];
} http_mig;

struct http_server {
    struct MHD_Daemon *daemon;
    pthread_mutex_t lock;
    pthread_cond_t wake;          /* signalled at stop */
    bool stopping;                /* guarded */
    pthread_t routing_thread, status_thread;
    bool routing_started, status_started;
    http_mig *migs;
    size_t n_migs;
    char *token;
    char url[96];
    http_log_fn log;
    void *log_ud;
    int64_t refresh_ms;           /* the shortest serve.refresh of the specs */
    _Atomic int64_t flag_not_found;
    _Atomic int64_t requests[6];  /* by status class: 2xx 3xx 4xx 5xx, 413, 401 */
};

/* One request: its body as it arrives, capped. */
typedef struct http_req {
    struct http_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    char *body;
    size_t len, cap;
    bool too_large;
    bool answered;                /* a reply was queued early */
} http_req;

/* Largest request body taken (bytes); larger ones get 413. */
#define HTTP_MAX_BODY (64 * 1024)

/* Queues a reply. body (may be NULL) is copied; etag NULL for none.
 * Returns MHD's result. */
int http_reply(http_req *r, unsigned status, const char *type, const char *body,
               size_t len, const char *etag);
/* Queues j as JSON (application/json) and frees it. */
int http_reply_json(http_req *r, unsigned status, json_t *j);
/* A JSON error body {"errorDetails": ...} (OFREP's general error shape). */
int http_reply_error(http_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A request header's value, or NULL. */
const char *http_header(http_req *r, const char *name);

/* Copies migration i's routing entry under the lock. *fresh: a routing was
 * read no longer ago than its max staleness. */
/* The segment of migration i that decides a read with context attrs under
 * routing st (sg_route_segment): its name into name (size bytes) and *side;
 * false when none does. */
bool http_segment_side(http_server *s, size_t i, const sg_route_state *st,
                       const sg_route_attr *attrs, size_t n, int *side, char *name,
                       size_t size);
void http_routing_get(http_server *s, size_t i, sg_route_state *st, bool *fresh,
                      int64_t *age_ms, char *err, size_t err_len);
/* Copies migration i's status under the lock; false when none was read. */
bool http_status_get(http_server *s, size_t i, sg_status *st, int64_t *age_ms,
                     char *err, size_t err_len);

/* (Re)opens g->m from g->spec, read-only; the library's error code with
 * the message in err. */
int http_mig_open(http_mig *g, char *err, size_t err_len);

/* Copies of what the status thread read of migration i, under the lock:
 * its consistency (*cons: free it), audit tail and chart samples (oldest
 * first; arrays of HTTP_AUDIT_TAIL and HTTP_SAMPLES). */
void http_cons_get(http_server *s, size_t i, sg_consistency **cons, size_t *n);
void http_backlog_get(http_server *s, size_t i, sg_backlog **out, size_t *n);
void http_fences_get(http_server *s, size_t i, sg_fence_time **out, size_t *n);
void http_shapes_get(http_server *s, size_t i, sg_shadow_shape **out, size_t *n);
/* Query shapes shown in /metrics per migration. */
#define HTTP_SHADOW_SHAPES 20
size_t http_audit_get(http_server *s, size_t i, http_audit *out);
size_t http_samples_get(http_server *s, size_t i, http_sample *out);

/* A copy of migration i's outcomes (free it); NULL and 0 when none. */
void http_outcomes_get(http_server *s, size_t i, sg_outcome **out, size_t *n);

/* The threads that read routing and status (state.c). */
int http_threads_start(http_server *s);
void http_threads_stop(http_server *s);

/* Handlers (one file each). Each returns MHD's result. */
int http_ofrep_single(http_req *r, const char *flag);
int http_ofrep_bulk(http_req *r);
int http_metrics(http_req *r);
int http_healthz(http_req *r);
int http_api_status(http_req *r);
int http_api_events(http_req *r);
int http_api_consistency(http_req *r);
int http_api_audit(http_req *r);
int http_api_shadow(http_req *r);
int http_api_outcomes(http_req *r);
int http_dashboard(http_req *r);
/* Reports the events taken for g through its reporter (status thread). */
void http_events_drain(http_server *s, http_mig *g);

#endif
