/* SQLite driver: the keys SQLite numbers itself. A rowid table's sole
 * primary key column declared INTEGER is the rowid, and an insert that
 * leaves it out gets the greatest value plus one (with AUTOINCREMENT, above
 * the greatest ever given too, kept in sqlite_sequence). */
#include "driver/sqlite/sqlite_int.h"

#include <segue/segue.h>
#include <string.h>
#include <strings.h>

/* Whether the statement's one row has a non-NULL first value (into *v). */
static int one_int(sqlite3 *db, const char *sql, const char *arg, int64_t *v, bool *found)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    if (arg)
        sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
    *found = false;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(s, 0) != SQLITE_NULL;
        *v = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

int sg_sq_mark_rowid(sqlite3 *db, sg_table_info *t)
{
    if (t->n_pk != 1 || strcasecmp(t->cols[t->pk[0]].decl_type, "INTEGER") != 0)
        return SQLITE_OK;
    /* a rowid table (not WITHOUT ROWID) whose key has no index of its own:
     * the key is the rowid (INTEGER PRIMARY KEY DESC is not, and has one) */
    int64_t v = 0;
    bool rowid = false, indexed = false;
    int rc = one_int(db, "SELECT 1 FROM pragma_table_list(?1) WHERE wr = 0 AND "
                     "schema = 'main'", t->name, &v, &rowid);
    if (rc == SQLITE_OK)
        rc = one_int(db, "SELECT 1 FROM pragma_index_list(?1) WHERE origin = 'pk'",
                     t->name, &v, &indexed);
    if (rc == SQLITE_OK && rowid && !indexed) {
        t->cols[t->pk[0]].numbered = 'd';
        t->cols[t->pk[0]].has_default = true;
    }
    return rc;
}

const char *sg_sq_numbered_column(const char *type, bool always, bool sole_key,
                                  sg_buf *clause)
{
    (void)type;
    (void)always; /* SQLite takes any value given */
    (void)clause;
    return sole_key ? "INTEGER" : NULL;
}

/* The AUTOINCREMENT record of table (*found false without one). */
static int autoincrement(sqlite3 *db, const char *table, int64_t *seq, bool *found)
{
    int64_t v = 0;
    bool exists = false;
    int rc = one_int(db, "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'", NULL,
                     &v, &exists);
    *found = false;
    if (rc == SQLITE_OK && exists)
        rc = one_int(db, "SELECT seq FROM sqlite_sequence WHERE name = ?1", table, seq, found);
    return rc;
}

int sg_sq_numbering_last(sg_conn *c, const char *table, const char *column, int64_t *last,
                         bool *known, sg_err *err)
{
    sqlite3 *db = ((sq_conn *)c)->db;
    sg_buf q = SG_BUF_INIT;
    sg_buf_puts(&q, "SELECT max(");
    sg_std_quote_ident(&q, column);
    sg_buf_puts(&q, ") FROM ");
    sg_std_quote_ident(&q, table);
    if (sg_buf_failed(&q))
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
    int64_t seq = 0;
    bool has_seq = false;
    int rc = one_int(db, sg_buf_str(&q), NULL, last, known);
    if (rc == SQLITE_OK)
        rc = autoincrement(db, table, &seq, &has_seq);
    if (rc == SQLITE_OK && has_seq && (!*known || seq > *last)) {
        *last = seq;
        *known = true;
    }
    sg_buf_free(&q);
    return rc == SQLITE_OK ? 0 : sg_sq_fail(c, err);
}

int sg_sq_numbering_raise(sg_conn *c, const char *table, const char *column, int64_t floor,
                          sg_err *err)
{
    (void)column; /* numbered from the greatest value already */
    sqlite3 *db = ((sq_conn *)c)->db;
    int64_t seq = 0;
    bool has_seq = false;
    int rc = autoincrement(db, table, &seq, &has_seq);
    if (rc == SQLITE_OK && has_seq && seq < floor) {
        sqlite3_stmt *s = NULL;
        rc = sqlite3_prepare_v2(db, "UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1",
                                -1, &s, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, floor);
            rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
        sqlite3_finalize(s);
    }
    return rc == SQLITE_OK ? 0 : sg_sq_fail(c, err);
}
