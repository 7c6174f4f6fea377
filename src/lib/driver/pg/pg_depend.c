/* PostgreSQL driver: the tables of the default schema, what depends on a
 * table (foreign keys pointing at it, views and materialized views reading
 * it, functions whose body names it), and its CHECK constraints, foreign
 * keys and triggers. */
#include "driver/pg/pg_int.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>

/* Kind letter, name, table. A foreign key of a partition is on the root of
 * its partition tree, of a child by inheritance on its parent (each moved
 * and dropped as one table), and one a partition inherits from its parent
 * is the parent's. A function counts when its
 * body names the table as a whole word (a text search: the body is not
 * parsed). */
#define PG_DEPENDENTS                                                                \
    "WITH t AS (SELECT c.oid, c.relname FROM pg_class c WHERE c.relname = $1 AND "   \
    "c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)) "                       \
    "SELECT 'f', k.conname::text, (SELECT r.relname FROM pg_class r WHERE r.oid = " \
    "coalesce(pg_partition_root(k.conrelid), (SELECT i.inhparent FROM pg_inherits "  \
    "i WHERE i.inhrelid = k.conrelid LIMIT 1), k.conrelid))::text FROM "           \
    "pg_constraint k, t WHERE k.contype = 'f' AND k.confrelid = t.oid AND "           \
    "k.conrelid <> t.oid AND k.conparentid = 0 "                                      \
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

/* The first column of each row of sql (with up to one parameter). */
static int names_of(sg_conn *c, const char *sql, const char *arg, char ***out, size_t *n,
                    sg_err *err)
{
    const char *vals[1] = { arg };
    PGresult *r = sg_pg_query(c, sql, arg ? 1 : 0, arg ? vals : NULL, err);
    if (!r)
        return SG_EDB;
    int rows = PQntuples(r), rc = 0;
    if (rows && !(*out = calloc((size_t)rows, sizeof **out)))
        rc = -1;
    for (int i = 0; i < rows && !rc; i++)
        rc = ((*out)[(*n)++] = strdup(PQgetvalue(r, i, 0))) ? 0 : -1;
    PQclear(r);
    return rc ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint) : 0;
}

int sg_pg_tables(sg_conn *c, char ***out, size_t *n, sg_err *err)
{
    /* a partition, or a child by inheritance, is read with its parent */
    return names_of(c, "SELECT c.relname FROM pg_class c WHERE c.relnamespace = "
                    "current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname "
                    "NOT LIKE '\\_segue%' AND NOT "
                    "EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid) "
                    "ORDER BY 1", NULL, out, n, err);
}

/* One row per column of each foreign key, in key order. */
#define PG_FOREIGN_KEYS                                                              \
    "SELECT k.conname, r.relname, a.attname, fa.attname FROM pg_constraint k JOIN "   \
    "pg_class r ON r.oid = k.confrelid CROSS JOIN LATERAL unnest(k.conkey, k.confkey) " \
    "WITH ORDINALITY u(ck, fk, i) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = "     \
    "u.ck JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = u.fk "    \
    "WHERE k.contype = 'f' AND k.conrelid = (SELECT c.oid FROM pg_class c WHERE "     \
    "c.relname = $1 AND c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)) "     \
    "ORDER BY k.conname, u.i"

int sg_pg_table_foreign_keys(sg_conn *c, const sg_table_info *t, sg_fk_info **out, size_t *n,
                             sg_err *err)
{
    const char *vals[1] = { t->name };
    PGresult *r = sg_pg_query(c, PG_FOREIGN_KEYS, 1, vals, err);
    if (!r)
        return SG_EDB;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && !rc; i++)
        rc = sg_fk_infos_push(out, n, i == 0 || strcmp(PQgetvalue(r, i, 0),
                                                       PQgetvalue(r, i - 1, 0)) != 0,
                              PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                              PQgetvalue(r, i, 3));
    PQclear(r);
    if (!rc)
        return 0;
    sg_fk_infos_free(*out, *n);
    *out = NULL;
    *n = 0;
    return sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
}

int sg_pg_table_triggers(sg_conn *c, const sg_table_info *t, char ***out, size_t *n,
                         sg_err *err)
{
    return names_of(c, "SELECT g.tgname FROM pg_trigger g WHERE NOT g.tgisinternal AND "
                    "g.tgname NOT LIKE '\\_segue%' AND g.tgrelid = (SELECT c.oid FROM "
                    "pg_class c WHERE c.relname = $1 AND c.relkind IN ('r', 'p') AND "
                    "pg_table_is_visible(c.oid)) ORDER BY 1", t->name, out, n, err);
}

static void ident_list(sg_buf *b, size_t n, char *const *v)
{
    for (size_t k = 0; k < n; k++) {
        sg_buf_puts(b, k ? ", " : "");
        sg_std_quote_ident(b, v[k]);
    }
}

void sg_pg_foreign_key_sql(const sg_fk_info *d, const char *table, bool add, sg_buf *b)
{
    sg_buf_puts(b, "ALTER TABLE ");
    sg_std_quote_ident(b, table);
    sg_buf_puts(b, " DROP CONSTRAINT IF EXISTS ");
    sg_std_quote_ident(b, d->name);
    if (!add)
        return;
    sg_buf_puts(b, "; ALTER TABLE ");
    sg_std_quote_ident(b, table);
    sg_buf_puts(b, " ADD CONSTRAINT ");
    sg_std_quote_ident(b, d->name);
    sg_buf_puts(b, " FOREIGN KEY (");
    ident_list(b, d->n, d->cols);
    sg_buf_puts(b, ") REFERENCES ");
    sg_std_quote_ident(b, d->ref_table);
    sg_buf_puts(b, " (");
    ident_list(b, d->n, d->ref_cols);
    sg_buf_puts(b, ") NOT VALID");
}
