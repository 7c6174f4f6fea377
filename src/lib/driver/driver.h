/* The driver vtable: everything engine-specific sits behind it, so core code
 * never branches on the engine. A capability a driver lacks is an explicit
 * SG_ENOTSUP from that driver (the shape follows Redis' connection.h and the
 * SQLite VFS).
 *
 * Core code calls the sg_db_* wrappers below (driver.c, driver_ops.c),
 * never the vtable directly; a test fails when it does.
 * Every failing call leaves "<endpoint>: <what the database said>" in the
 * sg_err it is given (endpoint is "source" or "target"); the caller prefixes
 * what it was doing. */
#ifndef SEGUE_DRIVER_H
#define SEGUE_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "values/coltype.h"
#include "base/err.h"
#include "values/value.h"

/* Most columns a flow reads or writes, and most key columns: rows and keys
 * are held in arrays of this size while they move; mapping checks them. */
#define SG_MAX_COLS 256
#define SG_MAX_KEY 16

typedef struct sg_driver sg_driver;
typedef struct sg_stmt sg_stmt;
typedef struct sg_bulk sg_bulk;

/* A connection. Drivers allocate a larger struct that starts with this. */
typedef struct sg_conn {
    const sg_driver *drv;
    char *uri;            /* as given, with any password replaced by "***" */
    const char *endpoint; /* "source" or "target"; static */
    int tx_depth;         /* 1 while a transaction is open */
} sg_conn;

/* A statement. Drivers allocate a larger struct that starts with this. */
struct sg_stmt {
    sg_conn *conn;
};

typedef struct sg_column_info {
    char *name;
    char *decl_type;  /* declared type as the engine reports it; "" if none */
    bool notnull;
    bool generated;   /* computed by the engine: never written by segue */
    bool has_default; /* an insert that leaves it out gets a value (a
                       * default, an identity or serial) */
    int pk_pos;       /* 1-based position in the primary key, 0 if not */
    char *order;      /* how comparisons (<, ORDER BY) order its values:
                       * "bytes" (bytewise), else the engine's collation
                       * ("libc:en_US.utf8", "icu:de", "sqlite:NOCASE");
                       * "" for a type ordered by value, without a collation */
    char *default_sql;/* the default as the engine spells it ("'x'::text",
                       * "CURRENT_TIMESTAMP"), or NULL when none */
    char *sequence;   /* the sequence that default takes numbers from, as
                       * the engine names it in SQL, or NULL */
    char numbered;    /* the engine numbers the column when an insert leaves
                       * it out: 'a' always (no value from the application
                       * accepted: PostgreSQL GENERATED ALWAYS AS IDENTITY),
                       * 'd' by default (BY DEFAULT identity, a serial with
                       * its own sequence, SQLite's INTEGER PRIMARY KEY),
                       * 0 not */
} sg_column_info;

typedef struct sg_unique_info {
    size_t n;
    int *cols;        /* indexes into sg_table_info.cols */
} sg_unique_info;

typedef struct sg_table_info {
    char *name;       /* the table's name as the catalog spells it */
    size_t n_cols;
    sg_column_info *cols;
    size_t n_pk;
    int *pk;          /* indexes into cols, in key order */
    size_t n_unique;
    sg_unique_info *uniques; /* unique indexes and constraints (not the pk) */
} sg_table_info;

void sg_table_info_free(sg_table_info *t);

/* A secondary index of a table (the driver's table_indexes): not the
 * primary key's. Unique constraints are listed as their indexes. */
typedef struct sg_index_info {
    char *name;       /* as the catalog spells it */
    bool unique;
    bool valid;       /* usable (PostgreSQL: a CONCURRENTLY build that
                       * failed leaves an invalid one) */
    size_t n;         /* key parts */
    int *cols;        /* per part: index into sg_table_info.cols, or -1 */
    char **exprs;     /* per part: the expression as the engine spells it,
                       * NULL for a plain column */
    bool *desc;       /* per part: descending */
    char *where;      /* a partial index's predicate (engine spelling), or NULL */
    char *method;     /* the access method when not the default (PostgreSQL:
                       * gin, gist, hash...), or NULL */
    bool include;     /* has non-key (INCLUDE) columns, which are not listed */
} sg_index_info;

void sg_index_infos_free(sg_index_info *v, size_t n);

/* Something outside a table that breaks when the table is dropped (the
 * driver's table_dependents): a foreign key of another table pointing at
 * it, a view that reads it, a trigger on another table or a function whose
 * body names it. segue's own objects are never listed. */
typedef struct sg_dependent {
    const char *kind; /* "foreign key", "view", "materialized view",
                       * "trigger", "function"; static */
    char *name;       /* the object as its catalog names it */
    char *table;      /* the table a foreign key or trigger is on, or NULL */
} sg_dependent;

void sg_dependents_free(sg_dependent *v, size_t n);
/* Frees n strings and the array holding them. */
void sg_names_free(char **v, size_t n);
/* Appends one (copies name and table; kind is static). 0, or -1 out of
 * memory (the array is left as it was). */
int sg_dependents_push(sg_dependent **v, size_t *n, const char *kind, const char *name,
                       const char *table);

/* A foreign key of a table (the driver's table_foreign_keys). */
typedef struct sg_fk_info {
    char *name;       /* the constraint's name, or NULL (SQLite keeps none) */
    size_t n;
    char **cols;      /* the table's columns, in key order */
    char *ref_table;  /* the table it references */
    char **ref_cols;  /* the columns referenced, in key order; NULL entries
                       * when the key names none (its primary key) */
} sg_fk_info;

void sg_fk_infos_free(sg_fk_info *v, size_t n);
/* Frees what one key holds and zeroes it (the struct itself stays). */
void sg_fk_info_clear(sg_fk_info *k);
/* Appends the pair (col, ref) to the last key, or to a new one (new_key,
 * or none yet) named `name` referencing ref_table; copies the strings.
 * 0, or -1 out of memory (free the array as it is). */
int sg_fk_infos_push(sg_fk_info **v, size_t *n, bool new_key, const char *name,
                     const char *ref_table, const char *col, const char *ref);

/* A CHECK constraint of a table (the driver's table_checks). */
typedef struct sg_check_info {
    char *name;       /* or NULL when it has none */
    char *expr;       /* the condition as the engine spells it, without
                       * CHECK and its parentheses */
} sg_check_info;

void sg_check_infos_free(sg_check_info *v, size_t n);

/* An index to make (the driver's index_sql and index_build); every text is
 * in the target engine's spelling, identifiers already quoted. */
typedef struct sg_index_def {
    const char *name;          /* unquoted */
    const char *table;         /* unquoted */
    bool unique;
    size_t n;
    const char *const *parts;  /* a quoted column, or a parenthesized expression */
    const bool *desc;
    const char *where;         /* or NULL */
    const char *method;        /* or NULL */
} sg_index_def;

/* A role that uses a table (the driver's table_roles). */
typedef struct sg_role_use {
    char *role;       /* as GRANT spells it (quoted where needed), or PUBLIC */
    char *privileges; /* what it holds on the table: "INSERT, SELECT" */
    bool owner;       /* the table's owner */
    bool absent;      /* no such role where the other table lives */
    char *lacking;    /* of those, what it lacks on the other table ("":
                       * nothing); NULL when that table was not checked */
} sg_role_use;

void sg_role_uses_free(sg_role_use *u, size_t n);
/* Appends a column index to a growing array (key or index columns).
 * Returns 0, or -1 out of memory (the array is left as it was). */
int sg_cols_push(int **cols, size_t *n, int col);
/* Index of a column by name (the engine's case rules), or -1. */
int sg_table_info_column(const sg_conn *c, const sg_table_info *t,
                         const char *name);

/* Capture of one table into a changelog table: on every insert, update and
 * delete not made by segue itself, the triggers append the key (an update that
 * changes the key appends both keys) with the time in ms since the epoch.
 * The changelog has columns id (increasing), at (ms) and k0..k{n-1}. */
typedef struct sg_capture {
    const char *table;          /* captured table */
    const char *log_table;      /* changelog, created if missing: a control
                                 * object name (qualified by control_name) */
    const char *trigger_prefix; /* unique per (migration, table) */
    size_t n_keys;
    const char *const *keys;    /* key columns of `table`, in key order */
    bool key_index;             /* index the changelog by its key columns (a
                                 * read-your-writes lookup is one probe) */
} sg_capture;

/* Statements a driver spells for statement entries of a changelog (see
 * stmtlog_sql). */
typedef enum sg_stmtlog {
    SG_STMTLOG_NEXT,    /* id, key count of the oldest entry with id > $1 */
    SG_STMTLOG_KEYS,    /* k0.. of entry $1, positions $2 to $3 (1-based) */
    SG_STMTLOG_PENDING, /* key count, min(at), max(at) over every entry */
    SG_STMTLOG_DELETE,  /* delete entry $1 */
    SG_STMTLOG_FORGET,  /* delete every entry with id <= $1 */
    SG_STMTLOG_DROP,    /* drop the table of statement entries if it exists */
    SG_STMTLOG_ANY      /* a row when any entry is pending (no parameter) */
} sg_stmtlog;

/* A guard rejects every write to `table` not made by segue, with `message`. */
typedef struct sg_guard {
    const char *table;
    const char *trigger_prefix;
    const char *message;
} sg_guard;

struct sg_driver {
    const char *name;   /* "sqlite" */
    const char *scheme; /* URI scheme without the colon */
    const char *alias;  /* another scheme it answers to, or NULL */

    /* `rest` is the URI after "scheme:"; `flags` are SG_DB_* open flags. */
    int (*open)(sg_conn **out, const char *uri, const char *rest,
                const char *endpoint, unsigned flags, sg_err *err);
    void (*close)(sg_conn *c);
    /* Whether two URIs of this driver name the same database. */
    bool (*same_database)(const char *rest_a, const char *rest_b);
    /* Whether two table names of this engine name the same table. */
    bool (*same_name)(const char *a, const char *b);

    int (*exec)(sg_conn *c, const char *sql, sg_err *err);
    int (*prepare)(sg_conn *c, const char *sql, sg_stmt **out, sg_err *err);
    /* A statement stepped through once and finalized: no server-side
     * preparation (PostgreSQL: the unnamed statement, one round trip);
     * column_decltype answers NULL. NULL in the vtable: prepare serves. */
    int (*prepare_once)(sg_conn *c, const char *sql, sg_stmt **out, sg_err *err);
    /* idx is 1-based. The value's bytes are copied by the driver. */
    int (*bind)(sg_stmt *s, int idx, const sg_value *v, sg_err *err);
    /* 1: a row is ready; 0: done; < 0: error. */
    int (*step)(sg_stmt *s, sg_err *err);
    int (*column_count)(sg_stmt *s);
    /* Valid until the next step/reset/finalize of s. */
    void (*column)(sg_stmt *s, int i, sg_value *out);
    /* Declared type of a result column that is a plain column, or NULL. */
    const char *(*column_decltype)(sg_stmt *s, int i);
    /* Where the engine gives no type to an expression (SQLite): the type of
     * what built-in function `fn` returns ("TEXT"), "" for the type of its
     * first argument (abs, coalesce), NULL when unknown. NULL in the vtable
     * where the engine types every expression itself. */
    const char *(*function_type)(const char *fn);
    int (*reset)(sg_stmt *s);
    void (*finalize)(sg_stmt *s);
    /* Bulk load into `table` (`cols`, n of them) inside the caller's
     * transaction: rows are streamed, not one statement each (PostgreSQL:
     * COPY FROM STDIN). bulk_end sends what is buffered and finishes (ok)
     * or abandons the load, frees the handle and gives the row count.
     * NULL where the engine has nothing faster than prepared inserts. */
    int (*bulk_begin)(sg_conn *c, const char *table, size_t n,
                      const char *const *cols, sg_bulk **out, sg_err *err);
    int (*bulk_row)(sg_bulk *b, const sg_value *v, size_t n, sg_err *err);
    int (*bulk_end)(sg_bulk *b, bool ok, int64_t *rows, sg_err *err);
    /* Rows changed by the last insert/update/delete on c. */
    int64_t (*changes)(sg_conn *c);

    /* Whether the connection to the server is gone (NULL: never, as for
     * an embedded engine), and a new session in its place (same
     * parameters; every statement of the old one finalized first). */
    bool (*lost)(sg_conn *c);
    int (*reconnect)(sg_conn *c, sg_err *err);

    /* write = true takes the write lock at once (SQLite BEGIN IMMEDIATE). */
    int (*begin)(sg_conn *c, bool write, sg_err *err);
    int (*commit)(sg_conn *c, sg_err *err);
    void (*rollback)(sg_conn *c);
    /* Inside a write transaction: hold off every other writer of these
     * tables until commit (the write fence, DESIGN.md item 8). */
    int (*fence)(sg_conn *c, size_t n, const char *const *tables, sg_err *err);

    void (*quote_ident)(sg_buf *b, const char *id);
    void (*quote_literal)(sg_buf *b, const char *s);
    /* The n-th (1-based) parameter marker. */
    void (*param)(sg_buf *b, int n);
    /* Qualified name of a control object ("migrations" -> "_segue_migrations"). */
    void (*control_name)(sg_buf *b, const char *name);
    /* The portable meaning of a column type declared in this engine
     * ("" or NULL: none declared), and this engine's spelling of one
     * (nothing for SG_K_ANY where the engine allows untyped columns). */
    void (*type_parse)(const char *decl, sg_coltype *out);
    void (*type_decl)(const sg_coltype *t, sg_buf *b);
    /* Column type for control tables and changelog columns. */
    const char *(*type_name)(sg_vtype t);
    /* Column definition of an increasing integer primary key ("id ..."). */
    const char *serial_pk;
    /* Appended to a SELECT inside a write transaction to lock the rows it
     * returns until the transaction ends (" FOR UPDATE"); "" where a write
     * transaction already excludes every other writer (SQLite). */
    const char *row_lock;
    /* Written between an INSERT's column list and its VALUES or SELECT so
     * that segue's rows keep their own values in columns the engine numbers
     * itself, even where the table takes none from the application
     * (PostgreSQL's GENERATED ALWAYS AS IDENTITY: " OVERRIDING SYSTEM
     * VALUE"); "" where no such column exists (SQLite). */
    const char *insert_override;
    /* The schema that names a table of the connection's own database past
     * a common table expression of the same name ("main": SQLite would
     * read the name inside the expression as the expression itself); NULL
     * where the bare name inside a WITH that is not RECURSIVE is the
     * table already (PostgreSQL, which keeps its search_path). */
    const char *own_schema;
    /* Appends the upsert clause after an INSERT: conflict on `keys`, update
     * `cols` (all n_cols written columns; keys included are skipped). */
    void (*upsert_tail)(sg_buf *b, size_t n_keys, const char *const *keys,
                        size_t n_cols, const char *const *cols);
    /* Appends a query over the rows of the query `inner` (parameters kept)
     * giving one row: their count (integer) and a text the engine computes
     * from every row's text form that changes when a row does and not when
     * their order does (verify's in-engine chunk checksum). Two connections'
     * texts compare only when their drivers are the same. NULL where the
     * engine has no fit hash function. May set up the session for such
     * scans first (PostgreSQL: no parallel query). */
    int (*range_sum_sql)(sg_conn *c, sg_buf *b, const char *inner, sg_err *err);

    /* Inside a transaction, before the control tables are created / after
     * the last is dropped: the container they live in (PostgreSQL: the
     * `segue` schema; SQLite: nothing). Teardown keeps a non-empty one. */
    int (*control_setup)(sg_conn *c, sg_err *err);
    int (*control_teardown)(sg_conn *c, sg_err *err);
    /* Lets every role of the database read the control table `name` (the
     * routing an application follows through the router as its own role).
     * NULL where the engine has no privileges. */
    int (*control_share)(sg_conn *c, const char *name, sg_err *err);
    /* Creates in `to` the user-defined type `decl` names (as found in a
     * column of `from`, another database of this engine) when `to` lacks it:
     * PostgreSQL enums and domains, arrays of them. Built-in types: nothing.
     * NULL where an engine has no user types. */
    int (*type_copy)(sg_conn *from, sg_conn *to, const char *decl, sg_err *err);
    /* Makes in `to` (a database of this engine) the sequence `seq` as
     * `from` has it (type, increment, bounds, start, cache, cycle), unless
     * `to` has it, owned by `to`'s table.column, whose default it becomes
     * (nextval). sequence_sync moves `to`'s sequence up to the last value
     * `from`'s gave, never down. NULL where an engine has no sequences. */
    int (*sequence_copy)(sg_conn *from, sg_conn *to, const char *seq, const char *table,
                         const char *column, sg_err *err);
    int (*sequence_sync)(sg_conn *from, sg_conn *to, const char *seq, sg_err *err);
    /* A created column the engine numbers itself (sg_column_info.numbered)
     * of integer type `type`, the sole key column or not: returns the type
     * to declare and appends what follows it to `clause` (PostgreSQL:
     * `type`, " GENERATED ALWAYS|BY DEFAULT AS IDENTITY"; SQLite:
     * "INTEGER", nothing, as a sole key column so declared is the rowid);
     * NULL where the engine cannot number it (SQLite: not the sole key).
     * The returned text is `type` or static. */
    const char *(*numbered_column)(const char *type, bool always, bool sole_key,
                                   sg_buf *clause);
    /* The greatest number the engine's numbering of table.column gave or
     * holds (PostgreSQL: its sequence's last value; SQLite: the greatest
     * value, or AUTOINCREMENT's record if higher) into *last; *known false
     * when none (a sequence never used, an empty table). */
    int (*numbering_last)(sg_conn *c, const char *table, const char *column, int64_t *last,
                          bool *known, sg_err *err);
    /* Moves the numbering of table.column up so that the next number it
     * gives is above `floor` and above every value the column holds; never
     * down. (SQLite numbers from the greatest value already: only an
     * AUTOINCREMENT record moves.) */
    int (*numbering_raise)(sg_conn *c, const char *table, const char *column, int64_t floor,
                           sg_err *err);
    /* Gives `to_table` in `to` (a database of this engine) the privileges
     * roles hold on `from_table` in `from`, its owner's included (roles `to`
     * lacks are skipped: table_roles names them). NULL where the engine has
     * no privileges. */
    int (*copy_grants)(sg_conn *from, const char *from_table, sg_conn *to,
                       const char *to_table, sg_err *err);
    /* The roles that hold privileges on `from_table`, and for each whether
     * it exists in `to` and (unless to_table is NULL: not made yet) which
     * of them it lacks on `to_table`. *out (n entries) is freed with
     * sg_role_uses_free. NULL where the engine has no privileges. */
    int (*table_roles)(sg_conn *from, const char *from_table, sg_conn *to,
                       const char *to_table, sg_role_use **out, size_t *n,
                       sg_err *err);
    /* How long the server lets this session sit idle inside a transaction
     * before it ends the session and frees its locks (ms). NULL where
     * there is no server session (SQLite). */
    int (*idle_timeout)(sg_conn *c, int64_t ms, sg_err *err);
    /* How long, in all, a statement that takes a lock the application may
     * hold (BEGIN IMMEDIATE on SQLite, the fence and DDL on PostgreSQL)
     * waits for it before failing with a transient error (ms). */
    int (*lock_wait)(sg_conn *c, int64_t ms, sg_err *err);
    /* How long any one statement on c may run before the engine stops it
     * with an error (ms; 0: no limit). */
    int (*statement_timeout)(sg_conn *c, int64_t ms, sg_err *err);
    /* Makes the tables of `other` (a database of the same engine) readable
     * on c as "alias"."table", read-only, so a copy between the two runs
     * inside c's engine. Outside any transaction on c. SG_ENOTSUP where the
     * engine cannot (NULL: never). */
    int (*attach)(sg_conn *c, sg_conn *other, const char *alias, sg_err *err);
    /* Whether this database holds control table `name` ("meta": segue's
     * control tables at all; tables added later, as "shadow_stats", may
     * be missing where an earlier segue made the others). */
    int (*control_present)(sg_conn *c, const char *name, bool *out, sg_err *err);
    /* Fills *out with NULL when the table does not exist. */
    int (*table_info)(sg_conn *c, const char *table, sg_table_info **out,
                      sg_err *err);
    /* The secondary indexes of table t (from table_info), by name; *out
     * (n entries) is freed with sg_index_infos_free. */
    int (*table_indexes)(sg_conn *c, const sg_table_info *t, sg_index_info **out,
                         size_t *n, sg_err *err);
    /* The CHECK constraints of table t (from table_info); *out (n
     * entries) is freed with sg_check_infos_free. */
    int (*table_checks)(sg_conn *c, const sg_table_info *t, sg_check_info **out,
                        size_t *n, sg_err *err);
    /* The foreign keys of table t (sg_fk_info, freed with
     * sg_fk_infos_free), and the names of its triggers that are neither
     * segue's nor the engine's own (freed with sg_names_free); by name. */
    int (*table_foreign_keys)(sg_conn *c, const sg_table_info *t, sg_fk_info **out,
                              size_t *n, sg_err *err);
    int (*table_triggers)(sg_conn *c, const sg_table_info *t, char ***out, size_t *n,
                          sg_err *err);
    /* What depends on `table` (sg_dependent); *out (n entries) is freed
     * with sg_dependents_free. */
    int (*table_dependents)(sg_conn *c, const char *table, sg_dependent **out,
                            size_t *n, sg_err *err);
    /* The tables an application made in the database's default schema
     * (PostgreSQL: current_schema()'s tables and partitioned tables, not
     * partitions nor children by inheritance, which a query of their
     * parent reads; SQLite: not sqlite_* nor segue's), in name order; *out
     * (n strings) is freed with sg_names_free. */
    int (*tables)(sg_conn *c, char ***out, size_t *n, sg_err *err);
    /* The statements that add foreign key d (target names) to `table`, an
     * existing table, enforced on new writes only (PostgreSQL: NOT VALID,
     * after dropping one of its name), or (!add) drop it if it is there;
     * appended to b. NULL where a foreign key is made with its table only
     * (SQLite: in the CREATE TABLE). */
    void (*foreign_key_sql)(const sg_fk_info *d, const char *table, bool add, sg_buf *b);
    /* The statement that builds index d while the application writes
     * (PostgreSQL: CREATE INDEX CONCURRENTLY), appended to b. */
    void (*index_sql)(const sg_index_def *d, sg_buf *b);
    /* Builds index d outside any transaction, without blocking writers
     * longer than the engine must (SQLite: one statement under the write
     * lock); an index of that name already built is kept, an invalid
     * one left by an interrupted build is dropped and built again. */
    int (*index_build)(sg_conn *c, const sg_index_def *d, sg_err *err);

    /* A query for the planner's estimate of a table's row count: one
     * parameter, the table's quoted name; one bigint column, NULL when the
     * engine has no estimate. NULL where the engine keeps none (callers
     * count). Used for progress only, never for correctness. */
    const char *row_estimate_sql;

    int (*capture_install)(sg_conn *c, const sg_capture *cap, sg_err *err);
    /* Statement entries: a statement that changed many rows logs one entry
     * holding arrays of their keys (not one entry per row) in a table beside
     * the changelog `log` (n_key key columns), whose ids come from the
     * changelog's own sequence, so "every entry up to id N" means the same
     * in both. Appends the statement `what` names to b. NULL where the
     * engine logs one entry per row only. */
    void (*stmtlog_sql)(sg_buf *b, sg_stmtlog what, const char *log, size_t n_key);
    int (*capture_remove)(sg_conn *c, const sg_capture *cap, sg_err *err);
    int (*guard_install)(sg_conn *c, const sg_guard *g, sg_err *err);
    int (*guard_remove)(sg_conn *c, const sg_guard *g, sg_err *err);
    /* How long segue must stay off the database's write lock after holding
     * it for held_ms so that a writer that waited all that time gets its
     * turn (ms; 0 where writers do not queue behind segue's transactions). */
    int64_t (*yield_ms)(int64_t held_ms);
    /* Whether another connection committed to c's database since the last
     * call on c (the first call: since c was opened). Tells the backfill
     * whether an application writes beside it. NULL where writers do not
     * queue behind segue's transactions. */
    int (*others_wrote)(sg_conn *c, bool *out, sg_err *err);
    /* After a large committed write: the housekeeping that the engine
     * would otherwise leave to the next writer's commit (SQLite: a passive
     * WAL checkpoint, which copies the chunk's pages into the database
     * file without blocking writers). NULL where there is none. */
    int (*tidy)(sg_conn *c, sg_err *err);
    /* Inside segue's write transaction, around a bulk write to a guarded
     * table: lift the guard for this transaction (lift) and restore it
     * (!lift) before the commit. Other sessions must never see the guard
     * gone. SQLite drops and recreates the triggers (its DDL is
     * transactional), which halves the cost of an in-engine chunk copy.
     * NULL where the guard costs little per row (PostgreSQL: one
     * statement-level trigger): it stays, and segue's writes under it carry
     * the no-echo marker. */
    int (*guard_lift)(sg_conn *c, const sg_guard *g, bool lift, sg_err *err);
    /* Whether the guard g is installed (committed, or in this session's
     * open transaction). */
    int (*guard_exists)(sg_conn *c, const sg_guard *g, bool *out, sg_err *err);

    /* Objects needed by the no-echo marker (DESIGN.md item 7). */
    int (*marker_setup)(sg_conn *c, sg_err *err);
    int (*marker_teardown)(sg_conn *c, sg_err *err);
    /* Inside a transaction: mark its writes as segue's own / unmark. */
    int (*marker_on)(sg_conn *c, sg_err *err);
    int (*marker_off)(sg_conn *c, sg_err *err);
};

/* How sg_db_open opens a database. */
enum sg_db_open_flags {
    SG_DB_CREATE = 1u << 0,    /* make the database when it does not exist */
    /* The session cannot write (SQLite opens the file read-only, PostgreSQL
     * runs every transaction READ ONLY). With SG_DB_CREATE, a database that
     * does not exist reads as an empty one and nothing is made. */
    SG_DB_READ_ONLY = 1u << 1,
};

/* Opens `uri` with the driver its scheme names; flags: SG_DB_*. */
int sg_db_open(sg_conn **out, const char *uri, const char *endpoint,
               unsigned flags, sg_err *err);
void sg_db_close(sg_conn *c);
/* Whether two URIs name the same database (and so one connection serves). */
bool sg_db_same_database(const char *uri_a, const char *uri_b);
/* The driver for a URI, or NULL with a message in err. */
const sg_driver *sg_db_driver_for(const char *uri, sg_err *err);

int sg_db_exec(sg_conn *c, const char *sql, sg_err *err);
int sg_db_prepare(sg_conn *c, const char *sql, sg_stmt **out, sg_err *err);
/* A statement to step through once (a query of unknown text: a shadow
 * read), in one round trip where the engine has a server; then finalize.
 * Parameters are bound as for sg_db_prepare, their count that of the
 * highest bound; no column_decltype. */
int sg_db_prepare_once(sg_conn *c, const char *sql, sg_stmt **out, sg_err *err);
int sg_db_bind(sg_stmt *s, int idx, const sg_value *v, sg_err *err);
int sg_db_bind_int(sg_stmt *s, int idx, int64_t x, sg_err *err);
int sg_db_bind_text(sg_stmt *s, int idx, const char *t, sg_err *err);
int sg_db_bind_blob(sg_stmt *s, int idx, const void *p, size_t n, sg_err *err);
int sg_db_step(sg_stmt *s, sg_err *err);
int sg_db_column_count(sg_stmt *s);
/* The engine's type name of result column i (after prepare), or NULL when
 * it has none to give (SQLite: an expression). Valid until finalize. */
const char *sg_db_column_decltype(sg_stmt *s, int i);
/* The driver's function_type; NULL where it has none. */
const char *sg_db_function_type(const sg_conn *c, const char *fn);
void sg_db_column(sg_stmt *s, int i, sg_value *out);
int64_t sg_db_column_int(sg_stmt *s, int i);
int sg_db_reset(sg_stmt *s);
void sg_db_finalize(sg_stmt *s);
int64_t sg_db_changes(sg_conn *c);
int sg_db_begin(sg_conn *c, bool write, sg_err *err);
int sg_db_commit(sg_conn *c, sg_err *err);
void sg_db_rollback(sg_conn *c);
/* Runs a query that returns one integer (first column of the first row);
 * *out = dflt when there is no row or the value is NULL. */
int sg_db_query_int(sg_conn *c, const char *sql, int64_t dflt, int64_t *out,
                    sg_err *err);

/* Inside a transaction: creates the container of control objects (the
 * driver's control_setup). */
int sg_db_control_setup(sg_conn *c, sg_err *err);
/* The driver's control_share; nothing where it has none. */
int sg_db_control_share(sg_conn *c, const char *name, sg_err *err);
/* The driver's lock_wait. */
int sg_db_lock_wait(sg_conn *c, int64_t ms, sg_err *err);
/* The driver's idle_timeout; nothing where it has none. */
int sg_db_idle_timeout(sg_conn *c, int64_t ms, sg_err *err);
/* The driver's statement_timeout. */
int sg_db_statement_timeout(sg_conn *c, int64_t ms, sg_err *err);
/* The driver's lost (false where it has none) and reconnect. */
bool sg_db_lost(sg_conn *c);
int sg_db_reconnect(sg_conn *c, sg_err *err);
/* copy_grants and table_roles when both connections have the same engine
 * and it has privileges; otherwise nothing (no roles). */
int sg_db_copy_grants(sg_conn *from, const char *from_table, sg_conn *to,
                      const char *to_table, sg_err *err);
int sg_db_table_roles(sg_conn *from, const char *from_table, sg_conn *to,
                      const char *to_table, sg_role_use **out, size_t *n, sg_err *err);
/* Whether c holds control table `name` (the driver's control_present). */
int sg_db_control_present(sg_conn *c, const char *name, bool *out, sg_err *err);

/* The engine-specific operations (driver_ops.c); each is the vtable entry
 * of the same name, documented there. A required one a driver lacks fails
 * with SG_ENOTSUP; an optional one (NULL in the vtable: nothing to do for
 * that engine) does nothing and returns 0. */
bool sg_db_same_name(const sg_conn *c, const char *a, const char *b);
/* The same for the engine of `uri`, without a connection (false when no
 * driver serves it). */
bool sg_db_uri_same_name(const char *uri, const char *a, const char *b);
int sg_db_table_info(sg_conn *c, const char *table, sg_table_info **out, sg_err *err);
int sg_db_table_indexes(sg_conn *c, const sg_table_info *t, sg_index_info **out, size_t *n,
                        sg_err *err);
void sg_db_index_sql(const sg_conn *c, const sg_index_def *d, sg_buf *b);
int sg_db_table_dependents(sg_conn *c, const char *table, sg_dependent **out, size_t *n,
                           sg_err *err);
int sg_db_tables(sg_conn *c, char ***out, size_t *n, sg_err *err);
/* Whether the engine adds a foreign key to a table that exists; false
 * (b untouched) where it makes them with the table only. */
bool sg_db_adds_foreign_keys(const sg_conn *c);
/* false (b untouched) where the engine makes foreign keys with the table. */
bool sg_db_foreign_key_sql(const sg_conn *c, const sg_fk_info *d, const char *table, bool add,
                           sg_buf *b);
int sg_db_table_foreign_keys(sg_conn *c, const sg_table_info *t, sg_fk_info **out, size_t *n,
                             sg_err *err);
int sg_db_table_triggers(sg_conn *c, const sg_table_info *t, char ***out, size_t *n,
                         sg_err *err);
int sg_db_table_checks(sg_conn *c, const sg_table_info *t, sg_check_info **out, size_t *n,
                       sg_err *err);
int sg_db_index_build(sg_conn *c, const sg_index_def *d, sg_err *err);
void sg_db_type_parse(const sg_conn *c, const char *decl, sg_coltype *out);
void sg_db_type_decl(const sg_conn *c, const sg_coltype *t, sg_buf *b);
/* Nothing unless both connections have the same engine and it has user types. */
int sg_db_type_copy(sg_conn *from, sg_conn *to, const char *decl, sg_err *err);
int sg_db_sequence_copy(sg_conn *from, sg_conn *to, const char *seq, const char *table,
                        const char *column, sg_err *err);
int sg_db_sequence_sync(sg_conn *from, sg_conn *to, const char *seq, sg_err *err);
const char *sg_db_numbered_column(const sg_conn *c, const char *type, bool always,
                                  bool sole_key, sg_buf *clause);
int sg_db_numbering_last(sg_conn *c, const char *table, const char *column, int64_t *last,
                         bool *known, sg_err *err);
int sg_db_numbering_raise(sg_conn *c, const char *table, const char *column, int64_t floor,
                          sg_err *err);
const char *sg_db_type_name(const sg_conn *c, sg_vtype t);
const char *sg_db_serial_pk(const sg_conn *c);
const char *sg_db_row_lock(const sg_conn *c);
const char *sg_db_insert_override(const sg_conn *c);
/* Appends table `name` of c's own database, quoted, named so that a
 * common table expression of the same name does not capture it (inside
 * that expression's own definition; not under WITH RECURSIVE). */
void sg_db_table_past_cte(const sg_conn *c, sg_buf *b, const char *name);
const char *sg_db_row_estimate_sql(const sg_conn *c);  /* NULL: none */
void sg_db_upsert_tail(const sg_conn *c, sg_buf *b, size_t n_keys,
                       const char *const *keys, size_t n_cols, const char *const *cols);
/* Whether the rows of a and b can be summed in-engine and the two sums
 * compared (the same driver, with a range_sum_sql). */
bool sg_db_range_sums_compare(const sg_conn *a, const sg_conn *b);
/* The driver's range_sum_sql around inner; SG_ENOTSUP where it has none. */
int sg_db_range_sum_sql(sg_conn *c, sg_buf *b, const char *inner, sg_err *err);
bool sg_db_has_bulk(const sg_conn *c);
int sg_db_bulk_begin(sg_conn *c, const char *table, size_t n, const char *const *cols,
                     sg_bulk **out, sg_err *err);
int sg_db_bulk_row(sg_conn *c, sg_bulk *b, const sg_value *v, size_t n, sg_err *err);
int sg_db_bulk_end(sg_conn *c, sg_bulk *b, bool ok, int64_t *rows, sg_err *err);
int64_t sg_db_yield_ms(const sg_conn *c, int64_t held_ms);
/* false where the driver has no others_wrote */
int sg_db_others_wrote(sg_conn *c, bool *out, sg_err *err);
int sg_db_tidy(sg_conn *c, sg_err *err);
int sg_db_fence(sg_conn *c, size_t n, const char *const *tables, sg_err *err);
int sg_db_control_teardown(sg_conn *c, sg_err *err);
int sg_db_capture_install(sg_conn *c, const sg_capture *cap, sg_err *err);
int sg_db_capture_remove(sg_conn *c, const sg_capture *cap, sg_err *err);
bool sg_db_has_stmtlog(const sg_conn *c);
void sg_db_stmtlog_sql(const sg_conn *c, sg_buf *b, sg_stmtlog what, const char *log,
                       size_t n_key);
int sg_db_guard_install(sg_conn *c, const sg_guard *g, sg_err *err);
int sg_db_guard_remove(sg_conn *c, const sg_guard *g, sg_err *err);
/* *lifted (may be NULL): whether the driver lifts guards at all. */
int sg_db_guard_lift(sg_conn *c, const sg_guard *g, bool lift, bool *lifted, sg_err *err);
int sg_db_guard_exists(sg_conn *c, const sg_guard *g, bool *out, sg_err *err);
int sg_db_attach(sg_conn *c, sg_conn *other, const char *alias, sg_err *err);
int sg_db_marker_setup(sg_conn *c, sg_err *err);
int sg_db_marker_teardown(sg_conn *c, sg_err *err);
int sg_db_marker_on(sg_conn *c, sg_err *err);
int sg_db_marker_off(sg_conn *c, sg_err *err);

void sg_db_ident(const sg_conn *c, sg_buf *b, const char *id);
void sg_db_control(const sg_conn *c, sg_buf *b, const char *name);
void sg_db_param(const sg_conn *c, sg_buf *b, int n);

extern const sg_driver sg_driver_sqlite;
extern const sg_driver sg_driver_postgres;

#endif
