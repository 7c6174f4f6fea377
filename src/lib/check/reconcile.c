/* Continuous reconciliation (check/reconcile.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "check/reconcile.h"
#include "side.h"

/* A pass the phase does not allow yet is tried again this soon. */
#define NOT_YET_MS 2000

struct sg_recon {
    sg_side side;
    int64_t every_ms, cap;
    int64_t max_lag_ms; /* gates.checks.lag.max, at least 1 s: a pass waits
                         * while the lag is above it */
    bool waiting;       /* said that it waits for the apply */
};

/* Whether the phase lets verify run (as `segue verify` would). */
static bool verifiable(sg_phase p)
{
    return p == SG_PHASE_BACKFILLED || p == SG_PHASE_VERIFIED || p == SG_PHASE_SHADOWING ||
           p == SG_PHASE_READS_SHIFTING;
}

/* One pass on m; the time until the next. A pass that could not run (the
 * phase, a failure) has the handle opened again for the next. */
static int64_t pass(sg_side *side, void *ud, sg_migration *m, bool *broken)
{
    sg_recon *r = ud;
    sg_status st;
    *broken = true;
    if (sg_migration_status(&st, m)) {
        sg_side_say(side, SG_LOG_WARN, "cannot read the phase: %s", sg_migration_errmsg(m));
        return NOT_YET_MS;
    }
    if (!verifiable(st.phase))
        return NOT_YET_MS;
    /* a pass over a target the apply has not caught up with finds the lag,
     * not a defect, and takes from the apply the time it waits for */
    if (st.lag_ms > r->max_lag_ms) {
        if (!r->waiting)
            sg_side_say(side, SG_LOG_INFO, "waits for the apply to catch up");
        r->waiting = true;
        return NOT_YET_MS;
    }
    r->waiting = false;
    sg_verify_options o = SG_VERIFY_OPTIONS_INIT;
    o.max_rows_per_second = r->cap;
    o.stop = &side->stop;
    sg_verify_report *rep = NULL;
    int rc = sg_verify_run(&rep, m, &o);
    if (rc == SG_EDIFF)
        sg_side_say(side, SG_LOG_WARN, "differences persist: %s", sg_migration_errmsg(m));
    else if (rc && rc != SG_ESTOPPED)
        sg_side_say(side, SG_LOG_WARN, "the pass failed: %s", sg_migration_errmsg(m));
    else if (!rc)
        sg_side_say(side, SG_LOG_INFO, "a full pass found no difference");
    sg_verify_report_free(rep);
    *broken = rc && rc != SG_EDIFF;
    return *broken ? NOT_YET_MS : r->every_ms;
}

void sg_recon_start(sg_recon **out, sg_migration *m)
{
    *out = NULL;
    if (m->spec->verify_every_ms <= 0 || !m->spec->path)
        return;
    sg_recon *r = calloc(1, sizeof *r);
    if (!r) {
        sg_log(m, SG_LOG_WARN, "reconciliation: out of memory");
        return;
    }
    r->every_ms = m->spec->verify_every_ms;
    r->cap = m->spec->verify_max_rows_per_second;
    int64_t max_lag = m->spec->checks[SG_CHECK_LAG].max_ms;
    r->max_lag_ms = max_lag > 1000 ? max_lag : 1000;
    r->side = (sg_side){ .what = "reconciliation", .round = pass, .ud = r };
    if (sg_side_start(&r->side, m))
        *out = r;
    else
        free(r);
}

void sg_recon_stop(sg_recon *r)
{
    if (!r)
        return;
    sg_side_stop(&r->side);
    free(r);
}
