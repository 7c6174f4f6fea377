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
    int rc = sg_router_state(&st, g->router);
    int64_t now = mono_ms();
    pthread_mutex_lock(&s->lock);
    if (!rc) {
        g->routing = st;
        g->routing_ok = true;
        g->routing_read_ms = now - st.age_ms;
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

/* Records g's events and reads everything reported (for /metrics). */
static void read_outcomes(http_server *s, http_mig *g)
{
    http_events_drain(s, g);
    sg_outcome *o = NULL;
    size_t n = 0;
    if (!g->m || sg_migration_outcomes(&o, &n, g->m, 0))
        return;
    pthread_mutex_lock(&s->lock);
    free(g->outcomes);
    g->outcomes = o;
    g->n_outcomes = n;
    pthread_mutex_unlock(&s->lock);
}

static void read_status_and_outcomes(http_server *s, http_mig *g)
{
    read_status(s, g);
    read_outcomes(s, g);
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

void http_outcomes_get(http_server *s, size_t i, sg_outcome **out, size_t *n)
{
    http_mig *g = &s->migs[i];
    pthread_mutex_lock(&s->lock);
    *n = 0;
    *out = g->n_outcomes ? malloc(g->n_outcomes * sizeof **out) : NULL;
    if (*out) {
        memcpy(*out, g->outcomes, g->n_outcomes * sizeof **out);
        *n = g->n_outcomes;
    }
    pthread_mutex_unlock(&s->lock);
}
