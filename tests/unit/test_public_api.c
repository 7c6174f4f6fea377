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

/* Options carry a version; one the library does not know is refused before
 * anything is opened, with a message that says how to fill them. */
static void open_options_version(void **state)
{
    (void)state;
    sg_migration *m = NULL;
    sg_open_options o;
    assert_int_equal(sg_open_options_init(&o, SG_OPEN_OPTIONS_VERSION), 0);
    assert_false(o.read_only);
    assert_int_equal(sg_open_options_init(&o, 99), SG_EINVAL);
    assert_int_equal(sg_open_options_init(NULL, SG_OPEN_OPTIONS_VERSION), SG_EINVAL);
    o.version = 99;
    assert_int_equal(sg_migration_open_ext(&m, "/nonexistent/s.yaml", &o), SG_EINVAL);
    assert_non_null(strstr(sg_migration_errmsg(m), "sg_open_options_init"));
    sg_migration_close(m);
    assert_int_equal(sg_migration_open_ext(&m, NULL, NULL), SG_EINVAL);
    sg_migration_close(m);
    assert_int_equal(sg_migration_open_ext(NULL, "x.yaml", NULL), SG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(open_missing_spec),
        cmocka_unit_test(open_options_version),
    };
    return cmocka_run_group_tests_name("public_api", tests, NULL, NULL);
}
