/* sg_conform: a value as a column of a portable type holds it (coltype.h).
 * Dates and times are in conform_time.c. */
#include "values/coltype.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "values/decimal.h"

static const char *const kind_names[] = {
    [SG_K_ANY] = "untyped", [SG_K_INT] = "integer", [SG_K_REAL] = "real",
    [SG_K_NUMERIC] = "numeric", [SG_K_TEXT] = "text", [SG_K_BLOB] = "blob",
    [SG_K_BOOL] = "boolean", [SG_K_DATE] = "date", [SG_K_TIME] = "time",
    [SG_K_TIMESTAMP] = "timestamp", [SG_K_TIMESTAMPTZ] = "timestamptz",
    [SG_K_OTHER] = "other",
};

void sg_coltype_describe(const sg_coltype *t, sg_buf *b)
{
    sg_buf_puts(b, kind_names[t->kind]);
    if (t->kind == SG_K_INT || t->kind == SG_K_REAL)
        sg_buf_printf(b, "(%d bytes)", t->size ? t->size : 8);
    else if (t->kind == SG_K_NUMERIC && t->size && t->scale >= 0)
        sg_buf_printf(b, "(%d,%d)", t->size, t->scale);
    else if (t->kind == SG_K_NUMERIC && t->size)
        sg_buf_printf(b, "(%d)", t->size);
    else if (t->kind == SG_K_TEXT && t->size)
        sg_buf_printf(b, "(%d%s)", t->size, t->fixed ? ", blank-padded" : "");
}

static sg_fit none(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return SG_FIT_NONE;
}

static sg_fit lossy(const char **why, const char *reason, bool lost)
{
    if (lost && why)
        *why = reason;
    return lost ? SG_FIT_LOSSY : SG_FIT_EXACT;
}

/* Points v at the scratch buffer's contents, typed `type`. */
static sg_fit take(sg_value *v, sg_vtype type, sg_buf *scratch, sg_fit fit,
                   const char **why)
{
    if (sg_buf_failed(scratch))
        return none(why, "value too large");
    v->type = type;
    v->p = scratch->data ? scratch->data : "";
    v->n = scratch->len;
    return fit;
}

static void shortest(double d, sg_buf *b)
{
    if (isnan(d))
        sg_buf_puts(b, "NaN");
    else if (isinf(d))
        sg_buf_puts(b, d < 0 ? "-Infinity" : "Infinity");
    else
        for (int prec = 15; prec <= 17; prec++) {
            char t[40];
            snprintf(t, sizeof t, "%.*g", prec, d);
            if (prec == 17 || strtod(t, NULL) == d) {
                sg_buf_puts(b, t);
                break;
            }
        }
}

static bool is_texty(const sg_value *v)
{
    return v->type == SG_V_TEXT || v->type == SG_V_NUMERIC ||
           v->type == SG_V_DATETIME;
}

/* Reads a number spelled in text or numeric into x. */
static bool dec_of(const sg_value *v, sg_dec *x)
{
    switch (v->type) {
    case SG_V_INT: case SG_V_BOOL: sg_dec_from_int(x, v->i); return true;
    case SG_V_REAL:
        if (!isfinite(v->d))
            return false;
        sg_dec_from_double(x, v->d);
        return true;
    case SG_V_TEXT: case SG_V_NUMERIC: return sg_dec_parse(x, v->p, v->n);
    default: return false;
    }
}

static sg_fit to_int(const sg_coltype *t, sg_value *v, sg_buf *scratch,
                     const char **why)
{
    int bits = t->size == 2 ? 16 : t->size == 4 ? 32 : 64;
    long long hi = bits == 64 ? INT64_MAX : (1LL << (bits - 1)) - 1;
    long long lo = -hi - 1;
    sg_fit fit = SG_FIT_EXACT;
    long long i;
    if (v->type == SG_V_INT || v->type == SG_V_BOOL) {
        i = v->i;
    } else {
        sg_dec x = { 0 };
        bool ok = dec_of(v, &x);
        if (ok)
            fit = lossy(why, "fraction rounded", sg_dec_round(&x, 0));
        if (ok && (ok = sg_dec_int_digits(&x) <= 19)) {
            sg_buf_reset(scratch);
            sg_dec_format(&x, 0, scratch);
            char *end;
            errno = 0;
            i = strtoll(sg_buf_str(scratch), &end, 10);
            ok = errno == 0 && *end == '\0';
        }
        sg_dec_free(&x);
        if (!ok)
            return none(why, v->type == SG_V_TEXT ? "not an integer"
                                                  : "out of the integer range");
    }
    if (i < lo || i > hi)
        return none(why, "out of the integer range");
    v->type = SG_V_INT;
    v->i = i;
    return fit;
}

static double float_shortest(float f)
{
    for (int prec = 6; prec <= 9; prec++) {
        char t[32];
        snprintf(t, sizeof t, "%.*g", prec, (double)f);
        if (prec == 9 || strtof(t, NULL) == f)
            return strtod(t, NULL);
    }
    return (double)f;
}

static bool special_real(const sg_value *v, double *d)
{
    static const struct { const char *s; double d; } sp[] = {
        { "NaN", NAN }, { "Infinity", INFINITY }, { "-Infinity", -INFINITY },
        { "inf", INFINITY }, { "-inf", -INFINITY },
    };
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++)
        if (v->n == strlen(sp[i].s) && strncasecmp(v->p, sp[i].s, v->n) == 0) {
            *d = sp[i].d;
            return true;
        }
    return false;
}

static sg_fit to_real(const sg_coltype *t, sg_value *v, sg_buf *scratch,
                      const char **why)
{
    sg_fit fit = SG_FIT_EXACT;
    double d;
    if (v->type == SG_V_REAL) {
        d = v->d;
    } else if (v->type == SG_V_INT || v->type == SG_V_BOOL) {
        d = (double)v->i;
        fit = lossy(why, "integer beyond 2^53 rounded", (long long)d != v->i ||
                    fabs(d) >= 9223372036854775808.0);
    } else if (is_texty(v) && !special_real(v, &d)) {
        sg_dec x = { 0 };
        bool ok = sg_dec_parse(&x, v->p, v->n);
        if (ok) {
            sg_buf_reset(scratch);
            sg_dec_format(&x, -1, scratch);
            d = strtod(sg_buf_str(scratch), NULL);
            ok = isfinite(d);
        }
        sg_dec_free(&x);
        if (!ok)
            return none(why, "not a number");
    } else if (!is_texty(v)) {
        return none(why, "not a number");
    }
    if (t->size == 4 && isfinite(d)) {
        float f = (float)d;
        if (isinf(f))
            return none(why, "out of the 4-byte float range");
        fit = fit ? fit : lossy(why, "rounded to a 4-byte float", (double)f != d);
        d = float_shortest(f);
    }
    v->type = SG_V_REAL;
    v->d = d;
    return fit;
}

/* A numeric column of an engine that keeps numbers as 8-byte floats past
 * 15 significant digits (SQLite's NUMERIC affinity) unless they are
 * integers that fit 64 bits. */
static bool approx_loses(const sg_dec *x, sg_buf *scratch)
{
    if (x->n <= 15)
        return false;
    if (x->point < (long)x->n || x->point > 19)
        return true;
    sg_buf_reset(scratch);
    sg_dec_format(x, 0, scratch);
    errno = 0;
    (void)strtoll(sg_buf_str(scratch), NULL, 10);
    return errno != 0;
}

static sg_fit to_numeric(const sg_coltype *t, sg_value *v, sg_buf *scratch,
                         const char **why)
{
    sg_dec x = { 0 };
    sg_fit fit = SG_FIT_EXACT;
    if (!dec_of(v, &x)) {
        sg_dec_free(&x);
        return none(why, v->type == SG_V_REAL ? "not a finite number"
                                              : "not a number");
    }
    if (t->scale >= 0)
        fit = lossy(why, "rounded to the column's scale", sg_dec_round(&x, t->scale));
    if (t->size && sg_dec_int_digits(&x) > t->size - (t->scale > 0 ? t->scale : 0)) {
        sg_dec_free(&x);
        return none(why, "too many digits for the column's precision");
    }
    if (t->approx && approx_loses(&x, scratch)) {
        sg_buf_reset(scratch);
        sg_dec_format(&x, -1, scratch);
        double d = strtod(sg_buf_str(scratch), NULL);
        sg_dec_from_double(&x, d);
        fit = lossy(why, "more than 15 significant digits (held as a float)", true);
    }
    sg_buf_reset(scratch);
    sg_dec_format(&x, t->scale, scratch);
    sg_dec_free(&x);
    return take(v, SG_V_NUMERIC, scratch, fit, why);
}

long sg_utf8_chars(const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    long chars = 0;
    for (size_t i = 0; i < n; chars++) {
        unsigned char c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
                   : (c >> 3) == 30 ? 4 : 0;
        if (!len || c == 0 || i + len > n || (len == 2 && c < 0xc2))
            return -1;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return -1;
        if (len == 3 && ((c == 0xe0 && p[i + 1] < 0xa0) ||
                         (c == 0xed && p[i + 1] >= 0xa0)))
            return -1; /* overlong or a surrogate */
        if (len == 4 && ((c == 0xf0 && p[i + 1] < 0x90) || c > 0xf4 ||
                         (c == 0xf4 && p[i + 1] >= 0x90)))
            return -1;
        i += len;
    }
    return chars;
}

/* The text spelling of a value. */
static void spell(const sg_value *v, sg_buf *b)
{
    switch (v->type) {
    case SG_V_INT: sg_buf_printf(b, "%lld", (long long)v->i); break;
    case SG_V_REAL: shortest(v->d, b); break;
    case SG_V_BOOL: sg_buf_puts(b, v->i ? "true" : "false"); break;
    default: sg_buf_putn(b, v->p, v->n); break;
    }
}

static sg_fit to_text(const sg_coltype *t, sg_value *v, sg_buf *scratch,
                      const char **why)
{
    sg_buf_reset(scratch);
    spell(v, scratch);
    long chars = sg_utf8_chars(sg_buf_str(scratch), scratch->len);
    if (chars < 0)
        return none(why, "not valid UTF-8 text without NUL bytes");
    if (t->kind == SG_K_TEXT && t->size && chars > t->size)
        return none(why, "longer than the column allows");
    for (long i = chars; t->kind == SG_K_TEXT && t->fixed && i < t->size; i++)
        sg_buf_putc(scratch, ' ');
    return take(v, SG_V_TEXT, scratch, SG_FIT_EXACT, why);
}

static sg_fit to_bool(sg_value *v, const char **why)
{
    static const char *const yes[] = { "t", "true", "y", "yes", "on", "1" };
    static const char *const no[] = { "f", "false", "n", "no", "off", "0" };
    if (v->type == SG_V_BOOL ||
        ((v->type == SG_V_INT) && (v->i == 0 || v->i == 1))) {
        v->type = SG_V_BOOL;
        return SG_FIT_EXACT;
    }
    if (v->type == SG_V_REAL && (v->d == 0.0 || v->d == 1.0)) {
        v->type = SG_V_BOOL;
        v->i = v->d == 1.0;
        return SG_FIT_EXACT;
    }
    for (size_t i = 0; v->type == SG_V_TEXT && i < sizeof yes / sizeof *yes; i++)
        for (int truth = 0; truth < 2; truth++) {
            const char *w = truth ? yes[i] : no[i];
            if (v->n == strlen(w) && strncasecmp(v->p, w, v->n) == 0) {
                v->type = SG_V_BOOL;
                v->i = truth;
                return SG_FIT_EXACT;
            }
        }
    return none(why, "not a boolean");
}

/* An untyped column (SQLite) keeps integers, floats, text and blobs as
 * they are; the types it lacks go in as their storage form. */
static sg_fit to_any(sg_value *v, sg_buf *scratch, const char **why)
{
    if (v->type == SG_V_BOOL)
        v->type = SG_V_INT;
    else if (v->type == SG_V_NUMERIC || v->type == SG_V_DATETIME)
        return to_text(&(sg_coltype){ .kind = SG_K_ANY }, v, scratch, why);
    return SG_FIT_EXACT;
}

sg_fit sg_conform(const sg_coltype *t, sg_value *v, sg_buf *scratch,
                  const char **why)
{
    if (v->type == SG_V_NULL)
        return SG_FIT_EXACT;
    bool as_text = t->kind == SG_K_TEXT || t->kind == SG_K_OTHER;
    if (v->type == SG_V_REAL && isnan(v->d) && t->no_nan && !as_text)
        return none(why, "NaN, which the target stores as NULL (type: TEXT keeps it "
                         "as 'NaN')");
    if (v->type == SG_V_REAL && v->d == 0 && signbit(v->d) && t->no_neg_zero && !as_text)
        return none(why, "-0.0, which the target column stores as 0 (type: TEXT "
                         "keeps it as '-0')");
    switch (t->kind) {
    case SG_K_ANY: return to_any(v, scratch, why);
    case SG_K_INT: return to_int(t, v, scratch, why);
    case SG_K_REAL: return to_real(t, v, scratch, why);
    case SG_K_NUMERIC: return to_numeric(t, v, scratch, why);
    case SG_K_TEXT: case SG_K_OTHER:
        if (v->type == SG_V_BLOB && t->kind == SG_K_OTHER)
            return none(why, "bytes, not text");
        return to_text(t, v, scratch, why);
    case SG_K_BLOB:
        if (v->type != SG_V_BLOB && v->type != SG_V_TEXT)
            return none(why, "not bytes");
        v->type = SG_V_BLOB;
        return SG_FIT_EXACT;
    case SG_K_BOOL: return to_bool(v, why);
    default: return sg_conform_time(t, v, scratch, why);
    }
}
