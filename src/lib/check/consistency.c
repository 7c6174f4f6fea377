/* Per-mapping verify results (check/consistency.h) and what the dashboard
 * reads of them (sg_migration_consistency). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "check/consistency.h"
#include "state/control.h"

static const char *const parts_ddl =
    "CREATE TABLE IF NOT EXISTS @verify_mappings (migration %TXT NOT NULL, at_ms %INT NOT "
    "NULL, pos %INT NOT NULL, mapping %TXT NOT NULL, source_rows %INT NOT NULL, target_rows "
    "%INT NOT NULL, chunks %INT NOT NULL, chunks_differing %INT NOT NULL, differences %INT "
    "NOT NULL, full_pass %INT NOT NULL, started_ms %INT NOT NULL, ended_ms %INT NOT NULL, "
    "PRIMARY KEY (migration, at_ms, pos))";

static const char *const keys_ddl =
    "CREATE TABLE IF NOT EXISTS @verify_keys (migration %TXT NOT NULL, at_ms %INT NOT NULL, "
    "pos %INT NOT NULL, key %TXT NOT NULL, kind %INT NOT NULL)";

/* Keys kept per mapping and pass (the report lists up to its max_keys). */
#define KEYS_KEPT 20

/* The report's differing keys, up to KEYS_KEPT per mapping. */
static int record_keys(sg_migration *m, int64_t at_ms, const sg_verify_report *r)
{
    sg_stmt *s = NULL;
    size_t *kept = calloc(m->n_maps ? m->n_maps : 1, sizeof *kept);
    int rc = kept ? sg_control_exec(&m->err, m->tgt, keys_ddl)
                  : sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (!rc && r->n_diffs)
        rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @verify_keys (migration, "
                                "at_ms, pos, key, kind) VALUES ($1, $2, $3, $4, $5)", &s);
    for (size_t i = 0; !rc && i < r->n_diffs; i++) {
        size_t pos = 0;
        while (pos < m->n_maps && strcmp(m->maps[pos].label, r->diffs[i].mapping))
            pos++;
        if (pos == m->n_maps || kept[pos]++ >= KEYS_KEPT)
            continue;
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_int(s, 2, at_ms, &m->err) || sg_db_bind_int(s, 3, (int64_t)pos, &m->err) ||
             sg_db_bind_text(s, 4, r->diffs[i].key, &m->err) ||
             sg_db_bind_int(s, 5, r->diffs[i].kind, &m->err) ? SG_EDB : 0;
        if (!rc)
            rc = sg_db_step(s, &m->err) < 0 ? SG_EDB : 0;
        sg_db_reset(s);
    }
    sg_db_finalize(s);
    free(kept);
    return rc;
}

static int record_part(sg_migration *m, sg_stmt *s, int64_t at_ms, size_t i,
                       const sg_verify_part *p, bool full)
{
    const int64_t v[] = { p->source_rows, p->target_rows, p->chunks, p->chunks_differing,
                          p->differences, full, p->started_ms, p->ended_ms };
    int rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_int(s, 2, at_ms, &m->err) || sg_db_bind_int(s, 3, (int64_t)i, &m->err) ||
             sg_db_bind_text(s, 4, m->maps[i].label, &m->err) ? SG_EDB : 0;
    for (int k = 0; !rc && k < 8; k++)
        rc = sg_db_bind_int(s, 5 + k, v[k], &m->err);
    if (!rc)
        rc = sg_db_step(s, &m->err) < 0 ? SG_EDB : 0;
    sg_db_reset(s);
    return rc;
}

int sg_consistency_record(sg_migration *m, int64_t at_ms, const sg_verify_part *parts,
                          bool full, const sg_verify_report *r)
{
    sg_stmt *s = NULL;
    int rc = sg_control_exec(&m->err, m->tgt, parts_ddl);
    if (!rc)
        rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @verify_mappings (migration, "
                                "at_ms, pos, mapping, source_rows, target_rows, chunks, "
                                "chunks_differing, differences, full_pass, started_ms, "
                                "ended_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                                "$11, $12)", &s);
    for (size_t i = 0; !rc && i < m->n_maps; i++)
        rc = record_part(m, s, at_ms, i, &parts[i], full);
    sg_db_finalize(s);
    return rc ? rc : record_keys(m, at_ms, r);
}

/* Runs a statement bound with the migration's name, handing each row to fn. */
static int each_row(sg_migration *m, const char *tmpl, void (*fn)(sg_stmt *, void *),
                    void *ud)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(&m->err, m->tgt, tmpl, &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    while (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        fn(s, ud);
        rc = 0;
    }
    sg_db_finalize(s);
    return rc < 0 ? rc : 0;
}

typedef struct reading {
    sg_consistency *v;
    size_t n;
} reading;

/* Rows (pos, at_ms, source, target, chunks, differing, differences) of the
 * two latest passes per mapping, newest first: the first fills the entry,
 * the second gives the deltas. */
static void take_pass(sg_stmt *s, void *ud)
{
    reading *r = ud;
    int64_t pos = sg_db_column_int(s, 0);
    if (pos < 0 || (size_t)pos >= r->n)
        return;
    sg_consistency *c = &r->v[pos];
    int64_t src = sg_db_column_int(s, 2), tgt = sg_db_column_int(s, 3);
    if (!c->checked_at_ms) {
        c->checked_at_ms = sg_db_column_int(s, 1);
        c->source_rows = src;
        c->target_rows = tgt;
        c->chunks = sg_db_column_int(s, 4);
        c->chunks_differing = sg_db_column_int(s, 5);
        c->differences = sg_db_column_int(s, 6);
        c->full = sg_db_column_int(s, 7) != 0;
    } else if (!c->previous_at_ms) {
        c->previous_at_ms = sg_db_column_int(s, 1);
        c->source_delta = c->source_rows - src;
        c->target_delta = c->target_rows - tgt;
    }
}

static void take_clean(sg_stmt *s, void *ud)
{
    reading *r = ud;
    int64_t pos = sg_db_column_int(s, 0);
    if (pos >= 0 && (size_t)pos < r->n)
        r->v[pos].last_full_clean_ms = sg_db_column_int(s, 1);
}

/* Rows (pos, key) of the last pass's keys: "(1), (2)" into its entry. */
static void take_key(sg_stmt *s, void *ud)
{
    reading *r = ud;
    int64_t pos = sg_db_column_int(s, 0);
    sg_value k;
    sg_db_column(s, 1, &k);
    if (pos < 0 || (size_t)pos >= r->n || k.type != SG_V_TEXT)
        return;
    char *keys = r->v[pos].keys;
    size_t len = strlen(keys);
    snprintf(keys + len, sizeof r->v[pos].keys - len, "%s%.*s", len ? ", " : "", (int)k.n,
             (const char *)k.p);
}

static void take_aside(sg_stmt *s, void *ud)
{
    void **a = ud;
    sg_migration *m = a[0];
    reading *r = a[1];
    int64_t grp = sg_db_column_int(s, 0), n = sg_db_column_int(s, 1);
    for (size_t i = 0; i < r->n; i++)
        if ((int64_t)m->maps[i].group == grp)
            r->v[i].set_aside += n;
}

int sg_migration_consistency(sg_consistency **out, size_t *n, sg_migration *m)
{
    if (!m)
        return SG_EINVAL;
    sg_err_clear(&m->err);
    if (!out || !n)
        return sg_err_set(&m->err, SG_EINVAL, "sg_migration_consistency: an out-parameter "
                          "is NULL");
    reading r = { calloc(m->n_maps ? m->n_maps : 1, sizeof *r.v), m->n_maps };
    *out = NULL;
    *n = 0;
    if (!r.v)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n_maps; i++)
        snprintf(r.v[i].mapping, sizeof r.v[i].mapping, "%s", m->maps[i].label);
    bool parts = false, aside = false, keys = false;
    int rc = sg_db_control_present(m->tgt, "verify_mappings", &parts, &m->err);
    if (!rc)
        rc = sg_db_control_present(m->tgt, "verify_keys", &keys, &m->err);
    if (!rc)
        rc = sg_db_control_present(m->tgt, "set_aside", &aside, &m->err);
    if (!rc && parts)
        rc = each_row(m, "SELECT pos, at_ms, source_rows, target_rows, chunks, "
                      "chunks_differing, differences, full_pass FROM @verify_mappings v WHERE "
                      "migration = $1 AND at_ms >= (SELECT coalesce(min(at_ms), 0) FROM "
                      "(SELECT DISTINCT at_ms FROM @verify_mappings WHERE migration = $1 "
                      "ORDER BY at_ms DESC LIMIT 2) t) ORDER BY at_ms DESC", take_pass, &r);
    if (!rc && parts)
        rc = each_row(m, "SELECT pos, max(at_ms) FROM @verify_mappings WHERE migration = $1 "
                      "AND full_pass = 1 AND differences = 0 GROUP BY pos", take_clean, &r);
    if (!rc && keys)
        rc = each_row(m, "SELECT pos, key FROM @verify_keys WHERE migration = $1 AND at_ms = "
                      "(SELECT max(at_ms) FROM @verify_mappings WHERE migration = $1) "
                      "ORDER BY pos, key", take_key, &r);
    void *a[2] = { m, &r };
    if (!rc && aside)
        rc = each_row(m, "SELECT grp, count(*) FROM @set_aside WHERE migration = $1 "
                      "GROUP BY grp", take_aside, a);
    if (rc) {
        free(r.v);
        return rc;
    }
    *out = r.v;
    *n = r.n;
    return 0;
}
