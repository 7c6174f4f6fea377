#include "ofrep_client.h"
#include "writer.h"

#include <segue/outcomes.h>
#include <segue/segue.h>
#include <segue/shadow.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct writer {
    writer_config cfg;
    pthread_t thread;
    atomic_int stop;
    writer_stats st;
    sqlite3 *db[2];
    sg_router *router;
    ofrep_client *ofrep;      /* asks the write side when cfg.ofrep_url */
    int64_t next_key;
    uint32_t rng;
    sg_migration *shadow_m;     /* cfg.shadow_spec's, used by the thread only */
    atomic_int shadowing;
    size_t next_read;
    struct timespec flushed;
};

/* Shadow outcomes are written to the control tables this often. */
#define SHADOW_FLUSH_MS 500

static uint32_t rnd(writer *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 17;
    w->rng ^= w->rng << 5;
    return w->rng;
}

/* Runs one statement with up to three integer/text parameters. */
static int exec3(sqlite3 *db, const char *sql, int64_t a, const char *t, int64_t b,
                 char *err, size_t errn)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, a);
        if (t)
            sqlite3_bind_text(s, 2, t, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_int64(s, 2, b);
        rc = sqlite3_step(s);
        rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
    }
    if (rc != SQLITE_OK)
        snprintf(err, errn, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return rc;
}

/* An existing key of the side's table, picked at random; 0 if none. */
static int64_t some_key(writer *w, int side)
{
    const writer_side *ws = &w->cfg.side[side];
    char sql[512];
    sqlite3_stmt *s = NULL;
    int64_t k = 0;
    snprintf(sql, sizeof sql, "SELECT \"%s\" FROM \"%s\" WHERE \"%s\" >= ?1 "
             "ORDER BY \"%s\" LIMIT 1", ws->key_col, ws->table, ws->key_col,
             ws->key_col);
    if (sqlite3_prepare_v2(w->db[side], sql, -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, (int64_t)(rnd(w) % (uint32_t)(w->next_key + 1)));
        if (sqlite3_step(s) == SQLITE_ROW)
            k = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return k;
}

/* One random operation on `side`; returns the SQLite code. */
static int one_op(writer *w, int side, int op, char *err, size_t errn)
{
    const writer_side *ws = &w->cfg.side[side];
    char sql[512], text[64];
    int64_t k = some_key(w, side);
    snprintf(text, sizeof text, "live %u \xc3\xa9", rnd(w));
    if (op == 0 || k == 0) {
        w->st.inserts++;
        return exec3(w->db[side], ws->insert_sql, ++w->next_key, text, 0, err, errn);
    }
    if (op == 1) {
        w->st.updates++;
        snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?2 WHERE \"%s\" = ?1",
                 ws->table, ws->text_col, ws->key_col);
        return exec3(w->db[side], sql, k, text, 0, err, errn);
    }
    if (op == 2) {
        w->st.deletes++;
        snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE \"%s\" = ?1", ws->table,
                 ws->key_col);
        return exec3(w->db[side], sql, k, NULL, 0, err, errn);
    }
    w->st.key_changes++;
    snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?2 WHERE \"%s\" = ?1",
             ws->table, ws->key_col, ws->key_col);
    return exec3(w->db[side], sql, k, NULL, ++w->next_key, err, errn);
}

static void shadow_failed(writer *w, const char *what)
{
    w->st.shadow_failed++;
    snprintf(w->st.last_error, sizeof w->st.last_error, "shadow %s: %s", what,
             sg_migration_errmsg(w->shadow_m));
}

/* One of the application's reads of an existing key, run on both sides
 * and recorded; what was recorded flushed every SHADOW_FLUSH_MS. */
static void shadow_read(writer *w)
{
    const char *sql = w->cfg.reads[w->next_read++];
    if (!w->cfg.reads[w->next_read])
        w->next_read = 0;
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)some_key(w, SG_SIDE_SOURCE));
    const char *params[1] = { key };
    sg_shadow_result r;
    w->st.reads++;
    if (sg_shadow_sql(&r, w->shadow_m, sql, 1, params) != 0)
        shadow_failed(w, "read");
    else if (sg_shadow_record(w->shadow_m, sql, &r) != 0)
        shadow_failed(w, "record");
    sg_shadow_result_clear(&r);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - w->flushed.tv_sec) * 1000 + (now.tv_nsec - w->flushed.tv_nsec) / 1000000 >=
        SHADOW_FLUSH_MS) {
        w->flushed = now;
        if (sg_shadow_flush(w->shadow_m) != 0)
            shadow_failed(w, "flush");
    }
}

void writer_shadow(writer *w, bool on)
{
    w->shadowing = on && w->shadow_m;
}

/* The side that takes writes now: from OFREP (segue.<migration>.writes)
 * or the C API's router. Non-zero with the reason in last_error. */
static int write_side(writer *w, int *side)
{
    if (!w->ofrep) {
        if (!sg_router_write_side(side, w->router))
            return 0;
        snprintf(w->st.last_error, sizeof w->st.last_error, "%s", sg_router_errmsg(w->router));
        return -1;
    }
    char flag[200], value[300];
    snprintf(flag, sizeof flag, "segue.%s.writes", w->cfg.migration);
    w->st.ofrep_evaluations++;
    if (!ofrep_evaluate(w->ofrep, flag, NULL, value, sizeof value)) {
        snprintf(w->st.last_error, sizeof w->st.last_error, "OFREP %.60s: %.180s", flag, value);
        return -1;
    }
    *side = strcmp(value, "target") ? SG_SIDE_SOURCE : SG_SIDE_TARGET;
    return 0;
}

static int64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* A write the guard refuses is asked again RETRIES times, RETRY_NS apart. */
#define RETRIES 400
#define RETRY_NS 5000000

static void step(writer *w)
{
    static const char *const kinds[] = { "insert", "update", "delete", "key_change" };
    int side = SG_SIDE_SOURCE, op = (int)(rnd(w) % 10);
    char err[256] = "";
    op = op < 4 ? 0 : op < 8 ? 1 : op < 9 ? 2 : 3; /* 40% ins, 40% upd, 10/10 */
    /* the guard refuses until the routing reaches the writer: within
     * serve.refresh over OFREP, at once through the C API */
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        if (write_side(w, &side)) {
            w->st.failed++;
            return;
        }
        int64_t t0 = mono_us();
        int rc = one_op(w, side, op, err, sizeof err);
        if (w->ofrep) /* what the application saw, for the dashboard and the gates */
            sg_router_report(w->router, side, kinds[op], rc == SQLITE_OK,
                             (double)(mono_us() - t0) / 1000);
        if (rc == SQLITE_OK)
            return;
        if (!strstr(err, "segue: writes to")) {
            snprintf(w->st.last_error, sizeof w->st.last_error, "%s", err);
            w->st.failed++;
            return;
        }
        w->st.rejected_retried++; /* routing moved under us: ask again */
        struct timespec t = { 0, RETRY_NS };
        nanosleep(&t, NULL);
    }
    snprintf(w->st.last_error, sizeof w->st.last_error, "still refused by segue's guard "
             "after %d tries %d ms apart: %.150s", RETRIES, RETRY_NS / 1000000, err);
    w->st.failed++;
}

static void *run(void *arg)
{
    writer *w = arg;
    int64_t period_ns = 1000000000LL / (w->cfg.rate > 0 ? w->cfg.rate : 1);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!w->stop) {
        step(w);
        if (w->shadowing)
            shadow_read(w);
        next.tv_nsec += period_ns;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    return NULL;
}

int writer_start(writer **out, const writer_config *cfg)
{
    writer *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return -1;
    w->cfg = *cfg;
    w->next_key = cfg->key_base;
    w->rng = cfg->seed ? cfg->seed : 2463534242u;
    for (int i = 0; i < 2; i++) {
        if (sqlite3_open_v2(cfg->side[i].db_path, &w->db[i], SQLITE_OPEN_READWRITE,
                            NULL) != SQLITE_OK)
            goto fail;
        sqlite3_busy_timeout(w->db[i], 60000);
    }
    if (sg_router_open(&w->router, cfg->control_uri, cfg->migration, 0))
        goto fail;
    if (cfg->ofrep_url && !(w->ofrep = ofrep_client_new(cfg->ofrep_url)))
        goto fail;
    if (cfg->shadow_spec && (!cfg->reads || !cfg->reads[0] ||
                             sg_migration_open(&w->shadow_m, cfg->shadow_spec)))
        goto fail;
    clock_gettime(CLOCK_MONOTONIC, &w->flushed);
    if (pthread_create(&w->thread, NULL, run, w))
        goto fail;
    *out = w;
    return 0;
fail:
    ofrep_client_free(w->ofrep);
    sg_migration_close(w->shadow_m);
    sg_router_close(w->router);
    sqlite3_close(w->db[0]);
    sqlite3_close(w->db[1]);
    free(w);
    return -1;
}

void writer_stop(writer *w, writer_stats *stats)
{
    if (!w)
        return;
    w->stop = 1;
    pthread_join(w->thread, NULL);
    if (w->shadow_m && sg_shadow_flush(w->shadow_m) != 0)
        shadow_failed(w, "flush");
    if (stats)
        *stats = w->st;
    ofrep_client_free(w->ofrep);
    sg_migration_close(w->shadow_m);
    sg_router_close(w->router);
    sqlite3_close(w->db[0]);
    sqlite3_close(w->db[1]);
    free(w);
}
