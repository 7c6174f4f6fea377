/* Schema drift: the columns recorded at start against the catalogs now. */
#include "check/drift.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "state/control.h"

enum { SIDE_SOURCE = 0, SIDE_TARGET = 1 };

/* Whether SQL text names identifier `name` outside string literals, quoted
 * ("x", `x`, [x]) or bare, letter case aside. It may say yes for a name
 * that only looks alike (a function's name): then a column the migration
 * does not need is watched too, which costs nothing until it changes. */
static bool mentions(const char *sql, const char *name)
{
    size_t len = strlen(name);
    const char *p = sql;
    while (p && *p) {
        char close = *p == '"' ? '"' : *p == '`' ? '`' : *p == '[' ? ']' : 0;
        if (*p == '\'') {
            for (p++; *p && !(*p == '\'' && p[1] != '\''); p += *p == '\'' ? 2 : 1)
                ;
            p += *p ? 1 : 0;
        } else if (close) {
            const char *e = strchr(p + 1, close);
            if (e && (size_t)(e - p - 1) == len && !strncasecmp(p + 1, name, len))
                return true;
            p = e ? e + 1 : NULL;
        } else if (isalpha((unsigned char)*p) || *p == '_') {
            const char *s = p;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '$')
                p++;
            if ((size_t)(p - s) == len && !strncasecmp(s, name, len))
                return true;
        } else {
            p++;
        }
    }
    return false;
}

static bool relied_on(const sg_map *mp, const char *col)
{
    for (size_t i = 0; i < mp->fwd.n_cols; i++)
        if (mentions(mp->fwd.exprs[i], col))
            return true;
    return mp->fwd.filter && mentions(mp->fwd.filter, col);
}

static int record_one(sg_migration *m, sg_stmt *s, size_t i, int side,
                      const sg_column_info *c)
{
    int rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    if (!rc)
        rc = sg_db_bind_int(s, 2, (int64_t)i, &m->err);
    if (!rc)
        rc = sg_db_bind_int(s, 3, side, &m->err);
    if (!rc)
        rc = sg_db_bind_text(s, 4, c->name, &m->err);
    if (!rc)
        rc = sg_db_bind_text(s, 5, c->decl_type ? c->decl_type : "", &m->err);
    if (!rc && (rc = sg_db_step(s, &m->err)) > 0)
        rc = 0;
    sg_db_reset(s);
    return rc;
}

/* The source columns mapping i names and the target columns it writes. */
static int record_map(sg_migration *m, sg_stmt *s, size_t i)
{
    const sg_map *mp = &m->maps[i];
    const sg_table_info *src = m->groups[mp->group].info;
    sg_table_info *tgt = NULL;
    int rc = 0;
    for (size_t c = 0; c < src->n_cols && !rc; c++)
        if (relied_on(mp, src->cols[c].name))
            rc = record_one(m, s, i, SIDE_SOURCE, &src->cols[c]);
    if (!rc)
        rc = sg_db_table_info(m->tgt, mp->fwd.to_table, &tgt, &m->err);
    for (size_t c = 0; !rc && tgt && c < mp->fwd.n_cols; c++) {
        int k = sg_table_info_column(m->tgt, tgt, mp->fwd.to_cols[c]);
        if (k >= 0)
            rc = record_one(m, s, i, SIDE_TARGET, &tgt->cols[k]);
    }
    sg_table_info_free(tgt);
    return rc;
}

int sg_drift_record(sg_migration *m)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(&m->err, m->tgt,
                                "DELETE FROM @columns WHERE migration = $1", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)))
        rc = sg_control_run(&m->err, s);
    else
        sg_db_finalize(s);
    s = NULL;
    if (!rc)
        rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @columns (migration, mapping, "
                                "side, name, decl) VALUES ($1, $2, $3, $4, $5)", &s);
    for (size_t i = 0; i < m->n_maps && !rc; i++)
        rc = record_map(m, s, i);
    sg_db_finalize(s);
    return rc;
}

/* A text column of the current row, NUL-terminated into out. */
static void column_text(sg_stmt *s, int i, char *out, size_t size)
{
    sg_value v;
    sg_db_column(s, i, &v);
    snprintf(out, size, "%.*s", (int)v.n, v.p ? (const char *)v.p : "");
}

/* Where the recorded columns of one mapping and side live now. */
typedef struct place {
    long map;
    int side;
    sg_conn *conn;
    const char *table;
    sg_table_info *info;   /* NULL: the table is gone */
} place;

static int visit(sg_migration *m, place *pl, long i, int side)
{
    if (pl->map == i && pl->side == side)
        return 0;
    sg_table_info_free(pl->info);
    *pl = (place){ .map = i, .side = side };
    if (i < 0 || (size_t)i >= m->n_maps)
        return sg_err_set(&m->err, SG_ESTATE, "the control tables record columns of "
                          "mapping %ld, which the spec does not have; hint: use the "
                          "spec the migration was started with", i);
    const sg_map *mp = &m->maps[i];
    pl->conn = side == SIDE_SOURCE ? m->src : m->tgt;
    pl->table = side == SIDE_SOURCE ? m->groups[mp->group].table : mp->fwd.to_table;
    return sg_db_table_info(pl->conn, pl->table, &pl->info, &m->err);
}

static int drifted(sg_migration *m, const place *pl, const char *col, const char *decl)
{
    const char *side = pl->side == SIDE_SOURCE ? "source" : "target";
    const char *what = pl->side == SIDE_SOURCE ? "reads" : "writes";
    const char *label = m->maps[pl->map].label;
    if (!pl->info)
        return sg_err_set(&m->err, SG_ESTATE, "%s: schema drift: %s table '%s' no "
                          "longer exists (dropped or renamed since start); the "
                          "migration %s it; hint: restore the table as it was, or roll "
                          "back and abort", label, side, pl->table, what);
    int k = sg_table_info_column(pl->conn, pl->info, col);
    if (k < 0)
        return sg_err_set(&m->err, SG_ESTATE, "%s: schema drift: %s table '%s' no "
                          "longer has column '%s' (dropped or renamed since start), "
                          "which the migration %s; hint: add the column back as it "
                          "was (%s %s), then `segue verify --repair` brings its "
                          "values over; or roll back and abort", label, side,
                          pl->table, col, what, col, decl[0] ? decl : "untyped");
    const char *now = pl->info->cols[k].decl_type ? pl->info->cols[k].decl_type : "";
    if (strcmp(now, decl) != 0)
        return sg_err_set(&m->err, SG_ESTATE, "%s: schema drift: column '%s' of %s "
                          "table '%s' is now %s; it was %s at start; the migration "
                          "%s it; hint: change its type back to %s, or roll back and "
                          "abort", label, col, side, pl->table, now[0] ? now : "untyped",
                          decl[0] ? decl : "untyped", what, decl[0] ? decl : "untyped");
    return 0;
}

int sg_drift_check(sg_migration *m)
{
    sg_stmt *s = NULL;
    place pl = { .map = -1, .side = -1 };
    int rc = sg_control_prepare(&m->err, m->tgt, "SELECT mapping, side, name, decl FROM "
                                "@columns WHERE migration = $1 ORDER BY mapping, side",
                                &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    while (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        char col[256], decl[256];
        long i = (long)sg_db_column_int(s, 0);
        int side = (int)sg_db_column_int(s, 1);
        column_text(s, 2, col, sizeof col);
        column_text(s, 3, decl, sizeof decl);
        if ((rc = visit(m, &pl, i, side)) == 0)
            rc = drifted(m, &pl, col, decl);
    }
    sg_db_finalize(s);
    sg_table_info_free(pl.info);
    return rc > 0 ? 0 : rc;
}
