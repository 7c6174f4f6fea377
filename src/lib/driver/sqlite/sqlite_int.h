/* Private to the SQLite driver: its connection and statement structs, shared
 * by sqlite.c (connections, statements, dialect) and sqlite_schema.c
 * (introspection, capture, guards, marker). */
#ifndef SEGUE_SQLITE_INT_H
#define SEGUE_SQLITE_INT_H

#include <sqlite3.h>

#include "driver/driver.h"
#include "driver/sql_std.h"

/* How long a statement waits on a locked database before it fails: ms. */
#define SG_SQLITE_BUSY_TIMEOUT_MS 30000

typedef struct sq_conn {
    sg_conn base;
    sqlite3 *db;
    int64_t data_version;   /* PRAGMA data_version at the last others_wrote */
    int64_t stmt_timeout_ms;/* statement_timeout, 0: none */
    int64_t deadline_ms;    /* monotonic: the statement prepared last stops then */
} sq_conn;

typedef struct sq_stmt {
    sg_stmt base;
    sqlite3_stmt *st;
} sq_stmt;

/* Sets err from the connection's last error: "<endpoint>: <message>". */
int sg_sq_fail(sg_conn *c, sg_err *err);
int sg_sq_exec(sg_conn *c, const char *sql, sg_err *err);
void sg_sq_control_name(sg_buf *b, const char *name);
void sg_sq_type_parse(const char *decl, sg_coltype *out);
void sg_sq_type_decl(const sg_coltype *t, sg_buf *b);
const char *sg_sq_function_type(const char *fn);

int sg_sq_table_info(sg_conn *c, const char *table, sg_table_info **out, sg_err *err);
int sg_sq_control_present(sg_conn *c, const char *name, bool *out, sg_err *err);
/* What depends on a table: sqlite_depend.c. */
int sg_sq_table_foreign_keys(sg_conn *c, const sg_table_info *t, sg_fk_info **out, size_t *n,
                             sg_err *err);
int sg_sq_table_triggers(sg_conn *c, const sg_table_info *t, char ***out, size_t *n,
                         sg_err *err);
int sg_sq_tables(sg_conn *c, char ***out, size_t *n, sg_err *err);
int sg_sq_table_dependents(sg_conn *c, const char *table, sg_dependent **out, size_t *n,
                           sg_err *err);
int sg_sq_table_checks(sg_conn *c, const sg_table_info *t, sg_check_info **out, size_t *n,
                       sg_err *err);
/* Keys SQLite numbers itself: sqlite_numbering.c. sg_sq_mark_rowid marks
 * the table's rowid key column numbered (after its key is known). */
int sg_sq_mark_rowid(sqlite3 *db, sg_table_info *t);
const char *sg_sq_numbered_column(const char *type, bool always, bool sole_key,
                                  sg_buf *clause);
int sg_sq_numbering_last(sg_conn *c, const char *table, const char *column, int64_t *last,
                         bool *known, sg_err *err);
int sg_sq_numbering_raise(sg_conn *c, const char *table, const char *column, int64_t floor,
                          sg_err *err);
/* Secondary indexes: sqlite_index.c. */
int sg_sq_table_indexes(sg_conn *c, const sg_table_info *t, sg_index_info **out,
                        size_t *n, sg_err *err);
void sg_sq_index_sql(const sg_index_def *d, sg_buf *b);
int sg_sq_index_build(sg_conn *c, const sg_index_def *d, sg_err *err);
int sg_sq_capture_install(sg_conn *c, const sg_capture *cap, sg_err *err);
int sg_sq_capture_remove(sg_conn *c, const sg_capture *cap, sg_err *err);
int sg_sq_guard_install(sg_conn *c, const sg_guard *g, sg_err *err);
int sg_sq_guard_lift(sg_conn *c, const sg_guard *g, bool lift, sg_err *err);
int sg_sq_guard_remove(sg_conn *c, const sg_guard *g, sg_err *err);
int sg_sq_triggers_exist(sg_conn *c, const char *prefix, bool *out, sg_err *err);
int sg_sq_guard_exists(sg_conn *c, const sg_guard *g, bool *out, sg_err *err);
int sg_sq_marker_setup(sg_conn *c, sg_err *err);
int sg_sq_marker_teardown(sg_conn *c, sg_err *err);
int sg_sq_marker_on(sg_conn *c, sg_err *err);
int sg_sq_marker_off(sg_conn *c, sg_err *err);

#endif
