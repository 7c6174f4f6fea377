/* PostgreSQL driver: introspection, capture and guard triggers, no-echo
 * marker. The marker is a transaction-local setting, `segue.applying`, that
 * segue's triggers test (DESIGN.md item 7). */
#include "pg_int.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>

static int not_yet(sg_conn *c, const char *what, sg_err *err)
{
    return sg_err_set(err, SG_ENOTSUP, "%s: the PostgreSQL driver cannot %s yet; "
                      "hint: use SQLite endpoints for now", c->endpoint, what);
}

/* Runs a one-parameter query; *out is whether it returned a true first column. */
static int query_bool(sg_conn *c, const char *sql, const char *arg, bool *out,
                      sg_err *err)
{
    const char *vals[1] = { arg };
    PGresult *r = PQexecParams(((pg_conn *)c)->pg, sql, 1, NULL, vals, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : pg_fail(c, r, err);
    *out = !rc && PQntuples(r) > 0 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return rc;
}

int pg_control_present(sg_conn *c, bool *out, sg_err *err)
{
    return query_bool(c, "SELECT to_regclass($1) IS NOT NULL", "segue.meta", out, err);
}

int pg_triggers_exist(sg_conn *c, const char *prefix, bool *out, sg_err *err)
{
    return query_bool(c, "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE NOT tgisinternal "
                         "AND left(tgname, length($1)) = $1)", prefix, out, err);
}

int pg_table_info(sg_conn *c, const char *table, sg_table_info **out, sg_err *err)
{
    *out = NULL;
    (void)table;
    return not_yet(c, "read table definitions", err);
}

int pg_capture_install(sg_conn *c, const sg_capture *cap, sg_err *err)
{
    (void)cap;
    return not_yet(c, "install capture triggers", err);
}

int pg_capture_remove(sg_conn *c, const sg_capture *cap, sg_err *err)
{
    (void)cap;
    return not_yet(c, "remove capture triggers", err);
}

int pg_guard_install(sg_conn *c, const sg_guard *g, sg_err *err)
{
    (void)g;
    return not_yet(c, "install guard triggers", err);
}

int pg_guard_remove(sg_conn *c, const sg_guard *g, sg_err *err)
{
    (void)g;
    return not_yet(c, "remove guard triggers", err);
}

int pg_marker_setup(sg_conn *c, sg_err *err)
{
    (void)c; (void)err;
    return 0; /* a setting needs no objects */
}

int pg_marker_teardown(sg_conn *c, sg_err *err)
{
    (void)c; (void)err;
    return 0;
}

int pg_marker_on(sg_conn *c, sg_err *err)
{
    return pg_exec(c, "SET LOCAL segue.applying = 'on'", err);
}

int pg_marker_off(sg_conn *c, sg_err *err)
{
    return pg_exec(c, "SET LOCAL segue.applying = 'off'", err);
}
