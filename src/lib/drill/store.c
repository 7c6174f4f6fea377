/* The drills' records (store.h). The report is kept as one JSON object,
 * the times the driver and the drill meet on as columns. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/store.h"
#include "move/tx.h"
#include "state/control.h"

static int install(sg_migration *m)
{
    return sg_control_exec(&m->err, m->tgt, "CREATE TABLE IF NOT EXISTS @drills "
                           "(migration %TXT NOT NULL, id %INT NOT NULL, started_ms %INT "
                           "NOT NULL, fault_ms %INT NOT NULL, rollback_ms %INT NOT NULL, "
                           "finished_ms %INT NOT NULL, report %TXT, PRIMARY KEY "
                           "(migration, id))");
}

/* Runs tmpl with $1 = the migration, $2.. = the integers a[0..n). */
static int run_ints(sg_migration *m, const char *tmpl, const int64_t *a, size_t n)
{
    sg_stmt *s = NULL;
    int rc = sg_control_prepare(&m->err, m->tgt, tmpl, &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ? SG_EDB : 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = sg_db_bind_int(s, (int)i + 2, a[i], &m->err) ? SG_EDB : 0;
    if (!rc)
        return sg_control_run(&m->err, s);
    sg_db_finalize(s);
    return rc;
}

/* One integer from tmpl ($1 = the migration, $2 = x); *out 0 when no row
 * or no table. */
static int read_int(sg_migration *m, const char *tmpl, int64_t x, int64_t *out)
{
    sg_stmt *s = NULL;
    bool present = false;
    *out = 0;
    int rc = sg_db_control_present(m->tgt, "drills", &present, &m->err);
    if (rc || !present)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, tmpl, &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_int(s, 2, x, &m->err) ? SG_EDB : 0;
    int step = rc ? 0 : sg_db_step(s, &m->err);
    if (step > 0)
        *out = sg_db_column_int(s, 0);
    sg_db_finalize(s);
    return rc ? rc : step < 0 ? SG_EDB : 0;
}

int sg_drill_begin(sg_migration *m, int64_t started_ms, const char *detail,
                   const char *reason, int64_t *id)
{
    int rc = install(m);
    if (!rc)
        rc = sg_tx_begin(m->tgt, &m->err);
    if (rc)
        return rc;
    rc = read_int(m, "SELECT coalesce(max(id), 0) + $2 FROM @drills WHERE migration = $1",
                  1, id);
    if (!rc && !*id)
        *id = 1;
    int64_t a[2] = { *id, started_ms };
    if (!rc)
        rc = run_ints(m, "INSERT INTO @drills (migration, id, started_ms, fault_ms, "
                      "rollback_ms, finished_ms) VALUES ($1, $2, $3, 0, 0, 0)", a, 2);
    if (!rc)
        rc = sg_control_audit(m, "drill_start", detail, reason);
    if (rc) {
        sg_tx_rollback(m->tgt);
        return rc;
    }
    return sg_tx_commit(m->tgt, &m->err);
}

int sg_drill_fault(sg_migration *m, int64_t id, int64_t at_ms)
{
    int64_t a[2] = { id, at_ms };
    return run_ints(m, "UPDATE @drills SET fault_ms = $3 WHERE migration = $1 AND id = $2",
                    a, 2);
}

int sg_drill_active(sg_migration *m, int64_t *id, int64_t *fault_ms)
{
    sg_stmt *s = NULL;
    bool present = false;
    *id = *fault_ms = 0;
    int rc = sg_db_control_present(m->tgt, "drills", &present, &m->err);
    if (rc || !present)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, "SELECT id, fault_ms FROM @drills WHERE "
                            "migration = $1 AND fault_ms > 0 AND finished_ms = 0 ORDER BY "
                            "id DESC LIMIT 1", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ? SG_EDB : 0;
    int step = rc ? 0 : sg_db_step(s, &m->err);
    if (step > 0) {
        *id = sg_db_column_int(s, 0);
        *fault_ms = sg_db_column_int(s, 1);
    }
    sg_db_finalize(s);
    return rc ? rc : step < 0 ? SG_EDB : 0;
}

int sg_drill_rolled_back(sg_migration *m, int64_t id, int64_t at_ms)
{
    int64_t a[2] = { id, at_ms };
    return run_ints(m, "UPDATE @drills SET rollback_ms = $3 WHERE migration = $1 AND "
                    "id = $2 AND rollback_ms = 0", a, 2);
}

int sg_drill_rollback_at(sg_migration *m, int64_t id, int64_t *at_ms)
{
    return read_int(m, "SELECT rollback_ms FROM @drills WHERE migration = $1 AND id = $2",
                    id, at_ms);
}

/* The report's numbers, by name, with their offsets: one table drives
 * both the JSON written and the JSON read back. */
#define I(f) { #f, offsetof(sg_drill_report, f), 'i' }
#define D(f) { #f, offsetof(sg_drill_report, f), 'd' }
static const struct field { const char *name; size_t off; char kind; } fields[] = {
    I(id), I(started_ms), I(finished_ms), D(reads_pct), D(fence_in_ms),
    I(to_rollback_ms), I(to_router_ms), I(to_ofrep_ms), D(fence_ms), I(limit_ms),
    I(writes_made), I(writes_on_target), I(writes_lost), I(overwritten),
    I(differences), I(verified_rows),
};
#undef I
#undef D

static char *report_json(const sg_drill_report *r)
{
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *p = (const char *)r + fields[i].off;
        json_object_set_new(o, fields[i].name, fields[i].kind == 'i'
                            ? json_integer(*(const int64_t *)p)
                            : json_real(*(const double *)p));
    }
    json_object_set_new(o, "writes", json_boolean(r->writes));
    json_object_set_new(o, "column", json_string(r->column));
    json_object_set_new(o, "outcome", json_string(r->outcome));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static void report_parse(sg_drill_report *r, const char *text)
{
    json_t *o = json_loads(text, 0, NULL);
    memset(r, 0, sizeof *r);
    for (size_t i = 0; o && i < sizeof fields / sizeof fields[0]; i++) {
        json_t *v = json_object_get(o, fields[i].name);
        char *p = (char *)r + fields[i].off;
        if (fields[i].kind == 'i')
            *(int64_t *)p = json_is_integer(v) ? json_integer_value(v) : -1;
        else
            *(double *)p = json_is_number(v) ? json_number_value(v) : -1;
    }
    r->writes = json_is_true(json_object_get(o, "writes"));
    snprintf(r->column, sizeof r->column, "%s",
             json_string_value(json_object_get(o, "column")) ?: "");
    snprintf(r->outcome, sizeof r->outcome, "%s",
             json_string_value(json_object_get(o, "outcome")) ?: "");
    json_decref(o);
}

int sg_drill_finish(sg_migration *m, const sg_drill_report *r, const char *detail,
                    const char *reason)
{
    sg_stmt *s = NULL;
    char *text = report_json(r);
    if (!text)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (!rc)
        rc = sg_control_prepare(&m->err, m->tgt, "UPDATE @drills SET finished_ms = $3, "
                                "report = $4 WHERE migration = $1 AND id = $2", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
             sg_db_bind_int(s, 2, r->id, &m->err) ||
             sg_db_bind_int(s, 3, r->finished_ms, &m->err) ||
             sg_db_bind_text(s, 4, text, &m->err) ? SG_EDB : 0;
    if (!rc) {
        rc = sg_control_run(&m->err, s);
        s = NULL;
    }
    if (!rc)
        rc = sg_control_audit(m, "drill_done", detail, reason);
    sg_db_finalize(s);
    free(text);
    if (rc) {
        sg_tx_rollback(m->tgt);
        return rc;
    }
    return sg_tx_commit(m->tgt, &m->err);
}

int sg_migration_last_drill(sg_drill_report *out, bool *found, sg_migration *m)
{
    sg_stmt *s = NULL;
    bool present = false;
    if (!m || !out || !found)
        return sg_bad_arg(m, "sg_migration_last_drill", "a NULL argument");
    sg_err_clear(&m->err);
    *found = false;
    memset(out, 0, sizeof *out);
    int rc = sg_db_control_present(m->tgt, "drills", &present, &m->err);
    if (rc || !present)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, "SELECT report FROM @drills WHERE "
                            "migration = $1 AND finished_ms > 0 ORDER BY id DESC "
                            "LIMIT 1", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ? SG_EDB : 0;
    int step = rc ? 0 : sg_db_step(s, &m->err);
    if (step > 0) {
        sg_value v;
        sg_db_column(s, 0, &v);
        char *text = v.type == SG_V_TEXT ? strndup(v.p, v.n) : NULL;
        report_parse(out, text ? text : "{}");
        free(text);
        *found = true;
    }
    sg_db_finalize(s);
    return rc ? rc : step < 0 ? SG_EDB : 0;
}
