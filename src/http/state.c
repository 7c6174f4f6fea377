/* What requests answer from: two threads read each migration's routing
 * (every serve.refresh) and status (every STATUS_MS) and publish them under
 * the server's lock. A request never waits on a database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

/* How often the status (phase, lag, backfill, verify, shadow) is read. */
enum { STATUS_MS = 1000 };

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Sleeps ms, or less when the server stops; true when it stops. */
static bool nap(http_server *s, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->stopping &&
           pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT)
        ;
    bool stop = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

static void read_routing(http_server *s, http_mig *g)
{
    sg_route_state st;
    sg_segments *segs = NULL;
    int rc = sg_router_state(&st, g->router);
    if (!rc)
        rc = sg_router_segments(&segs, g->router);
    int64_t now = mono_ms();
    pthread_mutex_lock(&s->lock);
    if (!rc) {
        g->routing = st;
        g->routing_ok = true;
        g->routing_read_ms = now - st.age_ms;
        sg_segments_free(g->segments);
        g->segments = segs;
    }
    /* "" once a read succeeds again */
    snprintf(g->routing_err, sizeof g->routing_err, "%s", sg_router_errmsg(g->router));
    pthread_mutex_unlock(&s->lock);
}

/* Reads each migration with `read` every period_ms until the server stops. */
static void each_until_stop(http_server *s, void (*read)(http_server *, http_mig *),
                            int64_t period_ms)
{
    do {
        for (size_t i = 0; i < s->n_migs; i++)
            read(s, &s->migs[i]);
    } while (!nap(s, period_ms));
}

static void *routing_loop(void *arg)
{
    http_server *s = arg;
    each_until_stop(s, read_routing, s->refresh_ms / 2); /* the router reads when due */
    return NULL;
}

/* Reads g's status. The handle is opened again after a failure (a server
 * that restarted) and while the migration is not started (a SQLite target
 * not made yet was opened as an empty stand-in). */
static void read_status(http_server *s, http_mig *g)
{
    sg_status st;
    char err[512] = "";
    int rc = g->m ? 0 : http_mig_open(g, err, sizeof err);
    if (!rc && (rc = sg_migration_status(&st, g->m)))
        snprintf(err, sizeof err, "%s", sg_migration_errmsg(g->m));
    if (rc || st.phase == SG_PHASE_PLANNED) {
        sg_migration_close(g->m);
        g->m = NULL;
    }
    int64_t now = mono_ms();
    pthread_mutex_lock(&s->lock);
    if (!rc) {
        g->status = st;
        g->status_ok = true;
        g->status_ms = now;
    }
    snprintf(g->status_err, sizeof g->status_err, "%s", err);
    pthread_mutex_unlock(&s->lock);
}

/* Replaces array `field` (and its count) with `fresh` under the lock. */
#define PUBLISH(s, field, n_field, fresh, n) do { \
        pthread_mutex_lock(&(s)->lock);           \
        free(field);                              \
        (field) = (fresh);                        \
        (n_field) = (n);                          \
        pthread_mutex_unlock(&(s)->lock);         \
    } while (0)

/* Records g's events and reads everything reported (for /metrics). */
static void read_outcomes(http_server *s, http_mig *g)
{
    http_events_drain(s, g);
    sg_outcome *o = NULL;
    size_t n = 0;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    if (g->m && !http_totals_read(&g->totals, g->m, (int64_t)t.tv_sec * 1000 +
                                  t.tv_nsec / 1000000, &o, &n))
        PUBLISH(s, g->outcomes, g->n_outcomes, o, n);
}

static void read_consistency(http_server *s, http_mig *g)
{
    sg_consistency *c = NULL;
    sg_backlog *b = NULL;
    size_t n = 0, nb = 0;
    if (g->m && !sg_migration_consistency(&c, &n, g->m))
        PUBLISH(s, g->cons, g->n_cons, c, n);
    if (g->m && !sg_migration_backlog(&b, &nb, g->m))
        PUBLISH(s, g->backlog, g->n_backlog, b, nb);
    sg_fence_time *f = NULL;
    size_t nf = 0;
    if (g->m && !sg_migration_fences(&f, &nf, g->m))
        PUBLISH(s, g->fences, g->n_fences, f, nf);
    sg_shadow_shape *sh = NULL;
    size_t nsh = 0;
    if (g->m && !sg_shadow_shapes(&sh, &nsh, g->m, 0, HTTP_SHADOW_SHAPES))
        PUBLISH(s, g->shapes, g->n_shapes, sh, nsh);
}

static void audit_copy(http_audit *a, const sg_audit_entry *e)
{
    snprintf(a->at, sizeof a->at, "%s", e->at ? e->at : "");
    snprintf(a->who, sizeof a->who, "%s", e->who ? e->who : "");
    snprintf(a->action, sizeof a->action, "%s", e->action ? e->action : "");
    snprintf(a->from, sizeof a->from, "%s", e->from_phase ? e->from_phase : "");
    snprintf(a->to, sizeof a->to, "%s", e->to_phase ? e->to_phase : "");
    snprintf(a->detail, sizeof a->detail, "%s", e->detail ? e->detail : "");
    snprintf(a->reason, sizeof a->reason, "%s", e->reason ? e->reason : "");
}

/* The last HTTP_AUDIT_TAIL rows of the audit trail: once the tail is
 * full, only the rows from its oldest on are read again (this thread alone
 * writes the tail, so it reads it unlocked). */
static void read_audit(http_server *s, http_mig *g)
{
    sg_audit_entry *e = NULL;
    size_t n = 0;
    char since[sizeof g->audit[0].at];
    snprintf(since, sizeof since, "%s", g->n_audit == HTTP_AUDIT_TAIL ? g->audit[0].at : "");
    if (!g->m || sg_migration_audit(&e, &n, g->m, since[0] ? since : NULL))
        return;
    size_t first = n > HTTP_AUDIT_TAIL ? n - HTTP_AUDIT_TAIL : 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = first; i < n; i++)
        audit_copy(&g->audit[i - first], &e[i]);
    g->n_audit = n - first;
    pthread_mutex_unlock(&s->lock);
    sg_audit_free(e, n);
}

/* A chart point, at most every HTTP_SAMPLE_MS (under the lock). */
static void take_sample(http_mig *g, int64_t now_ms)
{
    size_t last = (g->next_sample + HTTP_SAMPLES - 1) % HTTP_SAMPLES;
    if (!g->status_ok || (g->n_samples && now_ms - g->samples[last].at_ms < HTTP_SAMPLE_MS))
        return;
    const sg_status *st = &g->status;
    http_sample p = { .at_ms = now_ms, .lag_s = (double)st->lag_ms / 1000,
                      .heartbeat_lag_s = st->heartbeat_lag_ms < 0 ? -1
                                             : (double)st->heartbeat_lag_ms / 1000,
                      .backlog = st->pending_changes, .rows = st->backfill_rows,
                      .shadow_mismatch_rate = st->shadow_compared
                          ? (double)st->shadow_mismatches / (double)st->shadow_compared : -1 };
    for (size_t k = 0; k < g->n_outcomes; k++) {
        int side = g->outcomes[k].side == SG_SIDE_TARGET;
        p.app_ops[side] += g->outcomes[k].ok + g->outcomes[k].errors;
        p.app_errors[side] += g->outcomes[k].errors;
    }
    g->samples[g->next_sample] = p;
    g->next_sample = (g->next_sample + 1) % HTTP_SAMPLES;
    if (g->n_samples < HTTP_SAMPLES)
        g->n_samples++;
}

static void read_status_and_outcomes(http_server *s, http_mig *g)
{
    read_status(s, g);
    read_outcomes(s, g);
    read_consistency(s, g);
    read_audit(s, g);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    pthread_mutex_lock(&s->lock);
    take_sample(g, (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000);
    pthread_mutex_unlock(&s->lock);
}

static void *status_loop(void *arg)
{
    each_until_stop(arg, read_status_and_outcomes, STATUS_MS);
    return NULL;
}

int http_threads_start(http_server *s)
{
    /* the first reads, before the first request: a routing or its error */
    s->refresh_ms = 0;
    for (size_t i = 0; i < s->n_migs; i++) {
        http_mig *g = &s->migs[i];
        read_routing(s, g);
        if (g->routing_ok && (!s->refresh_ms || g->routing.refresh_ms < s->refresh_ms))
            s->refresh_ms = g->routing.refresh_ms;
    }
    if (!s->refresh_ms)
        s->refresh_ms = 250;
    if (pthread_create(&s->routing_thread, NULL, routing_loop, s))
        return -1;
    s->routing_started = true;
    if (pthread_create(&s->status_thread, NULL, status_loop, s))
        return -1;
    s->status_started = true;
    return 0;
}

void http_threads_stop(http_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (s->routing_started)
        pthread_join(s->routing_thread, NULL);
    if (s->status_started) {
        pthread_join(s->status_thread, NULL);
        for (size_t i = 0; i < s->n_migs; i++) /* the events taken last */
            http_events_drain(s, &s->migs[i]);
    }
    s->routing_started = s->status_started = false;
}

bool http_segment_side(http_server *s, size_t i, const sg_route_state *st,
                       const sg_route_attr *attrs, size_t n, int *side, char *name,
                       size_t size)
{
    pthread_mutex_lock(&s->lock);
    const char *seg = sg_route_segment(st, s->migs[i].segments, attrs, n, side);
    if (seg)
        snprintf(name, size, "%s", seg);
    pthread_mutex_unlock(&s->lock);
    return seg != NULL;
}

void http_routing_get(http_server *s, size_t i, sg_route_state *st, bool *fresh,
                      int64_t *age_ms, char *err, size_t err_len)
{
    http_mig *g = &s->migs[i];
    int64_t now = mono_ms();
    pthread_mutex_lock(&s->lock);
    *st = g->routing;
    *age_ms = g->routing_ok ? now - g->routing_read_ms : -1;
    *fresh = g->routing_ok && *age_ms <= g->routing.max_staleness_ms;
    snprintf(err, err_len, "%s", g->routing_err);
    pthread_mutex_unlock(&s->lock);
}

bool http_status_get(http_server *s, size_t i, sg_status *st, int64_t *age_ms, char *err,
                     size_t err_len)
{
    http_mig *g = &s->migs[i];
    pthread_mutex_lock(&s->lock);
    bool ok = g->status_ok;
    if (ok)
        *st = g->status;
    *age_ms = ok ? mono_ms() - g->status_ms : -1;
    snprintf(err, err_len, "%s", g->status_err);
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* A copy of n items of `size` bytes at src (NULL and *n_out 0 when there
 * are none or out of memory); the caller holds the lock. */
static void *copy_array(const void *src, size_t n, size_t size, size_t *n_out)
{
    void *p = n ? malloc(n * size) : NULL;
    if (p)
        memcpy(p, src, n * size);
    *n_out = p ? n : 0;
    return p;
}

void http_outcomes_get(http_server *s, size_t i, sg_outcome **out, size_t *n)
{
    http_mig *g = &s->migs[i];
    pthread_mutex_lock(&s->lock);
    *out = copy_array(g->outcomes, g->n_outcomes, sizeof **out, n);
    pthread_mutex_unlock(&s->lock);
}

void http_cons_get(http_server *s, size_t i, sg_consistency **cons, size_t *n)
{
    http_mig *g = &s->migs[i];
    pthread_mutex_lock(&s->lock);
    *cons = copy_array(g->cons, g->n_cons, sizeof **cons, n);
    pthread_mutex_unlock(&s->lock);
}

size_t http_audit_get(http_server *s, size_t i, http_audit *out)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->migs[i].n_audit;
    memcpy(out, s->migs[i].audit, n * sizeof *out);
    pthread_mutex_unlock(&s->lock);
    return n;
}

size_t http_samples_get(http_server *s, size_t i, http_sample *out)
{
    http_mig *g = &s->migs[i];
    pthread_mutex_lock(&s->lock);
    size_t n = g->n_samples, first = (g->next_sample + HTTP_SAMPLES - n) % HTTP_SAMPLES;
    for (size_t k = 0; k < n; k++)
        out[k] = g->samples[(first + k) % HTTP_SAMPLES];
    pthread_mutex_unlock(&s->lock);
    return n;
}

void http_backlog_get(http_server *s, size_t i, sg_backlog **out, size_t *n)
{
    http_mig *g = &s->migs[i];
    pthread_mutex_lock(&s->lock);
    *out = copy_array(g->backlog, g->n_backlog, sizeof **out, n);
    pthread_mutex_unlock(&s->lock);
}

void http_fences_get(http_server *s, size_t i, sg_fence_time **out, size_t *n)
{
    http_mig *g = &s->migs[i];
    pthread_mutex_lock(&s->lock);
    *out = copy_array(g->fences, g->n_fences, sizeof **out, n);
    pthread_mutex_unlock(&s->lock);
}

void http_shapes_get(http_server *s, size_t i, sg_shadow_shape **out, size_t *n)
{
    http_mig *g = &s->migs[i];
    pthread_mutex_lock(&s->lock);
    *out = copy_array(g->shapes, g->n_shapes, sizeof **out, n);
    pthread_mutex_unlock(&s->lock);
}
