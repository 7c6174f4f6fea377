#include "sql_std.h"

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
