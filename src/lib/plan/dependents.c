/* What depends on the migration's source tables: plan lists it, and
 * cleanup --drop-source refuses while any of it would break. A foreign key
 * from another source table of the same migration does not count (that
 * table is dropped too, first). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plan/mapping.h"

/* Whether a foreign key's table is a source table of this migration. */
static bool among_sources(const sg_migration *m, const char *table)
{
    for (size_t g = 0; table && g < m->n_groups; g++)
        if (sg_db_same_name(m->src, m->groups[g].table, table))
            return true;
    return false;
}

int sg_dependents_of(sg_migration *m, size_t g, char **line)
{
    sg_dependent *v = NULL;
    size_t n = 0;
    sg_buf b = SG_BUF_INIT;
    *line = NULL;
    int rc = sg_db_table_dependents(m->src, m->groups[g].table, &v, &n, &m->err);
    for (size_t i = 0; !rc && i < n; i++) {
        if (strcmp(v[i].kind, "foreign key") == 0 && among_sources(m, v[i].table))
            continue;
        sg_buf_printf(&b, "%s%s %s", b.len ? "; " : "", v[i].kind, v[i].name);
        size_t tl = v[i].table ? strlen(v[i].table) : 0;
        if (v[i].table && !(strncmp(v[i].name, v[i].table, tl) == 0 &&
                            strncmp(v[i].name + tl, " (", 2) == 0)) /* "T (cols)" */
            sg_buf_printf(&b, " on %s", v[i].table);
    }
    sg_dependents_free(v, n);
    if (!rc && b.len && !(*line = sg_buf_take(&b)))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    sg_buf_free(&b);
    return rc;
}

/* The target table of group g's first mapping. */
static const char *target_of(const sg_migration *m, size_t g)
{
    for (size_t i = 0; i < m->n_maps; i++)
        if (m->maps[i].group == g)
            return m->maps[i].fwd.to_table;
    return "";
}

int sg_dependents_check(sg_migration *m)
{
    for (size_t g = 0; g < m->n_groups; g++) {
        char *line = NULL;
        int rc = sg_dependents_of(m, g, &line);
        if (rc)
            return rc;
        if (line) {
            rc = sg_err_set(&m->err, SG_ESTATE, "cleanup --drop-source: dropping '%s' "
                            "would break what depends on it: %s; nothing was changed; "
                            "hint: drop those or point them at '%s' first, or run "
                            "cleanup without --drop-source and drop '%s' yourself "
                            "later", m->groups[g].table, line,
                            target_of(m, g), m->groups[g].table);
            free(line);
            return rc;
        }
    }
    return 0;
}

/* refs[b * n + a]: whether table a has a foreign key to table b (one
 * catalog read per table). */
static int foreign_keys(sg_conn *c, const char *const *tables, size_t n, bool *refs,
                        sg_err *err)
{
    int rc = 0;
    for (size_t b = 0; !rc && b < n; b++) {
        sg_dependent *v = NULL;
        size_t nv = 0;
        rc = sg_db_table_dependents(c, tables[b], &v, &nv, err);
        for (size_t i = 0; !rc && i < nv; i++)
            for (size_t a = 0; a < n; a++)
                refs[b * n + a] |= strcmp(v[i].kind, "foreign key") == 0 && v[i].table &&
                                   sg_db_same_name(c, v[i].table, tables[a]);
        sg_dependents_free(v, nv);
    }
    return rc;
}

int sg_dependents_order(sg_conn *c, const char *const *tables, size_t n, size_t *order,
                        sg_err *err)
{
    size_t k = 0, cells = n ? n : 1;
    bool *done = calloc(cells, sizeof *done), *refs = calloc(cells * cells, sizeof *refs);
    int rc = done && refs ? foreign_keys(c, tables, n, refs, err)
                          : sg_err_set(err, SG_ENOMEM, "out of memory");
    while (!rc && k < n) {
        size_t before = k;
        for (size_t g = 0; g < n; g++) {
            bool blocked = false;
            for (size_t a = 0; !done[g] && a < n; a++)
                blocked |= a != g && !done[a] && refs[g * n + a];
            if (!done[g] && !blocked) {
                done[g] = true;
                order[k++] = g;
            }
        }
        for (size_t g = 0; k == before && g < n; g++)
            if (!done[g]) { /* a cycle: the engine will say which */
                done[g] = true;
                order[k++] = g;
            }
    }
    free(done);
    free(refs);
    return rc;
}

int sg_dependents_drop_order(sg_migration *m, size_t *order)
{
    const char **tables = calloc(m->n_groups ? m->n_groups : 1, sizeof *tables);
    if (!tables)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (size_t g = 0; g < m->n_groups; g++)
        tables[g] = m->groups[g].table;
    int rc = sg_dependents_order(m->src, tables, m->n_groups, order, &m->err);
    free(tables);
    return rc;
}
