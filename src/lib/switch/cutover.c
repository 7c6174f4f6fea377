/* Staged cutover and rollback in flag mode: read percentage, write switch
 * behind a fence (DESIGN.md item 8), and the way back.
 *
 * A write switch spans two databases, so it commits twice. The order makes
 * every crash between the commits finishable without losing or re-applying
 * a write:
 * - cutover: the target commits first (the changes drained in the fence, the
 *   reverse capture, the routing, the phase and the highest changelog id it
 *   applied per group), then the source (the drained entries deleted, the
 *   forward capture swapped for the guard). If the source commit is lost,
 *   its entries up to that id are still there and already applied; newer
 *   ones are writes that reached the source afterwards.
 * - rollback: the target commits first (its guard, the routing, the phase,
 *   the highest reverse id, the reverse entries kept), then the source (the
 *   changes applied, the guard swapped for the forward capture). Until the
 *   source commits, both sides refuse application writes, so the entries
 *   can be applied again from a target that cannot have moved.
 * sg_switch_recover() finishes either from the record in `switches`; the
 * worker and every switching command call it first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/aside.h"
#include "move/apply.h"
#include "move/capture.h"
#include "switch/cutover.h"
#include "switch/fences.h"
#include "state/control.h"
#include "gate/gate.h"
#include "state/phase.h"
#include "base/testpoint.h"
#include "move/tx.h"
#include "plan/mapping.h"

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
    if (!m)
        return SG_EINVAL;
    sg_phase ph;
    sg_routing r;
    char detail[96];
    sg_err_clear(&m->err);
    if (!(pct >= 0 && pct <= 100))
        return sg_err_set(&m->err, SG_EINVAL, "read percentage %g is out of "
                          "range; hint: give 0 to 100", pct);
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (!rc)
        rc = sg_phase_lock(m, SG_CMD_READS, &ph);
    if (!rc)
        rc = sg_gates_require(m, SG_CMD_READS);
    if (!rc)
        rc = load_routing(m, &r);
    if (!rc) {
        snprintf(detail, sizeof detail, "reads to target %g%% -> %g%%", r.read_pct, pct);
        r.read_pct = pct;
        rc = sg_routing_save(m, &r);
    }
    if (!rc)
        rc = sg_phase_move(m, SG_CMD_READS, ph, detail, reason);
    sg_gates_force_done(m);
    if (!rc)
        return sg_tx_commit(m->tgt, &m->err);
    sg_tx_rollback(m->tgt);
    return rc;
}

int sg_fence(sg_migration *m, sg_conn *c, bool source_tables)
{
    const char *names[256];
    size_t n = 0;
    if (source_tables)
        for (size_t g = 0; g < m->n_groups && n < 256; g++)
            names[n++] = m->groups[g].table;
    else
        for (size_t i = 0; i < m->n_maps && n < 256; i++)
            names[n++] = m->maps[i].fwd.to_table;
    return sg_db_fence(c, n, names, &m->err);
}

/* Swaps forward for reverse (to_target) or back, inside the fence. Each step
 * is idempotent, so a finished switch may be swapped again. */
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

/* Whether the source's guard is committed (writes have moved away from it). */
static int source_guarded(sg_migration *m, bool *out)
{
    return sg_guard_on_source(m, out);
}

/* Commits the target, then the source; the crash point sits between. */
static int commit_target_then_source(sg_migration *m, const char *where)
{
    int rc = sg_tx_commit(m->tgt, &m->err);
    if (rc) {
        if (m->src != m->tgt)
            sg_tx_rollback(m->src);
        return rc;
    }
    sg_test_point(where);
    if (m->src != m->tgt && (rc = sg_tx_commit(m->src, &m->err)) != 0)
        sg_err_prefix(&m->err, "the switch is decided but the source did not "
                      "commit; `segue run` finishes it: ");
    return rc;
}

/* In its own target transaction: forgets the reverse entries a rollback
 * applied (when dir is SG_REVERSE) and the switch record. */
static int finish_record(sg_migration *m, int dir, const int64_t *upto)
{
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (!rc && dir == SG_REVERSE)
        rc = sg_apply_forget(m, SG_REVERSE, upto);
    if (!rc)
        rc = sg_control_switch_clear(m, dir);
    if (!rc)
        return sg_tx_commit(m->tgt, &m->err);
    sg_tx_rollback(m->tgt);
    return rc;
}

/* A column the engines number on both sides (target_ddl.c): the side
 * taking writes next numbers above the last number the other gave and
 * every value its table holds. */
static int sync_numbering(sg_migration *m, const sg_map *mp, size_t c, bool forward)
{
    const sg_flow *f = &mp->fwd;
    sg_conn *from = forward ? m->src : m->tgt, *to = forward ? m->tgt : m->src;
    const char *ft = forward ? f->from_table : f->to_table;
    const char *fc = forward ? mp->col_numbered[c] : f->to_cols[c];
    int64_t last = 0;
    bool known = false;
    int rc = sg_db_numbering_last(from, ft, fc, &last, &known, &m->err);
    if (!rc)
        rc = sg_db_numbering_raise(to, forward ? f->to_table : f->from_table,
                                   forward ? f->to_cols[c] : mp->col_numbered[c],
                                   known ? last : INT64_MIN, &m->err);
    return rc;
}

/* Each sequence a created table's default takes numbers from (another
 * database, target_ddl.c), and each column both engines number, moves up
 * to where the side that took writes so far left its own: the side taking
 * them next hands out no number twice. (Not transactional in PostgreSQL: a
 * switch that fails after it leaves the sequence higher, which costs
 * numbers, never a duplicate.) */
static int sync_sequences(sg_migration *m, bool forward)
{
    sg_conn *from = forward ? m->src : m->tgt, *to = forward ? m->tgt : m->src;
    int rc = 0;
    for (size_t i = 0; !rc && i < m->n_maps; i++) {
        const sg_map *mp = &m->maps[i];
        for (size_t c = 0; !rc && mp->col_sequences && c < mp->fwd.n_cols; c++)
            if (mp->col_sequences[c])
                rc = sg_db_sequence_sync(from, to, mp->col_sequences[c], &m->err);
        for (size_t c = 0; !rc && mp->col_numbered && c < mp->fwd.n_cols; c++)
            if (mp->col_numbered[c])
                rc = sync_numbering(m, mp, c, forward);
    }
    return rc;
}

/* The fenced part of a write cutover, inside both transactions and behind
 * the source fence: apply the forward entries above `after` (NULL: all; may
 * be upto itself) to the target, move the sequences up, add the foreign
 * keys (foreign_keys: true), delete every entry up to the last applied in
 * the source, swap the triggers, record the switch. */
static int cutover_fenced(sg_migration *m, const int64_t *after, int64_t *upto,
                          int64_t *drained)
{
    int rc = sg_apply_keep(m, SG_FORWARD, after, upto, drained);
    if (!rc)
        rc = sync_sequences(m, true);
    if (!rc)
        rc = sg_mapping_fks_switch(m, true);
    if (!rc)
        rc = sg_apply_forget(m, SG_FORWARD, upto);
    if (!rc)
        rc = swap_triggers(m, true);
    if (!rc)
        rc = sg_control_switch_save(m, SG_FORWARD, upto);
    return rc;
}

/* The fenced part of a rollback, behind the target fence: apply every
 * reverse entry to the source, keeping them, move the sequences up, drop
 * the foreign keys the cutover added (forward changes come again, key by
 * key), swap the triggers back, record the switch. */
static int rollback_fenced(sg_migration *m, int64_t *upto, int64_t *drained)
{
    int rc = sg_apply_keep(m, SG_REVERSE, NULL, upto, drained);
    if (!rc)
        rc = sync_sequences(m, false);
    if (!rc)
        rc = sg_mapping_fks_switch(m, false);
    if (!rc)
        rc = swap_triggers(m, false);
    if (!rc)
        rc = sg_control_switch_save(m, SG_REVERSE, upto);
    return rc;
}

/* Finishes a switch whose second commit was lost, if its record says so. */
static int recover_dir(sg_migration *m, int dir, int64_t *upto)
{
    bool found, guarded;
    int64_t drained = 0;
    int rc = sg_control_switch_load(m, dir, upto, &found);
    if (rc || !found)
        return rc;
    if ((rc = source_guarded(m, &guarded)) != 0)
        return rc;
    /* the second commit happened: only the record is left */
    if (guarded == (dir == SG_FORWARD))
        return finish_record(m, dir, upto);
    if ((rc = sg_tx_begin_pair(m->tgt, m->src, &m->err)) != 0)
        return rc;
    rc = sg_control_switch_load(m, dir, upto, &found);
    if (!rc && found)
        rc = sg_fence(m, dir == SG_FORWARD ? m->src : m->tgt, dir == SG_FORWARD);
    if (!rc && found)
        rc = dir == SG_FORWARD ? cutover_fenced(m, upto, upto, &drained)
                               : rollback_fenced(m, upto, &drained);
    char detail[160];
    snprintf(detail, sizeof detail, "finished an interrupted %s; %lld newer "
             "changes applied", dir == SG_FORWARD ? "write cutover" : "rollback",
             (long long)drained);
    if (!rc && found)
        rc = sg_control_audit(m, "recover", detail, NULL);
    if (rc) {
        sg_tx_rollback_pair(m->tgt, m->src);
        return rc;
    }
    if ((rc = commit_target_then_source(m, "recover:between-commits")) != 0)
        return rc;
    return finish_record(m, dir, upto);
}

int sg_switch_recover(sg_migration *m)
{
    bool present, pending[2] = { false, false };
    int rc = sg_control_present(m, &present);
    if (!rc && present)
        rc = sg_control_switch_dirs(m, pending);
    if (rc || (!pending[SG_FORWARD] && !pending[SG_REVERSE]))
        return rc; /* the usual case: one read */
    int64_t *upto = calloc(m->n_groups ? m->n_groups : 1, sizeof *upto);
    if (!upto)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (int dir = SG_FORWARD; dir <= SG_REVERSE && !rc; dir++)
        if (pending[dir])
            rc = recover_dir(m, dir, upto);
    free(upto);
    return rc;
}

/* reverse: none leaves no way back: the write cutover needs to be told. */
static int way_back(sg_migration *m)
{
    const sg_map *mp = sg_mapping_no_way_back(m);
    if (!mp || m->no_rollback_ok)
        return 0;
    return sg_err_set(&m->err, SG_ESTATE, "cannot switch writes: mapping %s says "
                      "reverse: none, so after the write cutover there is no way "
                      "back; hint: pass --no-rollback to switch writes anyway",
                      mp->label);
}

/* The routing, which must send every read to the target already. */
static int load_all_reads(sg_migration *m, sg_routing *r)
{
    int rc = load_routing(m, r);
    if (!rc && r->read_pct < 100)
        rc = sg_err_set(&m->err, SG_ESTATE, "cannot switch writes: only %g%% of "
                        "reads go to the target; hint: run `segue cutover "
                        "--reads 100` first and watch it", r->read_pct);
    return rc;
}

int sg_migration_accept_no_rollback(sg_migration *m)
{
    if (!m)
        return SG_EINVAL;
    m->no_rollback_ok = true;
    return 0;
}

/* With cutover.bake, in the write cutover's transaction: writes_switched
 * -> baking, the bake's end in the audit row. */
static int bake_starts(sg_migration *m)
{
    char until[32], detail[96];
    int64_t end = sg_now_ms() + m->spec->bake_ms;
    time_t t = (time_t)(end / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(detail, sizeof detail, "the source stays current until %s; cleanup "
             "waits for it", until);
    return sg_phase_move(m, SG_CMD_BAKE, SG_PHASE_WRITES_SWITCHED, detail, NULL);
}

int sg_cutover_writes(double *fence_ms, sg_migration *m, const char *reason)
{
    if (!m)
        return SG_EINVAL;
    sg_phase ph;
    sg_routing r;
    int64_t drained = 0, t0 = 0;
    int64_t *upto = NULL;
    char detail[160];
    bool committing = false;
    sg_err_clear(&m->err);
    int rc = sg_switch_recover(m);
    if (!rc)
        rc = sg_phase_check(m, SG_CMD_WRITES, &ph);
    if (!rc)
        rc = way_back(m);
    if (!rc)
        rc = load_all_reads(m, &r);
    if (!rc && !(upto = calloc(m->n_groups, sizeof *upto)))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (rc)
        goto done;
    sg_test_point("cutover:checked");
    if ((rc = sg_tx_begin_pair(m->tgt, m->src, &m->err)) != 0)
        goto done;
    rc = sg_phase_lock(m, SG_CMD_WRITES, &ph);
    if (!rc)
        rc = sg_aside_refuse(m, "cutover --writes");
    if (!rc)
        rc = sg_gates_require(m, SG_CMD_WRITES);
    if (!rc)
        rc = load_all_reads(m, &r);
    if (!rc)
        rc = sg_fence(m, m->src, true);
    t0 = sg_mono_ms(); /* source writers are held from here */
    if (!rc)
        rc = cutover_fenced(m, NULL, upto, &drained);
    if (!rc)
        sg_test_point("cutover:fenced");
    if (!rc) {
        r.write_side = SG_SIDE_TARGET;
        rc = sg_routing_save(m, &r);
    }
    snprintf(detail, sizeof detail, "fence drained %lld changes", (long long)drained);
    if (!rc)
        rc = sg_phase_move(m, SG_CMD_WRITES, ph, detail, reason);
    if (!rc && m->spec->bake_ms > 0)
        rc = bake_starts(m);
    if (rc)
        sg_tx_rollback_pair(m->tgt, m->src);
    else
        committing = true;
    if (committing)
        rc = commit_target_then_source(m, "cutover:between-commits");
    double held = (double)(sg_mono_ms() - t0);
    if (fence_ms)
        *fence_ms = held;
    if (!rc)
        sg_fence_record(m, true, held);
    if (!rc)
        rc = finish_record(m, SG_FORWARD, upto);
done:
    if (rc && !committing && m->err.transient)
        sg_err_prefix(&m->err, "cutover --writes: a transaction held a lock past the "
                      "lock wait (%lld ms); nothing changed, writes stay on the "
                      "source; hint: retry when it ends, or wait longer (--timeout): ",
                      (long long)(m->lock_wait_ms ? m->lock_wait_ms : 30000));
    sg_gates_force_done(m);
    m->no_rollback_ok = false;
    free(upto);
    return rc;
}

int sg_migration_rollback(sg_migration *m, const char *reason)
{
    if (!m)
        return SG_EINVAL;
    sg_phase ph;
    sg_routing r;
    int64_t drained = 0, t0 = 0;
    int64_t *upto = NULL;
    char detail[160] = "reads back to the source";
    sg_err_clear(&m->err);
    int rc = sg_switch_recover(m);
    if (!rc)
        rc = sg_phase_check(m, SG_CMD_ROLLBACK, &ph);
    if (!rc && !(upto = calloc(m->n_groups, sizeof *upto)))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (!rc)
        sg_test_point("rollback:checked");
    if (!rc)
        rc = sg_tx_begin_pair(m->tgt, m->src, &m->err);
    if (rc)
        goto done;
    rc = sg_phase_lock(m, SG_CMD_ROLLBACK, &ph);
    if (!rc)
        rc = sg_aside_refuse(m, "rollback");
    bool writes = ph >= SG_PHASE_WRITES_SWITCHED;
    const sg_map *none = sg_mapping_no_way_back(m);
    if (!rc && writes && none)
        rc = sg_err_set(&m->err, SG_ESTATE, "cannot rollback: mapping %s says "
                        "reverse: none, so writes made on the target since the write "
                        "cutover cannot reach the source", none->label);
    if (!rc && writes)
        rc = sg_fence(m, m->tgt, false);
    t0 = sg_mono_ms(); /* with writes: target writers are held from here */
    if (!rc && writes && (rc = rollback_fenced(m, upto, &drained)) == 0)
        snprintf(detail, sizeof detail, "writes and reads back to the source; "
                 "%lld target changes applied to the source", (long long)drained);
    if (!rc)
        sg_test_point("rollback:fenced");
    if (!rc)
        rc = load_routing(m, &r);
    if (!rc) {
        r.read_pct = 0;
        r.write_side = SG_SIDE_SOURCE;
        rc = sg_routing_save(m, &r);
    }
    if (!rc)
        rc = sg_phase_move(m, SG_CMD_ROLLBACK, ph, detail, reason);
    if (rc)
        sg_tx_rollback_pair(m->tgt, m->src);
    else
        rc = commit_target_then_source(m, "rollback:between-commits");
    if (!rc && writes)
        sg_fence_record(m, false, (double)(sg_mono_ms() - t0));
    if (!rc && writes)
        rc = finish_record(m, SG_REVERSE, upto);
done:
    free(upto);
    return rc;
}
