#include "values/decimal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dec_zero(sg_dec *x)
{
    x->neg = false;
    x->n = 0;
    x->point = 0;
}

/* Room for cap digits; keeps d valid. */
static bool dec_room(sg_dec *x, size_t cap)
{
    if (x->d && x->d != x->small)
        free(x->d);
    x->d = x->small;
    if (cap > sizeof x->small && !(x->d = malloc(cap))) {
        x->d = x->small;
        return false;
    }
    return true;
}

static void dec_trim(sg_dec *x)
{
    while (x->n && x->d[x->n - 1] == '0')
        x->n--;
    if (!x->n)
        dec_zero(x);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Adds one digit read from the spelling; `frac` says it is after the point. */
static void dec_push(sg_dec *x, char c, bool frac)
{
    if (x->n == 0 && c == '0') {
        if (frac)
            x->point--;
        return;
    }
    x->d[x->n++] = c;
    if (!frac)
        x->point++;
}

static bool parse_exponent(const char *p, size_t n, size_t *i, long *e)
{
    bool neg = false, any = false;
    *e = 0;
    if (*i < n && (p[*i] == '+' || p[*i] == '-'))
        neg = p[(*i)++] == '-';
    for (; *i < n && is_digit(p[*i]); (*i)++, any = true)
        if ((*e = *e * 10 + (p[*i] - '0')) > 1000000)
            return false;
    if (neg)
        *e = -*e;
    return any;
}

bool sg_dec_parse(sg_dec *x, const char *p, size_t n)
{
    size_t i = 0;
    bool any = false;
    long e = 0;
    if (!x->d)
        x->d = x->small;
    dec_zero(x);
    if (!dec_room(x, n))
        return false;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        x->neg = p[i++] == '-';
    for (; i < n && is_digit(p[i]); i++, any = true)
        dec_push(x, p[i], false);
    if (i < n && p[i] == '.')
        for (i++; i < n && is_digit(p[i]); i++, any = true)
            dec_push(x, p[i], true);
    if (any && i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        any = parse_exponent(p, n, &i, &e);
    }
    if (!any || i != n) {
        dec_zero(x);
        return false;
    }
    x->point += e;
    dec_trim(x);
    return true;
}

void sg_dec_from_double(sg_dec *x, double d)
{
    char t[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*e", prec - 1, d);
        if (strtod(t, NULL) == d)
            break;
    }
    sg_dec_parse(x, t, strlen(t));
}

void sg_dec_from_int(sg_dec *x, long long i)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%lld", i);
    sg_dec_parse(x, t, (size_t)n);
}

/* Adds one unit in the last kept digit, carrying. */
static void round_up(sg_dec *x)
{
    size_t i = x->n;
    while (i > 0 && x->d[i - 1] == '9')
        x->d[--i] = '0';
    if (i > 0) {
        x->d[i - 1]++;
        return;
    }
    /* all nines (or nothing kept): becomes 1 followed by zeros, one digit
     * more before the point; the zeros are trimmed away */
    x->d[0] = '1';
    x->n = 1;
    x->point++;
}

bool sg_dec_round(sg_dec *x, int scale)
{
    long keep = x->point + scale;
    if (keep >= (long)x->n)
        return false;
    bool up = keep >= 0 && x->d[keep] >= '5';
    if (keep < 0) {
        dec_zero(x);
        return true;
    }
    x->n = (size_t)keep;
    if (up) {
        if (x->n == 0) {
            x->d[0] = '1';
            x->n = 1;
            x->point++;
        } else {
            round_up(x);
        }
    }
    bool neg = x->neg;
    dec_trim(x);
    x->neg = x->n ? neg : false;
    return true;
}

long sg_dec_int_digits(const sg_dec *x)
{
    return x->n && x->point > 0 ? x->point : 0;
}

static char digit_at(const sg_dec *x, long i)
{
    return i >= 0 && i < (long)x->n ? x->d[i] : '0';
}

void sg_dec_format(const sg_dec *x, int scale, sg_buf *b)
{
    if (x->neg && x->n)
        sg_buf_putc(b, '-');
    if (x->point <= 0)
        sg_buf_putc(b, '0');
    for (long i = 0; i < x->point; i++)
        sg_buf_putc(b, digit_at(x, i));
    long frac = scale >= 0 ? scale : (long)x->n - x->point;
    if (frac > 0)
        sg_buf_putc(b, '.');
    for (long i = 0; i < frac; i++)
        sg_buf_putc(b, digit_at(x, x->point + i));
}

void sg_dec_free(sg_dec *x)
{
    if (x->d && x->d != x->small)
        free(x->d);
    x->d = NULL;
}
