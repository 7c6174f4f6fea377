/* The public header stands alone (included first, nothing before it), and
 * the API answers bad input with error codes and messages on the handle. */
#include <segue/segue.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static void names(void **state)
{
    (void)state;
    assert_string_equal(sg_phase_name(SG_PHASE_PLANNED), "planned");
    assert_string_equal(sg_phase_name(SG_PHASE_WRITES_SWITCHED), "writes_switched");
    assert_non_null(sg_error_name(SG_ESPEC));
    assert_non_null(sg_error_name(-12345));
}

static void open_missing_spec(void **state)
{
    (void)state;
    sg_migration *m = NULL;
    int rc = sg_migration_open(&m, "/nonexistent/segue-spec.yaml");
    assert_true(rc < 0);
    assert_non_null(m); /* the handle carries the message */
    assert_non_null(strstr(sg_migration_errmsg(m), "segue-spec.yaml"));
    sg_migration_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(open_missing_spec),
    };
    return cmocka_run_group_tests_name("public_api", tests, NULL, NULL);
}
