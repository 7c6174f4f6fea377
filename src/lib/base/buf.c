#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

void sg_buf_init(sg_buf *b)
{
    *b = (sg_buf)SG_BUF_INIT;
}

void sg_buf_free(sg_buf *b)
{
    free(b->data);
    sg_buf_init(b);
}

void sg_buf_reset(sg_buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

static bool grow(sg_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > b->cap || b->len > b->cap - extra) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return true;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    char *p = realloc(b->data, n);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->alloc = n;
    return true;
}

void sg_buf_putn(sg_buf *b, const void *p, size_t n)
{
    if (!grow(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sg_buf_puts(sg_buf *b, const char *s)
{
    sg_buf_putn(b, s, strlen(s));
}

void sg_buf_putc(sg_buf *b, char c)
{
    sg_buf_putn(b, &c, 1);
}

void sg_buf_vprintf(sg_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!grow(b, (size_t)n))
        return;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sg_buf_printf(sg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sg_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *sg_buf_str(const sg_buf *b)
{
    return b->data ? b->data : "";
}

bool sg_buf_failed(const sg_buf *b)
{
    return b->failed;
}

char *sg_buf_take(sg_buf *b)
{
    if (b->failed) {
        sg_buf_free(b);
        return NULL;
    }
    char *s = b->data ? b->data : strdup("");
    sg_buf_init(b);
    return s;
}
