/* A declared type for a target column made from an expression the source
 * engine gives no type (SQLite types only plain columns), so the column is
 * not left untyped: CAST(... AS T) gives T; a built-in function what the
 * driver says it returns, or the type of its first column argument; a
 * concatenation, text. Anything else stays untyped (give `type:`). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "base/sqllex.h"
#include "plan/mapping.h"

static bool punct(const char *s, sg_tok t, char c)
{
    return t.kind == SG_TOK_PUNCT && t.len == 1 && s[t.start] == c;
}

/* The type text of CAST(x AS type) starting at token t, or NULL. */
static char *cast_type(const char *e, sg_tok t)
{
    sg_tok open = sg_sqllex_next_solid(e, t.start + t.len);
    if (!punct(e, open, '('))
        return NULL;
    int depth = 1;
    size_t from = 0;
    for (sg_tok k = sg_sqllex_next_solid(e, open.start + 1); k.kind != SG_TOK_END;
         k = sg_sqllex_next_solid(e, k.start + k.len)) {
        depth += punct(e, k, '(') - punct(e, k, ')');
        if (depth == 1 && !from && sg_sqllex_is(e, k, "AS"))
            from = k.start + k.len;
        if (depth == 0) {
            while (from && from < k.start && e[from] == ' ')
                from++;
            return from && from < k.start ? strndup(e + from, k.start - from) : NULL;
        }
    }
    return NULL;
}

/* The declared type of the first source column named after position pos. */
static char *first_column_type(sg_migration *m, const sg_map *mp, const char *e, size_t pos)
{
    char name[256];
    for (sg_tok t = sg_sqllex_next_solid(e, pos); t.kind != SG_TOK_END;
         t = sg_sqllex_next_solid(e, t.start + t.len)) {
        if (t.kind != SG_TOK_IDENT && t.kind != SG_TOK_QIDENT)
            continue;
        sg_sqllex_name(e, t, name, sizeof name);
        int c = sg_table_info_column(m->src, mp->src, name);
        if (c >= 0 && *mp->src->cols[c].decl_type)
            return strdup(mp->src->cols[c].decl_type);
    }
    return NULL;
}

/* Whether e has a || outside parentheses. */
static bool concatenates(const char *e)
{
    int depth = 0;
    sg_tok prev = { SG_TOK_END, 0, 0 };
    for (sg_tok t = sg_sqllex_next_solid(e, 0); t.kind != SG_TOK_END;
         prev = t, t = sg_sqllex_next_solid(e, t.start + t.len)) {
        depth += punct(e, t, '(') - punct(e, t, ')');
        if (depth == 0 && punct(e, t, '|') && punct(e, prev, '|') && prev.start + 1 == t.start)
            return true;
    }
    return false;
}

char *sg_mapping_guess_type(sg_migration *m, const sg_map *mp, const char *e)
{
    sg_tok t = sg_sqllex_next_solid(e, 0);
    sg_tok next = sg_sqllex_next_solid(e, t.start + t.len);
    const char *text = sg_db_function_type(m->src, "concat");
    if (concatenates(e))
        return text && *text ? strdup(text) : NULL;
    if (sg_sqllex_is(e, t, "CAST"))
        return cast_type(e, t);
    if (t.kind != SG_TOK_IDENT || !punct(e, next, '('))
        return NULL;
    char fn[64];
    sg_sqllex_name(e, t, fn, sizeof fn);
    const char *type = sg_db_function_type(m->src, fn);
    if (!type)
        return NULL;
    return *type ? strdup(type) : first_column_type(m, mp, e, next.start + 1);
}
