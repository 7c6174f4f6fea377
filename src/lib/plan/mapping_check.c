/* Checks on resolved mappings that need more than the spec: the target
 * tables as they are, the way back, columns added since start; and reading
 * the source in-engine through ATTACH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plan/mapping.h"

/* Backfill chunks and verify compare key ranges on both sides, so a key
 * column must order its values alike in source and target. */
static int check_key_order(sg_migration *m, sg_map *mp, const sg_table_info *t)
{
    const sg_table_info *src = m->groups[mp->group].info;
    const sg_flow *f = &mp->fwd;
    for (size_t k = 0; k < f->n_key; k++) {
        int a = sg_table_info_column(m->src, src, f->from_key[k]);
        int b = sg_table_info_column(m->tgt, t, f->to_key[k]);
        const char *from = a >= 0 ? src->cols[a].order : NULL;
        const char *to = b >= 0 ? t->cols[b].order : NULL;
        if (from && to && *from && *to && strcmp(from, to) != 0)
            return sg_mapping_spec_fail(m, mp->spec->key_line ? mp->spec->key_line : mp->spec->line,
                             "key column '%s' orders its values by %s in the source "
                             "but by %s in the target, so the key ranges of "
                             "backfill chunks and verify would not line up; hint: "
                             "give the target column the source's order (with "
                             "create: true, columns: {%s: {expr: %s, type: "
                             "'text COLLATE \"C\"'}} on PostgreSQL orders by bytes; "
                             "else ALTER the column's COLLATE)", f->from_key[k], from,
                             to, f->to_key[k], f->from_key[k]);
    }
    return 0;
}

/* Whether a source column of kind `col` refuses every value of kind
 * `expr` (numbers into dates, text into numbers...): the way back would
 * fail on the first row. Unknown kinds (no declared type, engine-specific
 * ones) and text columns, which hold any spelling, never do. */
static bool kind_refuses(sg_kind col, sg_kind expr)
{
    bool num_col = col == SG_K_INT || col == SG_K_REAL || col == SG_K_NUMERIC;
    bool num = expr == SG_K_INT || expr == SG_K_REAL || expr == SG_K_NUMERIC;
    bool when_col = col >= SG_K_DATE && col <= SG_K_TIMESTAMPTZ;
    bool when = expr >= SG_K_DATE && expr <= SG_K_TIMESTAMPTZ;
    if (col == SG_K_ANY || col == SG_K_OTHER || col == SG_K_TEXT || expr == SG_K_ANY ||
        expr == SG_K_OTHER || col == expr)
        return false;
    if (col == SG_K_INT && (expr == SG_K_REAL || expr == SG_K_NUMERIC))
        return true; /* a fraction is refused, not rounded */
    if (num_col)
        return !num;
    if (when_col)
        return !when;
    return true; /* bool and blob take only their own kind */
}

/* A reverse expression compiles on the target, and gives values of a kind
 * the source column takes. */
static int check_reverse_expr(sg_migration *m, sg_map *mp, const sg_spec_reverse *r)
{
    char *type = NULL;
    sg_coltype et = SG_COLTYPE_INIT, ct = SG_COLTYPE_INIT;
    const sg_table_info *src = m->groups[mp->group].info;
    int col = sg_table_info_column(m->src, src, r->column), rc = 0;
    if (sg_mapping_try_expr(m->tgt, mp->fwd.to_table, r->expr, NULL, &type, &m->err))
        return sg_mapping_spec_fail(m, r->line, "the target rejects the reverse expression of "
                         "'%s' (%s): %s", r->column, r->expr, m->err.msg);
    sg_db_type_parse(m->tgt, type, &et);
    if (col >= 0)
        sg_db_type_parse(m->src, src->cols[col].decl_type, &ct);
    if (col >= 0 && kind_refuses(ct.kind, et.kind))
        rc = sg_mapping_spec_fail(m, r->line, "the reverse expression of '%s' (%s) gives %s, "
                       "which source column '%s' (%s) refuses: after a write "
                       "cutover no row could be written back; hint: convert it, "
                       "e.g. CAST((%s) AS %s)", r->column, r->expr, type, r->column,
                       src->cols[col].decl_type, r->expr, src->cols[col].decl_type);
    free(type);
    return rc;
}

static int check_target_table(sg_migration *m, sg_map *mp, bool created)
{
    sg_flow *f = &mp->fwd;
    const sg_spec_mapping *sm = mp->spec;
    sg_table_info *t = NULL;
    int cols[SG_MAX_KEY];
    int rc = sg_db_table_info(m->tgt, f->to_table, &t, &m->err);
    if (rc)
        return rc;
    if (!t) {
        rc = created ? sg_mapping_spec_fail(m, sm->to_line, "target table '%s' is missing; "
                                 "hint: it was dropped after start; run abort",
                                 f->to_table)
                     : sg_mapping_spec_fail(m, sm->to_line, "target table '%s' does not "
                                 "exist; hint: set create: true or create it",
                                 f->to_table);
        goto done;
    }
    for (size_t i = 0; i < f->n_cols; i++)
        if (sg_table_info_column(m->tgt, t, f->to_cols[i]) < 0) {
            rc = sg_mapping_spec_fail(m, sm->n_cols ? sm->cols[i].line : sm->line,
                           "target table '%s' has no column '%s'; hint: add "
                           "it or remove it from columns", f->to_table,
                           f->to_cols[i]);
            goto done;
        }
    for (size_t k = 0; k < f->n_key; k++)
        cols[k] = sg_table_info_column(m->tgt, t, f->to_key[k]);
    if (!sg_mapping_unique_on(t, cols, f->n_key)) {
        rc = sg_mapping_spec_fail(m, sm->to_line, "target table '%s' has no primary key "
                       "or unique index on the key columns; hint: add one so "
                       "rows can be upserted", f->to_table);
        goto done;
    }
    if ((rc = check_key_order(m, mp, t)) != 0)
        goto done;
    for (size_t i = 0; i < sm->n_reverse && !rc; i++)
        rc = check_reverse_expr(m, mp, &sm->reverse[i]);
done:
    sg_table_info_free(t);
    return rc;
}

int sg_mapping_reverse_gap(sg_migration *m, size_t i, char *msg, size_t size)
{
    const sg_map *mp = &m->maps[i];
    const sg_table_info *src = m->groups[mp->group].info;
    msg[0] = '\0';
    if (!mp->primary || mp->spec->no_reverse) /* a secondary reverse flow
                                               * only updates rows */
        return 0;
    for (size_t c = 0; c < mp->n_rev_missing; c++) {
        int k = sg_table_info_column(m->src, src, mp->rev_missing[c]);
        if (k < 0 || !src->cols[k].notnull || src->cols[k].has_default)
            continue;
        snprintf(msg, size, "%s:%d: %s: no reverse expression reaches source "
                 "column '%s', which is NOT NULL with no default: a row inserted "
                 "on the target after the write cutover could not be written "
                 "back, and rollback would fail; hint: add reverse: {%s: "
                 "<expression over %s>}", m->spec->path, mp->spec->line, mp->label,
                 mp->rev_missing[c], mp->rev_missing[c], mp->fwd.to_table);
        return 1;
    }
    return 0;
}

int sg_mapping_check_reverse(sg_migration *m)
{
    char msg[1024];
    for (size_t i = 0; i < m->n_maps; i++)
        if (sg_mapping_reverse_gap(m, i, msg, sizeof msg))
            return sg_err_set(&m->err, SG_ESPEC, "%s", msg);
    return 0;
}

const sg_map *sg_mapping_no_way_back(const sg_migration *m)
{
    for (size_t i = 0; i < m->n_maps; i++)
        if (m->maps[i].spec->no_reverse)
            return &m->maps[i];
    return NULL;
}

void sg_mapping_drift_note(const sg_migration *m, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < m->n_maps && used < size; i++)
        for (size_t c = 0; c < m->maps[i].n_not_copied && used < size; c++) {
            int n = snprintf(out + used, size - used, "%s%s.%s", used ? ", " : "",
                             m->maps[i].fwd.from_table, m->maps[i].not_copied[c]);
            used += n > 0 ? (size_t)n : 0;
        }
}

int sg_mapping_check_target(sg_migration *m, bool created)
{
    if (!created && m->n_keyless)
        return sg_all_check_keys(m);
    for (size_t i = 0; i < m->n_maps; i++) {
        sg_map *mp = &m->maps[i];
        if (!created && mp->spec->create)
            continue;
        int rc = check_target_table(m, mp, created);
        if (rc)
            return rc;
    }
    return 0;
}

/* The schema the target's connection reads the source through. */
#define SOURCE_ALIAS "segue_source"

/* Whether a text names another table (a subquery): in-engine it would
 * find the target's table of that name first, so such a mapping streams. */
static bool names_a_query(const char *s)
{
    return s && strcasestr(s, "select") != NULL;
}

void sg_mapping_attach_source(sg_migration *m)
{
    if (m->src == m->tgt || sg_db_attach(m->tgt, m->src, SOURCE_ALIAS, &m->err)) {
        sg_err_clear(&m->err);
        return;
    }
    for (size_t i = 0; i < m->n_maps; i++) {
        sg_flow *f = &m->maps[i].fwd;
        bool plain = !names_a_query(f->filter);
        for (size_t c = 0; plain && c < f->n_cols; c++)
            plain = !names_a_query(f->exprs[c]);
        f->from_schema = plain ? SOURCE_ALIAS : NULL;
    }
}
