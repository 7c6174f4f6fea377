/* PostgreSQL driver: what depends on a table (foreign keys pointing at it,
 * views and materialized views reading it, functions whose body names it),
 * and its CHECK constraints. */
#include "driver/pg/pg_int.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>

/* Kind letter, name, table. A function counts when its body names the
 * table as a whole word (a text search: the body is not parsed). */
#define PG_DEPENDENTS                                                                \
    "WITH t AS (SELECT c.oid, c.relname FROM pg_class c WHERE c.relname = $1 AND "   \
    "c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)) "                       \
    "SELECT 'f', k.conname::text, k.conrelid::regclass::text FROM pg_constraint k, t " \
    "WHERE k.contype = 'f' AND k.confrelid = t.oid AND k.conrelid <> t.oid "         \
    "UNION SELECT v.relkind::text, v.oid::regclass::text, NULL FROM pg_depend d "    \
    "JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class, t " \
    "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = t.oid AND "          \
    "v.oid <> t.oid "                                                                \
    "UNION SELECT 'p', p.oid::regprocedure::text, NULL FROM pg_proc p JOIN "         \
    "pg_namespace n ON n.oid = p.pronamespace, t WHERE n.nspname NOT IN "            \
    "('pg_catalog', 'information_schema', 'segue') AND p.prokind IN ('f', 'p') AND " \
    "p.prosrc ~* ('\\m' || regexp_replace(t.relname, '([^[:alnum:]_])', '\\\\\\1', 'g') " \
    "|| '\\M') ORDER BY 1, 2"

static const char *kind_of(char letter)
{
    switch (letter) {
    case 'f': return "foreign key";
    case 'm': return "materialized view";
    case 'p': return "function";
    default: return "view";
    }
}

int sg_pg_table_dependents(sg_conn *c, const char *table, sg_dependent **out, size_t *n,
                           sg_err *err)
{
    const char *vals[1] = { table };
    PGresult *r = sg_pg_query(c, PG_DEPENDENTS, 1, vals, err);
    if (!r)
        return SG_EDB;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && !rc; i++)
        rc = sg_dependents_push(out, n, kind_of(PQgetvalue(r, i, 0)[0]), PQgetvalue(r, i, 1),
                                PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2));
    PQclear(r);
    return rc ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint) : 0;
}

int sg_pg_table_checks(sg_conn *c, const sg_table_info *t, sg_check_info **out, size_t *n,
                       sg_err *err)
{
    const char *vals[1] = { t->name };
    PGresult *r = sg_pg_query(c, "SELECT k.conname, pg_get_expr(k.conbin, k.conrelid, true) "
                              "FROM pg_constraint k WHERE k.contype = 'c' AND k.conrelid = "
                              "(SELECT c.oid FROM pg_class c WHERE c.relname = $1 AND "
                              "c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)) "
                              "ORDER BY k.conname", 1, vals, err);
    if (!r)
        return SG_EDB;
    int rows = PQntuples(r), rc = 0;
    if (rows && !(*out = calloc((size_t)rows, sizeof **out)))
        rc = -1;
    for (int i = 0; i < rows && !rc; i++) {
        sg_check_info *k = &(*out)[(*n)++];
        k->name = strdup(PQgetvalue(r, i, 0));
        k->expr = strdup(PQgetvalue(r, i, 1));
        rc = k->name && k->expr ? 0 : -1;
    }
    PQclear(r);
    return rc ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint) : 0;
}
