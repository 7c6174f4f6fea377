/* Apply: drain a changelog. Fetch a batch, dedupe the keys, sync each key
 * through every mapping of its table, commit, then delete exactly the drained
 * entries by id (never a high-water mark: ids commit out of order; and never
 * reused, so a late delete cannot hit a newer entry), behind the lease
 * fence like every write. A statement entry is applied in slices of the
 * batch size, one per drain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/aside.h"
#include "move/apply.h"
#include "move/capture.h"
#include "move/changelog.h"
#include "move/displace.h"
#include "state/control.h"
#include "state/lease.h"
#include "base/testpoint.h"
#include "move/tx.h"

static int sync_keys(sg_migration *m, sg_dir d, size_t g, const sg_batch *b)
{
    /* a test's fault only (testpoint.h) */
    size_t lose = d == SG_REVERSE && sg_test_faulty("apply:lose-reverse") ? b->n_keys : 0;
    for (size_t i = 0; i < m->n_maps; i++) {
        if (m->maps[i].group != g)
            continue;
        sg_flow *f = d == SG_FORWARD ? &m->maps[i].fwd : &m->maps[i].rev;
        int rc = sg_flow_sync_many(f, b->keys + lose, b->n_keys - lose, &m->err);
        if (rc) {
            sg_err_prefix(&m->err, "applying %zu changed keys of %s: ", b->n_keys,
                          m->maps[i].label);
            return rc;
        }
    }
    return 0;
}

int sg_apply_sync(sg_migration *m, sg_dir d, size_t g, const sg_row *keys, size_t n)
{
    sg_batch b = { .n_keys = n, .keys = (sg_row *)keys };
    return sync_keys(m, d, g, &b);
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

/* Whether group g has a changelog in direction d: a table whose every
 * mapping says reverse: none has no reverse capture. */
static bool has_log(const sg_migration *m, sg_dir d, size_t g)
{
    if (d == SG_FORWARD)
        return true;
    for (size_t i = 0; i < m->n_maps; i++)
        if (m->maps[i].group == g && !m->maps[i].spec->no_reverse)
            return true;
    return false;
}

static sg_conn *log_conn(sg_migration *m, sg_dir d)
{
    return d == SG_FORWARD ? m->src : m->tgt;
}

static const char *log_name(sg_migration *m, sg_dir d, size_t g)
{
    return d == SG_FORWARD ? m->groups[g].log : m->groups[g].rlog;
}

/* Changelog reads of group g in direction d (changelog.h), on the handle's error. */
static int fetch(sg_migration *m, sg_dir d, size_t g, int64_t after, int64_t limit,
                 sg_batch *b)
{
    return sg_changelog_fetch(&m->err, log_conn(m, d), log_name(m, d, g),
                              m->groups[g].n_key, after, limit, b);
}

static int fetch_stmt(sg_migration *m, sg_dir d, size_t g, const sg_stmt_pos *pos,
                      int64_t limit, sg_batch *b)
{
    return sg_changelog_fetch_stmt(&m->err, log_conn(m, d), log_name(m, d, g),
                                   m->groups[g].n_key, pos, limit, b);
}

bool sg_apply_data_error(sg_migration *m, int rc)
{
    return rc == SG_EDB && m->err.data && !sg_db_lost(m->src) && !sg_db_lost(m->tgt);
}

/* The set-aside records of b's keys go once they are written. */
static int clear_keys(sg_migration *m, sg_dir d, size_t g, const sg_row *keys, size_t n)
{
    int rc = sg_tx_begin(m->tgt, &m->err);
    for (size_t k = 0; k < n && !rc; k++)
        rc = sg_aside_clear(m, d, g, &keys[k]);
    if (!rc)
        return sg_tx_commit(m->tgt, &m->err);
    sg_tx_rollback(m->tgt);
    return rc;
}

/* A key a unique index refused: in a transaction of its own, the rows that
 * hold its values are displaced (displace.h). 0: written and committed;
 * 1: nothing held them (the caller sets the key aside); else the error. */
static int displace_one(sg_migration *m, sg_dir d, size_t g, const sg_row *key)
{
    sg_conn *dst = d == SG_FORWARD ? m->tgt : m->src;
    sg_err first = m->err;
    bool done = false;
    int rc = sg_tx_begin(dst, &m->err);
    if (!rc && (rc = sg_displace_sync(m, d, g, key, &done)) == 0 && done &&
        (rc = sg_lease_commit(m, dst)) == 0)
        return clear_keys(m, d, g, key, 1);
    sg_tx_rollback(dst);
    if (!rc && !done) {
        m->err = first;
        return 1;
    }
    return rc;
}

/* After a batch failed on its data: each key alone, in its own
 * transaction; a key that fails on its data is set aside with its error
 * (aside.h) and the others go on. */
static int sync_each(sg_migration *m, sg_dir d, size_t g, const sg_batch *b)
{
    sg_conn *dst = d == SG_FORWARD ? m->tgt : m->src;
    int rc = 0;
    for (size_t k = 0; k < b->n_keys && !rc; k++) {
        sg_batch one = { .n_keys = 1, .keys = &b->keys[k] };
        if ((rc = sg_tx_begin(dst, &m->err)) != 0)
            break;
        if ((rc = sync_keys(m, d, g, &one)) == 0) {
            if ((rc = sg_lease_commit(m, dst)) == 0)
                rc = clear_keys(m, d, g, &b->keys[k], 1);
            continue;
        }
        sg_tx_rollback(dst);
        if (sg_apply_data_error(m, rc) && m->err.unique &&
            (rc = displace_one(m, d, g, &b->keys[k])) <= 0) {
            if (rc == 0)
                continue; /* written, with the rows that held its values */
            if (!sg_apply_data_error(m, rc))
                break;
        } else if (!sg_apply_data_error(m, rc)) {
            break;
        }
        char why[SG_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", m->err.msg);
        sg_log(m, SG_LOG_WARN, "set aside: %s; the worker goes on with the other "
               "keys (fix the row, then `segue retry`)", why);
        rc = sg_aside_record(m, d, g, &b->keys[k], why);
    }
    return rc;
}

int sg_apply_each(sg_migration *m, sg_dir d, size_t g, const sg_row *keys, size_t n)
{
    sg_batch b = { .n_keys = n, .keys = (sg_row *)keys };
    return sync_each(m, d, g, &b);
}

/* Applies batch b of group g and deletes its entries. The sync commits
 * before the delete, so a crash in between only replays (sync is
 * idempotent). *done: applied and deleted; false when the batch was found
 * stale, which is no error. With in_tx the caller's transactions (a write
 * fence) take everything, and a failure fails the caller. */
static int apply_batch(sg_migration *m, sg_dir d, size_t g, const sg_batch *b,
                       bool in_tx, bool *done)
{
    sg_conn *logc = log_conn(m, d);
    sg_conn *dst = d == SG_FORWARD ? m->tgt : m->src;
    const char *log = log_name(m, d, g);
    bool stale = false, deleted = false, aside = false;
    int rc = 0;
    *done = false;
    if (in_tx) {
        if ((rc = sync_keys(m, d, g, b)) == 0)
            rc = sg_changelog_delete(&m->err, logc, log, b);
        *done = !rc;
        return rc;
    }
    if ((rc = sg_aside_any(m, d, g, &aside)) != 0 || (rc = sg_tx_begin(dst, &m->err)) != 0)
        return rc;
    if ((rc = check_direction(m, d, &stale)) == 0 && stale) {
        sg_tx_rollback(dst);
        return 0;
    }
    if (!rc)
        sg_test_point("apply:checked");
    if (!rc)
        rc = sync_keys(m, d, g, b);
    if (!rc)
        sg_test_point("apply:synced");
    if (!rc && logc == dst)
        rc = sg_changelog_delete(&m->err, logc, log, b);
    if (!rc && (rc = sg_lease_commit(m, dst)) == 0)
        deleted = logc == dst;
    else if (rc)
        sg_tx_rollback(dst);
    if (rc && sg_apply_data_error(m, rc))
        rc = sync_each(m, d, g, b);
    else if (!rc && aside)
        rc = clear_keys(m, d, g, b->keys, b->n_keys);
    if (!rc && !deleted) {
        /* fenced too: a worker that lost its lease deletes nothing */
        sg_test_point("apply:committed");
        if ((rc = sg_tx_begin(logc, &m->err)) == 0 &&
            (rc = sg_changelog_delete(&m->err, logc, log, b)) == 0)
            rc = sg_lease_commit(m, logc);
        else
            sg_tx_rollback(logc);
    }
    *done = !rc;
    return rc;
}

/* Statement entries of group g: one slice of `limit` keys, remembered in
 * the group's drain position; with in_tx every entry, whole, since the
 * caller's transaction may still roll back what a position would skip. */
static int drain_stmt(sg_migration *m, sg_dir d, size_t g, int64_t limit, bool in_tx,
                      int64_t *applied)
{
    sg_stmt_pos local = { 0 };
    sg_stmt_pos *pos = in_tx ? &local : &m->groups[g].drain_pos[d];
    bool more;
    int rc;
    do {
        sg_batch b = { 0 };
        bool done = false;
        rc = fetch_stmt(m, d, g, pos, limit, &b);
        if (!rc && b.stmt_id && (rc = apply_batch(m, d, g, &b, in_tx, &done)) == 0 && done) {
            *applied += b.n_keys ? (int64_t)b.n_keys : 1;
            sg_changelog_advance(pos, &b, false);
        }
        more = in_tx && b.stmt_id && done;
        sg_batch_free(&b);
    } while (!rc && more);
    if (in_tx)
        memset(&m->groups[g].drain_pos[d], 0, sizeof(sg_stmt_pos));
    return rc;
}

/* One batch of per-key entries of one group, then a slice of its
 * statement entries. */
static int drain_group(sg_migration *m, sg_dir d, size_t g, int64_t limit,
                       bool in_tx, int64_t *applied)
{
    sg_batch b = { 0 };
    bool done = false;
    int rc = fetch(m, d, g, 0, limit, &b);
    if (!rc && b.n && (rc = apply_batch(m, d, g, &b, in_tx, &done)) == 0 && done)
        *applied += (int64_t)b.n;
    sg_batch_free(&b);
    return rc ? rc : drain_stmt(m, d, g, limit, in_tx, applied);
}

int sg_apply_drain(sg_migration *m, sg_dir d, int64_t limit, bool in_tx,
                   int64_t *applied)
{
    *applied = 0;
    for (size_t g = 0; g < m->n_groups; g++) {
        if (!has_log(m, d, g))
            continue;
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

/* The statement entries of group g with id > after, for sg_apply_keep. */
static int keep_stmt(sg_migration *m, sg_dir d, size_t g, int64_t after, int64_t *upto,
                     int64_t *applied)
{
    sg_stmt_pos pos = { .after = after };
    int rc;
    for (;;) {
        sg_batch b = { 0 };
        rc = fetch_stmt(m, d, g, &pos, 10000, &b);
        if (!rc && b.stmt_id && b.n_keys)
            rc = sync_keys(m, d, g, &b);
        if (!rc && b.stmt_id) {
            *applied += (int64_t)b.n_keys;
            *upto = b.stmt_id > *upto ? b.stmt_id : *upto;
            sg_changelog_advance(&pos, &b, true);
        }
        int64_t id = b.stmt_id;
        sg_batch_free(&b);
        if (rc || !id)
            return rc;
    }
}

int sg_apply_keep(sg_migration *m, sg_dir d, const int64_t *after, int64_t *upto,
                  int64_t *applied)
{
    int rc = 0;
    *applied = 0;
    for (size_t g = 0; g < m->n_groups && !rc; g++) {
        if (!has_log(m, d, g))
            continue;
        upto[g] = after ? after[g] : 0;
        for (;;) {
            sg_batch b = { 0 };
            rc = fetch(m, d, g, upto[g], 10000, &b);
            if (!rc && b.n)
                rc = sync_keys(m, d, g, &b);
            if (!rc && b.n) {
                upto[g] = b.ids[b.n - 1];
                *applied += (int64_t)b.n;
            }
            size_t n = b.n;
            sg_batch_free(&b);
            if (rc || n == 0)
                break;
        }
        /* ids are shared, so the highest of either kind bounds what was applied */
        if (!rc)
            rc = keep_stmt(m, d, g, after ? after[g] : 0, &upto[g], applied);
    }
    return rc;
}

int sg_apply_forget(sg_migration *m, sg_dir d, const int64_t *upto)
{
    int rc = 0;
    for (size_t g = 0; g < m->n_groups && !rc; g++)
        rc = !has_log(m, d, g) ? 0
                               : sg_changelog_forget(&m->err, log_conn(m, d), log_name(m, d, g),
                                                     upto[g]);
    return rc;
}

int sg_apply_group_span(sg_migration *m, sg_dir d, size_t g, bool *has, int64_t *pending,
                        int64_t *oldest_at)
{
    *pending = *oldest_at = 0;
    *has = has_log(m, d, g);
    return !*has ? 0 : sg_changelog_pending(&m->err, log_conn(m, d), log_name(m, d, g),
                                             m->groups[g].n_key, pending, oldest_at, NULL);
}

int sg_apply_oldest(sg_migration *m, sg_dir d, int64_t *oldest_at)
{
    int rc = 0;
    *oldest_at = 0;
    for (size_t g = 0; g < m->n_groups && !rc; g++)
        rc = !has_log(m, d, g) ? 0
                               : sg_changelog_oldest(&m->err, log_conn(m, d), log_name(m, d, g),
                                                     m->groups[g].n_key, oldest_at);
    return rc;
}

int sg_apply_span(sg_migration *m, sg_dir d, int64_t *pending, int64_t *oldest_at,
                  int64_t *newest_at)
{
    int rc = 0;
    *pending = *oldest_at = 0;
    if (newest_at)
        *newest_at = 0;
    for (size_t g = 0; g < m->n_groups && !rc; g++)
        rc = !has_log(m, d, g) ? 0
                               : sg_changelog_pending(&m->err, log_conn(m, d), log_name(m, d, g),
                                                      m->groups[g].n_key, pending, oldest_at,
                                                      newest_at);
    return rc;
}

int sg_apply_pending(sg_migration *m, sg_dir d, int64_t *pending, int64_t *lag_ms)
{
    int64_t oldest = 0;
    int rc = sg_apply_span(m, d, pending, &oldest, NULL);
    *lag_ms = oldest ? sg_now_ms() - oldest : 0;
    if (*lag_ms < 0)
        *lag_ms = 0;
    return rc;
}
