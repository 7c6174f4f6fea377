/* The sg_db_* wrappers of the driver's engine-specific operations (schema,
 * types, capture, guards, bulk loads): the one place where an operation a
 * driver lacks becomes SG_ENOTSUP, or nothing for those the vtable marks
 * optional (NULL: the engine has nothing to do). Core code calls these,
 * never the vtable. */
#include "driver/driver.h"
#include <segue/segue.h>

static int missing(const sg_conn *c, const char *op, sg_err *err)
{
    return sg_err_set(err, SG_ENOTSUP, "%s: the %s driver has no %s", c->endpoint,
                      c->drv->name, op);
}

bool sg_db_same_name(const sg_conn *c, const char *a, const char *b)
{
    return c->drv->same_name(a, b);
}

bool sg_db_uri_same_name(const char *uri, const char *a, const char *b)
{
    sg_err ignored;
    const sg_driver *d = sg_db_driver_for(uri, &ignored);
    return d && d->same_name(a, b);
}

int sg_db_table_info(sg_conn *c, const char *table, sg_table_info **out, sg_err *err)
{
    *out = NULL;
    return c->drv->table_info ? c->drv->table_info(c, table, out, err)
                              : missing(c, "table_info", err);
}

int sg_db_table_indexes(sg_conn *c, const sg_table_info *t, sg_index_info **out, size_t *n,
                        sg_err *err)
{
    *out = NULL;
    *n = 0;
    return c->drv->table_indexes ? c->drv->table_indexes(c, t, out, n, err)
                                 : missing(c, "table_indexes", err);
}

int sg_db_table_dependents(sg_conn *c, const char *table, sg_dependent **out, size_t *n,
                           sg_err *err)
{
    *out = NULL;
    *n = 0;
    return c->drv->table_dependents ? c->drv->table_dependents(c, table, out, n, err)
                                    : missing(c, "table_dependents", err);
}

int sg_db_table_foreign_keys(sg_conn *c, const sg_table_info *t, sg_fk_info **out, size_t *n,
                             sg_err *err)
{
    *out = NULL;
    *n = 0;
    return c->drv->table_foreign_keys ? c->drv->table_foreign_keys(c, t, out, n, err)
                                      : missing(c, "table_foreign_keys", err);
}

int sg_db_table_triggers(sg_conn *c, const sg_table_info *t, char ***out, size_t *n,
                         sg_err *err)
{
    *out = NULL;
    *n = 0;
    return c->drv->table_triggers ? c->drv->table_triggers(c, t, out, n, err)
                                  : missing(c, "table_triggers", err);
}

bool sg_db_adds_foreign_keys(const sg_conn *c)
{
    return c->drv->foreign_key_sql != NULL;
}

bool sg_db_foreign_key_sql(const sg_conn *c, const sg_fk_info *d, const char *table, bool add,
                           sg_buf *b)
{
    if (!c->drv->foreign_key_sql)
        return false;
    c->drv->foreign_key_sql(d, table, add, b);
    return true;
}

int sg_db_tables(sg_conn *c, char ***out, size_t *n, sg_err *err)
{
    *out = NULL;
    *n = 0;
    return c->drv->tables ? c->drv->tables(c, out, n, err) : missing(c, "tables", err);
}

int sg_db_table_checks(sg_conn *c, const sg_table_info *t, sg_check_info **out, size_t *n,
                       sg_err *err)
{
    *out = NULL;
    *n = 0;
    return c->drv->table_checks ? c->drv->table_checks(c, t, out, n, err)
                                : missing(c, "table_checks", err);
}

void sg_db_index_sql(const sg_conn *c, const sg_index_def *d, sg_buf *b)
{
    if (c->drv->index_sql)
        c->drv->index_sql(d, b);
}

int sg_db_index_build(sg_conn *c, const sg_index_def *d, sg_err *err)
{
    return c->drv->index_build ? c->drv->index_build(c, d, err)
                               : missing(c, "index_build", err);
}

const char *sg_db_function_type(const sg_conn *c, const char *fn)
{
    return c->drv->function_type ? c->drv->function_type(fn) : NULL;
}

void sg_db_type_parse(const sg_conn *c, const char *decl, sg_coltype *out)
{
    c->drv->type_parse(decl, out);
}

void sg_db_type_decl(const sg_conn *c, const sg_coltype *t, sg_buf *b)
{
    c->drv->type_decl(t, b);
}

int sg_db_type_copy(sg_conn *from, sg_conn *to, const char *decl, sg_err *err)
{
    return to->drv->type_copy && from->drv == to->drv
               ? to->drv->type_copy(from, to, decl, err) : 0;
}

int sg_db_sequence_copy(sg_conn *from, sg_conn *to, const char *seq, const char *table,
                        const char *column, sg_err *err)
{
    return to->drv->sequence_copy && from->drv == to->drv
               ? to->drv->sequence_copy(from, to, seq, table, column, err)
               : missing(to, "sequence_copy", err);
}

int sg_db_sequence_sync(sg_conn *from, sg_conn *to, const char *seq, sg_err *err)
{
    return to->drv->sequence_sync && from->drv == to->drv
               ? to->drv->sequence_sync(from, to, seq, err)
               : missing(to, "sequence_sync", err);
}

const char *sg_db_numbered_column(const sg_conn *c, const char *type, bool always,
                                  bool sole_key, sg_buf *clause)
{
    return c->drv->numbered_column(type, always, sole_key, clause);
}

int sg_db_numbering_last(sg_conn *c, const char *table, const char *column, int64_t *last,
                         bool *known, sg_err *err)
{
    *known = false;
    return c->drv->numbering_last ? c->drv->numbering_last(c, table, column, last, known, err)
                                  : missing(c, "numbering_last", err);
}

int sg_db_numbering_raise(sg_conn *c, const char *table, const char *column, int64_t floor,
                          sg_err *err)
{
    return c->drv->numbering_raise ? c->drv->numbering_raise(c, table, column, floor, err)
                                   : missing(c, "numbering_raise", err);
}

const char *sg_db_type_name(const sg_conn *c, sg_vtype t)
{
    return c->drv->type_name(t);
}

const char *sg_db_serial_pk(const sg_conn *c)
{
    return c->drv->serial_pk;
}

const char *sg_db_row_lock(const sg_conn *c)
{
    return c->drv->row_lock;
}

const char *sg_db_insert_override(const sg_conn *c)
{
    return c->drv->insert_override;
}

void sg_db_table_past_cte(const sg_conn *c, sg_buf *b, const char *name)
{
    if (c->drv->own_schema) {
        c->drv->quote_ident(b, c->drv->own_schema);
        sg_buf_putc(b, '.');
    }
    c->drv->quote_ident(b, name);
}

const char *sg_db_row_estimate_sql(const sg_conn *c)
{
    return c->drv->row_estimate_sql;
}

void sg_db_upsert_tail(const sg_conn *c, sg_buf *b, size_t n_keys,
                       const char *const *keys, size_t n_cols, const char *const *cols)
{
    c->drv->upsert_tail(b, n_keys, keys, n_cols, cols);
}

bool sg_db_range_sums_compare(const sg_conn *a, const sg_conn *b)
{
    return a->drv == b->drv && a->drv->range_sum_sql;
}

int sg_db_range_sum_sql(sg_conn *c, sg_buf *b, const char *inner, sg_err *err)
{
    if (!c->drv->range_sum_sql)
        return sg_err_set(err, SG_ENOTSUP, "%s: %s cannot sum rows in-engine", c->endpoint,
                          c->drv->name);
    return c->drv->range_sum_sql(c, b, inner, err);
}

bool sg_db_has_bulk(const sg_conn *c)
{
    return c->drv->bulk_begin != NULL;
}

int sg_db_bulk_begin(sg_conn *c, const char *table, size_t n, const char *const *cols,
                     sg_bulk **out, sg_err *err)
{
    *out = NULL;
    return c->drv->bulk_begin ? c->drv->bulk_begin(c, table, n, cols, out, err)
                              : missing(c, "bulk load", err);
}

int sg_db_bulk_row(sg_conn *c, sg_bulk *b, const sg_value *v, size_t n, sg_err *err)
{
    return c->drv->bulk_row(b, v, n, err);
}

int sg_db_bulk_end(sg_conn *c, sg_bulk *b, bool ok, int64_t *rows, sg_err *err)
{
    return c->drv->bulk_end(b, ok, rows, err);
}

int64_t sg_db_yield_ms(const sg_conn *c, int64_t held_ms)
{
    return c->drv->yield_ms ? c->drv->yield_ms(held_ms) : 0;
}

int sg_db_others_wrote(sg_conn *c, bool *out, sg_err *err)
{
    *out = false;
    return c->drv->others_wrote ? c->drv->others_wrote(c, out, err) : 0;
}

int sg_db_tidy(sg_conn *c, sg_err *err)
{
    return c->drv->tidy ? c->drv->tidy(c, err) : 0;
}

int sg_db_fence(sg_conn *c, size_t n, const char *const *tables, sg_err *err)
{
    return c->drv->fence ? c->drv->fence(c, n, tables, err) : missing(c, "fence", err);
}

int sg_db_control_teardown(sg_conn *c, sg_err *err)
{
    return c->drv->control_teardown ? c->drv->control_teardown(c, err) : 0;
}

int sg_db_capture_install(sg_conn *c, const sg_capture *cap, sg_err *err)
{
    return c->drv->capture_install ? c->drv->capture_install(c, cap, err)
                                   : missing(c, "capture", err);
}

int sg_db_capture_remove(sg_conn *c, const sg_capture *cap, sg_err *err)
{
    return c->drv->capture_remove ? c->drv->capture_remove(c, cap, err)
                                  : missing(c, "capture", err);
}

bool sg_db_has_stmtlog(const sg_conn *c)
{
    return c->drv->stmtlog_sql != NULL;
}

void sg_db_stmtlog_sql(const sg_conn *c, sg_buf *b, sg_stmtlog what, const char *log,
                       size_t n_key)
{
    if (c->drv->stmtlog_sql)
        c->drv->stmtlog_sql(b, what, log, n_key);
}

int sg_db_guard_install(sg_conn *c, const sg_guard *g, sg_err *err)
{
    return c->drv->guard_install ? c->drv->guard_install(c, g, err)
                                 : missing(c, "guard", err);
}

int sg_db_guard_remove(sg_conn *c, const sg_guard *g, sg_err *err)
{
    return c->drv->guard_remove ? c->drv->guard_remove(c, g, err)
                                : missing(c, "guard", err);
}

int sg_db_guard_lift(sg_conn *c, const sg_guard *g, bool lift, bool *lifted, sg_err *err)
{
    if (lifted)
        *lifted = c->drv->guard_lift != NULL;
    return c->drv->guard_lift ? c->drv->guard_lift(c, g, lift, err) : 0;
}

int sg_db_guard_exists(sg_conn *c, const sg_guard *g, bool *out, sg_err *err)
{
    *out = false;
    return c->drv->guard_exists ? c->drv->guard_exists(c, g, out, err)
                                : missing(c, "guard", err);
}

int sg_db_attach(sg_conn *c, sg_conn *other, const char *alias, sg_err *err)
{
    return c->drv->attach && other->drv == c->drv ? c->drv->attach(c, other, alias, err)
                                                  : missing(c, "attach", err);
}

int sg_db_marker_setup(sg_conn *c, sg_err *err)
{
    return c->drv->marker_setup ? c->drv->marker_setup(c, err) : missing(c, "marker", err);
}

int sg_db_marker_teardown(sg_conn *c, sg_err *err)
{
    return c->drv->marker_teardown ? c->drv->marker_teardown(c, err) : 0;
}

int sg_db_marker_on(sg_conn *c, sg_err *err)
{
    return c->drv->marker_on ? c->drv->marker_on(c, err) : missing(c, "marker", err);
}

int sg_db_marker_off(sg_conn *c, sg_err *err)
{
    return c->drv->marker_off ? c->drv->marker_off(c, err) : missing(c, "marker", err);
}

