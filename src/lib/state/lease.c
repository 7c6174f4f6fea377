/* The worker lease and its fence (see lease.h). */
#include "state/lease.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/control.h"
#include "base/testpoint.h"
#include "move/tx.h"

typedef struct lease_row {
    bool found;
    char holder[128];
    int64_t expires_ms;
    int64_t token;
} lease_row;

static void my_holder(char *out, size_t size)
{
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(out, size, "%ld@%s", (long)getpid(), host);
}

/* A holder on this host whose process is gone is dead at once. */
static bool holder_alive(const char *holder, int64_t expires_ms)
{
    char mine[128];
    if (!holder[0] || expires_ms < sg_now_ms())
        return false;
    my_holder(mine, sizeof mine);
    const char *at = strchr(holder, '@'), *my_at = strchr(mine, '@');
    if (at && my_at && !strcmp(at, my_at)) {
        long pid = strtol(holder, NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            return false;
    }
    return true;
}

static int read_lease(sg_migration *m, lease_row *l)
{
    sg_stmt *s = NULL;
    memset(l, 0, sizeof *l);
    int rc = sg_control_prepare(&m->err, m->tgt, "SELECT holder, expires_ms, token FROM "
                                "@lease WHERE migration = $1", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
        (rc = sg_db_step(s, &m->err)) == 1) {
        sg_value v;
        sg_db_column(s, 0, &v);
        snprintf(l->holder, sizeof l->holder, "%.*s",
                 (int)(v.n < sizeof l->holder ? v.n : sizeof l->holder - 1),
                 v.p ? (const char *)v.p : "");
        l->expires_ms = sg_db_column_int(s, 1);
        l->token = sg_db_column_int(s, 2);
        l->found = true;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

/* The compare-and-set: the row exactly as read (or no row) becomes ours
 * with the next token; *won is false when another worker changed it
 * first (PostgreSQL re-reads the row once that worker commits). */
static int cas_lease(sg_migration *m, const lease_row *seen, const char *mine, bool *won)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(&m->err, m->tgt, seen->found
        ? "UPDATE @lease SET holder = $1, expires_ms = $2, token = token + 1 "
          "WHERE migration = $3 AND token = $4 AND expires_ms = $5"
        : "INSERT INTO @lease (migration, holder, expires_ms, token) VALUES "
          "($3, $1, $2, 1) ON CONFLICT (migration) DO NOTHING", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, mine, &m->err)) &&
        !(rc = sg_db_bind_int(s, 2, sg_now_ms() + m->spec->lease_ttl_ms, &m->err)) &&
        !(rc = sg_db_bind_text(s, 3, m->spec->name, &m->err)) && seen->found &&
        !(rc = sg_db_bind_int(s, 4, seen->token, &m->err)))
        rc = sg_db_bind_int(s, 5, seen->expires_ms, &m->err);
    if (!rc)
        rc = sg_control_run(&m->err, s);
    else
        sg_db_finalize(s);
    *won = !rc && sg_db_changes(m->tgt) == 1;
    return rc;
}

/* In one target transaction: the lease as it is, and the take when it is
 * free. *won: taken, as *seen + 1; else *seen is what stood in the way. */
static int try_take(sg_migration *m, const char *mine, lease_row *seen, bool *won)
{
    *won = false;
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (rc)
        return rc;
    rc = read_lease(m, seen);
    sg_test_point("lease:read");
    /* another handle of this very process is a live holder too */
    bool free = !seen->found || !holder_alive(seen->holder, seen->expires_ms);
    if (!rc && free)
        rc = cas_lease(m, seen, mine, won);
    if (!rc && *won && seen->found && seen->holder[0] && strcmp(seen->holder, mine))
        rc = sg_control_audit(m, "lease_takeover", seen->holder, "previous worker is gone");
    if (!rc && *won)
        return sg_tx_commit(m->tgt, &m->err);
    sg_tx_rollback(m->tgt);
    return rc;
}

int sg_lease_acquire(sg_migration *m, bool *got, char *holder, size_t holder_size)
{
    char mine[128];
    lease_row seen;
    bool won;
    *got = false;
    holder[0] = '\0';
    my_holder(mine, sizeof mine);
    int rc = try_take(m, mine, &seen, &won);
    if (!rc && !won && (rc = read_lease(m, &seen)) == 0)
        snprintf(holder, holder_size, "%s", seen.holder[0] ? seen.holder
                                                          : "a worker started at the same time");
    if (rc || !won)
        return rc;
    *got = true;
    m->has_lease = true;
    m->lease_token = seen.found ? seen.token + 1 : 1;
    m->lease_renewed_ms = sg_mono_ms();
    return 0;
}

static int lost(sg_migration *m)
{
    m->has_lease = false;
    return sg_err_set(&m->err, SG_EBUSY, "lost the worker lease of migration '%s' "
                      "to another worker (this one held token %lld); its "
                      "uncommitted work was rolled back; hint: run one worker at "
                      "a time, and give worker.lease_ttl room for pauses",
                      m->spec->name, (long long)m->lease_token);
}

/* On the target: renews the lease row where the token is still ours. */
static int check_target(sg_migration *m)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(&m->err, m->tgt, "UPDATE @lease SET expires_ms = $1 "
                                "WHERE migration = $2 AND token = $3", &s);
    if (!rc && !(rc = sg_db_bind_int(s, 1, sg_now_ms() + m->spec->lease_ttl_ms, &m->err)) &&
        !(rc = sg_db_bind_text(s, 2, m->spec->name, &m->err)) &&
        !(rc = sg_db_bind_int(s, 3, m->lease_token, &m->err)))
        rc = sg_control_run(&m->err, s);
    else
        sg_db_finalize(s);
    if (!rc && sg_db_changes(m->tgt) != 1)
        return lost(m);
    if (!rc)
        m->lease_renewed_ms = sg_mono_ms();
    return rc;
}

/* On the source (another database): raises its fence token to ours,
 * which fails once a newer worker has written there. */
static int check_source(sg_migration *m, sg_conn *c)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(&m->err, c, "INSERT INTO @fence (migration, token) VALUES "
                                "($1, $2) ON CONFLICT (migration) DO UPDATE SET "
                                "token = $2 WHERE @fence.token <= $2", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
        !(rc = sg_db_bind_int(s, 2, m->lease_token, &m->err)))
        rc = sg_control_run(&m->err, s);
    else
        sg_db_finalize(s);
    if (!rc && sg_db_changes(c) != 1)
        return lost(m);
    return rc;
}

int sg_lease_check(sg_migration *m, sg_conn *c)
{
    if (!m->has_lease)
        return m->lease_token ? lost(m) : 0;
    return c == m->tgt ? check_target(m) : check_source(m, c);
}

int sg_lease_commit(sg_migration *m, sg_conn *dst)
{
    int rc = sg_lease_check(m, dst);
    if (rc) {
        sg_tx_rollback(dst);
        return rc;
    }
    return sg_tx_commit(dst, &m->err);
}

int sg_lease_renew(sg_migration *m)
{
    if (!m->has_lease || sg_mono_ms() - m->lease_renewed_ms < m->spec->lease_ttl_ms / 3)
        return 0;
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (!rc)
        rc = sg_lease_commit(m, m->tgt);
    return rc;
}

void sg_lease_release(sg_migration *m)
{
    sg_stmt *s = NULL;
    sg_err keep = m->err; /* the reason the worker stops stays the message */
    if (!m->has_lease)
        return;
    m->has_lease = false;
    if (sg_tx_begin(m->tgt, &m->err) == 0) {
        int rc = sg_control_prepare(&m->err, m->tgt, "UPDATE @lease SET holder = '', "
                                    "expires_ms = 0 WHERE migration = $1 AND token = $2", &s);
        if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
            !(rc = sg_db_bind_int(s, 2, m->lease_token, &m->err)))
            rc = sg_control_run(&m->err, s);
        else
            sg_db_finalize(s);
        if (rc || sg_tx_commit(m->tgt, &m->err))
            sg_tx_rollback(m->tgt);
    }
    m->lease_token = 0;
    m->err = keep;
}

int sg_lease_holder(sg_migration *m, char *holder, size_t size, bool *alive)
{
    lease_row l;
    int rc = read_lease(m, &l);
    snprintf(holder, size, "%s", rc ? "" : l.holder);
    *alive = !rc && l.found && holder_alive(l.holder, l.expires_ms);
    return rc;
}

int sg_fence_install(sg_migration *m)
{
    if (m->src == m->tgt)
        return 0;
    int rc = sg_db_control_setup(m->src, &m->err);
    if (!rc)
        rc = sg_control_exec(&m->err, m->src, "CREATE TABLE IF NOT EXISTS @fence (migration "
                             "%TXT PRIMARY KEY, token %INT NOT NULL)");
    return rc;
}

static int count_fences(sg_migration *m, int64_t *n)
{
    sg_stmt *s = NULL;
    *n = 0;
    int rc = sg_control_prepare(&m->err, m->src, "SELECT count(*) FROM @fence", &s);
    if (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        *n = sg_db_column_int(s, 0);
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

int sg_fence_remove(sg_migration *m)
{
    sg_stmt *s = NULL;
    int64_t left = 0;
    if (m->src == m->tgt)
        return 0;
    /* made by start in the same transaction as the capture this removes */
    int rc = sg_control_prepare(&m->err, m->src,
                                "DELETE FROM @fence WHERE migration = $1", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)))
        rc = sg_control_run(&m->err, s);
    else
        sg_db_finalize(s);
    if (!rc)
        rc = count_fences(m, &left);
    if (!rc && left == 0)
        rc = sg_control_exec(&m->err, m->src, "DROP TABLE IF EXISTS @fence");
    return rc;
}
