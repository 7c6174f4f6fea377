/* `segue drill` (segue/drill.h): the rollback rehearsed on a live
 * migration. The drill moves reads (and writes) by hand with the rollout
 * in mode drill, in which the worker's rollout only rolls back; then it
 * injects a failing check (store.h) and times what the worker does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <segue/drill.h>

#include "base/clock.h"
#include "drill/ledger.h"
#include "drill/ofrep_watch.h"
#include "drill/store.h"
#include "rollout/store.h"
#include "state/control.h"

/* How often the drill looks at the routing while it waits (ms). */
#define POLL_MS 5
/* Ledger writes made before each move, so writes flow across it. */
#define WRITES_BEFORE 20

typedef struct drill {
    sg_migration *m;
    sg_drill_report *r;
    const sg_drill_options *o;
    sg_ledger *ledger;
    sg_router *router;
    sg_ofrep_watch *ofrep;
    sg_rollout_mode found_mode;  /* restored at the end */
    bool moved;                  /* reads moved by the drill */
    int64_t timeout_ms;
    int64_t fault_ms;
    char tkey[32];               /* an OFREP targeting key read on the target */
} drill;

int sg_drill_options_init(sg_drill_options *o, unsigned version)
{
    if (!o || version != SG_DRILL_OPTIONS_VERSION)
        return SG_EINVAL;
    *o = (sg_drill_options)SG_DRILL_OPTIONS_INIT;
    return 0;
}

/* Whether the spec and the state allow a drill now. */
static int can_drill(drill *d, sg_rollout_state *st)
{
    sg_migration *m = d->m;
    const sg_spec *s = m->spec;
    sg_status stat;
    bool found = false;
    if (!s->n_steps || !s->cutover_auto || s->on_fail != SG_ON_FAIL_ROLLBACK)
        return sg_err_set(&m->err, SG_ESTATE, "cannot drill: the rollout does not roll "
                          "back by itself; hint: a drill needs cutover.reads steps, "
                          "cutover.auto: true and gates.on_fail: rollback");
    int rc = sg_migration_status(&stat, m);
    if (!rc)
        rc = sg_rollout_load(m, st, &found);
    if (rc)
        return rc;
    if (!stat.worker_alive)
        return sg_err_set(&m->err, SG_ESTATE, "cannot drill: no worker holds the lease, "
                          "and the worker rolls back; hint: start `segue run` first");
    if (stat.read_pct > 0 || stat.write_side != SG_SIDE_SOURCE)
        return sg_err_set(&m->err, SG_ESTATE, "cannot drill: %g %% of reads and the "
                          "writes on the %s; a drill starts from everything on the "
                          "source; hint: roll back first (`segue rollback`)", stat.read_pct,
                          stat.write_side ? "target" : "source");
    if (st->mode != SG_ROLLOUT_PAUSED && st->mode != SG_ROLLOUT_ROLLED_BACK)
        return sg_err_set(&m->err, SG_ESTATE, "cannot drill: the rollout is %s; hint: "
                          "`segue pause` it first (the drill leaves it paused)",
                          sg_rollout_mode_name(st->mode));
    return 0;
}

static int mode_edit(sg_migration *m, sg_rollout_state *st, sg_rollout_record *r,
                     void *ctx)
{
    (void)m;
    (void)r;
    st->mode = *(const sg_rollout_mode *)ctx;
    return 0;
}

/* The rollout's mode set to `to`, over the state as saved now (held while
 * it is written, so the worker's evaluations cannot make it fail). */
static int set_mode(sg_migration *m, sg_rollout_mode to)
{
    return sg_rollout_update(m, mode_edit, &to);
}

/* Waits until the ledger made `more` writes past `from` (on the target
 * when on_target). */
static int ledger_wait(drill *d, int64_t from, int64_t more, bool on_target)
{
    int64_t until = sg_mono_ms() + d->timeout_ms;
    for (;;) {
        int64_t t, n = sg_ledger_writes(d->ledger, &t);
        if ((on_target ? t : n) >= from + more)
            return 0;
        if (sg_ledger_error(d->ledger)[0])
            return sg_err_set(&d->m->err, SG_EDB, "drill: the ledger's writer stopped: "
                              "%s", sg_ledger_error(d->ledger));
        if (sg_mono_ms() > until)
            return sg_err_set(&d->m->err, SG_ESTATE, "drill: the ledger made %lld of "
                              "%lld writes%s in %lld ms", (long long)(n - from),
                              (long long)more, on_target ? " on the target" : "",
                              (long long)d->timeout_ms);
        sg_sleep_ms(POLL_MS);
    }
}

/* Moves reads (and writes) to the target, writes flowing across. */
static int shift(drill *d)
{
    sg_migration *m = d->m;
    char why[80];
    snprintf(why, sizeof why, "drill %lld", (long long)d->r->id);
    int rc = ledger_wait(d, 0, WRITES_BEFORE, false);
    if (!rc && !(rc = sg_cutover_reads(m, d->r->reads_pct, why)))
        d->moved = true;
    if (!rc)
        sg_log(m, SG_LOG_INFO, "drill: %g %% of reads on the target", d->r->reads_pct);
    if (!rc && d->r->writes) {
        double fence = 0;
        if (!(rc = ledger_wait(d, sg_ledger_writes(d->ledger, NULL), WRITES_BEFORE, false)))
            rc = sg_cutover_writes(&fence, m, why);
        if (!rc) {
            d->r->fence_in_ms = fence;
            sg_log(m, SG_LOG_INFO, "drill: writes on the target (fence %.1f ms)", fence);
        }
    }
    if (!rc)
        rc = ledger_wait(d, d->r->writes ? 0 : sg_ledger_writes(d->ledger, NULL),
                         WRITES_BEFORE, d->r->writes);
    return rc;
}

/* An OFREP targeting key whose reads go to the target now. */
static int watch_ofrep(drill *d)
{
    sg_route_state rs;
    bool changed = false, reads = false, writes = false;
    if (!d->o->ofrep_url)
        return 0;
    int rc = sg_router_state(&rs, d->router);
    if (rc)
        return sg_err_set(&d->m->err, rc, "drill: %s", sg_router_errmsg(d->router));
    for (int i = 0; i < 100000; i++) {
        snprintf(d->tkey, sizeof d->tkey, "drill-%d", i);
        if (sg_route_reads_target(sg_route_bucket(rs.salt, d->tkey, strlen(d->tkey)),
                                  d->r->reads_pct))
            break;
    }
    rc = sg_ofrep_watch_open(&d->ofrep, d->o->ofrep_url, d->m->spec->name, d->tkey,
                             &d->m->err);
    /* the service answers the drill's routing before the failure */
    int64_t until = sg_mono_ms() + d->timeout_ms;
    while (!rc && !reads) {
        if ((rc = sg_ofrep_watch_poll(d->ofrep, &changed, &reads, &writes, &d->m->err)))
            break;
        if (!reads && sg_mono_ms() > until)
            rc = sg_err_set(&d->m->err, SG_ESTATE, "drill: OFREP %s did not route "
                            "targeting key %s to the target within %lld ms",
                            d->o->ofrep_url, d->tkey, (long long)d->timeout_ms);
        if (!reads)
            sg_sleep_ms(POLL_MS);
    }
    return rc;
}

/* Whether the C API's router answers everything on the source. */
static int router_back(drill *d, bool *back)
{
    sg_route_state rs;
    int rc = sg_router_state(&rs, d->router);
    if (rc)
        return sg_err_set(&d->m->err, rc, "drill: %s", sg_router_errmsg(d->router));
    *back = rs.read_pct <= 0 && rs.write_side == SG_SIDE_SOURCE;
    return 0;
}

/* Injects the failure and times the rollback, the router and OFREP. */
static int fail_and_time(drill *d)
{
    sg_drill_report *r = d->r;
    int64_t until = sg_mono_ms() + d->timeout_ms, rolled = 0;
    d->fault_ms = sg_now_ms();
    int rc = sg_drill_fault(d->m, r->id, d->fault_ms);
    sg_log(d->m, SG_LOG_INFO, "drill: a gate fails from now on (rollback expected "
           "within %lld ms)", (long long)r->limit_ms);
    for (int64_t n = 0; !rc; n++) {
        bool back = false, changed = false, reads = true, writes = false;
        if (r->to_router_ms < 0 && !(rc = router_back(d, &back)) && back)
            r->to_router_ms = sg_now_ms() - d->fault_ms;
        if (!rc && d->ofrep && r->to_ofrep_ms < 0 &&
            !(rc = sg_ofrep_watch_poll(d->ofrep, &changed, &reads, &writes, &d->m->err)) &&
            changed && !reads && !writes)
            r->to_ofrep_ms = sg_now_ms() - d->fault_ms;
        if (!rc && r->to_rollback_ms < 0 && n % 10 == 0 &&
            !(rc = sg_drill_rollback_at(d->m, r->id, &rolled)) && rolled)
            r->to_rollback_ms = rolled - d->fault_ms;
        if (rc || (r->to_router_ms >= 0 && r->to_rollback_ms >= 0 &&
                   (!d->ofrep || r->to_ofrep_ms >= 0)))
            break;
        if (sg_mono_ms() > until)
            return sg_err_set(&d->m->err, SG_ESTATE, "drill: %s within %lld ms of the "
                              "failure", r->to_rollback_ms < 0 ? "the worker did not "
                              "roll back" : r->to_router_ms < 0 ? "the C API's router "
                              "did not route back" : "OFREP did not answer the rollback",
                              (long long)d->timeout_ms);
        sg_sleep_ms(POLL_MS);
    }
    if (!rc)
        sg_log(d->m, SG_LOG_INFO, "drill: rolled back %lld ms after the failure; the "
               "router followed at %lld ms", (long long)r->to_rollback_ms,
               (long long)r->to_router_ms);
    return rc;
}

/* Waits until every captured change was applied. */
static int caught_up(drill *d)
{
    int64_t until = sg_mono_ms() + d->timeout_ms;
    for (;;) {
        sg_status st;
        int rc = sg_migration_status(&st, d->m);
        if (rc || st.pending_changes == 0)
            return rc;
        if (sg_mono_ms() > until)
            return sg_err_set(&d->m->err, SG_ESTATE, "drill: %lld changes still pending "
                              "%lld ms after the rollback", (long long)st.pending_changes,
                              (long long)d->timeout_ms);
        sg_sleep_ms(50);
    }
}

/* The rollback's write fence: the last fence back to the source. */
static int rollback_fence(drill *d)
{
    sg_fence_time *f = NULL;
    size_t n = 0;
    int rc = sg_migration_fences(&f, &n, d->m);
    for (size_t i = n; !rc && i-- > 0;)
        if (!f[i].to_target && f[i].at_ms >= d->fault_ms) {
            d->r->fence_ms = f[i].ms;
            break;
        }
    free(f);
    return rc;
}

/* After the rollback: the ledger judged on the source, a verify pass. */
static int judge(drill *d, char *lost_key, size_t size)
{
    sg_verify_report *vr = NULL;
    int rc = caught_up(d);
    if (!rc && d->r->writes)
        rc = rollback_fence(d);
    if (!rc)
        rc = sg_ledger_check(d->ledger, &d->r->writes_lost, &d->r->overwritten, lost_key,
                             size);
    if (!rc) {
        rc = sg_verify_run(&vr, d->m, NULL);
        if (rc == SG_EDIFF)
            rc = 0;
        if (vr) {
            d->r->differences = vr->differences;
            d->r->verified_rows = vr->source_rows;
        }
        sg_verify_report_free(vr);
    }
    return rc;
}

static void report_init(drill *d)
{
    sg_drill_report *r = d->r;
    const sg_spec *s = d->m->spec;
    memset(r, 0, sizeof *r);
    r->started_ms = sg_now_ms();
    r->writes = d->o->writes;
    r->reads_pct = d->o->writes ? 100 : d->o->reads_pct > 0 ? d->o->reads_pct
                 : s->n_steps ? (double)s->steps[0].pct : 1;
    r->fence_in_ms = r->fence_ms = -1;
    r->to_rollback_ms = r->to_router_ms = r->to_ofrep_ms = -1;
    r->differences = r->verified_rows = -1;
    r->limit_ms = s->gate_interval_ms * (s->failure_limit + 1);
    d->timeout_ms = d->o->timeout_ms > 0 ? d->o->timeout_ms
                  : s->gate_interval_ms * (s->failure_limit + 3) + 60000;
}

/* What the drill found, in one line. */
static void outcome(drill *d, int rc, const char *lost_key)
{
    sg_drill_report *r = d->r;
    if (rc)
        snprintf(r->outcome, sizeof r->outcome, "failed: %s", sg_migration_errmsg(d->m));
    else if (r->writes_lost)
        snprintf(r->outcome, sizeof r->outcome, "lost %lld writes (%.240s)",
                 (long long)r->writes_lost, lost_key);
    else if (r->differences)
        snprintf(r->outcome, sizeof r->outcome, "verify found %lld differences after "
                 "the rollback", (long long)r->differences);
    else
        snprintf(r->outcome, sizeof r->outcome, "passed");
}

/* Puts everything back as the drill found it, whatever happened. */
static void finish(drill *d, int rc, const char *lost_key)
{
    sg_migration *m = d->m;
    sg_err kept = m->err;
    char detail[600];
    sg_ledger_stop(d->ledger);
    if (rc && d->moved && d->r->to_rollback_ms < 0) {
        sg_log(m, SG_LOG_WARN, "drill: rolling back by hand");
        if (sg_migration_rollback(m, "the drill did not finish"))
            sg_log(m, SG_LOG_WARN, "drill: the rollback by hand failed: %s; hint: "
                   "`segue rollback`", sg_migration_errmsg(m));
    }
    if (d->ledger && (!d->moved || d->r->to_rollback_ms >= 0 || !rc) &&
        sg_ledger_restore(d->ledger))
        sg_log(m, SG_LOG_WARN, "drill: the rows' values were not put back: %s",
               sg_migration_errmsg(m));
    if (set_mode(m, d->found_mode))
        sg_log(m, SG_LOG_WARN, "drill: the rollout stays in mode drill: %s; hint: "
               "`segue resume`", sg_migration_errmsg(m));
    m->err = kept;
    outcome(d, rc, lost_key);
    d->r->finished_ms = sg_now_ms();
    snprintf(detail, sizeof detail, "drill %lld: %s; rollback %lld ms after the failure "
             "(aim %lld), router %lld ms, OFREP %lld ms, fence %.1f ms; %lld writes, "
             "%lld lost; %lld differences", (long long)d->r->id, d->r->outcome,
             (long long)d->r->to_rollback_ms, (long long)d->r->limit_ms,
             (long long)d->r->to_router_ms, (long long)d->r->to_ofrep_ms, d->r->fence_ms,
             (long long)d->r->writes_made, (long long)d->r->writes_lost,
             (long long)d->r->differences);
    if (sg_drill_finish(m, d->r, detail, d->o->reason))
        sg_log(m, SG_LOG_WARN, "drill: its report was not kept: %s", sg_migration_errmsg(m));
    m->err = kept;
}

static int check_options(sg_migration *m, const sg_drill_options *o)
{
    if (o->version != SG_DRILL_OPTIONS_VERSION)
        return sg_bad_version(m, "sg_migration_drill", o->version, SG_DRILL_OPTIONS_VERSION);
    if (o->reads_pct < 0 || o->reads_pct > 100 || isnan(o->reads_pct))
        return sg_bad_arg(m, "sg_migration_drill", "reads_pct must be within 0..100");
    if (o->rows < 0 || o->rows > 100000)
        return sg_bad_arg(m, "sg_migration_drill", "rows must be within 1..100000");
    return 0;
}

int sg_migration_drill(sg_drill_report *out, sg_migration *m, const sg_drill_options *o)
{
    sg_drill_options dflt = SG_DRILL_OPTIONS_INIT;
    sg_drill_report r;
    sg_rollout_state st;
    char lost_key[300] = "", detail[200];
    if (!m || !out)
        return sg_bad_arg(m, "sg_migration_drill", "a NULL argument");
    sg_err_clear(&m->err);
    o = o ? o : &dflt;
    drill d = { .m = m, .r = &r, .o = o };
    int rc = check_options(m, o);
    if (!rc)
        rc = can_drill(&d, &st);
    if (rc)
        return rc;
    report_init(&d);
    d.found_mode = st.mode;
    snprintf(detail, sizeof detail, "%g %% of reads%s to the target and back by the "
             "rollout's rollback", r.reads_pct, r.writes ? " and the writes" : "");
    if ((rc = sg_drill_begin(m, r.started_ms, detail, o->reason, &r.id)) != 0)
        return rc;
    sg_log(m, SG_LOG_INFO, "drill %lld: %s", (long long)r.id, detail);
    rc = sg_ledger_open(&d.ledger, m, o->column, o->rows ? o->rows : 20, r.id);
    if (!rc) {
        snprintf(r.column, sizeof r.column, "%s", sg_ledger_column(d.ledger));
        if (sg_router_open_migration(&d.router, m))
            rc = sg_err_set(&m->err, SG_EDB, "drill: %s", sg_router_errmsg(d.router));
    }
    if (!rc)
        rc = set_mode(m, SG_ROLLOUT_DRILL);
    if (!rc)
        rc = sg_ledger_start(d.ledger);
    if (!rc)
        rc = shift(&d);
    if (!rc)
        rc = watch_ofrep(&d);
    if (!rc)
        rc = fail_and_time(&d);
    r.writes_made = d.ledger ? sg_ledger_writes(d.ledger, &r.writes_on_target) : 0;
    sg_ledger_stop(d.ledger);
    if (!rc)
        rc = judge(&d, lost_key, sizeof lost_key);
    finish(&d, rc, lost_key);
    sg_ledger_free(d.ledger);
    sg_ofrep_watch_free(d.ofrep);
    sg_router_close(d.router);
    *out = r;
    return rc;
}
