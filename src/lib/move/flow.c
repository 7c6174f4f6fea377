/* Moving rows through a mapping: sync of one key (apply), copy of a key range
 * (backfill chunk) and chunk boundaries (keyset pagination). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void sg_sql_ident_list(sg_conn *c, sg_buf *b, size_t n, char *const *ids,
                       const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sg_buf_puts(b, ", ");
        if (prefix)
            sg_buf_printf(b, "%s.", prefix);
        sg_db_ident(c, b, ids[i]);
    }
}

static int params(sg_conn *c, sg_buf *b, size_t n, int first)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sg_buf_puts(b, ", ");
        sg_db_param(c, b, first++);
    }
    return first;
}

static int compare(sg_conn *c, sg_buf *b, size_t n, char *const *cols,
                   const char *op, int param)
{
    sg_buf_puts(b, "(");
    sg_sql_ident_list(c, b, n, cols, NULL);
    sg_buf_printf(b, ") %s (", op);
    param = params(c, b, n, param);
    sg_buf_puts(b, ")");
    return param;
}

int sg_sql_key_range(sg_conn *c, sg_buf *b, size_t n, char *const *cols,
                     const sg_row *lo, const sg_row *hi, int param)
{
    if (!lo && !hi) {
        sg_buf_puts(b, "1 = 1");
        return param;
    }
    if (lo)
        param = compare(c, b, n, cols, ">", param);
    if (lo && hi)
        sg_buf_puts(b, " AND ");
    if (hi)
        param = compare(c, b, n, cols, "<=", param);
    return param;
}

int sg_sql_bind_range(sg_stmt *s, const sg_row *lo, const sg_row *hi, int param,
                      sg_err *err)
{
    const sg_row *rows[2] = { lo, hi };
    for (int r = 0; r < 2; r++)
        for (size_t i = 0; rows[r] && i < rows[r]->n; i++) {
            int rc = sg_db_bind(s, param++, &rows[r]->v[i], err);
            if (rc)
                return rc;
        }
    return 0;
}

/* "k1" = ?p AND "k2" = ?p+1 */
static int key_equals(sg_conn *c, sg_buf *b, size_t n, char *const *cols, int param)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sg_buf_puts(b, " AND ");
        sg_db_ident(c, b, cols[i]);
        sg_buf_puts(b, " = ");
        sg_db_param(c, b, param++);
    }
    return param;
}

static int prepare(sg_conn *c, sg_buf *b, sg_stmt **out, sg_err *err)
{
    int rc = sg_buf_failed(b) ? sg_err_set(err, SG_ENOMEM, "out of memory")
                              : sg_db_prepare(c, sg_buf_str(b), out, err);
    sg_buf_free(b);
    return rc;
}

/* "SELECT <exprs> FROM [schema.]<from> WHERE " */
static void select_head_in(sg_flow *f, sg_buf *b, const char *schema)
{
    sg_buf_puts(b, "SELECT ");
    for (size_t i = 0; i < f->n_cols; i++)
        sg_buf_printf(b, "%s(%s)", i ? ", " : "", f->exprs[i]);
    sg_buf_puts(b, " FROM ");
    if (schema) {
        sg_db_ident(f->from, b, schema);
        sg_buf_putc(b, '.');
    }
    sg_db_ident(f->from, b, f->from_table);
    sg_buf_puts(b, " WHERE ");
}

void sg_flow_select_head(sg_flow *f, sg_buf *b)
{
    select_head_in(f, b, NULL);
}

void sg_flow_filter(sg_flow *f, sg_buf *b)
{
    if (f->filter)
        sg_buf_printf(b, " AND (%s)", f->filter);
}

void sg_flow_upsert_sql(sg_flow *f, sg_buf *b, size_t rows)
{
    int param = 1;
    sg_buf_puts(b, "INSERT INTO ");
    sg_db_ident(f->to, b, f->to_table);
    sg_buf_puts(b, " (");
    sg_sql_ident_list(f->to, b, f->n_cols, f->to_cols, NULL);
    sg_buf_printf(b, ")%s VALUES ", sg_db_insert_override(f->to));
    for (size_t r = 0; r < rows; r++) {
        sg_buf_puts(b, r ? ", (" : "(");
        param = params(f->to, b, f->n_cols, param);
        sg_buf_puts(b, ")");
    }
    sg_db_upsert_tail(f->to, b, f->n_key, (const char *const *)f->to_key,
                            f->n_cols, (const char *const *)f->to_cols);
}

static bool is_key_col(const sg_flow *f, size_t col)
{
    for (size_t k = 0; k < f->n_key; k++)
        if ((size_t)f->key_pos[k] == col)
            return true;
    return false;
}

/* UPDATE of one row, each column's value the parameter of its position:
 * the key's in the WHERE, the others' in the SET (a key column set to
 * itself would be refused where the engine numbers it, as GENERATED
 * ALWAYS; a table of key columns only sets its first to itself). */
static void update_sql(sg_flow *f, sg_buf *b)
{
    bool any = false, all_key = f->n_key == f->n_cols;
    sg_buf_puts(b, "UPDATE ");
    sg_db_ident(f->to, b, f->to_table);
    sg_buf_puts(b, " SET ");
    for (size_t i = 0; i < f->n_cols; i++) {
        if (is_key_col(f, i) && !(all_key && !any))
            continue;
        sg_buf_puts(b, any ? ", " : "");
        sg_db_ident(f->to, b, f->to_cols[i]);
        sg_buf_puts(b, " = ");
        sg_db_param(f->to, b, (int)i + 1);
        any = true;
    }
    sg_buf_puts(b, " WHERE ");
    for (size_t k = 0; k < f->n_key; k++) {
        sg_buf_puts(b, k ? " AND " : "");
        sg_db_ident(f->to, b, f->to_key[k]);
        sg_buf_puts(b, " = ");
        sg_db_param(f->to, b, f->key_pos[k] + 1);
    }
}

int sg_flow_prepare(sg_flow *f, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    int rc;
    sg_flow_select_head(f, &b);
    key_equals(f->from, &b, f->n_key, f->from_key, 1);
    sg_flow_filter(f, &b);
    if ((rc = prepare(f->from, &b, &f->read_key, err)) != 0)
        return rc;
    if (f->update_only || f->reverse) {
        update_sql(f, &b);
        if ((rc = prepare(f->to, &b, &f->update, err)) != 0 || f->update_only)
            return rc;
    }
    sg_flow_upsert_sql(f, &b, 1);
    if ((rc = prepare(f->to, &b, &f->upsert, err)) != 0)
        return rc;
    sg_buf_puts(&b, "DELETE FROM ");
    sg_db_ident(f->to, &b, f->to_table);
    sg_buf_puts(&b, " WHERE ");
    key_equals(f->to, &b, f->n_key, f->to_key, 1);
    return prepare(f->to, &b, &f->del, err);
}

void sg_flow_close(sg_flow *f)
{
    sg_db_finalize(f->read_key);
    sg_db_finalize(f->upsert);
    sg_db_finalize(f->del);
    sg_db_finalize(f->update);
    sg_db_finalize(f->read_many);
    sg_db_finalize(f->upsert_many);
    f->read_key = f->upsert = f->del = f->update = f->read_many = f->upsert_many = NULL;
}

/* Names what the target cannot hold: column, key and reason. */
static int unfit(sg_flow *f, const sg_value *v, size_t col, const char *why,
                 sg_err *err)
{
    sg_buf k = SG_BUF_INIT, t = SG_BUF_INIT;
    sg_value kv[SG_MAX_KEY];
    for (size_t i = 0; i < f->n_key && i < SG_MAX_KEY; i++)
        kv[i] = v[f->key_pos[i]];
    sg_key_format(&k, kv, f->n_key);
    sg_coltype_describe(&f->types[col], &t);
    int rc = sg_err_set(err, SG_EDB, "%s: column '%s' of '%s' (%s) cannot hold "
                        "the value of row %s: %s; hint: plan counts such rows; "
                        "change the column's type or expression",
                        f->to->endpoint, f->to_cols[col], f->to_table,
                        sg_buf_str(&t), sg_buf_str(&k), why);
    err->data = true;
    sg_buf_free(&k);
    sg_buf_free(&t);
    return rc;
}

int sg_flow_values_in(const sg_flow *f, sg_stmt *s, sg_value *v, sg_buf *conv,
                      size_t *unfit_col, const char **why)
{
    for (size_t i = 0; i < f->n_cols; i++)
        sg_db_column(s, (int)i, &v[i]);
    for (size_t i = 0; f->types && i < f->n_cols; i++) {
        if (sg_conform(&f->types[i], &v[i], &conv[i], why) == SG_FIT_NONE && unfit_col) {
            *unfit_col = i;
            return -1;
        }
    }
    return 0;
}

int sg_flow_values(sg_flow *f, sg_stmt *s, sg_value *v, bool strict, sg_err *err)
{
    size_t i = 0;
    const char *why = NULL;
    if (sg_flow_values_in(f, s, v, f->conv, strict ? &i : NULL, &why))
        return unfit(f, v, i, why, err);
    return 0;
}

int sg_flow_write_values(sg_flow *f, sg_stmt *w, const sg_value *v, sg_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < f->n_cols && !rc; i++)
        rc = sg_db_bind(w, (int)i + 1, &v[i], err);
    if (!rc && (rc = sg_db_step(w, err)) > 0)
        rc = 0;
    sg_db_reset(w);
    return rc;
}

/* Writes the current row of `from` through w (see sg_flow_write_values). */
static int write_with(sg_flow *f, sg_stmt *w, sg_stmt *from, sg_err *err)
{
    sg_value v[SG_MAX_COLS];
    int rc = sg_flow_values(f, from, v, true, err);
    return rc ? rc : sg_flow_write_values(f, w, v, err);
}

/* Reverse flows write only some columns of the old table: update first (an
 * INSERT would trip NOT NULL on the columns it leaves out), insert if absent. */
int sg_flow_write_row(sg_flow *f, sg_stmt *from, sg_err *err)
{
    if (!f->reverse || f->update_only)
        return write_with(f, f->update_only ? f->update : f->upsert, from, err);
    int rc = write_with(f, f->update, from, err);
    if (!rc && sg_db_changes(f->to) == 0)
        rc = write_with(f, f->upsert, from, err);
    return rc;
}

int sg_flow_sync(sg_flow *f, const sg_value *key, sg_err *err)
{
    int rc = 0;
    if (!f->read_key && (rc = sg_flow_prepare(f, err)) != 0)
        return rc;
    for (size_t k = 0; k < f->n_key && !rc; k++)
        rc = sg_db_bind(f->read_key, (int)k + 1, &key[k], err);
    if (!rc)
        rc = sg_db_step(f->read_key, err);
    if (rc == 1) {
        rc = sg_flow_write_row(f, f->read_key, err);
    } else if (rc == 0 && !f->update_only) {
        for (size_t k = 0; k < f->n_key && !rc; k++)
            rc = sg_db_bind(f->del, (int)k + 1, &key[k], err);
        if (!rc && (rc = sg_db_step(f->del, err)) > 0)
            rc = 0;
        sg_db_reset(f->del);
    }
    sg_db_reset(f->read_key);
    return rc;
}

/* Runs `head` WHERE key in (lo, hi] `tail` on the target; *row (if not
 * NULL): whether it returned a row. */
static int on_range(sg_flow *f, const char *head, const char *tail, const sg_row *lo,
                    const sg_row *hi, bool *row, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_buf_puts(&b, head);
    sg_db_ident(f->to, &b, f->to_table);
    sg_buf_puts(&b, " WHERE ");
    sg_sql_key_range(f->to, &b, f->n_key, f->to_key, lo, hi, 1);
    sg_buf_puts(&b, tail);
    int rc = prepare(f->to, &b, &s, err);
    if (!rc)
        rc = sg_sql_bind_range(s, lo, hi, 1, err);
    if (!rc && (rc = sg_db_step(s, err)) >= 0) {
        if (row)
            *row = rc == 1;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

/* Clears the target's key range (lo, hi]: a chunk's range is rewritten whole
 * from the source, so the insert that follows needs no conflict handling
 * (PostgreSQL's ON CONFLICT doubles an insert's cost). Rows are there only
 * where apply synced keys ahead of the backfill; an indexed probe skips the
 * DELETE when there are none (a DELETE of the open range past the last
 * chunk scanned the whole table on a target not analyzed yet). */
static int clear_range(sg_flow *f, const sg_row *lo, const sg_row *hi, sg_err *err)
{
    sg_buf tail = SG_BUF_INIT;
    bool found = false;
    sg_buf_puts(&tail, " ORDER BY ");
    sg_sql_ident_list(f->to, &tail, f->n_key, f->to_key, NULL);
    sg_buf_puts(&tail, " LIMIT 1");
    int rc = sg_buf_failed(&tail) ? sg_err_set(err, SG_ENOMEM, "out of memory")
           : on_range(f, "SELECT 1 FROM ", sg_buf_str(&tail), lo, hi, &found, err);
    sg_buf_free(&tail);
    if (!rc && found)
        rc = on_range(f, "DELETE FROM ", "", lo, hi, NULL, err);
    return rc;
}

/* Same database, or the source attached to the target's connection
 * (from_schema): one INSERT ... SELECT inside the engine, after clearing
 * the range. Correct because no sync touches a range while its chunk is in
 * flight (DESIGN.md item 5) and the target takes no other writes. */
static int copy_in_engine(sg_flow *f, const sg_row *lo, const sg_row *hi,
                          int64_t *rows, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    int rc = clear_range(f, lo, hi, err);
    if (rc)
        return rc;
    sg_buf_puts(&b, "INSERT INTO ");
    sg_db_ident(f->to, &b, f->to_table);
    sg_buf_puts(&b, " (");
    sg_sql_ident_list(f->to, &b, f->n_cols, f->to_cols, NULL);
    sg_buf_printf(&b, ")%s ", sg_db_insert_override(f->to));
    select_head_in(f, &b, f->same_db ? NULL : f->from_schema);
    sg_sql_key_range(f->from, &b, f->n_key, f->from_key, lo, hi, 1);
    sg_flow_filter(f, &b);
    rc = prepare(f->to, &b, &s, err);
    if (!rc)
        rc = sg_sql_bind_range(s, lo, hi, 1, err);
    if (!rc && (rc = sg_db_step(s, err)) >= 0) {
        *rows = sg_db_changes(f->to);
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

/* Streams the scan's rows into the target's bulk loader. */
static int bulk_copy(sg_flow *f, sg_stmt *scan, int64_t *rows, sg_err *err)
{
    sg_bulk *bulk = NULL;
    sg_value v[SG_MAX_COLS];
    int64_t loaded = 0;
    int rc = sg_db_bulk_begin(f->to, f->to_table, f->n_cols,
                                    (const char *const *)f->to_cols, &bulk, err);
    while (!rc && (rc = sg_db_step(scan, err)) == 1)
        if ((rc = sg_flow_values(f, scan, v, true, err)) == 0)
            rc = sg_db_bulk_row(f->to, bulk, v, f->n_cols, err);
    if (bulk) {
        sg_err end_err = { 0 };
        int end = sg_db_bulk_end(f->to, bulk, rc == 0, &loaded, rc ? &end_err : err);
        rc = rc ? rc : end;
    }
    *rows = loaded;
    return rc;
}

/* Across databases: clear the range in the target, then stream the source
 * rows into it: in bulk where the target's driver can, else row by row. */
static int copy_streamed(sg_flow *f, const sg_row *lo, const sg_row *hi,
                         int64_t *rows, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    int rc = 0;
    if (!f->upsert && (rc = sg_flow_prepare(f, err)) != 0)
        return rc;
    if ((rc = clear_range(f, lo, hi, err)) != 0)
        return rc;
    sg_flow_select_head(f, &b);
    sg_sql_key_range(f->from, &b, f->n_key, f->from_key, lo, hi, 1);
    sg_flow_filter(f, &b);
    if ((rc = prepare(f->from, &b, &s, err)) == 0)
        rc = sg_sql_bind_range(s, lo, hi, 1, err);
    *rows = 0;
    if (!rc && sg_db_has_bulk(f->to))
        rc = bulk_copy(f, s, rows, err);
    else
        while (!rc && (rc = sg_db_step(s, err)) == 1) {
            rc = sg_flow_write_row(f, s, err);
            (*rows)++;
        }
    sg_db_finalize(s);
    return rc;
}

int sg_flow_copy_range(sg_flow *f, const sg_row *lo, const sg_row *hi,
                       int64_t *rows, sg_err *err)
{
    return f->same_db || f->from_schema ? copy_in_engine(f, lo, hi, rows, err)
                                        : copy_streamed(f, lo, hi, rows, err);
}

/* SELECT the key columns FROM `from` WHERE the range: into b. */
static void key_select(sg_flow *f, sg_buf *b, const sg_row *lo, const sg_row *hi)
{
    sg_buf_puts(b, "SELECT ");
    sg_sql_ident_list(f->from, b, f->n_key, f->from_key, NULL);
    sg_buf_puts(b, " FROM ");
    sg_db_ident(f->from, b, f->from_table);
    sg_buf_puts(b, " WHERE ");
    sg_sql_key_range(f->from, b, f->n_key, f->from_key, lo, hi, 1);
    sg_buf_puts(b, " ORDER BY ");
    sg_sql_ident_list(f->from, b, f->n_key, f->from_key, NULL);
}

int sg_flow_any_key(sg_flow *f, const sg_row *lo, const sg_row *hi, bool *any, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    *any = false;
    key_select(f, &b, lo, hi);
    sg_buf_puts(&b, " LIMIT 1");
    int rc = prepare(f->from, &b, &s, err);
    if (!rc)
        rc = sg_sql_bind_range(s, lo, hi, 1, err);
    if (!rc && (rc = sg_db_step(s, err)) == 1) {
        *any = true;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

int sg_flow_keys(sg_flow *f, const sg_row *lo, const sg_row *hi, sg_row **keys,
                 size_t *n, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_value v[SG_MAX_KEY];
    size_t cap = 0;
    *keys = NULL;
    *n = 0;
    key_select(f, &b, lo, hi);
    int rc = prepare(f->from, &b, &s, err);
    if (!rc)
        rc = sg_sql_bind_range(s, lo, hi, 1, err);
    while (!rc && (rc = sg_db_step(s, err)) == 1) {
        if (*n == cap) {
            sg_row *more = realloc(*keys, (cap = cap ? cap * 2 : 256) * sizeof *more);
            if (!more) {
                rc = sg_err_set(err, SG_ENOMEM, "out of memory");
                break;
            }
            *keys = more;
        }
        for (size_t k = 0; k < f->n_key; k++)
            sg_db_column(s, (int)k, &v[k]);
        (*keys)[*n] = (sg_row){ 0 };
        rc = sg_row_copy(&(*keys)[*n], v, f->n_key) ? sg_err_set(err, SG_ENOMEM, "out of memory") : 0;
        *n += !rc;
    }
    sg_db_finalize(s);
    return rc > 0 ? 0 : rc;
}

/* One integer key value of `from` by query q (one parameter, $1 = x):
 * *got false when the query returns no row or NULL, or a value that is not
 * an integer (*integer false). */
static int key_probe(sg_flow *f, sg_buf *q, int64_t x, bool bind, int64_t *v,
                     bool *got, bool *integer, sg_err *err)
{
    sg_stmt *s = NULL;
    sg_value val;
    *got = false;
    *integer = true;
    int rc = prepare(f->from, q, &s, err);
    if (!rc && bind)
        rc = sg_db_bind_int(s, 1, x, err);
    if (!rc && (rc = sg_db_step(s, err)) == 1) {
        sg_db_column(s, 0, &val);
        *integer = val.type == SG_V_INT || val.type == SG_V_NULL;
        *got = val.type == SG_V_INT;
        *v = val.i;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

/* "SELECT <fn>(k) FROM from" and, with a bound, " WHERE k > $1" */
static void key_agg(sg_flow *f, sg_buf *b, const char *fn, bool bound)
{
    sg_buf_printf(b, "SELECT %s(", fn);
    sg_db_ident(f->from, b, f->from_key[0]);
    sg_buf_puts(b, ") FROM ");
    sg_db_ident(f->from, b, f->from_table);
    if (bound) {
        sg_buf_puts(b, " WHERE ");
        sg_db_ident(f->from, b, f->from_key[0]);
        sg_buf_puts(b, " > $1");
    }
}

/* For one integer key, the boundary by arithmetic: the first key after lo,
 * plus n - 1, and whether any key lies beyond. Two index probes, where
 * walking n rows (LIMIT 1 OFFSET n - 1) reads every one of them: in
 * SQLite's rowid tables, the whole rows. Sparse keys give chunks of fewer
 * rows, which the chunk sizing (by time) makes up for. *usable false:
 * the key is not an integer; the caller walks. */
static int boundary_by_key(sg_flow *f, const sg_row *lo, int64_t n, sg_row *out,
                           bool *found, bool *usable, sg_err *err)
{
    sg_buf q = SG_BUF_INIT;
    int64_t first = 0, hi, beyond;
    bool got = false, more = false;
    *usable = f->n_key == 1 && (!lo || lo->v[0].type == SG_V_INT);
    if (!*usable)
        return 0;
    key_agg(f, &q, "min", lo != NULL);
    /* key_probe frees q */
    int rc = key_probe(f, &q, lo ? lo->v[0].i : 0, lo != NULL, &first, &got, usable, err);
    if (rc || !*usable || !got || first > INT64_MAX - n)
        return rc; /* no key after lo, or too near the top: the rest at once */
    hi = first + (n > 0 ? n - 1 : 0);
    key_agg(f, &q, "min", true);
    rc = key_probe(f, &q, hi, true, &beyond, &more, usable, err);
    if (rc || !more)
        return rc;
    sg_value v = { .type = SG_V_INT, .i = hi };
    rc = sg_row_copy(out, &v, 1) ? sg_err_set(err, SG_ENOMEM, "out of memory") : 0;
    *found = rc == 0;
    return rc;
}

int sg_flow_key_span(sg_flow *f, int64_t *n, sg_err *err)
{
    sg_buf q = SG_BUF_INIT;
    int64_t lo = 0, hi = 0;
    bool got_lo = false, got_hi = false, integer = false;
    *n = -1;
    if (f->n_key != 1)
        return 0;
    key_agg(f, &q, "min", false);
    int rc = key_probe(f, &q, 0, false, &lo, &got_lo, &integer, err);
    if (!rc && got_lo) {
        key_agg(f, &q, "max", false);
        rc = key_probe(f, &q, 0, false, &hi, &got_hi, &integer, err);
    }
    if (!rc && got_lo && got_hi && hi >= lo && hi - lo < INT64_MAX)
        *n = hi - lo + 1;
    else if (!rc && !got_lo && integer)
        *n = 0;
    return rc;
}

int sg_flow_boundary(sg_flow *f, const sg_row *lo, int64_t n, sg_row *out,
                     bool *found, sg_err *err)
{
    bool usable;
    *found = false;
    int rc = boundary_by_key(f, lo, n, out, found, &usable, err);
    if (rc || usable)
        return rc;
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_value v[SG_MAX_KEY];
    key_select(f, &b, lo, NULL);
    sg_buf_printf(&b, " LIMIT 1 OFFSET %lld", (long long)(n > 0 ? n - 1 : 0));
    rc = prepare(f->from, &b, &s, err);
    if (!rc)
        rc = sg_sql_bind_range(s, lo, NULL, 1, err);
    if (!rc && (rc = sg_db_step(s, err)) == 1) {
        for (size_t k = 0; k < f->n_key; k++)
            sg_db_column(s, (int)k, &v[k]);
        rc = sg_row_copy(out, v, f->n_key) ? sg_err_set(err, SG_ENOMEM, "out of memory") : 0;
        *found = rc == 0;
    }
    sg_db_finalize(s);
    return rc;
}

static int read_one(sg_flow *f, sg_stmt *s, sg_row *out, bool *found, sg_err *err)
{
    sg_value v[SG_MAX_COLS];
    int rc = sg_db_step(s, err);
    *found = rc == 1;
    if (rc == 1 && (rc = sg_flow_values(f, s, v, false, err)) == 0)
        rc = sg_row_copy(out, v, f->n_cols) ? sg_err_set(err, SG_ENOMEM, "out of memory") : 0;
    sg_db_reset(s);
    return rc;
}

int sg_flow_read_from(sg_flow *f, const sg_value *key, sg_row *out, bool *found,
                      sg_err *err)
{
    int rc = 0;
    if (!f->read_key && (rc = sg_flow_prepare(f, err)) != 0)
        return rc;
    for (size_t k = 0; k < f->n_key && !rc; k++)
        rc = sg_db_bind(f->read_key, (int)k + 1, &key[k], err);
    return rc ? rc : read_one(f, f->read_key, out, found, err);
}

int sg_flow_read_to(sg_flow *f, const sg_value *key, sg_row *out, bool *found,
                    sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_buf_puts(&b, "SELECT ");
    sg_sql_ident_list(f->to, &b, f->n_cols, f->to_cols, NULL);
    sg_buf_puts(&b, " FROM ");
    sg_db_ident(f->to, &b, f->to_table);
    sg_buf_puts(&b, " WHERE ");
    key_equals(f->to, &b, f->n_key, f->to_key, 1);
    int rc = prepare(f->to, &b, &s, err);
    for (size_t k = 0; k < f->n_key && !rc; k++)
        rc = sg_db_bind(s, (int)k + 1, &key[k], err);
    if (!rc)
        rc = read_one(f, s, out, found, err);
    sg_db_finalize(s);
    return rc;
}

void sg_flow_scan_sql(sg_flow *f, bool to_side, const sg_row *lo, const sg_row *hi,
                      bool ordered, sg_buf *b)
{
    sg_conn *c = to_side ? f->to : f->from;
    char **key = to_side ? f->to_key : f->from_key;
    if (to_side) {
        sg_buf_puts(b, "SELECT ");
        sg_sql_ident_list(c, b, f->n_cols, f->to_cols, NULL);
        sg_buf_puts(b, " FROM ");
        sg_db_ident(c, b, f->to_table);
        sg_buf_puts(b, " WHERE ");
    } else {
        sg_flow_select_head(f, b);
    }
    sg_sql_key_range(c, b, f->n_key, key, lo, hi, 1);
    if (!to_side)
        sg_flow_filter(f, b);
    if (ordered) {
        sg_buf_puts(b, " ORDER BY ");
        sg_sql_ident_list(c, b, f->n_key, key, NULL);
    }
}

int sg_flow_scan(sg_flow *f, bool to_side, const sg_row *lo, const sg_row *hi,
                 sg_stmt **out, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    *out = NULL;
    sg_flow_scan_sql(f, to_side, lo, hi, true, &b);
    int rc = prepare(to_side ? f->to : f->from, &b, out, err);
    if (!rc && (rc = sg_sql_bind_range(*out, lo, hi, 1, err)) != 0) {
        sg_db_finalize(*out);
        *out = NULL;
    }
    return rc;
}
