#include "move/backfill.h"

#include <stdlib.h>
#include <string.h>

#include "move/apply.h"
#include "move/capture.h"
#include "move/chunk.h"
#include "state/lease.h"
#include "state/phase.h"
#include "move/tx.h"

/* The engine's estimate of the rows to copy, for progress: -1 when it has
 * none (or the mapping has a filter, which only a count can judge). */
static int estimate_rows(sg_migration *m, const sg_flow *f, int64_t *n)
{
    const char *sql = sg_db_row_estimate_sql(f->from);
    sg_buf name = SG_BUF_INIT;
    sg_stmt *s = NULL;
    *n = -1;
    if (!sql || f->filter)
        return 0;
    sg_db_ident(f->from, &name, f->from_table);
    int rc = sg_db_prepare(f->from, sql, &s, &m->err);
    if (!rc)
        rc = sg_db_bind_text(s, 1, sg_buf_str(&name), &m->err);
    if (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        sg_value v;
        sg_db_column(s, 0, &v);
        *n = v.type == SG_V_NULL ? -1 : sg_db_column_int(s, 0);
        rc = 0;
    }
    sg_db_finalize(s);
    sg_buf_free(&name);
    return rc;
}

/* Rows to copy, for progress: the engine's estimate where it keeps one (a
 * count of 5M rows took longer than a chunk), else a count. */
static int count_rows(sg_migration *m, const sg_flow *f, int64_t *n)
{
    int rc = estimate_rows(m, f, n);
    if (rc || *n >= 0)
        return rc;
    sg_buf q = SG_BUF_INIT;
    sg_buf_puts(&q, "SELECT count(*) FROM ");
    sg_db_ident(f->from, &q, f->from_table);
    if (f->filter)
        sg_buf_printf(&q, " WHERE (%s)", f->filter);
    rc = sg_db_query_int(f->from, sg_buf_str(&q), 0, n, &m->err);
    sg_buf_free(&q);
    return rc;
}

/* Moves the phase as cmd does, when the migration is still where cmd
 * starts (an earlier run may have moved it already). */
static int set_phase(sg_migration *m, sg_cmd cmd, const char *detail)
{
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (rc)
        return rc;
    sg_phase now;
    rc = sg_control_phase_locked(m, &now);
    if (!rc && (sg_rule_of(cmd)->from & SG_PH(now)))
        rc = sg_phase_move(m, cmd, now, detail, NULL);
    if (!rc)
        return sg_tx_commit(m->tgt, &m->err);
    sg_tx_rollback(m->tgt);
    return rc;
}

int sg_backfill_init(sg_migration *m, sg_backfill *bf)
{
    memset(bf, 0, sizeof *bf);
    /* under a rate cap, the first chunk already keeps to it */
    int64_t cap = m->spec->max_rows_per_second * m->spec->chunk_time_ms / 1000;
    bf->chunk_rows = cap > 0 && cap < SG_CHUNK_FIRST_ROWS
                         ? (cap > SG_CHUNK_MIN_ROWS ? cap : SG_CHUNK_MIN_ROWS)
                         : SG_CHUNK_FIRST_ROWS;
    bf->run_start_ms = sg_mono_ms();
    for (size_t i = 0; i < m->n_maps; i++) {
        sg_checkpoint cp;
        int64_t n = 0;
        int rc = sg_checkpoint_load(m, i, &cp);
        if (!rc && !cp.done)
            rc = count_rows(m, &m->maps[i].fwd, &n);
        bf->rows_done += cp.rows;
        bf->rows_total += cp.done ? cp.rows : (n > cp.rows ? n : cp.rows);
        sg_checkpoint_free(&cp);
        if (rc)
            return rc;
    }
    return set_phase(m, SG_CMD_BACKFILL, "backfill began");
}

void sg_backfill_free(sg_backfill *bf)
{
    sg_checkpoint_free(&bf->cp);
    bf->loaded = false;
}

/* Sleeps as long as needed to keep the run under max_rows_per_second; in
 * one database, also long enough for writers that waited on the chunk's
 * write lock to get in (at most backfill.pause). */
static void throttle(sg_migration *m, sg_backfill *bf)
{
    int64_t cap = m->spec->max_rows_per_second;
    if (cap > 0) {
        int64_t due = bf->run_start_ms + bf->run_rows * 1000 / cap;
        sg_sleep_ms(due - sg_mono_ms());
    }
    if (m->src == m->tgt) {
        int64_t yield = sg_db_yield_ms(m->tgt, bf->last_chunk_ms);
        sg_sleep_ms(yield < m->spec->pause_ms ? yield : m->spec->pause_ms);
    }
}

/* A chunk that failed on a row's data: each key of its range alone, in
 * its own transaction, the refused ones set aside (aside.h); *rows gets the
 * keys of the range. Leaves a target transaction open for the checkpoint. */
static int copy_each(sg_migration *m, sg_backfill *bf, sg_flow *f, const sg_row *lo,
                     const sg_row *hi, int64_t *rows)
{
    sg_row *keys = NULL;
    size_t n = 0;
    sg_log(m, SG_LOG_WARN, "backfill of %s: the target refused a row of this "
           "chunk (%s); copying its keys one by one", m->maps[bf->map].label,
           m->err.msg);
    int rc = sg_flow_keys(f, lo, hi, &keys, &n, &m->err);
    if (!rc)
        rc = sg_apply_each(m, SG_FORWARD, m->maps[bf->map].group, keys, n);
    for (size_t i = 0; i < n; i++)
        sg_row_free(&keys[i]);
    free(keys);
    *rows = (int64_t)n;
    return rc ? rc : sg_tx_begin(m->tgt, &m->err);
}

static int copy_chunk(sg_migration *m, sg_backfill *bf, sg_flow *f)
{
    sg_row hi = { 0 };
    bool found = false;
    int64_t rows = 0, t0 = sg_mono_ms();
    const sg_row *lo = bf->cp.last.n ? &bf->cp.last : NULL;
    int rc = sg_flow_boundary(f, lo, bf->chunk_rows, &hi, &found, &m->err);
    if (!rc)
        rc = sg_tx_begin(m->tgt, &m->err);
    if (rc)
        goto done;
    rc = sg_guard_lift(m, bf->map, true);
    if (!rc)
        rc = sg_flow_copy_range(f, lo, found ? &hi : NULL, &rows, &m->err);
    if (!rc)
        rc = sg_guard_lift(m, bf->map, false);
    if (rc && sg_apply_data_error(m, rc)) {
        sg_tx_rollback(m->tgt);
        rc = copy_each(m, bf, f, lo, found ? &hi : NULL, &rows);
    }
    if (!rc) {
        sg_checkpoint next = bf->cp;
        next.rows += rows;
        next.chunks++;
        next.done = !found;
        if (found)
            next.last = hi;
        rc = sg_checkpoint_save(m, bf->map, &next);
    }
    if (!rc && (rc = sg_lease_commit(m, m->tgt)) == 0) {
        bf->cp.rows += rows;
        bf->cp.chunks++;
        bf->cp.done = !found;
        if (found) {
            sg_row_free(&bf->cp.last);
            bf->cp.last = hi;
            hi = (sg_row){ 0 };
        }
        double ms = (double)(sg_mono_ms() - t0);
        int64_t cap = m->spec->max_rows_per_second * m->spec->chunk_time_ms / 1000;
        bf->chunk_rows = sg_chunk_next(bf->chunk_rows, ms, m->spec->chunk_time_ms, cap);
        bf->last_chunk = rows;
        bf->last_chunk_ms = (int64_t)ms;
        bf->rows_done += rows;
        bf->run_rows += rows;
        bf->run_chunks++;
    } else {
        sg_tx_rollback(m->tgt);
    }
done:
    sg_row_free(&hi);
    if (rc)
        sg_err_prefix(&m->err, "backfill of %s: ", m->maps[bf->map].label);
    return rc;
}

int sg_backfill_step(sg_migration *m, sg_backfill *bf)
{
    while (bf->map < m->n_maps) {
        if (!bf->loaded) {
            int rc = sg_checkpoint_load(m, bf->map, &bf->cp);
            if (rc)
                return rc;
            bf->loaded = true;
        }
        if (!bf->cp.done) {
            int rc = copy_chunk(m, bf, &m->maps[bf->map].fwd);
            if (!rc && !(bf->cp.done && bf->map + 1 == m->n_maps))
                throttle(m, bf); /* not after the very last chunk */
            return rc;
        }
        sg_backfill_free(bf);
        bf->map++;
    }
    if (!bf->complete) {
        int rc = set_phase(m, SG_CMD_BACKFILLED, "every mapping copied");
        if (rc)
            return rc;
        bf->complete = true;
    }
    return 0;
}

double sg_backfill_rate(const sg_migration *m, const sg_backfill *bf)
{
    int64_t now = sg_mono_ms(), cap = m->spec->max_rows_per_second;
    /* under a cap, the chunk just copied is paid for by the wait before
     * the next one (throttle), so time runs to when that wait ends */
    if (cap > 0 && bf->run_start_ms + bf->run_rows * 1000 / cap > now)
        now = bf->run_start_ms + bf->run_rows * 1000 / cap;
    return now > bf->run_start_ms ? (double)bf->run_rows * 1000.0 /
                                        (double)(now - bf->run_start_ms) : 0;
}

void sg_backfill_progress(sg_migration *m, const sg_backfill *bf, sg_progress *p)
{
    memset(p, 0, sizeof *p);
    p->what = "backfill";
    p->mapping = bf->map < m->n_maps ? m->maps[bf->map].label : "";
    p->rows_done = bf->rows_done;
    p->rows_total = bf->rows_total;
    double rate = sg_backfill_rate(m, bf);
    p->rows_per_sec = rate;
    p->chunk_rows = bf->last_chunk;
    int64_t left = bf->rows_total - bf->rows_done;
    p->eta_sec = rate > 0 ? (left > 0 ? (double)left / rate : 0) : -1;
}
