/* An application's query read through libpg_query (sqlparse.h): its JSON
 * parse tree walked once with jansson. */
#include "check/sqlparse.h"

#include <jansson.h>
#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <segue/segue.h>

/* Functions whose call changes state though a SELECT holds it: refused so
 * that a shadow read never runs them (the read-only session every shadow
 * read runs in refuses them too). */
static const char *const writing_functions[] = {
    "nextval", "setval", "pg_advisory_lock", "pg_advisory_xact_lock",
    "pg_advisory_lock_shared", "pg_advisory_xact_lock_shared",
    "pg_try_advisory_lock", "pg_try_advisory_xact_lock", "pg_notify",
    "set_config", "pg_cancel_backend", "pg_terminate_backend", "lo_import",
    "lo_export", "lo_unlink", "dblink_exec",
};

/* Nodes that make a statement more than a read. */
static const char *const writing_nodes[] = { "InsertStmt", "UpdateStmt", "DeleteStmt",
                                             "MergeStmt", "intoClause", "lockingClause" };

typedef struct walk {
    sg_sqlparse *p;
    size_t n_ctes;
    char **ctes;
    bool oom;
} walk;

static bool push(char ***v, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], s) == 0)
            return true;
    char **p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return false;
    *v = p;
    if (!(p[*n] = strdup(s)))
        return false;
    (*n)++;
    return true;
}

static void refuse(walk *w, const char *what, const char *name)
{
    if (!w->p->read_only)
        return;
    w->p->read_only = false;
    size_t n = strlen(what) + strlen(name) + 3;
    if ((w->p->why = malloc(n)) != NULL)
        snprintf(w->p->why, n, "%s %s", what, name);
    else
        w->oom = true;
}

/* The last String of a list of names ({"String": {"sval": ...}}). */
static const char *last_name(json_t *list)
{
    size_t n = json_array_size(list);
    json_t *s = n ? json_object_get(json_array_get(list, n - 1), "String") : NULL;
    return s ? json_string_value(json_object_get(s, "sval")) : NULL;
}

static void range_var(walk *w, json_t *rv)
{
    const char *rel = json_string_value(json_object_get(rv, "relname"));
    const char *schema = json_string_value(json_object_get(rv, "schemaname"));
    if (!rel)
        return;
    if (schema) {
        size_t n = strlen(schema) + strlen(rel) + 2;
        char *q = malloc(n);
        if (q)
            snprintf(q, n, "%s.%s", schema, rel);
        w->oom |= !q || !push(&w->p->qualified, &w->p->n_qualified, q);
        free(q);
        return;
    }
    w->oom |= !push(&w->p->tables, &w->p->n_tables, rel);
}

static void node(walk *w, const char *key, json_t *v)
{
    for (size_t i = 0; i < sizeof writing_nodes / sizeof *writing_nodes; i++)
        if (strcmp(key, writing_nodes[i]) == 0)
            refuse(w, "writes or locks:", key);
    if (strcmp(key, "RangeVar") == 0)
        range_var(w, v);
    else if (strcmp(key, "ColumnRef") == 0) {
        const char *c = last_name(json_object_get(v, "fields"));
        if (c)
            w->oom |= !push(&w->p->columns, &w->p->n_columns, c);
    } else if (strcmp(key, "CommonTableExpr") == 0) {
        const char *c = json_string_value(json_object_get(v, "ctename"));
        if (c)
            w->oom |= !push(&w->ctes, &w->n_ctes, c);
    } else if (strcmp(key, "FuncCall") == 0) {
        const char *f = last_name(json_object_get(v, "funcname"));
        for (size_t i = 0; f && i < sizeof writing_functions / sizeof *writing_functions; i++)
            if (strcasecmp(f, writing_functions[i]) == 0)
                refuse(w, "calls", f);
    } else if (strcmp(key, "ParamRef") == 0) {
        json_int_t n = json_integer_value(json_object_get(v, "number"));
        if (n > w->p->n_params && n < 65536)
            w->p->n_params = (int)n;
    }
}

static void visit(walk *w, json_t *j)
{
    if (json_is_array(j)) {
        size_t i;
        json_t *e;
        json_array_foreach(j, i, e)
            visit(w, e);
    } else if (json_is_object(j)) {
        const char *k;
        json_t *e;
        json_object_foreach(j, k, e) {
            node(w, k, e);
            visit(w, e);
        }
    }
}

/* A name of a common table expression is no table. */
static void drop_ctes(walk *w)
{
    sg_sqlparse *p = w->p;
    size_t keep = 0;
    for (size_t i = 0; i < p->n_tables; i++) {
        bool cte = false;
        for (size_t c = 0; c < w->n_ctes && !cte; c++)
            cte = strcmp(p->tables[i], w->ctes[c]) == 0;
        if (cte)
            free(p->tables[i]);
        else
            p->tables[keep++] = p->tables[i];
    }
    p->n_tables = keep;
}

/* The top-level statement: a SELECT, its ORDER BY and WITH. */
static void top(walk *w, json_t *stmt)
{
    json_t *sel = json_object_get(stmt, "SelectStmt");
    if (!sel) {
        const char *k = json_object_iter_key(json_object_iter(stmt));
        refuse(w, "is not a SELECT:", k ? k : "empty");
        return;
    }
    w->p->ordered = json_object_get(sel, "sortClause") != NULL;
    json_t *with = json_object_get(sel, "withClause");
    w->p->recursive = json_is_true(json_object_get(with, "recursive"));
    json_t *ctes = json_object_get(with, "ctes");
    json_t *first = json_object_get(json_array_get(ctes, 0), "CommonTableExpr");
    json_t *at = json_object_get(first, "location");
    w->p->with_at = json_is_integer(at) ? (int)json_integer_value(at) : -1;
}

static int fingerprint(const char *sql, sg_sqlparse *out, sg_err *err)
{
    PgQueryFingerprintResult f = pg_query_fingerprint(sql);
    int rc = 0;
    if (f.error)
        rc = sg_err_set(err, SG_EINVAL, "%s (at byte %d)", f.error->message,
                        f.error->cursorpos);
    else
        snprintf(out->fingerprint, sizeof out->fingerprint, "%s", f.fingerprint_str);
    pg_query_free_fingerprint_result(f);
    return rc;
}

int sg_sqlparse_read(const char *sql, sg_sqlparse *out, sg_err *err)
{
    memset(out, 0, sizeof *out);
    out->read_only = true;
    out->with_at = -1;
    walk w = { .p = out };
    json_t *tree = NULL;
    int rc = 0;
    PgQueryParseResult r = pg_query_parse(sql);
    if (r.error) {
        rc = sg_err_set(err, SG_EINVAL, "%s (at byte %d)", r.error->message,
                        r.error->cursorpos > 0 ? r.error->cursorpos - 1 : 0);
        goto done;
    }
    json_error_t je;
    if (!(tree = json_loads(r.parse_tree, 0, &je))) {
        rc = sg_err_set(err, SG_ENOMEM, "reading the parse tree: %s", je.text);
        goto done;
    }
    json_t *stmts = json_object_get(tree, "stmts");
    if (json_array_size(stmts) != 1) {
        rc = sg_err_set(err, SG_EINVAL, "%zu statements, one expected",
                        json_array_size(stmts));
        goto done;
    }
    json_t *stmt = json_object_get(json_array_get(stmts, 0), "stmt");
    top(&w, stmt);
    visit(&w, stmt);
    drop_ctes(&w);
    rc = w.oom ? sg_err_set(err, SG_ENOMEM, "out of memory") : fingerprint(sql, out, err);
done:
    for (size_t i = 0; i < w.n_ctes; i++)
        free(w.ctes[i]);
    free(w.ctes);
    json_decref(tree);
    pg_query_free_parse_result(r);
    return rc;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void sg_sqlparse_free(sg_sqlparse *p)
{
    if (!p)
        return;
    free(p->why);
    free_names(p->tables, p->n_tables);
    free_names(p->qualified, p->n_qualified);
    free_names(p->columns, p->n_columns);
    memset(p, 0, sizeof *p);
    p->with_at = -1;
}
