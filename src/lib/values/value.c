#include "values/value.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static void put_u32(sg_buf *b, uint32_t x)
{
    unsigned char o[4] = { (unsigned char)(x >> 24), (unsigned char)(x >> 16),
                           (unsigned char)(x >> 8), (unsigned char)x };
    sg_buf_putn(b, o, 4);
}

static void put_u64(sg_buf *b, uint64_t x)
{
    unsigned char o[8];
    for (int i = 0; i < 8; i++)
        o[i] = (unsigned char)(x >> (56 - 8 * i));
    sg_buf_putn(b, o, 8);
}

static bool is_bytes(sg_vtype t)
{
    return t == SG_V_NUMERIC || t == SG_V_TEXT || t == SG_V_BLOB ||
           t == SG_V_DATETIME;
}

void sg_value_encode(sg_buf *b, const sg_value *v)
{
    unsigned char tag = (unsigned char)v->type;
    sg_buf_putn(b, &tag, 1);
    switch (v->type) {
    case SG_V_NULL:
        break;
    case SG_V_INT:
        put_u64(b, (uint64_t)v->i);
        break;
    case SG_V_REAL: {
        uint64_t bits = UINT64_C(0x7ff8000000000000); /* every NaN alike */
        if (!isnan(v->d))
            memcpy(&bits, &v->d, sizeof bits);
        put_u64(b, bits);
        break;
    }
    case SG_V_BOOL: {
        unsigned char c = v->i ? 1 : 0;
        sg_buf_putn(b, &c, 1);
        break;
    }
    default:
        if (v->n > UINT32_MAX) {
            b->failed = true;
            return;
        }
        put_u32(b, (uint32_t)v->n);
        sg_buf_putn(b, v->p, v->n);
        break;
    }
}

void sg_row_encode(sg_buf *b, const sg_value *v, size_t n)
{
    put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        sg_value_encode(b, &v[i]);
}

static uint64_t get_u(const unsigned char *p, int bytes)
{
    uint64_t x = 0;
    for (int i = 0; i < bytes; i++)
        x = (x << 8) | p[i];
    return x;
}

int sg_row_decode(sg_row *out, const void *data, size_t len)
{
    const unsigned char *p = data, *end = p + len;
    sg_value tmp[64];
    memset(out, 0, sizeof *out);
    if (len < 4)
        return -1;
    uint64_t n = get_u(p, 4);
    p += 4;
    if (n > 64)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        sg_value *v = &tmp[i];
        memset(v, 0, sizeof *v);
        if (p >= end)
            return -1;
        v->type = (sg_vtype)*p++;
        if (v->type == SG_V_NULL)
            continue;
        if (v->type == SG_V_INT || v->type == SG_V_REAL) {
            if (end - p < 8)
                return -1;
            uint64_t x = get_u(p, 8);
            p += 8;
            if (v->type == SG_V_INT)
                v->i = (int64_t)x;
            else
                memcpy(&v->d, &x, sizeof x);
        } else if (v->type == SG_V_BOOL) {
            if (p >= end)
                return -1;
            v->i = *p++;
        } else if (is_bytes(v->type)) {
            if (end - p < 4)
                return -1;
            uint64_t m = get_u(p, 4);
            p += 4;
            if ((uint64_t)(end - p) < m)
                return -1;
            v->p = p;
            v->n = (size_t)m;
            p += m;
        } else {
            return -1;
        }
    }
    return p == end ? sg_row_copy(out, tmp, (size_t)n) : -1;
}

int sg_row_copy(sg_row *out, const sg_value *v, size_t n)
{
    out->n = 0;
    out->v = calloc(n ? n : 1, sizeof *out->v);
    if (!out->v)
        return -1;
    for (size_t i = 0; i < n; i++) {
        out->v[i] = v[i];
        if (is_bytes(v[i].type)) {
            void *q = malloc(v[i].n + 1);
            if (!q) {
                out->n = i;
                sg_row_free(out);
                return -1;
            }
            if (v[i].n)
                memcpy(q, v[i].p, v[i].n);
            ((char *)q)[v[i].n] = '\0';
            out->v[i].p = q;
        }
    }
    out->n = n;
    return 0;
}

void sg_row_free(sg_row *r)
{
    if (!r->v)
        return;
    for (size_t i = 0; i < r->n; i++)
        if (is_bytes(r->v[i].type))
            free((void *)r->v[i].p);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

int sg_value_cmp(const sg_value *a, const sg_value *b)
{
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    switch (a->type) {
    case SG_V_NULL:
        return 0;
    case SG_V_INT:
    case SG_V_BOOL:
        return a->i < b->i ? -1 : a->i > b->i;
    case SG_V_REAL:
        if (a->d == b->d)
            return 0;
        return a->d < b->d ? -1 : 1;
    default: {
        size_t m = a->n < b->n ? a->n : b->n;
        int c = m ? memcmp(a->p, b->p, m) : 0;
        if (c)
            return c;
        return a->n < b->n ? -1 : a->n > b->n;
    }
    }
}

bool sg_row_equal(const sg_value *a, const sg_value *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].type != b[i].type)
            return false;
        if (a[i].type == SG_V_REAL) {
            /* bitwise, so that -0.0 and 0.0 differ exactly as in the hash */
            if (memcmp(&a[i].d, &b[i].d, sizeof a[i].d) != 0 &&
                !(isnan(a[i].d) && isnan(b[i].d)))
                return false;
        } else if (sg_value_cmp(&a[i], &b[i]) != 0) {
            return false;
        }
    }
    return true;
}

static void format_text(sg_buf *b, const sg_value *v)
{
    const char *s = v->p;
    sg_buf_putc(b, '\'');
    for (size_t i = 0; i < v->n && i < 200; i++) {
        if (s[i] == '\'')
            sg_buf_putc(b, '\'');
        sg_buf_putc(b, s[i]);
    }
    if (v->n > 200)
        sg_buf_puts(b, "...");
    sg_buf_putc(b, '\'');
}

void sg_key_format(sg_buf *b, const sg_value *v, size_t n)
{
    sg_buf_putc(b, '(');
    for (size_t i = 0; i < n; i++) {
        if (i)
            sg_buf_puts(b, ", ");
        switch (v[i].type) {
        case SG_V_NULL: sg_buf_puts(b, "NULL"); break;
        case SG_V_INT: sg_buf_printf(b, "%lld", (long long)v[i].i); break;
        case SG_V_BOOL: sg_buf_puts(b, v[i].i ? "true" : "false"); break;
        case SG_V_REAL: sg_buf_printf(b, "%.17g", v[i].d); break;
        case SG_V_BLOB:
            sg_buf_puts(b, "x'");
            for (size_t j = 0; j < v[i].n && j < 64; j++)
                sg_buf_printf(b, "%02x", ((const unsigned char *)v[i].p)[j]);
            sg_buf_putc(b, '\'');
            break;
        default: format_text(b, &v[i]); break;
        }
    }
    sg_buf_putc(b, ')');
}

struct sg_hasher {
    XXH3_state_t *st;
};

sg_hasher *sg_hasher_new(void)
{
    sg_hasher *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->st = XXH3_createState();
    if (!h->st) {
        free(h);
        return NULL;
    }
    XXH3_128bits_reset(h->st);
    return h;
}

void sg_hasher_reset(sg_hasher *h)
{
    XXH3_128bits_reset(h->st);
}

void sg_hasher_row(sg_hasher *h, sg_buf *scratch, const sg_value *v, size_t n)
{
    sg_buf_reset(scratch);
    sg_row_encode(scratch, v, n);
    XXH3_128bits_update(h->st, scratch->data, scratch->len);
}

sg_digest sg_hasher_digest(const sg_hasher *h)
{
    XXH128_hash_t x = XXH3_128bits_digest(h->st);
    return (sg_digest){ x.high64, x.low64 };
}

void sg_hasher_free(sg_hasher *h)
{
    if (!h)
        return;
    XXH3_freeState(h->st);
    free(h);
}
