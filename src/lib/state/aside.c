/* Keys set aside (see aside.h). */
#include "state/aside.h"

#include <stdio.h>
#include <string.h>

#include "move/changelog.h"
#include "state/control.h"
#include "state/lease.h"
#include "move/tx.h"

/* The key as stored: its canonical row encoding. */
static int bind_key(sg_err *e, sg_stmt *s, int idx, const sg_row *key, sg_buf *kb)
{
    sg_row_encode(kb, key->v, key->n);
    return sg_buf_failed(kb) ? sg_err_set(e, SG_ENOMEM, "out of memory")
                             : sg_db_bind_blob(s, idx, kb->data, kb->len, e);
}

/* DELETE (clear) or INSERT ... ON CONFLICT (record) of one key's row. */
static int write_row(sg_migration *m, sg_dir d, size_t g, const sg_row *key,
                     const char *error)
{
    sg_stmt *s = NULL;
    sg_buf kb = SG_BUF_INIT;
    char now[32];
    sg_now_iso(now);
    int rc = sg_control_prepare(&m->err, m->tgt, error
        ? "INSERT INTO @set_aside (migration, direction, grp, key, error, at) VALUES "
          "($1, $2, $3, $4, $5, $6) ON CONFLICT (migration, direction, grp, key) DO "
          "UPDATE SET error = $5, at = $6"
        : "DELETE FROM @set_aside WHERE migration = $1 AND direction = $2 AND grp = $3 "
          "AND key = $4", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
        !(rc = sg_db_bind_int(s, 2, d, &m->err)) &&
        !(rc = sg_db_bind_int(s, 3, (int64_t)g, &m->err)) &&
        !(rc = bind_key(&m->err, s, 4, key, &kb)) && error &&
        !(rc = sg_db_bind_text(s, 5, error, &m->err)))
        rc = sg_db_bind_text(s, 6, now, &m->err);
    if (!rc)
        rc = sg_control_run(&m->err, s);
    else
        sg_db_finalize(s);
    sg_buf_free(&kb);
    return rc;
}

/* The shared table read_aside names the source tables with forward keys
 * set aside: every router sends their reads to the source (read-your-
 * writes, switch/ryw.h). Kept in the transaction that changes set_aside:
 * a group is added with its first key and removed with its last. */
static int publish(sg_migration *m, sg_dir d, size_t g, bool aside)
{
    sg_stmt *s = NULL;
    bool present = false;
    if (d != SG_FORWARD)
        return 0;
    int rc = aside ? sg_control_exec(&m->err, m->tgt, "CREATE TABLE IF NOT EXISTS "
                                     "@read_aside (migration %TXT NOT NULL, grp %INT NOT "
                                     "NULL, PRIMARY KEY (migration, grp))")
                   : sg_db_control_present(m->tgt, "read_aside", &present, &m->err);
    if (!rc && aside)
        rc = sg_db_control_share(m->tgt, "read_aside", &m->err);
    if (rc || (!aside && !present))
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, aside
        ? "INSERT INTO @read_aside (migration, grp) VALUES ($1, $2) ON CONFLICT "
          "(migration, grp) DO NOTHING"
        : "DELETE FROM @read_aside WHERE migration = $1 AND grp = $2 AND NOT EXISTS "
          "(SELECT 1 FROM @set_aside WHERE migration = $1 AND direction = 0 AND grp = $2)",
        &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
        !(rc = sg_db_bind_int(s, 2, (int64_t)g, &m->err)))
        return sg_control_run(&m->err, s);
    sg_db_finalize(s);
    return rc;
}

int sg_aside_record(sg_migration *m, sg_dir d, size_t g, const sg_row *key,
                    const char *error)
{
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (!rc)
        rc = write_row(m, d, g, key, error);
    if (!rc)
        rc = publish(m, d, g, true);
    if (!rc)
        return sg_lease_commit(m, m->tgt);
    sg_tx_rollback(m->tgt);
    return rc;
}

int sg_aside_clear(sg_migration *m, sg_dir d, size_t g, const sg_row *key)
{
    int rc = write_row(m, d, g, key, NULL);
    return rc ? rc : publish(m, d, g, false);
}

int sg_aside_any(sg_migration *m, sg_dir d, size_t g, bool *any)
{
    sg_stmt *s = NULL;
    *any = false;
    int rc = sg_control_prepare(&m->err, m->tgt,
                                "SELECT 1 FROM @set_aside WHERE migration = $1 "
                                "AND direction = $2 AND grp = $3 LIMIT 1", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
        !(rc = sg_db_bind_int(s, 2, d, &m->err)) &&
        !(rc = sg_db_bind_int(s, 3, (int64_t)g, &m->err)) &&
        (rc = sg_db_step(s, &m->err)) >= 0) {
        *any = rc == 1;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

int sg_aside_groups(sg_err *e, sg_conn *c, const char *name, size_t n_groups, bool *aside)
{
    sg_stmt *s = NULL;
    bool present = false;
    memset(aside, 0, n_groups * sizeof *aside);
    int rc = sg_db_control_present(c, "read_aside", &present, e);
    if (rc || !present)
        return rc;
    rc = sg_control_prepare(e, c, "SELECT grp FROM @read_aside WHERE migration = $1", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, name, e);
    while (!rc && (rc = sg_db_step(s, e)) == 1) {
        int64_t g = sg_db_column_int(s, 0);
        if (g >= 0 && (uint64_t)g < n_groups)
            aside[g] = true;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

/* Appends "(k) in Table: error" for the current row of s. */
static void describe(sg_migration *m, sg_stmt *s, sg_buf *out)
{
    sg_value kv, ev;
    sg_row key = { 0 };
    int64_t g = sg_db_column_int(s, 1);
    sg_db_column(s, 0, &kv);
    sg_db_column(s, 2, &ev);
    if (kv.type == SG_V_BLOB && !sg_row_decode(&key, kv.p, kv.n))
        sg_key_format(out, key.v, key.n);
    sg_buf_printf(out, " in %s: %.*s", g >= 0 && (size_t)g < m->n_groups
                  ? m->groups[g].table : "?", (int)(ev.n > 160 ? 160 : ev.n),
                  ev.p ? (const char *)ev.p : "");
    sg_row_free(&key);
}

int sg_aside_count(sg_migration *m, int64_t *n, char *first, size_t size)
{
    sg_stmt *s = NULL;
    sg_buf out = SG_BUF_INIT;
    bool present = false;
    *n = 0;
    first[0] = '\0';
    int rc = sg_control_present(m, &present);
    if (rc || !present)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, "SELECT key, grp, error FROM @set_aside WHERE "
                            "migration = $1 ORDER BY at", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    while (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        if ((*n)++ < 3) {
            sg_buf_puts(&out, *n > 1 ? "; " : "");
            describe(m, s, &out);
        }
        rc = 0;
    }
    sg_db_finalize(s);
    snprintf(first, size, "%s", sg_buf_failed(&out) ? "" : sg_buf_str(&out));
    sg_buf_free(&out);
    return rc;
}

int sg_aside_refuse(sg_migration *m, const char *command)
{
    char first[512];
    int64_t n = 0;
    int rc = sg_aside_count(m, &n, first, sizeof first);
    if (!rc && n)
        rc = sg_err_set(&m->err, SG_ESTATE, "cannot %s: %lld key%s set aside, whose "
                        "change the other side refused: %s; hint: fix the row, then "
                        "`segue retry` and let the worker apply it", command,
                        (long long)n, n == 1 ? " is" : "s are", first);
    return rc;
}

/* The oldest set-aside key of this migration: *found false when none. */
static int oldest(sg_migration *m, int *d, size_t *g, sg_row *key, bool *found)
{
    sg_stmt *s = NULL;
    *found = false;
    int rc = sg_control_prepare(&m->err, m->tgt, "SELECT direction, grp, key FROM @set_aside "
                                "WHERE migration = $1 ORDER BY at LIMIT 1", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
        (rc = sg_db_step(s, &m->err)) == 1) {
        sg_value kv;
        int64_t gg = sg_db_column_int(s, 1);
        *d = sg_db_column_int(s, 0) == SG_REVERSE ? SG_REVERSE : SG_FORWARD;
        sg_db_column(s, 2, &kv);
        rc = gg < 0 || (size_t)gg >= m->n_groups || kv.type != SG_V_BLOB ||
                     sg_row_decode(key, kv.p, kv.n)
                 ? sg_err_set(&m->err, SG_EFORMAT, "target: a set-aside key is "
                              "unreadable; hint: see the set_aside control table")
                 : 0;
        *g = (size_t)gg;
        *found = rc == 0;
    }
    sg_db_finalize(s);
    return rc < 0 ? rc : 0;
}

int sg_migration_retry(int64_t *n, sg_migration *m)
{
    bool present = false, found = true;
    if (!m || !n)
        return sg_bad_arg(m, "sg_migration_retry", "n is NULL");
    *n = 0;
    sg_err_clear(&m->err);
    int rc = sg_control_present(m, &present);
    while (!rc && present && found) {
        sg_row key = { 0 };
        int d = SG_FORWARD;
        size_t g = 0;
        if ((rc = oldest(m, &d, &g, &key, &found)) != 0 || !found)
            break;
        sg_conn *logc = d == SG_FORWARD ? m->src : m->tgt;
        const char *log = d == SG_FORWARD ? m->groups[g].log : m->groups[g].rlog;
        /* the change goes back into its changelog before its record goes */
        if ((rc = sg_tx_begin(logc, &m->err)) == 0 &&
            (rc = sg_changelog_push(&m->err, logc, log, &key)) == 0)
            rc = sg_tx_commit(logc, &m->err);
        else
            sg_tx_rollback(logc);
        if (!rc && (rc = sg_tx_begin(m->tgt, &m->err)) == 0) {
            if ((rc = sg_aside_clear(m, (sg_dir)d, g, &key)) == 0 &&
                (rc = sg_control_audit(m, "retry", "a set-aside key back in its "
                                       "changelog", NULL)) == 0)
                rc = sg_tx_commit(m->tgt, &m->err);
            else
                sg_tx_rollback(m->tgt);
        }
        sg_row_free(&key);
        *n += !rc;
    }
    return rc;
}
