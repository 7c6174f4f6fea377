/* Moves across engines: the target engine's column types for the source's,
 * and the portable types each flow conforms its values to, so the copy,
 * the apply and verify all see a value as the receiving column holds it. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plan/mapping.h"

bool sg_typemap_crossing(const sg_migration *m)
{
    return m->src->drv != m->tgt->drv;
}

char *sg_typemap_column(const sg_migration *m, const char *src_decl)
{
    sg_coltype t;
    sg_buf b = SG_BUF_INIT;
    sg_db_type_parse(m->src, src_decl, &t);
    sg_db_type_decl(m->tgt, &t, &b);
    return sg_buf_take(&b);
}

static int alloc_types(sg_flow *f)
{
    size_t n = f->n_cols ? f->n_cols : 1;
    f->types = calloc(n, sizeof *f->types);
    f->conv = calloc(n, sizeof *f->conv);
    if (!f->types || !f->conv)
        return -1;
    for (size_t i = 0; i < f->n_cols; i++)
        sg_buf_init(&f->conv[i]);
    return 0;
}

/* The types of `cols` of table t (missing columns stay untyped). */
static void types_of(const sg_conn *c, const sg_table_info *t, sg_flow *f)
{
    for (size_t i = 0; i < f->n_cols; i++) {
        int col = t ? sg_table_info_column(c, t, f->to_cols[i]) : -1;
        sg_db_type_parse(c, col >= 0 ? t->cols[col].decl_type : NULL, &f->types[i]);
    }
}

int sg_typemap_flows(sg_migration *m, sg_map *mp)
{
    sg_table_info *t = NULL;
    int rc = 0;
    if (!sg_typemap_crossing(m))
        return 0;
    if (alloc_types(&mp->fwd) || alloc_types(&mp->rev))
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (mp->spec->create) {
        for (size_t i = 0; i < mp->fwd.n_cols; i++)
            sg_db_type_parse(m->tgt, mp->col_types[i], &mp->fwd.types[i]);
    } else {
        if ((rc = sg_db_table_info(m->tgt, mp->fwd.to_table, &t, &m->err)) != 0)
            return rc;
        types_of(m->tgt, t, &mp->fwd);
        sg_table_info_free(t);
    }
    types_of(m->src, m->groups[mp->group].info, &mp->rev);
    return 0;
}

void sg_typemap_free(sg_flow *f)
{
    for (size_t i = 0; f->conv && i < f->n_cols; i++)
        sg_buf_free(&f->conv[i]);
    free(f->conv);
    free(f->types);
    f->conv = NULL;
    f->types = NULL;
}
