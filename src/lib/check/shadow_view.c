/* The target side of a shadow read (shadow_view.h): each mapped table the
 * query names, shadowed by a common table expression built from the
 * mapping's reverse expressions. The query text itself is never changed. */
#include "check/shadow_view.h"

#include <stdio.h>
#include <string.h>

#include "plan/mapping.h"

/* The mapping that moves source table `name` (as the query names it), or
 * NULL; *several when more than one does (a split). */
static const sg_map *mapping_of(const sg_migration *m, const char *name, bool *several)
{
    const sg_map *found = NULL;
    *several = false;
    for (size_t i = 0; i < m->n_maps; i++)
        if (sg_db_same_name(m->src, m->maps[i].fwd.from_table, name)) {
            *several = found != NULL;
            found = &m->maps[i];
        }
    return found;
}

/* Why the query cannot run on the target through mapping mp, or NULL: a
 * column it names that no reverse expression gives back. */
static const char *unreversed(const sg_migration *m, const sg_map *mp, const sg_sqlparse *q)
{
    for (size_t c = 0; c < mp->n_rev_missing; c++)
        for (size_t k = 0; k < q->n_columns; k++)
            if (sg_db_same_name(m->src, mp->rev_missing[c], q->columns[k]))
                return mp->rev_missing[c];
    return NULL;
}

/* "Old" AS NOT MATERIALIZED (SELECT <rev expr> AS "old col", ... FROM "new") */
static void cte(const sg_migration *m, const sg_map *mp, sg_buf *b)
{
    const sg_flow *r = &mp->rev;
    sg_db_ident(m->tgt, b, mp->fwd.from_table);
    sg_buf_puts(b, " AS NOT MATERIALIZED (SELECT ");
    for (size_t i = 0; i < r->n_cols; i++) {
        sg_buf_printf(b, "%s(%s) AS ", i ? ", " : "", r->exprs[i]);
        sg_db_ident(m->tgt, b, r->to_cols[i]);
    }
    sg_buf_puts(b, " FROM ");
    sg_db_ident(m->tgt, b, r->from_table);
    sg_buf_putc(b, ')');
}

int sg_shadow_view(const sg_migration *m, const char *sql, const sg_sqlparse *q, sg_buf *out,
                   char *why, size_t why_size)
{
    sg_buf defs = SG_BUF_INIT;
    int rc = 0;
    *why = '\0';
    if (q->n_qualified) {
        snprintf(why, why_size, "names a table with its schema (%s)", q->qualified[0]);
        rc = 1;
    }
    for (size_t t = 0; !rc && t < q->n_tables; t++) {
        bool several = false;
        const sg_map *mp = mapping_of(m, q->tables[t], &several);
        const char *col = mp ? unreversed(m, mp, q) : NULL;
        if (!mp && m->src != m->tgt)
            snprintf(why, why_size, "names table %s, which no mapping moves to the target "
                     "database", q->tables[t]);
        else if (several)
            snprintf(why, why_size, "names table %s, which is split into several targets",
                     q->tables[t]);
        else if (mp && mp->spec->where)
            snprintf(why, why_size, "names table %s, whose mapping moves only the rows "
                     "its where filter takes", q->tables[t]);
        else if (col)
            snprintf(why, why_size, "names column %s, which no reverse expression gives "
                     "back from %s", col, mp->fwd.to_table);
        if (*why) {
            rc = 1;
            break;
        }
        if (mp) {
            sg_buf_puts(&defs, defs.len ? ", " : "");
            cte(m, mp, &defs);
        }
    }
    if (!rc && !defs.len)
        sg_buf_puts(out, sql); /* no mapped table: the query as it is */
    else if (!rc && q->with_at >= 0)
        sg_buf_printf(out, "%.*s%s, %s", q->with_at, sql, sg_buf_str(&defs), sql + q->with_at);
    else if (!rc)
        sg_buf_printf(out, "WITH %s %s", sg_buf_str(&defs), sql);
    if (sg_buf_failed(&defs) || sg_buf_failed(out))
        rc = -1;
    sg_buf_free(&defs);
    return rc;
}
