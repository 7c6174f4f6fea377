/* sg_conform: values brought to what a column of a portable type holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "values/coltype.h"

static sg_coltype ty(sg_kind k, int size, int scale)
{
    sg_coltype t = SG_COLTYPE_INIT;
    t.kind = k;
    t.size = size;
    t.scale = scale;
    return t;
}

static sg_value text(const char *s)
{
    return (sg_value){ .type = SG_V_TEXT, .p = s, .n = strlen(s) };
}

/* Conforms v to t and checks the fit and the spelling of the result. */
static void expect(sg_coltype t, sg_value v, sg_fit fit, sg_vtype type,
                   const char *want)
{
    sg_buf b = SG_BUF_INIT;
    const char *why = NULL;
    sg_fit got = sg_conform(&t, &v, &b, &why);
    if (got != fit)
        fail_msg("fit %d, want %d (%s) for '%s'", got, fit, why ? why : "",
                 want ? want : "");
    if (fit != SG_FIT_NONE) {
        assert_int_equal(v.type, type);
        if (want) {
            assert_int_equal(v.n, strlen(want));
            assert_memory_equal(v.p, want, v.n);
        }
    }
    if (fit != SG_FIT_EXACT)
        assert_non_null(why);
    sg_buf_free(&b);
}

static void numeric(void **state)
{
    (void)state;
    sg_coltype n102 = ty(SG_K_NUMERIC, 10, 2), n = ty(SG_K_NUMERIC, 0, -1);
    expect(n102, (sg_value){ .type = SG_V_REAL, .d = 0.99 }, SG_FIT_EXACT,
           SG_V_NUMERIC, "0.99");
    expect(n102, (sg_value){ .type = SG_V_INT, .i = 2 }, SG_FIT_EXACT,
           SG_V_NUMERIC, "2.00");
    expect(n102, text("1.005"), SG_FIT_LOSSY, SG_V_NUMERIC, "1.01");
    expect(n102, text("-1.005"), SG_FIT_LOSSY, SG_V_NUMERIC, "-1.01");
    expect(n102, text("-0.001"), SG_FIT_LOSSY, SG_V_NUMERIC, "0.00");
    expect(n102, text("99999999.995"), SG_FIT_NONE, 0, NULL);
    expect(n102, text("99999999.99"), SG_FIT_EXACT, SG_V_NUMERIC, "99999999.99");
    expect(n102, text("abc"), SG_FIT_NONE, 0, NULL);
    expect(n, (sg_value){ .type = SG_V_REAL, .d = 1e-7 }, SG_FIT_EXACT,
           SG_V_NUMERIC, "0.0000001");
    expect(n, (sg_value){ .type = SG_V_REAL, .d = 1.5e20 }, SG_FIT_EXACT,
           SG_V_NUMERIC, "150000000000000000000");
    expect(n, text("0012.3400"), SG_FIT_EXACT, SG_V_NUMERIC, "12.34");
    expect(n, text("9.995e2"), SG_FIT_EXACT, SG_V_NUMERIC, "999.5");
    expect(n, (sg_value){ .type = SG_V_REAL, .d = NAN }, SG_FIT_NONE, 0, NULL);
    sg_coltype approx = n;
    approx.approx = true;
    expect(approx, text("12345678901234567890.5"), SG_FIT_LOSSY, SG_V_NUMERIC,
           "12345678901234567000");
    expect(approx, text("1234567890123456789"), SG_FIT_EXACT, SG_V_NUMERIC,
           "1234567890123456789");
}

static void integers_and_reals(void **state)
{
    (void)state;
    expect(ty(SG_K_INT, 8, 0), text("42"), SG_FIT_EXACT, SG_V_INT, NULL);
    expect(ty(SG_K_INT, 2, 0), (sg_value){ .type = SG_V_INT, .i = 40000 },
           SG_FIT_NONE, 0, NULL);
    expect(ty(SG_K_INT, 4, 0), (sg_value){ .type = SG_V_REAL, .d = 2.5 },
           SG_FIT_LOSSY, SG_V_INT, NULL);
    expect(ty(SG_K_INT, 8, 0), text("9223372036854775808"), SG_FIT_NONE, 0, NULL);
    expect(ty(SG_K_INT, 8, 0), text("-9223372036854775808"), SG_FIT_EXACT,
           SG_V_INT, NULL);
    expect(ty(SG_K_INT, 8, 0), text("x1"), SG_FIT_NONE, 0, NULL);

    sg_value v = { .type = SG_V_REAL, .d = 1.1 };
    sg_buf b = SG_BUF_INIT;
    sg_coltype r4 = ty(SG_K_REAL, 4, 0);
    assert_int_equal(sg_conform(&r4, &v, &b, NULL), SG_FIT_LOSSY);
    assert_true(v.d == 1.1); /* what a 4-byte float column gives back: "1.1" */
    v = text("2.5");
    sg_coltype r8 = ty(SG_K_REAL, 8, 0);
    assert_int_equal(sg_conform(&r8, &v, &b, NULL), SG_FIT_EXACT);
    assert_true(v.type == SG_V_REAL && v.d == 2.5);
    sg_buf_free(&b);
}

static void texts(void **state)
{
    (void)state;
    sg_coltype t40 = ty(SG_K_TEXT, 4, 0), any = ty(SG_K_ANY, 0, -1);
    expect(t40, text("ñaño"), SG_FIT_EXACT, SG_V_TEXT, "ñaño");
    expect(t40, text("ñaños"), SG_FIT_NONE, 0, NULL);
    expect(t40, (sg_value){ .type = SG_V_INT, .i = -12 }, SG_FIT_EXACT, SG_V_TEXT, "-12");
    expect(ty(SG_K_TEXT, 0, 0), (sg_value){ .type = SG_V_REAL, .d = 0.1 },
           SG_FIT_EXACT, SG_V_TEXT, "0.1");
    expect(ty(SG_K_TEXT, 0, 0), (sg_value){ .type = SG_V_TEXT, .p = "a\0b", .n = 3 },
           SG_FIT_NONE, 0, NULL);
    expect(ty(SG_K_TEXT, 0, 0), text("\xc0\xaf"), SG_FIT_NONE, 0, NULL);
    expect(ty(SG_K_TEXT, 0, 0), text("\xed\xa0\x80"), SG_FIT_NONE, 0, NULL);
    t40.fixed = true;
    expect(t40, text("ab"), SG_FIT_EXACT, SG_V_TEXT, "ab  ");
    expect(any, (sg_value){ .type = SG_V_NUMERIC, .p = "1.50", .n = 4 },
           SG_FIT_EXACT, SG_V_TEXT, "1.50");
    expect(any, (sg_value){ .type = SG_V_BLOB, .p = "\0", .n = 1 },
           SG_FIT_EXACT, SG_V_BLOB, NULL);
    expect(ty(SG_K_BOOL, 0, 0), text("TRUE"), SG_FIT_EXACT, SG_V_BOOL, NULL);
    expect(ty(SG_K_BOOL, 0, 0), (sg_value){ .type = SG_V_INT, .i = 2 },
           SG_FIT_NONE, 0, NULL);
    expect(ty(SG_K_BLOB, 0, 0), text("ab"), SG_FIT_EXACT, SG_V_BLOB, "ab");
}

static void times(void **state)
{
    (void)state;
    sg_coltype ts = ty(SG_K_TIMESTAMP, 0, -1), tz = ty(SG_K_TIMESTAMPTZ, 0, -1);
    sg_coltype d = ty(SG_K_DATE, 0, -1), tm = ty(SG_K_TIME, 0, -1);
    expect(ts, text("2009-01-01 00:00:00"), SG_FIT_EXACT, SG_V_DATETIME,
           "2009-01-01 00:00:00");
    expect(ts, text("2009-01-01T10:20"), SG_FIT_EXACT, SG_V_DATETIME,
           "2009-01-01 10:20:00");
    expect(ts, text("2009-01-01"), SG_FIT_EXACT, SG_V_DATETIME, "2009-01-01 00:00:00");
    expect(ts, text("2009-01-01 10:00:00.1234567"), SG_FIT_LOSSY, SG_V_DATETIME,
           "2009-01-01 10:00:00.123457");
    expect(ts, text("2009-12-31 23:59:59.9999996"), SG_FIT_LOSSY, SG_V_DATETIME,
           "2010-01-01 00:00:00");
    expect(ts, text("2009-01-01 10:00:00+02"), SG_FIT_LOSSY, SG_V_DATETIME,
           "2009-01-01 10:00:00");
    expect(tz, text("2009-01-01 01:00:00+02:00"), SG_FIT_EXACT, SG_V_DATETIME,
           "2008-12-31 23:00:00+00:00");
    expect(tz, text("2009-01-01 10:00:00.5Z"), SG_FIT_EXACT, SG_V_DATETIME,
           "2009-01-01 10:00:00.5+00:00");
    expect(tz, text("2009-01-01 10:00:00-0330"), SG_FIT_EXACT, SG_V_DATETIME,
           "2009-01-01 13:30:00+00:00");
    expect(tz, text("2009-01-01 10:00:00+00"), SG_FIT_EXACT, SG_V_DATETIME,
           "2009-01-01 10:00:00+00:00");
    expect(tz, text("infinity"), SG_FIT_EXACT, SG_V_DATETIME, "infinity");
    expect(d, text("2008-02-29"), SG_FIT_EXACT, SG_V_DATETIME, "2008-02-29");
    expect(d, text("2009-02-29"), SG_FIT_NONE, 0, NULL);
    expect(d, text("2009-02-01 10:00:00"), SG_FIT_LOSSY, SG_V_DATETIME, "2009-02-01");
    expect(tm, text("10:00:01.250"), SG_FIT_EXACT, SG_V_DATETIME, "10:00:01.25");
    expect(tm, text("24:00:00"), SG_FIT_NONE, 0, NULL);
    expect(ts, (sg_value){ .type = SG_V_INT, .i = 1230768000 }, SG_FIT_NONE, 0, NULL);
    expect(ts, text("0000-01-01 00:00:00"), SG_FIT_NONE, 0, NULL);
    expect(ts, text("2009-01-01 10:00:00 junk"), SG_FIT_NONE, 0, NULL);
    sg_coltype ts0 = ts;
    ts0.frac = 0;
    expect(ts0, text("2009-01-01 10:00:00.5"), SG_FIT_LOSSY, SG_V_DATETIME,
           "2009-01-01 10:00:01");
}

static void idempotent(void **state)
{
    (void)state;
    /* conforming a conformed value changes nothing */
    const char *in[] = { "2009-01-01 01:00:00+02:00", "0012.3400" };
    sg_coltype t[] = { ty(SG_K_TIMESTAMPTZ, 0, -1), ty(SG_K_NUMERIC, 10, 3) };
    for (size_t i = 0; i < 2; i++) {
        sg_buf a = SG_BUF_INIT, b = SG_BUF_INIT;
        sg_value v = text(in[i]);
        assert_int_not_equal(sg_conform(&t[i], &v, &a, NULL), SG_FIT_NONE);
        sg_value w = v;
        assert_int_equal(sg_conform(&t[i], &w, &b, NULL), SG_FIT_EXACT);
        assert_int_equal(v.n, w.n);
        assert_memory_equal(v.p, w.p, v.n);
        sg_buf_free(&a);
        sg_buf_free(&b);
    }
}

/* NaN and -0.0 where the engine would change them (SQLite: NaN becomes
 * NULL, -0.0 becomes 0 in numeric affinities) are refused; a text column
 * of the same engine keeps them exactly. */
static void nan_and_negative_zero(void **state)
{
    (void)state;
    sg_coltype real = ty(SG_K_REAL, 8, -1), txt = ty(SG_K_TEXT, 0, -1);
    real.no_nan = real.no_neg_zero = true;
    txt.no_nan = true;
    expect(real, (sg_value){ .type = SG_V_REAL, .d = NAN }, SG_FIT_NONE, 0, NULL);
    expect(real, (sg_value){ .type = SG_V_REAL, .d = -0.0 }, SG_FIT_NONE, 0, NULL);
    expect(real, (sg_value){ .type = SG_V_REAL, .d = INFINITY }, SG_FIT_EXACT, SG_V_REAL, NULL);
    expect(txt, (sg_value){ .type = SG_V_REAL, .d = NAN }, SG_FIT_EXACT, SG_V_TEXT, "NaN");
    expect(txt, (sg_value){ .type = SG_V_REAL, .d = -0.0 }, SG_FIT_EXACT, SG_V_TEXT, "-0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numeric),
        cmocka_unit_test(integers_and_reals),
        cmocka_unit_test(texts),
        cmocka_unit_test(times),
        cmocka_unit_test(idempotent),
        cmocka_unit_test(nan_and_negative_zero),
    };
    return cmocka_run_group_tests_name("conform", tests, NULL, NULL);
}
