/* Per-key read-your-writes: the changelog probe behind a router's
 * sg_router_read_side_row (ryw.h). */
#include <stdlib.h>
#include <string.h>

#include "move/changelog.h"
#include "state/aside.h"
#include "switch/ryw.h"

/* One mapped source table. */
typedef struct ryw_table {
    char *table;       /* catalog name */
    char *log;         /* its changelog */
    size_t n_key;
    sg_stmt *probe;    /* prepared on first use */
    bool aside;        /* keys of it are set aside (as last refreshed) */
} ryw_table;

struct sg_ryw {
    char *uri;         /* the source (never shown) */
    sg_conn *src;      /* read-only; NULL until used, and after a failure */
    size_t n;
    ryw_table *t;
};

int sg_ryw_open(sg_ryw **out, const sg_migration *m, sg_err *e)
{
    sg_ryw *w = calloc(1, sizeof *w);
    *out = w;
    if (w && (w->uri = strdup(m->spec->source)) &&
        (w->t = calloc(m->n_groups ? m->n_groups : 1, sizeof *w->t)))
        for (; w->n < m->n_groups; w->n++) {
            const sg_group *g = &m->groups[w->n];
            ryw_table *t = &w->t[w->n];
            t->n_key = g->n_key;
            if (!(t->table = strdup(g->table)) || !(t->log = strdup(g->log)))
                break;
        }
    if (w && w->n == m->n_groups && w->t)
        return 0;
    sg_ryw_close(w);
    *out = NULL;
    return sg_err_set(e, SG_ENOMEM, "out of memory");
}

/* Drops the connection and its statements: opened again at the next use. */
static void disconnect(sg_ryw *w)
{
    for (size_t i = 0; i < w->n; i++) {
        sg_db_finalize(w->t[i].probe);
        w->t[i].probe = NULL;
    }
    sg_db_close(w->src);
    w->src = NULL;
}

void sg_ryw_close(sg_ryw *w)
{
    if (!w)
        return;
    disconnect(w);
    for (size_t i = 0; i < w->n; i++) {
        free(w->t[i].table);
        free(w->t[i].log);
    }
    free(w->t);
    free(w->uri);
    free(w);
}

int sg_ryw_refresh(sg_ryw *w, sg_conn *c, const char *name, sg_err *e)
{
    bool *aside = calloc(w->n ? w->n : 1, sizeof *aside);
    int rc = aside ? sg_aside_groups(e, c, name, w->n, aside)
                   : sg_err_set(e, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < w->n && !rc; i++)
        w->t[i].aside = aside[i];
    free(aside);
    return rc;
}

/* The mapped table named `table`, checked against the key's width. */
static int find(sg_ryw *w, const char *table, size_t n_key, ryw_table **out, sg_err *e)
{
    for (size_t i = 0; i < w->n; i++)
        if (sg_db_uri_same_name(w->uri, w->t[i].table, table)) {
            *out = &w->t[i];
            return n_key == w->t[i].n_key
                       ? 0 : sg_err_set(e, SG_EINVAL, "read-your-writes: \"%s\" has %zu "
                                        "key column(s), %zu value(s) were given",
                                        w->t[i].table, w->t[i].n_key, n_key);
        }
    sg_buf names = SG_BUF_INIT;
    for (size_t i = 0; i < w->n; i++)
        sg_buf_printf(&names, "%s\"%s\"", i ? ", " : "", w->t[i].table);
    int rc = sg_err_set(e, SG_EINVAL, "read-your-writes: no mapping reads source table "
                        "\"%s\"; hint: name one of %s", table,
                        sg_buf_failed(&names) ? "the spec's tables" : sg_buf_str(&names));
    sg_buf_free(&names);
    return rc;
}

int sg_ryw_check(sg_ryw *w, const char *table, size_t n_key, sg_err *e)
{
    ryw_table *t;
    return find(w, table, n_key, &t, e);
}

/* The table's probe, connecting and preparing as needed. */
static int probe_of(sg_ryw *w, ryw_table *t, sg_err *e)
{
    int rc = w->src ? 0 : sg_db_open(&w->src, w->uri, "source", SG_DB_READ_ONLY, e);
    if (rc || t->probe)
        return rc;
    sg_buf q = SG_BUF_INIT;
    sg_changelog_key_sql(w->src, t->log, t->n_key, &q);
    rc = sg_buf_failed(&q) ? sg_err_set(e, SG_ENOMEM, "out of memory")
                           : sg_db_prepare(w->src, sg_buf_str(&q), &t->probe, e);
    sg_buf_free(&q);
    return rc;
}

int sg_ryw_pending(sg_ryw *w, const char *table, size_t n_key, const char *const *key,
                   bool *pending, sg_err *e)
{
    ryw_table *t = NULL;
    *pending = false;
    int rc = find(w, table, n_key, &t, e);
    if (rc)
        return rc;
    if (t->aside) {
        *pending = true;
        return 0;
    }
    rc = probe_of(w, t, e);
    for (size_t k = 0; k < n_key && !rc; k++)
        rc = sg_db_bind_text(t->probe, (int)k + 1, key[k], e);
    if (!rc && (rc = sg_db_step(t->probe, e)) >= 0) {
        *pending = rc == 1;
        rc = 0;
    }
    if (t->probe)
        sg_db_reset(t->probe);
    if (rc) {
        sg_err_prefix(e, "read-your-writes: cannot look the key up in the source's "
                      "changelog \"%s\" (hint: the application's role needs SELECT on "
                      "it, granted at start to the roles that could read \"%s\"): ",
                      t->log, t->table);
        disconnect(w); /* a lost connection, or a refused statement: afresh */
    }
    return rc;
}
