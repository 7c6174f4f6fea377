/* The target table a mapping creates (create: true), spelled in the target
 * engine's terms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "base/sqllex.h"
#include "plan/mapping.h"

/* Across engines, a default both spell alike: a number, a string, NULL,
 * TRUE, FALSE or the current date or time (PostgreSQL's now() too), in
 * parentheses or not, a cast after it dropped ('x'::text). Into out; 0, or
 * 1 when d is something else. A number into a boolean column is spelled
 * TRUE or FALSE. */
static int portable_default(const char *d, bool to_bool, sg_buf *out)
{
    static const char *const words[] = { "NULL", "TRUE", "FALSE", "CURRENT_TIMESTAMP",
                                         "CURRENT_DATE", "CURRENT_TIME" };
    sg_tok t = sg_sqllex_next_solid(d, 0);
    size_t open = 0, end;
    for (; t.kind == SG_TOK_PUNCT && d[t.start] == '('; open++)
        t = sg_sqllex_next_solid(d, t.start + 1);
    sg_tok num = t;
    if (t.kind == SG_TOK_PUNCT && d[t.start] == '-')
        num = sg_sqllex_next_solid(d, t.start + 1);
    if (num.kind == SG_TOK_NUMBER) {
        end = num.start + num.len;
        if (to_bool)
            sg_buf_puts(out, strtod(d + num.start, NULL) != 0 ? "TRUE" : "FALSE");
        else
            sg_buf_putn(out, d + t.start, end - t.start);
    } else if (t.kind == SG_TOK_STRING && d[t.start] == '\'') {
        end = t.start + t.len;
        sg_buf_putn(out, d + t.start, t.len);
    } else if (sg_sqllex_is(d, t, "now")) {
        sg_tok a = sg_sqllex_next_solid(d, t.start + t.len);
        sg_tok b = a.kind == SG_TOK_PUNCT ? sg_sqllex_next_solid(d, a.start + 1) : a;
        if (a.kind != SG_TOK_PUNCT || d[a.start] != '(' || b.kind != SG_TOK_PUNCT ||
            d[b.start] != ')')
            return 1;
        end = b.start + 1;
        sg_buf_puts(out, "CURRENT_TIMESTAMP");
    } else {
        size_t w = 0;
        while (w < sizeof words / sizeof words[0] && !sg_sqllex_is(d, t, words[w]))
            w++;
        if (w == sizeof words / sizeof words[0])
            return 1;
        end = t.start + t.len;
        sg_buf_puts(out, words[w]);
    }
    /* what may follow: closing parentheses, and casts (a type's words,
     * numbers and parentheses after each ::) */
    bool cast = false;
    for (t = sg_sqllex_next_solid(d, end); t.kind != SG_TOK_END;
         t = sg_sqllex_next_solid(d, t.start + t.len)) {
        bool close = t.kind == SG_TOK_PUNCT && d[t.start] == ')';
        bool type_part = t.kind == SG_TOK_IDENT || t.kind == SG_TOK_QIDENT ||
                         t.kind == SG_TOK_NUMBER ||
                         (t.kind == SG_TOK_PUNCT && strchr("(),", d[t.start]));
        if (t.kind == SG_TOK_PUNCT && t.len == 2)
            cast = true;
        else if (!(close && open) && !(cast && type_part))
            return 1;
    }
    return 0;
}

/* Whether the target database knows every function and type a default
 * names (it prepares "SELECT (d)"). */
static bool target_knows(sg_migration *m, const char *d)
{
    sg_buf q = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_err ignored;
    sg_buf_printf(&q, "SELECT (%s)", d);
    bool ok = !sg_buf_failed(&q) && sg_db_prepare(m->tgt, sg_buf_str(&q), &s, &ignored) == 0;
    sg_db_finalize(s);
    sg_buf_free(&q);
    return ok;
}

/* Whether default d of source column c is nextval of its own sequence and
 * nothing else, in another database of the same engine: the target gets a
 * sequence made like it (start: sg_db_sequence_copy), whose value follows
 * at each write switch (cutover.c). */
static bool own_sequence(const sg_migration *m, const sg_column_info *c, const char *d)
{
    size_t n = strlen(d), tail = strlen("'::regclass)");
    return m->src != m->tgt && !sg_typemap_crossing(m) && c->sequence &&
           strncmp(d, "nextval('", 9) == 0 && n > 9 + tail &&
           strcmp(d + n - tail, "'::regclass)") == 0;
}

/* The source column's default for target column i (a plain reference to
 * source column ref): as it is within one engine, a sequence's outside its
 * database by a sequence of the target's own; across engines only a
 * portable one. What is not carried is noted. */
static int default_clause(sg_migration *m, sg_map *mp, size_t i, int ref, sg_buf *b)
{
    const char *d = mp->src->cols[ref].default_sql, *why = NULL;
    sg_buf v = SG_BUF_INIT;
    sg_coltype ct = SG_COLTYPE_INIT;
    if (!d)
        return 0;
    if (own_sequence(m, &mp->src->cols[ref], d))
        return (mp->col_defaults[i] = strdup(d)) &&
                       (mp->col_sequences[i] = strdup(mp->src->cols[ref].sequence))
                   ? 0 : sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    sg_db_type_parse(m->tgt, mp->col_types[i], &ct);
    /* as it is where it means the same; else the portable spelling */
    bool verbatim = m->src == m->tgt ||
                    (!sg_typemap_crossing(m) && !strcasestr(d, "nextval(") &&
                     target_knows(m, d));
    if (verbatim)
        sg_buf_puts(&v, d);
    else if (portable_default(d, ct.kind == SG_K_BOOL, &v) != 0)
        why = sg_typemap_crossing(m) ? "it is spelled for the source's engine"
              : strcasestr(d, "nextval(") ? "it takes numbers from a sequence of the "
                                            "source database"
                                          : "the target database lacks what it names";
    int rc = 0;
    if (why && sg_mapping_carry_note(mp, "%s: the default of %s (%s) is not carried to "
                                     "%s: %s; hint: inserts on the target must give "
                                     "the value, or add a default to %s.%s yourself",
                                     mp->label, mp->src->cols[ref].name, d,
                                     mp->fwd.to_table, why, mp->fwd.to_table,
                                     mp->fwd.to_cols[i]))
        rc = -1;
    if (!why) {
        sg_buf_printf(b, " DEFAULT %s", sg_buf_str(&v));
        if (!(mp->col_defaults[i] = strdup(sg_buf_str(&v))))
            rc = -1;
    }
    rc = rc || sg_buf_failed(&v) ? sg_err_set(&m->err, SG_ENOMEM, "out of memory") : 0;
    sg_buf_free(&v);
    return rc;
}

/* Whether source column ref, copied as it is into target column i, is one
 * the target's engine numbers too (the source numbers it, and its default,
 * if any, a serial's nextval, is not carried as it is): then its declared
 * type (as the engine needs it: SQLite's rowid is INTEGER) and the clause
 * that numbers it, into b; the numbering moves up at each write switch
 * (cutover.c). Where the target's engine cannot number it, a note. */
static int numbered_def(sg_migration *m, sg_map *mp, size_t i, int ref, sg_buf *b,
                        bool *done)
{
    const sg_column_info *c = &mp->src->cols[ref];
    sg_flow *f = &mp->fwd;
    sg_coltype ct = SG_COLTYPE_INIT;
    *done = false;
    if (!c->numbered || (c->default_sql && !sg_typemap_crossing(m)) || !mp->col_types[i])
        return 0;
    sg_db_type_parse(m->tgt, mp->col_types[i], &ct);
    bool sole = f->n_key == 1 && strcmp(f->to_key[0], f->to_cols[i]) == 0;
    sg_buf clause = SG_BUF_INIT;
    const char *type = ct.kind == SG_K_INT ? sg_db_numbered_column(m->tgt, mp->col_types[i],
                                                                   c->numbered == 'a', sole,
                                                                   &clause)
                                           : NULL;
    int rc = 0;
    if (!type) {
        rc = sg_mapping_carry_note(mp, "%s: %s is numbered by the source when an insert "
                                   "leaves it out; %s.%s cannot be (the target numbers "
                                   "only a sole integer key); hint: inserts on the target "
                                   "must give the value", mp->label, c->name,
                                   f->to_table, f->to_cols[i]);
    } else {
        char *t = type == mp->col_types[i] ? mp->col_types[i] : strdup(type);
        if (t != mp->col_types[i]) {
            free(mp->col_types[i]);
            mp->col_types[i] = t;
        }
        sg_buf_printf(b, " %s%s", t ? t : "", sg_buf_str(&clause));
        rc = !t || !(mp->col_numbered[i] = strdup(c->name));
        *done = true;
    }
    rc = rc || sg_buf_failed(&clause) || sg_buf_failed(b);
    sg_buf_free(&clause);
    return rc ? sg_err_set(&m->err, SG_ENOMEM, "out of memory") : 0;
}

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
    bool numbered = false;
    if (ref >= 0 && numbered_def(m, mp, i, ref, b, &numbered))
        return m->err.code;
    if (!numbered && mp->col_types[i] && *mp->col_types[i])
        sg_buf_printf(b, " %s", mp->col_types[i]);
    if (ref >= 0 && mp->src->cols[ref].notnull && !sm->where)
        sg_buf_puts(b, " NOT NULL");
    return ref >= 0 && !numbered ? default_clause(m, mp, i, ref, b) : 0;
}

/* The source table's CHECK constraints over columns copied as they are,
 * rewritten for the target, appended to the CREATE TABLE in b; a note for
 * each other. */
static int add_checks(sg_migration *m, sg_map *mp, sg_buf *b)
{
    sg_check_info *v = NULL;
    size_t n = 0;
    char why[512];
    int rc = sg_db_table_checks(m->src, mp->src, &v, &n, &m->err);
    for (size_t i = 0; !rc && i < n; i++) {
        sg_buf e = SG_BUF_INIT;
        int c = sg_mapping_map_expr(m, mp, v[i].expr, &e, why, sizeof why);
        if (c == 0) {
            char **p = realloc(mp->checks, (mp->n_checks + 1) * sizeof *p);
            if (p)
                mp->checks = p;
            if (!p || !(p[mp->n_checks] = strdup(sg_buf_str(&e))))
                rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
            else
                mp->n_checks++;
            sg_buf_puts(b, ", ");
            if (v[i].name) {
                sg_buf_puts(b, "CONSTRAINT ");
                sg_db_ident(m->tgt, b, v[i].name);
                sg_buf_putc(b, ' ');
            }
            sg_buf_printf(b, "CHECK (%s)", sg_buf_str(&e));
        }
        if (sg_buf_failed(&e) ||
            (c && sg_mapping_carry_note(mp, "%s: CHECK %s(%s) is not carried to %s: %s; "
                                        "hint: add it to %s yourself", mp->label,
                                        v[i].name ? v[i].name : "", v[i].expr,
                                        mp->fwd.to_table, why, mp->fwd.to_table)))
            rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
        sg_buf_free(&e);
    }
    sg_check_infos_free(v, n);
    return rc;
}

int sg_mapping_target_ddl(sg_migration *m, sg_map *mp)
{
    sg_buf b = SG_BUF_INIT;
    sg_flow *f = &mp->fwd;
    mp->col_types = calloc(f->n_cols ? f->n_cols : 1, sizeof *mp->col_types);
    mp->from_types = calloc(f->n_cols ? f->n_cols : 1, sizeof *mp->from_types);
    mp->col_defaults = calloc(f->n_cols ? f->n_cols : 1, sizeof *mp->col_defaults);
    mp->col_sequences = calloc(f->n_cols ? f->n_cols : 1, sizeof *mp->col_sequences);
    mp->col_numbered = calloc(f->n_cols ? f->n_cols : 1, sizeof *mp->col_numbered);
    if (!mp->col_types || !mp->from_types || !mp->col_defaults || !mp->col_sequences ||
        !mp->col_numbered)
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
    if (add_checks(m, mp, &b)) {
        sg_buf_free(&b);
        return m->err.code;
    }
    sg_buf_puts(&b, ", PRIMARY KEY (");
    sg_sql_ident_list(m->tgt, &b, f->n_key, f->to_key, NULL);
    sg_buf_puts(&b, "))");
    mp->target_ddl = sg_buf_take(&b);
    return mp->target_ddl ? 0 : sg_err_set(&m->err, SG_ENOMEM, "out of memory");
}
