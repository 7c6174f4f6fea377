/* Statement entries of a PostgreSQL changelog: a statement that changed at
 * least PG_STMTLOG_ROWS rows logs one entry holding arrays of their keys in
 * segue."<log>_stmt" instead of one changelog row per key. The application's
 * statement then pays for one array_agg and one row, not for a row, a
 * sequence value and an index entry per key (bench/pg.sh, capture part:
 * a 500k-row UPDATE). The ids come from the changelog's sequence, so
 * "entries up to id N" (the write cutover's record) covers both tables. */
#include "driver/pg/pg_int.h"

#include <string.h>

/* segue."<log>_stmt" */
static void stmt_table(sg_buf *b, const char *log)
{
    sg_buf n = SG_BUF_INIT;
    sg_buf_printf(&n, "%s_stmt", log);
    sg_pg_control_name(b, sg_buf_str(&n));
    sg_buf_free(&n);
}

/* e.k0[$2::int : $3::int], e.k1[...] */
static void key_slices(sg_buf *b, size_t n_key)
{
    for (size_t k = 0; k < n_key; k++)
        sg_buf_printf(b, "%se.k%zu[$2::int : $3::int]", k ? ", " : "", k);
}

void sg_pg_stmtlog_sql(sg_buf *b, sg_stmtlog what, const char *log, size_t n_key)
{
    switch (what) {
    case SG_STMTLOG_NEXT:
        sg_buf_puts(b, "SELECT id, cardinality(k0) FROM ");
        stmt_table(b, log);
        sg_buf_puts(b, " WHERE id > $1 ORDER BY id LIMIT 1");
        break;
    case SG_STMTLOG_KEYS:
        sg_buf_puts(b, "SELECT u.* FROM ");
        stmt_table(b, log);
        sg_buf_puts(b, " e, unnest(");
        key_slices(b, n_key);
        sg_buf_puts(b, ") u WHERE e.id = $1");
        break;
    case SG_STMTLOG_PENDING:
        sg_buf_puts(b, "SELECT coalesce(sum(cardinality(k0)), 0), min(at), max(at) FROM ");
        stmt_table(b, log);
        break;
    case SG_STMTLOG_DELETE:
    case SG_STMTLOG_FORGET:
        sg_buf_puts(b, "DELETE FROM ");
        stmt_table(b, log);
        sg_buf_puts(b, what == SG_STMTLOG_DELETE ? " WHERE id = $1" : " WHERE id <= $1");
        break;
    case SG_STMTLOG_ANY:
        sg_buf_puts(b, "SELECT 1 FROM ");
        stmt_table(b, log);
        break;
    case SG_STMTLOG_DROP:
        sg_buf_puts(b, "DROP TABLE IF EXISTS ");
        stmt_table(b, log);
        break;
    }
}

int sg_pg_stmtlog_create(sg_conn *c, const sg_capture *cap, const char *const *key_types,
                      sg_err *err)
{
    sg_buf b = SG_BUF_INIT, log = SG_BUF_INIT;
    sg_pg_control_name(&log, cap->log_table);
    sg_buf_puts(&b, "CREATE TABLE IF NOT EXISTS ");
    stmt_table(&b, cap->log_table);
    /* the sequence is looked up per insert (once per statement): no
     * dependency, so the changelog and this table drop in either order */
    sg_buf_puts(&b, " (id bigint PRIMARY KEY DEFAULT nextval(pg_get_serial_sequence(");
    sg_std_quote_literal(&b, sg_buf_str(&log));
    sg_buf_puts(&b, ", 'id')::regclass), at bigint NOT NULL");
    for (size_t k = 0; k < cap->n_keys; k++)
        sg_buf_printf(&b, ", k%zu %s[] NOT NULL", k, key_types[k]);
    sg_buf_puts(&b, ")");
    int rc = sg_pg_exec_locking(c, &b, err);
    sg_buf_free(&log);
    return rc;
}

bool sg_pg_stmtlog_usable(const char *const *key_types, size_t n_key)
{
    /* an array of an array key would be one flat array: per-row entries */
    for (size_t k = 0; k < n_key; k++)
        if (strchr(key_types[k], '['))
            return false;
    return true;
}

void sg_pg_stmtlog_branch(sg_buf *b, const sg_capture *cap, const char *count_from,
                       const char *from)
{
    sg_buf_printf(b, "IF (SELECT count(*) FROM (SELECT FROM %s LIMIT %d) c) >= %d THEN "
                  "INSERT INTO ", count_from, PG_STMTLOG_ROWS, PG_STMTLOG_ROWS);
    stmt_table(b, cap->log_table);
    sg_buf_puts(b, " (at");
    for (size_t k = 0; k < cap->n_keys; k++)
        sg_buf_printf(b, ", k%zu", k);
    sg_buf_puts(b, ") SELECT " PG_NOW_MS);
    for (size_t k = 0; k < cap->n_keys; k++) {
        sg_buf_puts(b, ", array_agg(");
        sg_std_quote_ident(b, cap->keys[k]);
        sg_buf_puts(b, ")");
    }
    sg_buf_printf(b, " FROM %s; RETURN NULL; END IF; ", from);
}
