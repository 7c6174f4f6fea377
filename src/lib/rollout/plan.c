/* The rollout as the spec plans it (sg_migration_rollout_plan): the steps
 * with the soonest each can end, every check with its parameters, what
 * happens on failure, and the least total time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "gate/gate.h"
#include "spec/settings.h"

static int plan_checks(sg_rollout_plan *p, const sg_spec *s)
{
    int kind;
    bool reads_only;
    if (!(p->checks = calloc(SG_CHECK_COUNT + 1, sizeof *p->checks)))
        return SG_ENOMEM;
    for (size_t i = 0; sg_gate_at(i, &kind, &reads_only); i++) {
        const sg_spec_check *c = kind < 0 ? NULL : &s->checks[kind];
        if (c && !c->on)
            continue;
        sg_rollout_plan_check *pc = &p->checks[p->n_checks++];
        snprintf(pc->name, sizeof pc->name, "%s", kind < 0 ? "worker_alive"
                                                           : sg_check_name(kind));
        if (c)
            sg_check_describe(kind, c, pc->params, sizeof pc->params);
        else
            snprintf(pc->params, sizeof pc->params, "a worker holds the lease");
        pc->every_step = !c || !c->line;
        pc->reads_only = reads_only;
    }
    return 0;
}

static int plan_steps(sg_rollout_plan *p, const sg_spec *s)
{
    int64_t at = 0, every = s->gate_interval_ms;
    if (s->n_steps && !(p->steps = calloc(s->n_steps, sizeof *p->steps)))
        return SG_ENOMEM;
    p->n_steps = s->n_steps;
    for (size_t i = 0; i < s->n_steps; i++) {
        /* a step advances at the first evaluation past its hold */
        at += (s->steps[i].hold_ms + every - 1) / every * every;
        p->steps[i] = (sg_rollout_plan_step){ s->steps[i].pct, s->steps[i].hold_ms, at };
    }
    p->least_ms = at + s->bake_ms;
    return 0;
}

static char *joined(char *const *argv, size_t n)
{
    sg_buf b = SG_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        sg_buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
    return sg_buf_take(&b);
}

int sg_migration_rollout_plan(sg_rollout_plan **out, sg_migration *m)
{
    if (!m || !out)
        return m ? sg_err_set(&m->err, SG_EINVAL, "sg_migration_rollout_plan: NULL out")
                 : SG_EINVAL;
    const sg_spec *s = m->spec;
    sg_rollout_plan *p = calloc(1, sizeof *p);
    int rc = p ? 0 : SG_ENOMEM;
    if (!rc) {
        p->automatic = s->cutover_auto;
        p->interval_ms = s->gate_interval_ms;
        p->failure_limit = s->failure_limit;
        snprintf(p->on_fail, sizeof p->on_fail, "%s",
                 s->on_fail == SG_ON_FAIL_PAUSE ? "pause" : "rollback");
        p->writes_auto = s->writes_auto;
        p->max_fence_ms = s->max_fence_ms;
        p->bake_ms = s->bake_ms;
        p->max_read_lag_ms = s->max_read_lag_ms;
        sg_spec_gates_hash(s, p->gates_hash);
        rc = plan_steps(p, s);
    }
    if (!rc)
        rc = plan_checks(p, s);
    if (!rc && s->n_hook_argv && !(p->command = joined(s->hook_argv, s->n_hook_argv)))
        rc = SG_ENOMEM;
    if (!rc && s->webhook && !(p->webhook = strdup(s->webhook)))
        rc = SG_ENOMEM;
    if (rc) {
        sg_rollout_plan_free(p);
        return sg_err_set(&m->err, rc, "out of memory");
    }
    *out = p;
    return 0;
}

void sg_rollout_plan_free(sg_rollout_plan *p)
{
    if (!p)
        return;
    free(p->steps);
    free(p->checks);
    free(p->command);
    free(p->webhook);
    free(p);
}
