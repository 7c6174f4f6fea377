/* SQLite driver: secondary indexes, listed from pragma_index_list and
 * pragma_index_xinfo (expressions and predicates from the CREATE INDEX
 * text), built in one statement. */
#include "driver/sqlite/sqlite_int.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>

#include "base/sqllex.h"

/* The CREATE INDEX text split: the start and end of each key part in the
 * parenthesized list, and where the predicate after WHERE starts (0: none). */
typedef struct index_text {
    size_t n;
    size_t start[SG_MAX_COLS], end[SG_MAX_COLS];
    size_t where;
} index_text;

static void split_index_sql(const char *sql, index_text *x)
{
    sg_tok t = sg_sqllex_next(sql, 0);
    int depth = 0;
    memset(x, 0, sizeof *x);
    while (t.kind != SG_TOK_END && !(t.kind == SG_TOK_PUNCT && sql[t.start] == '('))
        t = sg_sqllex_next(sql, t.start + t.len);
    for (; t.kind != SG_TOK_END; t = sg_sqllex_next(sql, t.start + t.len)) {
        char c = t.kind == SG_TOK_PUNCT ? sql[t.start] : 0;
        if (c == '(' && depth++ == 0 && x->n < SG_MAX_COLS) {
            x->start[x->n] = t.start + 1;
            continue;
        }
        if ((c == ',' && depth == 1) || (c == ')' && --depth == 0)) {
            if (x->n < SG_MAX_COLS)
                x->end[x->n++] = t.start;
            if (c == ',' && x->n < SG_MAX_COLS)
                x->start[x->n] = t.start + 1;
            if (depth == 0)
                break;
        }
    }
    if (t.kind == SG_TOK_END)
        return;
    t = sg_sqllex_next_solid(sql, t.start + t.len);
    if (sg_sqllex_is(sql, t, "WHERE"))
        x->where = t.start + t.len;
}

/* Part i of the text without a trailing ASC or DESC (the pragma says which),
 * trimmed. */
static char *part_text(const char *sql, const index_text *x, size_t i)
{
    size_t a = x->start[i], e = x->start[i], pos = a;
    for (sg_tok t = sg_sqllex_next(sql, pos); t.start < x->end[i];
         t = sg_sqllex_next(sql, t.start + t.len)) {
        if (t.kind == SG_TOK_SPACE)
            continue;
        if (sg_sqllex_is(sql, t, "ASC") || sg_sqllex_is(sql, t, "DESC"))
            break;
        if (a == x->start[i] && e == x->start[i])
            a = t.start;
        e = t.start + t.len;
    }
    return strndup(sql + a, e - a);
}

static char *trimmed(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' ||
                 s[n - 1] == '\r' || s[n - 1] == ';'))
        n--;
    return strndup(s, n);
}

/* Key parts of index v from pragma_index_xinfo: cid -2 is an expression. */
static int load_parts(sqlite3 *db, const char *sql, sg_index_info *v)
{
    sqlite3_stmt *s = NULL;
    index_text x = { 0 };
    if (sql)
        split_index_sql(sql, &x);
    int rc = sqlite3_prepare_v2(db, "SELECT cid, \"desc\" FROM pragma_index_xinfo(?1) "
                                "WHERE key ORDER BY seqno", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(s, 1, v->name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && v->n < SG_MAX_COLS) {
        size_t i = v->n;
        int cid = sqlite3_column_int(s, 0);
        v->cols[i] = cid >= 0 ? cid : -1;
        v->desc[i] = sqlite3_column_int(s, 1) != 0;
        v->exprs[i] = NULL;
        if (cid < 0 && !(v->exprs[i] = i < x.n ? part_text(sql, &x, i) : strdup("?")))
            rc = SQLITE_NOMEM;
        v->n++;
        if (rc == SQLITE_NOMEM)
            break;
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc == SQLITE_OK && sql && x.where && !(v->where = trimmed(sql + x.where)))
        rc = SQLITE_NOMEM;
    return rc;
}

/* Index `name` (the list's row on s) into v. Column ids are table_xinfo's,
 * which are sg_table_info's positions but for hidden columns (none in an
 * ordinary table). */
static int load_index(sqlite3 *db, sqlite3_stmt *s, sg_index_info *v)
{
    memset(v, 0, sizeof *v);
    v->valid = true;
    v->unique = sqlite3_column_int(s, 1) != 0;
    v->name = strdup((const char *)sqlite3_column_text(s, 0));
    v->cols = calloc(SG_MAX_COLS, sizeof *v->cols);
    v->exprs = calloc(SG_MAX_COLS, sizeof *v->exprs);
    v->desc = calloc(SG_MAX_COLS, sizeof *v->desc);
    if (!v->name || !v->cols || !v->exprs || !v->desc)
        return SQLITE_NOMEM;
    const unsigned char *sql = sqlite3_column_text(s, 2);
    return load_parts(db, sql ? (const char *)sql : NULL, v);
}

int sg_sq_table_indexes(sg_conn *c, const sg_table_info *t, sg_index_info **out,
                        size_t *n, sg_err *err)
{
    sqlite3 *db = ((sq_conn *)c)->db;
    sqlite3_stmt *s = NULL;
    sg_index_info *v = NULL;
    size_t cnt = 0;
    int rc = sqlite3_prepare_v2(db,
        "SELECT l.name, l.\"unique\", m.sql FROM pragma_index_list(?1) l "
        "LEFT JOIN sqlite_schema m ON m.type = 'index' AND m.name = l.name "
        "WHERE l.origin <> 'pk' ORDER BY l.name", -1, &s, NULL);
    if (rc == SQLITE_OK)
        sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        sg_index_info *p = realloc(v, (cnt + 1) * sizeof *p);
        rc = !p ? SQLITE_NOMEM : load_index(db, s, &(v = p)[cnt++]);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE) {
        *out = v;
        *n = cnt;
        return 0;
    }
    sg_index_infos_free(v, cnt);
    return rc == SQLITE_NOMEM ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                              : sg_sq_fail(c, err);
}

void sg_sq_index_sql(const sg_index_def *d, sg_buf *b)
{
    sg_std_index_sql(b, d, "IF NOT EXISTS ");
}

int sg_sq_index_build(sg_conn *c, const sg_index_def *d, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_sq_index_sql(d, &b);
    int rc = sg_buf_failed(&b) ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                               : sg_sq_exec(c, sg_buf_str(&b), err);
    sg_buf_free(&b);
    if (rc)
        sg_err_prefix(err, "building index %s on %s: ", d->name, d->table);
    return rc;
}
