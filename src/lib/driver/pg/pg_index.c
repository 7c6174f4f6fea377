/* PostgreSQL driver: secondary indexes, listed from the catalog and built
 * with CREATE INDEX CONCURRENTLY so that the application's writes go on. */
#include "driver/pg/pg_int.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>

/* One row per key part of every index but the primary key's. */
#define PG_INDEX_PARTS                                                              \
    "SELECT ci.relname, i.indisunique, i.indisvalid, am.amname, "                   \
    "pg_get_expr(i.indpred, i.indrelid, true), a.attname, "                         \
    "pg_get_indexdef(i.indexrelid, k.ord::int, true), "                             \
    "(i.indoption[k.ord - 1] & 1) = 1, i.indnatts > i.indnkeyatts "                 \
    "FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid "                    \
    "JOIN pg_am am ON am.oid = ci.relam "                                           \
    "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "        \
    "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "  \
    "AND k.attnum > 0 "                                                             \
    "WHERE i.indrelid = (SELECT c.oid FROM pg_class c WHERE c.relname = $1 AND "    \
    "c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)) "                      \
    "AND NOT i.indisprimary AND k.ord <= i.indnkeyatts ORDER BY ci.relname, k.ord"

static char *dup_or_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

/* Starts index v (the row's name, flags, method, predicate). */
static int start_index(const PGresult *r, int row, sg_index_info *v)
{
    memset(v, 0, sizeof *v);
    v->name = strdup(PQgetvalue(r, row, 0));
    v->unique = PQgetvalue(r, row, 1)[0] == 't';
    v->valid = PQgetvalue(r, row, 2)[0] == 't';
    if (strcmp(PQgetvalue(r, row, 3), "btree") != 0)
        v->method = strdup(PQgetvalue(r, row, 3));
    v->where = dup_or_null(r, row, 4);
    v->include = PQgetvalue(r, row, 8)[0] == 't';
    return !v->name || (!v->method && strcmp(PQgetvalue(r, row, 3), "btree") != 0) ||
           (!v->where && !PQgetisnull(r, row, 4)) ? -1 : 0;
}

/* Appends the row's key part to v: a column of t, or an expression. */
static int add_part(const PGresult *r, int row, const sg_table_info *t, sg_index_info *v)
{
    size_t n = v->n + 1;
    int *cols = realloc(v->cols, n * sizeof *cols);
    if (cols)
        v->cols = cols;
    char **exprs = realloc(v->exprs, n * sizeof *exprs);
    if (exprs)
        v->exprs = exprs;
    bool *desc = realloc(v->desc, n * sizeof *desc);
    if (desc)
        v->desc = desc;
    if (!cols || !exprs || !desc)
        return -1;
    int col = -1;
    for (size_t i = 0; !PQgetisnull(r, row, 5) && i < t->n_cols; i++)
        if (strcmp(t->cols[i].name, PQgetvalue(r, row, 5)) == 0)
            col = (int)i;
    cols[v->n] = col;
    desc[v->n] = PQgetvalue(r, row, 7)[0] == 't';
    exprs[v->n] = col < 0 ? strdup(PQgetvalue(r, row, 6)) : NULL;
    if (col < 0 && !exprs[v->n])
        return -1;
    v->n++;
    return 0;
}

int sg_pg_table_indexes(sg_conn *c, const sg_table_info *t, sg_index_info **out,
                        size_t *n, sg_err *err)
{
    const char *vals[1] = { t->name };
    PGresult *r = sg_pg_query(c, PG_INDEX_PARTS, 1, vals, err);
    if (!r)
        return SG_EDB;
    sg_index_info *v = NULL;
    size_t cnt = 0;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        if (!cnt || strcmp(v[cnt - 1].name, PQgetvalue(r, i, 0)) != 0) {
            sg_index_info *p = realloc(v, (cnt + 1) * sizeof *p);
            if (!p || start_index(r, i, &(v = p)[cnt++])) {
                rc = -1;
                break;
            }
        }
        rc = add_part(r, i, t, &v[cnt - 1]);
    }
    PQclear(r);
    if (rc) {
        sg_index_infos_free(v, cnt);
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
    }
    *out = v;
    *n = cnt;
    return 0;
}

void sg_pg_index_sql(const sg_index_def *d, sg_buf *b)
{
    sg_std_index_sql(b, d, "CONCURRENTLY ");
}

/* Whether index `name` exists in the schema of table `table`, and is valid. */
static int index_state(sg_conn *c, const sg_index_def *d, bool *exists, bool *valid,
                       sg_err *err)
{
    const char *vals[2] = { d->name, d->table };
    PGresult *r = sg_pg_query(c, "SELECT i.indisvalid FROM pg_index i JOIN pg_class ci ON "
                              "ci.oid = i.indexrelid JOIN pg_class ct ON ct.oid = "
                              "i.indrelid WHERE ci.relname = $1 AND ct.relname = $2 AND "
                              "pg_table_is_visible(ct.oid)", 2, vals, err);
    if (!r)
        return SG_EDB;
    *exists = PQntuples(r) == 1;
    *valid = *exists && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return 0;
}

/* A CONCURRENTLY build that fails (a lock timeout while it waits for the
 * transactions before it, a duplicate) leaves an invalid index behind: it
 * is dropped, CONCURRENTLY too, and the build tried again while the lock
 * budget lasts. */
int sg_pg_index_build(sg_conn *c, const sg_index_def *d, sg_err *err)
{
    bool exists = false, valid = false;
    int rc = 0;
    for (int attempt = 0; attempt < 3 && !rc; attempt++) {
        if ((rc = index_state(c, d, &exists, &valid, err)) != 0 || valid)
            return rc;
        sg_buf b = SG_BUF_INIT;
        if (exists) {
            sg_buf_puts(&b, "DROP INDEX CONCURRENTLY IF EXISTS ");
            sg_std_quote_ident(&b, d->name);
            if ((rc = sg_pg_exec_concurrently(c, &b, err)) != 0)
                break;
        }
        sg_pg_index_sql(d, &b);
        rc = sg_pg_exec_concurrently(c, &b, err);
        if (!rc || (index_state(c, d, &exists, &valid, err) == 0 && !exists))
            break; /* built, or failed before making anything: final */
        rc = attempt < 2 ? 0 : rc;
    }
    if (rc)
        sg_err_prefix(err, "building index %s on %s: ", d->name, d->table);
    return rc;
}
