/* `segue pause` and `segue resume` (sg_migration_pause, _resume): a mode
 * written over the rollout's saved state, audited. */
#include <stdio.h>
#include <string.h>

#include <segue/gates.h>

#include "rollout/store.h"
#include "state/control.h"

/* Whether the spec has a rollout to change. */
static int has_steps(sg_migration *m, const char *what)
{
    if (!m)
        return SG_EINVAL;
    sg_err_clear(&m->err);
    if (!m->spec->n_steps)
        return sg_err_set(&m->err, SG_ESTATE, "cannot %s: the spec has no rollout "
                          "steps; hint: add cutover.reads (docs/spec.md)", what);
    return 0;
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

/* What a pause or resume records: its audit row's detail and reason. */
typedef struct person {
    const char *reason;
    char detail[160];
} person;

static int pause_edit(sg_migration *m, sg_rollout_state *st, sg_rollout_record *r,
                      void *ctx)
{
    person *p = ctx;
    if (st->mode != SG_ROLLOUT_WALKING)
        return sg_err_set(&m->err, SG_ESTATE, "cannot pause: the rollout is %s",
                          sg_rollout_mode_name(st->mode));
    st->mode = SG_ROLLOUT_PAUSED;
    if (st->step < 0)
        snprintf(p->detail, sizeof p->detail, "paused before the first step");
    else
        snprintf(p->detail, sizeof p->detail, "paused at step %d (%lld %%)", st->step + 1,
                 (long long)m->spec->steps[st->step].pct);
    *r = (sg_rollout_record){ NULL, 0, r->step, "rollout_pause", p->detail, p->reason };
    return 0;
}

int sg_migration_pause(sg_migration *m, const char *reason)
{
    person p = { reason, "" };
    int rc = has_steps(m, "pause");
    return rc ? rc : sg_rollout_update(m, pause_edit, &p);
}

static int resume_edit(sg_migration *m, sg_rollout_state *st, sg_rollout_record *r,
                       void *ctx)
{
    person *p = ctx;
    int rc;
    if (st->mode == SG_ROLLOUT_WALKING || st->mode == SG_ROLLOUT_DONE)
        return sg_err_set(&m->err, SG_ESTATE, "cannot resume: the rollout is %s%s",
                          sg_rollout_mode_name(st->mode), st->mode == SG_ROLLOUT_DONE
                          ? "" : " (not paused)");
    if (st->mode == SG_ROLLOUT_ROLLED_BACK) {
        snprintf(p->detail, sizeof p->detail, "resumed after a rollback: from step 1");
        st->step = -1;
    } else if ((rc = step_of_reads(m, &st->step)) != 0) { /* paused, or a drill's */
        return rc;
    } else if (st->step < 0) {
        snprintf(p->detail, sizeof p->detail, "resumed before the first step");
    } else {
        snprintf(p->detail, sizeof p->detail, "resumed at step %d (%lld %%); its hold "
                 "starts again", st->step + 1, (long long)m->spec->steps[st->step].pct);
    }
    st->mode = SG_ROLLOUT_WALKING;
    st->clean_since_ms = 0;
    for (size_t i = 0; i < st->n_checks; i++)
        st->checks[i].failures = 0;
    *r = (sg_rollout_record){ NULL, 0, st->step, "rollout_resume", p->detail, p->reason };
    return 0;
}

int sg_migration_resume(sg_migration *m, const char *reason)
{
    person p = { reason, "" };
    int rc = has_steps(m, "resume");
    return rc ? rc : sg_rollout_update(m, resume_edit, &p);
}
