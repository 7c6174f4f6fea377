/* Resolves the spec's mappings against the schemas: groups of mappings per
 * source table, keys, column expressions, target DDL and the forward and
 * reverse flows. Every problem is an SG_ESPEC error with file:line. The
 * target's DDL is target_ddl.c; checks against the target, mapping_check.c. */
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plan/mapping.h"

int sg_mapping_spec_fail(sg_migration *m, int line, const char *fmt, ...)
{
    char what[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return sg_err_set(&m->err, SG_ESPEC, "%s:%d: %s", m->spec->path, line, what);
}

static int oom(sg_err *e)
{
    return sg_err_set(e, SG_ENOMEM, "out of memory");
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *fmt_name(const char *fmt, const char *name, size_t i)
{
    sg_buf b = SG_BUF_INIT;
    sg_buf_printf(&b, fmt, name, i);
    return sg_buf_take(&b);
}

int sg_mapping_plain_ref(sg_conn *c, const sg_table_info *t, const char *expr)
{
    char name[512];
    size_t n = 0;
    while (isspace((unsigned char)*expr))
        expr++;
    size_t len = strlen(expr);
    while (len && isspace((unsigned char)expr[len - 1]))
        len--;
    if (len < 1 || len >= sizeof name)
        return -1;
    char open = expr[0], close = open == '[' ? ']' : open;
    if (open == '"' || open == '`' || open == '[') {
        if (len < 2 || expr[len - 1] != close)
            return -1;
        for (size_t i = 1; i + 1 < len; i++) {
            if (expr[i] == close) {
                if (close == ']' || i + 2 >= len || expr[i + 1] != close)
                    return -1;
                i++;
            }
            name[n++] = expr[i];
        }
    } else {
        for (size_t i = 0; i < len; i++) {
            if (!isalnum((unsigned char)expr[i]) && expr[i] != '_' &&
                !((unsigned char)expr[i] & 0x80))
                return -1;
            name[n++] = expr[i];
        }
    }
    name[n] = '\0';
    return sg_table_info_column(c, t, name);
}

int sg_mapping_try_expr(sg_conn *c, const char *table, const char *what,
                        const char *where, char **type, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_buf_printf(&b, "SELECT %s FROM ", what);
    sg_db_ident(c, &b, table);
    if (where)
        sg_buf_printf(&b, " WHERE (%s)", where);
    sg_buf_puts(&b, " LIMIT 0");
    int rc = sg_buf_failed(&b) ? sg_err_set(err, SG_ENOMEM, "out of memory")
                               : sg_db_prepare(c, sg_buf_str(&b), &s, err);
    if (!rc && type) {
        const char *t = sg_db_column_decltype(s, 0);
        if (t && !(*type = strdup(t)))
            rc = sg_err_set(err, SG_ENOMEM, "out of memory");
    }
    sg_db_finalize(s);
    sg_buf_free(&b);
    return rc;
}

static int find_group(sg_migration *m, const sg_spec_mapping *sm, size_t *out)
{
    for (size_t g = 0; g < m->n_groups; g++)
        if (sg_db_same_name(m->src, m->groups[g].table, sm->from)) {
            *out = g;
            return 0;
        }
    sg_table_info *t = NULL;
    int rc = sg_db_table_info(m->src, sm->from, &t, &m->err);
    if (rc)
        return rc;
    if (!t)
        return sg_mapping_spec_fail(m, sm->from_line, "source table '%s' does not exist "
                         "in %s; hint: check the name and the source URI",
                         sm->from, m->src->uri);
    sg_group *g = &m->groups[m->n_groups];
    memset(g, 0, sizeof *g);
    g->info = t;
    g->table = xstrdup(t->name);
    g->log = fmt_name("log_%s_%zu", m->spec->name, m->n_groups);
    g->rlog = fmt_name("rlog_%s_%zu", m->spec->name, m->n_groups);
    g->trig_capture = fmt_name("_segue_%s_c%zu", m->spec->name, m->n_groups);
    g->trig_guard = fmt_name("_segue_%s_s%zu", m->spec->name, m->n_groups);
    if (!g->table || !g->log || !g->rlog || !g->trig_capture || !g->trig_guard)
        return oom(&m->err);
    *out = m->n_groups++;
    return 0;
}

int sg_mapping_carry_note(sg_map *mp, const char *fmt, ...)
{
    sg_buf b = SG_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sg_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char **p = realloc(mp->carry_notes, (mp->n_carry_notes + 1) * sizeof *p);
    if (!p) {
        sg_buf_free(&b);
        return -1;
    }
    mp->carry_notes = p;
    return (p[mp->n_carry_notes] = sg_buf_take(&b)) ? (mp->n_carry_notes++, 0) : -1;
}

bool sg_mapping_unique_on(const sg_table_info *t, const int *cols, size_t n)
{
    bool pk = t->n_pk == n;
    for (size_t i = 0; pk && i < n; i++) {
        bool in = false;
        for (size_t j = 0; j < n; j++)
            in |= t->pk[j] == cols[i];
        pk = in;
    }
    if (pk)
        return true;
    for (size_t u = 0; u < t->n_unique; u++) {
        if (t->uniques[u].n != n)
            continue;
        bool all = true;
        for (size_t i = 0; all && i < n; i++) {
            bool in = false;
            for (size_t j = 0; j < n; j++)
                in |= t->uniques[u].cols[j] == cols[i];
            all = in;
        }
        if (all)
            return true;
    }
    return false;
}

/* Whether a key column can hold NULL (SQLite's INTEGER PRIMARY KEY cannot). */
static bool may_be_null(const sg_table_info *t, int col)
{
    const sg_column_info *c = &t->cols[col];
    if (c->notnull)
        return false;
    return !(t->n_pk == 1 && c->pk_pos == 1 &&
             strcasecmp(c->decl_type, "INTEGER") == 0);
}

static int resolve_key(sg_migration *m, const sg_spec_mapping *sm, sg_group *g)
{
    const sg_table_info *t = g->info;
    int cols[SG_MAX_KEY];
    size_t n = sm->n_key ? sm->n_key : t->n_pk;
    int line = sm->n_key ? sm->key_line : sm->from_line;
    if (n > SG_MAX_KEY)
        return sg_mapping_spec_fail(m, line, "the key of '%s' has %zu columns; at most %d; "
                         "hint: name a narrower unique key with key: [...]",
                         t->name, n, SG_MAX_KEY);
    if (n == 0)
        return sg_mapping_spec_fail(m, sm->line, "source table '%s' has no primary key; "
                         "hint: name a unique, NOT NULL key with key: [...]",
                         t->name);
    for (size_t i = 0; i < n; i++) {
        cols[i] = sm->n_key ? sg_table_info_column(m->src, t, sm->key[i]) : t->pk[i];
        if (cols[i] < 0)
            return sg_mapping_spec_fail(m, line, "key column '%s' is not a column of '%s'",
                             sm->key[i], t->name);
        if (t->cols[cols[i]].generated)
            return sg_mapping_spec_fail(m, line, "key column '%s' is generated; hint: "
                             "use a stored column", t->cols[cols[i]].name);
        if (may_be_null(t, cols[i]))
            return sg_mapping_spec_fail(m, line, "key column '%s' of '%s' may be NULL; "
                             "hint: declare it NOT NULL or choose another key",
                             t->cols[cols[i]].name, t->name);
    }
    if (!sg_mapping_unique_on(t, cols, n))
        return sg_mapping_spec_fail(m, line, "the key of '%s' is not unique: no primary "
                         "key or unique index is on exactly those columns; "
                         "hint: add a unique index or choose another key",
                         t->name);
    if (g->key) {
        bool same = g->n_key == n;
        for (size_t i = 0; same && i < n; i++)
            same = sg_db_same_name(m->src, g->key[i], t->cols[cols[i]].name);
        if (!same)
            return sg_mapping_spec_fail(m, line, "mappings of '%s' use different keys; "
                             "hint: every mapping of one table uses one key",
                             t->name);
        return 0;
    }
    g->key = calloc(n, sizeof *g->key);
    if (!g->key)
        return oom(&m->err);
    for (size_t i = 0; i < n; i++)
        if (!(g->key[g->n_key++] = xstrdup(t->cols[cols[i]].name)))
            return oom(&m->err);
    return 0;
}

static int alloc_flow(sg_flow *f, size_t n_key, size_t n_cols)
{
    f->n_key = n_key;
    f->from_key = calloc(n_key, sizeof *f->from_key);
    f->to_key = calloc(n_key, sizeof *f->to_key);
    f->key_pos = calloc(n_key, sizeof *f->key_pos);
    f->to_cols = calloc(n_cols ? n_cols : 1, sizeof *f->to_cols);
    f->exprs = calloc(n_cols ? n_cols : 1, sizeof *f->exprs);
    return f->from_key && f->to_key && f->key_pos && f->to_cols && f->exprs ? 0 : -1;
}

static int add_col(sg_flow *f, const char *to_col, const char *expr)
{
    f->to_cols[f->n_cols] = xstrdup(to_col);
    f->exprs[f->n_cols] = xstrdup(expr);
    return f->to_cols[f->n_cols] && f->exprs[f->n_cols++] ? 0 : -1;
}

/* The forward flow's columns: from the spec, or every source column. */
static int forward_columns(sg_migration *m, sg_map *mp, sg_group *g)
{
    const sg_spec_mapping *sm = mp->spec;
    sg_flow *f = &mp->fwd;
    sg_buf q = SG_BUF_INIT;
    size_t n = sm->n_cols ? sm->n_cols : g->info->n_cols;
    if (n > SG_MAX_COLS)
        return sg_mapping_spec_fail(m, sm->columns_line ? sm->columns_line : sm->line,
                         "'%s' -> '%s' would move %zu columns; at most %d; hint: "
                         "list the columns to move under columns:", g->table,
                         sm->to, n, SG_MAX_COLS);
    if (alloc_flow(f, g->n_key, n))
        return oom(&m->err);
    for (size_t i = 0; i < n; i++) {
        const char *name, *expr;
        if (sm->n_cols) {
            name = sm->cols[i].name;
            expr = sm->cols[i].expr;
        } else {
            if (g->info->cols[i].generated)
                continue;
            name = g->info->cols[i].name;
            sg_buf_reset(&q);
            sg_db_ident(m->src, &q, name);
            expr = sg_buf_str(&q);
        }
        if (add_col(f, name, expr)) {
            sg_buf_free(&q);
            return oom(&m->err);
        }
    }
    sg_buf_free(&q);
    return 0;
}

static int push_name(char ***v, size_t *n, const char *name)
{
    char **p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    *v = p;
    return (p[(*n)++] = xstrdup(name)) ? 0 : -1;
}

/* Every source column of a created table is the set the target was made
 * with at start: when the target exists, a source column it lacks was
 * added since (not copied). A column dropped since is drift (drift.h). */
static int fixed_at_start(sg_migration *m, sg_map *mp)
{
    sg_flow *f = &mp->fwd;
    sg_table_info *t = NULL;
    size_t w = 0;
    int rc = sg_db_table_info(m->tgt, mp->spec->to, &t, &m->err);
    if (rc || !t)
        return rc;
    for (size_t i = 0; i < f->n_cols && !rc; i++) {
        if (sg_table_info_column(m->tgt, t, f->to_cols[i]) >= 0) {
            f->to_cols[w] = f->to_cols[i];
            f->exprs[w++] = f->exprs[i];
            continue;
        }
        rc = push_name(&mp->not_copied, &mp->n_not_copied, f->to_cols[i]) ? oom(&m->err) : 0;
        free(f->to_cols[i]);
        free(f->exprs[i]);
    }
    f->n_cols = w;
    sg_table_info_free(t);
    return rc;
}

static int check_expressions(sg_migration *m, sg_map *mp)
{
    const sg_spec_mapping *sm = mp->spec;
    if (sm->n_cols && !(mp->expr_types = calloc(sm->n_cols, sizeof *mp->expr_types)))
        return oom(&m->err);
    for (size_t i = 0; i < sm->n_cols; i++) {
        if (sg_mapping_try_expr(m->src, mp->fwd.from_table, sm->cols[i].expr, NULL,
                     &mp->expr_types[i], &m->err))
            return sg_mapping_spec_fail(m, sm->cols[i].line, "the source rejects the "
                             "expression of column '%s' (%s): %s; hint: write "
                             "an SQL expression over columns of '%s'",
                             sm->cols[i].name, sm->cols[i].expr, m->err.msg,
                             mp->fwd.from_table);
        if (!mp->expr_types[i] && sg_mapping_plain_ref(m->src, mp->src, sm->cols[i].expr) < 0)
            mp->expr_types[i] = sg_mapping_guess_type(m, mp, sm->cols[i].expr);
    }
    if (sm->where && sg_mapping_try_expr(m->src, mp->fwd.from_table, "1", sm->where, NULL, &m->err))
        return sg_mapping_spec_fail(m, sm->where_line, "the source rejects the filter "
                         "(%s): %s; hint: write an SQL condition over columns "
                         "of '%s'", sm->where, m->err.msg, mp->fwd.from_table);
    return 0;
}

/* Target key: the target columns mapped from the key by plain references. */
static int forward_key(sg_migration *m, sg_map *mp, sg_group *g)
{
    sg_flow *f = &mp->fwd;
    for (size_t k = 0; k < g->n_key; k++) {
        int kc = sg_table_info_column(m->src, g->info, g->key[k]);
        f->key_pos[k] = -1;
        for (size_t i = 0; i < f->n_cols && f->key_pos[k] < 0; i++)
            if (sg_mapping_plain_ref(m->src, g->info, f->exprs[i]) == kc)
                f->key_pos[k] = (int)i;
        if (f->key_pos[k] < 0)
            return sg_mapping_spec_fail(m, mp->spec->columns_line ? mp->spec->columns_line
                                                       : mp->spec->line,
                             "key column '%s' is not mapped to a target column "
                             "by a plain column reference; hint: add "
                             "'%s: %s' to columns", g->key[k], g->key[k], g->key[k]);
        f->from_key[k] = xstrdup(g->key[k]);
        f->to_key[k] = xstrdup(f->to_cols[f->key_pos[k]]);
        if (!f->from_key[k] || !f->to_key[k])
            return oom(&m->err);
    }
    return 0;
}

static const sg_spec_reverse *find_reverse(sg_migration *m, const sg_spec_mapping *sm,
                                           const char *col)
{
    for (size_t i = 0; i < sm->n_reverse; i++)
        if (sg_db_same_name(m->src, sm->reverse[i].column, col))
            return &sm->reverse[i];
    return NULL;
}

static int add_missing(sg_map *mp, const char *col)
{
    return push_name(&mp->rev_missing, &mp->n_rev_missing, col);
}

/* The reverse flow: target row -> source columns, from explicit reverse
 * expressions or by inverting plain column references. */
static int reverse_flow(sg_migration *m, sg_map *mp, sg_group *g)
{
    const sg_spec_mapping *sm = mp->spec;
    sg_flow *r = &mp->rev, *f = &mp->fwd;
    sg_buf q = SG_BUF_INIT;
    int rc = 0;
    if (alloc_flow(r, f->n_key, g->info->n_cols))
        return oom(&m->err);
    for (size_t i = 0; i < sm->n_reverse; i++)
        if (sg_table_info_column(m->src, g->info, sm->reverse[i].column) < 0)
            return sg_mapping_spec_fail(m, sm->reverse[i].line, "reverse names '%s', which "
                             "is not a column of '%s'", sm->reverse[i].column,
                             g->table);
    for (size_t c = 0; c < g->info->n_cols && !rc; c++) {
        const char *col = g->info->cols[c].name;
        const sg_spec_reverse *rv = find_reverse(m, sm, col);
        int from = -1;
        for (size_t i = 0; i < f->n_cols && from < 0; i++)
            if (sg_mapping_plain_ref(m->src, g->info, f->exprs[i]) == (int)c)
                from = (int)i;
        if (g->info->cols[c].generated)
            continue;
        sg_buf_reset(&q);
        if (rv)
            sg_buf_puts(&q, rv->expr);
        else if (from >= 0)
            sg_db_ident(m->tgt, &q, f->to_cols[from]);
        else {
            rc = add_missing(mp, col) ? oom(&m->err) : 0;
            continue;
        }
        rc = add_col(r, col, sg_buf_str(&q)) ? oom(&m->err) : 0;
    }
    sg_buf_free(&q);
    for (size_t k = 0; k < f->n_key && !rc; k++) {
        r->from_key[k] = xstrdup(f->to_key[k]);
        r->to_key[k] = xstrdup(f->from_key[k]);
        r->key_pos[k] = sg_table_info_column(m->src, g->info, f->from_key[k]);
        for (size_t i = 0; i < r->n_cols; i++)
            if (sg_db_same_name(m->src, r->to_cols[i], f->from_key[k]))
                r->key_pos[k] = (int)i;
        if (!r->from_key[k] || !r->to_key[k])
            rc = oom(&m->err);
    }
    r->from = m->tgt;
    r->to = m->src;
    r->from_table = xstrdup(f->to_table);
    r->to_table = xstrdup(f->from_table);
    r->update_only = !mp->primary;
    r->reverse = true;
    r->same_db = f->same_db;
    return rc ? rc : (r->from_table && r->to_table ? 0 : oom(&m->err));
}

static int resolve_one(sg_migration *m, size_t i)
{
    sg_map *mp = &m->maps[i];
    const sg_spec_mapping *sm = &m->spec->mappings[i];
    size_t g = 0;
    int rc;
    mp->spec = sm;
    if ((rc = find_group(m, sm, &g)) != 0)
        return rc;
    sg_group *grp = &m->groups[g];
    mp->group = g;
    mp->src = grp->info;
    mp->primary = true;
    for (size_t j = 0; j < i; j++)
        if (m->maps[j].group == g)
            mp->primary = false;
    for (size_t j = 0; j < m->n_groups; j++)
        if (m->src == m->tgt && sg_db_same_name(m->src, m->groups[j].table, sm->to))
            return sg_mapping_spec_fail(m, sm->to_line, "target table '%s' is the source "
                             "table '%s' (same database); hint: pick a new name",
                             sm->to, m->groups[j].table);
    for (size_t j = 0; j < i; j++)
        if (sg_db_same_name(m->tgt, m->spec->mappings[j].to, sm->to))
            return sg_mapping_spec_fail(m, sm->to_line, "target table '%s' is the target of "
                             "an earlier mapping too", sm->to);
    if ((rc = resolve_key(m, sm, grp)) != 0 ||
        (rc = forward_columns(m, mp, grp)) != 0)
        return rc;
    if (!sm->n_cols && sm->create && (rc = fixed_at_start(m, mp)) != 0)
        return rc;
    sg_flow *f = &mp->fwd;
    f->from = m->src;
    f->to = m->tgt;
    f->same_db = m->src == m->tgt;
    f->from_table = xstrdup(grp->table);
    f->to_table = xstrdup(sm->to);
    f->filter = xstrdup(sm->where);
    if (!f->from_table || !f->to_table || (sm->where && !f->filter))
        return oom(&m->err);
    sg_buf lb = SG_BUF_INIT;
    sg_buf_printf(&lb, "%s -> %s", grp->table, sm->to);
    mp->label = sg_buf_take(&lb);
    mp->trig_rev = fmt_name("_segue_%s_r%zu", m->spec->name, i);
    mp->trig_guard = fmt_name("_segue_%s_t%zu", m->spec->name, i);
    if (!mp->label || !mp->trig_rev || !mp->trig_guard)
        return oom(&m->err);
    if ((rc = check_expressions(m, mp)) != 0 || (rc = forward_key(m, mp, grp)) != 0 ||
        (rc = sg_mapping_target_ddl(m, mp)) != 0 || (rc = reverse_flow(m, mp, grp)) != 0)
        return rc;
    if (!sm->create && sm->n_indexes)
        return sg_mapping_spec_fail(m, sm->indexes_line, "indexes: segue builds indexes "
                                    "only on the tables it makes; hint: set create: "
                                    "true, or create the indexes on '%s' yourself",
                                    sm->to);
    if ((rc = sg_mapping_target_indexes(m, mp)) != 0) /* built for create: true only */
        return rc;
    if (mp->rev.n_cols > SG_MAX_COLS)
        return sg_mapping_spec_fail(m, sm->line, "writes after a cutover would reach %zu "
                         "columns of '%s'; at most %d", mp->rev.n_cols,
                         grp->table, SG_MAX_COLS);
    return sg_typemap_flows(m, mp);
}

int sg_mapping_resolve(sg_migration *m)
{
    size_t n = m->spec->n_mappings;
    m->maps = calloc(n, sizeof *m->maps);
    m->groups = calloc(n, sizeof *m->groups);
    if (!m->maps || !m->groups)
        return oom(&m->err);
    for (size_t i = 0; i < n; i++) {
        m->n_maps = i + 1;
        int rc = resolve_one(m, i);
        if (rc)
            return rc;
    }
    return sg_mapping_target_fks(m);
}

static void free_flow(sg_flow *f)
{
    sg_flow_close(f);
    sg_typemap_free(f);
    sg_names_free(f->from_key, f->n_key);
    sg_names_free(f->to_key, f->n_key);
    free(f->key_pos);
    sg_names_free(f->to_cols, f->n_cols);
    sg_names_free(f->exprs, f->n_cols);
    free(f->filter);
    free(f->from_table);
    free(f->to_table);
}

void sg_mapping_close_statements(sg_migration *m)
{
    for (size_t i = 0; i < m->n_maps; i++) {
        sg_flow_close(&m->maps[i].fwd);
        sg_flow_close(&m->maps[i].rev);
    }
}

void sg_mapping_free(sg_migration *m)
{
    for (size_t i = 0; i < m->n_maps; i++) {
        sg_map *mp = &m->maps[i];
        free_flow(&mp->fwd);
        free_flow(&mp->rev);
        sg_names_free(mp->not_copied, mp->n_not_copied);
        free(mp->label);
        free(mp->target_ddl);
        free(mp->trig_rev);
        free(mp->trig_guard);
        sg_names_free(mp->rev_missing, mp->n_rev_missing);
        sg_names_free(mp->expr_types, mp->expr_types ? mp->spec->n_cols : 0);
        sg_names_free(mp->col_types, mp->col_types ? mp->fwd.n_cols : 0);
        sg_names_free(mp->from_types, mp->from_types ? mp->fwd.n_cols : 0);
        sg_names_free(mp->col_defaults, mp->col_defaults ? mp->fwd.n_cols : 0);
        sg_names_free(mp->col_sequences, mp->col_sequences ? mp->fwd.n_cols : 0);
        sg_names_free(mp->col_numbered, mp->col_numbered ? mp->fwd.n_cols : 0);
        sg_names_free(mp->checks, mp->n_checks);
        sg_fk_infos_free(mp->fks, mp->n_fks);
        free(mp->fk_source);
        sg_mapping_target_indexes_free(mp);
    }
    for (size_t g = 0; g < m->n_groups; g++) {
        sg_group *gr = &m->groups[g];
        sg_table_info_free(gr->info);
        free(gr->table);
        sg_names_free(gr->key, gr->n_key);
        free(gr->log);
        free(gr->rlog);
        free(gr->trig_capture);
        free(gr->trig_guard);
    }
    free(m->maps);
    free(m->groups);
    m->maps = NULL;
    m->groups = NULL;
    m->n_maps = m->n_groups = 0;
}
