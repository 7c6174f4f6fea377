/* The rollout's state and its evaluations in the control tables, made on
 * first use: `rollout` (one row per migration), `gate_checks` (each
 * check's state, since when, consecutive failures) and `gate_evals` (every
 * evaluation of every check). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "move/tx.h"
#include "rollout/store.h"
#include "state/control.h"

static const char *const ddl[] = {
    "CREATE TABLE IF NOT EXISTS @rollout (migration %TXT PRIMARY KEY, mode %TXT NOT "
    "NULL, step %INT NOT NULL, step_at_ms %INT NOT NULL, clean_since_ms %INT NOT "
    "NULL, last_eval_ms %INT NOT NULL, gates_hash %TXT, version %INT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS @gate_checks (migration %TXT NOT NULL, name %TXT NOT "
    "NULL, state %INT NOT NULL, since_ms %INT NOT NULL, failures %INT NOT NULL, "
    "PRIMARY KEY (migration, name))",
    "CREATE TABLE IF NOT EXISTS @gate_evals (migration %TXT NOT NULL, at_ms %INT NOT "
    "NULL, step %INT NOT NULL, name %TXT NOT NULL, state %INT NOT NULL, value %DBL, "
    "threshold %DBL, detail %TXT)",
};

int sg_rollout_install(sg_migration *m)
{
    int rc = 0;
    for (size_t i = 0; i < sizeof ddl / sizeof ddl[0] && !rc; i++)
        rc = sg_control_exec(&m->err, m->tgt, ddl[i]);
    return rc;
}

static sg_rollout_mode mode_parse(const char *s, size_t n)
{
    for (int k = SG_ROLLOUT_WALKING; k <= SG_ROLLOUT_DRILL; k++)
        if (strlen(sg_rollout_mode_name((sg_rollout_mode)k)) == n &&
            !strncmp(sg_rollout_mode_name((sg_rollout_mode)k), s, n))
            return (sg_rollout_mode)k;
    return SG_ROLLOUT_PAUSED; /* unknown: hold, never walk */
}

static int load_checks(sg_migration *m, sg_rollout_state *st)
{
    sg_stmt *s = NULL;
    int step = 0, rc = sg_control_prepare(&m->err, m->tgt, "SELECT name, state, "
                                          "since_ms, failures FROM @gate_checks WHERE "
                                          "migration = $1 ORDER BY name", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    while (!rc && (step = sg_db_step(s, &m->err)) > 0 &&
           st->n_checks < SG_ROLLOUT_MAX_CHECKS) {
        sg_rollout_check *c = &st->checks[st->n_checks++];
        sg_value v;
        sg_db_column(s, 0, &v);
        snprintf(c->name, sizeof c->name, "%.*s", (int)v.n, (const char *)v.p);
        c->state = (sg_gate_state)sg_db_column_int(s, 1);
        c->since_ms = sg_db_column_int(s, 2);
        c->failures = sg_db_column_int(s, 3);
    }
    sg_db_finalize(s);
    return rc ? rc : step < 0 ? SG_EDB : 0;
}

/* The saved state; with `lock`, the row held until the transaction ends
 * (FOR UPDATE on PostgreSQL; on SQLite the write transaction holds all). */
static int load_state(sg_migration *m, bool lock, sg_rollout_state *st, bool *found)
{
    sg_stmt *s = NULL;
    bool present = false;
    sg_rollout_state_init(st);
    *found = false;
    int rc = sg_db_control_present(m->tgt, "rollout", &present, &m->err);
    if (rc || !present)
        return rc;
#define STATE_ROW "SELECT mode, step, step_at_ms, clean_since_ms, last_eval_ms, " \
                  "version FROM @rollout WHERE migration = $1"
    rc = sg_control_prepare(&m->err, m->tgt, lock ? STATE_ROW "%LOCK" : STATE_ROW, &s);
#undef STATE_ROW
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    int step = rc ? 0 : sg_db_step(s, &m->err);
    if (step > 0) {
        sg_value v;
        sg_db_column(s, 0, &v);
        st->mode = mode_parse(v.p, v.n);
        st->step = (int)sg_db_column_int(s, 1);
        st->step_at_ms = sg_db_column_int(s, 2);
        st->clean_since_ms = sg_db_column_int(s, 3);
        st->last_eval_ms = sg_db_column_int(s, 4);
        st->version = sg_db_column_int(s, 5);
        *found = true;
    }
    sg_db_finalize(s);
    if (!rc && step < 0)
        rc = SG_EDB;
    return rc || !*found ? rc : load_checks(m, st);
}

int sg_rollout_load(sg_migration *m, sg_rollout_state *st, bool *found)
{
    return load_state(m, false, st, found);
}

/* The row, written only over the version it was read at (version 0: no
 * row was read, so none may exist); SG_ESTATE when another process saved
 * it since. */
static int save_row(sg_migration *m, const sg_rollout_state *st, const char *hash)
{
    sg_stmt *s = NULL;
    const char *sql = st->version
        ? "UPDATE @rollout SET mode = $2, step = $3, step_at_ms = $4, clean_since_ms "
          "= $5, last_eval_ms = $6, gates_hash = $7, version = $8 + 1 WHERE "
          "migration = $1 AND version = $8"
        : "INSERT INTO @rollout (migration, mode, step, step_at_ms, clean_since_ms, "
          "last_eval_ms, gates_hash, version) VALUES ($1, $2, $3, $4, $5, $6, $7, "
          "$8 + 1) ON CONFLICT (migration) DO NOTHING";
    int rc = sg_control_prepare(&m->err, m->tgt, sql, &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_text(s, 2, sg_rollout_mode_name(st->mode), &m->err) ||
             sg_db_bind_int(s, 3, st->step, &m->err) ||
             sg_db_bind_int(s, 4, st->step_at_ms, &m->err) ||
             sg_db_bind_int(s, 5, st->clean_since_ms, &m->err) ||
             sg_db_bind_int(s, 6, st->last_eval_ms, &m->err) ||
             sg_db_bind_text(s, 7, hash, &m->err) ||
             sg_db_bind_int(s, 8, st->version, &m->err) ? SG_EDB : 0;
    if (!rc)
        rc = sg_control_run(&m->err, s);
    else
        sg_db_finalize(s);
    if (!rc && sg_db_changes(m->tgt) != 1)
        rc = sg_err_set(&m->err, SG_ESTATE, "the rollout's state changed under this "
                        "update (a pause or resume); hint: read it again");
    return rc;
}

int sg_rollout_claim(sg_migration *m, sg_rollout_state *st, const char *hash)
{
    int rc = sg_rollout_install(m);
    if (!rc)
        rc = save_row(m, st, hash);
    if (rc == SG_ESTATE)
        return sg_err_set(&m->err, SG_ESTATE, "the rollout was paused or resumed during "
                          "its evaluation: nothing moves; it is read again");
    st->version += !rc;
    return rc;
}

static int save_check(sg_migration *m, const sg_rollout_check *c)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @gate_checks (migration, "
                                "name, state, since_ms, failures) VALUES ($1, $2, $3, "
                                "$4, $5) ON CONFLICT (migration, name) DO UPDATE SET "
                                "state = $3, since_ms = $4, failures = $5", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_text(s, 2, c->name, &m->err) ||
             sg_db_bind_int(s, 3, (int64_t)c->state, &m->err) ||
             sg_db_bind_int(s, 4, c->since_ms, &m->err) ||
             sg_db_bind_int(s, 5, c->failures, &m->err) ? SG_EDB : 0;
    if (!rc)
        return sg_control_run(&m->err, s);
    sg_db_finalize(s);
    return rc;
}

static int save_eval(sg_migration *m, int step, int64_t at, const sg_gate_check *g)
{
    sg_stmt *s = NULL;
    sg_value value = { .type = isnan(g->value) ? SG_V_NULL : SG_V_REAL, .d = g->value };
    sg_value limit = { .type = SG_V_REAL, .d = g->limit };
    int rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @gate_evals (migration, "
                                "at_ms, step, name, state, value, threshold, detail) "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_int(s, 2, at, &m->err) || sg_db_bind_int(s, 3, step, &m->err) ||
             sg_db_bind_text(s, 4, g->name, &m->err) ||
             sg_db_bind_int(s, 5, (int64_t)g->state, &m->err) ||
             sg_db_bind(s, 6, &value, &m->err) || sg_db_bind(s, 7, &limit, &m->err) ||
             sg_db_bind_text(s, 8, g->detail, &m->err) ? SG_EDB : 0;
    if (!rc)
        return sg_control_run(&m->err, s);
    sg_db_finalize(s);
    return rc;
}

/* The state, its checks, the evaluation and the audit row of r, inside the
 * caller's transaction. */
static int save_all(sg_migration *m, const sg_rollout_state *st, const char *hash,
                    const sg_rollout_record *r)
{
    int rc = save_row(m, st, hash);
    for (size_t i = 0; i < st->n_checks && !rc; i++)
        rc = save_check(m, &st->checks[i]);
    for (size_t i = 0; r->v && i < r->n && !rc; i++)
        rc = save_eval(m, r->step, st->last_eval_ms, &r->v[i]);
    if (!rc && r->action)
        rc = sg_control_audit(m, r->action, r->detail, r->reason);
    return rc;
}

/* Ends the transaction: committed when rc is 0, else rolled back. */
static int finish(sg_migration *m, int rc)
{
    if (!rc)
        return sg_tx_commit(m->tgt, &m->err);
    sg_tx_rollback(m->tgt);
    return rc;
}

int sg_rollout_save(sg_migration *m, const sg_rollout_state *st, const char *hash,
                    const sg_rollout_record *r)
{
    int rc = sg_rollout_install(m);
    if (!rc)
        rc = sg_tx_begin(m->tgt, &m->err);
    return rc ? rc : finish(m, save_all(m, st, hash, r));
}

int sg_rollout_update(sg_migration *m, sg_rollout_edit_fn edit, void *ctx)
{
    sg_rollout_state st;
    sg_rollout_record r = { NULL, 0, 0, NULL, NULL, NULL };
    char hash[17];
    bool found = false;
    sg_spec_gates_hash(m->spec, hash);
    int rc = sg_rollout_install(m);
    if (!rc)
        rc = sg_tx_begin(m->tgt, &m->err);
    if (rc)
        return rc;
    rc = load_state(m, true, &st, &found);
    if (!rc) {
        r.step = st.step;
        rc = edit(m, &st, &r, ctx);
    }
    return finish(m, rc ? rc : save_all(m, &st, hash, &r));
}

int sg_rollout_prune(sg_migration *m, int64_t now_ms, int64_t *deleted)
{
    sg_stmt *s = NULL;
    bool present = false;
    int rc = sg_db_control_present(m->tgt, "gate_evals", &present, &m->err);
    if (rc || !present)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, "DELETE FROM @gate_evals WHERE migration = "
                            "$1 AND at_ms < $2", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_int(s, 2, now_ms - SG_ROLLOUT_EVALS_KEEP_MS, &m->err) ? SG_EDB : 0;
    if (rc) {
        sg_db_finalize(s);
        return rc;
    }
    rc = sg_control_run(&m->err, s);
    if (!rc && deleted)
        *deleted = sg_db_changes(m->tgt);
    return rc;
}
