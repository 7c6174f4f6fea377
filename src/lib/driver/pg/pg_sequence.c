/* PostgreSQL driver: a sequence a column's default takes numbers from,
 * made in another database, and its value carried across at a write
 * switch. A sequence is named as regclass prints it (quoted and qualified
 * as the search_path needs). */
#include "driver/pg/pg_int.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>

/* The sequence's options as `from` has them, for CREATE SEQUENCE. */
#define PG_SEQUENCE_OPTIONS                                                           \
    "SELECT format('AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s "     \
    "CACHE %s %s', format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, "       \
    "s.seqmax, s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN 'CYCLE' ELSE "      \
    "'NO CYCLE' END) FROM pg_sequence s WHERE s.seqrelid = $1::regclass"

int sg_pg_sequence_copy(sg_conn *from, sg_conn *to, const char *seq, const char *table,
                        const char *column, sg_err *err)
{
    const char *vals[1] = { seq };
    bool exists = false;
    int rc = sg_pg_query_bool(to, "SELECT to_regclass($1) IS NOT NULL", seq, &exists, err);
    PGresult *r = rc || exists ? NULL : sg_pg_query(from, PG_SEQUENCE_OPTIONS, 1, vals, err);
    if (!rc && !exists && (!r || PQntuples(r) != 1))
        rc = r ? sg_err_set(err, SG_EDB, "%s: sequence %s is gone", from->endpoint, seq)
               : SG_EDB;
    sg_buf b = SG_BUF_INIT;
    if (!rc && !exists)
        sg_buf_printf(&b, "CREATE SEQUENCE %s %s; ", seq, PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!rc) {
        sg_buf_printf(&b, "ALTER SEQUENCE %s OWNED BY ", seq);
        sg_std_quote_ident(&b, table);
        sg_buf_putc(&b, '.');
        sg_std_quote_ident(&b, column);
        sg_buf_puts(&b, "; ALTER TABLE ");
        sg_std_quote_ident(&b, table);
        sg_buf_puts(&b, " ALTER COLUMN ");
        sg_std_quote_ident(&b, column);
        sg_buf_puts(&b, " SET DEFAULT nextval(");
        sg_std_quote_literal(&b, seq);
        sg_buf_puts(&b, "::regclass)");
        rc = sg_buf_failed(&b) ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", to->endpoint)
                               : sg_pg_exec(to, sg_buf_str(&b), err);
    }
    sg_buf_free(&b);
    if (rc)
        sg_err_prefix(err, "making sequence %s for %s.%s: ", seq, table, column);
    return rc;
}

int sg_pg_sequence_sync(sg_conn *from, sg_conn *to, const char *seq, sg_err *err)
{
    sg_buf q = SG_BUF_INIT;
    /* a sequence is read outside any snapshot: its last value now */
    sg_buf_printf(&q, "SELECT last_value::text FROM %s WHERE is_called", seq);
    PGresult *r = sg_buf_failed(&q) ? NULL : sg_pg_query(from, sg_buf_str(&q), 0, NULL, err);
    int rc = r ? 0 : sg_buf_failed(&q) ? sg_err_set(err, SG_ENOMEM, "out of memory") : SG_EDB;
    if (!rc && PQntuples(r) == 1) {
        /* never down: the receiving side may have numbers of its own */
        const char *vals[2] = { seq, PQgetvalue(r, 0, 0) };
        sg_buf_reset(&q);
        sg_buf_printf(&q, "SELECT setval($1::regclass, greatest($2::bigint, (SELECT CASE "
                      "WHEN is_called THEN last_value ELSE last_value - 1 END FROM %s)))",
                      seq);
        PGresult *s = sg_buf_failed(&q) ? NULL : sg_pg_query(to, sg_buf_str(&q), 2, vals, err);
        rc = s ? 0 : SG_EDB;
        PQclear(s);
    }
    PQclear(r);
    sg_buf_free(&q);
    if (rc)
        sg_err_prefix(err, "moving sequence %s up: ", seq);
    return rc;
}
