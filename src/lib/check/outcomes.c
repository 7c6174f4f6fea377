/* Application outcomes (segue/outcomes.h): counted in memory per minute,
 * query type and side, then added to control tables in the target with
 * upserts (n = n + excluded.n, never overwritten) so that every reporting
 * process adds up: successes and failures, and latency histogram buckets
 * (the shadow results' layout, sg_hist). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "check/outcomes.h"
#include "internal.h"
#include "move/tx.h"
#include "state/control.h"

/* Entries held before a flush is due; past the cap, reports are dropped. */
#define HELD_DUE 256
#define HELD_CAP 4096
#define FLUSH_EVERY_MS 1000

static const char *const outcome_ddl[] = {
    "CREATE TABLE IF NOT EXISTS @app_outcomes (migration %TXT NOT NULL, minute %INT NOT "
    "NULL, kind %TXT NOT NULL, side %INT NOT NULL, ok %INT NOT NULL, errors %INT NOT NULL, "
    "PRIMARY KEY (migration, minute, kind, side))",
    "CREATE TABLE IF NOT EXISTS @app_latency (migration %TXT NOT NULL, minute %INT NOT "
    "NULL, kind %TXT NOT NULL, side %INT NOT NULL, bucket %INT NOT NULL, n %INT NOT NULL, "
    "PRIMARY KEY (migration, minute, kind, side, bucket))",
};

typedef struct held {
    int64_t minute;
    char kind[SG_OUTCOME_KIND_MAX + 1];
    int side;
    int64_t ok, errors;
    sg_hist lat;
} held;

struct sg_outcome_agg {
    held *v;
    size_t n, cap;
    char (*kinds)[SG_OUTCOME_KIND_MAX + 1]; /* the distinct kinds seen */
    size_t n_kinds;
    int64_t flushed_ms;        /* monotonic */
    int64_t dropped;
    bool tables_ok;
};

/* kind as kept: cut to SG_OUTCOME_KIND_MAX, "other" when empty or past
 * SG_OUTCOME_KINDS distinct ones. */
static int kept_kind(sg_outcome_agg *a, const char *kind, char out[SG_OUTCOME_KIND_MAX + 1])
{
    snprintf(out, SG_OUTCOME_KIND_MAX + 1, "%s", kind && *kind ? kind : "other");
    for (size_t i = 0; i < a->n_kinds; i++)
        if (!strcmp(a->kinds[i], out))
            return 0;
    if (a->n_kinds >= SG_OUTCOME_KINDS) {
        snprintf(out, SG_OUTCOME_KIND_MAX + 1, "other");
        return 0;
    }
    if (!a->kinds && !(a->kinds = calloc(SG_OUTCOME_KINDS, sizeof *a->kinds)))
        return SG_ENOMEM;
    memcpy(a->kinds[a->n_kinds++], out, SG_OUTCOME_KIND_MAX + 1);
    return 0;
}

static held *find_or_add(sg_outcome_agg *a, int64_t minute, const char *kind, int side)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].minute == minute && a->v[i].side == side && !strcmp(a->v[i].kind, kind))
            return &a->v[i];
    if (a->n >= HELD_CAP)
        return NULL;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        held *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return NULL;
        a->v = v;
        a->cap = cap;
    }
    held *h = &a->v[a->n++];
    memset(h, 0, sizeof *h);
    h->minute = minute;
    h->side = side;
    memcpy(h->kind, kind, sizeof h->kind);
    return h;
}

int sg_outcome_add(sg_outcome_agg **a, int side, const char *kind, bool ok, int64_t us,
                   sg_err *err)
{
    if (!*a) {
        if (!(*a = calloc(1, sizeof **a)))
            return sg_err_set(err, SG_ENOMEM, "out of memory");
        (*a)->flushed_ms = sg_mono_ms();
    }
    char k[SG_OUTCOME_KIND_MAX + 1];
    if (kept_kind(*a, kind, k))
        return sg_err_set(err, SG_ENOMEM, "out of memory");
    held *h = find_or_add(*a, sg_now_ms() / 60000, k, side);
    if (!h) {
        (*a)->dropped++;
        return sg_err_set(err, (*a)->n >= HELD_CAP ? SG_EDB : SG_ENOMEM, "%zu minutes of "
                          "outcomes are held unwritten (the control database cannot be "
                          "written): this report is dropped", (*a)->n);
    }
    *(ok ? &h->ok : &h->errors) += 1;
    sg_hist_add(&h->lat, us);
    return 0;
}

bool sg_outcome_due(const sg_outcome_agg *a)
{
    return a && a->n && (a->n >= HELD_DUE || sg_mono_ms() - a->flushed_ms >= FLUSH_EVERY_MS);
}

/* Binds $1..$4 (migration, minute, kind, side), then the values, steps and
 * resets kept statement *s. */
static int upsert(sg_conn *c, sg_stmt **s, const char *tmpl, const char *migration,
                  const held *h, int64_t a, int64_t b, sg_err *err)
{
    int rc = *s ? 0 : sg_control_prepare(err, c, tmpl, s);
    if (!rc && (sg_db_bind_text(*s, 1, migration, err) ||
                sg_db_bind_int(*s, 2, h->minute, err) ||
                sg_db_bind_text(*s, 3, h->kind, err) || sg_db_bind_int(*s, 4, h->side, err) ||
                sg_db_bind_int(*s, 5, a, err) || sg_db_bind_int(*s, 6, b, err)))
        rc = SG_EDB;
    if (!rc)
        rc = sg_db_step(*s, err) < 0 ? SG_EDB : 0;
    if (*s)
        sg_db_reset(*s);
    return rc;
}

static int write_all(sg_outcome_agg *a, sg_conn *c, const char *migration, sg_err *err)
{
    sg_stmt *counts = NULL, *buckets = NULL;
    int rc = 0;
    for (size_t i = 0; !rc && !a->tables_ok && i < sizeof outcome_ddl / sizeof *outcome_ddl; i++)
        rc = sg_control_exec(err, c, outcome_ddl[i]);
    for (size_t i = 0; !rc && i < a->n; i++) {
        const held *h = &a->v[i];
        rc = upsert(c, &counts, "INSERT INTO @app_outcomes AS o (migration, minute, kind, side, "
                    "ok, errors) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (migration, "
                    "minute, kind, side) DO UPDATE SET ok = o.ok + excluded.ok, errors = "
                    "o.errors + excluded.errors", migration, h, h->ok, h->errors, err);
        for (int b = 0; b < SG_HIST_BUCKETS && !rc; b++)
            if (h->lat.counts[b])
                rc = upsert(c, &buckets, "INSERT INTO @app_latency AS l (migration, minute, "
                            "kind, side, bucket, n) VALUES ($1, $2, $3, $4, $5, $6) ON "
                            "CONFLICT (migration, minute, kind, side, bucket) DO UPDATE SET "
                            "n = l.n + excluded.n", migration, h, b, h->lat.counts[b], err);
    }
    sg_db_finalize(counts);
    sg_db_finalize(buckets);
    return rc;
}

int sg_outcome_flush(sg_outcome_agg *a, sg_conn *c, const char *migration, sg_err *err)
{
    if (!a || !a->n)
        return 0;
    a->flushed_ms = sg_mono_ms(); /* tried: the next try waits its turn */
    int rc = sg_tx_begin_unmarked(c, err);
    if (!rc && (rc = write_all(a, c, migration, err)) != 0)
        sg_tx_rollback(c);
    else if (!rc)
        rc = sg_tx_commit(c, err); /* rolls back when it fails */
    if (rc)
        return sg_err_prefix(err, "recording application outcomes: "), rc;
    a->tables_ok = true;
    a->n = 0;
    return 0;
}

void sg_outcome_counts(const sg_outcome_agg *a, int64_t *held_n, int64_t *dropped)
{
    *held_n = *dropped = 0;
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        *held_n += a->v[i].ok + a->v[i].errors;
    *dropped = a->dropped;
}

void sg_outcome_free(sg_outcome_agg *a)
{
    if (!a)
        return;
    free(a->v);
    free(a->kinds);
    free(a);
}

/* The entry for (side, kind) in the sorted result, added when new. */
static sg_outcome *entry(sg_outcome **v, size_t *n, int side, const char *kind, size_t kind_len)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].side == side && strlen((*v)[i].kind) == kind_len &&
            !memcmp((*v)[i].kind, kind, kind_len))
            return &(*v)[i];
    sg_outcome *p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return NULL;
    *v = p;
    sg_outcome *o = &p[(*n)++];
    memset(o, 0, sizeof *o);
    o->side = side;
    snprintf(o->kind, sizeof o->kind, "%.*s", (int)kind_len, kind);
    o->latency.max_us = INT64_MAX; /* read back: the top bucket bounds it */
    return o;
}

/* Rows (side, kind, a, b[, c]) of a query over minutes [since, until)
 * into *v. */
static int read_rows(sg_conn *c, const char *tmpl, const char *migration, int64_t since,
                     int64_t until, bool buckets, sg_outcome **v, size_t *n, sg_err *err)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(err, c, tmpl, &s);
    if (!rc && (sg_db_bind_text(s, 1, migration, err) || sg_db_bind_int(s, 2, since, err) ||
                sg_db_bind_int(s, 3, until, err)))
        rc = SG_EDB;
    while (!rc && (rc = sg_db_step(s, err)) == 1) {
        sg_value k;
        sg_db_column(s, 1, &k);
        sg_outcome *o = entry(v, n, (int)sg_db_column_int(s, 0), k.p ? (const char *)k.p : "",
                              k.p ? k.n : 0);
        if (!o) {
            rc = sg_err_set(err, SG_ENOMEM, "out of memory");
            break;
        }
        int64_t a = sg_db_column_int(s, 2), b = sg_db_column_int(s, 3);
        if (!buckets) {
            o->ok += a;
            o->errors += b;
        } else if (a >= 0 && a < SG_HIST_BUCKETS) {
            o->latency.counts[a] += b;
            o->latency.n += b;
        }
        rc = 0;
    }
    sg_db_finalize(s);
    return rc < 0 ? rc : 0;
}

int sg_outcome_read(sg_conn *c, const char *migration, int64_t since, int64_t until,
                    sg_outcome **out, size_t *n, sg_err *err)
{
    bool present = false;
    *out = NULL;
    *n = 0;
    int rc = sg_db_control_present(c, "app_outcomes", &present, err);
    if (!rc && present)
        rc = read_rows(c, "SELECT side, kind, sum(ok), sum(errors) FROM @app_outcomes WHERE "
                       "migration = $1 AND minute >= $2 AND minute < $3 GROUP BY side, kind "
                       "ORDER BY side, kind", migration, since, until, false, out, n, err);
    if (!rc && present)
        rc = read_rows(c, "SELECT side, kind, bucket, sum(n) FROM @app_latency WHERE "
                       "migration = $1 AND minute >= $2 AND minute < $3 GROUP BY side, kind, "
                       "bucket", migration, since, until, true, out, n, err);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int sg_migration_outcomes(sg_outcome **out, size_t *n, sg_migration *m, int64_t window_ms)
{
    if (!m)
        return SG_EINVAL;
    sg_err_clear(&m->err);
    if (!out || !n || window_ms < 0)
        return sg_err_set(&m->err, SG_EINVAL, "sg_migration_outcomes: an out-parameter is "
                          "NULL or the window negative");
    int64_t since = window_ms ? (sg_now_ms() - window_ms) / 60000 : 0;
    return sg_outcome_read(m->tgt, m->spec->name, since, INT64_MAX, out, n, &m->err);
}

int sg_migration_outcomes_between(sg_outcome **out, size_t *n, sg_migration *m,
                                  int64_t from_ms, int64_t to_ms)
{
    if (!m)
        return SG_EINVAL;
    sg_err_clear(&m->err);
    if (!out || !n || from_ms < 0 || to_ms < 0)
        return sg_err_set(&m->err, SG_EINVAL, "sg_migration_outcomes_between: an "
                          "out-parameter is NULL or a time negative");
    return sg_outcome_read(m->tgt, m->spec->name, from_ms / 60000,
                           to_ms ? to_ms / 60000 : INT64_MAX, out, n, &m->err);
}
