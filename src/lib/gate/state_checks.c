/* The checks read off the control tables and the changelogs (gate.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gate/gate.h"
#include "move/apply.h"
#include "move/heartbeat.h"
#include "state/aside.h"
#include "state/control.h"
#include "state/lease.h"

void sg_gate_fmt_ms(char *out, size_t n, int64_t ms)
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

/* The state of a value held to a limit in seconds. */
static void held_to_ms(sg_gate_check *g, int64_t value_ms, int64_t limit_ms)
{
    g->value = (double)value_ms / 1000.0;
    g->limit = (double)limit_ms / 1000.0;
    snprintf(g->unit, sizeof g->unit, "s");
    g->state = value_ms <= limit_ms ? SG_GATE_PASS : SG_GATE_FAIL;
}

int sg_gate_verify_clean(sg_migration *m, const sg_spec_check *c, sg_gate_check *g)
{
    char age[32], max[32];
    int64_t diffs = 0, at = 0;
    bool found = false;
    sg_gate_fmt_ms(max, sizeof max, c->within_ms);
    snprintf(g->needs, sizeof g->needs, "a clean verify within %s", max);
    snprintf(g->detail, sizeof g->detail, "no verify has run");
    int rc = sg_control_last_verify(m, &at, &diffs, &found);
    if (rc || !found)
        return rc;
    int64_t age_ms = sg_now_ms() - at;
    sg_gate_fmt_ms(age, sizeof age, age_ms);
    if (diffs)
        snprintf(g->detail, sizeof g->detail, "the last verify (%s ago) found %lld "
                 "difference%s", age, (long long)diffs, diffs == 1 ? "" : "s");
    else
        snprintf(g->detail, sizeof g->detail, "the last verify was clean, %s ago", age);
    held_to_ms(g, age_ms, c->within_ms);
    if (diffs)
        g->state = SG_GATE_FAIL;
    return 0;
}

int sg_gate_worker_alive(sg_migration *m, const sg_spec_check *c, sg_gate_check *g)
{
    char holder[128];
    bool alive = false;
    (void)c;
    int rc = sg_lease_holder(m, holder, sizeof holder, &alive);
    snprintf(g->needs, sizeof g->needs, "a live worker (`segue run`)");
    if (alive)
        snprintf(g->detail, sizeof g->detail, "worker %s holds the lease", holder);
    else
        snprintf(g->detail, sizeof g->detail, "no worker holds the lease");
    g->value = alive ? 1 : 0;
    g->limit = 1;
    snprintf(g->unit, sizeof g->unit, "workers");
    g->state = alive ? SG_GATE_PASS : SG_GATE_FAIL;
    return rc;
}

int sg_gate_lag(sg_migration *m, const sg_spec_check *c, sg_gate_check *g)
{
    int64_t pending = 0, lag_ms = 0;
    char age[32], max[32];
    int rc = sg_apply_pending(m, SG_FORWARD, &pending, &lag_ms);
    sg_gate_fmt_ms(age, sizeof age, lag_ms);
    sg_gate_fmt_ms(max, sizeof max, c->max_ms);
    snprintf(g->detail, sizeof g->detail, "%lld change%s pending, the oldest %s old",
             (long long)pending, pending == 1 ? "" : "s", age);
    snprintf(g->needs, sizeof g->needs, "at most %s", max);
    held_to_ms(g, lag_ms, c->max_ms);
    return rc;
}

int sg_gate_heartbeat_lag(sg_migration *m, const sg_spec_check *c, sg_gate_check *g)
{
    int64_t lag_ms = -1, at_ms = 0;
    char age[32], max[32];
    int rc = sg_heartbeat_read(m, &lag_ms, &at_ms);
    sg_gate_fmt_ms(max, sizeof max, c->max_ms);
    snprintf(g->needs, sizeof g->needs, "at most %s", max);
    if (rc || lag_ms < 0) {
        snprintf(g->detail, sizeof g->detail, "no heartbeat has been written "
                 "(worker.heartbeat 0, or no worker has run)");
        g->value = NAN;
        g->limit = (double)c->max_ms / 1000.0;
        snprintf(g->unit, sizeof g->unit, "s");
        g->state = SG_GATE_INCONCLUSIVE;
        return rc;
    }
    sg_gate_fmt_ms(age, sizeof age, lag_ms);
    snprintf(g->detail, sizeof g->detail, "the heartbeat lag is %s", age);
    held_to_ms(g, lag_ms, c->max_ms);
    return 0;
}

int sg_gate_set_aside_keys(sg_migration *m, const sg_spec_check *c, sg_gate_check *g)
{
    int64_t n = 0;
    char first[120];
    int rc = sg_aside_count(m, &n, first, sizeof first);
    snprintf(g->detail, sizeof g->detail, "%lld key%s set aside%s%s", (long long)n,
             n == 1 ? "" : "s", n ? ": " : "", n ? first : "");
    if (c->max_count)
        snprintf(g->needs, sizeof g->needs, "at most %lld", (long long)c->max_count);
    else
        snprintf(g->needs, sizeof g->needs, "none (fix the rows, then `segue retry`)");
    g->value = (double)n;
    g->limit = (double)c->max_count;
    snprintf(g->unit, sizeof g->unit, "keys");
    g->state = n <= c->max_count ? SG_GATE_PASS : SG_GATE_FAIL;
    return rc;
}
