/* mappings: all: one mapping per table of the source, made when the
 * migration is opened (see mapping.h). */
#include <stdlib.h>
#include <string.h>

#include "plan/mapping.h"
#include "state/control.h"

static int oom(sg_migration *m)
{
    return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
}

/* The tables start recorded (*n = 0 when it has not run). */
static int load_recorded(sg_migration *m, char ***out, size_t *n)
{
    sg_phase ph;
    sg_stmt *s = NULL;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc = sg_control_phase(m, &ph);
    if (rc || ph == SG_PHASE_PLANNED)
        return rc;
    rc = sg_control_prepare(&m->err, m->tgt, "SELECT name FROM @tables WHERE migration = $1 "
                            "ORDER BY pos", &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, m->spec->name, &m->err);
    while (!rc && (rc = sg_db_step(s, &m->err)) == 1) {
        sg_value v;
        sg_db_column(s, 0, &v);
        char **p = *n < cap ? *out : realloc(*out, (cap = cap * 2 + 16) * sizeof *p);
        if (!p || !(p[*n] = strndup(v.p ? (const char *)v.p : "", v.n))) {
            if (p)
                *out = p;
            rc = oom(m);
            break;
        }
        *out = p;
        (*n)++;
        rc = 0;
    }
    sg_db_finalize(s);
    return rc;
}

/* Index of name in v, or -1. */
static long find(const sg_migration *m, char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && sg_db_same_name(m->src, v[i], name))
            return (long)i;
    return -1;
}

/* Takes the excluded tables out of v (NULL in their place); each must be a
 * table of the source. */
static int exclude(sg_migration *m, char **v, size_t n)
{
    for (size_t i = 0; i < m->spec->n_exclude; i++) {
        long k = find(m, v, n, m->spec->exclude[i]);
        if (k < 0)
            return sg_mapping_spec_fail(m, m->spec->exclude_line, "exclude names '%s', "
                                        "which is not a table of the source; hint: "
                                        "check the spelling (`segue plan` lists the "
                                        "tables that mappings: all takes)",
                                        m->spec->exclude[i]);
        free(v[k]);
        v[k] = NULL;
    }
    return 0;
}

/* Moves the tables without a primary key from v to m->keyless. */
static int set_keyless_apart(sg_migration *m, char **v, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        sg_table_info *t = NULL;
        if (!v[i] || (rc = sg_db_table_info(m->src, v[i], &t, &m->err)) != 0)
            continue;
        if (t && t->n_pk == 0) {
            char **p = realloc(m->keyless, (m->n_keyless + 1) * sizeof *p);
            if (!p)
                rc = oom(m);
            else {
                m->keyless = p;
                p[m->n_keyless++] = v[i];
                v[i] = NULL;
            }
        }
        sg_table_info_free(t);
    }
    return rc;
}

/* The source's tables without the excluded and keyless ones, each after
 * the tables it references by foreign key. */
static int list_source(sg_migration *m, char ***out, size_t *n)
{
    char **all = NULL;
    size_t n_all = 0, *order = NULL, k = 0;
    const char **keep = NULL;
    int rc = sg_db_tables(m->src, &all, &n_all, &m->err);
    if (!rc)
        rc = exclude(m, all, n_all);
    if (!rc)
        rc = set_keyless_apart(m, all, n_all);
    if (!rc && (!(keep = calloc(n_all + 1, sizeof *keep)) ||
                !(order = calloc(n_all + 1, sizeof *order)) ||
                !(*out = calloc(n_all + 1, sizeof **out))))
        rc = oom(m);
    for (size_t i = 0; !rc && i < n_all; i++)
        if (all[i])
            keep[k++] = all[i];
    /* a table before those it references, reversed */
    if (!rc)
        rc = sg_dependents_order(m->src, keep, k, order, &m->err);
    for (size_t i = 0; !rc && i < k; i++)
        if (!((*out)[(*n)++] = strdup(keep[order[k - 1 - i]])))
            rc = oom(m);
    free(keep);
    free(order);
    sg_names_free(all, n_all);
    return rc;
}

/* Fills the spec's mappings: table -> the same name, create: true. */
static int fill(sg_migration *m, char **v, size_t n)
{
    sg_spec *s = m->spec;
    if (!(s->mappings = calloc(n, sizeof *s->mappings)))
        return oom(m);
    for (size_t i = 0; i < n; i++) {
        sg_spec_mapping *sm = &s->mappings[i];
        s->n_mappings = i + 1;
        sm->line = sm->from_line = sm->to_line = sm->key_line = s->all_line;
        sm->create = true;
        sm->foreign_keys = s->all_foreign_keys;
        sm->foreign_keys_line = s->all_line;
        if (!(sm->from = strdup(v[i])) || !(sm->to = strdup(v[i])))
            return oom(m);
    }
    return 0;
}

int sg_all_expand(sg_migration *m)
{
    char **v = NULL;
    size_t n = 0;
    if (!m->spec->all)
        return 0;
    if (m->src == m->tgt)
        return sg_mapping_spec_fail(m, m->spec->all_line, "mappings: all copies every table "
                                    "into another database, and the target is the "
                                    "source's own database; hint: give a target in "
                                    "another database (or file), or list the mappings");
    int rc = load_recorded(m, &v, &n);
    if (!rc && n == 0)
        rc = list_source(m, &v, &n);
    if (!rc && n == 0 && m->n_keyless == 0)
        rc = sg_mapping_spec_fail(m, m->spec->all_line, "mappings: all finds no table in "
                                  "the source%s; hint: check source:",
                                  m->spec->n_exclude ? " but the excluded ones" : "");
    if (!rc)
        rc = fill(m, v, n);
    sg_names_free(v, n);
    return rc;
}

int sg_all_record(sg_migration *m)
{
    sg_stmt *s = NULL;
    if (!m->spec->all)
        return 0;
    int rc = sg_control_prepare(&m->err, m->tgt, "DELETE FROM @tables WHERE migration = $1",
                                &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)))
        rc = sg_control_run(&m->err, s);
    else
        sg_db_finalize(s);
    for (size_t i = 0; !rc && i < m->spec->n_mappings; i++) {
        s = NULL;
        rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @tables (migration, pos, name) "
                                "VALUES ($1, $2, $3)", &s);
        if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)) &&
            !(rc = sg_db_bind_int(s, 2, (int64_t)i, &m->err)) &&
            !(rc = sg_db_bind_text(s, 3, m->spec->mappings[i].from, &m->err)))
            rc = sg_control_run(&m->err, s);
        else
            sg_db_finalize(s);
    }
    return rc;
}

int sg_all_check_keys(sg_migration *m)
{
    if (!m->n_keyless)
        return 0;
    sg_buf b = SG_BUF_INIT;
    for (size_t i = 0; i < m->n_keyless; i++)
        sg_buf_printf(&b, "%s%s", i ? ", " : "", m->keyless[i]);
    int rc = sg_mapping_spec_fail(m, m->spec->all_line, "mappings: all: %zu source "
                                  "table%s without a primary key (%s), which segue cannot "
                                  "copy key by key; hint: give %s a primary key, or leave "
                                  "%s out with exclude: and move %s in a migration of "
                                  "its own with key: [a unique, NOT NULL column]",
                                  m->n_keyless, m->n_keyless == 1 ? "" : "s",
                                  sg_buf_str(&b), m->n_keyless == 1 ? "it" : "each",
                                  m->n_keyless == 1 ? "it" : "them",
                                  m->n_keyless == 1 ? "it" : "each");
    sg_buf_free(&b);
    return rc;
}
