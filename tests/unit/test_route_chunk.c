/* The routing hash (monotone; close to the asked share) and chunk sizing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <segue/segue.h>

#include "move/chunk.h"

static void share_within_one_percent(void **state)
{
    (void)state;
    static const double pcts[] = { 1, 5, 10, 25, 50, 75, 99 };
    for (size_t p = 0; p < sizeof pcts / sizeof pcts[0]; p++) {
        int hits = 0;
        for (int k = 0; k < 100000; k++) {
            char key[32];
            int n = snprintf(key, sizeof key, "user-%d", k);
            hits += sg_route_reads_target(sg_route_bucket("salt-1", key, (size_t)n), pcts[p]);
        }
        double share = hits / 1000.0;
        assert_true(share > pcts[p] - 1.0 && share < pcts[p] + 1.0);
    }
}

static void monotone(void **state)
{
    (void)state;
    for (int k = 0; k < 20000; k++) {
        char key[32];
        int n = snprintf(key, sizeof key, "%d", k);
        uint32_t b = sg_route_bucket("s", key, (size_t)n);
        bool before = false;
        for (double p = 0; p <= 100; p += 0.5) {
            bool now = sg_route_reads_target(b, p);
            assert_true(!before || now); /* once routed to target, stays */
            before = now;
        }
        assert_true(before);
        assert_false(sg_route_reads_target(b, 0));
    }
    /* a different salt gives a different assignment */
    int same = 0;
    for (int k = 0; k < 1000; k++)
        same += sg_route_bucket("a", &k, sizeof k) == sg_route_bucket("b", &k, sizeof k);
    assert_true(same < 10);
}

static void chunk_sizing(void **state)
{
    (void)state;
    assert_int_equal(sg_chunk_next(1000, 500, 500, 0), 1000);   /* on target */
    assert_int_equal(sg_chunk_next(1000, 100, 500, 0), 2000);   /* grows <= 2x */
    assert_int_equal(sg_chunk_next(1000, 250, 500, 0), 2000);
    assert_int_equal(sg_chunk_next(1000, 10, 500, 0), 8000);    /* far below: <= 8x */
    assert_int_equal(sg_chunk_next(1000, 62, 500, 0), 8000);
    assert_int_equal(sg_chunk_next(1000, 63, 500, 0), 2000);
    assert_int_equal(sg_chunk_next(1000, 1000, 500, 0), 500);
    assert_int_equal(sg_chunk_next(1000, 100000, 500, 0), 250); /* shrinks <= 4x */
    assert_int_equal(sg_chunk_next(1000, 100, 500, 1500), 1500);/* rate cap */
    assert_int_equal(sg_chunk_next(10, 1000, 500, 0), SG_CHUNK_MIN_ROWS);
    assert_int_equal(sg_chunk_next(SG_CHUNK_MAX_ROWS, 1, 500, 0), SG_CHUNK_MAX_ROWS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(share_within_one_percent),
        cmocka_unit_test(monotone),
        cmocka_unit_test(chunk_sizing),
    };
    return cmocka_run_group_tests_name("route_chunk", tests, NULL, NULL);
}
