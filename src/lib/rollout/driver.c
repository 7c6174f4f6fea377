/* The rollout's thread in `segue run` (rollout.h): every gates.interval it
 * evaluates the gates through a handle of its own, records the evaluation
 * and does what sg_rollout_decide says, while its worker holds the lease. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/testpoint.h"
#include "drill/store.h"
#include "gate/gate.h"
#include "rollout/driver.h"
#include "rollout/hooks.h"
#include "rollout/store.h"
#include "side.h"
#include "state/control.h"

/* Evaluations past SG_ROLLOUT_EVALS_KEEP_MS are pruned this often (and at
 * the first evaluation). */
#define PRUNE_EVERY_MS (3600LL * 1000)

struct sg_rollout {
    sg_side side;
    int64_t interval_ms;
    int64_t pruned_ms;           /* monotonic: evaluations last pruned; 0 never */
    pthread_mutex_t *switching;  /* the worker's (driver.h) */
};

/* Whether the phase is one the rollout evaluates in: the read steps', and
 * after the write cutover (the bake), when a failure still rolls back. */
static bool walking_phase(sg_phase p)
{
    return p == SG_PHASE_VERIFIED || p == SG_PHASE_SHADOWING ||
           p == SG_PHASE_READS_SHIFTING || p == SG_PHASE_WRITES_SWITCHED ||
           p == SG_PHASE_BAKING;
}

/* Carries out d on m. The audit action for the state saved after it, or
 * NULL when it failed (said, the state kept as it was). */
static const char *act_now(sg_side *r, sg_migration *m, const sg_rollout_decision *d,
                           sg_rollout_state *st)
{
    const sg_spec *s = m->spec;
    switch (d->act) {
    case SG_ROLLOUT_ADVANCE:
        if (sg_cutover_reads(m, (double)s->steps[d->to_step].pct, d->why)) {
            sg_side_say(r, SG_LOG_WARN, "step %d (%lld %%) not taken: %s", d->to_step + 1,
                (long long)s->steps[d->to_step].pct, sg_migration_errmsg(m));
            return NULL;
        }
        sg_rollout_entered(st, d->to_step, sg_now_ms());
        return "rollout_advance";
    case SG_ROLLOUT_ROLLBACK:
        if (sg_migration_rollback(m, d->why)) {
            sg_side_say(r, SG_LOG_WARN, "the automatic rollback failed (tried again "
                "at the next evaluation): %s", sg_migration_errmsg(m));
            return NULL;
        }
        st->mode = SG_ROLLOUT_ROLLED_BACK;
        st->step = -1; /* reads are back at 0 %, before the first step */
        return "rollout_rollback";
    case SG_ROLLOUT_PAUSE:
        st->mode = SG_ROLLOUT_PAUSED;
        return "rollout_pause";
    case SG_ROLLOUT_FINISH:
        st->mode = SG_ROLLOUT_DONE;
        return "rollout_done";
    case SG_ROLLOUT_WRITES: {
        /* within max_fence or not at all: the fence waits on the
         * application's locks no longer than that */
        double fence = 0;
        int64_t kept = m->lock_wait_ms ? m->lock_wait_ms : 30000; /* the default */
        int rc = sg_migration_set_lock_wait(m, s->max_fence_ms);
        if (!rc)
            rc = sg_cutover_writes(&fence, m, d->why);
        /* a later rollback on this handle waits as any rollback does */
        sg_err kept_err = m->err;
        if (sg_migration_set_lock_wait(m, kept))
            sg_side_say(r, SG_LOG_WARN, "the lock wait stays at max_fence: %s",
                        sg_migration_errmsg(m));
        m->err = kept_err;
        if (rc) {
            sg_side_say(r, SG_LOG_WARN, "the writes did not move (tried again at the "
                        "next evaluation): %s", sg_migration_errmsg(m));
            return NULL;
        }
        st->mode = SG_ROLLOUT_DONE;
        return "rollout_writes";
    }
    case SG_ROLLOUT_HOLD:
        return "rollout_hold";
    case SG_ROLLOUT_NONE:
        break;
    }
    return NULL;
}

/* act_now while the worker is between rounds (driver.h). */
static const char *act(sg_rollout *ro, sg_migration *m, const sg_rollout_decision *d,
                       sg_rollout_state *st)
{
    bool moves = d->act == SG_ROLLOUT_ADVANCE || d->act == SG_ROLLOUT_ROLLBACK ||
                 d->act == SG_ROLLOUT_WRITES;
    if (moves)
        pthread_mutex_lock(ro->switching);
    const char *action = act_now(&ro->side, m, d, st);
    if (moves)
        pthread_mutex_unlock(ro->switching);
    return action;
}

/* A drill's injected failure (segue/drill.h), as one more check. */
static void add_drill_check(sg_gate_check **v, size_t *n, int64_t fault_ms)
{
    sg_gate_check *more = realloc(*v, (*n + 1) * sizeof **v);
    if (!more)
        return;
    *v = more;
    sg_gate_check *c = &more[(*n)++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "drill");
    c->state = SG_GATE_FAIL;
    c->value = 1;
    c->limit = 0;
    snprintf(c->unit, sizeof c->unit, "value");
    c->samples = -1;
    c->blocks = true;
    snprintf(c->detail, sizeof c->detail, "a failure injected by segue drill at %lld",
             (long long)fault_ms);
    snprintf(c->needs, sizeof c->needs, "the drill to end");
}

/* One evaluation and what follows from it. Fails only when the control
 * tables cannot be read or written (the handle is then opened again). */
static int round_once(sg_rollout *ro, sg_migration *m)
{
    sg_side *r = &ro->side;
    sg_phase ph;
    sg_routing rt;
    sg_rollout_state st;
    sg_rollout_decision d;
    sg_gate_check *v = NULL;
    size_t n = 0;
    bool found = false;
    char hash[17], detail[800];
    int64_t drill = 0, fault_ms = 0;
    int rc = sg_control_phase(m, &ph);
    if (rc || !walking_phase(ph))
        return rc;
    if ((rc = sg_routing_load(m->tgt, m->spec->name, &rt, &found, &m->err)) != 0 ||
        (rc = sg_rollout_load(m, &st, &found)) != 0 ||
        (rc = sg_gates_evaluate(m, &v, &n)) != 0 ||
        (st.mode == SG_ROLLOUT_DRILL && (rc = sg_drill_active(m, &drill, &fault_ms)) != 0))
        goto done;
    if (drill)
        add_drill_check(&v, &n, fault_ms);
    bool drilling = st.mode == SG_ROLLOUT_DRILL;
    sg_rollout_decide(&st, m->spec, v, n, sg_now_ms(), rt.read_pct, &d);
    int eval_step = st.step;
    /* a step forward only over the state the decision was made on */
    bool forward = d.act == SG_ROLLOUT_ADVANCE || d.act == SG_ROLLOUT_WRITES;
    if (forward)
        sg_test_point("rollout:forward");
    sg_spec_gates_hash(m->spec, hash);
    if (forward && (rc = sg_rollout_claim(m, &st, hash)) != 0)
        goto done;
    const char *action = act(ro, m, &d, &st);
    if (action && d.page) {
        sg_rollout_page pg = { m->spec->name, drilling ? "drill" : d.act ==
                               SG_ROLLOUT_ROLLBACK ? "rollback" : "pause", d.why,
                               eval_step + 1, (int64_t)rt.read_pct, v, n };
        sg_rollout_page_send(m, &pg);
    }
    if (action && d.act == SG_ROLLOUT_ROLLBACK && drill &&
        sg_drill_rolled_back(m, drill, sg_now_ms()))
        sg_side_say(r, SG_LOG_WARN, "the drill's rollback time was not kept: %s",
                    sg_migration_errmsg(m));
    snprintf(detail, sizeof detail, "%s (gates %s)", d.why, hash);
    if (action)
        sg_side_say(r, SG_LOG_INFO, "%s", detail);
    sg_rollout_record rec = { v, n, eval_step, action, detail, NULL };
    rc = sg_rollout_save(m, &st, hash, &rec);
done:
    if (rc == SG_ESTATE) { /* paused or resumed meanwhile: read it again */
        sg_side_say(r, SG_LOG_INFO, "%s", sg_migration_errmsg(m));
        rc = 0;
    }
    free(v);
    return rc;
}

/* One evaluation every gates.interval, counted from its start. */
static int64_t evaluation(sg_side *side, void *ud, sg_migration *m, bool *broken)
{
    sg_rollout *r = ud;
    int64_t started = sg_mono_ms(), pruned = 0;
    if (!r->pruned_ms || started - r->pruned_ms >= PRUNE_EVERY_MS) {
        if (sg_rollout_prune(m, sg_now_ms(), &pruned))
            sg_side_say(side, SG_LOG_WARN, "old evaluations not pruned (tried again "
                        "later): %s", sg_migration_errmsg(m));
        else if (pruned)
            sg_side_say(side, SG_LOG_INFO, "%lld evaluations older than 7 days pruned",
                        (long long)pruned);
        r->pruned_ms = started;
    }
    if (round_once(r, m)) {
        sg_side_say(side, SG_LOG_WARN, "the evaluation failed: %s", sg_migration_errmsg(m));
        *broken = true;
    }
    int64_t spent = sg_mono_ms() - started;
    return r->interval_ms > spent ? r->interval_ms - spent : 0;
}

void sg_rollout_start(sg_rollout **out, sg_migration *m, pthread_mutex_t *switching)
{
    *out = NULL;
    if (!m->spec->n_steps || !m->spec->path)
        return;
    sg_rollout *r = calloc(1, sizeof *r);
    if (!r) {
        sg_log(m, SG_LOG_WARN, "rollout: out of memory");
        return;
    }
    r->interval_ms = m->spec->gate_interval_ms;
    r->switching = switching;
    r->side = (sg_side){ .what = "rollout", .round = evaluation, .ud = r };
    if (sg_side_start(&r->side, m))
        *out = r;
    else
        free(r);
}

void sg_rollout_stop(sg_rollout *r)
{
    if (!r)
        return;
    sg_side_stop(&r->side);
    free(r);
}
