/* segue: move live data from an old table, schema or database to a new one
 * with zero downtime.
 *
 * This is the whole public API of libsegue. Conventions:
 * - Functions return 0 (SG_OK) or a negative sg_error code; the message that
 *   goes with a failure (what was being done, which endpoint, SQLSTATE where
 *   the database gave one, and a hint) is kept on the handle and read with
 *   sg_migration_errmsg() / sg_router_errmsg().
 * - The library never prints, exits or aborts on bad input.
 * - Out-parameters come first (as in libgit2). `**out` parameters hand
 *   ownership to the caller, who releases them with the matching *_free /
 *   *_close function.
 * - Every options struct has a version field, an _INIT macro and an _init
 *   function; a NULL options pointer means the defaults; a version this
 *   library does not know is refused with SG_EINVAL.
 * - A NULL handle, a NULL out-parameter or an unknown options version
 *   returns SG_EINVAL, with a message on the handle when there is one.
 *   Each function lists the other errors it returns.
 * - Thread safety: a handle (sg_migration, sg_router) is used by one thread
 *   at a time; different handles are independent and may be used from
 *   different threads at once. sg_route_bucket, sg_route_reads_target,
 *   sg_phase_name and sg_error_name are pure and safe from any thread.
 * - Units are in the names or the comments: rows, bytes, ms.
 */
#ifndef SEGUE_SEGUE_H
#define SEGUE_SEGUE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SEGUE_VERSION "0.1.0"

/* Error codes; every failure also leaves a message on the handle. */
typedef enum sg_error {
    SG_OK = 0,
    SG_ERR = -1,       /* generic failure */
    SG_ENOMEM = -2,    /* out of memory or a size cap reached */
    SG_EINVAL = -3,    /* invalid argument: NULL, an unknown options version,
                        * a URI no driver takes */
    SG_ESPEC = -4,     /* the spec file is invalid (message has file:line) */
    SG_EDB = -5,       /* a database reported an error (message has endpoint) */
    SG_ESTATE = -6,    /* the migration is not in a phase that allows this */
    SG_EBUSY = -7,     /* another worker holds the lease */
    SG_EDIFF = -8,     /* verify found differences that persist */
    SG_ENOTSUP = -9,   /* the driver does not support this */
    SG_ESTOPPED = -10, /* stopped on request (signal) before finishing */
    SG_EFORMAT = -11,  /* control tables written by an incompatible version */
} sg_error;

/* A short English name of an error code ("spec", "database", ...). Static. */
const char *sg_error_name(int code);

/* ---- migration handle ------------------------------------------------- */

/* An open migration: the parsed spec, connections to source and target, and
 * the mappings resolved against the source schema. */
typedef struct sg_migration sg_migration;

/* Log callback: level is one of SG_LOG_*; msg is borrowed for the call. */
enum { SG_LOG_DEBUG = 0, SG_LOG_INFO = 1, SG_LOG_WARN = 2 };
typedef void (*sg_log_fn)(void *ud, int level, const char *msg);

/* Opens the migration described by the YAML spec at `spec_path`: parses and
 * validates it (syntax, then tables, columns, keys and expressions against the
 * source database) and connects to both endpoints. Nothing is written to any
 * database.
 * On return *out is always set (NULL only when out of memory) so that the
 * message of a failure can be read with sg_migration_errmsg(); the caller
 * closes it with sg_migration_close() in every case.
 * Errors: SG_ESPEC (message "file:line: what; hint"), SG_EDB, SG_ENOMEM. */
int sg_migration_open(sg_migration **out, const char *spec_path);

/* How sg_migration_open_ext() opens a migration. Fill with
 * SG_OPEN_OPTIONS_INIT or sg_open_options_init(). */
typedef struct sg_open_options {
    int version;          /* SG_OPEN_OPTIONS_VERSION */
    /* Neither database can be written through the handle: SQLite files are
     * opened read-only and a target file that does not exist reads as an
     * empty database without being made; PostgreSQL sessions run every
     * transaction READ ONLY. For plan, status and route; a call that writes
     * (start, backfill, ...) fails with SG_EDB. */
    bool read_only;
    /* Make the target database when it does not exist (SQLite); ignored
     * when read_only. sg_migration_open() sets it. */
    bool create_target;
} sg_open_options;

#define SG_OPEN_OPTIONS_VERSION 1
#define SG_OPEN_OPTIONS_INIT { SG_OPEN_OPTIONS_VERSION, false, false }

/* Sets *o to the defaults of `version` (SG_OPEN_OPTIONS_VERSION).
 * Errors: SG_EINVAL (o is NULL or the version unknown). */
int sg_open_options_init(sg_open_options *o, unsigned version);

/* sg_migration_open() with options; o NULL means SG_OPEN_OPTIONS_INIT
 * (no target is made). Errors: as sg_migration_open(), and SG_EINVAL when
 * out is NULL, spec_path is NULL or o->version is not one this library
 * knows. Thread safety: a handle is used by one thread at a time. */
int sg_migration_open_ext(sg_migration **out, const char *spec_path,
                          const sg_open_options *o);

/* Closes connections and frees the handle. NULL is allowed. */
void sg_migration_close(sg_migration *m);

/* The message of the last failure on this handle; "" if none. Borrowed:
 * valid until the next call on the handle. */
const char *sg_migration_errmsg(const sg_migration *m);

/* Sets a log callback for progress notes and warnings (default: none). */
void sg_migration_set_log(sg_migration *m, sg_log_fn fn, void *ud);

/* Sets who is acting, for the audit log (default: $USER@hostname). The
 * string is copied. */
int sg_migration_set_actor(sg_migration *m, const char *who);

/* How long, in all, a command on this handle waits for a lock that an
 * application transaction holds before it gives up and changes nothing
 * (ms; default 30000): SQLite's busy timeout, and on PostgreSQL the tries
 * of the fence and of DDL, each of which steps out of the lock queue so as
 * not to hold the application's queries behind it. For cutover --writes,
 * rollback and start under long transactions.
 * Errors: SG_EINVAL (m NULL or ms < 1), SG_ENOTSUP (a driver that cannot). */
int sg_migration_set_lock_wait(sg_migration *m, int64_t ms);

/* The migration's name from the spec. Borrowed for the handle's life. */
const char *sg_migration_name(const sg_migration *m);

/* ---- plan -------------------------------------------------------------- */

typedef struct sg_plan_mapping {
    char *from;         /* source table */
    char *to;           /* target table */
    char *target_ddl;   /* CREATE TABLE statement segue would run, or NULL */
    int64_t source_rows;/* rows the mapping copies: the source table's rows
                         * its filter (`where`) keeps; exact count */
    int reverse_columns;/* source columns that writes after cutover reach */
    char *roles;        /* the roles that use the source table, with their
                         * privileges and whether each keeps working on the
                         * target after the cutover ("app (INSERT, SELECT):
                         * keeps working; ..."); NULL where the engines have
                         * no roles (SQLite) */
    size_t n_indexes;
    char **index_ddl;   /* with create: true, the CREATE INDEX statements
                         * built after the backfill (the source's secondary
                         * indexes, spelled for the target); the ones that
                         * cannot be carried are warnings */
    size_t n_sequences;
    char **sequences;   /* with create: true in another database of the same
                         * engine: the sequences the target gets for
                         * defaults that take numbers from one, as "seq for
                         * column"; made as the source has them, and moved up
                         * to the side that took writes at each write
                         * cutover and rollback */
    size_t n_numbered;
    char **numbered;    /* with create: true: the target columns its engine
                         * numbers when an insert leaves them out, as the
                         * source's are (an identity, SQLite's INTEGER
                         * PRIMARY KEY), as "column (source column)"; their
                         * numbering is moved past the other side's numbers
                         * at each write cutover and rollback */
    size_t n_fk_ddl;
    char **fk_ddl;      /* foreign_keys: true, on an engine that adds them to
                         * a table that exists (PostgreSQL): the statements
                         * the write cutover runs (a SQLite target has them
                         * in target_ddl) */
    char *dependents;   /* what breaks when the source table is dropped
                         * (foreign keys of other tables pointing at it,
                         * views, triggers and functions that name it), as
                         * "foreign key FK_x on InvoiceLine; view v"; NULL
                         * when nothing (or another mapping of the same
                         * source table lists it); `cleanup --drop-source`
                         * refuses while there is any */
} sg_plan_mapping;

/* A verdict of the schema compatibility report. */
typedef enum sg_compat {
    SG_COMPAT_SAME = 0,        /* the target has it as the source does */
    SG_COMPAT_MAPPED,          /* it differs as the mapping says (a column made
                                * from an expression, a type spelled for the
                                * other engine, an index on such a column) */
    SG_COMPAT_UNEXPECTED,      /* it differs, and nothing in the spec says so */
} sg_compat;

/* One line of the report: a source column, index or CHECK against the
 * target table as it is (or, before start, as segue would make it). */
typedef struct sg_plan_compat {
    size_t mapping;     /* index into sg_plan.mappings */
    const char *what;   /* "column", "index", "check", "foreign key",
                         * "trigger"; static */
    char *name;         /* the source's name for it (a CHECK: its condition) */
    sg_compat verdict;
    char *detail;       /* what differs, or what the mapping made of it; "" */
} sg_plan_compat;

typedef struct sg_plan {
    size_t n_mappings;
    sg_plan_mapping *mappings;
    size_t n_warnings;
    char **warnings;    /* things that work but deserve a look */
    size_t n_blockers;
    char **blockers;    /* things that stop `start` */
    size_t n_compat;
    sg_plan_compat *compat; /* the schema compatibility report, mapping by
                             * mapping: every source column, secondary index
                             * and CHECK of the mapped tables */
    size_t n_unexpected;    /* its SG_COMPAT_UNEXPECTED lines */
} sg_plan;

/* Builds the plan: mappings, inferred target DDL, row counts, warnings and
 * blockers. Changes nothing (works on a handle opened read_only), at any
 * phase. *out is owned by the caller (sg_plan_free).
 * Errors: SG_EINVAL, SG_ESPEC, SG_EDB, SG_EFORMAT, SG_ENOMEM. */
int sg_migration_plan(sg_plan **out, sg_migration *m);
void sg_plan_free(sg_plan *p);

/* ---- phases ------------------------------------------------------------ */

/* Phases of the state machine (DESIGN.md). */
typedef enum sg_phase {
    SG_PHASE_PLANNED = 0,
    SG_PHASE_STARTED,
    SG_PHASE_BACKFILLING,
    SG_PHASE_BACKFILLED,
    SG_PHASE_VERIFIED,
    SG_PHASE_SHADOWING,
    SG_PHASE_READS_SHIFTING,
    SG_PHASE_WRITES_SWITCHED,
    SG_PHASE_BAKING,
    SG_PHASE_CLEANED,
} sg_phase;

/* The phase's name as stored and printed ("backfilling"). Static. */
const char *sg_phase_name(sg_phase p);

/* Creates the control tables, the target tables (mappings with create:
 * true) and the capture triggers, in that order, and moves the migration from
 * planned to started. Idempotent refusal: SG_ESTATE if already started.
 * `reason` (may be NULL) goes to the audit log.
 * Errors: SG_EINVAL, SG_ESTATE, SG_ESPEC (a blocker), SG_EDB, SG_EFORMAT. */
int sg_migration_start(sg_migration *m, const char *reason);

/* Progress of long work, passed to a progress callback. */
typedef struct sg_progress {
    const char *what;       /* "backfill", "verify" */
    const char *mapping;    /* "Customer -> customer", borrowed */
    int64_t rows_done;      /* rows so far (all mappings) */
    int64_t rows_total;     /* estimate of all rows, or -1 */
    double rows_per_sec;    /* recent rate */
    double eta_sec;         /* estimate of time left, or -1 */
    int64_t chunk_rows;     /* size of the last chunk (backfill) */
    /* the worker (`what` "run" or "backfill"); verify leaves them so: */
    const char *phase;      /* the phase's name, or NULL */
    int64_t applied;        /* changes this process applied so far */
    int64_t backlog;        /* changes captured, not yet applied; -1 unknown */
    int64_t lag_ms;         /* age of the oldest of them; 0 when none */
} sg_progress;
typedef void (*sg_progress_fn)(void *ud, const sg_progress *p);

typedef struct sg_backfill_options {
    int version;                  /* SG_BACKFILL_OPTIONS_VERSION */
    sg_progress_fn progress;      /* may be NULL */
    void *progress_ud;
    volatile sig_atomic_t *stop;  /* set non-zero to stop after this chunk */
    int64_t max_chunks;           /* stop after this many chunks; 0 = all */
} sg_backfill_options;
#define SG_BACKFILL_OPTIONS_VERSION 1
#define SG_BACKFILL_OPTIONS_INIT { SG_BACKFILL_OPTIONS_VERSION, NULL, NULL, NULL, 0 }
/* Sets *o to the defaults of `version`. Errors: SG_EINVAL. */
int sg_backfill_options_init(sg_backfill_options *o, unsigned version);

/* Copies the source rows into the target in key-ordered chunks (keyset
 * pagination), draining the changelog between chunks, until every mapping is
 * done; resumes from the last committed checkpoint. Takes the worker lease.
 * Chunk size adapts toward backfill.chunk_time; backfill.max_rows_per_second
 * caps the rate. Moves started -> backfilling -> backfilled.
 * o NULL: SG_BACKFILL_OPTIONS_INIT.
 * Errors: SG_EINVAL, SG_ESTATE, SG_EBUSY, SG_EDB, SG_ESTOPPED. */
int sg_backfill_run(sg_migration *m, const sg_backfill_options *o);

typedef struct sg_worker_options {
    int version;                  /* SG_WORKER_OPTIONS_VERSION */
    bool until_caught_up;         /* exit once backfilled and nothing pending */
    bool wait_for_lease;          /* wait instead of SG_EBUSY */
    sg_progress_fn progress;
    void *progress_ud;
    volatile sig_atomic_t *stop;  /* set non-zero to stop */
    int idle_ms;                  /* sleep when idle; default 50 */
} sg_worker_options;
#define SG_WORKER_OPTIONS_VERSION 1
#define SG_WORKER_OPTIONS_INIT { SG_WORKER_OPTIONS_VERSION, false, false, NULL, NULL, NULL, 50 }
/* Sets *o to the defaults of `version`. Errors: SG_EINVAL. */
int sg_worker_options_init(sg_worker_options *o, unsigned version);

/* The long-lived worker: holds the lease, drains the changelog continuously
 * (the reverse one after a write cutover) and does what the phase asks
 * (backfill while started/backfilling). Returns when stopped, with
 * until_caught_up once the backfill is complete and nothing is pending, or
 * 0 when a cleanup finished the migration while it ran.
 * o NULL: SG_WORKER_OPTIONS_INIT.
 * Errors: SG_EINVAL, SG_EBUSY (lease held by a live worker, or lost), SG_EDB,
 * SG_ESTATE (not started, cleaned up before it began, or schema drift),
 * SG_ESTOPPED (stopped with until_caught_up set). */
int sg_worker_run(sg_migration *m, const sg_worker_options *o);

/* ---- verify ------------------------------------------------------------ */

typedef enum sg_diff_kind {
    SG_DIFF_MISSING = 0, /* in mapped source, not in target */
    SG_DIFF_EXTRA,       /* in target, not in mapped source */
    SG_DIFF_CHANGED,     /* in both, values differ */
} sg_diff_kind;

/* One column of a changed row: its target name and the value each side
 * holds, rendered as SQL literals ("'Rock'", "42", "NULL"; cut to 200
 * bytes). */
typedef struct sg_diff_column {
    char *name;
    char *source;        /* the mapped source row's value */
    char *target;
} sg_diff_column;

typedef struct sg_diff {
    char *mapping;       /* "Customer -> customer" */
    char *key;           /* key as text, e.g. "(42)" or "(1, 'a')" */
    sg_diff_kind kind;
    size_t n_columns;    /* SG_DIFF_CHANGED: the columns that differ (at
                          * most 16), as the last re-check read them */
    sg_diff_column *columns;
} sg_diff;

typedef struct sg_verify_report {
    int64_t source_rows;     /* mapped source rows compared */
    int64_t target_rows;
    int64_t chunks;          /* chunks compared by checksum */
    int64_t chunks_differing;/* chunks whose checksums differed at first */
    int64_t rechecked;       /* keys re-checked after pending changes */
    int64_t repaired;        /* keys re-synced by --repair */
    int64_t differences;     /* differing keys that persisted, all of them */
    size_t n_diffs;          /* how many of them diffs lists (max_keys) */
    sg_diff *diffs;
    double elapsed_ms;
    int64_t chunks_in_engine;/* of chunks: settled by each engine's own sum
                              * of its rows (PostgreSQL on both sides, the
                              * same kind of value in every column), no
                              * rows read by segue */
} sg_verify_report;

typedef struct sg_verify_options {
    int version;                /* SG_VERIFY_OPTIONS_VERSION */
    bool repair;                /* re-sync the differing keys, then re-check */
    sg_progress_fn progress;
    void *progress_ud;
    volatile sig_atomic_t *stop;
    int64_t chunk_rows;         /* rows per checksum chunk; 0 = 10000; fifty
                                 * times that where both engines sum their
                                 * own rows (chunks_in_engine), a range
                                 * that differs compared again in chunks */
    int64_t max_keys;           /* differing keys listed in the report; 0 =
                                 * 100, -1 = all (all are always counted) */
    /* version 2: */
    int64_t max_rows_per_second;/* cap on the rows read per second from each
                                 * side; 0 = none */
    /* version 3: */
    int64_t sample;             /* > 0: instead of the checksum pass, compare
                                 * this many keys of each mapping, drawn at
                                 * random, field by field (a quick answer on
                                 * a huge table; proves nothing about the
                                 * others, so it never makes the migration
                                 * verified); 0 = the full pass */
} sg_verify_options;
#define SG_VERIFY_OPTIONS_VERSION 3
#define SG_VERIFY_OPTIONS_INIT { SG_VERIFY_OPTIONS_VERSION, false, NULL, NULL, NULL, 0, 0, 0, 0 }
/* Sets *o to the defaults of `version`. Errors: SG_EINVAL. */
int sg_verify_options_init(sg_verify_options *o, unsigned version);

/* Proves target == mapping(source): counts and per-chunk XXH3-128 checksums
 * of the canonical encoding of each row on both sides; chunks that differ
 * are compared row by row; each differing key is re-checked after the
 * pending changes are drained, so only persistent differences are reported.
 * On a clean result in phase backfilled the phase becomes verified.
 * *out (caller frees with sg_verify_report_free) is set even when
 * differences are found. o NULL: SG_VERIFY_OPTIONS_INIT. Writes no row of
 * either side without repair; records its result in the control tables.
 * Errors: SG_EINVAL, SG_EDIFF (differences persist), SG_ESTATE (backfill
 * not complete, schema drift), SG_EBUSY, SG_EDB, SG_ESTOPPED, SG_ENOMEM. */
int sg_verify_run(sg_verify_report **out, sg_migration *m, const sg_verify_options *o);
void sg_verify_report_free(sg_verify_report *r);

/* ---- cutover, rollback, cleanup --------------------------------------- */

/* Gates (cutover --reads and --writes): every check the spec turns on
 * (<segue/gates.h>; at least a recent clean verify, a worker holding the
 * lease, a small lag and no key set aside) passes. A failing or
 * inconclusive check refuses the step with SG_ESTATE naming each, its value
 * and its limit.
 *
 * sg_migration_force_gates: the next cutover step on this handle passes
 * refused gates; each is written to the audit log with its value and
 * `reason` (required, copied). It holds for that one step only.
 * Errors: SG_EINVAL (no reason), SG_ENOMEM. */
int sg_migration_force_gates(sg_migration *m, const char *reason);

/* Routes `pct` percent (0..100) of reads to the target, by consistent hash of
 * the routing key. Phase: verified, shadowing or reads_shifting; the gates
 * above. Errors: SG_EINVAL (pct out of 0..100), SG_ESTATE (phase or a
 * gate), SG_EDB. */
int sg_cutover_reads(sg_migration *m, double pct, const char *reason);

/* Switches writes to the target: fence source writes, drain the changelog to
 * empty, flip routing, install reverse capture on the target and the guard
 * on the source, release. Needs reads at 100 % and the gates above.
 * *fence_ms (may be NULL) receives how long source writes were held (ms).
 * Waits for locks the application holds up to the lock wait
 * (sg_migration_set_lock_wait); past it nothing has changed.
 * Errors: SG_EINVAL, SG_ESTATE (phase, a gate, keys set aside, reverse:
 * none), SG_EDB (a lock held too long: transient, retry), SG_EBUSY. */
int sg_cutover_writes(double *fence_ms, sg_migration *m, const char *reason);

/* A mapping with `reverse: none` has no way back after the write cutover:
 * sg_cutover_writes refuses it (SG_ESTATE) unless this was called on the
 * handle first, for that one cutover; rollback after it is refused.
 * Errors: SG_EINVAL. */
int sg_migration_accept_no_rollback(sg_migration *m);

/* Routes everything back to the source. After a write cutover it first
 * fences the target, drains the reverse changelog into the source and puts
 * forward capture back, so no write made on the target is lost. The
 * migration returns to phase verified.
 * Errors: SG_EINVAL, SG_ESTATE (phase, keys set aside, reverse: none), SG_EDB,
 * SG_EBUSY. */
int sg_migration_rollback(sg_migration *m, const char *reason);

typedef struct sg_cleanup_options {
    int version;            /* SG_CLEANUP_OPTIONS_VERSION */
    bool drop_source;       /* also drop the old tables (after writes moved) */
    bool purge;             /* also remove the migration's audit history */
} sg_cleanup_options;
#define SG_CLEANUP_OPTIONS_VERSION 1
#define SG_CLEANUP_OPTIONS_INIT { SG_CLEANUP_OPTIONS_VERSION, false, false }
/* Sets *o to the defaults of `version`. Errors: SG_EINVAL. */
int sg_cleanup_options_init(sg_cleanup_options *o, unsigned version);

/* Contract: removes capture, guards, changelogs and control rows; drops the
 * source tables only when asked. Gate: writes switched to the target, and
 * with cutover.bake the bake over (the write cutover moved the migration to
 * baking): a reason given first with sg_migration_force_gates cuts it
 * short, audited. o NULL: SG_CLEANUP_OPTIONS_INIT.
 * Errors: SG_EINVAL, SG_ESTATE (phase, the bake, keys set aside), SG_EDB. */
int sg_migration_cleanup(sg_migration *m, const sg_cleanup_options *o,
                         const char *reason);

/* Undoes everything segue made (capture, changelogs, target tables it
 * created, control rows) from any phase before writes_switched.
 * Errors: SG_EINVAL, SG_ESTATE, SG_EDB. */
int sg_migration_abort(sg_migration *m, const char *reason);

/* Keys set aside: a key whose change the other side refused on its data
 * (a CHECK, a NOT NULL, a type) is recorded with the error and the worker
 * goes on with every other key; the write cutover, rollback and cleanup
 * refuse while any is set aside (sg_status.set_aside names them). Once the
 * row is fixed, sg_migration_retry puts every set-aside key back into its
 * changelog for the worker to sync (one that fails again is set aside
 * again). *n receives how many keys went back. Errors: SG_EINVAL, SG_EDB. */
int sg_migration_retry(int64_t *n, sg_migration *m);

/* ---- status ------------------------------------------------------------ */

typedef struct sg_status {
    sg_phase phase;
    bool backfill_complete;
    int64_t backfill_rows;     /* rows copied so far */
    int64_t backfill_total;    /* rows to copy in all (the worker's estimate:
                                * the engine's statistics or a count); -1
                                * unknown, e.g. no worker has run */
    double backfill_rate;      /* rows/s over wall-clock time, as the worker
                                * last reported it; 0 when not copying */
    double backfill_eta_sec;   /* time left at that rate; -1 unknown */
    int64_t pending_changes;   /* undrained changelog entries */
    int64_t lag_ms;            /* age of the oldest undrained change; 0 if none */
    double read_pct;           /* share of reads routed to the target */
    int write_side;            /* SG_SIDE_SOURCE or SG_SIDE_TARGET */
    bool worker_alive;         /* a worker holds an unexpired lease */
    char worker[128];          /* "pid@host" of the lease holder, or "" */
    char worker_error[512];    /* the last error a worker reported (a retried
                                * lock timeout, or what stopped it); "" */
    int64_t worker_error_at_ms;/* when, ms since the epoch; 0 when none */
    int64_t applied;           /* changes the last worker applied */
    char not_copied[256];      /* "Table.column, ..." added to a source
                                * since start, which are not copied; "" */
    char drift[1024];           /* schema drift since start that stops the
                                * worker (a column dropped, renamed or
                                * retyped), with what to do; "" when none */
    int64_t verify_at_ms;      /* when the last verify ran (ms since the
                                * epoch); 0 when none has */
    int64_t verify_differences;/* differences that persisted in it: a write
                                * that bypassed segue's capture or guard
                                * shows here */
    int64_t set_aside;         /* keys set aside (see sg_migration_retry) */
    char set_aside_keys[512];  /* the first few: "(k) in Table: error; ..." */
    /* shadow reads recorded over the last shadow_window_ms (segue/shadow.h:
     * sg_shadow_record and sg_shadow_flush, segue shadow) */
    int64_t shadow_window_ms;
    int64_t shadow_compared;   /* reads run on both sides */
    int64_t shadow_mismatches; /* of those: mismatch or order-only */
    int64_t shadow_pending;    /* differed while changes waited */
    int64_t shadow_nondeterministic;
    int64_t shadow_skipped;
    int64_t shadow_errors;     /* refused by either side */
    double shadow_p99_ratio;   /* target p99 / source p99 over the compared
                                * reads; 0 when none */
    char shadow_worst[256];    /* the shapes with most mismatches:
                                * "fingerprint: n, ..."; "" when none */
    char shadow_example[512];  /* the latest example recorded (a mismatch,
                                * order-only or target error): "kind:
                                * detail -- query", cut to fit; "" none */
    /* The heartbeat (worker.heartbeat): a row the worker writes on the
     * source, captured and applied like any row, arriving in the target
     * once every change captured before it has been applied. */
    int64_t heartbeat_lag_ms;  /* the larger of the last beat's transit time
                                * (write to arrival) and how late the next
                                * one is; -1 unknown: no beat yet, heartbeats
                                * off, or changes flow back (after a write
                                * cutover) */
    int64_t heartbeat_at_ms;   /* when the last beat arrived (ms since the
                                * epoch); 0 when none */
} sg_status;

/* Reads the durable state into *out. Phase planned when nothing was
 * started. Reads only: works on a handle opened read_only.
 * Errors: SG_EINVAL, SG_EDB, SG_EFORMAT, SG_ESTATE (the spec changed since
 * start). */
int sg_migration_status(sg_status *out, sg_migration *m);

/* ---- consistency (the dashboard's table) --------------------------------- */

/* One mapping as the verify passes left it. Times in ms since the epoch,
 * 0 when there is none. */
typedef struct sg_consistency {
    char mapping[256];          /* "Customer -> customer" */
    int64_t checked_at_ms;      /* the last verify pass */
    int64_t source_rows;        /* rows on each side in it */
    int64_t target_rows;
    int64_t previous_at_ms;     /* the pass before it */
    int64_t source_delta;       /* rows more (or fewer) than in that pass */
    int64_t target_delta;
    int64_t chunks;             /* chunks compared by checksum */
    int64_t chunks_differing;   /* chunks whose checksums differed at first */
    int64_t differences;        /* keys whose difference persisted */
    char keys[512];             /* the first of them, "(42), (43)", cut to fit */
    bool full;                  /* the pass covered every chunk */
    int64_t last_full_clean_ms; /* the last full reconciliation: a full pass
                                 * with no persistent difference */
    int64_t set_aside;          /* keys of its source table set aside now */
} sg_consistency;

/* Each mapping's consistency, in spec order. *out (free with free()) has
 * one entry per mapping, zeros where no verify pass has run. Reads only.
 * Errors: SG_EINVAL, SG_EDB, SG_ENOMEM. */
int sg_migration_consistency(sg_consistency **out, size_t *n, sg_migration *m);

/* One write fence: how long a write switch held the application's writers
 * (cutover --writes: the source's; a rollback of writes: the target's). */
typedef struct sg_fence_time {
    int64_t at_ms;            /* when it was recorded (ms since the epoch) */
    bool to_target;           /* a cutover (true) or a rollback (false) */
    double ms;                /* writers held, from the fence to the commit */
} sg_fence_time;

/* Every write fence of the migration, oldest first; *out (free with
 * free()) is NULL when there was none. Reads only.
 * Errors: SG_EINVAL, SG_EDB, SG_ENOMEM. */
int sg_migration_fences(sg_fence_time **out, size_t *n, sg_migration *m);

/* The changes waiting in one source table's changelog (its mappings share
 * it), in the direction changes flow now. */
typedef struct sg_backlog {
    char table[128];          /* the source table (the target's, reverse) */
    const char *direction;    /* "forward" (source -> target) or "reverse";
                               * static */
    int64_t pending;          /* changes captured, not yet applied */
    int64_t lag_ms;           /* age of the oldest of them; 0 when none */
} sg_backlog;

/* The backlog per changelog; *out (free with free()) is NULL when the
 * migration is not started or is cleaned up. Reads only.
 * Errors: SG_EINVAL, SG_EDB, SG_EFORMAT, SG_ENOMEM. */
int sg_migration_backlog(sg_backlog **out, size_t *n, sg_migration *m);

/* ---- audit trail --------------------------------------------------------- */

/* One row of a migration's audit trail: a command that acted (a phase move,
 * a cutover step, a verify, a forced gate, a repair). Strings are owned by
 * the array that holds the entry (sg_audit_free). */
typedef struct sg_audit_entry {
    int64_t id;          /* increases with each row */
    char *at;            /* UTC, ISO 8601 with ms: "2026-12-02T13:36:03.123Z" */
    char *who;           /* the actor ("user@host" or --actor) */
    char *action;        /* "start", "verify", "cutover_reads", ... */
    char *from_phase;    /* phase names, or NULL when the phase did not move */
    char *to_phase;
    char *detail;        /* one line, or NULL */
    char *reason;        /* the --reason given, or NULL */
} sg_audit_entry;

/* The migration's audit trail, oldest first: entries whose `at` is at or
 * after `since` (the same ISO form, or a prefix of it such as "2026-12-02";
 * NULL: all). *out is a new array of *n entries, NULL when there are none
 * (not started, or purged); free it with sg_audit_free(). Reads only: works
 * on a handle opened read_only.
 * Errors: SG_EINVAL (a NULL out-parameter or handle), SG_EDB, SG_EFORMAT,
 * SG_ENOMEM. */
int sg_migration_audit(sg_audit_entry **out, size_t *n, sg_migration *m,
                       const char *since);
/* Frees an array from sg_migration_audit(); NULL is allowed. */
void sg_audit_free(sg_audit_entry *entries, size_t n);

/* ---- the spec's settings (for references: segue-spec(5)) ----------------- */

/* One setting of the spec, or one parameter of a gate check. */
typedef struct sg_setting_doc {
    char key[96];      /* "backfill.chunk_time", "gates.checks.lag.max" */
    const char *type;  /* "duration", "integer", "number", "bool", "string",
                        * or the choices "rollback|pause" (static) */
    char dflt[32];     /* the default as a spec writes it ("500ms", "true");
                        * "required" when it must be given; "" when none */
    char range[64];    /* the bounds ("1..1000", "0s..1h", "0.."), or "" */
    const char *help;  /* one sentence (static) */
} sg_setting_doc;

/* The i-th setting (from 0) into *out: every setting the spec parser takes,
 * then every gate check's parameters, in the parser's order; false past
 * the last (or out NULL). Pure, thread-safe; the same table parses specs,
 * so a reference built from it cannot drift. */
bool sg_spec_setting_doc(size_t i, sg_setting_doc *out);

/* ---- routing (for applications) --------------------------------------- */

enum { SG_SIDE_SOURCE = 0, SG_SIDE_TARGET = 1 };

/* The routing bucket of a key: XXH3-64 of salt and key, reduced to
 * 0..9999. Pure; the same inputs give the same bucket on every machine. */
uint32_t sg_route_bucket(const char *salt, const void *key, size_t key_len);

/* Whether a bucket reads from the target at `pct` percent: bucket < pct*100.
 * Raising pct only adds buckets (monotone). */
bool sg_route_reads_target(uint32_t bucket, double pct);

typedef struct sg_router sg_router;

/* Opens a router on the database that holds the control tables (the
 * target, by default) for migration `name`. The routing row is re-read at
 * most every `refresh_ms` (0: every call). *out is always set (NULL only
 * when out of memory) and closed by the caller with sg_router_close().
 * Errors: SG_EINVAL, SG_EDB, SG_ENOMEM. */
int sg_router_open(sg_router **out, const char *control_uri, const char *name,
                   int refresh_ms);
void sg_router_close(sg_router *r);
const char *sg_router_errmsg(const sg_router *r);
/* A router on the control database of an open migration, reading the
 * routing at most every serve.refresh and answering from the last routing
 * read for at most serve.max_staleness while that database cannot be read
 * (the spec's settings). The handle m is only read during the call; the
 * router keeps its own connection. *out as sg_router_open.
 * Errors: SG_EINVAL, SG_EDB, SG_ENOMEM. */
int sg_router_open_migration(sg_router **out, sg_migration *m);
/* While the control database cannot be read (the router reconnects at each
 * refresh), answer from the routing last read if it was read at most `ms`
 * ago; past that, the calls fail (SG_EDB). Default 0 for sg_router_open:
 * every failure is an error. Never a guess: a router that has read no
 * routing yet fails. */
void sg_router_set_max_staleness(sg_router *r, int64_t ms);

/* What a router knows of its migration's routing. */
typedef struct sg_route_state {
    bool known;            /* the control database knows the migration;
                            * false: not started, aborted or purged, when
                            * everything goes to the source */
    sg_phase phase;        /* SG_PHASE_PLANNED when not known */
    double read_pct;       /* share of reads routed to the target now, 0..100
                            * (0 while the read breaker is open) */
    int write_side;        /* SG_SIDE_SOURCE or SG_SIDE_TARGET */
    char salt[40];         /* the routing hash's salt (sg_route_bucket) */
    uint64_t version;      /* a hash of phase, read_pct, write_side and
                            * salt: it changes whenever routing changes */
    int64_t age_ms;        /* how long ago this was read: 0 when fresh,
                            * up to the max staleness when the control
                            * database cannot be read */
    int64_t max_staleness_ms;
    int64_t refresh_ms;    /* how often the router reads the routing */
    bool read_breaker_open;/* cutover.max_read_lag: the apply is behind, so
                            * every read goes to the source (read_pct says
                            * 0 meanwhile; see docs/spec.md) */
} sg_route_state;

/* The routing the router serves now (refreshed as the router's reads are).
 * An unknown migration is not an error here: known is false.
 * Errors: SG_EINVAL, SG_EDB (the control database cannot be read and no
 * routing was read within the max staleness), SG_EFORMAT. */
int sg_router_state(sg_route_state *out, sg_router *r);

/* Where a read for `key` goes: SG_SIDE_SOURCE or SG_SIDE_TARGET. Once the
 * migration is cleaned up, everything goes to the target. SG_ESTATE when
 * the control database knows no migration of the router's name (not
 * started, misspelt, aborted or purged): never a guess.
 * Errors: SG_EINVAL, SG_ESTATE, SG_EDB, SG_EFORMAT. */
int sg_router_read_side(int *side, sg_router *r, const void *key, size_t key_len);
/* Where writes go now. Errors: as sg_router_read_side. */
int sg_router_write_side(int *side, sg_router *r);

/* ---- segments (cutover.segments) --------------------------------------- */

/* One attribute of a read's context: OFREP's evaluation context (each
 * string member), or the C API caller's. Borrowed for the call. */
typedef struct sg_route_attr {
    const char *name;
    const char *value;
} sg_route_attr;

/* The segments a router applies (opaque; as the worker last published
 * them from its spec into the control tables). */
typedef struct sg_segments sg_segments;

/* Where a read for `key` goes for a request whose context has the
 * attributes attrs[0..n_attrs): the first segment of cutover.segments
 * whose attribute has one of its values decides while the reads shift
 * (phase reads_shifting: not before the first step, nor after a rollback;
 * writes on the source; the read breaker closed); otherwise as
 * sg_router_read_side.
 * Errors: as sg_router_read_side. */
int sg_router_read_side_ctx(int *side, sg_router *r, const void *key, size_t key_len,
                            const sg_route_attr *attrs, size_t n_attrs);
/* A copy of the segments the router applies now, *out NULL when none; the
 * caller frees it with sg_segments_free. Refreshed as the router's reads
 * are. Errors: SG_EINVAL, SG_EDB, SG_ENOMEM. */
int sg_router_segments(sg_segments **out, sg_router *r);
/* The segment that decides a read with context attrs under routing st: its
 * name (owned by s) with *side set, or NULL when none does (the bucket
 * decides). Pure: reads s and st only; safe from any thread for an s no
 * one frees meanwhile. */
const char *sg_route_segment(const sg_route_state *st, const sg_segments *s,
                             const sg_route_attr *attrs, size_t n_attrs, int *side);
/* A deep copy (NULL when s is NULL or out of memory); sg_segments_free. */
sg_segments *sg_segments_copy(const sg_segments *s);
void sg_segments_free(sg_segments *s);

/* ---- read-your-writes for one row ---------------------------------------- */

/* A row an application is about to read, by its source table's key. */
typedef struct sg_route_row {
    const char *table;      /* a mapped source table, as the spec or the
                             * source's catalog names it */
    size_t n_key;           /* the number of its key columns */
    const char *const *key; /* the row's key values as text, in key order
                             * ("42"; compared as the key columns' types) */
} sg_route_row;

/* Where a read of `row` goes, with read-your-writes per key: as
 * sg_router_read_side_ctx (routing key `key`, context attrs), then, when
 * that says the target while writes go to the source, one indexed lookup
 * in the source's changelog on the router's own read-only connection to
 * the source: a change of that row the worker has not applied to the
 * target yet sends the read to the source. A row written through the
 * source and read back at once so always sees its write, whatever the
 * apply's lag. Conservative cases (the source): any pending statement entry
 * of the table (one statement that changed many rows), and any key of the
 * table set aside (from the router's next refresh). Cost: one round trip
 * to the source for reads the routing sends to the target (none
 * otherwise); the capture pays one more index entry per change
 * (docs/spec.md, "Read-your-writes"). Needs cutover.read_your_writes in
 * the spec at start (the index) and a router from
 * sg_router_open_migration (it knows the source); on PostgreSQL the
 * application's role reads the changelog, granted at start to the roles
 * that could read the table. On SG_EDB from the lookup *side is still set,
 * to the source, which holds every write.
 * Errors: SG_EINVAL (a NULL argument, a table no mapping reads, another
 * number of key values), SG_ESTATE (a router from sg_router_open, the
 * setting off, or the migration is not known), SG_EDB, SG_EFORMAT,
 * SG_ENOMEM. */
int sg_router_read_side_row(int *side, sg_router *r, const void *key, size_t key_len,
                            const sg_route_attr *attrs, size_t n_attrs,
                            const sg_route_row *row);

/* Routing decision through an open migration (the CLI's `segue route`):
 * where a read for `key` and writes go, and the key's bucket.
 * Errors: SG_EINVAL, SG_ESTATE, SG_EDB, SG_EFORMAT. */
int sg_migration_route(int *read_side, int *write_side, uint32_t *bucket,
                       sg_migration *m, const void *key, size_t key_len);

#ifdef __cplusplus
}
#endif
#endif
