/* Plan notes for moves across engines: which column types narrow what they
 * receive, and how many source rows each narrowing or refusal affects
 * (one scan of the source through the mapping, values conformed exactly as
 * the copy will conform them). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plan/mapping.h"

typedef struct tally {
    int64_t lossy, none, nulls;
    const char *lossy_why, *none_why;
    sg_buf refused;   /* key of the first row the target refuses */
    sg_buf narrowed;  /* key of the first row it narrows */
    long longest;     /* characters in the longest text value read */
} tally;

static bool is_time(sg_kind k)
{
    return k >= SG_K_DATE && k <= SG_K_TIMESTAMPTZ;
}

/* What a column of type tt loses of values of type st, or NULL. */
static const char *narrowing(const sg_coltype *st, const sg_coltype *tt)
{
    if ((st->kind == SG_K_ANY || st->kind == SG_K_OTHER) && st->kind != tt->kind)
        return "no equivalent type in the target: values become text";
    if (st->kind == SG_K_TIMESTAMPTZ && is_time(tt->kind) && tt->kind != st->kind)
        return "time zone dropped: instants become UTC wall-clock times";
    if (st->kind == SG_K_TIMESTAMP && tt->kind == SG_K_TIMESTAMPTZ)
        return "times without a zone are read as UTC";
    if (is_time(st->kind) && is_time(tt->kind) && tt->frac < st->frac)
        return "fewer digits of a second";
    if (tt->kind == SG_K_NUMERIC && tt->approx && !(st->kind == SG_K_NUMERIC && st->approx))
        return "numbers past 15 significant digits become 8-byte floats";
    if (st->kind == tt->kind && (st->kind == SG_K_INT || st->kind == SG_K_REAL) &&
        tt->size && (!st->size || tt->size < st->size))
        return "narrower number type";
    if ((st->kind == SG_K_REAL || st->kind == SG_K_NUMERIC) && tt->kind == SG_K_INT)
        return "fractions rounded to integers";
    if (st->kind == SG_K_NUMERIC && tt->kind == SG_K_NUMERIC &&
        ((tt->scale >= 0 && (st->scale < 0 || tt->scale < st->scale)) ||
         (tt->size && (!st->size || tt->size < st->size))))
        return "fewer numeric digits";
    if (st->kind == SG_K_TEXT && tt->kind == SG_K_TEXT && tt->size &&
        (!st->size || tt->size < st->size))
        return "shorter text";
    return NULL;
}

/* Conforms one row's values, counting per column. */
static void tally_row(sg_flow *f, sg_value *v, const bool *notnull, tally *t,
                      sg_buf *scratch)
{
    sg_value kv[SG_MAX_KEY];
    for (size_t k = 0; k < f->n_key && k < SG_MAX_KEY; k++)
        kv[k] = v[f->key_pos[k]];
    for (size_t i = 0; i < f->n_cols; i++) {
        tally *c = &t[i];
        sg_value x = v[i];
        const char *why = NULL;
        sg_buf *first = NULL;
        if (x.type == SG_V_TEXT) {
            long chars = sg_utf8_chars(x.p, x.n);
            c->longest = chars > c->longest ? chars : c->longest;
        }
        if (x.type == SG_V_NULL && notnull[i]) {
            first = c->none + c->nulls++ == 0 ? &c->refused : NULL;
        } else {
            sg_fit fit = sg_conform(&f->types[i], &x, scratch, &why);
            if (fit == SG_FIT_NONE && !c->none++)
                c->none_why = why;
            if (fit == SG_FIT_LOSSY && !c->lossy++)
                c->lossy_why = why;
            if (fit == SG_FIT_NONE && c->none + c->nulls == 1)
                first = &c->refused;
            else if (fit == SG_FIT_LOSSY && c->lossy == 1)
                first = &c->narrowed;
        }
        if (first)
            sg_key_format(first, kv, f->n_key);
    }
}

static int scan(sg_err *e, sg_flow *f, const bool *notnull, tally *t,
                int64_t *rows)
{
    sg_stmt *s = NULL;
    sg_value v[SG_MAX_COLS];
    sg_buf scratch = SG_BUF_INIT;
    int rc = sg_flow_scan(f, false, NULL, NULL, &s, e);
    *rows = 0;
    while (!rc && (rc = sg_db_step(s, e)) == 1) {
        for (size_t i = 0; i < f->n_cols; i++)
            sg_db_column(s, (int)i, &v[i]);
        tally_row(f, v, notnull, t, &scratch);
        (*rows)++;
        rc = 0;
    }
    sg_db_finalize(s);
    sg_buf_free(&scratch);
    return rc;
}

/* NOT NULL columns of an existing target table (create: false). */
static int target_notnull(sg_migration *m, sg_map *mp, bool *out)
{
    sg_table_info *t = NULL;
    int rc = sg_db_table_info(m->tgt, mp->fwd.to_table, &t, &m->err);
    for (size_t i = 0; !rc && t && i < mp->fwd.n_cols; i++) {
        int c = sg_table_info_column(m->tgt, t, mp->fwd.to_cols[i]);
        out[i] = c >= 0 && t->cols[c].notnull;
    }
    sg_table_info_free(t);
    return rc;
}

static int note_column(sg_migration *m, sg_map *mp, size_t i, const tally *t,
                       int64_t rows, sg_plan *p)
{
    sg_flow *f = &mp->fwd;
    sg_coltype st;
    sg_buf from = SG_BUF_INIT, to = SG_BUF_INIT;
    sg_db_type_parse(m->src, mp->from_types[i], &st);
    const char *narrow = mp->from_types[i] || !mp->spec->n_cols || !mp->spec->cols[i].type
                             ? narrowing(&st, &f->types[i]) : NULL;
    int rc = 0;
    sg_coltype_describe(&st, &from);
    sg_coltype_describe(&f->types[i], &to);
    if (t->none || t->nulls)
        rc = sg_plan_note(&m->err, p, true, "%s: column '%s' (%s): %lld of %lld rows "
                          "cannot be written: %s (first key %s); hint: change "
                          "the column's type or expression, or fix those rows",
                          mp->label, f->to_cols[i], sg_buf_str(&to),
                          (long long)(t->none + t->nulls), (long long)rows,
                          t->nulls ? "NULL into a NOT NULL column" : t->none_why,
                          sg_buf_str(&t->refused));
    if (!rc && (narrow || t->lossy))
        rc = sg_plan_note(&m->err, p, false, "%s: column '%s' (%s -> %s): %s%s%lld of "
                          "%lld rows narrowed%s%s%s%s%s", mp->label, f->to_cols[i],
                          sg_buf_str(&from), sg_buf_str(&to), narrow ? narrow : "",
                          narrow ? "; " : "", (long long)t->lossy, (long long)rows,
                          t->lossy ? " (" : "", t->lossy ? t->lossy_why : "",
                          t->lossy ? ", first key " : "",
                          t->lossy ? sg_buf_str(&t->narrowed) : "", t->lossy ? ")" : "");
    if (!rc && narrow && (st.kind == SG_K_ANY || st.kind == SG_K_OTHER))
        rc = sg_plan_note(&m->err, p, false, "%s: column '%s': hint: give it a type "
                          "in the spec: columns: {%s: {expr: ..., type: <target type>}}",
                          mp->label, f->to_cols[i], f->to_cols[i]);
    if (!rc && f->types[i].kind == SG_K_TEXT && f->types[i].size &&
        t->longest > f->types[i].size)
        rc = sg_plan_note(&m->err, p, false, "%s: column '%s' allows %d characters; "
                          "the longest source value has %ld", mp->label,
                          f->to_cols[i], f->types[i].size, t->longest);
    sg_buf_free(&from);
    sg_buf_free(&to);
    return rc;
}

int sg_plan_types(sg_migration *m, size_t i, sg_plan *p)
{
    sg_map *mp = &m->maps[i];
    sg_flow *f = &mp->fwd;
    int64_t rows = 0;
    int rc = 0;
    if (!f->types)
        return 0;
    tally *t = calloc(f->n_cols ? f->n_cols : 1, sizeof *t);
    bool *notnull = calloc(f->n_cols ? f->n_cols : 1, sizeof *notnull);
    if (!t || !notnull) {
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < f->n_cols; c++) {
        sg_buf_init(&t[c].refused);
        sg_buf_init(&t[c].narrowed);
    }
    if (!mp->spec->create && (rc = target_notnull(m, mp, notnull)) != 0)
        goto done;
    if ((rc = scan(&m->err, f, notnull, t, &rows)) != 0)
        goto done;
    for (size_t c = 0; !rc && c < f->n_cols; c++)
        rc = note_column(m, mp, c, &t[c], rows, p);
    for (size_t k = 0; !rc && k < f->n_key; k++)
        if (f->types[f->key_pos[k]].kind == SG_K_TEXT ||
            f->types[f->key_pos[k]].kind == SG_K_OTHER)
            rc = sg_plan_note(&m->err, p, false, "%s: key column '%s' is text: both "
                              "sides must sort it alike (bytes: PostgreSQL's "
                              "\"C\" collation, SQLite's BINARY); start checks "
                              "the target column's collation and refuses "
                              "otherwise", mp->label, f->to_key[k]);
done:
    for (size_t c = 0; t && c < f->n_cols; c++) {
        sg_buf_free(&t[c].refused);
        sg_buf_free(&t[c].narrowed);
    }
    free(t);
    free(notnull);
    return rc;
}
