/* The write fences' durations (fences.h, sg_migration_fences). */
#include "switch/fences.h"

#include <stdlib.h>

#include "base/clock.h"
#include "move/tx.h"
#include "state/control.h"

static const char *const fences_ddl =
    "CREATE TABLE IF NOT EXISTS @fences (migration %TXT NOT NULL, at_ms %INT NOT NULL, "
    "to_target %INT NOT NULL, fence_us %INT NOT NULL)";

static int insert(sg_migration *m, bool to_target, double ms)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @fences (migration, at_ms, "
                                "to_target, fence_us) VALUES ($1, $2, $3, $4)", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_int(s, 2, sg_now_ms(), &m->err) ||
             sg_db_bind_int(s, 3, to_target, &m->err) ||
             sg_db_bind_int(s, 4, (int64_t)(ms * 1000), &m->err) ? SG_EDB : 0;
    if (!rc)
        return sg_control_run(&m->err, s);
    sg_db_finalize(s);
    return rc;
}

void sg_fence_record(sg_migration *m, bool to_target, double ms)
{
    sg_err kept = m->err;
    int rc = sg_control_exec(&m->err, m->tgt, fences_ddl);
    if (!rc)
        rc = sg_tx_begin(m->tgt, &m->err);
    if (!rc && (rc = insert(m, to_target, ms)) == 0)
        rc = sg_tx_commit(m->tgt, &m->err);
    else if (rc)
        sg_tx_rollback(m->tgt);
    if (rc)
        sg_log(m, SG_LOG_WARN, "the write fence (%.1f ms) was not recorded for the "
               "metrics: %s", ms, m->err.msg);
    m->err = kept;
}

/* Appends the row s stands on to *out. */
static int append(sg_migration *m, sg_stmt *s, sg_fence_time **out, size_t *n)
{
    sg_fence_time *p = realloc(*out, (*n + 1) * sizeof *p);
    if (!p)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    *out = p;
    p[*n].at_ms = sg_db_column_int(s, 0);
    p[*n].to_target = sg_db_column_int(s, 1) != 0;
    p[*n].ms = (double)sg_db_column_int(s, 2) / 1000;
    (*n)++;
    return 0;
}

int sg_migration_fences(sg_fence_time **out, size_t *n, sg_migration *m)
{
    sg_stmt *s = NULL;
    bool present = false;
    if (!m || !out || !n)
        return SG_EINVAL;
    *out = NULL;
    *n = 0;
    sg_err_clear(&m->err);
    int rc = sg_db_control_present(m->tgt, "fences", &present, &m->err);
    if (rc || !present)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, "SELECT at_ms, to_target, fence_us FROM @fences "
                            "WHERE migration = $1 ORDER BY at_ms", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    int step = 0;
    while (!rc && (step = sg_db_step(s, &m->err)) > 0)
        rc = append(m, s, out, n);
    if (!rc && step < 0)
        rc = SG_EDB;
    sg_db_finalize(s);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
