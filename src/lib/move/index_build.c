/* Building the created target tables' secondary indexes (index_build.h). */
#include "move/index_build.h"

#include "base/testpoint.h"
#include "move/apply.h"
#include "plan/mapping.h"

/* Builds of a unique index that found a duplicate, each after applying
 * every waiting change, before the duplicate is reported. */
#define UNIQUE_TRIES 5

size_t sg_index_count(const sg_migration *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_maps; i++)
        n += m->maps[i].spec->create ? m->maps[i].n_indexes : 0;
    return n;
}

/* 1-based number of the index at pos among all of them. */
static size_t ordinal(const sg_migration *m, const sg_index_pos *pos)
{
    size_t n = pos->index + 1;
    for (size_t i = 0; i < pos->map; i++)
        n += m->maps[i].spec->create ? m->maps[i].n_indexes : 0;
    return n;
}

int sg_index_build_next(sg_migration *m, sg_index_pos *pos, bool *done)
{
    *done = false;
    while (pos->map < m->n_maps) {
        const sg_map *mp = &m->maps[pos->map];
        if (!mp->spec->create || pos->index >= mp->n_indexes) {
            pos->map++;
            pos->index = 0;
            continue;
        }
        sg_index_def d;
        sg_mapping_index_def(mp, pos->index, &d);
        sg_log(m, SG_LOG_INFO, "building index %s on %s (%zu of %zu)", d.name, d.table,
               ordinal(m, pos), sg_index_count(m));
        int64_t t0 = sg_mono_ms();
        sg_test_point("index:build");
        int rc = sg_db_index_build(m->tgt, &d, &m->err);
        for (int tries = 0; rc && m->err.unique && tries < UNIQUE_TRIES; tries++) {
            /* a value that moved between rows whose change is not applied
             * yet: apply what waits, then build again */
            int64_t drained = 0;
            if ((rc = sg_apply_drain_all(m, SG_FORWARD, false, &drained)) == 0)
                rc = sg_db_index_build(m->tgt, &d, &m->err);
        }
        if (rc)
            return rc;
        sg_log(m, SG_LOG_INFO, "index %s on %s built in %.1f s", d.name, d.table,
               (double)(sg_mono_ms() - t0) / 1000.0);
        pos->index++;
        return 0;
    }
    *done = true;
    return 0;
}
