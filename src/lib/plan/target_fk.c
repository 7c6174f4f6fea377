/* foreign_keys: true: the source's foreign keys among the tables a
 * migration moves, in the target's names. Where the engine can add one to
 * a table that exists (PostgreSQL) it is added at the write cutover, NOT
 * VALID (the rows were copied from a source that holds it; only new writes
 * are checked), and dropped at a rollback, because changes are applied key
 * by key and a child's can come before its parent's while segue writes the
 * target. Elsewhere (SQLite) it goes into the CREATE TABLE, which SQLite
 * enforces only on connections that turn foreign_keys on, which segue's do
 * not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "move/flow.h"
#include "plan/mapping.h"

static int oom(sg_migration *m)
{
    return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
}

const char *sg_mapping_target_column(const sg_migration *m, const sg_map *mp, const char *col)
{
    int k = sg_table_info_column(m->src, mp->src, col);
    for (size_t i = 0; k >= 0 && i < mp->fwd.n_cols; i++)
        if (sg_mapping_plain_ref(m->src, mp->src, mp->fwd.exprs[i]) == k)
            return mp->fwd.to_cols[i];
    return NULL;
}

const sg_map *sg_mapping_of_source(const sg_migration *m, const char *table)
{
    for (size_t i = 0; i < m->n_maps; i++)
        if (sg_db_same_name(m->src, m->maps[i].fwd.from_table, table))
            return &m->maps[i];
    return NULL;
}

/* Source key f of mp in the target's names into *out (zeroed first); 0,
 * 1 with why when it cannot be carried, or an error. */
static int carry(sg_migration *m, const sg_map *mp, const sg_fk_info *f, sg_fk_info *out,
                 char *why, size_t size)
{
    const sg_map *mq = sg_mapping_of_source(m, f->ref_table);
    memset(out, 0, sizeof *out);
    if (!mq) {
        snprintf(why, size, "it references %s, which this migration does not move",
                 f->ref_table);
        return 1;
    }
    if (f->n != mq->fwd.n_key) {
        snprintf(why, size, "it references columns of %s other than its key", f->ref_table);
        return 1;
    }
    sg_buf name = SG_BUF_INIT;
    out->n = f->n;
    out->cols = calloc(f->n, sizeof *out->cols);
    out->ref_cols = calloc(f->n, sizeof *out->ref_cols);
    out->ref_table = strdup(mq->fwd.to_table);
    if (!out->cols || !out->ref_cols || !out->ref_table)
        return oom(m);
    sg_buf_printf(&name, "%s", mp->fwd.to_table);
    for (size_t k = 0; k < f->n; k++) {
        const char *c = sg_mapping_target_column(m, mp, f->cols[k]);
        const char *rsrc = f->ref_cols[k] ? f->ref_cols[k]
                           : mq->src->pk && k < mq->src->n_pk
                               ? mq->src->cols[mq->src->pk[k]].name : "";
        const char *r = sg_mapping_target_column(m, mq, rsrc);
        if (!c || !r || !sg_db_same_name(m->tgt, r, mq->fwd.to_key[k])) {
            snprintf(why, size, !c ? "the mapping transforms or drops column %s"
                                   : "it references columns of %s other than its key",
                     !c ? f->cols[k] : f->ref_table);
            sg_buf_free(&name);
            return 1;
        }
        if (!(out->cols[k] = strdup(c)) || !(out->ref_cols[k] = strdup(r)))
            return oom(m);
        sg_buf_printf(&name, "_%s", c);
    }
    sg_buf_puts(&name, "_fkey");
    out->name = f->name ? strdup(f->name) : strndup(sg_buf_str(&name), 63);
    sg_buf_free(&name);
    return out->name ? 0 : oom(m);
}

/* SQLite: the keys go into the CREATE TABLE, before its last parenthesis. */
static int into_create(sg_migration *m, sg_map *mp)
{
    sg_buf b = SG_BUF_INIT;
    size_t len = strlen(mp->target_ddl);
    sg_buf_putn(&b, mp->target_ddl, len - 1);
    for (size_t i = 0; i < mp->n_fks; i++) {
        const sg_fk_info *k = &mp->fks[i];
        sg_buf_puts(&b, ", CONSTRAINT ");
        sg_db_ident(m->tgt, &b, k->name);
        sg_buf_puts(&b, " FOREIGN KEY (");
        sg_sql_ident_list(m->tgt, &b, k->n, k->cols, NULL);
        sg_buf_puts(&b, ") REFERENCES ");
        sg_db_ident(m->tgt, &b, k->ref_table);
        sg_buf_puts(&b, " (");
        sg_sql_ident_list(m->tgt, &b, k->n, k->ref_cols, NULL);
        sg_buf_puts(&b, ")");
    }
    sg_buf_puts(&b, ")");
    char *ddl = sg_buf_take(&b);
    if (!ddl)
        return oom(m);
    free(mp->target_ddl);
    mp->target_ddl = ddl;
    return 0;
}

static int map_fks(sg_migration *m, sg_map *mp)
{
    sg_fk_info *v = NULL;
    size_t n = 0;
    char why[512];
    int rc = sg_db_table_foreign_keys(m->src, mp->src, &v, &n, &m->err);
    if (!rc && n && (!(mp->fks = calloc(n, sizeof *mp->fks)) ||
                     !(mp->fk_source = calloc(n, sizeof *mp->fk_source))))
        rc = oom(m);
    for (size_t i = 0; !rc && i < n; i++) {
        int c = carry(m, mp, &v[i], &mp->fks[mp->n_fks], why, sizeof why);
        if (c == 0)
            mp->fk_source[mp->n_fks++] = i;
        else
            sg_fk_info_clear(&mp->fks[mp->n_fks]);
        if (c == 1 && sg_mapping_carry_note(mp, "%s: foreign key %s(%s...) -> %s is not "
                                            "carried to %s: %s; hint: add it on the "
                                            "target yourself if the application relies "
                                            "on it", mp->label, v[i].name ? v[i].name : "",
                                            v[i].cols[0], v[i].ref_table, mp->fwd.to_table,
                                            why))
            c = oom(m);
        rc = c < 0 ? c : 0;
    }
    sg_fk_infos_free(v, n);
    if (!rc && mp->n_fks && !sg_db_adds_foreign_keys(m->tgt))
        rc = into_create(m, mp);
    return rc;
}

int sg_mapping_target_fks(sg_migration *m)
{
    for (size_t i = 0; i < m->n_maps; i++) {
        sg_map *mp = &m->maps[i];
        if (!mp->spec->foreign_keys)
            continue;
        if (!mp->spec->create)
            return sg_mapping_spec_fail(m, mp->spec->foreign_keys_line, "foreign_keys: "
                                        "segue makes foreign keys only on the tables it "
                                        "makes; hint: set create: true, or add them to "
                                        "'%s' yourself", mp->fwd.to_table);
        int rc = map_fks(m, mp);
        if (rc)
            return rc;
    }
    return 0;
}

int sg_mapping_fks_switch(sg_migration *m, bool add)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < m->n_maps; i++)
        for (size_t k = 0; !rc && k < m->maps[i].n_fks; k++) {
            sg_buf b = SG_BUF_INIT;
            if (sg_db_foreign_key_sql(m->tgt, &m->maps[i].fks[k], m->maps[i].fwd.to_table,
                                      add, &b))
                rc = sg_buf_failed(&b) ? oom(m) : sg_db_exec(m->tgt, sg_buf_str(&b), &m->err);
            sg_buf_free(&b);
        }
    return rc;
}
