/* SQLite driver: connections, statements, transactions and dialect. */
#include "driver/sqlite/sqlite_int.h"

#include <segue/segue.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int sg_sq_fail(sg_conn *c, sg_err *err)
{
    sq_conn *q = (sq_conn *)c;
    int code = sqlite3_extended_errcode(q->db);
    sg_err_set(err, SG_EDB, "%s: %s (sqlite code %d)", c->endpoint,
               sqlite3_errmsg(q->db), code);
    /* still busy after the busy timeout: another writer held on */
    err->transient = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
    err->data = (code & 0xff) == SQLITE_CONSTRAINT || (code & 0xff) == SQLITE_MISMATCH ||
                (code & 0xff) == SQLITE_TOOBIG;
    err->unique = code == SQLITE_CONSTRAINT_UNIQUE;
    return SG_EDB;
}

static const char *path_of(const char *rest)
{
    /* sqlite:path, sqlite://path and sqlite:///abs/path are all accepted */
    if (strncmp(rest, "//", 2) == 0)
        return rest + 2;
    return rest;
}

/* The file to open and its flags. Read-only opens the file read-write but
 * sets query_only (sq_open): a connection opened with SQLITE_OPEN_READONLY
 * cannot remove the -wal and -shm files of a WAL database on close, so it
 * would leave files behind. A missing file opened read-only "as empty"
 * becomes a private in-memory database, so nothing is made on disk. */
static const char *open_path(const char *path, unsigned flags, int *oflags)
{
    bool ro = flags & SG_DB_READ_ONLY;
    *oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI |
              (!ro && (flags & SG_DB_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if (ro && (flags & SG_DB_CREATE) && *path && access(path, F_OK) != 0) {
        *oflags |= SQLITE_OPEN_MEMORY;
        return ":memory:";
    }
    return path;
}

static void sq_close(sg_conn *c);

static int sq_open(sg_conn **out, const char *uri, const char *rest,
                   const char *endpoint, unsigned flags, sg_err *err)
{
    const char *path = path_of(rest);
    int oflags;
    const char *file = open_path(path, flags, &oflags);
    sq_conn *q = calloc(1, sizeof *q);
    if (!q)
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", endpoint);
    q->base.drv = &sg_driver_sqlite;
    q->base.endpoint = endpoint;
    q->base.uri = strdup(uri);
    if (!q->base.uri) {
        free(q);
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", endpoint);
    }
    if (*path == '\0' ||
        sqlite3_open_v2(file, &q->db, oflags, NULL) != SQLITE_OK) {
        int rc = sg_err_set(err, SG_EDB,
                            "%s: cannot open SQLite database '%s': %s; hint: "
                            "check the path in the spec (relative paths are "
                            "relative to the current directory)%s",
                            endpoint, path,
                            q->db ? sqlite3_errmsg(q->db) : "empty path",
                            flags & SG_DB_CREATE ? "" : "; `segue start` makes "
                            "a target database that does not exist");
        sqlite3_close(q->db);
        free(q->base.uri);
        free(q);
        return rc;
    }
    sqlite3_busy_timeout(q->db, SG_SQLITE_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(q->db, 1);
    *out = &q->base;
    /* segue applies changes key by key, a child's before its parent's:
     * foreign keys bind the application's connections only (a build may
     * turn them on by default) */
    const char *setup = flags & SG_DB_READ_ONLY ? "PRAGMA foreign_keys = 0; PRAGMA query_only = 1"
                                                : "PRAGMA foreign_keys = 0";
    if (sg_sq_exec(&q->base, setup, err)) {
        sq_close(&q->base);
        *out = NULL;
        return SG_EDB;
    }
    return 0;
}

static int sq_lock_wait(sg_conn *c, int64_t ms, sg_err *err)
{
    (void)err;
    sqlite3_busy_timeout(((sq_conn *)c)->db, ms > INT_MAX ? INT_MAX : (int)ms);
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* SQLite's progress handler: non-zero interrupts the statement. */
static int past_deadline(void *arg)
{
    const sq_conn *q = arg;
    return mono_ms() > q->deadline_ms;
}

/* Each statement gets the time from its prepare on (sq_prepare). */
static int sq_statement_timeout(sg_conn *c, int64_t ms, sg_err *err)
{
    sq_conn *q = (sq_conn *)c;
    (void)err;
    q->stmt_timeout_ms = ms > 0 ? ms : 0;
    sqlite3_progress_handler(q->db, ms > 0 ? 10000 : 0, ms > 0 ? past_deadline : NULL, q);
    return 0;
}

/* ATTACH 'file:<other's file>?mode=ro' AS "alias": a URI filename, so the
 * attached file is read-only here; '%', '?' and '#' in the path are
 * %-encoded as RFC 3986 asks. */
static int sq_attach(sg_conn *c, sg_conn *other, const char *alias, sg_err *err)
{
    const char *file = sqlite3_db_filename(((sq_conn *)other)->db, "main");
    sqlite3_stmt *s = NULL;
    sg_buf uri = SG_BUF_INIT, sql = SG_BUF_INIT;
    if (!file || !*file)
        return sg_err_set(err, SG_ENOTSUP, "%s: an in-memory database cannot be "
                          "attached", c->endpoint);
    sg_buf_puts(&uri, "file:");
    for (const char *p = file; *p; p++)
        if (*p == '%' || *p == '?' || *p == '#')
            sg_buf_printf(&uri, "%%%02X", (unsigned char)*p);
        else
            sg_buf_putc(&uri, *p);
    sg_buf_puts(&uri, "?mode=ro");
    sg_buf_puts(&sql, "ATTACH DATABASE ?1 AS ");
    sg_std_quote_ident(&sql, alias);
    int rc = sg_buf_failed(&uri) || sg_buf_failed(&sql)
                 ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint) : 0;
    if (!rc && sqlite3_prepare_v2(((sq_conn *)c)->db, sg_buf_str(&sql), -1, &s,
                                  NULL) != SQLITE_OK)
        rc = sg_sq_fail(c, err);
    if (!rc)
        sqlite3_bind_text(s, 1, sg_buf_str(&uri), -1, SQLITE_TRANSIENT);
    if (!rc && sqlite3_step(s) != SQLITE_DONE)
        rc = sg_sq_fail(c, err);
    sqlite3_finalize(s);
    sg_buf_free(&uri);
    sg_buf_free(&sql);
    return rc;
}

/* PRAGMA data_version changes on a connection when another connection
 * commits to the database (https://sqlite.org/pragma.html#pragma_data_version). */
static int sq_others_wrote(sg_conn *c, bool *out, sg_err *err)
{
    sq_conn *q = (sq_conn *)c;
    sqlite3_stmt *s = NULL;
    *out = false;
    if (sqlite3_prepare_v2(q->db, "PRAGMA data_version", -1, &s, NULL) != SQLITE_OK)
        return sg_sq_fail(c, err);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64(s, 0);
        *out = q->data_version && v != q->data_version;
        q->data_version = v;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : sg_sq_fail(c, err);
}

static int sq_tidy(sg_conn *c, sg_err *err)
{
    int rc = sqlite3_wal_checkpoint_v2(((sq_conn *)c)->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       NULL, NULL);
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : sg_sq_fail(c, err);
}

static void sq_close(sg_conn *c)
{
    sq_conn *q = (sq_conn *)c;
    sqlite3_close(q->db);
    free(c->uri);
    free(q);
}

static bool sq_same_database(const char *a, const char *b)
{
    const char *pa = path_of(a), *pb = path_of(b);
    char ra[PATH_MAX], rb[PATH_MAX];
    if (realpath(pa, ra) && realpath(pb, rb))
        return strcmp(ra, rb) == 0;
    return strcmp(pa, pb) == 0;
}

static bool sq_same_name(const char *a, const char *b)
{
    return sqlite3_stricmp(a, b) == 0;
}

int sg_sq_exec(sg_conn *c, const char *sql, sg_err *err)
{
    sq_conn *q = (sq_conn *)c;
    if (sqlite3_exec(q->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sg_sq_fail(c, err);
    return 0;
}

static int sq_prepare(sg_conn *c, const char *sql, sg_stmt **out, sg_err *err)
{
    sq_conn *q = (sq_conn *)c;
    sq_stmt *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
    if (q->stmt_timeout_ms)
        q->deadline_ms = mono_ms() + q->stmt_timeout_ms;
    if (sqlite3_prepare_v2(q->db, sql, -1, &s->st, NULL) != SQLITE_OK) {
        free(s);
        return sg_sq_fail(c, err);
    }
    s->base.conn = c;
    *out = &s->base;
    return 0;
}

static int sq_bind(sg_stmt *st, int idx, const sg_value *v, sg_err *err)
{
    sqlite3_stmt *s = ((sq_stmt *)st)->st;
    int rc;
    switch (v->type) {
    case SG_V_NULL: rc = sqlite3_bind_null(s, idx); break;
    case SG_V_INT:
    case SG_V_BOOL: rc = sqlite3_bind_int64(s, idx, v->i); break;
    case SG_V_REAL: rc = sqlite3_bind_double(s, idx, v->d); break;
    case SG_V_BLOB:
        rc = v->n ? sqlite3_bind_blob64(s, idx, v->p, v->n, SQLITE_TRANSIENT)
                  : sqlite3_bind_zeroblob(s, idx, 0);
        break;
    default:
        rc = sqlite3_bind_text64(s, idx, v->n ? v->p : "", v->n,
                                 SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
    }
    return rc == SQLITE_OK ? 0 : sg_sq_fail(st->conn, err);
}

static int sq_step(sg_stmt *st, sg_err *err)
{
    int rc = sqlite3_step(((sq_stmt *)st)->st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return sg_sq_fail(st->conn, err);
}

static int sq_column_count(sg_stmt *st)
{
    return sqlite3_column_count(((sq_stmt *)st)->st);
}

static void sq_column(sg_stmt *st, int i, sg_value *out)
{
    sqlite3_stmt *s = ((sq_stmt *)st)->st;
    memset(out, 0, sizeof *out);
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER:
        out->type = SG_V_INT;
        out->i = sqlite3_column_int64(s, i);
        break;
    case SQLITE_FLOAT:
        out->type = SG_V_REAL;
        out->d = sqlite3_column_double(s, i);
        break;
    case SQLITE_TEXT:
        out->type = SG_V_TEXT;
        out->p = sqlite3_column_text(s, i);
        out->n = (size_t)sqlite3_column_bytes(s, i);
        break;
    case SQLITE_BLOB:
        out->type = SG_V_BLOB;
        out->p = sqlite3_column_blob(s, i);
        out->n = (size_t)sqlite3_column_bytes(s, i);
        break;
    default:
        out->type = SG_V_NULL;
        break;
    }
}

static const char *sq_column_decltype(sg_stmt *st, int i)
{
    return sqlite3_column_decltype(((sq_stmt *)st)->st, i);
}

static int sq_reset(sg_stmt *st)
{
    sqlite3_stmt *s = ((sq_stmt *)st)->st;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return 0;
}

static void sq_finalize(sg_stmt *st)
{
    sqlite3_finalize(((sq_stmt *)st)->st);
    free(st);
}

static int64_t sq_changes(sg_conn *c)
{
    return sqlite3_changes64(((sq_conn *)c)->db);
}

static int sq_begin(sg_conn *c, bool write, sg_err *err)
{
    return sg_sq_exec(c, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

static int sq_commit(sg_conn *c, sg_err *err)
{
    return sg_sq_exec(c, "COMMIT", err);
}

static void sq_rollback(sg_conn *c)
{
    sg_err ignored;
    if (!sqlite3_get_autocommit(((sq_conn *)c)->db))
        sg_sq_exec(c, "ROLLBACK", &ignored);
}


static int sq_fence(sg_conn *c, size_t n, const char *const *tables, sg_err *err)
{
    /* BEGIN IMMEDIATE already holds the database's only write lock */
    (void)c; (void)n; (void)tables; (void)err;
    return 0;
}

static void sq_param(sg_buf *b, int n)
{
    sg_buf_printf(b, "?%d", n);
}

void sg_sq_control_name(sg_buf *b, const char *name)
{
    sg_buf_puts(b, "\"_segue_");
    sg_buf_puts(b, name);
    sg_buf_putc(b, '"');
}

/* SQLite's default busy handler (sqliteDefaultBusyCallback in its main.c,
 * behind sqlite3_busy_timeout) sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50,
 * 50 ms, then 100 ms at a time, retrying after each sleep. A writer that
 * started waiting at most held_ms ago sleeps no longer than the step reached
 * at held_ms, so staying off the lock for that step (plus 2 ms of timer
 * slack) lets its next retry in. */
static int64_t sq_yield_ms(int64_t held_ms)
{
    static const int64_t step[] = { 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 };
    int64_t waited = 0;
    for (size_t i = 0; i < sizeof step / sizeof *step; i++) {
        waited += step[i];
        if (held_ms < waited)
            return step[i] + 2;
    }
    return 100 + 2;
}

static const char *sq_type_name(sg_vtype t)
{
    switch (t) {
    case SG_V_INT:
    case SG_V_BOOL: return "INTEGER";
    case SG_V_REAL: return "REAL";
    case SG_V_BLOB: return "BLOB";
    default: return "TEXT";
    }
}

/* Control tables sit in the database itself: no container to make. */
static int sq_nothing(sg_conn *c, sg_err *err)
{
    (void)c;
    (void)err;
    return 0;
}

static void sq_upsert_tail(sg_buf *b, size_t n_keys, const char *const *keys,
                           size_t n_cols, const char *const *cols)
{
    sg_std_upsert_tail(b, n_keys, keys, n_cols, cols, sq_same_name);
}

const sg_driver sg_driver_sqlite = {
    .name = "sqlite",
    .scheme = "sqlite",
    .open = sq_open,
    .attach = sq_attach,
    .others_wrote = sq_others_wrote,
    .tidy = sq_tidy,
    .lock_wait = sq_lock_wait,
    .statement_timeout = sq_statement_timeout,
    .close = sq_close,
    .same_database = sq_same_database,
    .same_name = sq_same_name,
    .exec = sg_sq_exec,
    .prepare = sq_prepare,
    .bind = sq_bind,
    .step = sq_step,
    .column_count = sq_column_count,
    .column = sq_column,
    .column_decltype = sq_column_decltype,
    .function_type = sg_sq_function_type,
    .reset = sq_reset,
    .finalize = sq_finalize,
    .changes = sq_changes,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .fence = sq_fence,
    .quote_ident = sg_std_quote_ident,
    .quote_literal = sg_std_quote_literal,
    .param = sq_param,
    .control_name = sg_sq_control_name,
    .type_parse = sg_sq_type_parse,
    .type_decl = sg_sq_type_decl,
    .type_name = sq_type_name,
    .serial_pk = "INTEGER PRIMARY KEY",
    .row_lock = "",
    .insert_override = "",
    .own_schema = "main",
    .numbered_column = sg_sq_numbered_column,
    .numbering_last = sg_sq_numbering_last,
    .numbering_raise = sg_sq_numbering_raise,
    .upsert_tail = sq_upsert_tail,
    .table_info = sg_sq_table_info,
    .table_indexes = sg_sq_table_indexes,
    .tables = sg_sq_tables,
    .table_dependents = sg_sq_table_dependents,
    .table_foreign_keys = sg_sq_table_foreign_keys,
    .table_triggers = sg_sq_table_triggers,
    .table_checks = sg_sq_table_checks,
    .index_sql = sg_sq_index_sql,
    .index_build = sg_sq_index_build,
    .control_setup = sq_nothing,
    .control_teardown = sq_nothing,
    .control_present = sg_sq_control_present,
    .capture_install = sg_sq_capture_install,
    .capture_remove = sg_sq_capture_remove,
    .guard_install = sg_sq_guard_install,
    .guard_remove = sg_sq_guard_remove,
    .guard_lift = sg_sq_guard_lift,
    .yield_ms = sq_yield_ms,
    .guard_exists = sg_sq_guard_exists,
    .marker_setup = sg_sq_marker_setup,
    .marker_teardown = sg_sq_marker_teardown,
    .marker_on = sg_sq_marker_on,
    .marker_off = sg_sq_marker_off,
};
