/* Shadow reads from inside an application (segue/shadow.h): a pair of
 * queries written for each side, one key's row through its mapping, and
 * the sampling that keeps one user always or never shadowed. */
#include <segue/shadow.h>

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "check/shadow_int.h"
#include "check/sqlparse.h"
#include "move/flow.h"
#include "state/control.h"

static int bad(sg_migration *m, const char *fn)
{
    return m ? sg_err_set(&m->err, SG_EINVAL, "%s: a NULL argument", fn) : SG_EINVAL;
}

static int skipped(sg_shadow_result *out, const char *why)
{
    out->kind = SG_SHADOW_SKIPPED;
    out->detail = strdup(why);
    return out->detail ? 0 : SG_ENOMEM;
}

/* Whether sql reads only (why into buf when not); its fingerprint and
 * ORDER BY when fp is given. */
static bool is_read(const char *sql, char *buf, size_t size, char *fp, bool *ordered)
{
    sg_sqlparse q;
    sg_err e = { 0 };
    bool ok = sg_sqlparse_read(sql, &q, &e) == 0 && q.read_only;
    if (!ok)
        snprintf(buf, size, "%s", e.code ? e.msg : q.why ? q.why : "not a read");
    if (ok && fp) {
        memcpy(fp, q.fingerprint, sizeof q.fingerprint);
        *ordered = q.ordered;
    }
    sg_sqlparse_free(&q);
    return ok;
}

int sg_shadow_pair(sg_shadow_result *out, sg_migration *m, const char *old_sql,
                   const char *new_sql, size_t n_params, const char *const *params)
{
    if (!out || !m || !old_sql || !new_sql || (n_params && !params))
        return bad(m, "sg_shadow_pair");
    memset(out, 0, sizeof *out);
    sg_err_clear(&m->err);
    char why[SG_ERRMSG_MAX + 32];
    bool ordered = false;
    if (!is_read(old_sql, why, sizeof why, out->fingerprint, &ordered) ||
        !is_read(new_sql, why, sizeof why, NULL, NULL))
        return skipped(out, why) ? sg_err_set(&m->err, SG_ENOMEM, "out of memory") : 0;
    return sg_shadow_compare(m, old_sql, new_sql, n_params, params, ordered, out);
}

static void key_where(sg_conn *c, sg_buf *b, size_t n, char *const *cols)
{
    sg_buf_puts(b, " WHERE ");
    for (size_t i = 0; i < n; i++) {
        sg_buf_puts(b, i ? " AND " : "");
        sg_db_ident(c, b, cols[i]);
        sg_buf_puts(b, " = ");
        sg_db_param(c, b, (int)i + 1);
    }
}

int sg_shadow_key(sg_shadow_result *out, sg_migration *m, const char *table, size_t n_key,
                  const char *const *key)
{
    if (!out || !m || !table || !key || !n_key)
        return bad(m, "sg_shadow_key");
    memset(out, 0, sizeof *out);
    sg_err_clear(&m->err);
    const sg_map *mp = NULL;
    size_t map = 0;
    for (size_t i = 0; i < m->n_maps && !mp; i++)
        if (sg_db_same_name(m->src, m->maps[i].fwd.from_table, table))
            mp = &m->maps[map = i];
    if (!mp)
        return sg_err_set(&m->err, SG_EINVAL, "sg_shadow_key: no mapping moves table '%s'",
                          table);
    const sg_flow *f = &mp->fwd;
    if (n_key != f->n_key)
        return sg_err_set(&m->err, SG_EINVAL, "sg_shadow_key: %s has %zu key columns, %zu "
                          "values given", mp->label, f->n_key, n_key);
    /* the mapped source row against the target row */
    sg_buf s = SG_BUF_INIT, t = SG_BUF_INIT;
    sg_buf_puts(&s, "SELECT ");
    for (size_t i = 0; i < f->n_cols; i++)
        sg_buf_printf(&s, "%s(%s)", i ? ", " : "", f->exprs[i]);
    sg_buf_puts(&s, " FROM ");
    sg_db_ident(f->from, &s, f->from_table);
    key_where(f->from, &s, f->n_key, f->from_key);
    if (f->filter)
        sg_buf_printf(&s, " AND (%s)", f->filter);
    sg_buf_puts(&t, "SELECT ");
    sg_sql_ident_list(f->to, &t, f->n_cols, f->to_cols, NULL);
    sg_buf_puts(&t, " FROM ");
    sg_db_ident(f->to, &t, f->to_table);
    key_where(f->to, &t, f->n_key, f->to_key);
    XXH64_hash_t h = XXH3_64bits(mp->label, strlen(mp->label));
    snprintf(out->fingerprint, sizeof out->fingerprint, "%016llx", (unsigned long long)h);
    int rc = sg_buf_failed(&s) || sg_buf_failed(&t)
                 ? sg_err_set(&m->err, SG_ENOMEM, "out of memory")
                 : sg_shadow_compare_kept(m, map, sg_buf_str(&s), sg_buf_str(&t), n_key, key,
                                          out);
    sg_buf_free(&s);
    sg_buf_free(&t);
    return rc;
}

int sg_shadow_sampled(bool *yes, sg_migration *m, const void *key, size_t key_len, double pct)
{
    if (!yes || !m || (!key && key_len))
        return bad(m, "sg_shadow_sampled");
    *yes = false;
    if (!m->route_salt[0]) { /* the salt never changes: read once */
        sg_routing r;
        bool found = false;
        int rc = sg_routing_load(m->tgt, m->spec->name, &r, &found, &m->err);
        if (rc)
            return rc;
        if (!found)
            return sg_err_set(&m->err, SG_ESTATE, "sg_shadow_sampled: migration '%s' is not "
                              "started; hint: segue start", m->spec->name);
        snprintf(m->route_salt, sizeof m->route_salt, "%s", r.salt);
    }
    *yes = sg_route_reads_target(sg_route_bucket(m->route_salt, key, key_len), pct);
    return 0;
}
