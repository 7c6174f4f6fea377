/* Control tables: phase, audit, checkpoints, routing. Statements are
 * written once as templates where @name is a control table (quoted and
 * qualified by the driver), $n a parameter and %T{type} a column type. */
#include "state/control.h"
#include "switch/breaker.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "move/tx.h"

static int expand(sg_conn *c, const char *t, sg_buf *b)
{
    while (*t) {
        if (*t == '@') {
            char name[32];
            size_t n = 0;
            for (t++; (isalnum((unsigned char)*t) || *t == '_') && n < 31; t++)
                name[n++] = *t;
            name[n] = '\0';
            sg_db_control(c, b, name);
        } else if (*t == '$' && isdigit((unsigned char)t[1])) {
            int n = 0;
            for (t++; isdigit((unsigned char)*t); t++)
                n = n * 10 + (*t - '0');
            sg_db_param(c, b, n);
        } else if (!strncmp(t, "%INT", 4) || !strncmp(t, "%TXT", 4) ||
                   !strncmp(t, "%BLB", 4) || !strncmp(t, "%DBL", 4)) {
            sg_vtype ty = t[1] == 'I' ? SG_V_INT : t[1] == 'T' ? SG_V_TEXT
                        : t[1] == 'B' ? SG_V_BLOB : SG_V_REAL;
            sg_buf_puts(b, sg_db_type_name(c, ty));
            t += 4;
        } else if (!strncmp(t, "%LOCK", 5)) {
            sg_buf_puts(b, sg_db_row_lock(c));
            t += 5;
        } else if (!strncmp(t, "%SERIAL", 7)) {
            sg_buf_puts(b, sg_db_serial_pk(c));
            t += 7;
        } else {
            sg_buf_putc(b, *t++);
        }
    }
    return sg_buf_failed(b) ? -1 : 0;
}

int sg_control_prepare(sg_err *e, sg_conn *c, const char *tmpl, sg_stmt **out)
{
    sg_buf b = SG_BUF_INIT;
    int rc = expand(c, tmpl, &b) ? sg_err_set(e, SG_ENOMEM, "out of memory")
                                 : sg_db_prepare(c, sg_buf_str(&b), out, e);
    sg_buf_free(&b);
    return rc;
}

int sg_control_exec(sg_err *e, sg_conn *c, const char *tmpl)
{
    sg_buf b = SG_BUF_INIT;
    int rc = expand(c, tmpl, &b) ? sg_err_set(e, SG_ENOMEM, "out of memory")
                                 : sg_db_exec(c, sg_buf_str(&b), e);
    sg_buf_free(&b);
    return rc;
}

int sg_control_run(sg_err *e, sg_stmt *s)
{
    int rc = sg_db_step(s, e);
    sg_db_finalize(s);
    return rc > 0 ? 0 : rc;
}

static int ctl_prepare(sg_migration *m, const char *tmpl, sg_stmt **out)
{
    return sg_control_prepare(&m->err, m->tgt, tmpl, out);
}

static int ctl_exec(sg_migration *m, const char *tmpl)
{
    return sg_control_exec(&m->err, m->tgt, tmpl);
}

static int run(sg_err *e, sg_stmt *s)
{
    return sg_control_run(e, s);
}

static const char *const ddl[] = {
    "CREATE TABLE IF NOT EXISTS @meta (key %TXT PRIMARY KEY, value %TXT)",
    "CREATE TABLE IF NOT EXISTS @migrations (name %TXT PRIMARY KEY, "
    "spec_hash %TXT NOT NULL, phase %TXT NOT NULL, created_at %TXT, "
    "updated_at %TXT)",
    "CREATE TABLE IF NOT EXISTS @routing (migration %TXT PRIMARY KEY, "
    "read_pct %DBL NOT NULL, write_side %TXT NOT NULL, salt %TXT NOT NULL, "
    "updated_at %TXT)",
    "CREATE TABLE IF NOT EXISTS @checkpoints (migration %TXT NOT NULL, "
    "mapping %INT NOT NULL, last_key %BLB, rows_done %INT NOT NULL, "
    "chunks %INT NOT NULL, done %INT NOT NULL, updated_at %TXT, "
    "PRIMARY KEY (migration, mapping))",
    "CREATE TABLE IF NOT EXISTS @audit (id %SERIAL, migration %TXT NOT NULL, "
    "at %TXT NOT NULL, who %TXT, action %TXT NOT NULL, from_phase %TXT, "
    "to_phase %TXT, detail %TXT, reason %TXT)",
    "CREATE TABLE IF NOT EXISTS @lease (migration %TXT PRIMARY KEY, "
    "holder %TXT NOT NULL, expires_ms %INT NOT NULL, token %INT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS @verify_runs (id %SERIAL, migration %TXT NOT "
    "NULL, at %TXT NOT NULL, at_ms %INT NOT NULL, source_rows %INT, "
    "target_rows %INT, differences %INT, detail %TXT)",
    "CREATE TABLE IF NOT EXISTS @switches (migration %TXT NOT NULL, direction "
    "%INT NOT NULL, grp %INT NOT NULL, upto %INT NOT NULL, PRIMARY KEY "
    "(migration, direction, grp))",
    "CREATE TABLE IF NOT EXISTS @set_aside (migration %TXT NOT NULL, direction "
    "%INT NOT NULL, grp %INT NOT NULL, key %BLB NOT NULL, error %TXT, at %TXT, "
    "PRIMARY KEY (migration, direction, grp, key))",
    "CREATE TABLE IF NOT EXISTS @worker_state (migration %TXT PRIMARY KEY, at_ms "
    "%INT NOT NULL, rows_total %INT, rows_per_sec %DBL, applied %INT, error %TXT, "
    "error_at_ms %INT)",
    "CREATE TABLE IF NOT EXISTS @columns (migration %TXT NOT NULL, mapping %INT "
    "NOT NULL, side %INT NOT NULL, name %TXT NOT NULL, decl %TXT NOT NULL, "
    "PRIMARY KEY (migration, mapping, side, name))",
    "CREATE TABLE IF NOT EXISTS @tables (migration %TXT NOT NULL, pos %INT NOT NULL, "
    "name %TXT NOT NULL, PRIMARY KEY (migration, pos))",
};
static const char *const tables[] = { "tables", "worker_state", "columns", "set_aside", "switches", "verify_runs", "lease", "audit",
    "checkpoints", "routing", "migrations", "meta" };
/* Tables made on first use by the modules that write them (shadow results,
 * application outcomes, consistency records, heartbeat arrivals, write
 * fences, the rollout's state and evaluations), each with a `migration`
 * column: a purge deletes the migration's rows where the table exists, and
 * the last purge drops them all. */
static const char *const later_tables[] = { "shadow_stats", "shadow_latency",
    "shadow_examples", "app_outcomes", "app_latency", "verify_mappings", "verify_keys",
    "heartbeat", "fences", "rollout", "gate_checks", "gate_evals", "drills",
    "read_rules", "read_aside" };

int sg_control_install(sg_migration *m)
{
    int rc = sg_db_control_setup(m->tgt, &m->err);
    for (size_t i = 0; i < sizeof ddl / sizeof ddl[0] && !rc; i++)
        rc = ctl_exec(m, ddl[i]);
    /* what the router reads, as whatever role the application has */
    if (!rc)
        rc = sg_db_control_share(m->tgt, "migrations", &m->err);
    if (!rc)
        rc = sg_db_control_share(m->tgt, "routing", &m->err);
    if (rc)
        return rc;
    sg_stmt *s = NULL;
    rc = ctl_prepare(m, "INSERT INTO @meta (key, value) VALUES ('format', $1) "
                            "ON CONFLICT (key) DO NOTHING", &s);
    if (!rc && !(rc = sg_db_bind_int(s, 1, SG_CONTROL_FORMAT, &m->err)))
        return run(&m->err, s);
    sg_db_finalize(s);
    return rc;
}

int sg_control_present(sg_migration *m, bool *present)
{
    int64_t format = 0;
    *present = m->control_ok;
    if (m->control_ok)
        return 0;
    int rc = sg_db_control_present(m->tgt, "meta", present, &m->err);
    if (rc || !*present)
        return rc;
    sg_buf b = SG_BUF_INIT;
    expand(m->tgt, "SELECT CAST(value AS INTEGER) FROM @meta WHERE key = 'format'", &b);
    rc = sg_db_query_int(m->tgt, sg_buf_str(&b), 0, &format, &m->err);
    sg_buf_free(&b);
    if (!rc && format != SG_CONTROL_FORMAT)
        rc = sg_err_set(&m->err, SG_EFORMAT,
                        "target: control tables have format %lld; this segue "
                        "reads format %d; hint: use the segue version that "
                        "started the migration", (long long)format,
                        SG_CONTROL_FORMAT);
    m->control_ok = rc == 0;
    return rc;
}

int sg_control_drop_if_unused(sg_migration *m)
{
    int64_t n = 0;
    sg_buf b = SG_BUF_INIT;
    expand(m->tgt, "SELECT count(*) FROM @migrations", &b);
    int rc = sg_db_query_int(m->tgt, sg_buf_str(&b), 0, &n, &m->err);
    sg_buf_free(&b);
    size_t n_later = sizeof later_tables / sizeof later_tables[0];
    for (size_t i = 0; !rc && n == 0 && i < n_later + sizeof tables / sizeof tables[0]; i++) {
        sg_buf d = SG_BUF_INIT;
        sg_buf_puts(&d, "DROP TABLE IF EXISTS @");
        sg_buf_puts(&d, i < n_later ? later_tables[i] : tables[i - n_later]);
        rc = ctl_exec(m, sg_buf_str(&d));
        sg_buf_free(&d);
        m->control_ok = false;
    }
    if (!rc && n == 0)
        rc = sg_db_control_teardown(m->tgt, &m->err);
    return rc;
}

const char *sg_phase_name(sg_phase p)
{
    static const char *const names[] = { "planned", "started", "backfilling",
        "backfilled", "verified", "shadowing", "reads_shifting",
        "writes_switched", "baking", "cleaned" };
    return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "unknown";
}

static sg_phase phase_parse(const char *s, size_t n)
{
    for (int p = SG_PHASE_PLANNED; p <= SG_PHASE_CLEANED; p++) {
        const char *name = sg_phase_name((sg_phase)p);
        if (strlen(name) == n && !strncmp(name, s, n))
            return (sg_phase)p;
    }
    return SG_PHASE_PLANNED;
}

static int read_phase(sg_migration *m, bool lock, sg_phase *out)
{
    bool present;
    sg_stmt *s = NULL;
    *out = SG_PHASE_PLANNED;
    int rc = sg_control_present(m, &present);
    if (rc || !present)
        return rc;
    rc = ctl_prepare(m, lock ? "SELECT phase, spec_hash FROM @migrations WHERE name = $1%LOCK"
                             : "SELECT phase, spec_hash FROM @migrations WHERE name = $1", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    if (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        sg_value v, h;
        sg_db_column(s, 0, &v);
        sg_db_column(s, 1, &h);
        *out = phase_parse(v.p, v.n);
        rc = 0;
        if (*out != SG_PHASE_CLEANED &&
            (h.n != strlen(m->spec_hash) || memcmp(h.p, m->spec_hash, h.n)))
            rc = sg_err_set(&m->err, SG_ESTATE,
                            "the mappings in %s changed since migration '%s' "
                            "started; hint: restore the spec, or run abort "
                            "and start again", m->spec->path, m->spec->name);
    }
    sg_db_finalize(s);
    return rc;
}

int sg_control_phase(sg_migration *m, sg_phase *out)
{
    return read_phase(m, false, out);
}

int sg_control_phase_locked(sg_migration *m, sg_phase *out)
{
    return read_phase(m, true, out);
}

int sg_control_phase_since(sg_migration *m, int64_t *ms)
{
    sg_stmt *s = NULL;
    *ms = 0;
    int rc = ctl_prepare(m, "SELECT updated_at FROM @migrations WHERE name = $1", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    if (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        char at[40];
        sg_value v;
        sg_db_column(s, 0, &v);
        snprintf(at, sizeof at, "%.*s", (int)(v.n < 39 ? v.n : 39), (const char *)v.p);
        if (v.type == SG_V_NULL || sg_iso_ms(at, ms))
            *ms = 0;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc < 0 ? rc : 0;
}

int sg_control_audit(sg_migration *m, const char *action, const char *detail,
                     const char *reason)
{
    return sg_control_transition(m, (sg_phase)-1, (sg_phase)-1, action, detail, reason);
}

int sg_control_transition(sg_migration *m, sg_phase from, sg_phase to,
                          const char *action, const char *detail,
                          const char *reason)
{
    char now[32];
    sg_stmt *s = NULL;
    int rc = 0;
    sg_now_iso(now);
    if ((int)to >= 0) {
        rc = ctl_prepare(m, "UPDATE @migrations SET phase = $1, updated_at = $2 "
                            "WHERE name = $3 AND phase = $4", &s);
        if (!rc && !(rc = sg_db_bind_text(s, 1, sg_phase_name(to), &m->err)) &&
            !(rc = sg_db_bind_text(s, 2, now, &m->err)) &&
            !(rc = sg_db_bind_text(s, 3, m->spec->name, &m->err)) &&
            !(rc = sg_db_bind_text(s, 4, sg_phase_name(from), &m->err)))
            rc = run(&m->err, s);
        else
            sg_db_finalize(s);
        if (!rc && sg_db_changes(m->tgt) != 1)
            rc = sg_err_set(&m->err, SG_ESTATE, "migration '%s' is no longer %s: "
                            "another command moved it meanwhile; nothing was "
                            "changed; hint: see `segue status`", m->spec->name,
                            sg_phase_name(from));
        if (rc)
            return rc;
    }
    rc = ctl_prepare(m, "INSERT INTO @audit (migration, at, who, action, "
                        "from_phase, to_phase, detail, reason) VALUES "
                        "($1, $2, $3, $4, $5, $6, $7, $8)", &s);
    if (rc)
        return rc;
    const char *vals[8] = { m->spec->name, now, m->actor, action,
                            (int)from >= 0 ? sg_phase_name(from) : NULL,
                            (int)to >= 0 ? sg_phase_name(to) : NULL, detail, reason };
    for (int i = 0; i < 8 && !rc; i++)
        rc = sg_db_bind_text(s, i + 1, vals[i], &m->err);
    if (rc) {
        sg_db_finalize(s);
        return rc;
    }
    return run(&m->err, s);
}

int sg_control_verify_run(sg_migration *m, int64_t at_ms, int64_t source_rows,
                          int64_t target_rows, int64_t differences, const char *detail)
{
    char now[32];
    sg_stmt *s = NULL;
    sg_now_iso(now);
    int rc = ctl_prepare(m, "INSERT INTO @verify_runs (migration, at, at_ms, "
                            "source_rows, target_rows, differences, detail) VALUES "
                            "($1, $2, $3, $4, $5, $6, $7)", &s);
    if (rc)
        return rc;
    if ((rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) != 0 ||
        (rc = sg_db_bind_text(s, 2, now, &m->err)) != 0 ||
        (rc = sg_db_bind_int(s, 3, at_ms, &m->err)) != 0 ||
        (rc = sg_db_bind_int(s, 4, source_rows, &m->err)) != 0 ||
        (rc = sg_db_bind_int(s, 5, target_rows, &m->err)) != 0 ||
        (rc = sg_db_bind_int(s, 6, differences, &m->err)) != 0 ||
        (rc = sg_db_bind_text(s, 7, detail, &m->err)) != 0) {
        sg_db_finalize(s);
        return rc;
    }
    return run(&m->err, s);
}

int sg_control_last_verify(sg_migration *m, int64_t *at_ms, int64_t *differences,
                           bool *found)
{
    sg_stmt *s = NULL;
    *found = false;
    int rc = ctl_prepare(m, "SELECT differences, at_ms FROM @verify_runs WHERE "
                            "migration = $1 ORDER BY id DESC LIMIT 1", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    if (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        *differences = sg_db_column_int(s, 0);
        *at_ms = sg_db_column_int(s, 1);
        *found = true;
    }
    sg_db_finalize(s);
    return rc > 0 ? 0 : rc;
}

int sg_control_switch_save(sg_migration *m, int dir, const int64_t *upto)
{
    int rc = sg_control_switch_clear(m, dir);
    for (size_t g = 0; g < m->n_groups && !rc; g++) {
        sg_stmt *s = NULL;
        rc = ctl_prepare(m, "INSERT INTO @switches (migration, direction, grp, upto) "
                            "VALUES ($1, $2, $3, $4)", &s);
        if (rc)
            break;
        if ((rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) != 0 ||
            (rc = sg_db_bind_int(s, 2, dir, &m->err)) != 0 ||
            (rc = sg_db_bind_int(s, 3, (int64_t)g, &m->err)) != 0 ||
            (rc = sg_db_bind_int(s, 4, upto[g], &m->err)) != 0)
            sg_db_finalize(s);
        else
            rc = run(&m->err, s);
    }
    return rc;
}

int sg_control_switch_dirs(sg_migration *m, bool pending[2])
{
    sg_stmt *s = NULL;
    pending[0] = pending[1] = false;
    int rc = ctl_prepare(m, "SELECT DISTINCT direction FROM @switches WHERE migration = $1", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    while (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        int64_t d = sg_db_column_int(s, 0);
        if (d == 0 || d == 1)
            pending[d] = true;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

int sg_control_switch_load(sg_migration *m, int dir, int64_t *upto, bool *found)
{
    sg_stmt *s = NULL;
    *found = false;
    for (size_t g = 0; g < m->n_groups; g++)
        upto[g] = 0;
    int rc = ctl_prepare(m, "SELECT grp, upto FROM @switches WHERE migration = $1 "
                            "AND direction = $2", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)))
        rc = sg_db_bind_int(s, 2, dir, &m->err);
    while (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        int64_t g = sg_db_column_int(s, 0);
        if (g >= 0 && (size_t)g < m->n_groups)
            upto[g] = sg_db_column_int(s, 1);
        *found = true;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

int sg_control_switch_clear(sg_migration *m, int dir)
{
    sg_stmt *s = NULL;
    int rc = ctl_prepare(m, "DELETE FROM @switches WHERE migration = $1 AND "
                            "direction = $2", &s);
    if (rc)
        return rc;
    if ((rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) != 0 ||
        (rc = sg_db_bind_int(s, 2, dir, &m->err)) != 0) {
        sg_db_finalize(s);
        return rc;
    }
    return run(&m->err, s);
}

/* A salt for the routing hash: 32 hex digits from /dev/urandom. */
static void make_salt(char out[40])
{
    unsigned char r[16] = { 0 };
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(r, 1, sizeof r, f) != sizeof r) {
        uint64_t t = (uint64_t)sg_now_ms() ^ ((uint64_t)getpid() << 32);
        memcpy(r, &t, sizeof t);
    }
    if (f)
        fclose(f);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

int sg_control_create(sg_migration *m)
{
    char now[32];
    sg_stmt *s = NULL;
    sg_now_iso(now);
    int rc = ctl_prepare(m, "INSERT INTO @migrations (name, spec_hash, phase, "
                            "created_at, updated_at) VALUES ($1, $2, 'planned', $3, $3) "
                            "ON CONFLICT (name) DO UPDATE SET spec_hash = $2, "
                            "phase = 'planned', updated_at = $3 WHERE "
                            "@migrations.phase = 'cleaned'", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
        !(rc = sg_db_bind_text(s, 2, m->spec_hash, &m->err)) &&
        !(rc = sg_db_bind_text(s, 3, now, &m->err)))
        rc = run(&m->err, s);
    else
        sg_db_finalize(s);
    /* a start that ran beside this one got there first */
    if (!rc && sg_db_changes(m->tgt) != 1)
        rc = sg_err_set(&m->err, SG_ESTATE, "migration '%s' was started by another "
                        "command meanwhile; nothing was changed; hint: see "
                        "`segue status`", m->spec->name);
    if (rc)
        return rc;
    sg_routing r = { .read_pct = 0, .write_side = SG_SIDE_SOURCE };
    make_salt(r.salt);
    return sg_routing_save(m, &r);
}

/* Runs a statement whose $1 is the migration's name. */
static int forget_in(sg_migration *m, const char *tmpl)
{
    sg_stmt *s = NULL;
    int rc = ctl_prepare(m, tmpl, &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)))
        return run(&m->err, s);
    sg_db_finalize(s);
    return rc;
}

int sg_control_forget(sg_migration *m, bool purge)
{
    static const char *const keep[] = {
        "DELETE FROM @checkpoints WHERE migration = $1",
        "DELETE FROM @routing WHERE migration = $1",
        "DELETE FROM @lease WHERE migration = $1",
        "DELETE FROM @switches WHERE migration = $1",
        "DELETE FROM @set_aside WHERE migration = $1",
        "DELETE FROM @columns WHERE migration = $1",
        "DELETE FROM @worker_state WHERE migration = $1",
    };
    static const char *const all[] = {
        "DELETE FROM @verify_runs WHERE migration = $1",
        "DELETE FROM @audit WHERE migration = $1",
        "DELETE FROM @tables WHERE migration = $1",
        "DELETE FROM @migrations WHERE name = $1",
    };
    int rc = 0;
    size_t n_keep = sizeof keep / sizeof keep[0];
    for (size_t i = 0; i < n_keep + (purge ? sizeof all / sizeof all[0] : 0) && !rc; i++)
        rc = forget_in(m, i < n_keep ? keep[i] : all[i - n_keep]);
    for (size_t i = 0; purge && !rc && i < sizeof later_tables / sizeof later_tables[0]; i++) {
        bool present = false;
        sg_buf d = SG_BUF_INIT;
        rc = sg_db_control_present(m->tgt, later_tables[i], &present, &m->err);
        sg_buf_printf(&d, "DELETE FROM @%s WHERE migration = $1", later_tables[i]);
        if (!rc && present)
            rc = sg_buf_failed(&d) ? sg_err_set(&m->err, SG_ENOMEM, "out of memory")
                                   : forget_in(m, sg_buf_str(&d));
        sg_buf_free(&d);
    }
    return rc;
}

int sg_checkpoint_load(sg_migration *m, size_t map, sg_checkpoint *out)
{
    sg_stmt *s = NULL;
    memset(out, 0, sizeof *out);
    int rc = ctl_prepare(m, "SELECT last_key, rows_done, chunks, done FROM "
                            "@checkpoints WHERE migration = $1 AND mapping = $2", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
        !(rc = sg_db_bind_int(s, 2, (int64_t)map, &m->err)) &&
        (rc = sg_db_step(s, &m->err)) == 1) {
        sg_value k;
        sg_db_column(s, 0, &k);
        out->rows = sg_db_column_int(s, 1);
        out->chunks = sg_db_column_int(s, 2);
        out->done = sg_db_column_int(s, 3) != 0;
        rc = 0;
        if (k.type == SG_V_BLOB && sg_row_decode(&out->last, k.p, k.n))
            rc = sg_err_set(&m->err, SG_EFORMAT, "target: checkpoint of mapping "
                            "%zu is unreadable; hint: run abort and start again", map);
    }
    sg_db_finalize(s);
    return rc;
}

int sg_checkpoint_save(sg_migration *m, size_t map, const sg_checkpoint *cp)
{
    sg_stmt *s = NULL;
    sg_buf key = SG_BUF_INIT;
    char now[32];
    sg_now_iso(now);
    if (cp->last.n)
        sg_row_encode(&key, cp->last.v, cp->last.n);
    int rc = ctl_prepare(m, "INSERT INTO @checkpoints (migration, mapping, "
                            "last_key, rows_done, chunks, done, updated_at) VALUES "
                            "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (migration, "
                            "mapping) DO UPDATE SET last_key = $3, rows_done = $4, "
                            "chunks = $5, done = $6, updated_at = $7", &s);
    sg_value kv = { .type = cp->last.n ? SG_V_BLOB : SG_V_NULL, .p = key.data,
                    .n = key.len };
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
        !(rc = sg_db_bind_int(s, 2, (int64_t)map, &m->err)) &&
        !(rc = sg_db_bind(s, 3, &kv, &m->err)) &&
        !(rc = sg_db_bind_int(s, 4, cp->rows, &m->err)) &&
        !(rc = sg_db_bind_int(s, 5, cp->chunks, &m->err)) &&
        !(rc = sg_db_bind_int(s, 6, cp->done, &m->err)) &&
        !(rc = sg_db_bind_text(s, 7, now, &m->err)))
        rc = run(&m->err, s);
    else
        sg_db_finalize(s);
    sg_buf_free(&key);
    return rc;
}

void sg_checkpoint_free(sg_checkpoint *cp)
{
    sg_row_free(&cp->last);
}

/* read_pct, write_side and salt from the columns at `first` of row s. */
static void routing_columns(sg_stmt *s, int first, sg_routing *out)
{
    sg_value v;
    sg_db_column(s, first, &v);
    out->read_pct = v.type == SG_V_REAL ? v.d : (double)v.i;
    sg_db_column(s, first + 1, &v);
    out->write_side = v.n == 6 && !memcmp(v.p, "target", 6) ? SG_SIDE_TARGET
                                                            : SG_SIDE_SOURCE;
    sg_db_column(s, first + 2, &v);
    snprintf(out->salt, sizeof out->salt, "%.*s", (int)(v.n < 39 ? v.n : 39),
             v.p ? (const char *)v.p : "");
}

int sg_routing_load(sg_conn *c, const char *name, sg_routing *out, bool *found,
                    sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    *found = false;
    memset(out, 0, sizeof *out);
    int rc = expand(c, "SELECT read_pct, write_side, salt FROM @routing WHERE "
                       "migration = $1", &b)
                 ? sg_err_set(err, SG_ENOMEM, "out of memory")
                 : sg_db_prepare(c, sg_buf_str(&b), &s, err);
    sg_buf_free(&b);
    if (!rc && !(rc = sg_db_bind_text(s, 1, name, err)) &&
        (rc = sg_db_step(s, err)) == 1) {
        routing_columns(s, 0, out);
        *found = true;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

static int unknown_migration(sg_conn *c, const char *name, sg_err *err)
{
    return sg_err_set(err, SG_ESTATE, "%s: no migration named '%s' is known in %s "
                      "(not started, misspelt, or aborted or purged); hint: check "
                      "the name against the spec and `segue status`", c->endpoint,
                      name, c->uri);
}

int sg_routing_serve(sg_conn *c, const char *name, sg_routing *out, sg_phase *phase,
                     sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    bool present = false;
    memset(out, 0, sizeof *out);
    int rc = sg_db_control_present(c, "meta", &present, err);
    if (rc || !present)
        return rc ? rc : unknown_migration(c, name, err);
    rc = expand(c, "SELECT m.phase, r.read_pct, r.write_side, r.salt FROM @migrations m "
                   "LEFT JOIN @routing r ON r.migration = m.name WHERE m.name = $1", &b)
             ? sg_err_set(err, SG_ENOMEM, "out of memory")
             : sg_db_prepare(c, sg_buf_str(&b), &s, err);
    sg_buf_free(&b);
    if (!rc && !(rc = sg_db_bind_text(s, 1, name, err)) &&
        (rc = sg_db_step(s, err)) == 0)
        rc = unknown_migration(c, name, err);
    if (rc == 1) {
        sg_value v;
        sg_db_column(s, 0, &v);
        *phase = phase_parse(v.p, v.n);
        routing_columns(s, 1, out);
        rc = 0;
    }
    sg_db_finalize(s);
    if (!rc && *phase == SG_PHASE_CLEANED) /* the move is complete */
        *out = (sg_routing){ .read_pct = 100, .write_side = SG_SIDE_TARGET };
    /* read-your-writes: while the apply is behind, reads go to the source */
    else if (!rc && out->write_side == SG_SIDE_SOURCE && out->read_pct > 0 &&
             (rc = sg_breaker_read(c, name, sg_now_ms(), &out->breaker_open, err)) == 0 &&
             out->breaker_open)
        out->read_pct = 0;
    return rc;
}

int sg_routing_save(sg_migration *m, const sg_routing *r)
{
    sg_stmt *s = NULL;
    char now[32];
    sg_now_iso(now);
    int rc = ctl_prepare(m, "INSERT INTO @routing (migration, read_pct, "
                            "write_side, salt, updated_at) VALUES ($1, $2, $3, $4, $5) "
                            "ON CONFLICT (migration) DO UPDATE SET read_pct = $2, "
                            "write_side = $3, salt = $4, updated_at = $5", &s);
    sg_value pct = { .type = SG_V_REAL, .d = r->read_pct };
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
        !(rc = sg_db_bind(s, 2, &pct, &m->err)) &&
        !(rc = sg_db_bind_text(s, 3, r->write_side == SG_SIDE_TARGET ? "target"
                                                                     : "source", &m->err)) &&
        !(rc = sg_db_bind_text(s, 4, r->salt, &m->err)) &&
        !(rc = sg_db_bind_text(s, 5, now, &m->err)))
        rc = run(&m->err, s);
    else
        sg_db_finalize(s);
    return rc;
}
