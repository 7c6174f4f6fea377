/* segue gates: every check now, with its value, threshold and state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void cli_span(char *out, size_t n, int64_t ms)
{
    int64_t h = ms / 3600000, mi = ms % 3600000 / 60000, se = ms % 60000 / 1000;
    if (ms < 60000) {
        snprintf(out, n, ms % 1000 ? "%.4gs" : "%.0fs", (double)ms / 1000.0);
        if (ms < 1000)
            snprintf(out, n, "%lldms", (long long)ms);
        return;
    }
    int w = snprintf(out, n, "%s", "");
    if (h)
        w += snprintf(out + w, n - (size_t)w, "%lldh", (long long)h);
    if (mi)
        w += snprintf(out + w, n - (size_t)w, "%lldm", (long long)mi);
    if (se)
        snprintf(out + w, n - (size_t)w, "%llds", (long long)se);
}

static void plan_text(const char *name, const sg_rollout_plan *p)
{
    char a[32], b[32];
    cli_span(a, sizeof a, p->interval_ms);
    printf("rollout of '%s': %s; checks evaluated every %s; %lld failing evaluations "
           "in a row %s\n", name, p->automatic ? "automatic (`segue run` takes each step)"
           : "advice only (cutover.auto is false: a person takes each step)", a,
           (long long)p->failure_limit, strcmp(p->on_fail, "pause") ? "roll back" : "pause");
    if (!p->n_steps)
        printf("no steps (cutover.reads): each step is `segue cutover --reads PCT`\n");
    else
        printf("  %-5s %-6s %-10s %s\n", "step", "reads", "hold", "ends at the soonest");
    for (size_t i = 0; i < p->n_steps; i++) {
        cli_span(a, sizeof a, p->steps[i].hold_ms);
        cli_span(b, sizeof b, p->steps[i].at_least_ms);
        printf("  %-5zu %3lld %%  %-10s %s\n", i + 1, (long long)p->steps[i].pct, a, b);
    }
    cli_span(a, sizeof a, p->max_fence_ms);
    if (p->writes_auto)
        printf("writes: moved after the last step's hold, if the fence fits in %s\n", a);
    else
        printf("writes: moved by `segue cutover --writes`\n");
    cli_span(a, sizeof a, p->bake_ms);
    cli_span(b, sizeof b, p->least_ms);
    printf("bake: %s; the least total time: %s\n", p->bake_ms ? a : "none", b);
    printf("checks:\n");
    for (size_t i = 0; i < p->n_checks; i++)
        printf("  %-22s %s%s%s\n", p->checks[i].name, p->checks[i].params,
               p->checks[i].every_step ? " (every step)" : "",
               p->checks[i].reads_only ? " (read steps only)" : "");
    if (p->command)
        printf("on rollback: runs %s\n", p->command);
    if (p->webhook)
        printf("on rollback: POSTs an alert to %s\n", p->webhook);
    if (!p->command && !p->webhook)
        printf("on rollback: nobody is paged (no on_rollback)\n");
    printf("gates hash: %s\n", p->gates_hash);
}

static json_t *plan_json(const sg_rollout_plan *p)
{
    json_t *steps = json_array(), *checks = json_array();
    for (size_t i = 0; i < p->n_steps; i++)
        json_array_append_new(steps, json_pack("{s:I,s:I,s:I}", "pct",
                              (json_int_t)p->steps[i].pct, "hold_ms",
                              (json_int_t)p->steps[i].hold_ms, "at_least_ms",
                              (json_int_t)p->steps[i].at_least_ms));
    for (size_t i = 0; i < p->n_checks; i++)
        json_array_append_new(checks, json_pack("{s:s,s:s,s:b,s:b}", "name",
                              p->checks[i].name, "params", p->checks[i].params,
                              "every_step", p->checks[i].every_step, "reads_only",
                              p->checks[i].reads_only));
    return json_pack("{s:b,s:o,s:I,s:I,s:s,s:o,s:b,s:I,s:I,s:I,s:s?,s:s?,s:I,s:s}",
                     "automatic", p->automatic, "steps", steps, "interval_ms",
                     (json_int_t)p->interval_ms, "failure_limit",
                     (json_int_t)p->failure_limit, "on_fail", p->on_fail, "checks", checks,
                     "writes_auto", p->writes_auto, "max_fence_ms",
                     (json_int_t)p->max_fence_ms, "bake_ms", (json_int_t)p->bake_ms,
                     "max_read_lag_ms", (json_int_t)p->max_read_lag_ms, "command",
                     p->command, "webhook", p->webhook, "least_ms",
                     (json_int_t)p->least_ms, "gates_hash", p->gates_hash);
}

int cli_cutover_plan(const cli_args *a)
{
    sg_migration *m = NULL;
    sg_rollout_plan *p = NULL;
    int code = cli_open(a, &m);
    if (code)
        return code;
    int rc = sg_migration_rollout_plan(&p, m);
    if (rc)
        code = cli_fail("cutover --plan", rc, sg_migration_errmsg(m));
    else if (a->json)
        cli_print_json(plan_json(p));
    else
        plan_text(sg_migration_name(m), p);
    sg_rollout_plan_free(p);
    sg_migration_close(m);
    return code;
}
