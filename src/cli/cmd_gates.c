/* segue gates: every check now, with its value, threshold and state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <segue/gates.h>

#include "cli.h"

/* ms since the epoch, as the library's times are */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *check_json(const sg_gate_check *g)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "name", g->name, "state",
                          sg_gate_state_name(g->state), "unit", g->unit, "detail",
                          g->detail, "needs", g->needs, "blocks", g->blocks);
    json_object_set_new(o, "value", isnan(g->value) ? json_null() : json_real(g->value));
    json_object_set_new(o, "limit", json_real(g->limit));
    json_object_set_new(o, "samples", g->samples < 0 ? json_null()
                                                     : json_integer(g->samples));
    json_object_set_new(o, "line", g->line ? json_integer(g->line) : json_null());
    json_object_set_new(o, "since_ms", g->since_ms ? json_integer(g->since_ms)
                                                   : json_null());
    return o;
}

static json_t *rollout_json(const sg_rollout_info *r)
{
    if (!r->configured)
        return json_null();
    return json_pack("{s:s,s:b,s:i,s:i,s:I,s:I,s:I,s:I,s:I}", "mode", r->mode,
                     "automatic", r->automatic, "step", r->step, "steps", r->steps,
                     "pct", (json_int_t)r->pct, "hold_ms", (json_int_t)r->hold_ms,
                     "step_at_ms", (json_int_t)r->step_at_ms, "clean_since_ms",
                     (json_int_t)r->clean_since_ms, "last_eval_ms",
                     (json_int_t)r->last_eval_ms);
}

static void rollout_text(const sg_rollout_info *r)
{
    if (!r->configured) {
        printf("rollout: none (no cutover.reads steps in the spec)\n");
        return;
    }
    printf("rollout: %s%s, ", r->mode, r->automatic ? "" : " (advice only: "
           "cutover.auto is false)");
    if (!r->step) {
        printf("before step 1 of %d\n", r->steps);
        return;
    }
    printf("step %d of %d (%lld %%)", r->step, r->steps, (long long)r->pct);
    if (r->clean_since_ms)
        printf(", every check passing for %.1f s of its %.1f s hold",
               (double)(wall_ms() - r->clean_since_ms) / 1000.0,
               (double)r->hold_ms / 1000.0);
    putchar('\n');
}

static void check_text(const sg_gate_check *g)
{
    const char *state = sg_gate_state_name(g->state);
    char since[32] = "";
    if (g->since_ms)
        snprintf(since, sizeof since, " (since %.0f s)",
                 (double)(wall_ms() - g->since_ms) / 1000.0);
    printf("%-22s %-13s %s; needs %s%s\n", g->name, g->blocks ? state : "waits",
           g->detail, g->needs, since);
}

/* Every check that blocks passes. */
static bool all_pass(const sg_gate_check *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].blocks && v[i].state != SG_GATE_PASS)
            return false;
    return true;
}

CMD(gates)
{
    sg_migration *m = NULL;
    sg_gate_check *v = NULL;
    size_t n = 0;
    (void)c;
    int code = cli_open(a, &m);
    if (code)
        return code;
    sg_rollout_info ro;
    int rc = sg_migration_gates(&v, &n, m);
    if (!rc)
        rc = sg_migration_rollout(&ro, m);
    if (rc) {
        code = cli_fail("gates", rc, sg_migration_errmsg(m));
    } else if (a->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, check_json(&v[i]));
        cli_print_json(json_pack("{s:o,s:b,s:o}", "checks", arr, "pass", all_pass(v, n),
                                 "rollout", rollout_json(&ro)));
    } else {
        rollout_text(&ro);
        for (size_t i = 0; i < n; i++)
            check_text(&v[i]);
    }
    if (!rc && !all_pass(v, n))
        code = EXIT_STATE;
    free(v);
    sg_migration_close(m);
    return code;
}
