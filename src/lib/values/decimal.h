/* Exact decimals in text: parse any decimal spelling (sign, digits, point,
 * exponent), round to a scale, spell it plainly. Used to bring numbers from
 * one engine to the exact value another engine's numeric column holds. */
#ifndef SEGUE_DECIMAL_H
#define SEGUE_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

/* value = (neg ? -1 : 1) * 0.<d> * 10^point; d has no leading or trailing
 * zeros (empty: zero). d points at `small` or at heap memory
 * (sg_dec_free). */
typedef struct sg_dec {
    bool neg;
    char *d;
    size_t n;
    long point;
    char small[64];
} sg_dec;

/* Parses [+-]digits[.digits][e[+-]digits] exactly (no spaces). Returns
 * false (and leaves x zero) on anything else or on out of memory. */
bool sg_dec_parse(sg_dec *x, const char *p, size_t n);
/* The shortest decimal spelling that reads back as d (15 to 17 significant
 * digits); d must be finite. */
void sg_dec_from_double(sg_dec *x, double d);
void sg_dec_from_int(sg_dec *x, long long i);
/* Rounds half away from zero to `scale` digits after the point; returns
 * whether a non-zero digit was dropped. */
bool sg_dec_round(sg_dec *x, int scale);
/* Digits before the point. */
long sg_dec_int_digits(const sg_dec *x);
/* Appends the plain spelling: "-12.5", "0.001", "100"; with scale >= 0
 * exactly `scale` digits after the point, else as few as needed. */
void sg_dec_format(const sg_dec *x, int scale, sg_buf *b);
void sg_dec_free(sg_dec *x);

#endif
