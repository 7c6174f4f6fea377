/* PostgreSQL driver: bulk loads by COPY ... FROM STDIN in text format,
 * rows buffered and sent in blocks. The text format is PostgreSQL's
 * (`COPY` documentation, "Text Format"): tab-separated, \N for NULL,
 * backslash escapes for backslash, tab, newline and carriage return. */
#include "driver/pg/pg_int.h"

#include <math.h>
#include <segue/segue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* bytes buffered before they go to the server */
#define PG_COPY_BLOCK (256 * 1024)

struct sg_bulk {
    sg_conn *conn;
    sg_buf buf;
};

static int send_block(sg_bulk *b, sg_err *err)
{
    pg_conn *q = (pg_conn *)b->conn;
    if (sg_buf_failed(&b->buf))
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", b->conn->endpoint);
    if (b->buf.len && PQputCopyData(q->pg, b->buf.data, (int)b->buf.len) != 1)
        return sg_pg_fail(b->conn, NULL, err);
    sg_buf_reset(&b->buf);
    return 0;
}

/* Bytes 0x09, 0x0a, 0x0d and 0x5c need an escape; anything below 0x0e is
 * only a candidate that the byte loop settles. */
static bool special(unsigned char c)
{
    return c == '\\' || c == '\t' || c == '\n' || c == '\r';
}

/* Length of the prefix of p[0..n) that holds no byte that may need an
 * escape, 8 bytes at a time: a word has a byte below 0x0e, or a byte equal
 * to 0x5c, by the "has less than" and "has zero byte" tricks of Sean Eron
 * Anderson's Bit Twiddling Hacks. */
static size_t plain_run(const unsigned char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    while (i + 8 <= n) {
        uint64_t x, bs;
        memcpy(&x, p + i, 8);
        bs = x ^ (ones * 0x5c);
        if (((x - ones * 0x0e) & ~x & highs) | ((bs - ones) & ~bs & highs))
            for (size_t j = i; j < i + 8; j++)
                if (special(p[j]))
                    return j;
        i += 8;
    }
    while (i < n && !special(p[i]))
        i++;
    return i;
}

/* Appends text escaped for COPY: runs without a special byte in one piece. */
static void put_escaped(sg_buf *o, const unsigned char *p, size_t n)
{
    static const char esc[] = { ['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r' };
    size_t i = 0;
    while (i < n) {
        size_t run = plain_run(p + i, n - i);
        sg_buf_putn(o, p + i, run);
        i += run;
        if (i < n) {
            char two[2] = { '\\', esc[p[i]] };
            sg_buf_putn(o, two, 2);
            i++;
        }
    }
}

/* int64 in decimal without printf, which dominated a copy's profile */
static void put_int(sg_buf *o, int64_t x)
{
    char tmp[24];
    int n = 0;
    uint64_t u = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (x < 0)
        tmp[n++] = '-';
    char out[24];
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    sg_buf_putn(o, out, (size_t)n);
}

static int put_value(sg_bulk *b, const sg_value *v, sg_err *err)
{
    static const char hex[] = "0123456789abcdef";
    sg_buf *o = &b->buf;
    const unsigned char *p = v->p;
    switch (v->type) {
    case SG_V_NULL: sg_buf_puts(o, "\\N"); return 0;
    case SG_V_INT: put_int(o, v->i); return 0;
    case SG_V_BOOL: sg_buf_puts(o, v->i ? "t" : "f"); return 0;
    case SG_V_REAL:
        if (isnan(v->d))
            sg_buf_puts(o, "NaN");
        else if (isinf(v->d))
            sg_buf_puts(o, v->d > 0 ? "Infinity" : "-Infinity");
        else
            sg_buf_printf(o, "%.17g", v->d);
        return 0;
    case SG_V_BLOB: /* bytea hex input, its backslash escaped for COPY */
        sg_buf_puts(o, "\\\\x");
        for (size_t i = 0; i < v->n; i++) {
            sg_buf_putc(o, hex[p[i] >> 4]);
            sg_buf_putc(o, hex[p[i] & 15]);
        }
        return 0;
    default:
        if (v->n && memchr(p, 0, v->n))
            return sg_err_set(err, SG_EINVAL, "%s: a text value holds a NUL byte, "
                              "which PostgreSQL text cannot store", b->conn->endpoint);
        put_escaped(o, p, v->n);
        return 0;
    }
}

int sg_pg_bulk_begin(sg_conn *c, const char *table, size_t n, const char *const *cols,
                  sg_bulk **out, sg_err *err)
{
    sg_buf q = SG_BUF_INIT;
    *out = NULL;
    sg_buf_puts(&q, "COPY ");
    sg_std_quote_ident(&q, table);
    sg_buf_puts(&q, " (");
    for (size_t i = 0; i < n; i++) {
        sg_buf_puts(&q, i ? ", " : "");
        sg_std_quote_ident(&q, cols[i]);
    }
    sg_buf_puts(&q, ") FROM STDIN");
    sg_bulk *b = calloc(1, sizeof *b);
    if (!b || sg_buf_failed(&q)) {
        free(b);
        sg_buf_free(&q);
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
    }
    PGresult *r = PQexec(sg_pg_idle(c), sg_buf_str(&q));
    sg_buf_free(&q);
    int rc = PQresultStatus(r) == PGRES_COPY_IN ? 0 : sg_pg_fail(c, r, err);
    PQclear(r);
    if (rc) {
        free(b);
        return rc;
    }
    b->conn = c;
    sg_buf_init(&b->buf);
    *out = b;
    return 0;
}

int sg_pg_bulk_row(sg_bulk *b, const sg_value *v, size_t n, sg_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sg_buf_putc(&b->buf, '\t');
        int rc = put_value(b, &v[i], err);
        if (rc)
            return rc;
    }
    sg_buf_putc(&b->buf, '\n');
    return b->buf.len >= PG_COPY_BLOCK ? send_block(b, err) : 0;
}

int sg_pg_bulk_end(sg_bulk *b, bool ok, int64_t *rows, sg_err *err)
{
    pg_conn *q = (pg_conn *)b->conn;
    int rc = ok ? send_block(b, err) : 0;
    if (PQputCopyEnd(q->pg, ok && !rc ? NULL : "abandoned by segue") != 1 && !rc)
        rc = sg_pg_fail(b->conn, NULL, err);
    PGresult *r;
    while ((r = PQgetResult(q->pg)) != NULL) {
        if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            const char *t = PQcmdTuples(r);
            *rows = *t ? strtoll(t, NULL, 10) : 0;
        } else if (!rc && ok) {
            rc = sg_pg_fail(b->conn, r, err);
        }
        PQclear(r);
    }
    sg_buf_free(&b->buf);
    free(b);
    return rc;
}
