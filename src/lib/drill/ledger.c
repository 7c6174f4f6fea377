/* The drill's ledger (ledger.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drill/ledger.h"
#include "plan/mapping.h"
#include "state/control.h"

/* One write every WRITE_GAP_NS: about 200 a second. */
#define WRITE_GAP_NS 5000000L
/* A write a guard refuses (the routing moved under it) is asked again. */
#define REFUSED "segue: writes to"

typedef struct ledger_row {
    sg_row key;
    char *before;          /* the value before the drill; NULL: NULL */
    int64_t last;          /* the number of the drill's last value in it; 0: none */
    int last_side;         /* where that write went */
    bool gone;             /* deleted meanwhile (an update found no row) */
} ledger_row;

struct sg_ledger {
    sg_migration *m;       /* read for names only, never its connections */
    const sg_flow *fwd;
    const char *src_col, *tgt_col;
    char label[128];
    int64_t drill_id;
    size_t n_rows;
    ledger_row *rows;
    sg_conn *conn[2];      /* source, target */
    sg_router *router;
    sg_err err;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    atomic_llong made, on_target;
    bool seen_target;      /* a write went to the target */
    int64_t next;          /* numbers of the values written */
    char error[SG_ERRMSG_MAX];
};

static bool texty(const char *decl)
{
    static const char *const kinds[] = { "char", "text", "clob", "string" };
    if (!decl || !*decl)
        return true; /* SQLite: no declared type takes text */
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcasestr(decl, kinds[i]))
            return true;
    return false;
}

/* The column: the named one, or the first text non-key column the target
 * copies as it is. */
static int pick_column(sg_ledger *l, const sg_map *mp, const char *want)
{
    const sg_table_info *t = mp->src;
    for (size_t i = 0; i < t->n_cols; i++) {
        const sg_column_info *c = &t->cols[i];
        if (want ? strcmp(c->name, want) : (c->pk_pos || c->generated || !texty(c->decl_type)))
            continue;
        const char *to = sg_mapping_target_column(l->m, mp, c->name);
        if (!to && want)
            return sg_err_set(&l->m->err, SG_ESTATE, "drill: %s.%s is not copied to the "
                              "target as it is; hint: name a column the mapping copies "
                              "unchanged (--column)", t->name, want);
        if (!to)
            continue;
        l->src_col = c->name;
        l->tgt_col = to;
        snprintf(l->label, sizeof l->label, "%s.%s", t->name, c->name);
        return 0;
    }
    return sg_err_set(&l->m->err, SG_ESTATE, want ? "drill: %s has no column %s"
                      : "drill: %s has no text column outside its key that the target "
                      "copies as it is%s; hint: name one with --column", t->name,
                      want ? want : "");
}

/* "UPDATE t SET col = $1 WHERE k1 = $2 AND ..." on side s, with
 * `AND col = $n+2` when guarded. */
static void update_sql(sg_ledger *l, int s, bool guarded, sg_buf *b)
{
    const sg_conn *c = l->conn[s];
    sg_buf_puts(b, "UPDATE ");
    sg_db_ident(c, b, s ? l->fwd->to_table : l->fwd->from_table);
    sg_buf_puts(b, " SET ");
    sg_db_ident(c, b, s ? l->tgt_col : l->src_col);
    sg_buf_puts(b, " = $1 WHERE ");
    for (size_t k = 0; k < l->fwd->n_key; k++) {
        sg_buf_puts(b, k ? " AND " : "");
        sg_db_ident(c, b, s ? l->fwd->to_key[k] : l->fwd->from_key[k]);
        sg_buf_printf(b, " = $%zu", k + 2);
    }
    if (guarded) {
        sg_buf_puts(b, " AND ");
        sg_db_ident(c, b, s ? l->tgt_col : l->src_col);
        sg_buf_printf(b, " = $%zu", l->fwd->n_key + 2);
    }
}

/* Reads the first rows by key with their values. */
static int pick_rows(sg_ledger *l, int64_t want)
{
    const sg_flow *f = l->fwd;
    sg_conn *c = l->conn[0];
    sg_buf b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_buf_puts(&b, "SELECT ");
    for (size_t k = 0; k < f->n_key; k++) {
        sg_db_ident(c, &b, f->from_key[k]);
        sg_buf_puts(&b, ", ");
    }
    sg_db_ident(c, &b, l->src_col);
    sg_buf_puts(&b, " FROM ");
    sg_db_ident(c, &b, f->from_table);
    if (f->filter)
        sg_buf_printf(&b, " WHERE %s", f->filter);
    sg_buf_puts(&b, " ORDER BY ");
    for (size_t k = 0; k < f->n_key; k++) {
        sg_buf_puts(&b, k ? ", " : "");
        sg_db_ident(c, &b, f->from_key[k]);
    }
    sg_buf_printf(&b, " LIMIT %lld", (long long)want);
    int rc = sg_buf_failed(&b) ? SG_ENOMEM : sg_db_prepare(c, sg_buf_str(&b), &s, &l->m->err);
    int step = 0;
    if (!rc && !(l->rows = calloc((size_t)want, sizeof *l->rows)))
        rc = SG_ENOMEM;
    while (!rc && (step = sg_db_step(s, &l->m->err)) > 0) {
        ledger_row *r = &l->rows[l->n_rows++];
        sg_value v[16], before;
        for (size_t k = 0; k < f->n_key; k++)
            sg_db_column(s, (int)k, &v[k]);
        sg_db_column(s, (int)f->n_key, &before);
        if (sg_row_copy(&r->key, v, f->n_key) ||
            (before.type != SG_V_NULL && !(r->before = strndup(before.p, before.n))))
            rc = SG_ENOMEM;
    }
    sg_db_finalize(s);
    sg_buf_free(&b);
    if (rc == SG_ENOMEM)
        return sg_err_set(&l->m->err, SG_ENOMEM, "out of memory");
    if (!rc && step < 0)
        rc = SG_EDB;
    if (!rc && !l->n_rows)
        rc = sg_err_set(&l->m->err, SG_ESTATE, "drill: %s has no rows to write",
                        f->from_table);
    return rc;
}

int sg_ledger_open(sg_ledger **out, sg_migration *m, const char *column, int64_t rows,
                   int64_t drill_id)
{
    sg_ledger *l = calloc(1, sizeof *l);
    *out = l;
    if (!l)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    l->m = m;
    l->drill_id = drill_id;
    const sg_map *mp = &m->maps[0];
    l->fwd = &mp->fwd;
    if (l->fwd->n_key > 16)
        return sg_err_set(&m->err, SG_ESTATE, "drill: %s has a key of more than 16 "
                          "columns", l->fwd->from_table);
    int rc = pick_column(l, mp, column);
    if (!rc && sg_db_open(&l->conn[0], m->spec->source, "source", 0, &l->err))
        rc = sg_err_set(&m->err, SG_EDB, "drill: %s", l->err.msg);
    if (!rc && sg_db_open(&l->conn[1], m->spec->target, "target", 0, &l->err))
        rc = sg_err_set(&m->err, SG_EDB, "drill: %s", l->err.msg);
    if (!rc)
        rc = pick_rows(l, rows);
    if (!rc && sg_router_open_migration(&l->router, m))
        rc = sg_err_set(&m->err, SG_EDB, "drill: %s", sg_router_errmsg(l->router));
    return rc;
}

const char *sg_ledger_column(const sg_ledger *l)
{
    return l->label;
}

/* Binds row r's key from $first on. */
static int bind_key(sg_ledger *l, sg_stmt *s, const ledger_row *r, int first)
{
    for (size_t k = 0; k < r->key.n; k++)
        if (sg_db_bind(s, first + (int)k, &r->key.v[k], &l->err))
            return SG_EDB;
    return 0;
}

/* One write of the next value to row r on the side that takes writes;
 * a guard's refusal is asked again (1: refused). */
static int write_one(sg_ledger *l, ledger_row *r, sg_buf *sql)
{
    int side = SG_SIDE_SOURCE;
    char value[64];
    sg_stmt *s = NULL;
    if (sg_router_write_side(&side, l->router))
        return sg_err_set(&l->err, SG_EDB, "%s", sg_router_errmsg(l->router));
    /* once the writes came back, a row last written on the target keeps
     * that value: a later write on the source would hide its loss */
    if (side == SG_SIDE_SOURCE && l->seen_target && r->last_side == SG_SIDE_TARGET)
        return 0;
    snprintf(value, sizeof value, "sgd%lld.%lld", (long long)l->drill_id,
             (long long)(l->next + 1));
    sg_buf_reset(sql);
    update_sql(l, side, false, sql);
    int rc = sg_db_prepare(l->conn[side], sg_buf_str(sql), &s, &l->err);
    if (!rc)
        rc = sg_db_bind_text(s, 1, value, &l->err) || bind_key(l, s, r, 2) ? SG_EDB : 0;
    if (!rc)
        rc = sg_db_step(s, &l->err) < 0 ? SG_EDB : 0;
    sg_db_finalize(s);
    if (rc)
        return strstr(l->err.msg, REFUSED) ? 1 : rc;
    if (sg_db_changes(l->conn[side]) == 0) {
        r->gone = true;
        return 0;
    }
    r->last = ++l->next;
    r->last_side = side;
    l->made++;
    if (side == SG_SIDE_TARGET) {
        l->on_target++;
        l->seen_target = true;
    }
    return 0;
}

static void *writing(void *arg)
{
    sg_ledger *l = arg;
    sg_buf sql = SG_BUF_INIT;
    for (size_t i = 0; !l->stop; i = (i + 1) % l->n_rows) {
        int rc = l->rows[i].gone ? 0 : write_one(l, &l->rows[i], &sql);
        if (rc < 0) {
            snprintf(l->error, sizeof l->error, "%s", l->err.msg);
            break;
        }
        struct timespec gap = { 0, WRITE_GAP_NS };
        nanosleep(&gap, NULL);
    }
    sg_buf_free(&sql);
    return NULL;
}

int sg_ledger_start(sg_ledger *l)
{
    l->stop = false;
    if (pthread_create(&l->thread, NULL, writing, l))
        return sg_err_set(&l->m->err, SG_ENOMEM, "drill: cannot start the ledger's writer");
    l->running = true;
    return 0;
}

void sg_ledger_stop(sg_ledger *l)
{
    if (!l || !l->running)
        return;
    l->stop = true;
    pthread_join(l->thread, NULL);
    l->running = false;
}

int64_t sg_ledger_writes(const sg_ledger *l, int64_t *on_target)
{
    if (on_target)
        *on_target = l->on_target;
    return l->made;
}

const char *sg_ledger_error(const sg_ledger *l)
{
    return l->error;
}

/* Text without the trailing blanks a char(n) column pads with. */
static size_t trimmed(const char *p, size_t n)
{
    while (n && p[n - 1] == ' ')
        n--;
    return n;
}

static bool same_text(const sg_value *v, const char *s)
{
    if (v->type == SG_V_NULL || !s)
        return v->type == SG_V_NULL && !s;
    size_t n = trimmed(v->p, v->n);
    return n == trimmed(s, strlen(s)) && !memcmp(v->p, s, n);
}

/* Judges row r from its value v on the source: 1 lost, 2 overwritten. */
static int judge(const sg_ledger *l, const ledger_row *r, const sg_value *v, bool found)
{
    char last[64], mine[32];
    if (!r->last || r->gone)
        return 0;
    if (!found)
        return 2; /* deleted by the application */
    snprintf(last, sizeof last, "sgd%lld.%lld", (long long)l->drill_id, (long long)r->last);
    if (same_text(v, last))
        return 0;
    snprintf(mine, sizeof mine, "sgd%lld.", (long long)l->drill_id);
    bool older = v->type == SG_V_TEXT && v->n > strlen(mine) &&
                 !memcmp(v->p, mine, strlen(mine));
    return older || same_text(v, r->before) ? 1 : 2;
}

int sg_ledger_check(sg_ledger *l, int64_t *lost, int64_t *overwritten, char *first,
                    size_t size)
{
    sg_conn *c = l->conn[0];
    sg_buf sql = SG_BUF_INIT, key = SG_BUF_INIT;
    int rc = 0;
    *lost = *overwritten = 0;
    first[0] = '\0';
    sg_buf_puts(&sql, "SELECT ");
    sg_db_ident(c, &sql, l->src_col);
    sg_buf_puts(&sql, " FROM ");
    sg_db_ident(c, &sql, l->fwd->from_table);
    for (size_t k = 0; k < l->fwd->n_key; k++) {
        sg_buf_puts(&sql, k ? " AND " : " WHERE ");
        sg_db_ident(c, &sql, l->fwd->from_key[k]);
        sg_buf_printf(&sql, " = $%zu", k + 1);
    }
    for (size_t i = 0; i < l->n_rows && !rc; i++) {
        sg_stmt *s = NULL;
        sg_value v = { .type = SG_V_NULL };
        rc = sg_db_prepare(c, sg_buf_str(&sql), &s, &l->m->err);
        if (!rc)
            rc = bind_key(l, s, &l->rows[i], 1);
        int step = rc ? 0 : sg_db_step(s, &l->m->err);
        if (step > 0)
            sg_db_column(s, 0, &v);
        int verdict = step < 0 ? 0 : judge(l, &l->rows[i], &v, step > 0);
        sg_db_finalize(s);
        if (step < 0)
            rc = SG_EDB;
        if (verdict == 2)
            (*overwritten)++;
        if (verdict == 1 && !(*lost)++) {
            sg_buf_reset(&key);
            sg_key_format(&key, l->rows[i].key.v, l->rows[i].key.n);
            snprintf(first, size, "key %s of %s lost its write sgd%lld.%lld",
                     sg_buf_str(&key), l->fwd->from_table, (long long)l->drill_id,
                     (long long)l->rows[i].last);
        }
    }
    sg_buf_free(&sql);
    sg_buf_free(&key);
    return rc;
}

int sg_ledger_restore(sg_ledger *l)
{
    sg_buf sql = SG_BUF_INIT;
    sg_routing rt;
    bool found = false;
    /* the side that takes writes now, read from the control tables: the
     * ledger's router may not have read the rollback yet (serve.refresh) */
    int rc = sg_routing_load(l->m->tgt, l->m->spec->name, &rt, &found, &l->m->err);
    if (rc)
        return rc;
    int side = found ? rt.write_side : SG_SIDE_SOURCE;
    update_sql(l, side, true, &sql);
    for (size_t i = 0; i < l->n_rows && !rc; i++) {
        const ledger_row *r = &l->rows[i];
        char last[64];
        sg_stmt *s = NULL;
        if (!r->last || r->gone)
            continue;
        snprintf(last, sizeof last, "sgd%lld.%lld", (long long)l->drill_id,
                 (long long)r->last);
        sg_value before = r->before ? (sg_value){ .type = SG_V_TEXT, .p = r->before,
                                                   .n = strlen(r->before) }
                                    : (sg_value){ .type = SG_V_NULL };
        rc = sg_db_prepare(l->conn[side], sg_buf_str(&sql), &s, &l->m->err);
        if (!rc)
            rc = sg_db_bind(s, 1, &before, &l->m->err) || bind_key(l, s, r, 2) ||
                 sg_db_bind_text(s, (int)r->key.n + 2, last, &l->m->err) ? SG_EDB : 0;
        if (!rc && sg_db_step(s, &l->m->err) < 0)
            rc = SG_EDB;
        sg_db_finalize(s);
    }
    sg_buf_free(&sql);
    return rc;
}

void sg_ledger_free(sg_ledger *l)
{
    if (!l)
        return;
    sg_ledger_stop(l);
    for (size_t i = 0; i < l->n_rows; i++) {
        sg_row_free(&l->rows[i].key);
        free(l->rows[i].before);
    }
    free(l->rows);
    sg_router_close(l->router);
    sg_db_close(l->conn[0]);
    sg_db_close(l->conn[1]);
    free(l);
}
