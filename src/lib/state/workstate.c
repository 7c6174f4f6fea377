/* The worker's self-report (workstate.h). */
#include <stdio.h>
#include <string.h>

#include "state/control.h"
#include "move/tx.h"
#include "state/workstate.h"

static int bind_all(sg_migration *m, sg_stmt *s, const sg_workstate *w)
{
    int rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    if (!rc)
        rc = sg_db_bind_int(s, 2, w->at_ms, &m->err);
    if (!rc)
        rc = sg_db_bind_int(s, 3, w->rows_total, &m->err);
    sg_value rate = { .type = SG_V_REAL, .d = w->rows_per_sec };
    if (!rc)
        rc = sg_db_bind(s, 4, &rate, &m->err);
    if (!rc)
        rc = sg_db_bind_int(s, 5, w->applied, &m->err);
    if (!rc)
        rc = sg_db_bind_text(s, 6, w->error[0] ? w->error : NULL, &m->err);
    if (!rc)
        rc = sg_db_bind_int(s, 7, w->error_at_ms, &m->err);
    return rc;
}

int sg_workstate_save(sg_migration *m, const sg_workstate *w)
{
    sg_stmt *s = NULL;
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (rc)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @worker_state (migration, at_ms, "
                            "rows_total, rows_per_sec, applied, error, error_at_ms) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT "
                            "(migration) DO UPDATE SET at_ms = $2, rows_total = $3, "
                            "rows_per_sec = $4, applied = $5, error = $6, "
                            "error_at_ms = $7", &s);
    if (!rc && (rc = bind_all(m, s, w)) != 0)
        sg_db_finalize(s);
    else if (!rc)
        rc = sg_control_run(&m->err, s);
    if (!rc)
        return sg_tx_commit(m->tgt, &m->err);
    sg_tx_rollback(m->tgt);
    return rc;
}

int sg_workstate_load(sg_migration *m, sg_workstate *w, bool *found)
{
    sg_stmt *s = NULL;
    memset(w, 0, sizeof *w);
    w->rows_total = -1;
    *found = false;
    int rc = sg_control_prepare(&m->err, m->tgt, "SELECT at_ms, rows_total, rows_per_sec, "
                                "applied, error, error_at_ms FROM @worker_state "
                                "WHERE migration = $1", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    if (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        sg_value v;
        w->at_ms = sg_db_column_int(s, 0);
        w->rows_total = sg_db_column_int(s, 1);
        sg_db_column(s, 2, &v);
        w->rows_per_sec = v.type == SG_V_REAL ? v.d : (double)v.i;
        w->applied = sg_db_column_int(s, 3);
        sg_db_column(s, 4, &v);
        if (v.type != SG_V_NULL)
            snprintf(w->error, sizeof w->error, "%.*s", (int)v.n, (const char *)v.p);
        w->error_at_ms = sg_db_column_int(s, 5);
        *found = true;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}
