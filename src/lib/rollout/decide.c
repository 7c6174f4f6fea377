/* The rollout's decisions (rollout.h): pure, so that every rule is tested
 * on its own (tests/unit/test_rollout.c). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gate/gate.h"
#include "rollout/rollout.h"

void sg_rollout_state_init(sg_rollout_state *st)
{
    memset(st, 0, sizeof *st);
    st->mode = SG_ROLLOUT_WALKING;
    st->step = -1;
}

const char *sg_rollout_mode_name(sg_rollout_mode m)
{
    static const char *const names[] = { "walking", "paused", "rolled_back", "done",
                                          "drill" };
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "?";
}

/* The record of check `name`, made on first sight; NULL when full. */
static sg_rollout_check *record_of(sg_rollout_state *st, const char *name)
{
    for (size_t i = 0; i < st->n_checks; i++)
        if (!strcmp(st->checks[i].name, name))
            return &st->checks[i];
    if (st->n_checks == SG_ROLLOUT_MAX_CHECKS)
        return NULL;
    sg_rollout_check *c = &st->checks[st->n_checks++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->state = (sg_gate_state)-1;
    return c;
}

/* Each check's state, since and consecutive failures; the first check at
 * or past the failure limit (index into v), or -1. */
static long track(sg_rollout_state *st, const sg_spec *s, const sg_gate_check *v,
                  size_t n, int64_t now)
{
    long over = -1;
    /* a check not in this evaluation (a drill's, once over) failed in
     * none of it: its count starts again */
    for (size_t k = 0; k < st->n_checks; k++) {
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = !strcmp(st->checks[k].name, v[i].name);
        if (!seen)
            st->checks[k].failures = 0;
    }
    for (size_t i = 0; i < n; i++) {
        sg_rollout_check *c = record_of(st, v[i].name);
        if (!c)
            continue;
        if (c->state != v[i].state)
            c->since_ms = now;
        c->state = v[i].state;
        c->failures = v[i].state == SG_GATE_FAIL ? c->failures + 1 : 0;
        if (over < 0 && c->failures >= s->failure_limit)
            over = (long)i;
    }
    st->last_eval_ms = now;
    return over;
}

/* The first check that holds a step back (index into v), or -1. */
static long holding(const sg_gate_check *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].blocks && v[i].state != SG_GATE_PASS)
            return (long)i;
    return -1;
}

/* "lag 0.2 <= 1 (pass); error_rate 0.25 > 0.05 (fail); ..." */
static void values(char *out, size_t size, const sg_gate_check *v, size_t n)
{
    size_t used = strlen(out);
    for (size_t i = 0; i < n && used < size; i++) {
        int w = isnan(v[i].value)
                    ? snprintf(out + used, size - used, "%s%s - (%s)", i ? "; " : "",
                               v[i].name, sg_gate_state_name(v[i].state))
                    : snprintf(out + used, size - used, "%s%s %.4g/%.4g (%s)",
                               i ? "; " : "", v[i].name, v[i].value, v[i].limit,
                               sg_gate_state_name(v[i].state));
        used += w > 0 ? (size_t)w : 0;
    }
}

static void decided(sg_rollout_decision *d, sg_rollout_act act, int to_step,
                    const sg_gate_check *v, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void decided(sg_rollout_decision *d, sg_rollout_act act, int to_step,
                    const sg_gate_check *v, size_t n, const char *fmt, ...)
{
    va_list ap;
    d->act = act;
    d->to_step = to_step;
    va_start(ap, fmt);
    vsnprintf(d->why, sizeof d->why, fmt, ap);
    va_end(ap);
    size_t used = strlen(d->why);
    if (used + 10 < sizeof d->why) {
        snprintf(d->why + used, sizeof d->why - used, "; values: ");
        values(d->why, sizeof d->why, v, n);
    }
}

void sg_rollout_decide(sg_rollout_state *st, const sg_spec *s, const sg_gate_check *v,
                       size_t n, int64_t now, double read_pct, sg_rollout_decision *d)
{
    memset(d, 0, sizeof *d);
    long over = track(st, s, v, n, now), held = holding(v, n);
    bool was_clean = st->clean_since_ms != 0;
    if (held >= 0)
        st->clean_since_ms = 0;
    /* done: every step taken, the writes to move or moved (the bake); the
     * gates still watch, and a failure still rolls back */
    bool done = st->mode == SG_ROLLOUT_DONE;
    if (st->mode == SG_ROLLOUT_DRILL) {
        if (over >= 0) {
            decided(d, SG_ROLLOUT_ROLLBACK, st->step, v, n, "drill: %s failed %lld "
                    "evaluations in a row with %g %% of reads on the target: %s",
                    v[over].name, (long long)s->failure_limit, read_pct, v[over].detail);
            d->page = true;
        }
        return;
    }
    if ((st->mode != SG_ROLLOUT_WALKING && !done) || !s->cutover_auto || !s->n_steps)
        return;
    int k = st->step;
    if (k >= 0 && fabs(read_pct - (double)s->steps[k].pct) > 1e-9) {
        decided(d, SG_ROLLOUT_PAUSE, k, v, n, "reads were moved by hand to %g %% "
                "while step %d is at %lld %%", read_pct, k + 1,
                (long long)s->steps[k].pct);
        return;
    }
    if (k >= 0 && over >= 0) {
        decided(d, s->on_fail == SG_ON_FAIL_PAUSE ? SG_ROLLOUT_PAUSE : SG_ROLLOUT_ROLLBACK,
                k, v, n, "%s failed %lld evaluations in a row at step %d (%lld %%): %s; "
                "needs %s", v[over].name, (long long)s->failure_limit, k + 1,
                (long long)s->steps[k].pct, v[over].detail, v[over].needs);
        d->page = true;
        return;
    }
    if (done)
        return;
    if (held >= 0) {
        if (k >= 0 && was_clean)
            decided(d, SG_ROLLOUT_HOLD, k, v, n, "step %d (%lld %%) holds again: %s "
                    "is %s: %s", k + 1, (long long)s->steps[k].pct, v[held].name,
                    sg_gate_state_name(v[held].state), v[held].detail);
        return;
    }
    if (k < 0) {
        decided(d, SG_ROLLOUT_ADVANCE, 0, v, n, "every check passed: step 1 (%lld %%)",
                (long long)s->steps[0].pct);
        return;
    }
    if (!st->clean_since_ms)
        st->clean_since_ms = now;
    if (now - st->clean_since_ms < s->steps[k].hold_ms)
        return;
    if ((size_t)k + 1 < s->n_steps)
        decided(d, SG_ROLLOUT_ADVANCE, k + 1, v, n, "every check passed for the whole "
                "hold of step %d (%lld %%, %lld ms): step %d (%lld %%)", k + 1,
                (long long)s->steps[k].pct, (long long)s->steps[k].hold_ms, k + 2,
                (long long)s->steps[k + 1].pct);
    else
        decided(d, s->writes_auto ? SG_ROLLOUT_WRITES : SG_ROLLOUT_FINISH, k, v, n,
                "every check passed for the whole hold of the last step (%lld %%, "
                "%lld ms)%s", (long long)s->steps[k].pct, (long long)s->steps[k].hold_ms,
                s->writes_auto ? ": the writes move (cutover.writes.auto)" : "");
}

void sg_rollout_entered(sg_rollout_state *st, int step, int64_t now)
{
    st->step = step;
    st->step_at_ms = now;
    st->clean_since_ms = now;
    for (size_t i = 0; i < st->n_checks; i++)
        st->checks[i].failures = 0;
}
