/* The schema compatibility report: every source column, secondary index,
 * CHECK, foreign key and trigger of a mapping against the target table as
 * it is, or (before start) as segue would make it. Each line is the same, changed as the
 * mapping says, or unexpected; `plan --check` fails on unexpected ones.
 * Expressions are compared as text with quotes, parentheses, casts, case
 * and spaces set aside (two engines spell one condition differently). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "base/sqllex.h"
#include "plan/mapping.h"

/* s without quotes, parentheses, spaces, casts (::type), lower-cased. */
static void norm(const char *s, sg_buf *out)
{
    bool cast = false;
    char name[256];
    for (sg_tok t = sg_sqllex_next_solid(s ? s : "", 0); t.kind != SG_TOK_END;
         t = sg_sqllex_next_solid(s, t.start + t.len)) {
        if (t.kind == SG_TOK_PUNCT && t.len == 2) {
            cast = true;
            continue;
        }
        bool word = t.kind == SG_TOK_IDENT || t.kind == SG_TOK_QIDENT;
        if (cast && word) {
            cast = false;
            continue;
        }
        cast = false;
        if (t.kind == SG_TOK_PUNCT && (s[t.start] == '(' || s[t.start] == ')'))
            continue;
        if (word) {
            sg_sqllex_name(s, t, name, sizeof name);
            for (char *c = name; *c; c++)
                sg_buf_putc(out, (char)tolower((unsigned char)*c));
        } else {
            sg_buf_putn(out, s + t.start, t.len);
        }
    }
    sg_buf_putc(out, '\0');
    out->len--;
}

static bool same_text(const char *a, const char *b)
{
    sg_buf x = SG_BUF_INIT, y = SG_BUF_INIT;
    norm(a, &x);
    norm(b, &y);
    bool same = !sg_buf_failed(&x) && !sg_buf_failed(&y) &&
                strcmp(sg_buf_str(&x), sg_buf_str(&y)) == 0;
    sg_buf_free(&x);
    sg_buf_free(&y);
    return same;
}

static int add(sg_migration *m, sg_plan *p, size_t map, const char *what, const char *name,
               sg_compat v, const char *detail)
{
    sg_plan_compat *c = realloc(p->compat, (p->n_compat + 1) * sizeof *c);
    if (!c)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    p->compat = c;
    c = &c[p->n_compat];
    c->mapping = map;
    c->what = what;
    c->verdict = v;
    c->name = strdup(name);
    c->detail = strdup(detail ? detail : "");
    if (!c->name || !c->detail) {
        free(c->name);
        free(c->detail);
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    }
    p->n_compat++;
    p->n_unexpected += v == SG_COMPAT_UNEXPECTED;
    return 0;
}

/* Column i of the forward flow; t: the target as it is, or NULL. */
static int column(sg_migration *m, sg_plan *p, size_t map, const sg_table_info *t, size_t i)
{
    const sg_map *mp = &m->maps[map];
    const char *to = mp->fwd.to_cols[i];
    int ref = sg_mapping_plain_ref(m->src, mp->src, mp->fwd.exprs[i]);
    char d[512] = "";
    if (ref < 0) {
        snprintf(d, sizeof d, "made from %s", mp->fwd.exprs[i]);
        return add(m, p, map, "column", to, SG_COMPAT_MAPPED, d);
    }
    const sg_column_info *s = &mp->src->cols[ref];
    const char *type = mp->col_types[i], *dflt = mp->col_defaults[i];
    bool notnull = s->notnull && !mp->spec->where;
    int a = t ? sg_table_info_column(m->tgt, t, to) : -1;
    const sg_column_info *c = a >= 0 ? &t->cols[a] : NULL;
    size_t n = 0;
#define SAY(...) n += (size_t)snprintf(d + n, n < sizeof d ? sizeof d - n : 0, __VA_ARGS__)
    if (t && !c)
        SAY("the target has no column %s", to);
    if (c && type && *type && !same_text(type, c->decl_type))
        SAY("%stype %s on the target, %s expected", n ? "; " : "", c->decl_type, type);
    if (c && c->notnull != notnull)
        SAY("%s%s on the target, %s on the source", n ? "; " : "",
            c->notnull ? "NOT NULL" : "NULL allowed", s->notnull ? "NOT NULL" : "NULL allowed");
    bool numbered = mp->col_numbered && mp->col_numbered[i];
    if (s->default_sql && !dflt && !numbered)
        SAY("%sthe source's default %s is not carried", n ? "; " : "", s->default_sql);
    else if (c && !numbered && !same_text(dflt, c->default_sql))
        SAY("%sdefault %s on the target, %s expected", n ? "; " : "",
            c->default_sql ? c->default_sql : "none", dflt ? dflt : "none");
    if (c && numbered && !c->numbered)
        SAY("%sthe target does not number it when an insert leaves it out, the source "
            "does", n ? "; " : "");
    if (c && !sg_typemap_crossing(m) && *s->order && *c->order && strcmp(s->order, c->order))
        SAY("%sordered by %s on the target, %s on the source", n ? "; " : "", c->order,
            s->order);
    if (n)
        return add(m, p, map, "column", s->name, SG_COMPAT_UNEXPECTED, d);
    if (sg_typemap_crossing(m) && type && !same_text(type, s->decl_type))
        SAY("%s -> %s as the target engine spells it", s->decl_type, type);
    if (numbered && s->default_sql)
        SAY("%snumbered by the target's engine, not by the source's default %s",
            n ? "; " : "", s->default_sql);
#undef SAY
    return add(m, p, map, "column", s->name, n ? SG_COMPAT_MAPPED : SG_COMPAT_SAME, d);
}

/* Whether target index ix (of t) is the carried one e. */
static bool index_matches(const sg_table_info *t, const sg_index_info *ix,
                          const sg_target_index *e)
{
    if (ix->unique != e->unique || ix->n != e->n || !same_text(ix->where, e->where))
        return false;
    for (size_t k = 0; k < ix->n; k++) {
        const char *part = ix->cols[k] >= 0 ? t->cols[ix->cols[k]].name : ix->exprs[k];
        if (!same_text(part, e->parts[k]) || ix->desc[k] != e->desc[k])
            return false;
    }
    return true;
}

/* Source index ix against the target's indexes (tix, n of them; t NULL:
 * the target segue would make). */
static int index_line(sg_migration *m, sg_plan *p, size_t map, const sg_index_info *ix,
                      const sg_table_info *t, const sg_index_info *tix, size_t n,
                      bool unbuilt)
{
    const sg_map *mp = &m->maps[map];
    const sg_target_index *e = NULL;
    for (size_t i = 0; i < mp->n_indexes && !e; i++)
        if (mp->indexes[i].source_name && !strcmp(mp->indexes[i].source_name, ix->name))
            e = &mp->indexes[i];
    bool transformed = false;
    for (size_t k = 0; k < ix->n; k++) {
        bool plain = false;
        for (size_t i = 0; ix->cols[k] >= 0 && i < mp->fwd.n_cols; i++)
            plain |= sg_mapping_plain_ref(m->src, mp->src, mp->fwd.exprs[i]) == ix->cols[k];
        transformed |= ix->cols[k] >= 0 && !plain;
    }
    if (transformed)
        return add(m, p, map, "index", ix->name, SG_COMPAT_MAPPED,
                   "on a column the mapping transforms or drops");
    if (!e)
        return add(m, p, map, "index", ix->name, SG_COMPAT_UNEXPECTED,
                   "segue cannot carry it (plan's warning says why)");
    for (size_t i = 0; t && i < n; i++)
        if (index_matches(t, &tix[i], e))
            return add(m, p, map, "index", ix->name, SG_COMPAT_SAME, "");
    if (!t || unbuilt)
        return add(m, p, map, "index", ix->name, SG_COMPAT_SAME, "built after the backfill");
    char d[512];
    snprintf(d, sizeof d, "the target lacks it (%s%s)", e->unique ? "unique, " : "",
             e->parts[0]);
    return add(m, p, map, "index", ix->name, SG_COMPAT_UNEXPECTED, d);
}

static int checks(sg_migration *m, sg_plan *p, size_t map, const sg_table_info *t)
{
    const sg_map *mp = &m->maps[map];
    sg_check_info *src = NULL, *tgt = NULL;
    size_t ns = 0, nt = 0;
    int rc = sg_db_table_checks(m->src, mp->src, &src, &ns, &m->err);
    if (!rc && t)
        rc = sg_db_table_checks(m->tgt, t, &tgt, &nt, &m->err);
    for (size_t i = 0; !rc && i < ns; i++) {
        sg_buf e = SG_BUF_INIT;
        char why[512];
        int c = sg_mapping_map_expr(m, mp, src[i].expr, &e, why, sizeof why);
        bool found = !t && c == 0;
        for (size_t k = 0; c == 0 && !found && k < nt; k++)
            found = same_text(tgt[k].expr, sg_buf_str(&e));
        rc = c == 0 ? add(m, p, map, "check", src[i].expr, found ? SG_COMPAT_SAME
                                                                 : SG_COMPAT_UNEXPECTED,
                          found ? "" : "the target lacks it")
             : add(m, p, map, "check", src[i].expr, strstr(why, "not copied as it is")
                                                        ? SG_COMPAT_MAPPED
                                                        : SG_COMPAT_UNEXPECTED, why);
        sg_buf_free(&e);
    }
    sg_check_infos_free(src, ns);
    sg_check_infos_free(tgt, nt);
    return rc;
}

/* The target's name for table `ref` of the source: the first mapping's of
 * the migration that reads it, else the same name (a table not moved). */
static const char *target_name(const sg_migration *m, const char *ref)
{
    const sg_map *mq = sg_mapping_of_source(m, ref);
    return mq ? mq->fwd.to_table : ref;
}

/* Whether target foreign key g is source key f through the mapping. */
static bool fk_matches(const sg_migration *m, const sg_map *mp, const sg_fk_info *f,
                       const sg_fk_info *g)
{
    if (f->n != g->n || !sg_db_same_name(m->tgt, g->ref_table, target_name(m, f->ref_table)))
        return false;
    for (size_t k = 0; k < f->n; k++) {
        const char *c = sg_mapping_target_column(m, mp, f->cols[k]);
        if (!c || !sg_db_same_name(m->tgt, c, g->cols[k]))
            return false;
    }
    return true;
}

/* Source key f, the i-th of its table, against the target's keys. */
static int fk_line(sg_migration *m, sg_plan *p, size_t map, const sg_fk_info *f, size_t i,
                   const sg_fk_info *tf, size_t nt)
{
    const sg_map *mp = &m->maps[map];
    bool carried = false;
    for (size_t k = 0; k < mp->n_fks; k++)
        carried |= mp->fk_source[k] == i;
    sg_buf name = SG_BUF_INIT;
    bool transformed = false;
    sg_buf_printf(&name, "%s%s(", f->name ? f->name : "", f->name ? " " : "");
    for (size_t k = 0; k < f->n; k++) {
        sg_buf_printf(&name, "%s%s", k ? ", " : "", f->cols[k]);
        transformed |= !sg_mapping_target_column(m, mp, f->cols[k]);
    }
    sg_buf_printf(&name, ") -> %s", f->ref_table);
    bool found = false;
    for (size_t k = 0; !transformed && k < nt && !found; k++)
        found = fk_matches(m, mp, f, &tf[k]);
    int rc = sg_buf_failed(&name) ? sg_err_set(&m->err, SG_ENOMEM, "out of memory")
             : transformed ? add(m, p, map, "foreign key", sg_buf_str(&name), SG_COMPAT_MAPPED,
                                 "on a column the mapping transforms or drops")
             : found ? add(m, p, map, "foreign key", sg_buf_str(&name), SG_COMPAT_SAME, "")
             : carried && !sg_db_adds_foreign_keys(m->tgt)
                 ? add(m, p, map, "foreign key", sg_buf_str(&name), SG_COMPAT_SAME,
                       "made with the table (foreign_keys: true)")
             : carried ? add(m, p, map, "foreign key", sg_buf_str(&name), SG_COMPAT_MAPPED,
                             "added at the write cutover (foreign_keys: true), checking "
                             "new writes only; dropped at a rollback")
             : mp->spec->foreign_keys
                 ? add(m, p, map, "foreign key", sg_buf_str(&name), SG_COMPAT_UNEXPECTED,
                       "not carried (plan's warning says why)")
             : mp->spec->create
                 ? add(m, p, map, "foreign key", sg_buf_str(&name), SG_COMPAT_MAPPED,
                       "not carried without foreign_keys: true (changes are applied key "
                       "by key, a child's before its parent's)")
                 : add(m, p, map, "foreign key", sg_buf_str(&name), SG_COMPAT_UNEXPECTED,
                       "the target lacks it");
    sg_buf_free(&name);
    return rc;
}

static int foreign_keys(sg_migration *m, sg_plan *p, size_t map, const sg_table_info *t)
{
    sg_fk_info *src = NULL, *tgt = NULL;
    size_t ns = 0, nt = 0;
    int rc = sg_db_table_foreign_keys(m->src, m->maps[map].src, &src, &ns, &m->err);
    if (!rc && t)
        rc = sg_db_table_foreign_keys(m->tgt, t, &tgt, &nt, &m->err);
    for (size_t i = 0; !rc && i < ns; i++)
        rc = fk_line(m, p, map, &src[i], i, tgt, nt);
    sg_fk_infos_free(src, ns);
    sg_fk_infos_free(tgt, nt);
    return rc;
}

/* A trigger of the source table runs code segue cannot carry: the target
 * must have one of that name. */
static int triggers(sg_migration *m, sg_plan *p, size_t map, const sg_table_info *t)
{
    char **src = NULL, **tgt = NULL;
    size_t ns = 0, nt = 0;
    int rc = sg_db_table_triggers(m->src, m->maps[map].src, &src, &ns, &m->err);
    if (!rc && t)
        rc = sg_db_table_triggers(m->tgt, t, &tgt, &nt, &m->err);
    for (size_t i = 0; !rc && i < ns; i++) {
        bool found = false;
        for (size_t k = 0; k < nt && !found; k++)
            found = sg_db_same_name(m->tgt, src[i], tgt[k]);
        rc = add(m, p, map, "trigger", src[i], found ? SG_COMPAT_SAME : SG_COMPAT_UNEXPECTED,
                 found ? "" : "the target has no trigger of that name, so what it does "
                 "stops at the write cutover; hint: create it on the target (segue "
                 "cannot carry a trigger's code)");
    }
    sg_names_free(src, ns);
    sg_names_free(tgt, nt);
    return rc;
}

int sg_plan_compat_map(sg_migration *m, size_t map, sg_plan *p, bool backfilled)
{
    const sg_map *mp = &m->maps[map];
    sg_table_info *t = NULL;
    sg_index_info *six = NULL, *tix = NULL;
    size_t ns = 0, nt = 0;
    int rc = sg_db_table_info(m->tgt, mp->fwd.to_table, &t, &m->err);
    if (!rc && !t && !mp->spec->create)
        return 0; /* a missing target is a blocker already */
    for (size_t i = 0; !rc && i < mp->fwd.n_cols; i++)
        rc = column(m, p, map, t, i);
    if (!rc)
        rc = sg_db_table_indexes(m->src, mp->src, &six, &ns, &m->err);
    if (!rc && t)
        rc = sg_db_table_indexes(m->tgt, t, &tix, &nt, &m->err);
    for (size_t i = 0; !rc && i < ns; i++)
        if (six[i].valid)
            rc = index_line(m, p, map, &six[i], t, tix, nt,
                            mp->spec->create && !backfilled);
    if (!rc)
        rc = checks(m, p, map, t);
    if (!rc)
        rc = foreign_keys(m, p, map, t);
    if (!rc)
        rc = triggers(m, p, map, t);
    sg_index_infos_free(six, ns);
    sg_index_infos_free(tix, nt);
    sg_table_info_free(t);
    return rc;
}
