/* Canonical encoding test vectors (docs/canonical-encoding.md) and digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "values/value.h"

static void expect_bytes(const sg_value *v, size_t n, const unsigned char *want,
                         size_t want_len)
{
    sg_buf b = SG_BUF_INIT;
    sg_row_encode(&b, v, n);
    assert_int_equal(b.len, want_len);
    assert_memory_equal(b.data, want, want_len);
    sg_buf_free(&b);
}

static void vectors(void **state)
{
    (void)state;
    sg_value v1[] = { { .type = SG_V_INT, .i = 1 } };
    const unsigned char w1[] = { 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
    expect_bytes(v1, 1, w1, sizeof w1);

    sg_value v2[] = { { .type = SG_V_NULL }, { .type = SG_V_TEXT, .p = "ab", .n = 2 } };
    const unsigned char w2[] = { 0, 0, 0, 2, 0, 4, 0, 0, 0, 2, 'a', 'b' };
    expect_bytes(v2, 2, w2, sizeof w2);

    sg_value v3[] = { { .type = SG_V_REAL, .d = 1.0 } };
    const unsigned char w3[] = { 0, 0, 0, 1, 2, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0 };
    expect_bytes(v3, 1, w3, sizeof w3);

    sg_value v4[] = { { .type = SG_V_INT, .i = INT64_MIN },
                      { .type = SG_V_BLOB, .p = "", .n = 0 } };
    const unsigned char w4[] = { 0, 0, 0, 2, 1, 0x80, 0, 0, 0, 0, 0, 0, 0,
                                 5, 0, 0, 0, 0 };
    expect_bytes(v4, 2, w4, sizeof w4);
}

static sg_digest digest_of(const sg_value *v, size_t n)
{
    sg_hasher *h = sg_hasher_new();
    sg_buf s = SG_BUF_INIT;
    sg_hasher_row(h, &s, v, n);
    sg_digest d = sg_hasher_digest(h);
    sg_hasher_free(h);
    sg_buf_free(&s);
    return d;
}

/* digests pinned in docs/canonical-encoding.md */
static void digest_vectors(void **state)
{
    (void)state;
    sg_value v1[] = { { .type = SG_V_INT, .i = 1 } };
    sg_value v2[] = { { .type = SG_V_NULL }, { .type = SG_V_TEXT, .p = "ab", .n = 2 } };
    sg_digest d = digest_of(v1, 1);
    assert_true(d.hi == UINT64_C(0x267502cd47dfbb2f) && d.lo == UINT64_C(0xad185d7781b922d4));
    sg_hasher *h = sg_hasher_new();
    sg_buf s = SG_BUF_INIT;
    sg_hasher_row(h, &s, v1, 1);
    sg_hasher_row(h, &s, v2, 2);
    d = sg_hasher_digest(h);
    assert_true(d.hi == UINT64_C(0x3f8df8ed11b4d628) && d.lo == UINT64_C(0xa6ebf4351e5361c6));
    sg_hasher_free(h);
    sg_buf_free(&s);
}

static void zero_forms_differ(void **state)
{
    (void)state;
    sg_value a = { .type = SG_V_INT, .i = 0 }, b = { .type = SG_V_REAL, .d = 0.0 },
             c = { .type = SG_V_TEXT, .p = "0", .n = 1 },
             d = { .type = SG_V_TEXT, .p = "", .n = 0 }, e = { .type = SG_V_NULL };
    sg_digest da = digest_of(&a, 1), db = digest_of(&b, 1), dc = digest_of(&c, 1),
              dd = digest_of(&d, 1), de = digest_of(&e, 1);
    assert_memory_not_equal(&da, &db, sizeof da);
    assert_memory_not_equal(&da, &dc, sizeof da);
    assert_memory_not_equal(&db, &dc, sizeof da);
    assert_memory_not_equal(&dd, &de, sizeof da);
    /* two rows hashed in sequence differ from their values run together */
    sg_value ab[] = { { .type = SG_V_TEXT, .p = "a", .n = 1 },
                      { .type = SG_V_TEXT, .p = "b", .n = 1 } };
    sg_value a_b[] = { { .type = SG_V_TEXT, .p = "ab", .n = 2 },
                       { .type = SG_V_TEXT, .p = "", .n = 0 } };
    sg_digest x = digest_of(ab, 2), y = digest_of(a_b, 2);
    assert_memory_not_equal(&x, &y, sizeof x);
}

static void roundtrip(void **state)
{
    (void)state;
    sg_value v[] = { { .type = SG_V_INT, .i = INT64_MAX }, { .type = SG_V_REAL, .d = -2.5 },
                     { .type = SG_V_TEXT, .p = "caf\xc3\xa9 ", .n = 6 },
                     { .type = SG_V_BLOB, .p = "\0\1", .n = 2 }, { .type = SG_V_NULL } };
    sg_buf b = SG_BUF_INIT;
    sg_row r;
    sg_row_encode(&b, v, 5);
    assert_int_equal(sg_row_decode(&r, b.data, b.len), 0);
    assert_int_equal(r.n, 5);
    assert_true(sg_row_equal(r.v, v, 5));
    sg_row_free(&r);
    assert_int_equal(sg_row_decode(&r, b.data, b.len - 1), -1);
    sg_buf_free(&b);
}

/* two engines' spellings of one answer in one form; other answers stay
 * apart */
static void portable_forms_across_engines(void **state)
{
    (void)state;
    sg_value pg[] = { { .type = SG_V_NUMERIC, .p = "15.750", .n = 6 },
                      { .type = SG_V_BOOL, .i = 1 }, { .type = SG_V_INT, .i = 7 },
                      { .type = SG_V_DATETIME, .p = "2026-01-02 03:04:05", .n = 19 },
                      { .type = SG_V_NUMERIC, .p = "-0.10", .n = 5 } };
    sg_value sq[] = { { .type = SG_V_REAL, .d = 15.75 }, { .type = SG_V_INT, .i = 1 },
                      { .type = SG_V_NUMERIC, .p = "7.0", .n = 3 },
                      { .type = SG_V_TEXT, .p = "2026-01-02 03:04:05", .n = 19 },
                      { .type = SG_V_REAL, .d = -0.1 } };
    sg_buf a = SG_BUF_INIT, b = SG_BUF_INIT, ea = SG_BUF_INIT, eb = SG_BUF_INIT;
    assert_int_equal(sg_row_portable(pg, 5, &a), 0);
    assert_int_equal(sg_row_portable(sq, 5, &b), 0);
    sg_row_encode(&ea, pg, 5);
    sg_row_encode(&eb, sq, 5);
    assert_int_equal(ea.len, eb.len);
    assert_memory_equal(ea.data, eb.data, ea.len);
    assert_int_equal(pg[0].type, SG_V_NUMERIC);
    assert_int_equal((int)pg[0].n, 5);
    assert_memory_equal(pg[0].p, "15.75", 5);
    /* 0.1 + 0.2 as a double is not the decimal 0.3; text stays text */
    sg_value x[] = { { .type = SG_V_REAL, .d = 0.1 + 0.2 }, { .type = SG_V_TEXT, .p = "1", .n = 1 } };
    sg_value y[] = { { .type = SG_V_NUMERIC, .p = "0.3", .n = 3 }, { .type = SG_V_INT, .i = 1 } };
    assert_int_equal(sg_row_portable(x, 2, &a), 0);
    assert_int_equal(sg_row_portable(y, 2, &b), 0);
    assert_int_equal(sg_value_cmp(&x[0], &y[0]) != 0, 1);
    assert_int_equal(x[1].type, SG_V_TEXT);
    assert_int_equal(y[1].type, SG_V_NUMERIC);
    sg_buf_free(&a);
    sg_buf_free(&b);
    sg_buf_free(&ea);
    sg_buf_free(&eb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vectors),
        cmocka_unit_test(digest_vectors),
        cmocka_unit_test(zero_forms_differ),
        cmocka_unit_test(portable_forms_across_engines),
        cmocka_unit_test(roundtrip),
    };
    return cmocka_run_group_tests_name("value", tests, NULL, NULL);
}
