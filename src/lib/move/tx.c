#include "move/tx.h"

int sg_tx_begin_unmarked(sg_conn *c, sg_err *err)
{
    return sg_db_begin(c, true, err);
}

int sg_tx_mark(sg_conn *c, sg_err *err)
{
    int rc = sg_db_marker_on(c, err);
    if (rc)
        sg_db_rollback(c);
    return rc;
}

int sg_tx_begin(sg_conn *c, sg_err *err)
{
    int rc = sg_db_begin(c, true, err);
    return rc ? rc : sg_tx_mark(c, err);
}

int sg_tx_commit(sg_conn *c, sg_err *err)
{
    int rc = sg_db_marker_off(c, err);
    if (!rc)
        rc = sg_db_commit(c, err);
    if (rc)
        sg_db_rollback(c);
    return rc;
}

void sg_tx_rollback(sg_conn *c)
{
    sg_db_rollback(c);
}

int sg_tx_begin_pair(sg_conn *first, sg_conn *second, sg_err *err)
{
    int rc = sg_tx_begin(first, err);
    if (!rc && second && second != first && (rc = sg_tx_begin(second, err)) != 0)
        sg_tx_rollback(first);
    return rc;
}

int sg_tx_commit_pair(sg_conn *first, sg_conn *second, sg_err *err)
{
    int rc = sg_tx_commit(first, err);
    if (second && second != first) {
        if (rc)
            sg_tx_rollback(second);
        else
            rc = sg_tx_commit(second, err);
    }
    return rc;
}

void sg_tx_rollback_pair(sg_conn *first, sg_conn *second)
{
    sg_tx_rollback(first);
    if (second && second != first)
        sg_tx_rollback(second);
}

int sg_tx_savepoint(sg_conn *c, sg_err *err)
{
    return sg_db_exec(c, "SAVEPOINT segue_step", err);
}

int sg_tx_undo_to_savepoint(sg_conn *c, sg_err *err)
{
    return sg_db_exec(c, "ROLLBACK TO SAVEPOINT segue_step", err);
}

int sg_tx_release(sg_conn *c, sg_err *err)
{
    return sg_db_exec(c, "RELEASE SAVEPOINT segue_step", err);
}
