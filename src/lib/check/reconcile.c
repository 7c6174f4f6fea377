/* Continuous reconciliation (check/reconcile.h). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "check/reconcile.h"

/* A pass the phase does not allow yet is tried again this soon. */
#define NOT_YET_MS 2000

struct sg_recon {
    pthread_t thread;
    volatile sig_atomic_t stop;
    char *spec_path;
    int64_t every_ms, cap;
    int64_t max_lag_ms; /* gates.checks.lag.max, at least 1 s: a pass waits while
                         * the lag is above it */
    bool waiting;       /* said that it waits for the apply */
    sg_log_fn log;
    void *log_ud;
};

static void say(sg_recon *r, int level, const char *what, const char *msg)
{
    if (!r->log)
        return;
    char line[700];
    snprintf(line, sizeof line, "reconciliation: %s%s%s", what, *msg ? ": " : "", msg);
    r->log(r->log_ud, level, line);
}

/* Sleeps ms, or less when asked to stop. */
static void nap(sg_recon *r, int64_t ms)
{
    for (int64_t end = sg_mono_ms() + ms; !r->stop && sg_mono_ms() < end;)
        sg_sleep_ms(50);
}

/* Whether the phase lets verify run (as `segue verify` would). */
static bool verifiable(sg_phase p)
{
    return p == SG_PHASE_BACKFILLED || p == SG_PHASE_VERIFIED || p == SG_PHASE_SHADOWING ||
           p == SG_PHASE_READS_SHIFTING;
}

/* One pass on m; the time until the next. */
static int64_t pass(sg_recon *r, sg_migration *m)
{
    sg_status st;
    if (sg_migration_status(&st, m)) {
        say(r, SG_LOG_WARN, "cannot read the phase", sg_migration_errmsg(m));
        return NOT_YET_MS;
    }
    if (!verifiable(st.phase))
        return NOT_YET_MS;
    /* a pass over a target the apply has not caught up with finds the lag,
     * not a defect, and takes from the apply the time it waits for */
    if (st.lag_ms > r->max_lag_ms) {
        if (!r->waiting)
            say(r, SG_LOG_INFO, "waits for the apply to catch up", "");
        r->waiting = true;
        return NOT_YET_MS;
    }
    r->waiting = false;
    sg_verify_options o = SG_VERIFY_OPTIONS_INIT;
    o.max_rows_per_second = r->cap;
    o.stop = &r->stop;
    sg_verify_report *rep = NULL;
    int rc = sg_verify_run(&rep, m, &o);
    if (rc == SG_EDIFF)
        say(r, SG_LOG_WARN, "differences persist", sg_migration_errmsg(m));
    else if (rc && rc != SG_ESTOPPED)
        say(r, SG_LOG_WARN, "the pass failed", sg_migration_errmsg(m));
    else if (!rc)
        say(r, SG_LOG_INFO, "a full pass found no difference", "");
    sg_verify_report_free(rep);
    return rc && rc != SG_EDIFF ? NOT_YET_MS : r->every_ms;
}

static void *recon_main(void *arg)
{
    sg_recon *r = arg;
    sg_migration *m = NULL;
    while (!r->stop) {
        int64_t next = NOT_YET_MS;
        if (!m && sg_migration_open(&m, r->spec_path)) {
            say(r, SG_LOG_WARN, "cannot open the migration", sg_migration_errmsg(m));
            sg_migration_close(m);
            m = NULL;
        } else if (m) {
            next = pass(r, m);
            if (next == NOT_YET_MS) { /* a failure may have left the handle broken */
                sg_migration_close(m);
                m = NULL;
            }
        }
        nap(r, next);
    }
    sg_migration_close(m);
    return NULL;
}

void sg_recon_start(sg_recon **out, sg_migration *m)
{
    *out = NULL;
    if (m->spec->verify_every_ms <= 0 || !m->spec->path)
        return;
    sg_recon *r = calloc(1, sizeof *r);
    if (r && (r->spec_path = strdup(m->spec->path))) {
        r->every_ms = m->spec->verify_every_ms;
        r->cap = m->spec->verify_max_rows_per_second;
        int64_t max_lag = m->spec->checks[SG_CHECK_LAG].max_ms;
        r->max_lag_ms = max_lag > 1000 ? max_lag : 1000;
        r->log = m->log;
        r->log_ud = m->log_ud;
        if (!pthread_create(&r->thread, NULL, recon_main, r)) {
            *out = r;
            return;
        }
    }
    sg_log(m, SG_LOG_WARN, "reconciliation: cannot start its thread");
    if (r)
        free(r->spec_path);
    free(r);
}

void sg_recon_stop(sg_recon *r)
{
    if (!r)
        return;
    r->stop = 1;
    pthread_join(r->thread, NULL);
    free(r->spec_path);
    free(r);
}
