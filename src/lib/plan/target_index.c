/* The source's secondary indexes carried to a created target table:
 * columns renamed through the mapping's plain references, expressions and
 * partial-index predicates rewritten the same way, names made unique in the
 * target database. What cannot be carried is noted with the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "base/sqllex.h"
#include "plan/mapping.h"

/* PostgreSQL cuts longer identifiers (NAMEDATALEN - 1); SQLite has no limit. */
#define INDEX_NAME_MAX 63

/* The target column a source column is copied to by a plain reference. */
static const char *target_column(sg_migration *m, const sg_map *mp, int col)
{
    for (size_t i = 0; col >= 0 && i < mp->fwd.n_cols; i++)
        if (sg_mapping_plain_ref(m->src, mp->src, mp->fwd.exprs[i]) == col)
            return mp->fwd.to_cols[i];
    return NULL;
}

int sg_mapping_map_expr(sg_migration *m, const sg_map *mp, const char *text, sg_buf *out,
                        char *why, size_t size)
{
    char name[256];
    bool after_dot = false, foreign = false;
    for (sg_tok t = sg_sqllex_next(text, 0); t.kind != SG_TOK_END;
         t = sg_sqllex_next(text, t.start + t.len)) {
        bool word = t.kind == SG_TOK_IDENT || t.kind == SG_TOK_QIDENT;
        sg_tok next = sg_sqllex_next_solid(text, t.start + t.len);
        bool call = word && next.kind == SG_TOK_PUNCT && text[next.start] == '(';
        int col = -1;
        if (word && !call && !after_dot) {
            sg_sqllex_name(text, t, name, sizeof name);
            col = sg_table_info_column(m->src, mp->src, name);
        }
        if (t.kind != SG_TOK_SPACE)
            after_dot = t.kind == SG_TOK_PUNCT && (text[t.start] == '.' || t.len == 2);
        foreign |= call || (t.kind == SG_TOK_PUNCT && t.len == 2);
        if (col < 0) {
            sg_buf_putn(out, text + t.start, t.len);
            continue;
        }
        const char *to = target_column(m, mp, col);
        if (!to) {
            snprintf(why, size, "column %s is not copied as it is (the mapping "
                     "transforms or drops it)", mp->src->cols[col].name);
            return 1;
        }
        sg_db_ident(m->tgt, out, to);
    }
    if (foreign && sg_typemap_crossing(m)) {
        snprintf(why, size, "its expression (%s) is spelled for the source's engine", text);
        return 1;
    }
    return 0;
}

/* The target's name for source index `name`: in another database the
 * same; in the same one with the source table's name replaced by the
 * target's (or the target's appended), so the two can live side by side. */
static char *index_name(sg_migration *m, const sg_map *mp, const sg_index_info *ix)
{
    sg_buf b = SG_BUF_INIT;
    const char *from = mp->fwd.from_table, *to = mp->fwd.to_table;
    const char *at = strcasestr(ix->name, from);
    if (strncmp(ix->name, "sqlite_autoindex_", 17) == 0) {
        sg_buf_printf(&b, "%s", to);
        for (size_t k = 0; k < ix->n; k++)
            if (ix->cols[k] >= 0 && target_column(m, mp, ix->cols[k]))
                sg_buf_printf(&b, "_%s", target_column(m, mp, ix->cols[k]));
        sg_buf_puts(&b, "_key");
    } else if (m->src != m->tgt) {
        sg_buf_puts(&b, ix->name);
    } else if (at && *from) {
        sg_buf_putn(&b, ix->name, (size_t)(at - ix->name));
        sg_buf_printf(&b, "%s%s", to, at + strlen(from));
    } else {
        sg_buf_printf(&b, "%s_%s", ix->name, to);
    }
    if (m->src == m->tgt && sg_db_same_name(m->tgt, sg_buf_str(&b), ix->name))
        sg_buf_printf(&b, "_%s", to);
    char *s = sg_buf_take(&b);
    if (s && strlen(s) > INDEX_NAME_MAX) {
        size_t n = INDEX_NAME_MAX;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* not inside a UTF-8 character */
        s[n] = '\0';
    }
    return s;
}

/* Spells part k of ix for the target into b: 0, 1 (why set), or -1. */
static int map_part(sg_migration *m, const sg_map *mp, const sg_index_info *ix, size_t k,
                    sg_buf *b, char *why, size_t size)
{
    if (ix->cols[k] >= 0) {
        const char *to = target_column(m, mp, ix->cols[k]);
        if (!to) {
            snprintf(why, size, "column %s is not copied as it is (the mapping "
                     "transforms or drops it)", mp->src->cols[ix->cols[k]].name);
            return 1;
        }
        sg_db_ident(m->tgt, b, to);
        return 0;
    }
    sg_buf_putc(b, '(');
    int rc = sg_mapping_map_expr(m, mp, ix->exprs[k], b, why, size);
    sg_buf_putc(b, ')');
    return rc;
}

static void target_index_free(sg_target_index *t)
{
    for (size_t k = 0; t->parts && k < t->n; k++)
        free(t->parts[k]);
    free(t->parts);
    free(t->desc);
    free(t->name);
    free(t->source_name);
    free(t->where);
    free(t->method);
}

/* Carries ix into t: 0, 1 (why set: not carried), or -1 out of memory. */
static int carry(sg_migration *m, const sg_map *mp, const sg_index_info *ix,
                 sg_target_index *t, char *why, size_t size)
{
    sg_buf b = SG_BUF_INIT;
    int rc = 0;
    memset(t, 0, sizeof *t);
    t->unique = ix->unique;
    t->parts = calloc(ix->n ? ix->n : 1, sizeof *t->parts);
    t->desc = calloc(ix->n ? ix->n : 1, sizeof *t->desc);
    if (!t->parts || !t->desc)
        return -1;
    for (size_t k = 0; ix->unique && k < ix->n; k++)
        if (ix->cols[k] < 0) {
            /* apply can meet a value that moved between rows before the
             * change that freed it; it finds the row holding it by plain
             * columns only (displace.h) */
            snprintf(why, size, "a unique index on an expression could refuse a "
                     "change applied before the change that freed its value");
            return 1;
        }
    if (ix->method && sg_typemap_crossing(m)) {
        snprintf(why, size, "its access method (%s) is the source engine's", ix->method);
        return 1;
    }
    for (size_t k = 0; k < ix->n && !rc; k++) {
        sg_buf_reset(&b);
        if ((rc = map_part(m, mp, ix, k, &b, why, size)) == 0 &&
            !(t->parts[t->n++] = sg_buf_take(&b)))
            rc = -1;
        t->desc[k] = ix->desc[k];
    }
    sg_buf_reset(&b);
    if (!rc && ix->where && (rc = sg_mapping_map_expr(m, mp, ix->where, &b, why, size)) == 0 &&
        !(t->where = sg_buf_take(&b)))
        rc = -1;
    sg_buf_free(&b);
    if (!rc && ((ix->method && !(t->method = strdup(ix->method))) ||
                !(t->name = index_name(m, mp, ix)) || !(t->source_name = strdup(ix->name))))
        rc = -1;
    return rc;
}

/* Part text of a hand-given index into b, and whether it says DESC: a
 * target column by name is quoted, anything else goes in parentheses. */
static bool spec_part(sg_migration *m, const sg_map *mp, const char *part, sg_buf *b)
{
    size_t end = strlen(part);
    bool desc = false;
    sg_tok last = { SG_TOK_END, 0, 0 };
    for (sg_tok t = sg_sqllex_next_solid(part, 0); t.kind != SG_TOK_END;
         t = sg_sqllex_next_solid(part, t.start + t.len))
        last = t;
    if (sg_sqllex_is(part, last, "DESC") || sg_sqllex_is(part, last, "ASC")) {
        desc = sg_sqllex_is(part, last, "DESC");
        end = last.start;
    }
    while (end && part[end - 1] == ' ')
        end--;
    char name[256];
    sg_tok t = sg_sqllex_next_solid(part, 0);
    bool one = (t.kind == SG_TOK_IDENT || t.kind == SG_TOK_QIDENT) && t.start + t.len == end;
    if (one)
        sg_sqllex_name(part, t, name, sizeof name);
    for (size_t i = 0; one && i < mp->fwd.n_cols; i++)
        if (sg_db_same_name(m->tgt, mp->fwd.to_cols[i], name)) {
            sg_db_ident(m->tgt, b, mp->fwd.to_cols[i]);
            return desc;
        }
    sg_buf_printf(b, "(%.*s)", (int)end, part);
    return desc;
}

/* Index i of the spec's indexes: into t. 0 or -1 out of memory. */
static int from_spec(sg_migration *m, const sg_map *mp, const sg_spec_index *x,
                     sg_target_index *t)
{
    sg_buf b = SG_BUF_INIT, nb = SG_BUF_INIT;
    int rc = 0;
    memset(t, 0, sizeof *t);
    t->unique = x->unique;
    t->parts = calloc(x->n, sizeof *t->parts);
    t->desc = calloc(x->n, sizeof *t->desc);
    if (!t->parts || !t->desc)
        return -1;
    sg_buf_puts(&nb, mp->fwd.to_table);
    for (size_t k = 0; k < x->n && !rc; k++) {
        sg_buf_reset(&b);
        t->desc[k] = spec_part(m, mp, x->parts[k], &b);
        rc = (t->parts[t->n++] = sg_buf_take(&b)) ? 0 : -1;
        sg_buf_putc(&nb, '_');
        for (const char *c = x->parts[k]; *c; c++)
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))
                sg_buf_putc(&nb, *c);
    }
    sg_buf_puts(&nb, x->unique ? "_key" : "_idx");
    if (!rc && x->where && !(t->where = strdup(x->where)))
        rc = -1;
    if (!rc && !(t->name = x->name ? strdup(x->name) : sg_buf_take(&nb)))
        rc = -1;
    if (!rc && strlen(t->name) > INDEX_NAME_MAX)
        t->name[INDEX_NAME_MAX] = '\0';
    sg_buf_free(&b);
    sg_buf_free(&nb);
    return rc;
}

int sg_mapping_target_indexes(sg_migration *m, sg_map *mp)
{
    sg_index_info *v = NULL;
    size_t n = 0;
    char why[512];
    const sg_spec_mapping *sm = mp->spec;
    int rc = sg_db_table_indexes(m->src, mp->src, &v, &n, &m->err);
    if (!rc && n + sm->n_indexes &&
        !(mp->indexes = calloc(n + sm->n_indexes, sizeof *mp->indexes)))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < sm->n_indexes; i++)
        if (from_spec(m, mp, &sm->indexes[i], &mp->indexes[mp->n_indexes++]))
            rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        sg_target_index *t = &mp->indexes[mp->n_indexes];
        int c = v[i].valid ? carry(m, mp, &v[i], t, why, sizeof why) : 0;
        if (c == 0 && v[i].valid && v[i].include &&
            sg_mapping_carry_note(mp, "%s: index %s is carried without its INCLUDE "
                                  "columns", mp->label, v[i].name))
            c = -1;
        if (c == 0 && v[i].valid) {
            mp->n_indexes++;
            continue;
        }
        target_index_free(t);
        if (c < 0 || (c > 0 && sg_mapping_carry_note(mp, "%s: index %s is not carried to "
                                                     "%s: %s; hint: give it under "
                                                     "indexes: in the spec, over "
                                                     "the target's columns",
                                                     mp->label, v[i].name,
                                                     mp->fwd.to_table, why)))
            rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    }
    sg_index_infos_free(v, n);
    return rc;
}

void sg_mapping_target_indexes_free(sg_map *mp)
{
    for (size_t i = 0; i < mp->n_indexes; i++)
        target_index_free(&mp->indexes[i]);
    for (size_t i = 0; i < mp->n_carry_notes; i++)
        free(mp->carry_notes[i]);
    free(mp->indexes);
    free(mp->carry_notes);
    mp->indexes = NULL;
    mp->carry_notes = NULL;
    mp->n_indexes = mp->n_carry_notes = 0;
}

void sg_mapping_index_def(const sg_map *mp, size_t i, sg_index_def *d)
{
    const sg_target_index *t = &mp->indexes[i];
    d->name = t->name;
    d->table = mp->fwd.to_table;
    d->unique = t->unique;
    d->n = t->n;
    d->parts = (const char *const *)t->parts;
    d->desc = t->desc;
    d->where = t->where;
    d->method = t->method;
}
