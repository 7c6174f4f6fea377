/* Flows: one direction of one mapping, and the reads, writes and key
 * ranges that move its rows (flow.c, flow_batch.c). */
#ifndef SEGUE_FLOW_H
#define SEGUE_FLOW_H

#include "driver/driver.h"

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
    const char *from_schema;      /* where `to`'s connection reads `from`'s
                                   * tables in-engine (an attached database of
                                   * the same engine), or NULL: rows stream
                                   * between the connections */
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
/* Binds n_cols values into w, a write statement of f, and runs it. */
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
/* For one integer key, how many keys its span holds (max - min + 1): an
 * upper bound of the rows, from two index probes; -1 when the key is not
 * one integer column. */
int sg_flow_key_span(sg_flow *f, int64_t *n, sg_err *err);
/* The end of the next chunk after `lo` in `from` (no filter), aiming at `n`
 * rows: the key of the n-th row, or for one integer key the first key after
 * lo plus n - 1 (index probes, not a walk; fewer rows where keys are
 * sparse); found=false when the rest fits in the chunk. */
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
/* sg_flow_values with the conform buffers given (n_cols of them): a reader
 * in another thread than f's owner. With unfit_col, a value that does not
 * fit stops it: -1, *unfit_col its column and *why the reason; without, it
 * never fails. */
int sg_flow_values_in(const sg_flow *f, sg_stmt *s, sg_value *v, sg_buf *conv,
                      size_t *unfit_col, const char **why);
/* Whether `from` holds a key in the range (lo, hi] (NULL: open). */
int sg_flow_any_key(sg_flow *f, const sg_row *lo, const sg_row *hi, bool *any, sg_err *err);
/* The keys of `from` in the range (lo, hi] (NULL: open), key order, into
 * *keys (n of them; caller frees each with sg_row_free, then the array). */
int sg_flow_keys(sg_flow *f, const sg_row *lo, const sg_row *hi, sg_row **keys,
                 size_t *n, sg_err *err);
/* Opens a cursor over a key range ordered by key: through the expressions
 * on `from` (to_side false) or the stored columns of `to`. */
int sg_flow_scan(sg_flow *f, bool to_side, const sg_row *lo, const sg_row *hi,
                 sg_stmt **out, sg_err *err);
/* sg_flow_scan's query, its range parameters numbered from 1, ordered by
 * key or not (an aggregate over it needs no order). */
void sg_flow_scan_sql(sg_flow *f, bool to_side, const sg_row *lo, const sg_row *hi,
                      bool ordered, sg_buf *b);
/* Appends "(k1, k2) > (?a, ?b)"-style range predicates over `cols`. Returns
 * the next free parameter number. */
int sg_sql_key_range(sg_conn *c, sg_buf *b, size_t n, char *const *cols,
                     const sg_row *lo, const sg_row *hi, int param);
int sg_sql_bind_range(sg_stmt *s, const sg_row *lo, const sg_row *hi, int param,
                      sg_err *err);
void sg_sql_ident_list(sg_conn *c, sg_buf *b, size_t n, char *const *ids,
                       const char *prefix);

#endif
