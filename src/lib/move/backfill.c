#include "move/backfill.h"

#include <stdlib.h>
#include <string.h>

#include "move/apply.h"
#include "move/capture.h"
#include "move/chunk.h"
#include "state/lease.h"
#include "state/phase.h"
#include "move/tx.h"

/* In one database whose writers queue for one write lock (SQLite), an
 * application write waits behind each chunk. While an application writes
 * beside the backfill (another connection committed since the last chunk,
 * or within SHARED_HOLD_MS of that), chunks aim at SHARED_CHUNK_MS and after each the backfill
 * stays off the lock as long as a writer that waited through it needs to
 * get in (the driver's yield_ms, at most backfill.pause). So as to find
 * out, the backfill also steps off after each of its first chunks, until
 * it has held the lock PROBE_MS in all (those chunks are small, and so is
 * a writer's retry step that early). While none writes,
 * chunks aim at backfill.chunk_time and the backfill steps off only once
 * per QUIET_YIELD_MS of holding the lock: a writer that starts then gets in
 * within about that long, and from its first commit on the shared pace
 * holds. */
#define SHARED_CHUNK_MS 25
#define SHARED_HOLD_MS 2000
#define QUIET_YIELD_MS 2000
#define PROBE_MS 100

/* The engine's estimate of the rows to copy, for progress: -1 when it has
 * none (or the mapping has a filter, which only a count can judge). */
static int estimate_rows(sg_err *e, const sg_flow *f, int64_t *n)
{
    const char *sql = sg_db_row_estimate_sql(f->from);
    sg_buf name = SG_BUF_INIT;
    sg_stmt *s = NULL;
    *n = -1;
    if (!sql || f->filter)
        return 0;
    sg_db_ident(f->from, &name, f->from_table);
    int rc = sg_db_prepare(f->from, sql, &s, e);
    if (!rc)
        rc = sg_db_bind_text(s, 1, sg_buf_str(&name), e);
    if (!rc && (rc = sg_db_step(s, e)) == 1) {
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
 * count of 5M rows took longer than a chunk), else for one integer key its
 * span (an upper bound: progress may end short of 100 %), else a count. */
static int count_rows(sg_err *e, sg_flow *f, int64_t *n)
{
    int rc = estimate_rows(e, f, n);
    if (!rc && *n < 0 && !f->filter)
        rc = sg_flow_key_span(f, n, e);
    if (rc || *n >= 0)
        return rc;
    sg_buf q = SG_BUF_INIT;
    sg_buf_puts(&q, "SELECT count(*) FROM ");
    sg_db_ident(f->from, &q, f->from_table);
    if (f->filter)
        sg_buf_printf(&q, " WHERE (%s)", f->filter);
    rc = sg_db_query_int(f->from, sg_buf_str(&q), 0, n, e);
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
    bool others;
    sg_err ignored;
    if (m->src == m->tgt) /* the baseline the first chunk's look compares to */
        sg_db_others_wrote(m->tgt, &others, &ignored);
    for (size_t i = 0; i < m->n_maps; i++) {
        sg_checkpoint cp;
        int64_t n = 0;
        int rc = sg_checkpoint_load(m, i, &cp);
        if (!rc && !cp.done)
            rc = count_rows(&m->err, &m->maps[i].fwd, &n);
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

static bool sharing(const sg_migration *m, const sg_backfill *bf)
{
    return m->src == m->tgt && sg_mono_ms() < bf->shared_until_ms;
}

/* The time a chunk aims at. */
static int64_t chunk_target_ms(const sg_migration *m, const sg_backfill *bf)
{
    int64_t t = m->spec->chunk_time_ms;
    return sharing(m, bf) && t > SHARED_CHUNK_MS ? SHARED_CHUNK_MS : t;
}

static void yield_to_writers(sg_migration *m, sg_backfill *bf)
{
    bool others = false, was = sharing(m, bf);
    sg_err ignored;
    /* the chunk's pages go into the file now, not in a writer's commit */
    sg_db_tidy(m->tgt, &ignored);
    if (sg_db_others_wrote(m->tgt, &others, &ignored) == 0 && others)
        bf->shared_until_ms = sg_mono_ms() + SHARED_HOLD_MS;
    /* the next chunk was sized for the quiet pace: scale it down */
    if (!was && sharing(m, bf) && m->spec->chunk_time_ms > SHARED_CHUNK_MS) {
        bf->chunk_rows = bf->chunk_rows * SHARED_CHUNK_MS / m->spec->chunk_time_ms;
        bf->chunk_rows = bf->chunk_rows < SG_CHUNK_MIN_ROWS ? SG_CHUNK_MIN_ROWS : bf->chunk_rows;
    }
    /* a writer that got no turn has waited since the last foreign commit
     * seen, and its retries are that far apart by now */
    if (others)
        bf->held_ms = 0;
    bf->held_ms += bf->last_chunk_ms;
    bf->since_yield_ms += bf->last_chunk_ms;
    bf->probed_ms += bf->last_chunk_ms;
    if (!sharing(m, bf) && bf->since_yield_ms < QUIET_YIELD_MS && bf->probed_ms > PROBE_MS)
        return;
    int64_t yield = sg_db_yield_ms(m->tgt, bf->held_ms);
    sg_sleep_ms(yield < m->spec->pause_ms ? yield : m->spec->pause_ms);
    bf->since_yield_ms = 0;
}

/* Sleeps as long as needed to keep the run under max_rows_per_second, and
 * in one database to let waiting writers in (above). */
static void throttle(sg_migration *m, sg_backfill *bf)
{
    int64_t cap = m->spec->max_rows_per_second;
    if (cap > 0) {
        int64_t due = bf->run_start_ms + bf->run_rows * 1000 / cap;
        sg_sleep_ms(due - sg_mono_ms());
    }
    if (m->src == m->tgt)
        yield_to_writers(m, bf);
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
    bool lifted = false;
    int rc = sg_flow_boundary(f, lo, bf->chunk_rows, &hi, &found, &m->err);
    if (!rc)
        rc = sg_tx_begin_unmarked(m->tgt, &m->err);
    if (rc)
        goto done;
    rc = sg_guard_lift(m, bf->map, true, &lifted);
    /* under a guard that stays, the copy is a write the guard must let by */
    if (!rc && !lifted)
        rc = sg_tx_mark(m->tgt, &m->err);
    if (!rc)
        rc = sg_flow_copy_range(f, lo, found ? &hi : NULL, &rows, &m->err);
    if (!rc)
        rc = sg_guard_lift(m, bf->map, false, NULL);
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
        int64_t target = chunk_target_ms(m, bf);
        int64_t cap = m->spec->max_rows_per_second * target / 1000;
        bf->chunk_rows = sg_chunk_next(bf->chunk_rows, ms, target, cap);
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
        bool built = false;
        int rc = sg_index_build_next(m, &bf->indexes, &built);
        if (rc || !built)
            return rc;
        rc = set_phase(m, SG_CMD_BACKFILLED, "every mapping copied");
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
