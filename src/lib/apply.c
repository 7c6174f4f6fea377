/* Apply: drain a changelog. Fetch a batch, dedupe the keys, sync each key
 * through every mapping of its table, commit, then delete exactly the drained
 * entries by id (never a high-water mark: ids commit out of order). */
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "control.h"
#include "tx.h"

typedef struct batch {
    size_t n;          /* entries fetched */
    int64_t *ids;
    size_t n_keys;     /* distinct keys */
    sg_row *keys;
} batch;

static void batch_free(batch *b)
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

static void dedupe(batch *b)
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

/* Grows the batch arrays on demand (an empty changelog allocates nothing). */
static int batch_grow(batch *b, size_t *cap)
{
    if (b->n < *cap)
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

/* Up to `limit` entries with id > after, oldest first, keys deduped. */
static int fetch(sg_migration *m, sg_conn *c, const char *log, size_t n_key,
                 int64_t after, int64_t limit, batch *b)
{
    sg_buf q = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_value v[17];
    size_t cap = 0;
    sg_buf_puts(&q, "SELECT id");
    for (size_t k = 0; k < n_key; k++)
        sg_buf_printf(&q, ", k%zu", k);
    sg_buf_puts(&q, " FROM ");
    sg_db_control(c, &q, log);
    sg_buf_puts(&q, " WHERE id > ");
    sg_db_param(c, &q, 1);
    sg_buf_printf(&q, " ORDER BY id LIMIT %lld", (long long)limit);
    int rc = sg_db_prepare(c, sg_buf_str(&q), &s, &m->err);
    sg_buf_free(&q);
    if (!rc)
        rc = sg_db_bind_int(s, 1, after, &m->err);
    while (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        if (batch_grow(b, &cap)) {
            rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
            break;
        }
        b->ids[b->n++] = sg_db_column_int(s, 0);
        for (size_t k = 0; k < n_key; k++)
            sg_db_column(s, (int)k + 1, &v[k]);
        rc = sg_row_copy(&b->keys[b->n_keys++], v, n_key)
                 ? sg_err_set(&m->err, SG_ENOMEM, "out of memory") : 0;
    }
    sg_db_finalize(s);
    if (!rc)
        dedupe(b);
    return rc;
}

static int sync_keys(sg_migration *m, sg_dir d, size_t g, const batch *b)
{
    for (size_t i = 0; i < m->n_maps; i++) {
        if (m->maps[i].group != g)
            continue;
        sg_flow *f = d == SG_FORWARD ? &m->maps[i].fwd : &m->maps[i].rev;
        int rc = sg_flow_sync_many(f, b->keys, b->n_keys, &m->err);
        if (rc) {
            sg_err_prefix(&m->err, "applying %zu changed keys of %s: ", b->n_keys,
                          m->maps[i].label);
            return rc;
        }
    }
    return 0;
}

static int delete_ids(sg_migration *m, sg_conn *c, const char *log, const batch *b)
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
        rc = sg_db_prepare(c, sg_buf_str(&q), &s, &m->err);
        sg_buf_free(&q);
        for (size_t i = 0; i < n && !rc; i++)
            rc = sg_db_bind_int(s, (int)i + 1, b->ids[at + i], &m->err);
        if (!rc && (rc = sg_db_step(s, &m->err)) > 0)
            rc = 0;
        sg_db_finalize(s);
    }
    return rc;
}

/* Inside the apply transaction: whether the phase still sends changes this
 * way. A write cutover or rollback that committed since the batch was
 * fetched makes the batch stale: it must not overwrite newer writes, and the
 * next round drains the other way. */
static int check_direction(sg_migration *m, sg_dir d, bool *stale)
{
    sg_phase ph;
    int rc = sg_control_phase(m, &ph);
    bool reverse = ph >= SG_PHASE_WRITES_SWITCHED && ph != SG_PHASE_CLEANED;
    *stale = !rc && reverse != (d == SG_REVERSE);
    return rc;
}

/* One batch of one group: the sync commits before the delete, so a crash in
 * between only replays (sync is idempotent). */
static int drain_group(sg_migration *m, sg_dir d, size_t g, int64_t limit,
                       bool in_tx, int64_t *applied)
{
    sg_conn *logc = d == SG_FORWARD ? m->src : m->tgt;
    sg_conn *dst = d == SG_FORWARD ? m->tgt : m->src;
    const char *log = d == SG_FORWARD ? m->groups[g].log : m->groups[g].rlog;
    batch b = { 0 };
    bool stale = false;
    int rc = fetch(m, logc, log, m->groups[g].n_key, 0, limit, &b);
    if (rc || b.n == 0)
        goto done;
    if (!in_tx && (rc = sg_tx_begin(dst, &m->err)) != 0)
        goto done;
    if (!in_tx && (rc = check_direction(m, d, &stale)) == 0 && stale) {
        sg_tx_rollback(dst);
        goto done;
    }
    if (!rc)
        rc = sync_keys(m, d, g, &b);
    if (!rc && (in_tx || logc == dst))
        rc = delete_ids(m, logc, log, &b);
    if (!in_tx && !rc)
        rc = sg_tx_commit(dst, &m->err);
    else if (!in_tx)
        sg_tx_rollback(dst);
    if (!rc && !in_tx && logc != dst) {
        if ((rc = sg_tx_begin(logc, &m->err)) == 0 &&
            (rc = delete_ids(m, logc, log, &b)) == 0)
            rc = sg_tx_commit(logc, &m->err);
        else
            sg_tx_rollback(logc);
    }
    if (!rc)
        *applied += (int64_t)b.n;
done:
    batch_free(&b);
    return rc;
}

int sg_apply_drain(sg_migration *m, sg_dir d, int64_t limit, bool in_tx,
                   int64_t *applied)
{
    *applied = 0;
    for (size_t g = 0; g < m->n_groups; g++) {
        int rc = drain_group(m, d, g, limit, in_tx, applied);
        if (rc)
            return rc;
    }
    return 0;
}

int sg_apply_drain_all(sg_migration *m, sg_dir d, bool in_tx, int64_t *total)
{
    int64_t n = 0;
    int rc;
    *total = 0;
    do {
        rc = sg_apply_drain(m, d, 10000, in_tx, &n);
        *total += n;
    } while (!rc && n > 0);
    return rc;
}

int sg_apply_keep(sg_migration *m, sg_dir d, const int64_t *after, int64_t *upto,
                  int64_t *applied)
{
    sg_conn *logc = d == SG_FORWARD ? m->src : m->tgt;
    int rc = 0;
    *applied = 0;
    for (size_t g = 0; g < m->n_groups && !rc; g++) {
        const char *log = d == SG_FORWARD ? m->groups[g].log : m->groups[g].rlog;
        upto[g] = after ? after[g] : 0;
        for (;;) {
            batch b = { 0 };
            rc = fetch(m, logc, log, m->groups[g].n_key, upto[g], 10000, &b);
            if (!rc && b.n)
                rc = sync_keys(m, d, g, &b);
            if (!rc && b.n) {
                upto[g] = b.ids[b.n - 1];
                *applied += (int64_t)b.n;
            }
            size_t n = b.n;
            batch_free(&b);
            if (rc || n == 0)
                break;
        }
    }
    return rc;
}

int sg_apply_forget(sg_migration *m, sg_dir d, const int64_t *upto)
{
    sg_conn *c = d == SG_FORWARD ? m->src : m->tgt;
    int rc = 0;
    for (size_t g = 0; g < m->n_groups && !rc; g++) {
        sg_buf q = SG_BUF_INIT;
        sg_stmt *s = NULL;
        sg_buf_puts(&q, "DELETE FROM ");
        sg_db_control(c, &q, d == SG_FORWARD ? m->groups[g].log : m->groups[g].rlog);
        sg_buf_puts(&q, " WHERE id <= ");
        sg_db_param(c, &q, 1);
        rc = sg_db_prepare(c, sg_buf_str(&q), &s, &m->err);
        sg_buf_free(&q);
        if (!rc)
            rc = sg_db_bind_int(s, 1, upto[g], &m->err);
        if (!rc && (rc = sg_db_step(s, &m->err)) > 0)
            rc = 0;
        sg_db_finalize(s);
    }
    return rc;
}

int sg_apply_pending(sg_migration *m, sg_dir d, int64_t *pending, int64_t *lag_ms)
{
    sg_conn *c = d == SG_FORWARD ? m->src : m->tgt;
    int64_t oldest = 0;
    *pending = 0;
    for (size_t g = 0; g < m->n_groups; g++) {
        sg_buf q = SG_BUF_INIT;
        sg_stmt *s = NULL;
        sg_buf_puts(&q, "SELECT count(*), min(at) FROM ");
        sg_db_control(c, &q, d == SG_FORWARD ? m->groups[g].log : m->groups[g].rlog);
        int rc = sg_db_prepare(c, sg_buf_str(&q), &s, &m->err);
        sg_buf_free(&q);
        if (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
            int64_t n = sg_db_column_int(s, 0), at = sg_db_column_int(s, 1);
            *pending += n;
            if (n && (!oldest || at < oldest))
                oldest = at;
            rc = 0;
        }
        sg_db_finalize(s);
        if (rc)
            return rc;
    }
    *lag_ms = oldest ? sg_now_ms() - oldest : 0;
    if (*lag_ms < 0)
        *lag_ms = 0;
    return 0;
}
