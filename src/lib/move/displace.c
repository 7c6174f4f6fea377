/* Displacement (displace.h). */
#include "move/displace.h"

#include <stdlib.h>
#include <string.h>

#include "move/apply.h"
#include "move/flow.h"
#include "move/tx.h"

/* Levels of displacement followed (a row displaced by a row displaced by
 * ...); a longer chain fails with the refusal, and the key is set aside. */
#define DISPLACE_DEPTH 4

/* The position in f->to_cols of target column `name`, or -1. */
static int written(const sg_flow *f, const char *name)
{
    for (size_t i = 0; i < f->n_cols; i++)
        if (sg_db_same_name(f->to, f->to_cols[i], name))
            return (int)i;
    return -1;
}

static bool has_key(const sg_row *v, size_t n, const sg_row *key)
{
    for (size_t i = 0; i < n; i++)
        if (sg_row_equal(v[i].v, key->v, key->n))
            return true;
    return false;
}

static int push_key(sg_row **v, size_t *n, const sg_value *key, size_t n_key)
{
    sg_row *p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    *v = p;
    if (sg_row_copy(&p[*n], key, n_key))
        return -1;
    (*n)++;
    return 0;
}

/* The keys of f->to rows other than `key` holding row's values of the
 * unique index ix (t's columns; plain columns f writes only). */
static int holders(sg_flow *f, const sg_table_info *t, const sg_index_info *ix,
                   const sg_row *row, const sg_row *key, sg_row **out, size_t *n,
                   sg_err *err)
{
    int pos[SG_MAX_COLS];
    for (size_t k = 0; k < ix->n; k++)
        if (k >= SG_MAX_COLS || ix->cols[k] < 0 ||
            (pos[k] = written(f, t->cols[ix->cols[k]].name)) < 0)
            return 0; /* an expression or a column the flow leaves alone */
    sg_buf q = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_buf_puts(&q, "SELECT ");
    sg_sql_ident_list(f->to, &q, f->n_key, f->to_key, NULL);
    sg_buf_puts(&q, " FROM ");
    sg_db_ident(f->to, &q, f->to_table);
    for (size_t k = 0; k < ix->n; k++) {
        sg_buf_puts(&q, k ? " AND " : " WHERE ");
        sg_db_ident(f->to, &q, f->to_cols[pos[k]]);
        sg_buf_puts(&q, " = ");
        sg_db_param(f->to, &q, (int)k + 1);
    }
    if (ix->where)
        sg_buf_printf(&q, " AND (%s)", ix->where);
    int rc = sg_buf_failed(&q) ? sg_err_set(err, SG_ENOMEM, "out of memory")
                               : sg_db_prepare(f->to, sg_buf_str(&q), &s, err);
    for (size_t k = 0; !rc && k < ix->n; k++)
        rc = sg_db_bind(s, (int)k + 1, &row->v[pos[k]], err);
    sg_value kv[SG_MAX_KEY];
    while (!rc && (rc = sg_db_step(s, err)) == 1) {
        rc = 0;
        for (size_t k = 0; k < f->n_key; k++)
            sg_db_column(s, (int)k, &kv[k]);
        sg_row found = { f->n_key, kv };
        if (!sg_row_equal(kv, key->v, f->n_key) && !has_key(*out, *n, &found) &&
            push_key(out, n, kv, f->n_key))
            rc = sg_err_set(err, SG_ENOMEM, "out of memory");
    }
    sg_db_finalize(s);
    sg_buf_free(&q);
    return rc;
}

/* The keys of f->to rows holding the unique values the sending side's row
 * of `key` has (none when it has no row). */
static int displaced_by(sg_flow *f, const sg_row *key, sg_row **out, size_t *n, sg_err *err)
{
    sg_row row = { 0 };
    bool found = false;
    sg_table_info *t = NULL;
    sg_index_info *ix = NULL;
    size_t nix = 0;
    int rc = sg_flow_read_from(f, key->v, &row, &found, err);
    if (!rc && found)
        rc = sg_db_table_info(f->to, f->to_table, &t, err);
    if (!rc && t)
        rc = sg_db_table_indexes(f->to, t, &ix, &nix, err);
    for (size_t i = 0; !rc && i < nix; i++)
        if (ix[i].unique && ix[i].valid)
            rc = holders(f, t, &ix[i], &row, key, out, n, err);
    sg_index_infos_free(ix, nix);
    sg_table_info_free(t);
    if (found)
        sg_row_free(&row);
    return rc;
}

/* Deletes the receiving rows of keys[0..n) through f's delete. */
static int delete_keys(sg_flow *f, const sg_row *keys, size_t n, sg_err *err)
{
    int rc = f->del ? 0 : sg_flow_prepare(f, err);
    for (size_t i = 0; !rc && i < n; i++) {
        for (size_t k = 0; k < f->n_key && !rc; k++)
            rc = sg_db_bind(f->del, (int)k + 1, &keys[i].v[k], err);
        if (!rc && (rc = sg_db_step(f->del, err)) > 0)
            rc = 0;
        sg_db_reset(f->del);
    }
    return rc;
}

static int displace(sg_migration *m, sg_dir d, size_t g, const sg_row *key, int depth,
                    bool *done)
{
    sg_row *moved = NULL;
    size_t n = 0;
    int rc = 0;
    *done = false;
    for (size_t i = 0; !rc && i < m->n_maps; i++) {
        sg_flow *f = d == SG_FORWARD ? &m->maps[i].fwd : &m->maps[i].rev;
        if (m->maps[i].group != g || f->update_only)
            continue;
        size_t before = n;
        rc = displaced_by(f, key, &moved, &n, &m->err);
        if (!rc && n > before)
            rc = delete_keys(f, moved + before, n - before, &m->err);
    }
    if (!rc && n) {
        *done = true;
        rc = sg_apply_sync(m, d, g, key, 1);
    }
    sg_conn *dst = d == SG_FORWARD ? m->tgt : m->src;
    for (size_t i = 0; !rc && i < n; i++) {
        /* a displaced row may itself meet a value still held: undone to
         * the savepoint, it displaces in turn */
        bool deeper = false;
        if ((rc = sg_tx_savepoint(dst, &m->err)) == 0)
            rc = sg_apply_sync(m, d, g, &moved[i], 1);
        if (rc && m->err.unique && depth < DISPLACE_DEPTH) {
            sg_err refused = m->err;
            if ((rc = sg_tx_undo_to_savepoint(dst, &m->err)) == 0 &&
                (rc = displace(m, d, g, &moved[i], depth + 1, &deeper)) == 0 && !deeper)
                rc = (m->err = refused).code;
        }
        if (!rc)
            rc = sg_tx_release(dst, &m->err);
    }
    for (size_t i = 0; i < n; i++)
        sg_row_free(&moved[i]);
    free(moved);
    return rc;
}

int sg_displace_sync(sg_migration *m, sg_dir d, size_t g, const sg_row *key, bool *done)
{
    return displace(m, d, g, key, 0, done);
}
