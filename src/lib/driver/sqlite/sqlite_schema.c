/* SQLite driver: introspection, capture and guard triggers, no-echo marker. */
#include "driver/sqlite/sqlite_int.h"

#include <segue/segue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MARKER "\"_segue_applying\""
#define NOT_SEGUE "WHEN NOT EXISTS (SELECT 1 FROM " MARKER ")"
/* ms since the Unix epoch, as SQLite computes it inside a trigger */
#define NOW_MS "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"

static char *dup_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return strdup(t ? (const char *)t : "");
}

/* Looks the table up case-insensitively; *name is NULL when absent. */
static int find_table(sqlite3 *db, const char *table, char **name)
{
    sqlite3_stmt *s = NULL;
    *name = NULL;
    int rc = sqlite3_prepare_v2(db,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ?1 "
        "COLLATE NOCASE", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *name = dup_text(s, 0);
        rc = *name ? SQLITE_OK : SQLITE_NOMEM;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

/* A column's collation as sg_column_info.order spells it: "bytes" for
 * BINARY (memcmp, SQLite's default), else "sqlite:<name>". NULL out of memory. */
static char *column_order(sqlite3 *db, const char *table, const char *column)
{
    const char *coll = NULL;
    sg_buf b = SG_BUF_INIT;
    if (sqlite3_table_column_metadata(db, NULL, table, column, NULL, &coll, NULL, NULL,
                                      NULL) != SQLITE_OK || !coll)
        coll = "BINARY";
    if (sqlite3_stricmp(coll, "BINARY") == 0)
        sg_buf_puts(&b, "bytes");
    else
        sg_buf_printf(&b, "sqlite:%s", coll);
    return sg_buf_take(&b);
}

static int load_columns(sqlite3 *db, sg_table_info *t)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db,
        "SELECT name, type, \"notnull\", pk, hidden, dflt_value IS NOT NULL, dflt_value "
        "FROM pragma_table_xinfo(?1) "
        "ORDER BY cid", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
    size_t cap = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (sqlite3_column_int(s, 4) == 1)
            continue; /* hidden column of a virtual table */
        if (t->n_cols == cap) {
            cap = cap ? cap * 2 : 16;
            sg_column_info *p = realloc(t->cols, cap * sizeof *p);
            if (!p) {
                rc = SQLITE_NOMEM;
                break;
            }
            t->cols = p;
        }
        sg_column_info *c = &t->cols[t->n_cols++];
        memset(c, 0, sizeof *c);
        c->name = dup_text(s, 0);
        c->decl_type = dup_text(s, 1);
        c->notnull = sqlite3_column_int(s, 2) != 0;
        c->pk_pos = sqlite3_column_int(s, 3);
        c->generated = sqlite3_column_int(s, 4) >= 2;
        c->has_default = sqlite3_column_int(s, 5) != 0;
        c->order = c->name ? column_order(db, t->name, c->name) : NULL;
        c->default_sql = c->has_default ? dup_text(s, 6) : NULL;
        if (!c->name || !c->decl_type || !c->order || (c->has_default && !c->default_sql)) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int collect_pk(sg_table_info *t)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (t->cols[i].pk_pos > 0)
            t->n_pk++;
    if (!t->n_pk)
        return SQLITE_OK;
    t->pk = calloc(t->n_pk, sizeof *t->pk);
    if (!t->pk)
        return SQLITE_NOMEM;
    for (size_t i = 0; i < t->n_cols; i++) {
        int p = t->cols[i].pk_pos;
        if (p > 0 && (size_t)p <= t->n_pk)
            t->pk[p - 1] = (int)i;
    }
    return SQLITE_OK;
}

static int add_unique(sqlite3 *db, sg_table_info *t, const char *index)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db,
        "SELECT name FROM pragma_index_info(?1) ORDER BY seqno", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(s, 1, index, -1, SQLITE_STATIC);
    sg_unique_info u = { 0, NULL };
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *col = (const char *)sqlite3_column_text(s, 0);
        int idx = -1;
        for (size_t i = 0; col && i < t->n_cols; i++)
            if (sqlite3_stricmp(t->cols[i].name, col) == 0)
                idx = (int)i;
        if (sg_cols_push(&u.cols, &u.n, idx)) { /* -1: an expression column */
            rc = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(u.cols);
        return rc;
    }
    sg_unique_info *p = realloc(t->uniques, (t->n_unique + 1) * sizeof *p);
    if (!p) {
        free(u.cols);
        return SQLITE_NOMEM;
    }
    t->uniques = p;
    t->uniques[t->n_unique++] = u;
    return SQLITE_OK;
}

static int load_uniques(sqlite3 *db, sg_table_info *t)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db,
        "SELECT name FROM pragma_index_list(?1) WHERE \"unique\" AND "
        "origin <> 'pk' AND NOT partial", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char *name = dup_text(s, 0);
        rc = name ? add_unique(db, t, name) : SQLITE_NOMEM;
        free(name);
        if (rc != SQLITE_OK)
            break;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int sg_sq_table_info(sg_conn *c, const char *table, sg_table_info **out, sg_err *err)
{
    sqlite3 *db = ((sq_conn *)c)->db;
    sg_table_info *t = calloc(1, sizeof *t);
    int rc = t ? find_table(db, table, &t->name) : SQLITE_NOMEM;
    *out = NULL;
    if (rc == SQLITE_OK && t->name == NULL)
        goto done; /* no such table */
    if (rc == SQLITE_OK)
        rc = load_columns(db, t);
    if (rc == SQLITE_OK)
        rc = collect_pk(t);
    if (rc == SQLITE_OK)
        rc = sg_sq_mark_rowid(db, t);
    if (rc == SQLITE_OK)
        rc = load_uniques(db, t);
    if (rc == SQLITE_OK) {
        *out = t;
        t = NULL;
    }
done:
    sg_table_info_free(t);
    if (rc == SQLITE_NOMEM)
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
    return rc == SQLITE_OK ? 0 : sg_sq_fail(c, err);
}

int sg_sq_control_present(sg_conn *c, const char *name, bool *out, sg_err *err)
{
    sg_table_info *t = NULL;
    char table[128];
    snprintf(table, sizeof table, "_segue_%s", name);
    int rc = sg_sq_table_info(c, table, &t, err);
    *out = t != NULL;
    sg_table_info_free(t);
    return rc;
}

/* Appends the quoted trigger name "<prefix>_<suffix>". */
static void trigger_name(sg_buf *b, const char *prefix, const char *suffix)
{
    sg_std_quote_joined(b, prefix, suffix);
}

/* CREATE TRIGGER <prefix>_<suffix> <when> ON <table> WHEN ... BEGIN */
static void trigger_head(sg_buf *b, const char *prefix, const char *suffix,
                         const char *when, const char *table)
{
    sg_buf_puts(b, "CREATE TRIGGER ");
    trigger_name(b, prefix, suffix);
    sg_buf_printf(b, " %s ON ", when);
    sg_std_quote_ident(b, table);
    sg_buf_puts(b, " " NOT_SEGUE " BEGIN ");
}

/* INSERT INTO log (at, k0..) SELECT now, [<row>.]k.. */
static void log_head(sg_buf *b, const sg_capture *cap, const char *row)
{
    sg_buf_puts(b, "INSERT INTO ");
    sg_sq_control_name(b, cap->log_table);
    sg_buf_puts(b, " (at");
    for (size_t i = 0; i < cap->n_keys; i++)
        sg_buf_printf(b, ", k%zu", i);
    sg_buf_puts(b, ") SELECT " NOW_MS);
    for (size_t i = 0; i < cap->n_keys; i++) {
        sg_buf_puts(b, ", ");
        if (row)
            sg_buf_printf(b, "%s.", row);
        sg_std_quote_ident(b, cap->keys[i]);
    }
}

/* INSERT INTO log (at, k0..) SELECT now, <row>.k.. [WHERE cond] */
static void log_insert(sg_buf *b, const sg_capture *cap, const char *row,
                       const char *cond)
{
    log_head(b, cap, row);
    if (cond)
        sg_buf_printf(b, " WHERE %s", cond);
    sg_buf_puts(b, "; ");
}

static void key_changed(sg_buf *b, const sg_capture *cap)
{
    for (size_t i = 0; i < cap->n_keys; i++) {
        if (i)
            sg_buf_puts(b, " OR ");
        sg_buf_puts(b, "NEW.");
        sg_std_quote_ident(b, cap->keys[i]);
        sg_buf_puts(b, " IS NOT OLD.");
        sg_std_quote_ident(b, cap->keys[i]);
    }
}

/* Whether constraint columns `cols` (n) are exactly the capture's key, or
 * cannot be logged (an expression column, -1): either way, nothing to add. */
static bool is_key(const sg_capture *cap, const sg_table_info *t, size_t n,
                   const int *cols)
{
    for (size_t i = 0; i < n; i++)
        if (cols[i] < 0)
            return true;
    if (n != cap->n_keys)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < cap->n_keys && !found; k++)
            found = strcasecmp(t->cols[cols[i]].name, cap->keys[k]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* One uniqueness constraint: log the keys of the rows that hold the new
 * values and are not the row itself (`self` names it: NEW or OLD). */
static void displaced_one(sg_buf *b, const sg_capture *cap, const sg_table_info *t,
                          size_t n, const int *cols, const char *self)
{
    log_head(b, cap, NULL);
    sg_buf_puts(b, " FROM ");
    sg_std_quote_ident(b, cap->table);
    sg_buf_puts(b, " WHERE ");
    for (size_t i = 0; i < n; i++) {
        sg_buf_puts(b, i ? " AND " : "");
        sg_std_quote_ident(b, t->cols[cols[i]].name);
        sg_buf_puts(b, " = NEW.");
        sg_std_quote_ident(b, t->cols[cols[i]].name);
    }
    sg_buf_puts(b, " AND NOT (");
    for (size_t i = 0; i < cap->n_keys; i++) {
        sg_buf_puts(b, i ? " AND " : "");
        sg_std_quote_ident(b, cap->keys[i]);
        sg_buf_printf(b, " IS %s.", self);
        sg_std_quote_ident(b, cap->keys[i]);
    }
    sg_buf_puts(b, "); ");
}

/* SQLite's REPLACE conflict resolution deletes the rows in its way without
 * firing delete triggers (unless the application turned recursive_triggers
 * on), so a row displaced through a uniqueness constraint other than the key
 * would never reach the changelog. Before each insert and update, log the
 * keys of other rows holding the new values of such a constraint; when the
 * statement does not replace them, the extra entries cost one idempotent
 * re-sync. Tables whose only uniqueness constraint is the key get nothing.
 * Partial and expression indexes are not covered. */
static void displaced_triggers(sg_buf *b, const sg_capture *cap, const sg_table_info *t)
{
    static const char *const kind[][3] = { { "rins", "BEFORE INSERT", "NEW" },
                                           { "rupd", "BEFORE UPDATE", "OLD" } };
    size_t n = 0;
    bool pk = t->n_pk > 0 && !is_key(cap, t, t->n_pk, t->pk);
    for (size_t u = 0; u < t->n_unique; u++)
        n += !is_key(cap, t, t->uniques[u].n, t->uniques[u].cols);
    if (!pk && n == 0)
        return;
    for (size_t k = 0; k < 2; k++) {
        trigger_head(b, cap->trigger_prefix, kind[k][0], kind[k][1], cap->table);
        if (pk)
            displaced_one(b, cap, t, t->n_pk, t->pk, kind[k][2]);
        for (size_t u = 0; u < t->n_unique; u++)
            if (!is_key(cap, t, t->uniques[u].n, t->uniques[u].cols))
                displaced_one(b, cap, t, t->uniques[u].n, t->uniques[u].cols, kind[k][2]);
        sg_buf_puts(b, "END; ");
    }
}

/* The affinity SQLite gives a column declared `decl`, as a type name of
 * that affinity ("" for BLOB: none), from the type sg_sq_type_parse reads
 * by SQLite's own rules (dates, times and booleans have NUMERIC). */
static const char *affinity(const char *decl)
{
    sg_coltype t;
    sg_sq_type_parse(decl, &t);
    switch (t.kind) {
    case SG_K_INT: return "INTEGER";
    case SG_K_TEXT: return "TEXT";
    case SG_K_REAL: return "REAL";
    case SG_K_ANY:
    case SG_K_BLOB: return "";
    default: return "NUMERIC";
    }
}

/* The changelog: its key columns have the affinities of the table's, so a
 * key given as text (a read-your-writes lookup) compares as the table's
 * own column would; indexed by key for that lookup when asked. */
static void create_log(sg_buf *b, const sg_capture *cap, const sg_table_info *t)
{
    sg_buf_puts(b, "CREATE TABLE IF NOT EXISTS ");
    sg_sq_control_name(b, cap->log_table);
    sg_buf_puts(b, " (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL");
    for (size_t i = 0; i < cap->n_keys; i++) {
        const char *aff = "";
        for (size_t col = 0; t && col < t->n_cols; col++)
            if (sqlite3_stricmp(t->cols[col].name, cap->keys[i]) == 0)
                aff = affinity(t->cols[col].decl_type);
        sg_buf_printf(b, ", k%zu %s", i, aff);
    }
    sg_buf_puts(b, "); ");
    if (!cap->key_index)
        return;
    sg_buf_printf(b, "CREATE INDEX IF NOT EXISTS \"_segue_%s_key\" ON ", cap->log_table);
    sg_sq_control_name(b, cap->log_table);
    sg_buf_puts(b, " (");
    for (size_t i = 0; i < cap->n_keys; i++)
        sg_buf_printf(b, "%sk%zu", i ? ", " : "", i);
    sg_buf_puts(b, "); ");
}

int sg_sq_capture_install(sg_conn *c, const sg_capture *cap, sg_err *err)
{
    sg_buf b = SG_BUF_INIT, cond = SG_BUF_INIT;
    sg_table_info *t = NULL;
    int rc = sg_sq_table_info(c, cap->table, &t, err);
    if (rc)
        goto done;
    create_log(&b, cap, t);
    trigger_head(&b, cap->trigger_prefix, "ins", "AFTER INSERT", cap->table);
    log_insert(&b, cap, "NEW", NULL);
    sg_buf_puts(&b, "END; ");
    trigger_head(&b, cap->trigger_prefix, "upd", "AFTER UPDATE", cap->table);
    log_insert(&b, cap, "OLD", NULL);
    key_changed(&cond, cap);
    log_insert(&b, cap, "NEW", sg_buf_str(&cond));
    sg_buf_puts(&b, "END; ");
    trigger_head(&b, cap->trigger_prefix, "del", "AFTER DELETE", cap->table);
    log_insert(&b, cap, "OLD", NULL);
    sg_buf_puts(&b, "END; ");
    if (t)
        displaced_triggers(&b, cap, t);
    if (sg_buf_failed(&b) || sg_buf_failed(&cond))
        rc = sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
    else
        rc = sg_sq_exec(c, sg_buf_str(&b), err);
done:
    sg_table_info_free(t);
    sg_buf_free(&b);
    sg_buf_free(&cond);
    return rc;
}

static int drop_triggers(sg_conn *c, const char *prefix, const char *const *sfx,
                         size_t n, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        sg_buf_puts(&b, "DROP TRIGGER IF EXISTS ");
        trigger_name(&b, prefix, sfx[i]);
        sg_buf_puts(&b, "; ");
    }
    int rc = sg_buf_failed(&b)
                 ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                 : sg_sq_exec(c, sg_buf_str(&b), err);
    sg_buf_free(&b);
    return rc;
}

int sg_sq_capture_remove(sg_conn *c, const sg_capture *cap, sg_err *err)
{
    static const char *const sfx[] = { "ins", "upd", "del", "rins", "rupd" };
    return drop_triggers(c, cap->trigger_prefix, sfx, 5, err);
}

int sg_sq_guard_install(sg_conn *c, const sg_guard *g, sg_err *err)
{
    static const char *const ops[][2] = {
        { "gins", "BEFORE INSERT" },
        { "gupd", "BEFORE UPDATE" },
        { "gdel", "BEFORE DELETE" },
    };
    sg_buf b = SG_BUF_INIT;
    for (size_t i = 0; i < 3; i++) {
        trigger_head(&b, g->trigger_prefix, ops[i][0], ops[i][1], g->table);
        sg_buf_puts(&b, "SELECT RAISE(ABORT, ");
        sg_std_quote_literal(&b, g->message);
        sg_buf_puts(&b, "); END; ");
    }
    int rc = sg_buf_failed(&b)
                 ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                 : sg_sq_exec(c, sg_buf_str(&b), err);
    sg_buf_free(&b);
    return rc;
}

int sg_sq_guard_remove(sg_conn *c, const sg_guard *g, sg_err *err)
{
    static const char *const sfx[] = { "gins", "gupd", "gdel" };
    return drop_triggers(c, g->trigger_prefix, sfx, 3, err);
}

int sg_sq_guard_lift(sg_conn *c, const sg_guard *g, bool lift, sg_err *err)
{
    return lift ? sg_sq_guard_remove(c, g, err) : sg_sq_guard_install(c, g, err);
}

int sg_sq_triggers_exist(sg_conn *c, const char *prefix, bool *out, sg_err *err)
{
    sqlite3 *db = ((sq_conn *)c)->db;
    sqlite3_stmt *s = NULL;
    *out = false;
    if (sqlite3_prepare_v2(db,
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND "
            "substr(name, 1, length(?1)) = ?1", -1, &s, NULL) != SQLITE_OK)
        return sg_sq_fail(c, err);
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0) > 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : sg_sq_fail(c, err);
}

int sg_sq_guard_exists(sg_conn *c, const sg_guard *g, bool *out, sg_err *err)
{
    sg_buf name = SG_BUF_INIT;
    sg_buf_printf(&name, "%s_gins", g->trigger_prefix);
    int rc = sg_buf_failed(&name) ? sg_err_set(err, SG_ENOMEM, "%s: out of memory",
                                               c->endpoint)
                                  : sg_sq_triggers_exist(c, sg_buf_str(&name), out, err);
    sg_buf_free(&name);
    return rc;
}

int sg_sq_marker_setup(sg_conn *c, sg_err *err)
{
    return sg_sq_exec(c, "CREATE TABLE IF NOT EXISTS " MARKER " (x INTEGER)", err);
}

int sg_sq_marker_teardown(sg_conn *c, sg_err *err)
{
    bool any;
    int rc = sg_sq_triggers_exist(c, "_segue", &any, err);
    if (rc || any)
        return rc; /* still referenced by a trigger: keep it */
    return sg_sq_exec(c, "DROP TABLE IF EXISTS " MARKER, err);
}

int sg_sq_marker_on(sg_conn *c, sg_err *err)
{
    return sg_sq_exec(c, "CREATE TABLE IF NOT EXISTS " MARKER " (x INTEGER); "
                      "INSERT INTO " MARKER " VALUES (1)", err);
}

int sg_sq_marker_off(sg_conn *c, sg_err *err)
{
    /* cleanup may have dropped the marker table inside this transaction */
    if (sqlite3_table_column_metadata(((sq_conn *)c)->db, "main", "_segue_applying",
                                      NULL, NULL, NULL, NULL, NULL, NULL) != SQLITE_OK)
        return 0;
    return sg_sq_exec(c, "DELETE FROM " MARKER, err);
}
