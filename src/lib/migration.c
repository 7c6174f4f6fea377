/* The migration handle: open, close, and the transitions that create and
 * remove what segue installs (start, abort). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gate/gate.h"
#include "state/aside.h"
#include "move/apply.h"
#include "move/capture.h"
#include "move/heartbeat.h"
#include "state/control.h"
#include "switch/cutover.h"
#include "check/drift.h"
#include "state/phase.h"
#include "state/lease.h"
#include "base/testpoint.h"
#include "move/tx.h"
#include "state/workstate.h"
#include "plan/mapping.h"

void sg_log(sg_migration *m, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (!m->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    m->log(m->log_ud, level, msg);
}

int sg_bad_arg(sg_migration *m, const char *fn, const char *what)
{
    return m ? sg_err_set(&m->err, SG_EINVAL, "%s: %s", fn, what) : SG_EINVAL;
}

int sg_bad_version(sg_migration *m, const char *fn, int version, int known)
{
    if (!m)
        return SG_EINVAL;
    return sg_err_set(&m->err, SG_EINVAL, "%s: options version %d is not %d; hint: "
                      "fill the options with their _init function or _INIT macro",
                      fn, version, known);
}

static char *default_actor(void)
{
    char host[64] = "localhost", out[160];
    const char *user = getenv("USER");
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(out, sizeof out, "%s@%s", user && *user ? user : "unknown", host);
    return strdup(out);
}

static int open_endpoints(sg_migration *m, const sg_open_options *o)
{
    unsigned ro = o->read_only ? SG_DB_READ_ONLY : 0;
    int rc = sg_db_open(&m->src, m->spec->source, "source", ro, &m->err);
    if (rc)
        return rc;
    if ((rc = sg_db_idle_timeout(m->src, m->spec->idle_timeout_ms, &m->err)) != 0)
        return rc;
    if (sg_db_same_database(m->spec->source, m->spec->target)) {
        m->tgt = m->src;
        return 0;
    }
    /* read-only: a target not made yet reads as empty (SG_DB_CREATE) */
    unsigned create = o->create_target || o->read_only ? SG_DB_CREATE : 0;
    rc = sg_db_open(&m->tgt, m->spec->target, "target", ro | create, &m->err);
    return rc ? rc : sg_db_idle_timeout(m->tgt, m->spec->idle_timeout_ms, &m->err);
}

/* The mappings of a cleaned migration need not resolve (after `cleanup
 * --drop-source` its source tables are gone): it opens without them, so
 * that the commands reading its record (status, log, runbook) still work;
 * every other step is refused by its phase. Otherwise rc, its message
 * kept. */
static int cleaned_without_source(sg_migration *m, int rc)
{
    sg_phase p;
    sg_err why = m->err;
    if (sg_control_phase(m, &p) || p != SG_PHASE_CLEANED) {
        m->err = why;
        return rc;
    }
    sg_mapping_free(m);
    sg_err_clear(&m->err);
    return 0;
}

int sg_open_options_init(sg_open_options *o, unsigned version)
{
    if (!o || version != SG_OPEN_OPTIONS_VERSION)
        return SG_EINVAL;
    *o = (sg_open_options)SG_OPEN_OPTIONS_INIT;
    return 0;
}

int sg_migration_open_ext(sg_migration **out, const char *spec_path,
                          const sg_open_options *o)
{
    static const sg_open_options defaults = SG_OPEN_OPTIONS_INIT;
    if (!out)
        return SG_EINVAL;
    sg_migration *m = calloc(1, sizeof *m);
    *out = m;
    if (!m)
        return SG_ENOMEM;
    if (!spec_path)
        return sg_bad_arg(m, "sg_migration_open", "spec_path is NULL");
    if (o && o->version != SG_OPEN_OPTIONS_VERSION)
        return sg_bad_version(m, "sg_migration_open", o->version, SG_OPEN_OPTIONS_VERSION);
    int rc = sg_spec_load(&m->spec, spec_path, &m->err);
    if (rc)
        return rc;
    sg_spec_hash(m->spec, m->spec_hash);
    if (!(m->actor = default_actor()))
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    m->read_only = o && o->read_only;
    if ((rc = open_endpoints(m, o ? o : &defaults)) != 0)
        return rc;
    if ((rc = sg_all_expand(m)) != 0 || (rc = sg_mapping_resolve(m)) != 0)
        return cleaned_without_source(m, rc);
    if (!(o && o->read_only))
        sg_mapping_attach_source(m);
    return 0;
}

int sg_migration_open(sg_migration **out, const char *spec_path)
{
    sg_open_options o = SG_OPEN_OPTIONS_INIT;
    o.create_target = true;
    return sg_migration_open_ext(out, spec_path, &o);
}

void sg_migration_close(sg_migration *m)
{
    if (!m)
        return;
    sg_shadow_agg_free(m);
    sg_shadow_sessions_free(m);
    sg_gate_close(m);
    if (m->spec)
        sg_mapping_free(m);
    if (m->tgt && m->tgt != m->src)
        sg_db_close(m->tgt);
    sg_db_close(m->src);
    sg_spec_free(m->spec);
    sg_names_free(m->keyless, m->n_keyless);
    free(m->actor);
    free(m->force_reason);
    free(m);
}

const char *sg_migration_errmsg(const sg_migration *m)
{
    return m ? m->err.msg : "out of memory";
}

void sg_migration_set_log(sg_migration *m, sg_log_fn fn, void *ud)
{
    m->log = fn;
    m->log_ud = ud;
}

int sg_migration_set_actor(sg_migration *m, const char *who)
{
    if (!m || !who)
        return sg_bad_arg(m, "sg_migration_set_actor", "who is NULL");
    char *a = strdup(who);
    if (!a)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    free(m->actor);
    m->actor = a;
    return 0;
}

int sg_migration_set_lock_wait(sg_migration *m, int64_t ms)
{
    if (!m)
        return SG_EINVAL;
    if (ms < 1)
        return sg_err_set(&m->err, SG_EINVAL, "lock wait %lld ms: give 1 ms or more",
                          (long long)ms);
    int rc = sg_db_lock_wait(m->src, ms, &m->err);
    if (!rc && m->tgt != m->src)
        rc = sg_db_lock_wait(m->tgt, ms, &m->err);
    if (!rc)
        m->lock_wait_ms = ms;
    return rc;
}

const char *sg_migration_name(const sg_migration *m)
{
    return m->spec ? m->spec->name : "";
}

static int begin_both(sg_migration *m)
{
    return sg_tx_begin_pair(m->tgt, m->src, &m->err);
}

static int commit_both(sg_migration *m)
{
    return sg_tx_commit_pair(m->tgt, m->src, &m->err);
}

static void rollback_both(sg_migration *m)
{
    sg_tx_rollback_pair(m->tgt, m->src);
}

static int create_targets(sg_migration *m)
{
    for (size_t i = 0; i < m->n_maps; i++) {
        sg_map *mp = &m->maps[i];
        sg_table_info *t = NULL;
        if (!mp->spec->create)
            continue;
        int rc = sg_db_table_info(m->tgt, mp->fwd.to_table, &t, &m->err);
        bool exists = t != NULL;
        sg_table_info_free(t);
        if (rc)
            return rc;
        if (exists)
            return sg_err_set(&m->err, SG_ESPEC, "%s:%d: target table '%s' already "
                              "exists; hint: set create: false to fill it, or "
                              "drop it first", m->spec->path, mp->spec->to_line,
                              mp->fwd.to_table);
        /* another database of the same engine may lack the source's own
         * types (enums, domains) that the DDL names */
        for (size_t c = 0; !rc && m->src != m->tgt && c < mp->fwd.n_cols; c++)
            if (mp->col_types[c])
                rc = sg_db_type_copy(m->src, m->tgt, mp->col_types[c], &m->err);
        if (!rc)
            rc = sg_db_exec(m->tgt, mp->target_ddl, &m->err);
        /* the sequences its defaults take numbers from (another database) */
        for (size_t c = 0; !rc && c < mp->fwd.n_cols; c++)
            if (mp->col_sequences[c])
                rc = sg_db_sequence_copy(m->src, m->tgt, mp->col_sequences[c],
                                         mp->fwd.to_table, mp->fwd.to_cols[c], &m->err);
        /* the roles that use the old table may use the new one */
        if (!rc)
            rc = sg_db_copy_grants(m->src, m->groups[mp->group].table, m->tgt,
                                   mp->fwd.to_table, &m->err);
        if (rc)
            return rc;
    }
    return 0;
}

static int start_in_tx(sg_migration *m, const char *reason)
{
    sg_phase ph;
    int rc = sg_phase_lock(m, SG_CMD_START, &ph);
    if (!rc)
        rc = sg_control_install(m);
    if (!rc)
        rc = create_targets(m);
    if (!rc)
        rc = sg_mapping_check_target(m, true);
    if (!rc)
        rc = sg_drift_record(m);
    if (!rc)
        rc = sg_all_record(m);
    if (!rc)
        rc = sg_guard_install(m, SG_SIDE_TARGET);
    if (!rc)
        rc = sg_capture_install(m, SG_FORWARD);
    if (!rc)
        rc = sg_fence_install(m);
    if (!rc)
        rc = sg_control_create(m);
    if (!rc)
        /* sg_control_create left the row planned, also after a cleanup */
        rc = sg_phase_move(m, SG_CMD_START, SG_PHASE_PLANNED, "control tables, target "
                           "tables and capture installed", reason);
    return rc;
}

int sg_migration_start(sg_migration *m, const char *reason)
{
    if (!m)
        return SG_EINVAL;
    sg_phase ph;
    sg_err_clear(&m->err);
    int rc = sg_mapping_check_target(m, false);
    if (!rc)
        rc = sg_mapping_check_reverse(m);
    if (!rc)
        rc = sg_mapping_check_grants(m);
    if (!rc)
        rc = sg_phase_check(m, SG_CMD_START, &ph);
    if (rc)
        return rc;
    if ((rc = begin_both(m)) != 0)
        return rc;
    if ((rc = start_in_tx(m, reason)) != 0) {
        rollback_both(m);
        return rc;
    }
    return commit_both(m);
}

static int drop_created(sg_migration *m)
{
    for (size_t i = 0; i < m->n_maps; i++) {
        if (!m->maps[i].spec->create)
            continue;
        sg_buf b = SG_BUF_INIT;
        sg_buf_puts(&b, "DROP TABLE IF EXISTS ");
        sg_db_ident(m->tgt, &b, m->maps[i].fwd.to_table);
        int rc = sg_db_exec(m->tgt, sg_buf_str(&b), &m->err);
        sg_buf_free(&b);
        if (rc)
            return rc;
    }
    return 0;
}

/* Removes triggers, changelogs, marker tables; drops created target tables
 * when `drop_targets`. */
static int remove_installed(sg_migration *m, bool drop_targets)
{
    int rc = sg_capture_remove(m, SG_FORWARD);
    if (!rc)
        rc = sg_capture_remove(m, SG_REVERSE);
    if (!rc)
        rc = sg_guard_remove(m, SG_SIDE_SOURCE);
    if (!rc)
        rc = sg_guard_remove(m, SG_SIDE_TARGET);
    if (!rc)
        rc = sg_capture_drop_logs(m, SG_FORWARD);
    if (!rc)
        rc = sg_capture_drop_logs(m, SG_REVERSE);
    if (!rc)
        rc = sg_heartbeat_drop(m);
    if (!rc)
        rc = sg_fence_remove(m);
    if (!rc && drop_targets)
        rc = drop_created(m);
    if (!rc)
        rc = sg_db_marker_teardown(m->src, &m->err);
    if (!rc && m->tgt != m->src)
        rc = sg_db_marker_teardown(m->tgt, &m->err);
    /* the source's container of changelogs, when it holds nothing else */
    if (!rc && m->tgt != m->src)
        rc = sg_db_control_teardown(m->src, &m->err);
    return rc;
}

/* Abort removes what a worker works on: none may hold the lease. */
static int no_live_worker(sg_migration *m)
{
    char holder[128];
    bool alive;
    int rc = sg_lease_holder(m, holder, sizeof holder, &alive);
    if (!rc && alive)
        rc = sg_err_set(&m->err, SG_EBUSY, "a worker (%s) is running migration "
                        "'%s'; hint: stop it before abort", holder, m->spec->name);
    return rc;
}

int sg_migration_abort(sg_migration *m, const char *reason)
{
    if (!m)
        return SG_EINVAL;
    sg_phase ph;
    sg_err_clear(&m->err);
    int rc = sg_switch_recover(m);
    if (!rc)
        rc = sg_phase_check(m, SG_CMD_ABORT, &ph);
    if (!rc)
        rc = no_live_worker(m);
    if (rc)
        return rc;
    sg_test_point("abort:checked");
    if ((rc = begin_both(m)) != 0)
        return rc;
    (void)reason;
    rc = sg_phase_lock(m, SG_CMD_ABORT, &ph);
    if (!rc)
        rc = no_live_worker(m);
    if (!rc)
        rc = remove_installed(m, true);
    if (!rc)
        rc = sg_control_forget(m, true);
    if (!rc)
        rc = sg_control_drop_if_unused(m);
    if (rc) {
        rollback_both(m);
        return rc;
    }
    return commit_both(m);
}

/* Cleanup drains what is left behind its fence; more than this waits for
 * the worker, so the fence stays short (changelog entries). */
#define CLEANUP_MAX_PENDING 50000

int sg_cleanup_options_init(sg_cleanup_options *o, unsigned version)
{
    if (!o || version != SG_CLEANUP_OPTIONS_VERSION)
        return SG_EINVAL;
    *o = (sg_cleanup_options)SG_CLEANUP_OPTIONS_INIT;
    return 0;
}

/* Cleanup waits for the bake (cutover.bake) to end, or is given a reason
 * to cut it short (sg_migration_force_gates): *cut (may be NULL) receives
 * that audit detail, "" when the bake is over or there is none. */
static int bake_over(sg_migration *m, sg_phase ph, char *cut, size_t n)
{
    int64_t since = 0;
    char left[32];
    cut[0] = '\0';
    if (ph != SG_PHASE_BAKING || m->spec->bake_ms <= 0)
        return 0;
    int rc = sg_control_phase_since(m, &since);
    int64_t rest = since + m->spec->bake_ms - sg_now_ms();
    if (rc || rest <= 0)
        return rc;
    snprintf(left, sizeof left, "%.1f min", (double)rest / 60000.0);
    if (m->force_reason) {
        snprintf(cut, n, "the bake was cut short with %s of it left", left);
        return 0;
    }
    return sg_err_set(&m->err, SG_ESTATE, "cannot cleanup: migration '%s' is baking "
                      "for %s more (cutover.bake): the source stays current through "
                      "the reverse path until then, so that a rollback loses nothing; "
                      "hint: wait, or cut the bake short with --force --reason TEXT",
                      m->spec->name, left);
}

int sg_migration_cleanup(sg_migration *m, const sg_cleanup_options *o,
                         const char *reason)
{
    char cut[96] = "";
    sg_cleanup_options d = SG_CLEANUP_OPTIONS_INIT;
    sg_phase ph;
    int64_t pending = 0, lag = 0, drained = 0;
    if (!m)
        return SG_EINVAL;
    if (o && o->version != SG_CLEANUP_OPTIONS_VERSION)
        return sg_bad_version(m, "sg_migration_cleanup", o->version,
                              SG_CLEANUP_OPTIONS_VERSION);
    if (!o)
        o = &d;
    sg_err_clear(&m->err);
    int rc = sg_switch_recover(m);
    if (!rc)
        rc = sg_phase_check(m, SG_CMD_CLEANUP, &ph);
    if (!rc)
        rc = bake_over(m, ph, cut, sizeof cut);
    if (!rc)
        rc = sg_apply_pending(m, SG_REVERSE, &pending, &lag);
    if (!rc && pending > CLEANUP_MAX_PENDING)
        rc = sg_err_set(&m->err, SG_ESTATE, "%lld reverse changes are not yet "
                        "applied to the source; hint: let `segue run` drain them "
                        "(or run it with --until caught-up) before cleanup",
                        (long long)pending);
    size_t *order = NULL;
    if (!rc && o->drop_source) /* before anything changes */
        rc = sg_dependents_check(m);
    if (!rc && o->drop_source &&
        !(order = calloc(m->n_groups ? m->n_groups : 1, sizeof *order)))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (!rc && o->drop_source)
        rc = sg_dependents_drop_order(m, order);
    if (rc || (rc = begin_both(m)) != 0) {
        free(order);
        return rc;
    }
    /* the last target writes reach the source behind a short fence */
    rc = sg_phase_lock(m, SG_CMD_CLEANUP, &ph);
    if (!rc)
        rc = sg_aside_refuse(m, "cleanup");
    if (!rc && cut[0])
        rc = sg_control_audit(m, "bake_cut_short", cut, m->force_reason);
    if (!rc)
        rc = sg_fence(m, m->tgt, false);
    if (!rc)
        rc = sg_apply_drain_all(m, SG_REVERSE, true, &drained);
    if (!rc)
        rc = remove_installed(m, false);
    for (size_t i = 0; !rc && o->drop_source && i < m->n_groups; i++) {
        sg_buf b = SG_BUF_INIT;
        sg_buf_puts(&b, "DROP TABLE IF EXISTS ");
        sg_db_ident(m->src, &b, m->groups[order[i]].table);
        rc = sg_db_exec(m->src, sg_buf_str(&b), &m->err);
        sg_buf_free(&b);
    }
    if (!rc)
        rc = sg_control_forget(m, o->purge);
    if (!rc && !o->purge)
        rc = sg_phase_move(m, SG_CMD_CLEANUP, ph,
                           o->drop_source ? "capture removed, source tables dropped"
                                          : "capture removed", reason);
    if (!rc && o->purge)
        rc = sg_control_drop_if_unused(m);
    free(order);
    if (rc) {
        rollback_both(m);
        return rc;
    }
    rc = commit_both(m);
    sg_gates_force_done(m);
    return rc;
}

/* A worker's report older than this is not a current rate. */
#define WORKSTATE_FRESH_MS 30000

/* What the worker last reported: the backfill's size, rate and ETA, the
 * changes it applied, its last error. */
static int status_worker(sg_migration *m, sg_status *out)
{
    sg_workstate w;
    bool found;
    int rc = sg_workstate_load(m, &w, &found);
    out->backfill_total = w.rows_total;
    out->backfill_eta_sec = -1;
    if (rc || !found)
        return rc;
    out->applied = w.applied;
    snprintf(out->worker_error, sizeof out->worker_error, "%s", w.error);
    out->worker_error_at_ms = w.error_at_ms;
    bool current = out->worker_alive && sg_now_ms() - w.at_ms < WORKSTATE_FRESH_MS;
    if (out->backfill_complete || !current || w.rows_per_sec <= 0)
        return 0;
    out->backfill_rate = w.rows_per_sec;
    int64_t left = w.rows_total - out->backfill_rows;
    out->backfill_eta_sec = w.rows_total < 0 ? -1 : left > 0 ? (double)left / w.rows_per_sec : 0;
    return 0;
}

int sg_migration_status(sg_status *out, sg_migration *m)
{
    if (!m || !out)
        return sg_bad_arg(m, "sg_migration_status", "out is NULL");
    sg_routing r;
    bool found = false;
    memset(out, 0, sizeof *out);
    out->backfill_total = -1;
    out->backfill_eta_sec = -1;
    out->heartbeat_lag_ms = -1;
    sg_err_clear(&m->err);
    int rc = sg_control_phase(m, &out->phase);
    if (rc || out->phase == SG_PHASE_PLANNED)
        return rc;
    out->write_side = SG_SIDE_SOURCE;
    for (size_t i = 0; i < m->n_maps && !rc; i++) {
        sg_checkpoint cp;
        rc = sg_checkpoint_load(m, i, &cp);
        out->backfill_rows += cp.rows;
        sg_checkpoint_free(&cp);
    }
    out->backfill_complete = out->phase >= SG_PHASE_BACKFILLED;
    if (!rc && out->phase != SG_PHASE_CLEANED)
        rc = sg_apply_pending(m, out->phase >= SG_PHASE_WRITES_SWITCHED ? SG_REVERSE
                                                                        : SG_FORWARD,
                              &out->pending_changes, &out->lag_ms);
    if (!rc && out->phase < SG_PHASE_WRITES_SWITCHED)
        rc = sg_heartbeat_read(m, &out->heartbeat_lag_ms, &out->heartbeat_at_ms);
    if (!rc)
        rc = sg_routing_load(m->tgt, m->spec->name, &r, &found, &m->err);
    if (!rc && found) {
        out->read_pct = r.read_pct;
        out->write_side = r.write_side;
    }
    if (!rc)
        rc = sg_lease_holder(m, out->worker, sizeof out->worker, &out->worker_alive);
    if (!rc)
        rc = status_worker(m, out);
    sg_mapping_drift_note(m, out->not_copied, sizeof out->not_copied);
    bool ran = false;
    if (!rc)
        rc = sg_control_last_verify(m, &out->verify_at_ms, &out->verify_differences, &ran);
    if (!rc && out->phase != SG_PHASE_CLEANED && sg_drift_check(m) == SG_ESTATE) {
        snprintf(out->drift, sizeof out->drift, "%.*s", (int)sizeof out->drift - 1, m->err.msg);
        sg_err_clear(&m->err);
    }
    if (!rc && out->phase != SG_PHASE_CLEANED)
        rc = sg_aside_count(m, &out->set_aside, out->set_aside_keys,
                            sizeof out->set_aside_keys);
    if (!rc)
        rc = sg_shadow_status(m, SG_SHADOW_WINDOW_MS, out);
    return rc;
}

int sg_migration_backlog(sg_backlog **out, size_t *n, sg_migration *m)
{
    if (!m)
        return SG_EINVAL;
    sg_err_clear(&m->err);
    if (!out || !n)
        return sg_err_set(&m->err, SG_EINVAL, "sg_migration_backlog: an out-parameter is NULL");
    *out = NULL;
    *n = 0;
    sg_phase ph;
    int rc = sg_control_phase(m, &ph);
    if (rc || ph == SG_PHASE_PLANNED || ph == SG_PHASE_CLEANED)
        return rc;
    sg_dir d = ph >= SG_PHASE_WRITES_SWITCHED ? SG_REVERSE : SG_FORWARD;
    sg_backlog *v = calloc(m->n_groups ? m->n_groups : 1, sizeof *v);
    if (!v)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    size_t k = 0;
    int64_t now = sg_now_ms();
    for (size_t g = 0; g < m->n_groups && !rc; g++) {
        bool has;
        int64_t oldest;
        rc = sg_apply_group_span(m, d, g, &has, &v[k].pending, &oldest);
        if (rc || !has)
            continue;
        snprintf(v[k].table, sizeof v[k].table, "%s", m->groups[g].table);
        v[k].direction = d == SG_REVERSE ? "reverse" : "forward";
        v[k].lag_ms = oldest && now > oldest ? now - oldest : 0;
        k++;
    }
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}
