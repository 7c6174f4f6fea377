/* Installing and removing capture and guard triggers. */
#include "move/capture.h"
#include "move/changelog.h"
#include "move/heartbeat.h"
#include "move/tx.h"

#include <stdio.h>

static sg_conn *side_conn(sg_migration *m, sg_dir d)
{
    return d == SG_FORWARD ? m->src : m->tgt;
}

/* Calls fn on each capture of direction d. */
static int each_capture(sg_migration *m, sg_dir d,
                        int (*fn)(sg_conn *, const sg_capture *, sg_err *))
{
    sg_conn *c = side_conn(m, d);
    if (d == SG_FORWARD) {
        for (size_t g = 0; g < m->n_groups; g++) {
            sg_group *gr = &m->groups[g];
            sg_capture cap = { gr->table, gr->log, gr->trig_capture, gr->n_key,
                               (const char *const *)gr->key,
                               m->spec->read_your_writes };
            int rc = fn(c, &cap, &m->err);
            if (rc)
                return rc;
        }
        return 0;
    }
    for (size_t i = 0; i < m->n_maps; i++) {
        sg_map *mp = &m->maps[i];
        if (mp->spec->no_reverse)
            continue; /* reverse: none: nothing flows back */
        sg_capture cap = { mp->fwd.to_table, m->groups[mp->group].rlog,
                           mp->trig_rev, mp->fwd.n_key,
                           (const char *const *)mp->fwd.to_key, false };
        int rc = fn(c, &cap, &m->err);
        if (rc)
            return rc;
    }
    return 0;
}

/* The heartbeat's objects, inside a savepoint: a source that refuses them
 * (segue's role may not create a table in its schema) gets a warning, not a
 * failed install; the worker tries again, less and less often. */
static int heartbeat_install(sg_migration *m)
{
    int rc = sg_tx_savepoint(m->src, &m->err);
    if (rc || (rc = sg_heartbeat_install(m)) == 0)
        return rc ? rc : sg_tx_release(m->src, &m->err);
    sg_log(m, SG_LOG_WARN, "no heartbeat: %s; the migration goes on without a heartbeat lag "
           "(hint: let segue's role create a table in the source's schema, or set "
           "worker.heartbeat: 0)", m->err.msg);
    sg_err_clear(&m->err);
    return sg_tx_undo_to_savepoint(m->src, &m->err);
}

int sg_capture_install(sg_migration *m, sg_dir d)
{
    sg_conn *c = side_conn(m, d);
    int rc = sg_db_marker_setup(c, &m->err);
    if (!rc)
        rc = each_capture(m, d, sg_db_capture_remove);
    if (!rc)
        rc = each_capture(m, d, sg_db_capture_install);
    return rc || d != SG_FORWARD ? rc : heartbeat_install(m);
}

int sg_capture_remove(sg_migration *m, sg_dir d)
{
    int rc = each_capture(m, d, sg_db_capture_remove);
    return rc || d != SG_FORWARD ? rc : sg_heartbeat_remove(m);
}

int sg_capture_drop_logs(sg_migration *m, sg_dir d)
{
    int rc = 0;
    for (size_t g = 0; g < m->n_groups && !rc; g++)
        rc = sg_changelog_drop(&m->err, side_conn(m, d),
                         d == SG_FORWARD ? m->groups[g].log : m->groups[g].rlog);
    return rc;
}

typedef enum guard_op { GUARD_INSTALL, GUARD_REMOVE, GUARD_LIFT, GUARD_RESTORE,
                        GUARD_EXISTS } guard_op;

/* out (may be NULL for the others): GUARD_EXISTS, whether the guard is
 * installed; GUARD_LIFT and GUARD_RESTORE, whether the driver lifts it */
static int guard_op_on(sg_migration *m, int side, guard_op op, const char *table,
                       const char *prefix, bool *out)
{
    sg_conn *c = side == SG_SIDE_SOURCE ? m->src : m->tgt;
    char msg[512];
    if (side == SG_SIDE_SOURCE)
        snprintf(msg, sizeof msg, "segue: writes to \"%s\" are rejected: migration "
                 "'%s' has moved writes to the target (\"%s\" is read-only); "
                 "hint: write to the new table, or run `segue rollback`",
                 table, m->spec->name, table);
    else
        snprintf(msg, sizeof msg, "segue: writes to \"%s\" are rejected: migration "
                 "'%s' still sends writes to the source; hint: write to the "
                 "source until `segue cutover --writes`", table, m->spec->name);
    sg_guard g = { table, prefix, msg };
    switch (op) {
    case GUARD_INSTALL: return sg_db_guard_install(c, &g, &m->err);
    case GUARD_REMOVE: return sg_db_guard_remove(c, &g, &m->err);
    case GUARD_EXISTS: return sg_db_guard_exists(c, &g, out, &m->err);
    default: return sg_db_guard_lift(c, &g, op == GUARD_LIFT, out, &m->err);
    }
}

static int guard_one(sg_migration *m, int side, guard_op op, const char *table,
                     const char *prefix)
{
    return guard_op_on(m, side, op, table, prefix, NULL);
}

int sg_guard_on_source(sg_migration *m, bool *out)
{
    return guard_op_on(m, SG_SIDE_SOURCE, GUARD_EXISTS, m->groups[0].table,
                       m->groups[0].trig_guard, out);
}

static int guards(sg_migration *m, int side, bool install)
{
    int rc = 0;
    sg_conn *c = side == SG_SIDE_SOURCE ? m->src : m->tgt;
    guard_op op = install ? GUARD_INSTALL : GUARD_REMOVE;
    if (install)
        rc = sg_db_marker_setup(c, &m->err);
    if (side == SG_SIDE_SOURCE)
        for (size_t g = 0; g < m->n_groups && !rc; g++) {
            if (install)
                rc = guard_one(m, side, GUARD_REMOVE, m->groups[g].table, m->groups[g].trig_guard);
            if (!rc)
                rc = guard_one(m, side, op, m->groups[g].table, m->groups[g].trig_guard);
        }
    else
        for (size_t i = 0; i < m->n_maps && !rc; i++) {
            if (install)
                rc = guard_one(m, side, GUARD_REMOVE, m->maps[i].fwd.to_table,
                               m->maps[i].trig_guard);
            if (!rc)
                rc = guard_one(m, side, op, m->maps[i].fwd.to_table, m->maps[i].trig_guard);
        }
    return rc;
}

int sg_guard_lift(sg_migration *m, size_t map, bool lift, bool *lifted)
{
    return guard_op_on(m, SG_SIDE_TARGET, lift ? GUARD_LIFT : GUARD_RESTORE,
                       m->maps[map].fwd.to_table, m->maps[map].trig_guard, lifted);
}

int sg_guard_install(sg_migration *m, int side)
{
    return guards(m, side, true);
}

int sg_guard_remove(sg_migration *m, int side)
{
    return guards(m, side, false);
}
