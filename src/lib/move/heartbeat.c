/* The heartbeat: a row written on the source, captured, and applied to the
 * target's control table once everything captured before it has been
 * applied (heartbeat.h). */
#include "move/heartbeat.h"

#include <stdio.h>

#include "base/clock.h"
#include "move/apply.h"
#include "move/changelog.h"
#include "move/tx.h"
#include "state/control.h"
#include "state/lease.h"

static const char *const arrivals_ddl =
    "CREATE TABLE IF NOT EXISTS @heartbeat (migration %TXT PRIMARY KEY, beat %INT NOT NULL, "
    "written_ms %INT NOT NULL, arrived_ms %INT NOT NULL)";

/* The source's table (a table name, beside the captured ones), its
 * changelog (a control name) and its capture triggers' prefix. */
typedef struct hb_names {
    char table[80], log[80], trig[80];
} hb_names;

static void names(const sg_migration *m, hb_names *n)
{
    snprintf(n->table, sizeof n->table, "_segue_hb_%s", m->spec->name);
    snprintf(n->log, sizeof n->log, "hblog_%s", m->spec->name);
    snprintf(n->trig, sizeof n->trig, "_segue_%s_h", m->spec->name);
}

static int capture_op(sg_migration *m, bool install)
{
    hb_names n;
    names(m, &n);
    const char *key[] = { "id" };
    sg_capture cap = { n.table, n.log, n.trig, 1, key, false };
    return install ? sg_db_capture_install(m->src, &cap, &m->err)
                   : sg_db_capture_remove(m->src, &cap, &m->err);
}

/* Spells tmpl for the source: "#T" is the heartbeat table, "#L" its
 * changelog, "$n" the n-th parameter. */
static void spell(const sg_migration *m, const char *tmpl, sg_buf *q)
{
    hb_names n;
    names(m, &n);
    for (const char *t = tmpl; *t; t++) {
        if (t[0] == '#' && (t[1] == 'T' || t[1] == 'L')) {
            if (*++t == 'T')
                sg_db_ident(m->src, q, n.table);
            else
                sg_db_control(m->src, q, n.log);
        } else if (t[0] == '$' && t[1] >= '1' && t[1] <= '9') {
            sg_db_param(m->src, q, *++t - '0');
        } else {
            sg_buf_putc(q, *t);
        }
    }
}

/* Prepares tmpl (spell) on the source. */
static int prepare(sg_migration *m, const char *tmpl, sg_stmt **s)
{
    sg_buf q = SG_BUF_INIT;
    spell(m, tmpl, &q);
    int rc = sg_buf_failed(&q) ? sg_err_set(&m->err, SG_ENOMEM, "out of memory")
                               : sg_db_prepare(m->src, sg_buf_str(&q), s, &m->err);
    sg_buf_free(&q);
    return rc;
}

/* Runs tmpl (spell) on the source with the integers v[0..n) as $1..; a
 * query's first row, if any, is left in s when s is not NULL (then the
 * caller finalizes it; *row says whether there is one). */
static int run(sg_migration *m, const char *tmpl, const int64_t *v, int n, sg_stmt **s,
               bool *row)
{
    sg_stmt *st = NULL;
    int rc = prepare(m, tmpl, &st);
    for (int i = 0; i < n && !rc; i++)
        rc = sg_db_bind_int(st, i + 1, v[i], &m->err);
    int step = rc ? -1 : sg_db_step(st, &m->err);
    if (!rc && step < 0)
        rc = SG_EDB;
    if (!rc && s) {
        *s = st;
        *row = step > 0;
        return 0;
    }
    sg_db_finalize(st);
    return rc;
}

int sg_heartbeat_install(sg_migration *m)
{
    char tmpl[160];
    if (m->spec->heartbeat_ms <= 0)
        return 0;
    snprintf(tmpl, sizeof tmpl, "CREATE TABLE IF NOT EXISTS #T (id %s PRIMARY KEY, "
             "written_ms %s NOT NULL)", sg_db_type_name(m->src, SG_V_INT),
             sg_db_type_name(m->src, SG_V_INT));
    hb_names n;
    names(m, &n);
    /* the triggers go first, so that forgetting old beats logs nothing */
    int rc = capture_op(m, false);
    if (!rc)
        rc = run(m, tmpl, NULL, 0, NULL, NULL);
    if (!rc)
        rc = run(m, "DELETE FROM #T", NULL, 0, NULL, NULL);
    if (!rc)
        rc = capture_op(m, true);
    if (!rc)
        rc = sg_changelog_forget(&m->err, m->src, n.log, INT64_MAX);
    return rc;
}

int sg_heartbeat_start(sg_migration *m)
{
    int rc = sg_control_exec(&m->err, m->tgt, arrivals_ddl);
    if (!rc)
        rc = sg_tx_begin(m->src, &m->err);
    if (rc)
        return rc;
    if ((rc = sg_heartbeat_install(m)) == 0)
        return sg_lease_commit(m, m->src);
    sg_tx_rollback(m->src);
    return rc;
}

int sg_heartbeat_remove(sg_migration *m)
{
    return capture_op(m, false);
}

int sg_heartbeat_drop(sg_migration *m)
{
    hb_names n;
    names(m, &n);
    int rc = capture_op(m, false);
    if (!rc)
        rc = sg_changelog_drop(&m->err, m->src, n.log);
    return rc ? rc : run(m, "DROP TABLE IF EXISTS #T", NULL, 0, NULL, NULL);
}

/* The first column of a one-row query on the source (dflt: no row, NULL). */
static int query_int(sg_migration *m, const char *tmpl, int64_t dflt, int64_t *out)
{
    sg_buf q = SG_BUF_INIT;
    spell(m, tmpl, &q);
    int rc = sg_buf_failed(&q) ? sg_err_set(&m->err, SG_ENOMEM, "out of memory")
                               : sg_db_query_int(m->src, sg_buf_str(&q), dflt, out, &m->err);
    sg_buf_free(&q);
    return rc;
}

int sg_heartbeat_beat(sg_migration *m, int64_t *id)
{
    int64_t last = 0, v[2] = { 0, 0 };
    int rc = sg_tx_begin_unmarked(m->src, &m->err);
    if (!rc)
        rc = query_int(m, "SELECT max(id) FROM #T", 0, &last);
    if (!rc) {
        /* ids are the write times, kept rising over a clock that steps back */
        int64_t now = sg_now_ms();
        v[0] = now > last ? now : last + 1;
        v[1] = now;
        rc = run(m, "INSERT INTO #T (id, written_ms) VALUES ($1, $2)", v, 2, NULL, NULL);
    }
    if (!rc) {
        rc = sg_tx_commit(m->src, &m->err);
        if (!rc && id)
            *id = v[0];
        return rc;
    }
    sg_tx_rollback(m->src);
    return rc;
}

/* The newest beat that has arrived: captured (its entry is in the
 * changelog) and written before every change still pending. *id 0: none. */
static int newest_arrived(sg_migration *m, int64_t *id, int64_t *written_ms)
{
    int64_t oldest = 0;
    sg_stmt *s = NULL;
    bool row = false;
    *id = *written_ms = 0;
    int rc = sg_apply_oldest(m, SG_FORWARD, &oldest);
    if (rc)
        return rc;
    int64_t before = oldest ? oldest : INT64_MAX;
    rc = run(m, "SELECT h.id, h.written_ms FROM #T h WHERE h.written_ms < $1 AND EXISTS "
             "(SELECT 1 FROM #L l WHERE l.k0 = h.id) ORDER BY h.id DESC LIMIT 1",
             &before, 1, &s, &row);
    if (!rc && row) {
        *id = sg_db_column_int(s, 0);
        *written_ms = sg_db_column_int(s, 1);
    }
    sg_db_finalize(s);
    return rc;
}

/* In the target's control table, behind the lease: beat `id`, written at
 * written_ms, arrived now. */
static int record_arrival(sg_migration *m, int64_t id, int64_t written_ms)
{
    sg_stmt *s = NULL;
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (rc)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @heartbeat (migration, beat, "
                            "written_ms, arrived_ms) VALUES ($1, $2, $3, $4) ON CONFLICT "
                            "(migration) DO UPDATE SET beat = excluded.beat, written_ms = "
                            "excluded.written_ms, arrived_ms = excluded.arrived_ms", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_int(s, 2, id, &m->err) || sg_db_bind_int(s, 3, written_ms, &m->err) ||
             sg_db_bind_int(s, 4, sg_now_ms(), &m->err) ? SG_EDB : 0;
    if (!rc)
        rc = sg_control_run(&m->err, s);
    else
        sg_db_finalize(s);
    if (!rc)
        return sg_lease_commit(m, m->tgt);
    sg_tx_rollback(m->tgt);
    return rc;
}

int sg_heartbeat_drain(sg_migration *m, int64_t *newest)
{
    int64_t id = 0, written = 0;
    if (newest)
        *newest = 0;
    int rc = newest_arrived(m, &id, &written);
    if (rc || !id)
        return rc;
    /* recorded first: a crash before the deletes only records it again */
    if ((rc = record_arrival(m, id, written)) != 0 || (rc = sg_tx_begin(m->src, &m->err)) != 0)
        return rc;
    rc = run(m, "DELETE FROM #L WHERE k0 <= $1", &id, 1, NULL, NULL);
    if (!rc)
        rc = run(m, "DELETE FROM #T WHERE id <= $1", &id, 1, NULL, NULL);
    if (!rc) {
        rc = sg_lease_commit(m, m->src);
        if (!rc && newest)
            *newest = id;
        return rc;
    }
    sg_tx_rollback(m->src);
    return rc;
}

/* The last arrival recorded in the target: *found false when none. */
static int last_arrival(sg_migration *m, int64_t *written_ms, int64_t *arrived_ms, bool *found)
{
    sg_stmt *s = NULL;
    *found = false;
    int rc = sg_db_control_present(m->tgt, "heartbeat", found, &m->err);
    if (rc || !*found)
        return rc;
    *found = false;
    rc = sg_control_prepare(&m->err, m->tgt, "SELECT written_ms, arrived_ms FROM @heartbeat "
                            "WHERE migration = $1", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    int step = rc ? 0 : sg_db_step(s, &m->err);
    if (step > 0) {
        *written_ms = sg_db_column_int(s, 0);
        *arrived_ms = sg_db_column_int(s, 1);
        *found = true;
    }
    sg_db_finalize(s);
    return rc ? rc : step < 0 ? SG_EDB : 0;
}

int sg_heartbeat_read(sg_migration *m, int64_t *lag_ms, int64_t *at_ms)
{
    hb_names n;
    sg_table_info *t = NULL;
    int64_t written = 0, arrived = 0, waiting = 0;
    bool found = false;
    *lag_ms = -1;
    *at_ms = 0;
    if (m->spec->heartbeat_ms <= 0)
        return 0;
    names(m, &n);
    int rc = last_arrival(m, &written, &arrived, &found);
    if (!rc)
        rc = sg_db_table_info(m->src, n.table, &t, &m->err);
    if (!rc && t)
        rc = query_int(m, "SELECT min(written_ms) FROM #T", 0, &waiting);
    sg_table_info_free(t);
    if (rc)
        return rc;
    int64_t now = sg_now_ms(), late = now - written - m->spec->heartbeat_ms;
    if (found) {
        *at_ms = arrived;
        *lag_ms = arrived > written ? arrived - written : 0;
        if (late > *lag_ms)
            *lag_ms = late; /* no beat since: the heartbeat stopped */
    }
    if (waiting && now - waiting > *lag_ms)
        *lag_ms = now - waiting;
    return 0;
}
