/* The worker loop behind `segue run` and `segue backfill`: hold the lease,
 * alternate backfill chunks with changelog drains (so no sync touches a range
 * whose chunk is in flight, DESIGN.md item 5), follow the phase. */
#include <stdio.h>
#include <string.h>

#include "move/backfill.h"
#include "move/apply.h"
#include "move/capture.h"
#include "move/heartbeat.h"
#include "switch/breaker.h"
#include "switch/cutover.h"
#include "switch/segments.h"
#include "check/drift.h"
#include "check/reconcile.h"
#include "rollout/driver.h"
#include "state/lease.h"
#include "base/testpoint.h"
#include "move/tx.h"
#include "state/workstate.h"
#include "plan/mapping.h"

#define DRAIN_BATCH 1000
/* rounds in a row a transient database error may roll back before the
 * worker gives up and reports it */
#define MAX_TRANSIENT 20
/* reconnections in a row after a lost connection (1 s apart, then 2, 4,
 * up to 30) before the worker gives up */
#define MAX_RECONNECTS 8

/* How often the worker calls its progress callback, and writes its report
 * for `status` (workstate.h), in ms. */
#define PROGRESS_MS 1000
#define REPORT_MS 5000

typedef enum loop_mode { UNTIL_STOPPED, UNTIL_CAUGHT_UP, UNTIL_BACKFILLED } loop_mode;

typedef struct loop_opts {
    loop_mode mode;
    bool wait_for_lease;
    sg_progress_fn progress;
    void *progress_ud;
    volatile sig_atomic_t *stop;
    int idle_ms;
    int64_t max_chunks;
} loop_opts;

/* What the worker says about itself: to the progress callback and, for
 * other processes, in its report row. */
typedef struct reporter {
    int64_t progress_ms, saved_ms;   /* monotonic time of the last of each */
    sg_phase phase;                  /* as the last round found it */
    int64_t copied;                  /* rows the checkpoints hold, when the
                                      * backfill was done before this run */
    bool copied_known;
    sg_workstate ws;
} reporter;

static bool stopped(const loop_opts *o)
{
    return o->stop && *o->stop;
}

static int take_lease(sg_migration *m, const loop_opts *o)
{
    char holder[128] = "";
    for (;;) {
        bool got;
        int rc = sg_lease_acquire(m, &got, holder, sizeof holder);
        if (rc || got)
            return rc;
        if (!o->wait_for_lease)
            return sg_err_set(&m->err, SG_EBUSY, "another worker (%s) is running "
                              "migration '%s'; hint: stop it, or pass --wait to "
                              "take over when it exits", holder, m->spec->name);
        if (stopped(o))
            return sg_err_set(&m->err, SG_ESTOPPED, "stopped while waiting for "
                              "the worker lease held by %s", holder);
        sg_sleep_ms(500);
    }
}

/* One round: backfill a chunk while there are any, then drain a batch.
 * first: this is the worker's first round (a migration cleaned up since an
 * earlier round ends the worker; one cleaned before it started is an error). */
static int one_round(sg_migration *m, const loop_opts *o, sg_backfill *bf,
                     bool first, bool *bf_ready, bool *busy, bool *finished,
                     reporter *rep)
{
    sg_phase ph;
    int64_t applied = 0, pending = 0, lag = 0;
    int rc = sg_lease_renew(m);
    if (!rc)
        sg_test_point("worker:round");
    if (!rc)
        rc = sg_switch_recover(m);
    if (!rc)
        rc = sg_control_phase(m, &ph);
    if (rc)
        return rc;
    if (ph == SG_PHASE_CLEANED && !first) {
        sg_log(m, SG_LOG_INFO, "migration '%s' was cleaned up; the worker is done",
               m->spec->name);
        *finished = true;
        return 0;
    }
    if (ph == SG_PHASE_PLANNED || ph == SG_PHASE_CLEANED)
        return sg_err_set(&m->err, SG_ESTATE, "migration '%s' is %s; hint: run "
                          "`segue start` first", m->spec->name, sg_phase_name(ph));
    rep->phase = ph;
    *busy = false;
    if (ph == SG_PHASE_STARTED || ph == SG_PHASE_BACKFILLING) {
        if (!*bf_ready && (rc = sg_backfill_init(m, bf)) != 0)
            return rc;
        *bf_ready = true;
        if ((rc = sg_backfill_step(m, bf)) != 0)
            return rc;
        *busy = true;
    }
    sg_dir d = ph >= SG_PHASE_WRITES_SWITCHED ? SG_REVERSE : SG_FORWARD;
    if ((rc = sg_apply_drain(m, d, DRAIN_BATCH, false, &applied)) != 0)
        return rc;
    rep->ws.applied += applied;
    *busy |= applied > 0;
    bool backfilled = ph >= SG_PHASE_BACKFILLED || (*bf_ready && bf->complete);
    if (o->mode == UNTIL_BACKFILLED)
        *finished = backfilled ||
                    (o->max_chunks > 0 && *bf_ready && bf->run_chunks >= o->max_chunks);
    else if (o->mode == UNTIL_CAUGHT_UP && backfilled && applied < DRAIN_BATCH) {
        if ((rc = sg_apply_pending(m, d, &pending, &lag)) != 0)
            return rc;
        *finished = pending == 0;
    }
    return 0;
}

/* Rows copied by an earlier run, for a worker that finds the backfill done. */
static int copied_before(sg_migration *m, reporter *r)
{
    int rc = 0;
    r->copied = 0;
    for (size_t i = 0; i < m->n_maps && !rc; i++) {
        sg_checkpoint cp;
        rc = sg_checkpoint_load(m, i, &cp);
        r->copied += cp.rows;
        sg_checkpoint_free(&cp);
    }
    r->copied_known = rc == 0;
    return rc;
}

/* The progress callback, at most every PROGRESS_MS: the backfill's numbers,
 * the phase, what was applied and what waits. What cannot be read (a
 * changelog a cleanup dropped) is shown as unknown; it never fails the
 * worker, and the handle's error stays as it was. */
static void tell_progress(sg_migration *m, const loop_opts *o, const sg_backfill *bf,
                          bool bf_ready, reporter *r)
{
    sg_progress p;
    sg_err kept = m->err;
    if (bf_ready) {
        sg_backfill_progress(m, bf, &p);
    } else {
        if (!r->copied_known && copied_before(m, r))
            r->copied = -1;
        memset(&p, 0, sizeof p);
        p.mapping = "";
        p.rows_done = r->copied > 0 ? r->copied : 0;
        p.rows_total = r->copied;
        p.eta_sec = 0;
    }
    p.what = o->mode == UNTIL_BACKFILLED ? "backfill" : "run";
    p.phase = sg_phase_name(r->phase);
    p.applied = r->ws.applied;
    sg_dir d = r->phase >= SG_PHASE_WRITES_SWITCHED ? SG_REVERSE : SG_FORWARD;
    if (sg_apply_pending(m, d, &p.backlog, &p.lag_ms))
        p.backlog = -1;
    m->err = kept;
    o->progress(o->progress_ud, &p);
}

/* Writes the report row; a failure to write it is only logged, and leaves
 * the handle's error as it was. */
static void save_report(sg_migration *m, reporter *r)
{
    sg_err kept = m->err;
    r->ws.at_ms = sg_now_ms();
    if (sg_workstate_save(m, &r->ws))
        sg_log(m, SG_LOG_WARN, "could not write the worker's report for status: %s",
               m->err.msg);
    m->err = kept;
    r->saved_ms = sg_mono_ms();
}

/* After a good round: progress and the report, when due; progress also
 * after the last round (final). */
static void report(sg_migration *m, const loop_opts *o, const sg_backfill *bf,
                   bool bf_ready, bool final, reporter *r)
{
    int64_t now = sg_mono_ms();
    if (o->progress && (final || now - r->progress_ms >= PROGRESS_MS)) {
        r->progress_ms = now;
        tell_progress(m, o, bf, bf_ready, r);
    }
    if (!final && now - r->saved_ms >= REPORT_MS) {
        r->ws.rows_total = bf_ready ? bf->rows_total : r->copied_known ? r->copied : -1;
        r->ws.rows_per_sec = bf_ready && !bf->complete ? sg_backfill_rate(m, bf) : 0;
        save_report(m, r);
    }
}

/* A round failed: its error goes into the report at once. */
static void report_error(sg_migration *m, reporter *r)
{
    snprintf(r->ws.error, sizeof r->ws.error, "%.*s", (int)sizeof r->ws.error - 1,
             m->err.msg);
    r->ws.error_at_ms = sg_now_ms();
    save_report(m, r);
}

/* After a failed round: whether a cleanup finished the migration under it
 * (it drops the changelogs the round was reading), which ends the worker
 * as a cleanup seen between rounds does. */
static bool cleaned_under(sg_migration *m)
{
    sg_phase ph;
    sg_err round = m->err; /* the round's error stays the one reported */
    sg_tx_rollback_pair(m->tgt, m->src);
    if (sg_control_phase(m, &ph) != 0 || ph != SG_PHASE_CLEANED) {
        m->err = round;
        return false;
    }
    sg_log(m, SG_LOG_INFO, "migration '%s' was cleaned up during a round (%s); the "
           "worker is done", m->spec->name, round.msg);
    sg_err_clear(&m->err);
    return true;
}

/* After a failed round: when a connection to a server is gone, a new one
 * in its place (the flows' statements, prepared on the old session, are
 * dropped first and prepared again on use). *tries counts the attempts
 * since the last good round; past MAX_RECONNECTS the round's error stands. */
static bool reconnected(sg_migration *m, const loop_opts *o, int *tries)
{
    sg_conn *ends[2] = { m->src, m->tgt };
    if (!sg_db_lost(m->src) && !sg_db_lost(m->tgt))
        return false;
    sg_err round = m->err;
    while (*tries < MAX_RECONNECTS && !stopped(o)) {
        int64_t wait = *tries < 5 ? 1000LL << *tries : 30000;
        (*tries)++;
        sg_log(m, SG_LOG_WARN, "lost a database connection (%s); reconnecting in %lld "
               "ms (try %d of %d)", round.msg, (long long)wait, *tries, MAX_RECONNECTS);
        sg_sleep_ms(wait);
        sg_mapping_close_statements(m);
        int rc = 0;
        for (int e = 0; e < 2 && !rc; e++)
            if (sg_db_lost(ends[e]))
                rc = sg_db_reconnect(ends[e], &m->err);
        if (!rc)
            return true;
        sg_log(m, SG_LOG_WARN, "%s", m->err.msg);
    }
    sg_err_prefix(&m->err, "gave up after %d reconnections: ", *tries);
    return false;
}

/* Columns added to a source since start are not copied: said once. */
static void note_drift(sg_migration *m)
{
    char note[512];
    sg_mapping_drift_note(m, note, sizeof note);
    if (note[0])
        sg_log(m, SG_LOG_WARN, "columns added since start are not copied: %s; hint: "
               "a later migration can move them", note);
}

/* How often a healthy worker looks for schema drift that no statement
 * trips over (a retype the values still fit): two catalog reads per
 * mapping, a cost the apply rate shows when done every second. */
#define DRIFT_LOOK_MS 5000

/* A round that failed on the schema (not its data, a lock or the
 * connection) or the look every DRIFT_LOOK_MS: drift named as such. */
static int check_drift(sg_migration *m, int rc, int64_t *last_ms)
{
    int64_t now = sg_mono_ms();
    if (!rc && now - *last_ms < DRIFT_LOOK_MS)
        return 0;
    *last_ms = now;
    if (rc && (m->err.transient || m->err.data || sg_db_lost(m->src) || sg_db_lost(m->tgt)))
        return rc;
    sg_err failed = m->err;
    sg_tx_rollback_pair(m->tgt, m->src);
    int d = sg_drift_check(m);
    if (d == SG_ESTATE || !rc)
        return d;
    m->err = failed;
    return rc;
}

/* The heartbeat's side of the loop (move/heartbeat.h). */
typedef struct beats {
    bool ready;            /* sg_heartbeat_start done in this forward period */
    int64_t beat_ms;       /* monotonic time of the last beat (or try) */
    int64_t drain_ms;      /* of the last look for arrivals (or try) */
    int64_t start_wait_ms; /* after a failed start: the wait before the next
                            * (doubling up to a minute); 0: none failed */
    int64_t warned_ms;     /* of the last warning; 0: none */
    int64_t last_id;       /* the last beat written by this worker; 0: none */
    bool arrived;          /* it has arrived: no look for arrivals until the
                            * next beat */
} beats;

/* How often the worker looks for beats that have arrived (ms), while one
 * is on its way: one index probe per changelog each time. */
#define HEARTBEAT_DRAIN_MS 100
#define HEARTBEAT_START_WAIT_MAX_MS 60000

/* The heartbeat set up (sg_heartbeat_start) when it is not yet: at most
 * once per interval, and after failures (a role that may not create the
 * table) less and less often. 1: a wait after a failure is not over. */
static int heartbeat_ready(sg_migration *m, beats *b, int64_t now)
{
    if (b->ready)
        return 0;
    if (b->start_wait_ms && now - b->beat_ms < b->start_wait_ms)
        return 1; /* not yet: no new warning either */
    b->beat_ms = now;
    int rc = sg_heartbeat_start(m);
    if (!rc) {
        b->ready = true;
        b->start_wait_ms = 0;
        return 0;
    }
    b->start_wait_ms = b->start_wait_ms ? b->start_wait_ms * 2 : m->spec->heartbeat_ms;
    if (b->start_wait_ms > HEARTBEAT_START_WAIT_MAX_MS)
        b->start_wait_ms = HEARTBEAT_START_WAIT_MAX_MS;
    return rc;
}

/* After a good round in phase ph: a beat when one is due, and the arrivals.
 * While changes flow forward only. A failure is a warning (at most one a
 * minute), never the worker's: the heartbeat measures the path, it is not
 * part of it. A try that failed waits for its next turn like one that
 * worked. */
static void heartbeat(sg_migration *m, beats *b, sg_phase ph)
{
    int64_t now = sg_mono_ms();
    if (m->spec->heartbeat_ms <= 0 || ph < SG_PHASE_STARTED || ph >= SG_PHASE_WRITES_SWITCHED) {
        b->ready = false; /* a rollback installs the capture again */
        return;
    }
    sg_err kept = m->err;
    bool was_ready = b->ready;
    int rc = heartbeat_ready(m, b, now);
    if (rc == 1) {
        m->err = kept;
        return;
    }
    bool due = was_ready && now - b->beat_ms >= m->spec->heartbeat_ms;
    if (!rc && (due || !was_ready)) { /* !was_ready: the first, just set up */
        b->beat_ms = now;
        if ((rc = sg_heartbeat_beat(m, &b->last_id)) == 0)
            b->arrived = false;
    }
    if (!rc && !b->arrived && now - b->drain_ms >= HEARTBEAT_DRAIN_MS) {
        int64_t newest = 0;
        b->drain_ms = now;
        rc = sg_heartbeat_drain(m, &newest);
        b->arrived = !rc && newest >= b->last_id;
    }
    if (rc) {
        sg_tx_rollback_pair(m->tgt, m->src);
        if (!b->warned_ms || now - b->warned_ms >= 60000) {
            b->warned_ms = now;
            sg_log(m, SG_LOG_WARN, "heartbeat: %s (the migration goes on; the heartbeat "
                   "is tried again, less often while it fails)", m->err.msg);
        }
    }
    m->err = kept;
}

static int loop(sg_migration *m, const loop_opts *o)
{
    beats hb = { 0 };
    sg_backfill bf;
    reporter rep = { .ws = { .rows_total = -1 } };
    bool bf_ready = false, finished = false;
    int transient = 0, reconnects = 0;
    int64_t rounds = 0, drift_ms = 0;
    sg_phase ph;
    int rc = sg_control_phase(m, &ph);
    if (!rc && ph == SG_PHASE_PLANNED)
        rc = sg_err_set(&m->err, SG_ESTATE, "migration '%s' is planned; hint: run "
                        "`segue start` first", m->spec->name);
    if (!rc)
        rc = check_drift(m, 0, &drift_ms);
    if (!rc)
        note_drift(m);
    if (!rc)
        rc = take_lease(m, o);
    if (!rc) /* the routers apply the spec's segments as this worker reads them */
        rc = sg_segments_publish(m);
    sg_rollout *rollout = NULL;
    pthread_mutex_t switching = PTHREAD_MUTEX_INITIALIZER;
    sg_breaker breaker = { 0 };
    if (!rc && o->mode == UNTIL_STOPPED)
        sg_rollout_start(&rollout, m, &switching);
    memset(&bf, 0, sizeof bf);
    while (!rc && !finished) {
        bool busy = false;
        if (stopped(o)) {
            rc = sg_err_set(&m->err, SG_ESTOPPED, "stopped on request; the "
                            "migration resumes from its last checkpoint");
            break;
        }
        rc = check_drift(m, 0, &drift_ms);
        if (!rc) {
            pthread_mutex_lock(&switching); /* no switch of the rollout's meanwhile */
            rc = one_round(m, o, &bf, rounds++ == 0, &bf_ready, &busy, &finished, &rep);
            pthread_mutex_unlock(&switching);
        }
        if (!rc && !finished)
            rc = sg_breaker_tick(m, &breaker);
        if (!rc && !finished)
            heartbeat(m, &hb, rep.phase);
        if (!rc)
            report(m, o, &bf, bf_ready, finished, &rep);
        if (rc && reconnected(m, o, &reconnects)) {
            rc = 0;
            continue;
        }
        if (rc && rounds > 1 && cleaned_under(m)) {
            rc = 0;
            break;
        }
        if (rc && !m->err.transient && rc != SG_ESTATE)
            rc = check_drift(m, rc, &drift_ms);
        if (rc && m->err.transient && ++transient <= MAX_TRANSIENT) {
            /* a deadlock or lock timeout rolled the round back: again */
            sg_tx_rollback_pair(m->tgt, m->src);
            report_error(m, &rep);
            sg_log(m, SG_LOG_WARN, "retrying after a transient error (%d in a row): %s",
                   transient, m->err.msg);
            sg_sleep_ms(20LL * transient);
            rc = 0;
            continue;
        }
        if (!rc)
            transient = reconnects = 0;
        if (!rc && !busy && !finished)
            sg_sleep_ms(o->idle_ms > 0 ? o->idle_ms : 50);
    }
    if (rc && rc != SG_ESTOPPED && m->has_lease) {
        sg_tx_rollback_pair(m->tgt, m->src);
        report_error(m, &rep);
    }
    sg_rollout_stop(rollout);
    sg_backfill_free(&bf);
    sg_lease_release(m);
    return rc;
}

int sg_worker_options_init(sg_worker_options *o, unsigned version)
{
    if (!o || version != SG_WORKER_OPTIONS_VERSION)
        return SG_EINVAL;
    *o = (sg_worker_options)SG_WORKER_OPTIONS_INIT;
    return 0;
}

int sg_backfill_options_init(sg_backfill_options *o, unsigned version)
{
    if (!o || version != SG_BACKFILL_OPTIONS_VERSION)
        return SG_EINVAL;
    *o = (sg_backfill_options)SG_BACKFILL_OPTIONS_INIT;
    return 0;
}

int sg_worker_run(sg_migration *m, const sg_worker_options *o)
{
    sg_worker_options d = SG_WORKER_OPTIONS_INIT;
    if (!m)
        return SG_EINVAL;
    if (o && o->version != SG_WORKER_OPTIONS_VERSION)
        return sg_bad_version(m, "sg_worker_run", o->version, SG_WORKER_OPTIONS_VERSION);
    if (!o)
        o = &d;
    loop_opts lo = { o->until_caught_up ? UNTIL_CAUGHT_UP : UNTIL_STOPPED,
                     o->wait_for_lease, o->progress, o->progress_ud, o->stop,
                     o->idle_ms, 0 };
    sg_err_clear(&m->err);
    sg_recon *recon = NULL;
    if (!o->until_caught_up)
        sg_recon_start(&recon, m);
    int rc = loop(m, &lo);
    sg_recon_stop(recon);
    return rc;
}

int sg_backfill_run(sg_migration *m, const sg_backfill_options *o)
{
    sg_backfill_options d = SG_BACKFILL_OPTIONS_INIT;
    if (!m)
        return SG_EINVAL;
    if (o && o->version != SG_BACKFILL_OPTIONS_VERSION)
        return sg_bad_version(m, "sg_backfill_run", o->version, SG_BACKFILL_OPTIONS_VERSION);
    if (!o)
        o = &d;
    loop_opts lo = { UNTIL_BACKFILLED, false, o->progress, o->progress_ud,
                     o->stop, 0, o->max_chunks };
    sg_err_clear(&m->err);
    return loop(m, &lo);
}
