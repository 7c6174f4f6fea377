/* The migration handle and the resolved mappings, shared by the library's
 * modules (never by the CLI). */
#ifndef SEGUE_INTERNAL_H
#define SEGUE_INTERNAL_H

#include <segue/segue.h>

#include "driver/driver.h"
#include "err.h"
#include "spec.h"

/* One direction of one mapping: rows of `from` become rows of `to`.
 * Forward flows read the source through the spec's expressions; reverse
 * flows (after a write cutover) read the target through reverse
 * expressions. */
typedef struct sg_flow {
    sg_conn *from, *to;
    char *from_table, *to_table;  /* catalog names */
    size_t n_key;
    char **from_key;              /* key columns of `from`, key order */
    char **to_key;                /* key columns of `to`, same order */
    size_t n_cols;
    char **to_cols;               /* written columns of `to` */
    char **exprs;                 /* expression over `from` for each */
    int *key_pos;                 /* n_key: index in to_cols of each key */
    char *filter;                 /* over `from`, or NULL */
    bool update_only;             /* never insert or delete (secondary reverse) */
    bool reverse;                 /* target -> source: partial rows */
    bool same_db;                 /* from and to share one connection */
    sg_coltype *types;            /* n_cols: across engines, the `to` column
                                   * types values are conformed to; else NULL */
    sg_buf *conv;                 /* n_cols scratch buffers for conformed values */
    /* statements prepared on first use; finalized by sg_flow_close */
    sg_stmt *read_key, *upsert, *del, *update;
    sg_stmt *read_many;           /* SG_SYNC_BATCH keys at once (flow_batch.c) */
    sg_stmt *upsert_many;         /* SG_SYNC_BATCH rows at once (flow_batch.c) */
} sg_flow;

typedef struct sg_map {
    const sg_spec_mapping *spec;
    size_t group;                 /* index into groups */
    bool primary;                 /* first mapping of its source table */
    char *label;                  /* "Customer -> customer" */
    sg_table_info *src;           /* borrowed from the group */
    char *target_ddl;             /* for create: true */
    char **expr_types;            /* per spec column: the source's type of its
                                   * expression, or NULL */
    char **col_types;             /* per target column: the declared type in
                                   * target_ddl, or NULL */
    char **from_types;            /* per target column: the source's type of
                                   * what fills it (column or expression),
                                   * NULL if none or given in the spec */
    sg_flow fwd;
    sg_flow rev;
    size_t n_rev_missing;         /* source columns no reverse reaches */
    char **rev_missing;
    /* create: true with every source column: source columns the target
     * was not made with (added since start: not copied; drift.h) */
    size_t n_not_copied;
    char **not_copied;
    char *trig_rev, *trig_guard;  /* trigger prefixes on the target table */
} sg_map;

/* The mappings that read one source table share its capture. */
/* Where a reader stands in the statement entries of one changelog
 * (changelog.h): the entry being read (id 0: none yet), its key count and
 * the keys already applied. Entries are taken oldest first among those with
 * id > after. In memory only: a restart reads an entry again from its first
 * key, which is harmless (a sync is idempotent). */
typedef struct sg_stmt_pos {
    int64_t after, id, n, done;
} sg_stmt_pos;

typedef struct sg_group {
    char *table;                  /* catalog name */
    sg_table_info *info;
    size_t n_key;
    char **key;
    char *log, *rlog;             /* changelog (source), reverse (target) */
    char *trig_capture, *trig_guard; /* trigger prefixes on the source */
    sg_stmt_pos drain_pos[2];     /* the drain's, per direction (sg_dir) */
} sg_group;

struct sg_migration {
    sg_err err;
    sg_spec *spec;
    char spec_hash[33];
    sg_conn *src, *tgt;           /* tgt == src when they are one database */
    size_t n_maps;
    sg_map *maps;
    size_t n_groups;
    sg_group *groups;
    sg_log_fn log;
    void *log_ud;
    char *actor;
    char *force_reason;           /* gates refused in the next step pass
                                   * (gate.h); NULL: none */
    bool no_rollback_ok;          /* the next write cutover may leave no way
                                   * back (reverse: none) */
    bool control_ok;              /* control tables seen, format checked */
    int64_t lock_wait_ms;         /* sg_migration_set_lock_wait; 0: default */
    bool has_lease;
    int64_t lease_token;          /* the token taken (lease.h); 0: none */
    int64_t lease_renewed_ms;
};

/* Logs through the handle's callback, if any. */
void sg_log(sg_migration *m, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resolves the spec's mappings against the source (and, when it exists,
 * target) schema: tables, keys, columns, expressions, reverse. Errors are
 * SG_ESPEC with file:line. */
int sg_mapping_resolve(sg_migration *m);
void sg_mapping_free(sg_migration *m);
/* Finalizes every statement the flows prepared (they are prepared again on
 * use), e.g. before a lost connection is replaced. */
void sg_mapping_close_statements(sg_migration *m);
/* Across engines (typemap.c): the target engine's spelling of a source
 * column type (NULL or "": none declared; caller frees), and the column
 * types a mapping's flows conform values to. Same engine: no conforming. */
bool sg_typemap_crossing(const sg_migration *m);
char *sg_typemap_column(const sg_migration *m, const char *src_decl);
int sg_typemap_flows(sg_migration *m, sg_map *mp);
void sg_typemap_free(sg_flow *f);
/* Plan (plan.c, plan_types.c): adds a warning or blocker; and the notes on
 * mapping i's column types across engines, from its type pairs and one scan
 * of the source counting rows the target would narrow or refuse. */
int sg_plan_note(sg_migration *m, sg_plan *p, bool blocker, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int sg_plan_types(sg_migration *m, size_t i, sg_plan *p);
/* The way back (DESIGN.md "Safety rules"): whether mapping i's reverse
 * flow leaves a source column that is NOT NULL with no default unwritten,
 * so a row inserted on the target could not reach the source; msg (size
 * bytes) says which, with file:line and a hint. Returns 1 when it does.
 * sg_mapping_check_reverse: SG_ESPEC for the first mapping that does. */
int sg_mapping_reverse_gap(sg_migration *m, size_t i, char *msg, size_t size);
int sg_mapping_check_reverse(sg_migration *m);
/* Application roles: the roles that use mapping i's source table, each
 * with its privileges and whether it keeps working on the target after the
 * cutover ("appuser (INSERT, SELECT): keeps working; ..."), into *roles
 * (caller frees; NULL when there are none or the engines have no roles;
 * roles may be NULL). When one would fail (no such role in the target
 * database, or privileges the target table lacks), msg (size bytes) gets
 * a blocker with file:line and the statements that fix it, and 1 is
 * returned; 0 when none would; or an error. sg_mapping_check_grants:
 * SG_ESPEC for the first mapping with one. */
int sg_mapping_roles(sg_migration *m, size_t i, char **roles, char *msg, size_t size);
int sg_mapping_check_grants(sg_migration *m);
/* The first mapping that says reverse: none, or NULL. */
const sg_map *sg_mapping_no_way_back(const sg_migration *m);
/* One line on the columns added to sources since start (not copied), ""
 * when none; out has size bytes. */
void sg_mapping_drift_note(const sg_migration *m, char *out, size_t size);
/* Checks the parts that need the target tables to exist (after start or for
 * create: false): columns, key uniqueness, reverse expressions. */
int sg_mapping_check_target(sg_migration *m, bool created);

/* Flows (flow.c). Keys are the key values in key order. */
void sg_flow_close(sg_flow *f);
/* Makes `to` match `from` for one key; inside the caller's write transaction
 * on f->to. */
int sg_flow_sync(sg_flow *f, const sg_value *key, sg_err *err);
/* sg_flow_sync of n keys: their rows are read SG_SYNC_BATCH keys per
 * statement (key IN (...)) and written; a key whose row the batched read
 * does not return (deleted, filtered out) goes through sg_flow_sync. */
#define SG_SYNC_BATCH 32
int sg_flow_sync_many(sg_flow *f, const sg_row *keys, size_t n, sg_err *err);
/* For flow_batch.c: "SELECT <exprs> FROM <from> WHERE " and " AND (filter)";
 * writing the current row of a read of `from` as sg_flow_sync does. */
void sg_flow_select_head(sg_flow *f, sg_buf *b);
void sg_flow_filter(sg_flow *f, sg_buf *b);
int sg_flow_write_row(sg_flow *f, sg_stmt *from, sg_err *err);
/* Binds n_cols values (for f->update, then the key again) into w, a write
 * statement of f, and runs it. */
int sg_flow_write_values(sg_flow *f, sg_stmt *w, const sg_value *v, sg_err *err);
/* INSERT INTO to (cols) VALUES (...) x rows, then the driver's upsert tail;
 * parameters row by row, n_cols per row. */
void sg_flow_upsert_sql(sg_flow *f, sg_buf *b, size_t rows);
/* Prepares the per-key read and the writes (on first use). */
int sg_flow_prepare(sg_flow *f, sg_err *err);
/* Copies rows with lo < key <= hi (NULL bound: open) through the mapping into
 * `to`; *rows receives the rows written. Inside the caller's write
 * transaction on f->to. */
int sg_flow_copy_range(sg_flow *f, const sg_row *lo, const sg_row *hi,
                       int64_t *rows, sg_err *err);
/* The key of the `n`-th row after `lo` in `from` (no filter), or found=false
 * when fewer rows remain. */
int sg_flow_boundary(sg_flow *f, const sg_row *lo, int64_t n, sg_row *out,
                     bool *found, sg_err *err);
/* Reads the row for `key` through the flow: from `from` via the expressions
 * (and filter), or from `to` as stored. *found is false when there is none;
 * out (when found) is owned by the caller (sg_row_free). */
int sg_flow_read_from(sg_flow *f, const sg_value *key, sg_row *out, bool *found,
                      sg_err *err);
int sg_flow_read_to(sg_flow *f, const sg_value *key, sg_row *out, bool *found,
                    sg_err *err);
/* Reads the current row of a statement over `from` (or, for to_side, over
 * `to`): n_cols values into v, conformed to f->types across engines (valid
 * until the next row or the next call). strict: a value the `to` column
 * cannot hold is an error naming column, key and reason; otherwise it is
 * left as read, so verify reports the row. */
int sg_flow_values(sg_flow *f, sg_stmt *s, sg_value *v, bool strict, sg_err *err);
/* The keys of `from` in the range (lo, hi] (NULL: open), key order, into
 * *keys (n of them; caller frees each with sg_row_free, then the array). */
int sg_flow_keys(sg_flow *f, const sg_row *lo, const sg_row *hi, sg_row **keys,
                 size_t *n, sg_err *err);
/* Opens a cursor over a key range ordered by key: through the expressions
 * on `from` (to_side false) or the stored columns of `to`. */
int sg_flow_scan(sg_flow *f, bool to_side, const sg_row *lo, const sg_row *hi,
                 sg_stmt **out, sg_err *err);
/* Appends "(k1, k2) > (?a, ?b)"-style range predicates over `cols`. Returns
 * the next free parameter number. */
int sg_sql_key_range(sg_conn *c, sg_buf *b, size_t n, char *const *cols,
                     const sg_row *lo, const sg_row *hi, int param);
int sg_sql_bind_range(sg_stmt *s, const sg_row *lo, const sg_row *hi, int param,
                      sg_err *err);
void sg_sql_ident_list(sg_conn *c, sg_buf *b, size_t n, char *const *ids,
                       const char *prefix);

/* Time in ms since the Unix epoch / monotonic ms. */
int64_t sg_now_ms(void);
int64_t sg_mono_ms(void);
void sg_sleep_ms(int64_t ms);
/* ISO 8601 UTC of now: "2026-11-21T10:00:00.123Z"; out has 32 bytes. */
void sg_now_iso(char out[32]);

#endif
