#include "driver/sql_std.h"

#include "driver/driver.h"

static void quote(sg_buf *b, const char *s, char q)
{
    sg_buf_putc(b, q);
    for (const char *p = s; *p; p++) {
        if (*p == q)
            sg_buf_putc(b, q);
        sg_buf_putc(b, *p);
    }
    sg_buf_putc(b, q);
}

void sg_std_quote_ident(sg_buf *b, const char *id)
{
    quote(b, id, '"');
}

void sg_std_quote_joined(sg_buf *b, const char *prefix, const char *suffix)
{
    sg_buf tmp = SG_BUF_INIT;
    sg_buf_printf(&tmp, "%s_%s", prefix, suffix);
    if (sg_buf_failed(&tmp))
        b->failed = true;
    else
        sg_std_quote_ident(b, sg_buf_str(&tmp));
    sg_buf_free(&tmp);
}

void sg_std_quote_literal(sg_buf *b, const char *s)
{
    quote(b, s, '\'');
}

void sg_std_param(sg_buf *b, int n)
{
    sg_buf_printf(b, "$%d", n);
}

static bool in_list(const char *s, size_t n, const char *const *list,
                    bool (*same_name)(const char *, const char *))
{
    for (size_t i = 0; i < n; i++)
        if (same_name(s, list[i]))
            return true;
    return false;
}

void sg_std_upsert_tail(sg_buf *b, size_t n_keys, const char *const *keys,
                        size_t n_cols, const char *const *cols,
                        bool (*same_name)(const char *, const char *))
{
    sg_buf_puts(b, " ON CONFLICT (");
    for (size_t i = 0; i < n_keys; i++) {
        if (i)
            sg_buf_puts(b, ", ");
        sg_std_quote_ident(b, keys[i]);
    }
    sg_buf_puts(b, ")");
    bool any = false;
    for (size_t i = 0; i < n_cols; i++) {
        if (in_list(cols[i], n_keys, keys, same_name))
            continue;
        sg_buf_puts(b, any ? ", " : " DO UPDATE SET ");
        any = true;
        sg_std_quote_ident(b, cols[i]);
        sg_buf_puts(b, " = excluded.");
        sg_std_quote_ident(b, cols[i]);
    }
    if (!any)
        sg_buf_puts(b, " DO NOTHING");
}

/* Reads the numbers in "(p, s)" starting at *p (just past the '('). */
static const char *type_mods(const char *p, int mods[2])
{
    int k = 0;
    while (*p && *p != ')') {
        if (*p >= '0' && *p <= '9') {
            long x = 0;
            for (; *p >= '0' && *p <= '9'; p++)
                x = x < 100000 ? x * 10 + (*p - '0') : x;
            if (k < 2)
                mods[k++] = (int)x;
        } else {
            p++;
        }
    }
    return *p ? p + 1 : p;
}

void sg_std_type_split(const char *decl, char *name, size_t cap, int mods[2])
{
    size_t n = 0;
    mods[0] = mods[1] = -1;
    for (const char *p = decl ? decl : ""; *p && n + 1 < cap;) {
        if (*p == '(') {
            p = type_mods(p + 1, mods);
        } else if (*p == ' ' || *p == '\t' || *p == '\n') {
            if (n && name[n - 1] != ' ')
                name[n++] = ' ';
            p++;
        } else {
            char c = *p++;
            name[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
    }
    while (n && name[n - 1] == ' ')
        n--;
    if (cap)
        name[n] = '\0';
}

void sg_std_index_sql(sg_buf *b, const sg_index_def *d, const char *how)
{
    sg_buf_printf(b, "CREATE %sINDEX %s", d->unique ? "UNIQUE " : "", how);
    sg_std_quote_ident(b, d->name);
    sg_buf_puts(b, " ON ");
    sg_std_quote_ident(b, d->table);
    if (d->method)
        sg_buf_printf(b, " USING %s", d->method);
    sg_buf_puts(b, " (");
    for (size_t i = 0; i < d->n; i++)
        sg_buf_printf(b, "%s%s%s", i ? ", " : "", d->parts[i],
                      d->desc && d->desc[i] ? " DESC" : "");
    sg_buf_putc(b, ')');
    if (d->where)
        sg_buf_printf(b, " WHERE %s", d->where);
}
