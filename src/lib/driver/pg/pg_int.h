/* Private to the PostgreSQL driver: its connection and statement structs,
 * shared by pg.c (connections, statements, transactions, dialect) and
 * pg_schema.c (introspection, capture, guards, marker). */
#ifndef SEGUE_PG_INT_H
#define SEGUE_PG_INT_H

#include <libpq-fe.h>

#include "driver/driver.h"
#include "driver/sql_std.h"

struct pg_stmt;

typedef struct pg_conn {
    sg_conn base;
    PGconn *pg;
    struct pg_stmt *active; /* the statement reading results off the wire */
    int64_t changes;      /* rows changed by the last command */
    unsigned next_stmt;   /* for prepared statement names */
    sg_buf stale;         /* "DEALLOCATE ...; " left for after the transaction */
    int64_t idle_ms;      /* idle_in_transaction_session_timeout; 0: default */
    int64_t lock_wait_ms;     /* budget of sg_pg_exec_locking; 0: PG_LOCK_WAIT_MS */
    bool read_only;           /* every transaction READ ONLY (SG_DB_READ_ONLY) */
    bool serial_scans;        /* no parallel query: set on the first range
                               * sum (pg_range_sum_sql) */
} pg_conn;

/* Parameters a statement can take (the protocol's 16-bit count). */
#define SG_PG_MAX_PARAMS 65535

typedef struct pg_stmt {
    sg_stmt base;
    char name[24];        /* server-side prepared statement */
    char *once;           /* or the text of a one-shot statement (unnamed) */
    int n_params;
    char **vals;          /* bound values (text, or bytes for blobs) */
    int *lens, *fmts;
    PGresult *row;        /* the current row (single-row mode) */
    bool running;         /* results are being read */
    bool parked;          /* ... from `queue`, not from the connection */
    bool park_failed;     /* out of memory while parking */
    PGresult **queue;     /* parked results (see sg_pg_idle) */
    size_t n_queue, at_queue;
    sg_buf scratch;       /* decoded bytea of the current row */
    PGresult *desc;       /* the statement's description (result columns) */
    char *decltype;       /* last answer of column_decltype */
} pg_stmt;

/* Sets err from a failed result or the connection: "<endpoint>: <message>
 * (SQLSTATE xxxxx)". Returns SG_EDB. */
int sg_pg_fail(sg_conn *c, const PGresult *r, sg_err *err);
/* The connection, ready for a new command: the results still due to a
 * running statement are read into that statement first (a sync reads a row
 * and then writes on the same connection). */
PGconn *sg_pg_idle(sg_conn *c);
/* Runs a query with text parameters; NULL (err set) unless it returned
 * rows; the caller clears the result. */
PGresult *sg_pg_query(sg_conn *c, const char *sql, int n, const char *const *vals,
                   sg_err *err);
/* Runs a one-parameter query; *out is whether it returned a true first column. */
int sg_pg_query_bool(sg_conn *c, const char *sql, const char *arg, bool *out,
                  sg_err *err);
/* Runs one or more statements with no parameters and no rows. */
int sg_pg_exec(sg_conn *c, const char *sql, sg_err *err);
/* DDL or LOCK TABLE from a built buffer (frees it): waits at most
 * PG_LOCK_TIMEOUT_MS for each lock, then steps out of the lock queue, backs
 * off and retries, so segue never holds the application's queries behind it
 * for longer than that. */
int sg_pg_exec_locking(sg_conn *c, sg_buf *b, sg_err *err);
/* sg_pg_exec_locking for CREATE/DROP INDEX CONCURRENTLY, whose SHARE UPDATE
 * EXCLUSIVE lock and waits for older transactions hold back no read or write
 * of the application: each try waits past the server's deadlock_timeout,
 * the point where PostgreSQL cancels an autovacuum that holds the table (a
 * shorter wait never reaches it and retries until the vacuum ends, which on
 * a large table takes minutes). */
int sg_pg_exec_concurrently(sg_conn *c, sg_buf *b, sg_err *err);
/* segue."name": where control tables, changelogs and functions live. */
void sg_pg_control_name(sg_buf *b, const char *name);
void sg_pg_type_parse(const char *decl, sg_coltype *out);
void sg_pg_type_decl(const sg_coltype *t, sg_buf *b);
/* Columns the server numbers (identity, serial): pg_sequence.c. */
const char *sg_pg_numbered_column(const char *type, bool always, bool sole_key,
                                  sg_buf *clause);
int sg_pg_numbering_last(sg_conn *c, const char *table, const char *column, int64_t *last,
                         bool *known, sg_err *err);
int sg_pg_numbering_raise(sg_conn *c, const char *table, const char *column, int64_t floor,
                          sg_err *err);
/* Bulk loads: pg_copy.c. */
int sg_pg_bulk_begin(sg_conn *c, const char *table, size_t n, const char *const *cols,
                  sg_bulk **out, sg_err *err);
int sg_pg_bulk_row(sg_bulk *b, const sg_value *v, size_t n, sg_err *err);
int sg_pg_bulk_end(sg_bulk *b, bool ok, int64_t *rows, sg_err *err);

/* Introspection, capture, guards and marker: pg_schema.c. */
int sg_pg_table_info(sg_conn *c, const char *table, sg_table_info **out, sg_err *err);
/* What depends on a table, and its CHECKs: pg_depend.c. */
int sg_pg_sequence_copy(sg_conn *from, sg_conn *to, const char *seq, const char *table,
                        const char *column, sg_err *err);
int sg_pg_sequence_sync(sg_conn *from, sg_conn *to, const char *seq, sg_err *err);
int sg_pg_table_foreign_keys(sg_conn *c, const sg_table_info *t, sg_fk_info **out, size_t *n,
                             sg_err *err);
int sg_pg_table_triggers(sg_conn *c, const sg_table_info *t, char ***out, size_t *n,
                         sg_err *err);
void sg_pg_foreign_key_sql(const sg_fk_info *d, const char *table, bool add, sg_buf *b);
int sg_pg_tables(sg_conn *c, char ***out, size_t *n, sg_err *err);
int sg_pg_table_dependents(sg_conn *c, const char *table, sg_dependent **out, size_t *n,
                           sg_err *err);
int sg_pg_table_checks(sg_conn *c, const sg_table_info *t, sg_check_info **out, size_t *n,
                       sg_err *err);
/* Secondary indexes: pg_index.c. */
int sg_pg_table_indexes(sg_conn *c, const sg_table_info *t, sg_index_info **out,
                        size_t *n, sg_err *err);
void sg_pg_index_sql(const sg_index_def *d, sg_buf *b);
int sg_pg_index_build(sg_conn *c, const sg_index_def *d, sg_err *err);
int sg_pg_control_present(sg_conn *c, const char *name, bool *out, sg_err *err);
int sg_pg_control_setup(sg_conn *c, sg_err *err);
int sg_pg_type_copy(sg_conn *from, sg_conn *to, const char *decl, sg_err *err);
int sg_pg_control_teardown(sg_conn *c, sg_err *err);
int sg_pg_control_share(sg_conn *c, const char *name, sg_err *err);
int sg_pg_capture_install(sg_conn *c, const sg_capture *cap, sg_err *err);
int sg_pg_capture_remove(sg_conn *c, const sg_capture *cap, sg_err *err);
int sg_pg_guard_install(sg_conn *c, const sg_guard *g, sg_err *err);
int sg_pg_guard_remove(sg_conn *c, const sg_guard *g, sg_err *err);
int sg_pg_guard_exists(sg_conn *c, const sg_guard *g, bool *out, sg_err *err);
int sg_pg_marker_setup(sg_conn *c, sg_err *err);
int sg_pg_marker_teardown(sg_conn *c, sg_err *err);
int sg_pg_marker_on(sg_conn *c, sg_err *err);
int sg_pg_marker_off(sg_conn *c, sg_err *err);

/* The connection string as messages show it, secrets as *** (a new
 * string; NULL out of memory); *parsed: whether libpq could read it
 * (pg_conninfo.c). */
char *sg_pg_conninfo_display(const char *uri, const char *conninfo, bool *parsed);
/* Privileges: pg_roles.c. */
int sg_pg_copy_grants(sg_conn *from, const char *from_table, sg_conn *to,
                   const char *to_table, sg_err *err);
int sg_pg_table_roles(sg_conn *from, const char *from_table, sg_conn *to,
                   const char *to_table, sg_role_use **out, size_t *n, sg_err *err);

/* The planner's estimate of a table's rows, as the planner scales it
 * (reltuples per page at the last ANALYZE or VACUUM, times the pages now);
 * NULL before the first of those (reltuples -1) and for partitioned parents. */
#define PG_ROW_ESTIMATE_SQL                                                          \
    "SELECT CASE WHEN c.reltuples < 0 OR c.relpages = 0 THEN NULL ELSE "           \
    "(c.reltuples / c.relpages * (pg_relation_size(c.oid) / "                       \
    "current_setting('block_size')::bigint))::bigint END "                          \
    "FROM pg_class c WHERE c.oid = to_regclass($1)"

/* ms since the epoch, as the server computes it inside a trigger */
#define PG_NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

/* Statement entries of a changelog: pg_stmtlog.c. A statement that changed
 * at least PG_STMTLOG_ROWS rows logs one entry holding arrays of its keys. */
#define PG_STMTLOG_ROWS 1000
void sg_pg_stmtlog_sql(sg_buf *b, sg_stmtlog what, const char *log, size_t n_key);
/* Creates the table of statement entries beside cap's changelog; key_types
 * are the key columns' declared types. */
int sg_pg_stmtlog_create(sg_conn *c, const sg_capture *cap, const char *const *key_types,
                      sg_err *err);
/* Whether keys of these types can be logged as arrays (not arrays themselves). */
bool sg_pg_stmtlog_usable(const char *const *key_types, size_t n_key);
/* Appends to a trigger body: when `count_from` (a transition table) holds at
 * least PG_STMTLOG_ROWS rows, log one statement entry from the key columns of
 * `from` (a transition table or an aliased subquery) and return. */
void sg_pg_stmtlog_branch(sg_buf *b, const sg_capture *cap, const char *count_from,
                       const char *from);

#endif
