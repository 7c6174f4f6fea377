/* Plan: what start would do, and what deserves a look first. Changes
 * nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/control.h"
#include "plan/mapping.h"

static int add_notev(char ***v, size_t *n, const char *fmt, va_list ap)
{
    sg_buf b = SG_BUF_INIT;
    sg_buf_vprintf(&b, fmt, ap);
    char **p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p) {
        sg_buf_free(&b);
        return -1;
    }
    *v = p;
    if (!(p[*n] = sg_buf_take(&b)))
        return -1;
    (*n)++;
    return 0;
}

static int add_note(char ***v, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int add_note(char ***v, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = add_notev(v, n, fmt, ap);
    va_end(ap);
    return rc;
}

int sg_plan_note(sg_err *e, sg_plan *p, bool blocker, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = blocker ? add_notev(&p->blockers, &p->n_blockers, fmt, ap)
                     : add_notev(&p->warnings, &p->n_warnings, fmt, ap);
    va_end(ap);
    return rc ? sg_err_set(e, SG_ENOMEM, "out of memory") : 0;
}

/* Rows the backfill would copy: the filter applies. */
static int count_source(sg_migration *m, sg_map *mp, int64_t *n)
{
    sg_buf q = SG_BUF_INIT;
    sg_buf_puts(&q, "SELECT count(*) FROM ");
    sg_db_ident(m->src, &q, mp->fwd.from_table);
    if (mp->spec->where)
        sg_buf_printf(&q, " WHERE (%s)", mp->spec->where);
    int rc = sg_db_query_int(m->src, sg_buf_str(&q), 0, n, &m->err);
    sg_buf_free(&q);
    return rc;
}

/* The indexes a created target gets after the backfill, as DDL, and its
 * sequences; a warning for each thing the mapping cannot carry. */
static int plan_indexes(sg_migration *m, const sg_map *mp, sg_plan_mapping *pm, sg_plan *p)
{
    if (!mp->spec->create)
        return 0;
    if (mp->n_indexes && !(pm->index_ddl = calloc(mp->n_indexes, sizeof *pm->index_ddl)))
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < mp->n_indexes; i++) {
        sg_buf b = SG_BUF_INIT;
        sg_index_def d;
        sg_mapping_index_def(mp, i, &d);
        sg_db_index_sql(m->tgt, &d, &b);
        if (!(pm->index_ddl[pm->n_indexes++] = sg_buf_take(&b)))
            return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < mp->n_carry_notes; i++)
        if (add_note(&p->warnings, &p->n_warnings, "%s", mp->carry_notes[i]))
            return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (size_t k = 0; k < mp->n_fks; k++) {
        sg_buf b = SG_BUF_INIT;
        bool later = sg_db_foreign_key_sql(m->tgt, &mp->fks[k], mp->fwd.to_table, true, &b);
        int bad = later && add_note(&pm->fk_ddl, &pm->n_fk_ddl, "%s", sg_buf_str(&b));
        sg_buf_free(&b);
        if (bad)
            return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    }
    for (size_t c = 0; c < mp->fwd.n_cols; c++)
        if (mp->col_sequences[c] &&
            add_note(&pm->sequences, &pm->n_sequences, "%s for %s", mp->col_sequences[c],
                     mp->fwd.to_cols[c]))
            return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (size_t c = 0; c < mp->fwd.n_cols; c++)
        if (mp->col_numbered[c] &&
            add_note(&pm->numbered, &pm->n_numbered, "%s (%s)", mp->fwd.to_cols[c],
                     mp->col_numbered[c]))
            return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    return 0;
}

/* started: the migration holds its target tables (start made them), so an
 * existing one is no blocker. */
static int plan_map(sg_migration *m, size_t i, sg_plan *p, bool started)
{
    sg_map *mp = &m->maps[i];
    sg_plan_mapping *pm = &p->mappings[i];
    sg_table_info *t = NULL;
    int rc = 0;
    pm->from = strdup(mp->fwd.from_table);
    pm->to = strdup(mp->fwd.to_table);
    pm->target_ddl = mp->spec->create ? strdup(mp->target_ddl) : NULL;
    pm->reverse_columns = (int)mp->rev.n_cols;
    if (!pm->from || !pm->to || (mp->spec->create && !pm->target_ddl))
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    rc = plan_indexes(m, mp, pm, p);
    if (!rc && mp->primary)
        rc = sg_dependents_of(m, mp->group, &pm->dependents);
    if (!rc)
        rc = count_source(m, mp, &pm->source_rows);
    if (!rc && mp->spec->create && !started)
        rc = sg_db_table_info(m->tgt, mp->fwd.to_table, &t, &m->err);
    if (!rc && t && add_note(&p->blockers, &p->n_blockers, "%s:%d: target table "
                             "'%s' already exists but the mapping has create: "
                             "true; drop it or set create: false", m->spec->path,
                             mp->spec->to_line, mp->fwd.to_table))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    sg_table_info_free(t);
    for (size_t c = 0; !rc && c < mp->n_not_copied; c++)
        if (add_note(&p->warnings, &p->n_warnings, "%s: source column '%s' was "
                     "added after start and is not copied", mp->label,
                     mp->not_copied[c]))
            rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    char gap[1024];
    if (!rc && sg_mapping_reverse_gap(m, i, gap, sizeof gap) &&
        add_note(&p->blockers, &p->n_blockers, "%s", gap))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    int granted = rc ? 0 : sg_mapping_roles(m, i, &pm->roles, gap, sizeof gap);
    if (granted < 0)
        rc = granted;
    else if (granted && add_note(&p->blockers, &p->n_blockers, "%s", gap))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (!rc && mp->spec->no_reverse &&
        add_note(&p->warnings, &p->n_warnings, "%s: reverse: none: after the write "
                 "cutover there is no way back (cutover --writes asks for "
                 "--no-rollback)", mp->label))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (size_t c = 0; !rc && !mp->spec->no_reverse && c < mp->n_rev_missing; c++)
        if (add_note(&p->warnings, &p->n_warnings, "%s: no reverse expression "
                     "reaches source column '%s': after a write cutover, rows "
                     "written on the target leave it %s in the source; hint: add "
                     "reverse: {%s: <expression over %s>}", mp->label,
                     mp->rev_missing[c], mp->primary ? "NULL or its default"
                                                     : "unchanged",
                     mp->rev_missing[c], mp->fwd.to_table))
            rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (!rc && mp->spec->where &&
        add_note(&p->warnings, &p->n_warnings, "%s: rows outside the filter (%s) "
                 "are not copied", mp->label, mp->spec->where))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    return rc ? rc : sg_plan_types(m, i, p);
}

int sg_migration_plan(sg_plan **out, sg_migration *m)
{
    if (!m || !out)
        return sg_bad_arg(m, "sg_migration_plan", "out is NULL");
    sg_plan *p = calloc(1, sizeof *p);
    sg_phase ph;
    *out = NULL;
    sg_err_clear(&m->err);
    if (!p || !(p->mappings = calloc(m->n_maps, sizeof *p->mappings))) {
        free(p);
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    }
    p->n_mappings = m->n_maps;
    int rc = sg_mapping_check_target(m, false);
    if (rc == SG_ESPEC) {
        rc = add_note(&p->blockers, &p->n_blockers, "%s", m->err.msg)
                 ? sg_err_set(&m->err, SG_ENOMEM, "out of memory") : 0;
    }
    if (!rc)
        rc = sg_control_phase(m, &ph);
    if (!rc && ph != SG_PHASE_PLANNED && ph != SG_PHASE_CLEANED &&
        add_note(&p->warnings, &p->n_warnings, "migration '%s' is already %s",
                 m->spec->name, sg_phase_name(ph)))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    bool started = !rc && ph != SG_PHASE_PLANNED && ph != SG_PHASE_CLEANED;
    for (size_t i = 0; !rc && i < m->n_maps; i++)
        rc = plan_map(m, i, p, started);
    for (size_t i = 0; !rc && i < m->n_maps; i++)
        rc = sg_plan_compat_map(m, i, p, started && ph >= SG_PHASE_BACKFILLED);
    if (rc) {
        sg_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void sg_plan_free(sg_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_mappings; i++) {
        free(p->mappings[i].from);
        free(p->mappings[i].to);
        free(p->mappings[i].target_ddl);
        free(p->mappings[i].roles);
        free(p->mappings[i].dependents);
        for (size_t k = 0; k < p->mappings[i].n_indexes; k++)
            free(p->mappings[i].index_ddl[k]);
        free(p->mappings[i].index_ddl);
        sg_names_free(p->mappings[i].sequences, p->mappings[i].n_sequences);
        sg_names_free(p->mappings[i].numbered, p->mappings[i].n_numbered);
        sg_names_free(p->mappings[i].fk_ddl, p->mappings[i].n_fk_ddl);
    }
    for (size_t i = 0; i < p->n_warnings; i++)
        free(p->warnings[i]);
    for (size_t i = 0; i < p->n_blockers; i++)
        free(p->blockers[i]);
    for (size_t i = 0; i < p->n_compat; i++) {
        free(p->compat[i].name);
        free(p->compat[i].detail);
    }
    free(p->compat);
    free(p->mappings);
    free(p->warnings);
    free(p->blockers);
    free(p);
}
