/* Shadow-read outcomes kept (segue/shadow.h sg_shadow_record, _flush,
 * _summary): counted in memory per minute and query shape, then added to
 * control tables in the target so that several processes add up: counts
 * per outcome, latency histogram buckets per side, and up to
 * EXAMPLES_PER_FP examples per shape. Each row is added to with an upsert
 * (n = n + excluded.n), never overwritten. */
#include <segue/shadow.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "state/control.h"
#include "state/phase.h"
#include "move/tx.h"

#define EXAMPLES_PER_FP 3
/* Entries held before a record flushes by itself; while flushes fail
 * (the target unreachable), outcomes that would need an entry past
 * MAX_HELD_CAP are dropped and counted (about 10 kB an entry). */
#define MAX_HELD 256
#define MAX_HELD_CAP 1024

static const char *const stats_ddl[] = {
    "CREATE TABLE IF NOT EXISTS @shadow_stats (migration %TXT NOT NULL, minute %INT NOT "
    "NULL, fingerprint %TXT NOT NULL, kind %INT NOT NULL, n %INT NOT NULL, PRIMARY KEY "
    "(migration, minute, fingerprint, kind))",
    "CREATE TABLE IF NOT EXISTS @shadow_latency (migration %TXT NOT NULL, minute %INT NOT "
    "NULL, fingerprint %TXT NOT NULL, side %INT NOT NULL, bucket %INT NOT NULL, n %INT NOT "
    "NULL, PRIMARY KEY (migration, minute, fingerprint, side, bucket))",
    "CREATE TABLE IF NOT EXISTS @shadow_examples (id %SERIAL, migration %TXT NOT NULL, "
    "fingerprint %TXT NOT NULL, at_ms %INT NOT NULL, kind %INT NOT NULL, detail %TXT, "
    "query %TXT)",
};

typedef struct held {
    int64_t minute;
    char fingerprint[17];
    int64_t kinds[SG_SHADOW_KINDS];
    sg_hist side[2];
    char *example, *example_query;
    int example_kind;
} held;

struct sg_shadow_agg {
    held *v;
    size_t n;
    bool tables_ok;
    int64_t dropped;    /* outcomes not kept: flushes failed, the cap held */
};

static held *held_find(struct sg_shadow_agg *a, int64_t minute, const char *fp)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].minute == minute && strcmp(a->v[i].fingerprint, fp) == 0)
            return &a->v[i];
    return NULL;
}

static held *held_add(struct sg_shadow_agg *a, int64_t minute, const char *fp)
{
    held *p = realloc(a->v, (a->n + 1) * sizeof *p);
    if (!p)
        return NULL;
    a->v = p;
    held *h = &p[a->n++];
    memset(h, 0, sizeof *h);
    h->minute = minute;
    snprintf(h->fingerprint, sizeof h->fingerprint, "%s", fp);
    return h;
}

static void agg_clear(struct sg_shadow_agg *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].example);
        free(a->v[i].example_query);
    }
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

void sg_shadow_unrecorded(const sg_migration *m, int64_t *held_n, int64_t *dropped)
{
    *held_n = *dropped = 0;
    if (!m || !m->shadow)
        return;
    for (size_t i = 0; i < m->shadow->n; i++)
        for (int k = 0; k < SG_SHADOW_KINDS; k++)
            *held_n += m->shadow->v[i].kinds[k];
    *dropped = m->shadow->dropped;
}

void sg_shadow_agg_free(sg_migration *m)
{
    if (m && m->shadow) {
        agg_clear(m->shadow);
        free(m->shadow);
        m->shadow = NULL;
    }
}

int sg_shadow_record(sg_migration *m, const char *sql, const sg_shadow_result *r)
{
    if (!m || !r)
        return m ? sg_err_set(&m->err, SG_EINVAL, "sg_shadow_record: a NULL argument")
                 : SG_EINVAL;
    if (!m->shadow && !(m->shadow = calloc(1, sizeof *m->shadow)))
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    int64_t minute = sg_now_ms() / 60000;
    const char *fp = *r->fingerprint ? r->fingerprint : "-";
    held *h = held_find(m->shadow, minute, fp);
    int rc = 0;
    if (!h && m->shadow->n >= MAX_HELD_CAP && (rc = sg_shadow_flush(m)) != 0) {
        m->shadow->dropped++;
        return rc;
    }
    if (!h && !(h = held_add(m->shadow, minute, fp)))
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    h->kinds[(unsigned)r->kind < SG_SHADOW_KINDS ? r->kind : SG_SHADOW_SKIPPED]++;
    bool ran = r->kind <= SG_SHADOW_NONDETERMINISTIC;
    if (ran) {
        sg_hist_add(&h->side[0], r->source_us);
        sg_hist_add(&h->side[1], r->target_us);
    }
    bool notable = r->kind == SG_SHADOW_MISMATCH || r->kind == SG_SHADOW_ORDER_ONLY ||
                   r->kind == SG_SHADOW_TARGET_ERROR;
    if (notable && !h->example && r->detail) {
        h->example = strdup(r->detail);
        h->example_query = sql ? strdup(sql) : NULL;
        h->example_kind = r->kind;
    }
    return m->shadow->n >= MAX_HELD ? sg_shadow_flush(m) : 0;
}

/* The upserts of one flush, prepared on first use and reused. */
typedef struct flush_stmts {
    sg_stmt *count, *bucket;
} flush_stmts;

/* Runs a bound statement (finalizing it), or only finalizes it after rc. */
static int finish(sg_migration *m, sg_stmt *s, int rc)
{
    if (rc) {
        sg_db_finalize(s);
        return rc;
    }
    return sg_control_run(&m->err, s);
}

/* Binds the key every row of a held entry shares: $1 migration, $2
 * minute, $3 fingerprint. */
static int bind_held(sg_migration *m, sg_stmt *s, const held *h)
{
    return sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
           sg_db_bind_int(s, 2, h->minute, &m->err) ||
           sg_db_bind_text(s, 3, h->fingerprint, &m->err) ? SG_EDB : 0;
}

/* Runs kept statement s bound with a, b (and c when >= 0) after the
 * entry's key, then resets it for the next row. */
static int add_row(sg_migration *m, sg_stmt **s, const char *tmpl, const held *h, int64_t a,
                   int64_t b, int64_t c)
{
    int rc = *s ? 0 : sg_control_prepare(&m->err, m->tgt, tmpl, s);
    if (!rc && (bind_held(m, *s, h) || sg_db_bind_int(*s, 4, a, &m->err) ||
                sg_db_bind_int(*s, 5, b, &m->err) ||
                (c >= 0 && sg_db_bind_int(*s, 6, c, &m->err))))
        rc = SG_EDB;
    if (!rc)
        rc = sg_db_step(*s, &m->err) < 0 ? SG_EDB : 0;
    if (*s)
        sg_db_reset(*s);
    return rc;
}

static int add_count(sg_migration *m, flush_stmts *fs, const held *h, int kind, int64_t n)
{
    return add_row(m, &fs->count, "INSERT INTO @shadow_stats AS s (migration, minute, "
                   "fingerprint, kind, n) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (migration, "
                   "minute, fingerprint, kind) DO UPDATE SET n = s.n + excluded.n", h, kind, n,
                   -1);
}

static int add_bucket(sg_migration *m, flush_stmts *fs, const held *h, int side, int bucket,
                      int64_t n)
{
    return add_row(m, &fs->bucket, "INSERT INTO @shadow_latency AS s (migration, minute, "
                   "fingerprint, side, bucket, n) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT "
                   "(migration, minute, fingerprint, side, bucket) DO UPDATE SET n = s.n + "
                   "excluded.n", h, side, bucket, n);
}

/* An example, while the shape has fewer than EXAMPLES_PER_FP. */
static int add_example(sg_migration *m, const held *h)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @shadow_examples (migration, "
                                "fingerprint, at_ms, kind, detail, query) SELECT $1, $2, $3, "
                                "$4, $5, $6 WHERE (SELECT count(*) FROM @shadow_examples "
                                "WHERE migration = $1 AND fingerprint = $2) < $7", &s);
    if (!rc && (sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
                sg_db_bind_text(s, 2, h->fingerprint, &m->err) ||
                sg_db_bind_int(s, 3, sg_now_ms(), &m->err) ||
                sg_db_bind_int(s, 4, h->example_kind, &m->err) ||
                sg_db_bind_text(s, 5, h->example, &m->err) ||
                sg_db_bind_text(s, 6, h->example_query ? h->example_query : "", &m->err) ||
                sg_db_bind_int(s, 7, EXAMPLES_PER_FP, &m->err)))
        rc = SG_EDB;
    return finish(m, s, rc);
}

static int write_held(sg_migration *m, flush_stmts *fs, const held *h, bool *compared)
{
    int rc = 0;
    for (int k = 0; k < SG_SHADOW_KINDS && !rc; k++)
        if (h->kinds[k]) {
            rc = add_count(m, fs, h, k, h->kinds[k]);
            *compared = *compared || k <= SG_SHADOW_NONDETERMINISTIC;
        }
    for (int side = 0; side < 2 && !rc; side++)
        for (int b = 0; b < SG_HIST_BUCKETS && !rc; b++)
            if (h->side[side].counts[b])
                rc = add_bucket(m, fs, h, side, b, h->side[side].counts[b]);
    return !rc && h->example ? add_example(m, h) : rc;
}

/* Compared reads arrived: a verified migration is shadowing now. */
static int mark_shadowing(sg_migration *m)
{
    sg_phase now;
    int rc = sg_control_phase_locked(m, &now);
    if (!rc && now == SG_PHASE_VERIFIED)
        rc = sg_phase_move(m, SG_CMD_SHADOW, now, "shadow reads compared", NULL);
    return rc;
}

int sg_shadow_flush(sg_migration *m)
{
    if (!m)
        return SG_EINVAL;
    if (!m->shadow || !m->shadow->n)
        return 0;
    int rc = sg_db_lost(m->tgt) ? sg_db_reconnect(m->tgt, &m->err) : 0;
    if (!rc)
        rc = sg_tx_begin(m->tgt, &m->err);
    for (size_t i = 0; !rc && !m->shadow->tables_ok && i < sizeof stats_ddl / sizeof *stats_ddl;
         i++)
        rc = sg_control_exec(&m->err, m->tgt, stats_ddl[i]);
    bool compared = false;
    flush_stmts fs = { NULL, NULL };
    for (size_t i = 0; !rc && i < m->shadow->n; i++)
        rc = write_held(m, &fs, &m->shadow->v[i], &compared);
    sg_db_finalize(fs.count);
    sg_db_finalize(fs.bucket);
    if (!rc && compared)
        rc = mark_shadowing(m);
    if (!rc)
        rc = sg_tx_commit(m->tgt, &m->err);
    else
        sg_tx_rollback(m->tgt);
    if (!rc) {
        m->shadow->tables_ok = true;
        agg_clear(m->shadow);
    } else {
        sg_err_prefix(&m->err, "recording shadow reads: ");
    }
    return rc;
}

/* Rows of a grouped query over the window, each handed to fn. */
static int window_rows(sg_migration *m, const char *tmpl, int64_t since,
                       void (*fn)(sg_stmt *s, void *ud), void *ud)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(&m->err, m->tgt, tmpl, &s);
    if (!rc && (sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
                sg_db_bind_int(s, 2, since, &m->err)))
        rc = SG_EDB;
    while (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        fn(s, ud);
        rc = 0;
    }
    sg_db_finalize(s);
    return rc < 0 ? rc : 0;
}

static void add_kind(sg_stmt *s, void *ud)
{
    sg_status *o = ud;
    int64_t kind = sg_db_column_int(s, 0), n = sg_db_column_int(s, 1);
    if (kind <= SG_SHADOW_NONDETERMINISTIC)
        o->shadow_compared += n;
    if (kind == SG_SHADOW_MISMATCH || kind == SG_SHADOW_ORDER_ONLY)
        o->shadow_mismatches += n;
    if (kind == SG_SHADOW_PENDING)
        o->shadow_pending += n;
    if (kind == SG_SHADOW_NONDETERMINISTIC)
        o->shadow_nondeterministic += n;
    if (kind == SG_SHADOW_SKIPPED)
        o->shadow_skipped += n;
    if (kind == SG_SHADOW_SOURCE_ERROR || kind == SG_SHADOW_TARGET_ERROR)
        o->shadow_errors += n;
}

static void add_bucket_row(sg_stmt *s, void *ud)
{
    sg_hist *h = ud;
    int64_t side = sg_db_column_int(s, 0), b = sg_db_column_int(s, 1);
    int64_t n = sg_db_column_int(s, 2);
    if ((side == 0 || side == 1) && b >= 0 && b < SG_HIST_BUCKETS) {
        h[side].counts[b] += n;
        h[side].n += n;
    }
}

static void add_worst(sg_stmt *s, void *ud)
{
    sg_status *o = ud;
    sg_value v;
    sg_db_column(s, 0, &v);
    size_t len = strlen(o->shadow_worst);
    snprintf(o->shadow_worst + len, sizeof o->shadow_worst - len, "%s%.*s: %lld",
             len ? ", " : "", (int)v.n, v.type == SG_V_TEXT ? (const char *)v.p : "?",
             (long long)sg_db_column_int(s, 1));
}

/* "mismatch: <detail> -- <query>", the latest example in the window */
static void add_example_row(sg_stmt *s, void *ud)
{
    sg_status *o = ud;
    sg_value d, q;
    sg_db_column(s, 1, &d);
    sg_db_column(s, 2, &q);
    snprintf(o->shadow_example, sizeof o->shadow_example, "%s: %.*s -- %.*s",
             sg_shadow_kind_name((sg_shadow_kind)sg_db_column_int(s, 0)), (int)d.n,
             d.type == SG_V_TEXT ? (const char *)d.p : "", (int)q.n,
             q.type == SG_V_TEXT ? (const char *)q.p : "");
}

int sg_shadow_status(sg_migration *m, int64_t window_ms, sg_status *out)
{
    bool present = false;
    out->shadow_window_ms = window_ms;
    int rc = sg_db_control_present(m->tgt, "shadow_stats", &present, &m->err);
    if (rc || !present)
        return rc;
    int64_t since = (sg_now_ms() - window_ms) / 60000;
    sg_hist *h = calloc(2, sizeof *h);
    if (!h)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    rc = window_rows(m, "SELECT kind, sum(n) FROM @shadow_stats WHERE "
                     "migration = $1 AND minute >= $2 GROUP BY kind", since, add_kind, out);
    if (!rc)
        rc = window_rows(m, "SELECT side, bucket, sum(n) FROM @shadow_latency "
                         "WHERE migration = $1 AND minute >= $2 GROUP BY side, bucket", since,
                         add_bucket_row, h);
    if (!rc)
        rc = window_rows(m, "SELECT fingerprint, sum(n) FROM @shadow_stats "
                         "WHERE migration = $1 AND minute >= $2 AND kind IN (1, 2) GROUP BY "
                         "fingerprint ORDER BY 2 DESC, 1 LIMIT 3", since, add_worst, out);
    if (!rc)
        rc = window_rows(m, "SELECT kind, detail, query FROM @shadow_examples WHERE migration "
                         "= $1 AND at_ms >= $2 ORDER BY at_ms DESC, id DESC LIMIT 1",
                         since * 60000, add_example_row, out);
    /* a histogram read back has no exact maximum: its top bucket bounds it */
    for (int side = 0; side < 2; side++)
        h[side].max_us = INT64_MAX;
    int64_t sp99 = sg_hist_percentile(&h[0], 99);
    out->shadow_p99_ratio = sp99 ? (double)sg_hist_percentile(&h[1], 99) / (double)sp99 : 0;
    free(h);
    return rc;
}

typedef struct shapes {
    sg_shadow_shape *v;
    size_t n, max;
} shapes;

/* Rows (fingerprint, total) of the busiest shapes, most first. */
static void take_shape(sg_stmt *s, void *ud)
{
    shapes *sh = ud;
    sg_value v;
    sg_db_column(s, 0, &v);
    if (sh->n >= sh->max || v.type != SG_V_TEXT)
        return;
    sg_shadow_shape *p = &sh->v[sh->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->fingerprint, sizeof p->fingerprint, "%.*s", (int)v.n, (const char *)v.p);
    p->latency[0].max_us = p->latency[1].max_us = INT64_MAX;
}

static sg_shadow_shape *shape_of(shapes *sh, sg_stmt *s)
{
    sg_value v;
    sg_db_column(s, 0, &v);
    for (size_t i = 0; v.type == SG_V_TEXT && i < sh->n; i++)
        if (strlen(sh->v[i].fingerprint) == v.n && !memcmp(sh->v[i].fingerprint, v.p, v.n))
            return &sh->v[i];
    return NULL;
}

/* Rows (fingerprint, kind, n). */
static void take_shape_kind(sg_stmt *s, void *ud)
{
    sg_shadow_shape *p = shape_of(ud, s);
    int64_t k = sg_db_column_int(s, 1);
    if (p && k >= 0 && k < SG_SHADOW_KINDS)
        p->kinds[k] += sg_db_column_int(s, 2);
}

/* Rows (fingerprint, side, bucket, n). */
static void take_shape_bucket(sg_stmt *s, void *ud)
{
    sg_shadow_shape *p = shape_of(ud, s);
    int64_t side = sg_db_column_int(s, 1), b = sg_db_column_int(s, 2);
    int64_t n = sg_db_column_int(s, 3);
    if (p && (side == 0 || side == 1) && b >= 0 && b < SG_HIST_BUCKETS) {
        p->latency[side].counts[b] += n;
        p->latency[side].n += n;
    }
}

int sg_shadow_shapes(sg_shadow_shape **out, size_t *n, sg_migration *m, int64_t window_ms,
                     size_t max)
{
    if (!m)
        return SG_EINVAL;
    sg_err_clear(&m->err);
    if (!out || !n || window_ms < 0)
        return sg_err_set(&m->err, SG_EINVAL, "sg_shadow_shapes: an out-parameter is NULL "
                          "or the window negative");
    *out = NULL;
    *n = 0;
    bool present = false;
    int rc = sg_db_control_present(m->tgt, "shadow_stats", &present, &m->err);
    if (rc || !present || !max)
        return rc;
    shapes sh = { calloc(max, sizeof *sh.v), 0, max };
    if (!sh.v)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    int64_t since = window_ms ? (sg_now_ms() - window_ms) / 60000 : 0;
    rc = window_rows(m, "SELECT fingerprint, sum(n) FROM @shadow_stats WHERE migration = $1 "
                     "AND minute >= $2 GROUP BY fingerprint ORDER BY 2 DESC, 1", since,
                     take_shape, &sh);
    if (!rc)
        rc = window_rows(m, "SELECT fingerprint, kind, sum(n) FROM @shadow_stats WHERE "
                         "migration = $1 AND minute >= $2 GROUP BY fingerprint, kind", since,
                         take_shape_kind, &sh);
    if (!rc)
        rc = window_rows(m, "SELECT fingerprint, side, bucket, sum(n) FROM @shadow_latency "
                         "WHERE migration = $1 AND minute >= $2 GROUP BY fingerprint, side, "
                         "bucket", since, take_shape_bucket, &sh);
    if (rc || !sh.n) {
        free(sh.v);
        return rc;
    }
    *out = sh.v;
    *n = sh.n;
    return 0;
}
