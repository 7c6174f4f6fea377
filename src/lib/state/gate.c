/* The gates of the steps that move traffic (see gate.h). */
#include "state/gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/aside.h"
#include "move/apply.h"
#include "move/capture.h"
#include "state/control.h"
#include "state/lease.h"

typedef struct gate_eval {
    bool pass;
    char value[160];  /* what was measured, for messages and the audit */
    char limit[96];   /* what was needed */
} gate_eval;

typedef int (*gate_fn)(sg_migration *m, gate_eval *g);

/* "1h", "90s", "1.5s", "250ms" */
static void fmt_ms(char *out, size_t n, int64_t ms)
{
    if (ms >= 3600000 && ms % 3600000 == 0)
        snprintf(out, n, "%lldh", (long long)(ms / 3600000));
    else if (ms >= 60000 && ms % 60000 == 0)
        snprintf(out, n, "%lldm", (long long)(ms / 60000));
    else if (ms >= 1000)
        snprintf(out, n, "%.3gs", (double)ms / 1000.0);
    else
        snprintf(out, n, "%lldms", (long long)ms);
}

static int verify_clean(sg_migration *m, gate_eval *g)
{
    char age[32], max[32];
    int64_t diffs = 0, at = 0;
    bool found = false;
    fmt_ms(max, sizeof max, m->spec->verify_max_age_ms);
    snprintf(g->limit, sizeof g->limit, "a clean verify within %s", max);
    snprintf(g->value, sizeof g->value, "no verify has run");
    int rc = sg_control_last_verify(m, &at, &diffs, &found);
    if (!rc && found) {
        fmt_ms(age, sizeof age, sg_now_ms() - at);
        if (diffs)
            snprintf(g->value, sizeof g->value, "the last verify (%s ago) found %lld "
                     "difference%s", age, (long long)diffs, diffs == 1 ? "" : "s");
        else
            snprintf(g->value, sizeof g->value, "the last verify was clean, %s ago", age);
        g->pass = diffs == 0 && sg_now_ms() - at <= m->spec->verify_max_age_ms;
    }
    return rc;
}

static int worker_alive(sg_migration *m, gate_eval *g)
{
    char holder[128];
    int rc = sg_lease_holder(m, holder, sizeof holder, &g->pass);
    snprintf(g->limit, sizeof g->limit, "a live worker (`segue run`)");
    if (g->pass)
        snprintf(g->value, sizeof g->value, "worker %s holds the lease", holder);
    else
        snprintf(g->value, sizeof g->value, "no worker holds the lease");
    return rc;
}

static int lag(sg_migration *m, gate_eval *g)
{
    int64_t pending = 0, lag_ms = 0;
    char age[32], max[32];
    int rc = sg_apply_pending(m, SG_FORWARD, &pending, &lag_ms);
    fmt_ms(age, sizeof age, lag_ms);
    fmt_ms(max, sizeof max, m->spec->max_lag_ms);
    snprintf(g->value, sizeof g->value, "%lld change%s pending, the oldest %s old",
             (long long)pending, pending == 1 ? "" : "s", age);
    snprintf(g->limit, sizeof g->limit, "at most %s", max);
    g->pass = lag_ms <= m->spec->max_lag_ms;
    return rc;
}

static int set_aside_keys(sg_migration *m, gate_eval *g)
{
    int64_t n = 0;
    char first[120];
    int rc = sg_aside_count(m, &n, first, sizeof first);
    snprintf(g->value, sizeof g->value, "%lld key%s set aside%s%s", (long long)n,
             n == 1 ? "" : "s", n ? ": " : "", n ? first : "");
    snprintf(g->limit, sizeof g->limit, "none (fix the rows, then `segue retry`)");
    g->pass = n == 0;
    return rc;
}

/* The shadow reads recorded over gates.shadow.window: enough of them
 * (else inconclusive, which refuses), few enough mismatches, and the
 * target's p99 within its ratio of the source's. */
static int shadow_reads(sg_migration *m, gate_eval *g)
{
    const sg_spec *s = m->spec;
    sg_status st;
    char win[32], ratio[48] = "";
    memset(&st, 0, sizeof st);
    fmt_ms(win, sizeof win, s->shadow_window_ms);
    int rc = sg_shadow_status(m, s->shadow_window_ms, &st);
    double rate = st.shadow_compared ? (double)st.shadow_mismatches /
                                           (double)st.shadow_compared : 0;
    bool enough = st.shadow_compared >= s->shadow_min_reads;
    snprintf(g->value, sizeof g->value, "%lld reads compared in the last %s%s, %lld "
             "mismatched (%.4g), p99 ratio %.2f", (long long)st.shadow_compared, win,
             enough ? "" : " (inconclusive)", (long long)st.shadow_mismatches, rate,
             st.shadow_p99_ratio);
    if (s->shadow_max_p99_ratio > 0)
        snprintf(ratio, sizeof ratio, ", p99 ratio at most %g", s->shadow_max_p99_ratio);
    snprintf(g->limit, sizeof g->limit, "at least %lld, mismatch rate at most %g%s",
             (long long)s->shadow_min_reads, s->shadow_max_mismatch_rate, ratio);
    g->pass = enough && rate <= s->shadow_max_mismatch_rate &&
              (s->shadow_max_p99_ratio <= 0 || st.shadow_p99_ratio <= s->shadow_max_p99_ratio);
    return rc;
}

static bool always(const sg_migration *m, sg_cmd cmd)
{
    (void)m;
    (void)cmd;
    return true;
}

static bool shadow_gated(const sg_migration *m, sg_cmd cmd)
{
    return cmd == SG_CMD_READS && m->spec->shadow_gate;
}

static const struct {
    const char *name;
    gate_fn fn;
    bool (*applies)(const sg_migration *m, sg_cmd cmd);
} gates[] = {
    { "verify_clean", verify_clean, always },
    { "worker_alive", worker_alive, always },
    { "lag", lag, always },
    { "set_aside_keys", set_aside_keys, always },
    { "shadow_reads", shadow_reads, shadow_gated },
};
#define N_GATES (sizeof gates / sizeof gates[0])

/* One audit row per gate passed by force. */
static int audit_forced(sg_migration *m, size_t i, const gate_eval *g)
{
    char detail[320];
    snprintf(detail, sizeof detail, "gate %s passed by force: %s (needs %s)",
             gates[i].name, g->value, g->limit);
    return sg_control_audit(m, "gate_forced", detail, m->force_reason);
}

int sg_gates_require(sg_migration *m, sg_cmd cmd)
{
    sg_buf why = SG_BUF_INIT;
    int rc = 0;
    if (cmd != SG_CMD_READS && cmd != SG_CMD_WRITES)
        return 0;
    for (size_t i = 0; i < N_GATES && !rc; i++) {
        gate_eval g = { .pass = false };
        if (!gates[i].applies(m, cmd) || (rc = gates[i].fn(m, &g)) != 0 || g.pass)
            continue;
        if (m->force_reason)
            rc = audit_forced(m, i, &g);
        else
            sg_buf_printf(&why, "%s%s: %s; needs %s", why.len ? "; " : "",
                          gates[i].name, g.value, g.limit);
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
