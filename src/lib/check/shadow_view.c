/* The two sides of a shadow read (shadow_view.h): on the target, each
 * mapped table the query names shadowed by a common table expression
 * built from the mapping's reverse expressions (a split's targets joined
 * back on the key); on the source, a table whose mapping moves only the
 * rows its `where` takes shadowed by itself under that filter. The query
 * text itself is never changed. */
#include "check/shadow_view.h"

#include <stdio.h>
#include <string.h>

#include "plan/mapping.h"

/* The most mappings one source table may be split into and shadowed. */
#define MAX_SPLIT 16

/* The mappings that move source table `name` (as the query names it):
 * their count, up to MAX_SPLIT of them in maps (spec order: the primary
 * first). */
static size_t mappings_of(const sg_migration *m, const char *name, const sg_map **maps)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_maps; i++)
        if (sg_db_same_name(m->src, m->maps[i].fwd.from_table, name)) {
            if (n < MAX_SPLIT)
                maps[n] = &m->maps[i];
            n++;
        }
    return n;
}

/* Whether mapping mp gives source column col back. */
static bool gives_back(const sg_migration *m, const sg_map *mp, const char *col)
{
    for (size_t c = 0; c < mp->rev.n_cols; c++)
        if (sg_db_same_name(m->src, mp->rev.to_cols[c], col))
            return true;
    return false;
}

/* Why the query cannot run on the target through maps (n), or NULL: a
 * column it names that the first map leaves out and no other gives back. */
static const char *unreversed(const sg_migration *m, const sg_map *const *maps, size_t n,
                              const sg_sqlparse *q)
{
    const sg_map *mp = maps[0];
    for (size_t c = 0; c < mp->n_rev_missing; c++) {
        bool named = false, given = false;
        for (size_t k = 0; k < q->n_columns && !named; k++)
            named = sg_db_same_name(m->src, mp->rev_missing[c], q->columns[k]);
        for (size_t i = 1; i < n && named && !given; i++)
            given = gives_back(m, maps[i], mp->rev_missing[c]);
        if (named && !given)
            return mp->rev_missing[c];
    }
    return NULL;
}

/* SELECT <rev expr> AS "old col", ... FROM "new" */
static void reversed(const sg_migration *m, const sg_map *mp, sg_buf *b)
{
    const sg_flow *r = &mp->rev;
    sg_buf_puts(b, "SELECT ");
    for (size_t i = 0; i < r->n_cols; i++) {
        sg_buf_printf(b, "%s(%s) AS ", i ? ", " : "", r->exprs[i]);
        sg_db_ident(m->tgt, b, r->to_cols[i]);
    }
    /* the new table's name may be the old one's but for case, or the
     * same (another database) */
    sg_buf_puts(b, " FROM ");
    sg_db_table_past_cte(m->tgt, b, r->from_table);
}

/* sN."col" */
static void part_col(const sg_migration *m, size_t part, const char *col, sg_buf *b)
{
    sg_buf_printf(b, "s%zu.", part);
    sg_db_ident(m->tgt, b, col);
}

/* A split's targets joined back on the source key: SELECT s0."a", s1."b"
 * FROM (<reversed 0>) AS s0 JOIN (<reversed 1>) AS s1 ON s0."k" = s1."k",
 * each source column (in the table's order) from the first part that
 * gives it back. */
static void joined(const sg_migration *m, const sg_map *const *maps, size_t n, sg_buf *b)
{
    const sg_table_info *src = maps[0]->src;
    size_t shown = 0;
    sg_buf_puts(b, "SELECT ");
    for (size_t c = 0; c < src->n_cols; c++)
        for (size_t i = 0; i < n; i++)
            if (gives_back(m, maps[i], src->cols[c].name)) {
                sg_buf_puts(b, shown++ ? ", " : "");
                part_col(m, i, src->cols[c].name, b);
                break;
            }
    for (size_t i = 0; i < n; i++) {
        sg_buf_puts(b, i ? " JOIN (" : " FROM (");
        reversed(m, maps[i], b);
        sg_buf_printf(b, ") AS s%zu", i);
        for (size_t k = 0; i && k < maps[i]->rev.n_key; k++) {
            sg_buf_puts(b, k ? " AND " : " ON ");
            part_col(m, 0, maps[0]->rev.to_key[k], b);
            sg_buf_puts(b, " = ");
            part_col(m, i, maps[i]->rev.to_key[k], b);
        }
    }
}

/* "Old" AS NOT MATERIALIZED (<the target's rows in the old shape>) */
static void target_cte(const sg_migration *m, const sg_map *const *maps, size_t n, sg_buf *b)
{
    sg_db_ident(m->tgt, b, maps[0]->fwd.from_table);
    sg_buf_puts(b, " AS NOT MATERIALIZED (");
    if (n == 1)
        reversed(m, maps[0], b);
    else
        joined(m, maps, n, b);
    sg_buf_putc(b, ')');
}

/* "Old" AS NOT MATERIALIZED (SELECT * FROM "Old" WHERE (<where>)), the
 * inner name the table's (sg_db_table_past_cte). */
static void source_cte(const sg_migration *m, const sg_map *mp, sg_buf *b)
{
    sg_db_ident(m->src, b, mp->fwd.from_table);
    sg_buf_puts(b, " AS NOT MATERIALIZED (SELECT * FROM ");
    sg_db_table_past_cte(m->src, b, mp->fwd.from_table);
    sg_buf_printf(b, " WHERE (%s))", mp->fwd.filter);
}

/* Why table t of the query cannot be shadowed through maps (n), into why;
 * nothing said when it can. */
static void refuse(const sg_migration *m, const sg_sqlparse *q, const char *t,
                   const sg_map *const *maps, size_t n, char *why, size_t why_size)
{
    const char *col = n && n <= MAX_SPLIT ? unreversed(m, maps, n, q) : NULL;
    bool filtered = false;
    for (size_t i = 0; i < n && i < MAX_SPLIT; i++)
        filtered = filtered || maps[i]->fwd.filter;
    if (!n && m->src != m->tgt)
        snprintf(why, why_size, "names table %s, which no mapping moves to the target "
                 "database", t);
    else if (n > MAX_SPLIT)
        snprintf(why, why_size, "names table %s, which is split into more than %d targets",
                 t, MAX_SPLIT);
    else if (n > 1 && filtered)
        snprintf(why, why_size, "names table %s, which is split into several targets "
                 "with a where filter", t);
    else if (filtered && q->recursive)
        snprintf(why, why_size, "names table %s, whose mapping has a where filter, in a "
                 "WITH RECURSIVE", t);
    else if (n && q->recursive && sg_db_same_name(m->tgt, maps[0]->fwd.to_table, t))
        snprintf(why, why_size, "names table %s, whose new table has its name, in a WITH "
                 "RECURSIVE", t);
    else if (col)
        snprintf(why, why_size, "names column %s, which no reverse expression gives "
                 "back from %s", col, maps[0]->fwd.to_table);
}

/* `sql` behind the common table expressions `defs` (none: as it is). */
static void behind(const char *sql, const sg_sqlparse *q, const sg_buf *defs, sg_buf *out)
{
    if (!defs->len)
        sg_buf_puts(out, sql);
    else if (q->with_at >= 0)
        sg_buf_printf(out, "%.*s%s, %s", q->with_at, sql, sg_buf_str(defs), sql + q->with_at);
    else
        sg_buf_printf(out, "WITH %s %s", sg_buf_str(defs), sql);
}

int sg_shadow_view(const sg_migration *m, const char *sql, const sg_sqlparse *q,
                   sg_buf *src_out, sg_buf *tgt_out, char *why, size_t why_size)
{
    sg_buf sdefs = SG_BUF_INIT, tdefs = SG_BUF_INIT;
    const sg_map *maps[MAX_SPLIT];
    *why = '\0';
    if (q->n_qualified)
        snprintf(why, why_size, "names a table with its schema (%s)", q->qualified[0]);
    for (size_t t = 0; !*why && t < q->n_tables; t++) {
        size_t n = mappings_of(m, q->tables[t], maps);
        refuse(m, q, q->tables[t], maps, n, why, why_size);
        if (*why || !n)
            continue;
        sg_buf_puts(&tdefs, tdefs.len ? ", " : "");
        target_cte(m, maps, n, &tdefs);
        if (maps[0]->fwd.filter) {
            sg_buf_puts(&sdefs, sdefs.len ? ", " : "");
            source_cte(m, maps[0], &sdefs);
        }
    }
    if (!*why) {
        behind(sql, q, &sdefs, src_out);
        behind(sql, q, &tdefs, tgt_out);
    }
    int rc = sg_buf_failed(&sdefs) || sg_buf_failed(&tdefs) || sg_buf_failed(src_out) ||
             sg_buf_failed(tgt_out) ? -1 : *why ? 1 : 0;
    sg_buf_free(&sdefs);
    sg_buf_free(&tdefs);
    return rc;
}
