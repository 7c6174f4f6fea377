/* The read breaker (breaker.h). */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "move/apply.h"
#include "move/tx.h"
#include "state/control.h"
#include "switch/breaker.h"

int sg_read_rules_install(sg_migration *m)
{
    int rc = sg_control_exec(&m->err, m->tgt, "CREATE TABLE IF NOT EXISTS @read_rules "
                             "(migration %TXT PRIMARY KEY, segments %TXT, open %INT NOT "
                             "NULL DEFAULT 0, max_lag_ms %INT NOT NULL DEFAULT 0, lag_ms "
                             "%INT NOT NULL DEFAULT 0, since_ms %INT NOT NULL DEFAULT 0, "
                             "checked_ms %INT NOT NULL DEFAULT 0)");
    /* routers read it as whatever role the application has */
    return rc ? rc : sg_db_control_share(m->tgt, "read_rules", &m->err);
}

int sg_breaker_read(sg_conn *c, const char *name, int64_t now_ms, bool *open, sg_err *err)
{
    sg_stmt *s = NULL;
    bool present = false;
    *open = false;
    int rc = sg_db_control_present(c, "read_rules", &present, err);
    if (rc || !present)
        return rc;
    rc = sg_control_prepare(err, c, "SELECT open, max_lag_ms, checked_ms FROM "
                            "@read_rules WHERE migration = $1", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, name, err) ? SG_EDB : 0;
    int step = rc ? 0 : sg_db_step(s, err);
    if (step > 0) {
        int64_t max = sg_db_column_int(s, 1), checked = sg_db_column_int(s, 2);
        *open = sg_db_column_int(s, 0) != 0 ||
                (max > 0 && now_ms - checked > max + SG_BREAKER_STALE_MS);
    }
    sg_db_finalize(s);
    return rc ? rc : step < 0 ? SG_EDB : 0;
}

/* The row as the worker decided it now, and the audit row when it turned. */
static int save(sg_migration *m, bool open, bool turned, int64_t lag)
{
    sg_stmt *s = NULL;
    char detail[200];
    int64_t now = sg_now_ms(), max = m->spec->max_read_lag_ms;
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (rc)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @read_rules AS r (migration, "
                            "open, max_lag_ms, lag_ms, since_ms, checked_ms) VALUES ($1, "
                            "$2, $3, $4, $5, $5) ON CONFLICT (migration) DO UPDATE SET "
                            "open = $2, max_lag_ms = $3, lag_ms = $4, checked_ms = $5, "
                            "since_ms = CASE WHEN $6 = 1 THEN $5 ELSE r.since_ms END", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_int(s, 2, open, &m->err) || sg_db_bind_int(s, 3, max, &m->err) ||
             sg_db_bind_int(s, 4, lag, &m->err) || sg_db_bind_int(s, 5, now, &m->err) ||
             sg_db_bind_int(s, 6, turned, &m->err) ? SG_EDB : 0;
    if (!rc) {
        rc = sg_control_run(&m->err, s);
        s = NULL;
    }
    if (!rc && turned) {
        snprintf(detail, sizeof detail, open ? "lag %lld ms > cutover.max_read_lag %lld ms: "
                 "every router sends reads to the source" : "lag %lld ms <= half of "
                 "cutover.max_read_lag %lld ms: reads follow the routing again",
                 (long long)lag, (long long)max);
        rc = sg_control_audit(m, open ? "read_breaker_open" : "read_breaker_close",
                              detail, NULL);
        if (!rc)
            sg_log(m, SG_LOG_WARN, "read breaker: %s", detail);
    }
    sg_db_finalize(s);
    if (rc) {
        sg_tx_rollback(m->tgt);
        return rc;
    }
    return sg_tx_commit(m->tgt, &m->err);
}

/* max_read_lag taken out of the spec: a row left would read as a stale
 * decision (open) to the routers. */
static int forget(sg_migration *m)
{
    bool present = false;
    int rc = sg_db_control_present(m->tgt, "read_rules", &present, &m->err);
    sg_stmt *s = NULL;
    if (rc || !present)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, "UPDATE @read_rules SET open = 0, "
                            "max_lag_ms = 0 WHERE migration = $1", &s);
    if (!rc && sg_db_bind_text(s, 1, m->spec->name, &m->err))
        rc = SG_EDB;
    if (!rc)
        return sg_control_run(&m->err, s);
    sg_db_finalize(s);
    return rc;
}

int sg_breaker_tick(sg_migration *m, sg_breaker *b)
{
    int64_t max = m->spec->max_read_lag_ms, now = sg_mono_ms();
    if (max <= 0) {
        int rc = b->known ? 0 : forget(m);
        b->known = !rc;
        return rc;
    }
    if (now < b->next_ms)
        return 0;
    int64_t every = max / 4 < 100 ? 100 : max / 4 > 1000 ? 1000 : max / 4;
    b->next_ms = now + every;
    sg_routing r;
    bool found = false;
    int rc = sg_routing_load(m->tgt, m->spec->name, &r, &found, &m->err);
    if (rc || !found || r.write_side != SG_SIDE_SOURCE)
        return rc; /* once the writes moved, reads of the target have them */
    if (!b->known && ((rc = sg_read_rules_install(m)) != 0 ||
                      (rc = sg_breaker_read(m->tgt, m->spec->name, sg_now_ms(), &b->open,
                                            &m->err)) != 0))
        return rc;
    int64_t oldest = 0;
    if ((rc = sg_apply_oldest(m, SG_FORWARD, &oldest)) != 0)
        return rc;
    int64_t lag = oldest ? sg_now_ms() - oldest : 0;
    lag = lag < 0 ? 0 : lag;
    bool open = b->open ? lag > max / 2 : lag > max;
    rc = save(m, open, open != b->open, lag);
    if (!rc) {
        b->known = true;
        b->open = open;
    }
    return rc;
}
