/* `segue pause` and `segue resume` (sg_migration_pause, _resume): a mode
 * written over the rollout's saved state, audited. */
#include <stdio.h>
#include <string.h>

#include <segue/gates.h>

#include "rollout/store.h"
#include "state/control.h"

/* The saved state of a rollout the spec has steps for. */
static int load_for(sg_migration *m, const char *what, sg_rollout_state *st)
{
    bool found = false;
    if (!m)
        return SG_EINVAL;
    sg_err_clear(&m->err);
    if (!m->spec->n_steps)
        return sg_err_set(&m->err, SG_ESTATE, "cannot %s: the spec has no rollout "
                          "steps; hint: add cutover.reads (docs/spec.md)", what);
    return sg_rollout_load(m, st, &found);
}

/* The step the reads are at now (reads moved by hand meanwhile, a manual
 * rollback: 0 % is before the first step); SG_ESTATE when no step has
 * that percentage. */
static int step_of_reads(sg_migration *m, int *step)
{
    sg_routing r;
    bool found = false;
    int rc = sg_routing_load(m->tgt, m->spec->name, &r, &found, &m->err);
    if (rc)
        return rc;
    *step = -1;
    if (!found || r.read_pct <= 0)
        return 0;
    for (size_t i = 0; i < m->spec->n_steps; i++)
        if ((double)m->spec->steps[i].pct == r.read_pct)
            *step = (int)i;
    if (*step < 0)
        return sg_err_set(&m->err, SG_ESTATE, "cannot resume: reads are at %g %%, "
                          "which is no step of cutover.reads; hint: move them to a "
                          "step's percentage (`segue cutover --reads N`), or roll back, "
                          "then resume", r.read_pct);
    return 0;
}

static int write_mode(sg_migration *m, sg_rollout_state *st, const char *action,
                      const char *detail, const char *reason)
{
    char hash[17];
    sg_spec_gates_hash(m->spec, hash);
    sg_rollout_record rec = { NULL, 0, st->step, action, detail, reason };
    return sg_rollout_save(m, st, hash, &rec);
}

int sg_migration_pause(sg_migration *m, const char *reason)
{
    sg_rollout_state st;
    char detail[160];
    int rc = load_for(m, "pause", &st);
    if (rc)
        return rc;
    if (st.mode != SG_ROLLOUT_WALKING)
        return sg_err_set(&m->err, SG_ESTATE, "cannot pause: the rollout is %s",
                          sg_rollout_mode_name(st.mode));
    st.mode = SG_ROLLOUT_PAUSED;
    if (st.step < 0)
        snprintf(detail, sizeof detail, "paused before the first step");
    else
        snprintf(detail, sizeof detail, "paused at step %d (%lld %%)", st.step + 1,
                 (long long)m->spec->steps[st.step].pct);
    return write_mode(m, &st, "rollout_pause", detail, reason);
}

int sg_migration_resume(sg_migration *m, const char *reason)
{
    sg_rollout_state st;
    char detail[160];
    int rc = load_for(m, "resume", &st);
    if (rc)
        return rc;
    if (st.mode == SG_ROLLOUT_WALKING || st.mode == SG_ROLLOUT_DONE)
        return sg_err_set(&m->err, SG_ESTATE, "cannot resume: the rollout is %s%s",
                          sg_rollout_mode_name(st.mode), st.mode == SG_ROLLOUT_DONE
                          ? "" : " (not paused)");
    if (st.mode == SG_ROLLOUT_ROLLED_BACK) {
        snprintf(detail, sizeof detail, "resumed after a rollback: from step 1");
        st.step = -1;
    } else if ((rc = step_of_reads(m, &st.step)) != 0) { /* paused, or a drill's */
        return rc;
    } else if (st.step < 0) {
        snprintf(detail, sizeof detail, "resumed before the first step");
    } else {
        snprintf(detail, sizeof detail, "resumed at step %d (%lld %%); its hold starts "
                 "again", st.step + 1, (long long)m->spec->steps[st.step].pct);
    }
    st.mode = SG_ROLLOUT_WALKING;
    st.clean_since_ms = 0;
    for (size_t i = 0; i < st.n_checks; i++)
        st.checks[i].failures = 0;
    return write_mode(m, &st, "rollout_resume", detail, reason);
}
