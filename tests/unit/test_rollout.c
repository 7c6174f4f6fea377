/* The rollout's decisions, rule by rule, on a spec read from text and
 * evaluations made up for each case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <segue/segue.h>

#include "rollout/rollout.h"
#include "spec/spec.h"

#define HEAD "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n    to: b\n"
#define STEPS "cutover:\n  auto: %s\n  reads:\n    - {pct: 1, hold: 2s}\n" \
              "    - {pct: 10, hold: 2s}\n    - {pct: 100, hold: 2s}\n" \
              "gates:\n  interval: 1s\n  failure_limit: 3\n  on_fail: %s\n"

static sg_spec *spec(const char *autos, const char *on_fail)
{
    char text[1024];
    sg_spec *s = NULL;
    sg_err e = { 0 };
    snprintf(text, sizeof text, HEAD STEPS, autos, on_fail);
    if (sg_spec_parse(&s, "spec.yaml", text, strlen(text), &e))
        fail_msg("%s", e.msg);
    return s;
}

/* An evaluation: lag passes; error_rate is `state`. */
static void eval(sg_gate_check v[2], sg_gate_state state)
{
    memset(v, 0, 2 * sizeof *v);
    snprintf(v[0].name, sizeof v[0].name, "lag");
    v[0].state = SG_GATE_PASS;
    v[0].value = 0.1;
    v[0].limit = 1;
    v[0].blocks = true;
    snprintf(v[1].name, sizeof v[1].name, "error_rate");
    v[1].state = state;
    v[1].value = state == SG_GATE_FAIL ? 0.25 : 0.001;
    v[1].limit = 0.05;
    v[1].blocks = true;
}

/* Decides at `now` with reads where the current step put them. */
static sg_rollout_act at(sg_rollout_state *st, const sg_spec *s, sg_gate_state state,
                         int64_t now, sg_rollout_decision *d)
{
    sg_gate_check v[2];
    eval(v, state);
    double pct = st->step < 0 ? 0 : (double)s->steps[st->step].pct;
    sg_rollout_decide(st, s, v, 2, now, pct, d);
    if (d->act == SG_ROLLOUT_ADVANCE)
        sg_rollout_entered(st, d->to_step, now);
    return d->act;
}

/* every check passing: a step each hold, then done */
static void clean_walk(void **state)
{
    (void)state;
    sg_spec *s = spec("true", "rollback");
    sg_rollout_state st;
    sg_rollout_decision d;
    sg_rollout_state_init(&st);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 1000, &d), SG_ROLLOUT_ADVANCE);
    assert_int_equal(d.to_step, 0);
    assert_non_null(strstr(d.why, "every check passed: step 1 (1 %)"));
    assert_non_null(strstr(d.why, "error_rate 0.001/0.05 (pass)"));
    assert_int_equal(at(&st, s, SG_GATE_PASS, 2000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 2999, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 3000, &d), SG_ROLLOUT_ADVANCE);
    assert_int_equal(d.to_step, 1);
    assert_int_equal(st.step_at_ms, 3000);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 5000, &d), SG_ROLLOUT_ADVANCE);
    assert_int_equal(d.to_step, 2);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 6000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 7000, &d), SG_ROLLOUT_FINISH);
    assert_non_null(strstr(d.why, "the last step (100 %, 2000 ms)"));
    sg_spec_free(s);
}

/* an inconclusive check never passes: the hold starts again and no step
 * follows while it lasts; then the whole hold is needed again */
static void inconclusive_holds(void **state)
{
    (void)state;
    sg_spec *s = spec("true", "rollback");
    sg_rollout_state st;
    sg_rollout_decision d;
    sg_rollout_state_init(&st);
    assert_int_equal(at(&st, s, SG_GATE_INCONCLUSIVE, 1000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(st.step, -1);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 2000, &d), SG_ROLLOUT_ADVANCE);
    assert_int_equal(at(&st, s, SG_GATE_INCONCLUSIVE, 3000, &d), SG_ROLLOUT_HOLD);
    assert_non_null(strstr(d.why, "step 1 (1 %) holds again: error_rate is inconclusive"));
    for (int64_t t = 4000; t < 20000; t += 1000)
        assert_int_equal(at(&st, s, SG_GATE_INCONCLUSIVE, t, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 20000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 21000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 22000, &d), SG_ROLLOUT_ADVANCE);
    assert_int_equal(d.to_step, 1);
    sg_spec_free(s);
}

/* failure_limit consecutive failures roll back (or pause); a passing or
 * inconclusive evaluation in between starts the count again */
static void failures_in_a_row(void **state)
{
    (void)state;
    sg_spec *s = spec("true", "rollback");
    sg_rollout_state st;
    sg_rollout_decision d;
    sg_rollout_state_init(&st);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 1000, &d), SG_ROLLOUT_ADVANCE);
    assert_int_equal(at(&st, s, SG_GATE_FAIL, 2000, &d), SG_ROLLOUT_HOLD);
    assert_int_equal(at(&st, s, SG_GATE_FAIL, 3000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_INCONCLUSIVE, 4000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_FAIL, 5000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_FAIL, 6000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_FAIL, 7000, &d), SG_ROLLOUT_ROLLBACK);
    assert_non_null(strstr(d.why, "error_rate failed 3 evaluations in a row at step 1 (1 %)"));
    assert_int_equal(st.checks[1].failures, 3);
    assert_int_equal(st.checks[1].since_ms, 5000);
    sg_spec_free(s);
    s = spec("true", "pause");
    sg_rollout_state_init(&st);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 1000, &d), SG_ROLLOUT_ADVANCE);
    for (int64_t t = 2000; t < 4000; t += 1000)
        at(&st, s, SG_GATE_FAIL, t, &d);
    assert_int_equal(at(&st, s, SG_GATE_FAIL, 4000, &d), SG_ROLLOUT_PAUSE);
    sg_spec_free(s);
}

/* before the first step nothing is routed: failures hold, never roll back */
static void no_rollback_before_the_first_step(void **state)
{
    (void)state;
    sg_spec *s = spec("true", "rollback");
    sg_rollout_state st;
    sg_rollout_decision d;
    sg_rollout_state_init(&st);
    for (int64_t t = 1000; t < 10000; t += 1000)
        assert_int_equal(at(&st, s, SG_GATE_FAIL, t, &d), SG_ROLLOUT_NONE);
    sg_spec_free(s);
}

/* reads moved by hand away from the step: the rollout pauses */
static void moved_by_hand(void **state)
{
    (void)state;
    sg_spec *s = spec("true", "rollback");
    sg_rollout_state st;
    sg_rollout_decision d;
    sg_gate_check v[2];
    sg_rollout_state_init(&st);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 1000, &d), SG_ROLLOUT_ADVANCE);
    eval(v, SG_GATE_PASS);
    sg_rollout_decide(&st, s, v, 2, 2000, 30, &d);
    assert_int_equal(d.act, SG_ROLLOUT_PAUSE);
    assert_non_null(strstr(d.why, "reads were moved by hand to 30 % while step 1 is at 1 %"));
    sg_spec_free(s);
}

/* without cutover.auto, or paused, the checks are tracked and nothing acts */
static void advice_only(void **state)
{
    (void)state;
    sg_spec *s = spec("false", "rollback");
    sg_rollout_state st;
    sg_rollout_decision d;
    sg_rollout_state_init(&st);
    for (int64_t t = 1000; t < 10000; t += 1000)
        assert_int_equal(at(&st, s, t < 5000 ? SG_GATE_PASS : SG_GATE_FAIL, t, &d),
                         SG_ROLLOUT_NONE);
    assert_int_equal(st.checks[1].failures, 5);
    assert_int_equal(st.checks[1].since_ms, 5000);
    assert_int_equal(st.checks[0].since_ms, 1000);
    sg_spec_free(s);
    s = spec("true", "rollback");
    sg_rollout_state_init(&st);
    st.mode = SG_ROLLOUT_PAUSED;
    assert_int_equal(at(&st, s, SG_GATE_PASS, 1000, &d), SG_ROLLOUT_NONE);
    sg_spec_free(s);
}

/* once done the gates still watch: failures past the limit roll back (the
 * writes too, after they moved); nothing else acts */
static void done_still_watches(void **state)
{
    (void)state;
    sg_spec *s = spec("true", "rollback");
    sg_rollout_state st;
    sg_rollout_decision d;
    sg_rollout_state_init(&st);
    sg_rollout_entered(&st, 2, 1000);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 3000, &d), SG_ROLLOUT_FINISH);
    st.mode = SG_ROLLOUT_DONE;
    assert_int_equal(at(&st, s, SG_GATE_PASS, 4000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_FAIL, 5000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_FAIL, 6000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_FAIL, 7000, &d), SG_ROLLOUT_ROLLBACK);
    assert_true(d.page);
    sg_spec_free(s);
}

/* with cutover.writes.auto the last hold moves the writes */
static void writes_after_the_last_hold(void **state)
{
    (void)state;
    const char *t = HEAD "cutover:\n  auto: true\n  reads:\n    - {pct: 100, hold: 2s}\n"
                    "  writes: {auto: true}\ngates:\n  interval: 1s\n";
    sg_spec *s = NULL;
    sg_err e = { 0 };
    if (sg_spec_parse(&s, "spec.yaml", t, strlen(t), &e))
        fail_msg("%s", e.msg);
    sg_rollout_state st;
    sg_rollout_decision d;
    sg_rollout_state_init(&st);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 1000, &d), SG_ROLLOUT_ADVANCE);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 2000, &d), SG_ROLLOUT_NONE);
    assert_int_equal(at(&st, s, SG_GATE_PASS, 3000, &d), SG_ROLLOUT_WRITES);
    assert_non_null(strstr(d.why, "the writes move (cutover.writes.auto)"));
    sg_spec_free(s);
}

/* a drill: reads moved by hand advance nothing and pause nothing; the
 * failure limit rolls back even before the first step, on_fail: pause too */
static void drill_only_rolls_back(void **state)
{
    (void)state;
    sg_spec *s = spec("true", "pause");
    sg_rollout_state st;
    sg_rollout_decision d;
    sg_gate_check v[2];
    sg_rollout_state_init(&st);
    st.mode = SG_ROLLOUT_DRILL;
    eval(v, SG_GATE_PASS);
    for (int64_t t = 1000; t <= 10000; t += 1000) {
        sg_rollout_decide(&st, s, v, 2, t, 100, &d);
        assert_int_equal(d.act, SG_ROLLOUT_NONE);
    }
    eval(v, SG_GATE_FAIL);
    sg_rollout_decide(&st, s, v, 2, 11000, 100, &d);
    sg_rollout_decide(&st, s, v, 2, 12000, 100, &d);
    assert_int_equal(d.act, SG_ROLLOUT_NONE);
    sg_rollout_decide(&st, s, v, 2, 13000, 100, &d);
    assert_int_equal(d.act, SG_ROLLOUT_ROLLBACK);
    assert_true(d.page);
    assert_non_null(strstr(d.why, "drill: error_rate failed 3 evaluations in a row with "
                           "100 % of reads on the target"));
    /* a check missing from an evaluation (the next drill's failure comes
     * later) starts its count again */
    sg_rollout_decide(&st, s, v, 1, 14000, 0, &d);
    sg_rollout_decide(&st, s, v, 2, 15000, 100, &d);
    assert_int_equal(d.act, SG_ROLLOUT_NONE);
    sg_spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_walk),
        cmocka_unit_test(inconclusive_holds),
        cmocka_unit_test(failures_in_a_row),
        cmocka_unit_test(no_rollback_before_the_first_step),
        cmocka_unit_test(moved_by_hand),
        cmocka_unit_test(advice_only),
        cmocka_unit_test(done_still_watches),
        cmocka_unit_test(writes_after_the_last_hold),
        cmocka_unit_test(drill_only_rolls_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
