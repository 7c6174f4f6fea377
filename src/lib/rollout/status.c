/* What the gates and the rollout say now (sg_migration_gates,
 * sg_migration_rollout): the checks evaluated here, with since when each
 * has been in its state as the rollout's evaluations recorded it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate/gate.h"
#include "rollout/store.h"

int sg_migration_gates(sg_gate_check **out, size_t *n, sg_migration *m)
{
    sg_rollout_state st;
    bool found = false;
    if (!m || !out || !n)
        return m ? sg_err_set(&m->err, SG_EINVAL, "sg_migration_gates: NULL out")
                 : SG_EINVAL;
    sg_err_clear(&m->err);
    int rc = sg_gates_evaluate(m, out, n);
    if (!rc)
        rc = sg_rollout_load(m, &st, &found);
    for (size_t i = 0; !rc && i < *n; i++)
        for (size_t k = 0; k < st.n_checks; k++)
            if (!strcmp(st.checks[k].name, (*out)[i].name) &&
                st.checks[k].state == (*out)[i].state)
                (*out)[i].since_ms = st.checks[k].since_ms;
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int sg_migration_rollout(sg_rollout_info *out, sg_migration *m)
{
    sg_rollout_state st;
    bool found = false;
    if (!m || !out)
        return m ? sg_err_set(&m->err, SG_EINVAL, "sg_migration_rollout: NULL out")
                 : SG_EINVAL;
    sg_err_clear(&m->err);
    memset(out, 0, sizeof *out);
    const sg_spec *s = m->spec;
    out->configured = s->n_steps > 0;
    out->automatic = s->cutover_auto;
    out->steps = (int)s->n_steps;
    int rc = sg_rollout_load(m, &st, &found);
    if (rc)
        return rc;
    snprintf(out->mode, sizeof out->mode, "%s", sg_rollout_mode_name(st.mode));
    if (st.step >= 0 && (size_t)st.step < s->n_steps) {
        out->step = st.step + 1;
        out->pct = s->steps[st.step].pct;
        out->hold_ms = s->steps[st.step].hold_ms;
    }
    out->step_at_ms = st.step_at_ms;
    out->clean_since_ms = st.clean_since_ms;
    out->last_eval_ms = st.last_eval_ms;
    return 0;
}
