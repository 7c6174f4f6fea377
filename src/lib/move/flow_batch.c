/* Apply's sync of many keys: one read per SG_SYNC_BATCH keys instead of one
 * per key, and one multi-row upsert per SG_SYNC_BATCH rows read (DESIGN.md
 * "Apply batches keys"). Writing a row the read returned
 * is always right (it is the source row as it is now); a key the read did
 * not return is left to sg_flow_sync, which deletes or, if the row came
 * back meanwhile, writes it. So matching a returned row to its key can
 * only save work, never lose a change. */
#include <string.h>

#include "internal.h"

/* ... WHERE k IN ($1, ..., $B) for one key column, else
 * (k1 = $1 AND k2 = $2) OR ... (both engines read these the same way). */
static void key_list(sg_flow *f, sg_buf *b)
{
    int param = 1;
    if (f->n_key == 1) {
        sg_db_ident(f->from, b, f->from_key[0]);
        sg_buf_puts(b, " IN (");
        for (int r = 0; r < SG_SYNC_BATCH; r++) {
            sg_buf_puts(b, r ? ", " : "");
            sg_db_param(f->from, b, param++);
        }
        sg_buf_puts(b, ")");
        return;
    }
    sg_buf_puts(b, "(");
    for (int r = 0; r < SG_SYNC_BATCH; r++) {
        sg_buf_puts(b, r ? " OR (" : "(");
        for (size_t k = 0; k < f->n_key; k++) {
            sg_buf_puts(b, k ? " AND " : "");
            sg_db_ident(f->from, b, f->from_key[k]);
            sg_buf_puts(b, " = ");
            sg_db_param(f->from, b, param++);
        }
        sg_buf_puts(b, ")");
    }
    sg_buf_puts(b, ")");
}

static int prepare_many(sg_flow *f, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_flow_select_head(f, &b);
    key_list(f, &b);
    sg_flow_filter(f, &b);
    int rc = sg_buf_failed(&b) ? sg_err_set(err, SG_ENOMEM, "out of memory")
                               : sg_db_prepare(f->from, sg_buf_str(&b), &f->read_many, err);
    sg_buf_free(&b);
    return rc;
}

/* Marks the key of the current row of s among keys[0..n). */
static void mark(sg_flow *f, sg_stmt *s, const sg_row *keys, size_t n, bool *found)
{
    sg_value kv[SG_MAX_KEY];
    for (size_t k = 0; k < f->n_key && k < SG_MAX_KEY; k++)
        sg_db_column(s, f->key_pos[k], &kv[k]);
    for (size_t j = 0; j < n; j++)
        if (!found[j] && sg_row_equal(kv, keys[j].v, f->n_key)) {
            found[j] = true;
            return;
        }
}

/* Writes rows read by a batched read: a full batch in one multi-row upsert,
 * fewer one by one. Forward flows only; a reverse flow's write of partial
 * rows (update, else insert) stays per row. */
static int write_rows(sg_flow *f, const sg_row *rows, size_t n, sg_err *err)
{
    int rc = 0;
    if (n < SG_SYNC_BATCH) {
        for (size_t r = 0; r < n && !rc; r++)
            rc = sg_flow_write_values(f, f->upsert, rows[r].v, err);
        return rc;
    }
    if (!f->upsert_many) {
        sg_buf b = SG_BUF_INIT;
        sg_flow_upsert_sql(f, &b, SG_SYNC_BATCH);
        rc = sg_buf_failed(&b) ? sg_err_set(err, SG_ENOMEM, "out of memory")
                               : sg_db_prepare(f->to, sg_buf_str(&b), &f->upsert_many, err);
        sg_buf_free(&b);
    }
    for (size_t r = 0, param = 1; r < n && !rc; r++)
        for (size_t i = 0; i < f->n_cols && !rc; i++)
            rc = sg_db_bind(f->upsert_many, (int)param++, &rows[r].v[i], err);
    if (!rc && (rc = sg_db_step(f->upsert_many, err)) > 0)
        rc = 0;
    if (f->upsert_many)
        sg_db_reset(f->upsert_many);
    return rc;
}

/* Writes the rows kept so far and frees them. */
static int flush(sg_flow *f, sg_row *rows, size_t *n, sg_err *err)
{
    int rc = *n ? write_rows(f, rows, *n, err) : 0;
    for (size_t r = 0; r < *n; r++)
        sg_row_free(&rows[r]);
    *n = 0;
    return rc;
}

/* Keeps the current row of s, brought to what the target holds. */
static int keep_row(sg_flow *f, sg_stmt *s, sg_row *out, sg_err *err)
{
    sg_value v[SG_MAX_COLS];
    int rc = sg_flow_values(f, s, v, true, err);
    if (!rc && sg_row_copy(out, v, f->n_cols))
        rc = sg_err_set(err, SG_ENOMEM, "out of memory");
    return rc;
}

/* Reads up to SG_SYNC_BATCH keys' rows (the last key repeated to fill the
 * statement) and writes them. */
static int read_batch(sg_flow *f, const sg_row *keys, size_t n, bool *found,
                      sg_err *err)
{
    sg_row rows[SG_SYNC_BATCH];
    size_t got = 0;
    bool batched = !f->reverse && !f->update_only;
    int rc = 0, param = 1;
    for (int r = 0; r < SG_SYNC_BATCH && !rc; r++) {
        const sg_row *key = &keys[(size_t)r < n ? (size_t)r : n - 1];
        for (size_t k = 0; k < f->n_key && !rc; k++)
            rc = sg_db_bind(f->read_many, param++, &key->v[k], err);
    }
    while (!rc && (rc = sg_db_step(f->read_many, err)) == 1) {
        rc = 0;
        mark(f, f->read_many, keys, n, found);
        if (!batched) {
            rc = sg_flow_write_row(f, f->read_many, err);
            continue;
        }
        if (got == SG_SYNC_BATCH) /* more rows than keys: a key that is not unique */
            rc = flush(f, rows, &got, err);
        if (!rc && (rc = keep_row(f, f->read_many, &rows[got], err)) == 0)
            got++;
    }
    sg_db_reset(f->read_many);
    if (!rc)
        rc = flush(f, rows, &got, err);
    for (size_t r = 0; r < got; r++)
        sg_row_free(&rows[r]);
    return rc;
}

static void name_key(const sg_row *key, sg_err *err)
{
    sg_buf kb = SG_BUF_INIT;
    sg_key_format(&kb, key->v, key->n);
    sg_err_prefix(err, "key %s: ", sg_buf_str(&kb));
    sg_buf_free(&kb);
}

int sg_flow_sync_many(sg_flow *f, const sg_row *keys, size_t n, sg_err *err)
{
    int rc = 0;
    if (!f->read_key && (rc = sg_flow_prepare(f, err)) != 0)
        return rc;
    if (!f->read_many && n > 1 && (rc = prepare_many(f, err)) != 0)
        return rc;
    for (size_t at = 0; at < n && !rc; at += SG_SYNC_BATCH) {
        size_t m = n - at < SG_SYNC_BATCH ? n - at : SG_SYNC_BATCH;
        bool found[SG_SYNC_BATCH] = { false };
        if (m > 1)
            rc = read_batch(f, keys + at, m, found, err);
        for (size_t j = 0; j < m && !rc; j++)
            if (!found[j] && (rc = sg_flow_sync(f, keys[at + j].v, err)) != 0)
                name_key(&keys[at + j], err);
    }
    return rc;
}
