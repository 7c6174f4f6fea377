/* Dispatch from core code to the driver a URI names. */
#include "driver/driver.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>

static const sg_driver *const drivers[] = { &sg_driver_sqlite, &sg_driver_postgres };

static bool scheme_is(const char *s, const char *uri, size_t n)
{
    return s && strlen(s) == n && strncmp(s, uri, n) == 0;
}

/* Splits "scheme:rest"; returns the driver or NULL. */
static const sg_driver *lookup(const char *uri, const char **rest)
{
    const char *colon = strchr(uri, ':');
    if (!colon)
        return NULL;
    size_t n = (size_t)(colon - uri);
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++) {
        if (scheme_is(drivers[i]->scheme, uri, n) || scheme_is(drivers[i]->alias, uri, n)) {
            *rest = colon + 1;
            return drivers[i];
        }
    }
    return NULL;
}

const sg_driver *sg_db_driver_for(const char *uri, sg_err *err)
{
    const char *rest;
    const sg_driver *d = lookup(uri, &rest);
    if (!d)
        sg_err_set(err, SG_EINVAL,
                   "unsupported database URI '%.200s'; hint: use sqlite:path/to.db "
                   "or postgresql://user@host/db",
                   uri);
    return d;
}

int sg_db_open(sg_conn **out, const char *uri, const char *endpoint,
               unsigned flags, sg_err *err)
{
    const char *rest;
    *out = NULL;
    const sg_driver *d = lookup(uri, &rest);
    if (!d)
        return sg_err_set(err, SG_EINVAL,
                          "%s: unsupported database URI; hint: use sqlite:path/to.db or "
                          "postgresql://user@host/db",
                          endpoint);
    return d->open(out, uri, rest, endpoint, flags, err);
}

void sg_db_close(sg_conn *c)
{
    if (c)
        c->drv->close(c);
}

bool sg_db_same_database(const char *a, const char *b)
{
    const char *ra, *rb;
    const sg_driver *da = lookup(a, &ra), *db = lookup(b, &rb);
    return da && da == db && da->same_database(ra, rb);
}

int sg_db_exec(sg_conn *c, const char *sql, sg_err *err)
{
    return c->drv->exec(c, sql, err);
}

int sg_db_prepare(sg_conn *c, const char *sql, sg_stmt **out, sg_err *err)
{
    return c->drv->prepare(c, sql, out, err);
}

int sg_db_prepare_once(sg_conn *c, const char *sql, sg_stmt **out, sg_err *err)
{
    return (c->drv->prepare_once ? c->drv->prepare_once : c->drv->prepare)(c, sql, out, err);
}

int sg_db_bind(sg_stmt *s, int idx, const sg_value *v, sg_err *err)
{
    return s->conn->drv->bind(s, idx, v, err);
}

int sg_db_bind_int(sg_stmt *s, int idx, int64_t x, sg_err *err)
{
    sg_value v = { .type = SG_V_INT, .i = x };
    return sg_db_bind(s, idx, &v, err);
}

int sg_db_bind_text(sg_stmt *s, int idx, const char *t, sg_err *err)
{
    sg_value v = { .type = t ? SG_V_TEXT : SG_V_NULL, .p = t, .n = t ? strlen(t) : 0 };
    return sg_db_bind(s, idx, &v, err);
}

int sg_db_bind_blob(sg_stmt *s, int idx, const void *p, size_t n, sg_err *err)
{
    sg_value v = { .type = SG_V_BLOB, .p = p, .n = n };
    return sg_db_bind(s, idx, &v, err);
}

int sg_db_step(sg_stmt *s, sg_err *err)
{
    return s->conn->drv->step(s, err);
}

const char *sg_db_column_decltype(sg_stmt *s, int i)
{
    return s->conn->drv->column_decltype(s, i);
}

int sg_db_column_count(sg_stmt *s)
{
    return s->conn->drv->column_count(s);
}

void sg_db_column(sg_stmt *s, int i, sg_value *out)
{
    s->conn->drv->column(s, i, out);
}

int64_t sg_db_column_int(sg_stmt *s, int i)
{
    sg_value v;
    sg_db_column(s, i, &v);
    if (v.type == SG_V_INT || v.type == SG_V_BOOL)
        return v.i;
    if (v.type == SG_V_REAL)
        return (int64_t)v.d;
    if (v.type == SG_V_NUMERIC && v.n < 32) { /* PostgreSQL's sum(bigint) */
        char t[32];
        memcpy(t, v.p, v.n);
        t[v.n] = '\0';
        return strtoll(t, NULL, 10);
    }
    return 0;
}

int sg_db_reset(sg_stmt *s)
{
    return s->conn->drv->reset(s);
}

void sg_db_finalize(sg_stmt *s)
{
    if (s)
        s->conn->drv->finalize(s);
}

int64_t sg_db_changes(sg_conn *c)
{
    return c->drv->changes(c);
}

int sg_db_begin(sg_conn *c, bool write, sg_err *err)
{
    int rc = c->drv->begin(c, write, err);
    if (rc == 0)
        c->tx_depth = 1;
    return rc;
}

int sg_db_commit(sg_conn *c, sg_err *err)
{
    int rc = c->drv->commit(c, err);
    if (rc == 0)
        c->tx_depth = 0;
    return rc;
}

int sg_db_control_setup(sg_conn *c, sg_err *err)
{
    return c->drv->control_setup(c, err);
}

int sg_db_control_share(sg_conn *c, const char *name, sg_err *err)
{
    return c->drv->control_share ? c->drv->control_share(c, name, err) : 0;
}

int sg_db_lock_wait(sg_conn *c, int64_t ms, sg_err *err)
{
    if (!c->drv->lock_wait)
        return sg_err_set(err, SG_ENOTSUP, "%s: the %s driver cannot bound lock "
                          "waits", c->endpoint, c->drv->name);
    return c->drv->lock_wait(c, ms, err);
}

int sg_db_idle_timeout(sg_conn *c, int64_t ms, sg_err *err)
{
    return c->drv->idle_timeout ? c->drv->idle_timeout(c, ms, err) : 0;
}

int sg_db_statement_timeout(sg_conn *c, int64_t ms, sg_err *err)
{
    return c->drv->statement_timeout(c, ms, err);
}

bool sg_db_lost(sg_conn *c)
{
    return c->drv->lost && c->drv->lost(c);
}

int sg_db_reconnect(sg_conn *c, sg_err *err)
{
    return c->drv->reconnect ? c->drv->reconnect(c, err) : 0;
}

int sg_db_copy_grants(sg_conn *from, const char *from_table, sg_conn *to,
                      const char *to_table, sg_err *err)
{
    if (from->drv != to->drv || !to->drv->copy_grants)
        return 0;
    return to->drv->copy_grants(from, from_table, to, to_table, err);
}

int sg_db_table_roles(sg_conn *from, const char *from_table, sg_conn *to,
                      const char *to_table, sg_role_use **out, size_t *n, sg_err *err)
{
    *out = NULL;
    *n = 0;
    if (from->drv != to->drv || !to->drv->table_roles)
        return 0;
    return to->drv->table_roles(from, from_table, to, to_table, out, n, err);
}

void sg_role_uses_free(sg_role_use *u, size_t n)
{
    for (size_t i = 0; u && i < n; i++) {
        free(u[i].role);
        free(u[i].privileges);
        free(u[i].lacking);
    }
    free(u);
}

int sg_db_control_present(sg_conn *c, const char *name, bool *out, sg_err *err)
{
    return c->drv->control_present(c, name, out, err);
}

void sg_db_rollback(sg_conn *c)
{
    if (c && c->tx_depth) {
        c->drv->rollback(c);
        c->tx_depth = 0;
    }
}

int sg_db_query_int(sg_conn *c, const char *sql, int64_t dflt, int64_t *out,
                    sg_err *err)
{
    sg_stmt *s = NULL;
    int rc = sg_db_prepare(c, sql, &s, err);
    if (rc)
        return rc;
    *out = dflt;
    rc = sg_db_step(s, err);
    if (rc == 1) {
        sg_value v;
        sg_db_column(s, 0, &v);
        if (v.type != SG_V_NULL)
            *out = sg_db_column_int(s, 0);
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

void sg_db_ident(const sg_conn *c, sg_buf *b, const char *id)
{
    c->drv->quote_ident(b, id);
}

void sg_db_control(const sg_conn *c, sg_buf *b, const char *name)
{
    c->drv->control_name(b, name);
}

void sg_db_param(const sg_conn *c, sg_buf *b, int n)
{
    c->drv->param(b, n);
}

int sg_cols_push(int **cols, size_t *n, int col)
{
    int *p = realloc(*cols, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    *cols = p;
    p[(*n)++] = col;
    return 0;
}

void sg_table_info_free(sg_table_info *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_cols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].decl_type);
        free(t->cols[i].order);
        free(t->cols[i].default_sql);
        free(t->cols[i].sequence);
    }
    for (size_t i = 0; i < t->n_unique; i++)
        free(t->uniques[i].cols);
    free(t->cols);
    free(t->pk);
    free(t->uniques);
    free(t->name);
    free(t);
}

void sg_check_infos_free(sg_check_info *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].expr);
    }
    free(v);
}

void sg_dependents_free(sg_dependent *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].table);
    }
    free(v);
}

int sg_dependents_push(sg_dependent **v, size_t *n, const char *kind, const char *name,
                       const char *table)
{
    sg_dependent *p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    *v = p;
    p[*n].kind = kind;
    p[*n].name = strdup(name);
    p[*n].table = table ? strdup(table) : NULL;
    if (!p[*n].name || (table && !p[*n].table)) {
        free(p[*n].name);
        free(p[*n].table);
        return -1;
    }
    (*n)++;
    return 0;
}

void sg_fk_info_clear(sg_fk_info *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->cols ? k->cols[i] : NULL);
        free(k->ref_cols ? k->ref_cols[i] : NULL);
    }
    free(k->cols);
    free(k->ref_cols);
    free(k->name);
    free(k->ref_table);
    memset(k, 0, sizeof *k);
}

void sg_fk_infos_free(sg_fk_info *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        sg_fk_info_clear(&v[i]);
    free(v);
}

int sg_fk_infos_push(sg_fk_info **v, size_t *n, bool new_key, const char *name,
                     const char *ref_table, const char *col, const char *ref)
{
    if (*n == 0 || new_key) {
        sg_fk_info *p = realloc(*v, (*n + 1) * sizeof *p);
        if (!p)
            return -1;
        *v = p;
        memset(&p[*n], 0, sizeof *p);
        p[(*n)++].name = name ? strdup(name) : NULL;
        if (!(p[*n - 1].ref_table = strdup(ref_table)) || (name && !p[*n - 1].name))
            return -1;
    }
    sg_fk_info *f = &(*v)[*n - 1];
    char **c = realloc(f->cols, (f->n + 1) * sizeof *c);
    if (c)
        f->cols = c;
    char **r = c ? realloc(f->ref_cols, (f->n + 1) * sizeof *r) : NULL;
    if (r)
        f->ref_cols = r;
    if (!c || !r)
        return -1;
    c[f->n] = strdup(col);
    r[f->n] = ref ? strdup(ref) : NULL;
    f->n++;
    return c[f->n - 1] && (!ref || r[f->n - 1]) ? 0 : -1;
}

void sg_names_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void sg_index_infos_free(sg_index_info *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        for (size_t k = 0; v[i].exprs && k < v[i].n; k++)
            free(v[i].exprs[k]);
        free(v[i].name);
        free(v[i].cols);
        free(v[i].exprs);
        free(v[i].desc);
        free(v[i].where);
        free(v[i].method);
    }
    free(v);
}

int sg_table_info_column(const sg_conn *c, const sg_table_info *t,
                         const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (c->drv->same_name(t->cols[i].name, name))
            return (int)i;
    return -1;
}
