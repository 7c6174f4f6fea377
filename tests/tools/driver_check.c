/* Test tool: the statement contract every driver keeps, run against a real
 * database given by URI (a SQLite file, a PostgreSQL server):
 *
 *   driver_check URI
 *
 * Creates a scratch table, writes awkward values through bound parameters,
 * reads them back through the value model, and checks transactions, change
 * counts, abandoned result sets and error messages. Prints one line per
 * failed check and exits 1 if any failed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <segue/segue.h>

#include "driver/driver.h"

static int failures;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                    \
            printf(__VA_ARGS__);                                           \
            printf("\n");                                                  \
        }                                                                  \
    } while (0)

static const sg_value sample[][5] = {
    { { .type = SG_V_INT, .i = 1 }, { .type = SG_V_INT, .i = INT64_MIN },
      { .type = SG_V_REAL, .d = 0.1 }, { .type = SG_V_TEXT, .p = "caf\xc3\xa9 \xf0\x9f\x98\x80 '\"", .n = 13 },
      { .type = SG_V_BLOB, .p = "\0\1\2\377", .n = 4 } },
    { { .type = SG_V_INT, .i = 2 }, { .type = SG_V_INT, .i = INT64_MAX },
      { .type = SG_V_REAL, .d = -1.7976931348623157e308 }, { .type = SG_V_TEXT, .p = "", .n = 0 },
      { .type = SG_V_BLOB, .p = "", .n = 0 } },
    { { .type = SG_V_INT, .i = 3 }, { .type = SG_V_NULL }, { .type = SG_V_NULL },
      { .type = SG_V_NULL }, { .type = SG_V_NULL } },
};
enum { N_ROWS = sizeof sample / sizeof sample[0] };

static int exec(sg_conn *c, const char *sql, sg_err *e)
{
    int rc = sg_db_exec(c, sql, e);
    CHECK(rc == 0, "%s: %s", sql, e->msg);
    return rc;
}

static void create_table(sg_conn *c, sg_err *e)
{
    const sg_driver *d = c->drv;
    char sql[512];
    sg_db_exec(c, "DROP TABLE IF EXISTS sg_check", e);
    snprintf(sql, sizeof sql, "CREATE TABLE sg_check (id %s PRIMARY KEY, i %s, d %s, "
             "t %s, b %s)", d->type_name(SG_V_INT), d->type_name(SG_V_INT),
             d->type_name(SG_V_REAL), d->type_name(SG_V_TEXT), d->type_name(SG_V_BLOB));
    exec(c, sql, e);
}

static void insert_rows(sg_conn *c, sg_err *e)
{
    sg_buf q = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_buf_puts(&q, "INSERT INTO sg_check (id, i, d, t, b) VALUES (");
    for (int i = 1; i <= 5; i++) {
        sg_buf_puts(&q, i > 1 ? ", " : "");
        sg_db_param(c, &q, i);
    }
    sg_buf_puts(&q, ")");
    int rc = sg_db_prepare(c, sg_buf_str(&q), &s, e);
    CHECK(rc == 0, "prepare insert: %s", e->msg);
    for (size_t r = 0; r < N_ROWS && !rc; r++) {
        for (int i = 0; i < 5 && !rc; i++)
            rc = sg_db_bind(s, i + 1, &sample[r][i], e);
        CHECK(rc == 0 && sg_db_step(s, e) == 0, "insert row %zu: %s", r, e->msg);
        CHECK(sg_db_changes(c) == 1, "changes after one insert: %lld",
              (long long)sg_db_changes(c));
        sg_db_reset(s);
    }
    sg_db_finalize(s);
    sg_buf_free(&q);
}

static void read_back(sg_conn *c, sg_err *e)
{
    sg_stmt *s = NULL;
    int rc = sg_db_prepare(c, "SELECT id, i, d, t, b FROM sg_check ORDER BY id", &s, e);
    size_t r = 0;
    CHECK(rc == 0, "prepare select: %s", e->msg);
    while (!rc && sg_db_step(s, e) == 1) {
        CHECK(r < N_ROWS, "more rows than written");
        for (int i = 0; i < 5 && r < N_ROWS; i++) {
            sg_value v;
            sg_db_column(s, i, &v);
            CHECK(sg_value_cmp(&v, &sample[r][i]) == 0 && v.type == sample[r][i].type,
                  "row %zu column %d read back as type %d", r, i, (int)v.type);
        }
        r++;
    }
    CHECK(r == N_ROWS, "read %zu rows, wrote %d", r, N_ROWS);
    sg_db_finalize(s);
}

/* A result set abandoned half-way leaves the connection usable. */
static void abandon_and_reuse(sg_conn *c, sg_err *e)
{
    sg_stmt *s = NULL;
    int64_t n = -1;
    if (sg_db_prepare(c, "SELECT id FROM sg_check ORDER BY id", &s, e) == 0) {
        CHECK(sg_db_step(s, e) == 1, "first row: %s", e->msg);
        sg_db_reset(s);
        CHECK(sg_db_step(s, e) == 1, "first row after reset: %s", e->msg);
        sg_db_finalize(s);
    }
    CHECK(sg_db_query_int(c, "SELECT count(*) FROM sg_check", 0, &n, e) == 0 && n == N_ROWS,
          "count after abandoning a result: %lld (%s)", (long long)n, e->msg);
}

static void transactions(sg_conn *c, sg_err *e)
{
    int64_t n = -1;
    CHECK(sg_db_begin(c, true, e) == 0, "begin: %s", e->msg);
    exec(c, "DELETE FROM sg_check", e);
    CHECK(sg_db_changes(c) == N_ROWS, "changes after delete: %lld", (long long)sg_db_changes(c));
    sg_db_rollback(c);
    sg_db_query_int(c, "SELECT count(*) FROM sg_check", 0, &n, e);
    CHECK(n == N_ROWS, "rollback kept %lld rows", (long long)n);
    CHECK(sg_db_begin(c, true, e) == 0, "begin: %s", e->msg);
    exec(c, "DELETE FROM sg_check WHERE id = 3", e);
    CHECK(sg_db_commit(c, e) == 0, "commit: %s", e->msg);
    sg_db_query_int(c, "SELECT count(*) FROM sg_check", 0, &n, e);
    CHECK(n == N_ROWS - 1, "commit left %lld rows", (long long)n);
}

/* A NUL inside text is stored whole or refused with a message, never cut. */
static void text_with_nul(sg_conn *c, sg_err *e)
{
    sg_buf q = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_value v = { .type = SG_V_TEXT, .p = "a\0b", .n = 3 };
    int64_t n = -1;
    sg_buf_puts(&q, "INSERT INTO sg_check (id, t) VALUES (10, ");
    sg_db_param(c, &q, 1);
    sg_buf_puts(&q, ")");
    int rc = sg_db_prepare(c, sg_buf_str(&q), &s, e);
    if (!rc && (rc = sg_db_bind(s, 1, &v, e)) == 0)
        rc = sg_db_step(s, e);
    sg_db_finalize(s);
    sg_buf_free(&q);
    if (rc == 0) {
        sg_db_query_int(c, "SELECT length(CAST(t AS BLOB)) FROM sg_check WHERE id = 10", -1, &n, e);
        CHECK(n == 3, "text with a NUL stored as %lld bytes", (long long)n);
    } else {
        CHECK(strstr(e->msg, "NUL") != NULL, "refusal does not say why: %s", e->msg);
    }
    sg_db_exec(c, "DELETE FROM sg_check WHERE id = 10", e);
}

/* Text through the driver's bulk loader, where it has one: each byte that
 * COPY must escape (and bytes the escape scan only suspects), at every
 * position of a word and past it, reads back byte for byte. */
enum { BULK_LEN = 21 };
static const char bulk_bytes[] = "\t\n\r\\\001\013\016\177";

static void bulk_text(int r, char *t)
{
    memset(t, 'x', BULK_LEN);
    t[r % BULK_LEN] = bulk_bytes[r / BULK_LEN];
}

static void bulk_escapes(sg_conn *c, sg_err *e)
{
    const char *cols[] = { "id", "t" };
    const int n = BULK_LEN * (int)(sizeof bulk_bytes - 1);
    sg_bulk *b = NULL;
    sg_stmt *s = NULL;
    int64_t loaded = -1;
    char t[BULK_LEN];
    if (!c->drv->bulk_begin)
        return;
    sg_db_exec(c, "DELETE FROM sg_check", e);
    int rc = c->drv->bulk_begin(c, "sg_check", 2, cols, &b, e);
    CHECK(rc == 0, "bulk begin: %s", e->msg);
    for (int r = 0; r < n && !rc; r++) {
        bulk_text(r, t);
        sg_value v[2] = { { .type = SG_V_INT, .i = r }, { .type = SG_V_TEXT, .p = t, .n = BULK_LEN } };
        rc = c->drv->bulk_row(b, v, 2, e);
    }
    if (b)
        CHECK(c->drv->bulk_end(b, rc == 0, &loaded, e) == 0 && loaded == n,
              "bulk loaded %lld of %d rows: %s", (long long)loaded, n, e->msg);
    int r = 0;
    rc = sg_db_prepare(c, "SELECT id, t FROM sg_check ORDER BY id", &s, e);
    for (; !rc && sg_db_step(s, e) == 1; r++) {
        sg_value v;
        bulk_text(r, t);
        sg_db_column(s, 1, &v);
        CHECK(sg_db_column_int(s, 0) == r && v.n == BULK_LEN && memcmp(v.p, t, BULK_LEN) == 0,
              "bulk row %d read back as %.*s", r, (int)v.n, (const char *)v.p);
    }
    CHECK(r == n, "read %d rows after a bulk load of %d", r, n);
    sg_db_finalize(s);
    sg_db_exec(c, "DELETE FROM sg_check", e);
}

static void errors(sg_conn *c, sg_err *e)
{
    sg_stmt *s = NULL;
    int rc = sg_db_prepare(c, "SELECT no_such_column FROM sg_check", &s, e);
    CHECK(rc == SG_EDB && s == NULL, "prepare of a bad column: rc %d", rc);
    CHECK(strstr(e->msg, "target:") == e->msg, "error names the endpoint: %s", e->msg);
    CHECK(strstr(e->msg, "no_such_column") != NULL, "error says what: %s", e->msg);
    /* the connection still works after the error */
    int64_t n = -1;
    CHECK(sg_db_query_int(c, "SELECT 7", 0, &n, e) == 0 && n == 7, "after an error: %s", e->msg);
}

int main(int argc, char **argv)
{
    sg_conn *c = NULL;
    sg_err e = { 0 };
    if (argc != 2) {
        fprintf(stderr, "usage: driver_check URI\n");
        return 2;
    }
    if (sg_db_open(&c, argv[1], "target", SG_DB_CREATE, &e) != 0) {
        printf("FAIL open: %s\n", e.msg);
        return 1;
    }
    create_table(c, &e);
    insert_rows(c, &e);
    read_back(c, &e);
    abandon_and_reuse(c, &e);
    transactions(c, &e);
    text_with_nul(c, &e);
    errors(c, &e);
    bulk_escapes(c, &e);
    sg_db_exec(c, "DROP TABLE sg_check", &e);
    sg_db_close(c);
    printf("driver_check: %d failed\n", failures);
    return failures ? 1 : 0;
}
