/* sg_conform for dates and times: ISO 8601 spellings in, one canonical
 * spelling out (coltype.h). Day arithmetic is Howard Hinnant's
 * days_from_civil / civil_from_days ("chrono-Compatible Low-Level Date
 * Algorithms", 2013). */
#include "values/coltype.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define US_PER_DAY INT64_C(86400000000)

typedef struct when {
    bool date, time, zone;
    int y, mo, d, h, mi, s;
    int64_t us;       /* microseconds, rounded from the spelled fraction */
    bool cut;         /* the fraction had non-zero digits past 6 */
    int zone_s;       /* seconds east of UTC */
} when;

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* Reads exactly `width` digits at p[*i]. */
static bool digits(const char *p, size_t n, size_t *i, int width, int *out)
{
    *out = 0;
    for (int k = 0; k < width; k++, (*i)++) {
        if (*i >= n || p[*i] < '0' || p[*i] > '9')
            return false;
        *out = *out * 10 + (p[*i] - '0');
    }
    return true;
}

static bool sep(const char *p, size_t n, size_t *i, char c)
{
    if (*i < n && p[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

static bool parse_date(const char *p, size_t n, size_t *i, when *w)
{
    w->date = digits(p, n, i, 4, &w->y) && sep(p, n, i, '-') &&
              digits(p, n, i, 2, &w->mo) && sep(p, n, i, '-') &&
              digits(p, n, i, 2, &w->d);
    return w->date && w->y >= 1 && w->mo >= 1 && w->mo <= 12 && w->d >= 1 &&
           w->d <= days_in_month(w->y, w->mo);
}

static void parse_fraction(const char *p, size_t n, size_t *i, when *w)
{
    int k = 0;
    for (; *i < n && p[*i] >= '0' && p[*i] <= '9'; (*i)++, k++) {
        if (k < 6)
            w->us = w->us * 10 + (p[*i] - '0');
        else if (k == 6 && p[*i] >= '5')
            w->us++, w->cut = true;
        else if (p[*i] != '0')
            w->cut = true;
    }
    for (; k < 6; k++)
        w->us *= 10;
}

static bool parse_time(const char *p, size_t n, size_t *i, when *w)
{
    w->time = digits(p, n, i, 2, &w->h) && sep(p, n, i, ':') &&
              digits(p, n, i, 2, &w->mi);
    if (w->time && sep(p, n, i, ':')) {
        w->time = digits(p, n, i, 2, &w->s);
        if (w->time && sep(p, n, i, '.'))
            parse_fraction(p, n, i, w);
    }
    return w->time && w->h <= 23 && w->mi <= 59 && w->s <= 59;
}

static bool parse_zone(const char *p, size_t n, size_t *i, when *w)
{
    int h = 0, m = 0, s = 0;
    sep(p, n, i, ' ');
    if (sep(p, n, i, 'Z'))
        return w->zone = true;
    if (*i >= n || (p[*i] != '+' && p[*i] != '-'))
        return false;
    int sign = p[(*i)++] == '-' ? -1 : 1;
    if (!digits(p, n, i, 2, &h))
        return false;
    int *parts[2] = { &m, &s }; /* minutes, then seconds, each after an optional ':' */
    for (int k = 0; k < 2 && *i < n; k++) {
        sep(p, n, i, ':');
        if (!digits(p, n, i, 2, parts[k]))
            return false;
    }
    w->zone = true;
    w->zone_s = sign * (h * 3600 + m * 60 + s);
    return h <= 15 && m <= 59 && s <= 59;
}

static bool parse_when(const char *p, size_t n, when *w)
{
    size_t i = 0;
    memset(w, 0, sizeof *w);
    if (n >= 3 && p[2] == ':') {
        if (!parse_time(p, n, &i, w))
            return false;
    } else {
        if (!parse_date(p, n, &i, w))
            return false;
        if ((sep(p, n, &i, ' ') || sep(p, n, &i, 'T')) && !parse_time(p, n, &i, w))
            return false;
    }
    if (i < n && !parse_zone(p, n, &i, w))
        return false;
    return i == n;
}

static void put_time(sg_buf *b, int64_t us_of_day)
{
    int64_t s = us_of_day / 1000000, us = us_of_day % 1000000;
    sg_buf_printf(b, "%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60),
                  (int)(s % 60));
    if (us) {
        char f[8];
        snprintf(f, sizeof f, "%06d", (int)us);
        size_t k = 6;
        while (f[k - 1] == '0')
            k--;
        sg_buf_putc(b, '.');
        sg_buf_putn(b, f, k);
    }
}

/* Rounds to the column's fraction digits, half up. */
static int64_t round_frac(int64_t us, int frac)
{
    int64_t unit = 1;
    for (int k = frac; k < 6; k++)
        unit *= 10;
    int64_t r = us % unit;
    if (r < 0)
        r += unit;
    return us - r + (r * 2 >= unit ? unit : 0);
}

static bool infinite(const sg_value *v)
{
    return (v->n == 8 && strncasecmp(v->p, "infinity", 8) == 0) ||
           (v->n == 9 && strncasecmp(v->p, "-infinity", 9) == 0);
}

static sg_fit fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return SG_FIT_NONE;
}

/* Spells w as a column of kind t->kind holds it; *lost names what was
 * narrowed away, or stays NULL. */
static sg_fit spell_when(const sg_coltype *t, const when *w, sg_buf *b,
                         const char **lost, const char **why)
{
    if (t->kind != SG_K_TIME && !w->date)
        return fail(why, "a time of day without a date");
    if (t->kind == SG_K_TIME && !w->time)
        return fail(why, "a date without a time of day");
    int64_t day_us = ((int64_t)w->h * 3600 + w->mi * 60 + w->s) * 1000000 + w->us;
    int64_t at = (w->date ? days_from_civil(w->y, w->mo, w->d) : 0) * US_PER_DAY + day_us;
    *lost = w->cut ? "fraction of a second rounded" : NULL;
    if (t->kind == SG_K_TIMESTAMPTZ)
        at -= (int64_t)w->zone_s * 1000000;
    else if (w->zone_s)
        *lost = "time zone dropped";
    int64_t rounded = round_frac(at, t->kind == SG_K_DATE ? 6 : t->frac);
    if (rounded != at)
        *lost = "fraction of a second rounded";
    int64_t days = rounded / US_PER_DAY - (rounded % US_PER_DAY < 0);
    int64_t tod = rounded - days * US_PER_DAY;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    if (t->kind != SG_K_TIME && (y < 1 || y > 9999))
        return fail(why, "year outside 1..9999");
    if (t->kind == SG_K_DATE && tod)
        *lost = "time of day dropped";
    if (t->kind == SG_K_TIME && w->date)
        *lost = "date dropped";
    if (t->kind != SG_K_TIME)
        sg_buf_printf(b, "%04d-%02d-%02d", y, m, d);
    if (t->kind != SG_K_DATE) {
        sg_buf_puts(b, t->kind == SG_K_TIME ? "" : " ");
        put_time(b, tod);
    }
    if (t->kind == SG_K_TIMESTAMPTZ)
        sg_buf_puts(b, "+00:00");
    return *lost ? SG_FIT_LOSSY : SG_FIT_EXACT;
}

sg_fit sg_conform_time(const sg_coltype *t, sg_value *v, sg_buf *scratch,
                       const char **why)
{
    when w;
    const char *lost = NULL;
    sg_fit fit = SG_FIT_EXACT;
    if (v->type != SG_V_TEXT && v->type != SG_V_DATETIME)
        return fail(why, "not a date or time spelled in ISO 8601; hint: convert "
                    "it in the column's expression");
    sg_buf_reset(scratch);
    if (t->kind != SG_K_TIME && infinite(v))
        sg_buf_puts(scratch, *(const char *)v->p == '-' ? "-infinity" : "infinity");
    else if (!parse_when(v->p, v->n, &w))
        return fail(why, "not a valid ISO 8601 date or time");
    else if ((fit = spell_when(t, &w, scratch, &lost, why)) == SG_FIT_NONE)
        return fit;
    if (lost && why)
        *why = lost;
    if (sg_buf_failed(scratch))
        return fail(why, "out of memory");
    v->type = SG_V_DATETIME;
    v->p = scratch->data;
    v->n = scratch->len;
    return fit;
}
