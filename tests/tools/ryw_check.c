/* Test tool: read-your-writes as an application sees it. Each iteration
 * writes a new value to one row of the source, asks the C API's router
 * where a read of that row goes (sg_router_read_side_row), reads the row
 * there and checks it holds the value just written. Also reads the target
 * whenever the router said source, to count the reads the per-key lookup
 * saved from a stale answer.
 *
 *   ryw_check SPEC SRC_URI SRC_TABLE TGT_URI TGT_TABLE KEY_COLUMN COLUMN KEYS ITERS
 *
 * Rows 1..KEYS (an integer key) are written, the text column COLUMN set;
 * each iteration reads the row it wrote and one written KEYS/2 iterations
 * before (which the apply may have brought to the target meanwhile).
 * Prints one JSON line: {"reads", "to_source", "stale", "saved"}; exits 1
 * when a read returned another value than the one just written, 2 on an
 * error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <segue/segue.h>

#include "driver/driver.h"
#include "driver/sql_std.h"
#include "tool_router.h"

typedef struct side {
    sg_conn *c;
    char *write;   /* UPDATE table SET column = $1 WHERE key = $2 */
    char *read;    /* SELECT column FROM table WHERE key = $1 */
} side;

/* " WHERE key = $n" */
static void where_key(sg_buf *b, const sg_conn *c, const char *key, int n)
{
    sg_buf_puts(b, " WHERE ");
    sg_std_quote_ident(b, key);
    sg_buf_puts(b, " = ");
    sg_db_param(c, b, n);
}

static int side_open(side *s, const char *uri, const char *table, const char *key,
                     const char *col, sg_err *e)
{
    int rc = sg_db_open(&s->c, uri, "tool", 0, e);
    if (rc)
        return rc;
    sg_buf b = SG_BUF_INIT;
    sg_buf_puts(&b, "UPDATE ");
    sg_std_quote_ident(&b, table);
    sg_buf_puts(&b, " SET ");
    sg_std_quote_ident(&b, col);
    sg_buf_puts(&b, " = ");
    sg_db_param(s->c, &b, 1);
    where_key(&b, s->c, key, 2);
    s->write = sg_buf_take(&b);
    sg_buf_puts(&b, "SELECT ");
    sg_std_quote_ident(&b, col);
    sg_buf_puts(&b, " FROM ");
    sg_std_quote_ident(&b, table);
    where_key(&b, s->c, key, 1);
    s->read = sg_buf_take(&b);
    return !s->write || !s->read ? SG_ENOMEM : 0;
}

static void side_close(side *s)
{
    sg_db_close(s->c);
    free(s->write);
    free(s->read);
}

static int write_row(side *s, int64_t key, const char *value, sg_err *e)
{
    sg_stmt *st = NULL;
    int rc = sg_db_prepare(s->c, s->write, &st, e);
    if (!rc && !(rc = sg_db_bind_text(st, 1, value, e)) &&
        !(rc = sg_db_bind_int(st, 2, key, e)) && (rc = sg_db_step(st, e)) > 0)
        rc = 0;
    sg_db_finalize(st);
    return rc;
}

/* *same: the row's column holds `value` */
static int read_row(side *s, int64_t key, const char *value, bool *same, sg_err *e)
{
    sg_stmt *st = NULL;
    sg_value v;
    *same = false;
    int rc = sg_db_prepare(s->c, s->read, &st, e);
    if (!rc && !(rc = sg_db_bind_int(st, 1, key, e)) && (rc = sg_db_step(st, e)) == 1) {
        sg_db_column(st, 0, &v);
        *same = v.n == strlen(value) && v.p && !memcmp(v.p, value, v.n);
        rc = 0;
    }
    sg_db_finalize(st);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: ryw_check SPEC SRC_URI SRC_TABLE TGT_URI TGT_TABLE "
                "KEY_COLUMN COLUMN KEYS ITERS\n");
        return 2;
    }
    long keys = strtol(argv[8], NULL, 10), iters = strtol(argv[9], NULL, 10);
    sg_migration *m = NULL;
    sg_router *r = NULL;
    side src = { 0 }, tgt = { 0 };
    sg_err e = { 0 };
    long reads = 0, to_source = 0, stale = 0, saved = 0;
    int rc = keys < 1 || iters < 1 ? SG_EINVAL : tool_open_router("ryw_check", argv[1], &m, &r);
    if (!rc)
        rc = side_open(&src, argv[2], argv[3], argv[6], argv[7], &e);
    if (!rc)
        rc = side_open(&tgt, argv[4], argv[5], argv[6], argv[7], &e);
    char (*last)[64] = rc ? NULL : calloc((size_t)keys, sizeof *last);
    rc = rc ? rc : last ? 0 : SG_ENOMEM;
    for (long i = 0; i < iters && !rc; i++) {
        int64_t key = 1 + (i * 7919) % keys;
        snprintf(last[key - 1], sizeof last[key - 1], "ryw.%ld.%ld", (long)getpid(), i);
        if ((rc = write_row(&src, key, last[key - 1], &e)))
            break;
        /* the row just written, then one written a while ago (the apply
         * may have brought it to the target) */
        int64_t olds[2] = { key, 1 + ((i + keys / 2) * 7919) % keys };
        for (int k = 0; k < 2 && !rc; k++) {
            int64_t at = olds[k];
            if (!last[at - 1][0])
                continue;
            char text[32], route[40];
            snprintf(text, sizeof text, "%lld", (long long)at);
            snprintf(route, sizeof route, "user-%lld", (long long)at);
            const char *kv[1] = { text };
            sg_route_row row = { argv[3], 1, kv };
            int where;
            bool same, fresh_target;
            if ((rc = sg_router_read_side_row(&where, r, route, strlen(route), NULL, 0, &row))) {
                snprintf(e.msg, sizeof e.msg, "%s", sg_router_errmsg(r));
                break;
            }
            reads++;
            if (where == SG_SIDE_SOURCE) {
                to_source++;
                if ((rc = read_row(&tgt, at, last[at - 1], &fresh_target, &e)))
                    break;
                saved += !fresh_target;
            }
            if ((rc = read_row(where == SG_SIDE_TARGET ? &tgt : &src, at, last[at - 1],
                               &same, &e)))
                break;
            if (!same) {
                stale++;
                fprintf(stderr, "ryw_check: row %lld read from the %s lacks its write %s\n",
                        (long long)at, where == SG_SIDE_TARGET ? "target" : "source",
                        last[at - 1]);
            }
        }
    }
    free(last);
    if (rc)
        fprintf(stderr, "ryw_check: %s\n", e.msg[0] ? e.msg : "cannot open");
    else
        printf("{\"reads\":%ld,\"to_source\":%ld,\"stale\":%ld,\"saved\":%ld}\n", reads,
               to_source, stale, saved);
    side_close(&src);
    side_close(&tgt);
    sg_router_close(r);
    sg_migration_close(m);
    return rc ? 2 : stale ? 1 : 0;
}
