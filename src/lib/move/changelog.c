/* Reading and deleting changelog entries (see changelog.h). Drained entries
 * are deleted by id, never skipped by a high-water mark: ids commit out of
 * order (DESIGN.md item 4). */
#include <stdlib.h>
#include <string.h>

#include "move/changelog.h"

void sg_batch_free(sg_batch *b)
{
    for (size_t i = 0; i < b->n_keys; i++)
        sg_row_free(&b->keys[i]);
    free(b->keys);
    free(b->ids);
    memset(b, 0, sizeof *b);
}

static int cmp_row(const void *a, const void *b)
{
    const sg_row *x = a, *y = b;
    for (size_t i = 0; i < x->n; i++) {
        int c = sg_value_cmp(&x->v[i], &y->v[i]);
        if (c)
            return c;
    }
    return 0;
}

static void dedupe(sg_batch *b)
{
    if (b->n_keys < 2)
        return;
    qsort(b->keys, b->n_keys, sizeof *b->keys, cmp_row);
    size_t w = 1;
    for (size_t r = 1; r < b->n_keys; r++) {
        if (cmp_row(&b->keys[r], &b->keys[w - 1]) == 0)
            sg_row_free(&b->keys[r]);
        else
            b->keys[w++] = b->keys[r];
    }
    b->n_keys = w;
}

/* Room for one more entry and key (an empty changelog allocates nothing). */
static int batch_grow(sg_batch *b, size_t *cap)
{
    if (b->n_keys < *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 64;
    int64_t *ids = realloc(b->ids, n * sizeof *ids);
    if (ids)
        b->ids = ids;
    sg_row *keys = realloc(b->keys, n * sizeof *keys);
    if (keys)
        b->keys = keys;
    if (!ids || !keys)
        return -1;
    *cap = n;
    return 0;
}

/* Steps s to its end, copying columns first.. (n_key of them) of each row
 * as a key, and the id in column 0 when with_id. */
static int read_keys(sg_err *e, sg_stmt *s, size_t n_key, int first,
                     bool with_id, sg_batch *b)
{
    sg_value v[SG_MAX_KEY];
    size_t cap = 0;
    int rc;
    while ((rc = sg_db_step(s, e)) == 1) {
        if (batch_grow(b, &cap))
            return sg_err_set(e, SG_ENOMEM, "out of memory");
        if (with_id)
            b->ids[b->n++] = sg_db_column_int(s, 0);
        for (size_t k = 0; k < n_key; k++)
            sg_db_column(s, (int)k + first, &v[k]);
        if (sg_row_copy(&b->keys[b->n_keys++], v, n_key))
            return sg_err_set(e, SG_ENOMEM, "out of memory");
    }
    if (!rc)
        dedupe(b);
    return rc;
}

int sg_changelog_fetch(sg_err *e, sg_conn *c, const char *log, size_t n_key,
                       int64_t after, int64_t limit, sg_batch *b)
{
    sg_buf q = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_buf_puts(&q, "SELECT id");
    for (size_t k = 0; k < n_key; k++)
        sg_buf_printf(&q, ", k%zu", k);
    sg_buf_puts(&q, " FROM ");
    sg_db_control(c, &q, log);
    sg_buf_puts(&q, " WHERE id > ");
    sg_db_param(c, &q, 1);
    sg_buf_printf(&q, " ORDER BY id LIMIT %lld", (long long)limit);
    int rc = sg_db_prepare(c, sg_buf_str(&q), &s, e);
    sg_buf_free(&q);
    if (!rc)
        rc = sg_db_bind_int(s, 1, after, e);
    if (!rc)
        rc = read_keys(e, s, n_key, 1, true, b);
    sg_db_finalize(s);
    return rc;
}

/* Prepares the driver's statement `what` (one that returns rows) for
 * changelog log; binds $1 = arg where it has one. */
static int stmtlog_prepare(sg_err *e, sg_conn *c, sg_stmtlog what, const char *log,
                           size_t n_key, int64_t arg, sg_stmt **s)
{
    sg_buf q = SG_BUF_INIT;
    sg_db_stmtlog_sql(c, &q, what, log, n_key);
    int rc = sg_buf_failed(&q) ? sg_err_set(e, SG_ENOMEM, "out of memory")
                               : sg_db_prepare(c, sg_buf_str(&q), s, e);
    sg_buf_free(&q);
    if (!rc && what != SG_STMTLOG_PENDING)
        rc = sg_db_bind_int(*s, 1, arg, e);
    return rc;
}

void sg_changelog_key_sql(const sg_conn *c, const char *log, size_t n_key, sg_buf *q)
{
    sg_buf_puts(q, "SELECT 1 WHERE EXISTS (SELECT 1 FROM ");
    sg_db_control(c, q, log);
    for (size_t k = 0; k < n_key; k++) {
        sg_buf_printf(q, " %s k%zu = ", k ? "AND" : "WHERE", k);
        sg_db_param(c, q, (int)k + 1);
    }
    sg_buf_puts(q, ")");
    if (!sg_db_has_stmtlog(c))
        return;
    sg_buf_puts(q, " OR EXISTS (");
    sg_db_stmtlog_sql(c, q, SG_STMTLOG_ANY, log, n_key);
    sg_buf_puts(q, ")");
}

/* Prepares q (then frees it), binds $1 = arg unless it has no parameter,
 * and runs it to its end (a statement with no rows). */
static int exec_arg(sg_err *e, sg_conn *c, sg_buf *q, bool has_arg, int64_t arg)
{
    sg_stmt *s = NULL;
    int rc = sg_buf_failed(q) ? sg_err_set(e, SG_ENOMEM, "out of memory")
                              : sg_db_prepare(c, sg_buf_str(q), &s, e);
    sg_buf_free(q);
    if (!rc && has_arg)
        rc = sg_db_bind_int(s, 1, arg, e);
    if (!rc && (rc = sg_db_step(s, e)) > 0)
        rc = 0;
    sg_db_finalize(s);
    return rc;
}

/* Runs the driver's statement `what` (one with no rows) with $1 = arg. */
static int stmtlog_exec(sg_err *e, sg_conn *c, sg_stmtlog what, const char *log,
                        int64_t arg)
{
    sg_buf q = SG_BUF_INIT;
    sg_db_stmtlog_sql(c, &q, what, log, 0);
    return exec_arg(e, c, &q, what != SG_STMTLOG_DROP, arg);
}

/* The oldest statement entry with id > after: *id (0: none) and *n keys. */
static int stmt_next(sg_err *e, sg_conn *c, const char *log, int64_t after,
                     int64_t *id, int64_t *n)
{
    sg_stmt *s = NULL;
    *id = *n = 0;
    int rc = stmtlog_prepare(e, c, SG_STMTLOG_NEXT, log, 0, after, &s);
    if (!rc && (rc = sg_db_step(s, e)) == 1) {
        *id = sg_db_column_int(s, 0);
        *n = sg_db_column_int(s, 1);
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

int sg_changelog_fetch_stmt(sg_err *e, sg_conn *c, const char *log, size_t n_key,
                            const sg_stmt_pos *pos, int64_t limit, sg_batch *b)
{
    if (!sg_db_has_stmtlog(c))
        return 0;
    int64_t id = pos->id, n = pos->n, from = pos->done + 1;
    int rc = 0;
    if (!id && ((rc = stmt_next(e, c, log, pos->after, &id, &n)) != 0 || !id))
        return rc;
    sg_stmt *s = NULL;
    b->stmt_id = id;
    b->stmt_n = n;
    b->stmt_end = from + limit - 1 < n ? from + limit - 1 : n;
    rc = stmtlog_prepare(e, c, SG_STMTLOG_KEYS, log, n_key, id, &s);
    if (!rc && !(rc = sg_db_bind_int(s, 2, from, e)))
        rc = sg_db_bind_int(s, 3, b->stmt_end, e);
    if (!rc)
        rc = read_keys(e, s, n_key, 0, false, b);
    sg_db_finalize(s);
    /* no keys: the entry is gone (another switch applied it) or ends here */
    b->stmt_last = b->stmt_end >= n || b->n_keys == 0;
    return rc;
}

void sg_changelog_advance(sg_stmt_pos *pos, const sg_batch *b, bool advance)
{
    if (!b->stmt_id)
        return;
    if (b->stmt_last) {
        pos->after = advance ? b->stmt_id : pos->after;
        pos->id = pos->n = pos->done = 0;
        return;
    }
    pos->id = b->stmt_id;
    pos->n = b->stmt_n;
    pos->done = b->stmt_end;
}

static int delete_ids(sg_err *e, sg_conn *c, const char *log, const sg_batch *b)
{
    int rc = 0;
    for (size_t at = 0; at < b->n && !rc; at += 256) {
        size_t n = b->n - at < 256 ? b->n - at : 256;
        sg_buf q = SG_BUF_INIT;
        sg_stmt *s = NULL;
        sg_buf_puts(&q, "DELETE FROM ");
        sg_db_control(c, &q, log);
        sg_buf_puts(&q, " WHERE id IN (");
        for (size_t i = 0; i < n; i++) {
            sg_buf_puts(&q, i ? ", " : "");
            sg_db_param(c, &q, (int)i + 1);
        }
        sg_buf_puts(&q, ")");
        rc = sg_db_prepare(c, sg_buf_str(&q), &s, e);
        sg_buf_free(&q);
        for (size_t i = 0; i < n && !rc; i++)
            rc = sg_db_bind_int(s, (int)i + 1, b->ids[at + i], e);
        if (!rc && (rc = sg_db_step(s, e)) > 0)
            rc = 0;
        sg_db_finalize(s);
    }
    return rc;
}

int sg_changelog_delete(sg_err *e, sg_conn *c, const char *log, const sg_batch *b)
{
    int rc = delete_ids(e, c, log, b);
    if (!rc && b->stmt_id && b->stmt_last)
        rc = stmtlog_exec(e, c, SG_STMTLOG_DELETE, log, b->stmt_id);
    return rc;
}

int sg_changelog_forget(sg_err *e, sg_conn *c, const char *log, int64_t upto)
{
    sg_buf q = SG_BUF_INIT;
    sg_buf_puts(&q, "DELETE FROM ");
    sg_db_control(c, &q, log);
    sg_buf_puts(&q, " WHERE id <= ");
    sg_db_param(c, &q, 1);
    int rc = exec_arg(e, c, &q, true, upto);
    if (!rc && sg_db_has_stmtlog(c))
        rc = stmtlog_exec(e, c, SG_STMTLOG_FORGET, log, upto);
    return rc;
}

/* Adds the count, oldest and newest times a "SELECT count, min(at),
 * max(at)" returns. */
static int add_pending(sg_err *e, sg_stmt *s, int64_t *pending, int64_t *oldest,
                       int64_t *newest)
{
    int rc = sg_db_step(s, e);
    if (rc != 1)
        return rc;
    int64_t n = sg_db_column_int(s, 0), at = sg_db_column_int(s, 1);
    int64_t last = sg_db_column_int(s, 2);
    *pending += n;
    if (n && (!*oldest || at < *oldest))
        *oldest = at;
    if (n && newest && last > *newest)
        *newest = last;
    return 0;
}

int sg_changelog_pending(sg_err *e, sg_conn *c, const char *log, size_t n_key,
                         int64_t *pending, int64_t *oldest_at, int64_t *newest_at)
{
    sg_buf q = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_buf_puts(&q, "SELECT count(*), min(at), max(at) FROM ");
    sg_db_control(c, &q, log);
    int rc = sg_db_prepare(c, sg_buf_str(&q), &s, e);
    sg_buf_free(&q);
    if (!rc)
        rc = add_pending(e, s, pending, oldest_at, newest_at);
    sg_db_finalize(s);
    s = NULL;
    if (!rc && sg_db_has_stmtlog(c) &&
        !(rc = stmtlog_prepare(e, c, SG_STMTLOG_PENDING, log, n_key, 0, &s)))
        rc = add_pending(e, s, pending, oldest_at, newest_at);
    sg_db_finalize(s);
    return rc;
}

int sg_changelog_oldest(sg_err *e, sg_conn *c, const char *log, size_t n_key,
                        int64_t *oldest_at)
{
    sg_buf q = SG_BUF_INIT;
    sg_stmt *s = NULL;
    int64_t n = 0;
    sg_buf_puts(&q, "SELECT 1, at, at FROM ");
    sg_db_control(c, &q, log);
    sg_buf_puts(&q, " ORDER BY id LIMIT 1");
    int rc = sg_buf_failed(&q) ? sg_err_set(e, SG_ENOMEM, "out of memory")
                               : sg_db_prepare(c, sg_buf_str(&q), &s, e);
    sg_buf_free(&q);
    if (!rc)
        rc = add_pending(e, s, &n, oldest_at, NULL);
    sg_db_finalize(s);
    s = NULL;
    if (!rc && sg_db_has_stmtlog(c) &&
        !(rc = stmtlog_prepare(e, c, SG_STMTLOG_PENDING, log, n_key, 0, &s)))
        rc = add_pending(e, s, &n, oldest_at, NULL);
    sg_db_finalize(s);
    return rc;
}

int sg_changelog_drop(sg_err *e, sg_conn *c, const char *log)
{
    int rc = sg_db_has_stmtlog(c) ? stmtlog_exec(e, c, SG_STMTLOG_DROP, log, 0) : 0;
    if (rc)
        return rc;
    sg_buf q = SG_BUF_INIT;
    sg_buf_puts(&q, "DROP TABLE IF EXISTS ");
    sg_db_control(c, &q, log);
    rc = sg_db_exec(c, sg_buf_str(&q), e);
    sg_buf_free(&q);
    return rc;
}

int sg_changelog_push(sg_err *e, sg_conn *c, const char *log, const sg_row *key)
{
    sg_buf q = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_buf_puts(&q, "INSERT INTO ");
    sg_db_control(c, &q, log);
    sg_buf_puts(&q, " (at");
    for (size_t k = 0; k < key->n; k++)
        sg_buf_printf(&q, ", k%zu", k);
    sg_buf_puts(&q, ") VALUES (");
    for (size_t k = 0; k <= key->n; k++) {
        sg_buf_puts(&q, k ? ", " : "");
        sg_db_param(c, &q, (int)k + 1);
    }
    sg_buf_puts(&q, ")");
    int rc = sg_buf_failed(&q) ? sg_err_set(e, SG_ENOMEM, "out of memory")
                               : sg_db_prepare(c, sg_buf_str(&q), &s, e);
    sg_buf_free(&q);
    if (!rc)
        rc = sg_db_bind_int(s, 1, sg_now_ms(), e);
    for (size_t k = 0; k < key->n && !rc; k++)
        rc = sg_db_bind(s, (int)k + 2, &key->v[k], e);
    if (!rc && (rc = sg_db_step(s, e)) > 0)
        rc = 0;
    sg_db_finalize(s);
    return rc;
}
