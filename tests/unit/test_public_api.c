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
    assert_non_null(strstr(sg_migration_errmsg(m), "options version 99 is not 1"));
    sg_migration_close(m);
    assert_int_equal(sg_migration_open_ext(&m, NULL, NULL), SG_EINVAL);
    sg_migration_close(m);
    assert_int_equal(sg_migration_open_ext(NULL, "x.yaml", NULL), SG_EINVAL);
}

/* Every options struct: _init fills the defaults of a known version and
 * refuses another; a NULL handle is SG_EINVAL, never a crash. */
static void options_and_null_handles(void **state)
{
    (void)state;
    sg_backfill_options bo;
    sg_worker_options wo;
    sg_verify_options vo;
    sg_cleanup_options co;
    assert_int_equal(sg_backfill_options_init(&bo, SG_BACKFILL_OPTIONS_VERSION), 0);
    assert_int_equal(sg_worker_options_init(&wo, SG_WORKER_OPTIONS_VERSION), 0);
    assert_int_equal(wo.idle_ms, 50);
    assert_int_equal(sg_verify_options_init(&vo, SG_VERIFY_OPTIONS_VERSION), 0);
    assert_int_equal(sg_cleanup_options_init(&co, SG_CLEANUP_OPTIONS_VERSION), 0);
    assert_int_equal(sg_backfill_options_init(&bo, 7), SG_EINVAL);
    assert_int_equal(sg_worker_options_init(NULL, SG_WORKER_OPTIONS_VERSION), SG_EINVAL);
    assert_int_equal(sg_verify_options_init(&vo, 0), SG_EINVAL);
    /* an older version's struct is shorter: its init writes no later field */
    vo.sample = 77;
    assert_int_equal(sg_verify_options_init(&vo, 2), 0);
    assert_int_equal(vo.version, 2);
    assert_int_equal(vo.sample, 77);
    assert_int_equal(sg_verify_options_init(&vo, 3), 0);
    assert_int_equal(vo.sample, 0);
    assert_int_equal(sg_cleanup_options_init(&co, 2), SG_EINVAL);

    sg_status st;
    sg_plan *p = NULL;
    sg_verify_report *r = NULL;
    int64_t n;
    int rs, ws;
    uint32_t bucket;
    assert_int_equal(sg_migration_status(&st, NULL), SG_EINVAL);
    assert_int_equal(sg_migration_plan(&p, NULL), SG_EINVAL);
    assert_int_equal(sg_verify_run(&r, NULL, NULL), SG_EINVAL);
    assert_int_equal(sg_migration_retry(&n, NULL), SG_EINVAL);
    sg_fence_time *fences = NULL;
    size_t n_fences = 0;
    assert_int_equal(sg_migration_fences(&fences, &n_fences, NULL), SG_EINVAL);
    assert_int_equal(sg_migration_route(&rs, &ws, &bucket, NULL, "k", 1), SG_EINVAL);
    assert_int_equal(sg_backfill_run(NULL, NULL), SG_EINVAL);
    assert_int_equal(sg_worker_run(NULL, NULL), SG_EINVAL);
    assert_int_equal(sg_migration_start(NULL, NULL), SG_EINVAL);
    assert_int_equal(sg_cutover_reads(NULL, 10, NULL), SG_EINVAL);
    assert_int_equal(sg_cutover_writes(NULL, NULL, NULL), SG_EINVAL);
    assert_int_equal(sg_migration_rollback(NULL, NULL), SG_EINVAL);
    assert_int_equal(sg_migration_cleanup(NULL, NULL, NULL), SG_EINVAL);
    assert_int_equal(sg_migration_abort(NULL, NULL), SG_EINVAL);
    assert_int_equal(sg_migration_set_lock_wait(NULL, 10), SG_EINVAL);
    assert_int_equal(sg_migration_audit(NULL, NULL, NULL, NULL), SG_EINVAL);
    assert_int_equal(sg_router_write_side(&ws, NULL), SG_EINVAL);
    assert_int_equal(sg_router_read_side(&rs, NULL, "k", 1), SG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(open_missing_spec),
        cmocka_unit_test(open_options_version),
        cmocka_unit_test(options_and_null_handles),
    };
    return cmocka_run_group_tests_name("public_api", tests, NULL, NULL);
}
