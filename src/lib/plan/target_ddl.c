/* The target table a mapping creates (create: true), spelled in the target
 * engine's terms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plan/mapping.h"

/* The declared type of a target column: explicit, else the source column's
 * for a plain reference, else the type the source gives the expression,
 * else none (SQLite then stores the value as it comes). Across engines the
 * source's type is spelled in the target engine's terms (typemap.c). */
static int column_def(sg_migration *m, sg_map *mp, size_t i, sg_buf *b)
{
    const sg_spec_mapping *sm = mp->spec;
    sg_flow *f = &mp->fwd;
    sg_db_ident(m->tgt, b, f->to_cols[i]);
    const char *type = sm->n_cols ? sm->cols[i].type : NULL;
    int ref = sg_mapping_plain_ref(m->src, mp->src, f->exprs[i]);
    bool given = type != NULL;
    if (!type && ref >= 0)
        type = mp->src->cols[ref].decl_type;
    if (!type && mp->expr_types)
        type = mp->expr_types[i];
    bool mapped = !given && sg_typemap_crossing(m);
    if (!given && type && !(mp->from_types[i] = strdup(type)))
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    mp->col_types[i] = mapped ? sg_typemap_column(m, type) : type ? strdup(type) : NULL;
    if ((mapped || type) && !mp->col_types[i])
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (mp->col_types[i] && *mp->col_types[i])
        sg_buf_printf(b, " %s", mp->col_types[i]);
    if (ref >= 0 && mp->src->cols[ref].notnull && !sm->where)
        sg_buf_puts(b, " NOT NULL");
    return 0;
}

int sg_mapping_target_ddl(sg_migration *m, sg_map *mp)
{
    sg_buf b = SG_BUF_INIT;
    sg_flow *f = &mp->fwd;
    mp->col_types = calloc(f->n_cols ? f->n_cols : 1, sizeof *mp->col_types);
    mp->from_types = calloc(f->n_cols ? f->n_cols : 1, sizeof *mp->from_types);
    if (!mp->col_types || !mp->from_types)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    sg_buf_puts(&b, "CREATE TABLE ");
    sg_db_ident(m->tgt, &b, f->to_table);
    sg_buf_puts(&b, " (");
    for (size_t i = 0; i < f->n_cols; i++) {
        sg_buf_puts(&b, i ? ", " : "");
        if (column_def(m, mp, i, &b)) {
            sg_buf_free(&b);
            return m->err.code;
        }
    }
    sg_buf_puts(&b, ", PRIMARY KEY (");
    sg_sql_ident_list(m->tgt, &b, f->n_key, f->to_key, NULL);
    sg_buf_puts(&b, "))");
    mp->target_ddl = sg_buf_take(&b);
    return mp->target_ddl ? 0 : sg_err_set(&m->err, SG_ENOMEM, "out of memory");
}
