/* Staged cutover and rollback in flag mode: read percentage, write switch
 * behind a fence (DESIGN.md item 8), and the way back. */
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "control.h"
#include "tx.h"

static int load_routing(sg_migration *m, sg_routing *r)
{
    bool found;
    int rc = sg_routing_load(m->tgt, m->spec->name, r, &found, &m->err);
    if (!rc && !found)
        rc = sg_err_set(&m->err, SG_ESTATE, "target: routing row of migration "
                        "'%s' is missing; hint: run abort and start again",
                        m->spec->name);
    return rc;
}

int sg_cutover_reads(sg_migration *m, double pct, const char *reason)
{
    static const sg_phase allowed[] = { SG_PHASE_VERIFIED, SG_PHASE_SHADOWING,
                                        SG_PHASE_READS_SHIFTING };
    sg_phase ph;
    sg_routing r;
    char detail[96];
    sg_err_clear(&m->err);
    if (!(pct >= 0 && pct <= 100))
        return sg_err_set(&m->err, SG_EUSAGE, "read percentage %g is out of "
                          "range; hint: give 0 to 100", pct);
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (!rc)
        rc = sg_control_require(m, "cutover --reads", 3, allowed, &ph);
    if (!rc)
        rc = load_routing(m, &r);
    if (!rc) {
        snprintf(detail, sizeof detail, "reads to target %g%% -> %g%%", r.read_pct, pct);
        r.read_pct = pct;
        rc = sg_routing_save(m, &r);
    }
    if (!rc)
        rc = sg_control_transition(m, ph, SG_PHASE_READS_SHIFTING, "cutover_reads",
                                   detail, reason);
    if (!rc)
        return sg_tx_commit(m->tgt, &m->err);
    sg_tx_rollback(m->tgt);
    return rc;
}

/* Inside the fence: drain direction d until its changelog is empty. */
static int drain_all(sg_migration *m, sg_dir d, int64_t *total)
{
    int64_t n;
    *total = 0;
    do {
        int rc = sg_apply_drain(m, d, 10000, true, &n);
        if (rc)
            return rc;
        *total += n;
    } while (n > 0);
    return 0;
}

static int fence(sg_migration *m, sg_conn *c, bool source_tables)
{
    const char *names[256];
    size_t n = 0;
    if (source_tables)
        for (size_t g = 0; g < m->n_groups && n < 256; g++)
            names[n++] = m->groups[g].table;
    else
        for (size_t i = 0; i < m->n_maps && n < 256; i++)
            names[n++] = m->maps[i].fwd.to_table;
    return c->drv->fence(c, n, names, &m->err);
}

/* Swaps forward for reverse (to_target) or back, inside the fence. */
static int swap_triggers(sg_migration *m, bool to_target)
{
    int rc;
    if (to_target) {
        if ((rc = sg_capture_remove(m, SG_FORWARD)) == 0 &&
            (rc = sg_guard_install(m, SG_SIDE_SOURCE)) == 0 &&
            (rc = sg_guard_remove(m, SG_SIDE_TARGET)) == 0)
            rc = sg_capture_install(m, SG_REVERSE);
        return rc;
    }
    if ((rc = sg_capture_remove(m, SG_REVERSE)) == 0 &&
        (rc = sg_guard_install(m, SG_SIDE_TARGET)) == 0 &&
        (rc = sg_guard_remove(m, SG_SIDE_SOURCE)) == 0)
        rc = sg_capture_install(m, SG_FORWARD);
    return rc;
}

int sg_cutover_writes(sg_migration *m, const char *reason, double *fence_ms)
{
    static const sg_phase allowed[] = { SG_PHASE_READS_SHIFTING };
    sg_phase ph;
    sg_routing r;
    int64_t drained = 0;
    char detail[160];
    sg_err_clear(&m->err);
    int rc = sg_control_require(m, "cutover --writes", 1, allowed, &ph);
    if (!rc)
        rc = load_routing(m, &r);
    if (!rc && r.read_pct < 100)
        rc = sg_err_set(&m->err, SG_ESTATE, "cannot switch writes: only %g%% of "
                        "reads go to the target; hint: run `segue cutover "
                        "--reads 100` first and watch it", r.read_pct);
    if (rc)
        return rc;
    /* target first: a crash between the two commits leaves writes routed to
     * the target with reverse capture on, never a lost write */
    if ((rc = sg_tx_begin_pair(m->tgt, m->src, &m->err)) != 0)
        return rc;
    int64_t t0 = sg_mono_ms(); /* source writers wait from here */
    rc = fence(m, m->src, true);
    if (!rc)
        rc = sg_control_require(m, "cutover --writes", 1, allowed, &ph);
    if (!rc)
        rc = drain_all(m, SG_FORWARD, &drained);
    if (!rc)
        rc = swap_triggers(m, true);
    if (!rc) {
        r.write_side = SG_SIDE_TARGET;
        rc = sg_routing_save(m, &r);
    }
    snprintf(detail, sizeof detail, "fence drained %lld changes", (long long)drained);
    if (!rc)
        rc = sg_control_transition(m, ph, SG_PHASE_WRITES_SWITCHED, "cutover_writes",
                                   detail, reason);
    if (!rc)
        rc = sg_tx_commit_pair(m->tgt, m->src, &m->err);
    else
        sg_tx_rollback_pair(m->tgt, m->src);
    if (fence_ms)
        *fence_ms = (double)(sg_mono_ms() - t0);
    return rc;
}

int sg_migration_rollback(sg_migration *m, const char *reason)
{
    static const sg_phase allowed[] = { SG_PHASE_SHADOWING, SG_PHASE_READS_SHIFTING,
        SG_PHASE_WRITES_SWITCHED, SG_PHASE_BAKING };
    sg_phase ph;
    sg_routing r;
    int64_t drained = 0;
    char detail[160] = "reads back to the source";
    sg_err_clear(&m->err);
    int rc = sg_control_require(m, "rollback", 4, allowed, &ph);
    if (rc)
        return rc;
    bool writes = ph >= SG_PHASE_WRITES_SWITCHED;
    /* source first: a crash between the commits leaves the reverse capture
     * on the target, which the next rollback drains again */
    if ((rc = sg_tx_begin_pair(m->tgt, m->src, &m->err)) != 0)
        return rc;
    rc = sg_control_require(m, "rollback", 4, allowed, &ph);
    if (!rc && writes && (rc = fence(m, m->tgt, false)) == 0 &&
        (rc = drain_all(m, SG_REVERSE, &drained)) == 0) {
        rc = swap_triggers(m, false);
        snprintf(detail, sizeof detail, "writes and reads back to the source; "
                 "%lld target changes applied to the source", (long long)drained);
    }
    if (!rc)
        rc = load_routing(m, &r);
    if (!rc) {
        r.read_pct = 0;
        r.write_side = SG_SIDE_SOURCE;
        rc = sg_routing_save(m, &r);
    }
    if (!rc)
        rc = sg_control_transition(m, ph, SG_PHASE_VERIFIED, "rollback", detail, reason);
    if (!rc)
        return sg_tx_commit_pair(m->src, m->tgt, &m->err);
    sg_tx_rollback_pair(m->tgt, m->src);
    return rc;
}
