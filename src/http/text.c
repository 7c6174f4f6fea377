#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static bool reserve(http_text *t, size_t more)
{
    if (t->oom)
        return false;
    if (t->len + more + 1 <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *p = realloc(t->p, cap);
    if (!p)
        return !(t->oom = true);
    t->p = p;
    t->cap = cap;
    return true;
}

void http_text_add(http_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(t, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void http_text_label(http_text *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            http_text_add(t, "\\%c", *s);
        else if (*s == '\n')
            http_text_add(t, "\\n");
        else if (reserve(t, 1)) {
            t->p[t->len++] = *s;
            t->p[t->len] = '\0';
        }
    }
}

void http_text_free(http_text *t)
{
    free(t->p);
    *t = (http_text){ 0 };
}
