/* The gates of the steps that move traffic (see gate.h): which checks
 * there are, evaluating them, and refusing a step on them. */
#include "gate/gate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/settings.h"
#include "state/control.h"

#define WORKER_ALIVE (-1)

/* Every check in the order they are shown; kind WORKER_ALIVE is the one
 * every step needs that the spec does not configure. */
static const struct {
    int kind;
    sg_gate_fn fn;
    bool reads_only;  /* judged for `cutover --reads`, not `--writes` */
    bool traffic;     /* measures the target's traffic (or both sides') */
} checks[] = {
    { SG_CHECK_VERIFY_CLEAN, sg_gate_verify_clean, false, false },
    { WORKER_ALIVE, sg_gate_worker_alive, false, false },
    { SG_CHECK_LAG, sg_gate_lag, false, false },
    { SG_CHECK_HEARTBEAT_LAG, sg_gate_heartbeat_lag, false, false },
    { SG_CHECK_SET_ASIDE_KEYS, sg_gate_set_aside_keys, false, false },
    { SG_CHECK_SHADOW_MISMATCH_RATE, sg_gate_shadow, true, false },
    { SG_CHECK_ERROR_RATE, sg_gate_error_rate, false, true },
    { SG_CHECK_LATENCY_RATIO, sg_gate_latency_ratio, false, true },
    { SG_CHECK_SQL, sg_gate_sql, false, false },
    { SG_CHECK_PROMETHEUS, sg_gate_prometheus, false, false },
};
#define N_CHECKS (sizeof checks / sizeof checks[0])

static const sg_spec_check worker_check = { .on = true };

static const sg_spec_check *config_of(const sg_migration *m, size_t i)
{
    return checks[i].kind == WORKER_ALIVE ? &worker_check
                                          : &m->spec->checks[checks[i].kind];
}

bool sg_gate_at(size_t i, int *kind, bool *reads_only)
{
    if (i >= N_CHECKS)
        return false;
    *kind = checks[i].kind;
    *reads_only = checks[i].reads_only;
    return true;
}

/* Whether anything is routed to the target now. */
static int target_traffic(sg_migration *m, bool *out)
{
    sg_routing r;
    bool found = false;
    int rc = sg_routing_load(m->tgt, m->spec->name, &r, &found, &m->err);
    *out = !rc && found && (r.read_pct > 0 || r.write_side == SG_SIDE_TARGET);
    return rc;
}

/* Check i, evaluated into g. */
static int evaluate(sg_migration *m, size_t i, bool traffic, sg_gate_check *g)
{
    const sg_spec_check *c = config_of(m, i);
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", checks[i].kind == WORKER_ALIVE
                                               ? "worker_alive"
                                               : sg_check_name(checks[i].kind));
    g->line = c->line;
    g->samples = -1;
    g->value = NAN;
    int rc = checks[i].fn(m, c, g);
    /* the traffic of a side nothing is routed to is judged from the first
     * step on: it cannot hold the first step back */
    g->blocks = !(checks[i].traffic && !traffic && g->state == SG_GATE_INCONCLUSIVE);
    if (!g->blocks)
        snprintf(g->detail + strlen(g->detail), sizeof g->detail - strlen(g->detail),
                 "; nothing is routed to the target yet, judged from the first step");
    return rc;
}

int sg_gates_evaluate(sg_migration *m, sg_gate_check **out, size_t *n)
{
    bool traffic = false;
    size_t k = 0;
    *out = NULL;
    *n = 0;
    sg_gate_check *all = calloc(N_CHECKS, sizeof *all);
    if (!all)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    int rc = target_traffic(m, &traffic);
    for (size_t i = 0; i < N_CHECKS && !rc; i++)
        if (config_of(m, i)->on)
            rc = evaluate(m, i, traffic, &all[k++]);
    if (rc) {
        free(all);
        return rc;
    }
    *out = all;
    *n = k;
    return 0;
}

const char *sg_gate_state_name(sg_gate_state s)
{
    switch (s) {
    case SG_GATE_PASS:
        return "pass";
    case SG_GATE_FAIL:
        return "fail";
    case SG_GATE_INCONCLUSIVE:
        return "inconclusive";
    }
    return "?";
}

/* One audit row per gate passed by force. */
static int audit_forced(sg_migration *m, const sg_gate_check *g)
{
    char detail[400];
    snprintf(detail, sizeof detail, "gate %s passed by force: %s (needs %s)", g->name,
             g->detail, g->needs);
    return sg_control_audit(m, "gate_forced", detail, m->force_reason);
}

int sg_gates_require(sg_migration *m, sg_cmd cmd)
{
    sg_buf why = SG_BUF_INIT;
    bool traffic = false;
    if (cmd != SG_CMD_READS && cmd != SG_CMD_WRITES)
        return 0;
    int rc = target_traffic(m, &traffic);
    for (size_t i = 0; i < N_CHECKS && !rc; i++) {
        sg_gate_check g;
        if (!config_of(m, i)->on || (checks[i].reads_only && cmd != SG_CMD_READS))
            continue;
        if ((rc = evaluate(m, i, traffic, &g)) != 0 || g.state == SG_GATE_PASS ||
            !g.blocks)
            continue;
        if (m->force_reason)
            rc = audit_forced(m, &g);
        else
            sg_buf_printf(&why, "%s%s: %s; needs %s", why.len ? "; " : "", g.name,
                          g.detail, g.needs);
    }
    if (!rc && why.len)
        rc = sg_err_set(&m->err, SG_ESTATE, "cannot %s: gates refused: %s; hint: "
                        "fix what they name and retry, or pass them for this step "
                        "with --force --reason TEXT", sg_rule_of(cmd)->name,
                        sg_buf_str(&why));
    sg_buf_free(&why);
    return rc;
}

void sg_gates_force_done(sg_migration *m)
{
    free(m->force_reason);
    m->force_reason = NULL;
}

int sg_migration_force_gates(sg_migration *m, const char *reason)
{
    if (!m)
        return SG_EINVAL;
    if (!reason || !*reason)
        return sg_err_set(&m->err, SG_EINVAL, "passing refused gates needs a "
                          "reason for the audit log; hint: --force --reason TEXT");
    char *r = strdup(reason);
    if (!r)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    free(m->force_reason);
    m->force_reason = r;
    return 0;
}
