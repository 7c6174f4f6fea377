/* Reading an application's query for a shadow read (check/sqlparse.h):
 * reads are told from writes, tables and columns are listed, and one
 * query shape with other constants has one fingerprint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <segue/segue.h>

#include "check/sqlparse.h"

static bool has(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static void lists_tables_columns_and_shape(void **state)
{
    (void)state;
    sg_sqlparse p;
    sg_err e = { 0 };
    const char *q = "WITH top AS (SELECT AlbumId FROM \"Track\" GROUP BY 1) SELECT a.Title, "
                    "t.\"Name\" FROM album a JOIN \"Track\" t USING (AlbumId) WHERE t.Name "
                    "LIKE $1 AND a.AlbumId IN (SELECT * FROM top) ORDER BY 1 LIMIT $2";
    assert_int_equal(sg_sqlparse_read(q, &p, &e), 0);
    assert_true(p.read_only);
    assert_int_equal(p.n_tables, 2);
    assert_true(has(p.tables, p.n_tables, "album"));
    assert_true(has(p.tables, p.n_tables, "Track"));
    assert_true(has(p.columns, p.n_columns, "title"));
    assert_true(has(p.columns, p.n_columns, "Name"));
    assert_true(has(p.columns, p.n_columns, "name"));
    assert_true(p.ordered);
    assert_int_equal(p.n_params, 2);
    assert_int_equal(p.with_at, 5);
    assert_false(p.recursive);
    assert_int_equal(strlen(p.fingerprint), 16);
    sg_sqlparse_free(&p);
    assert_int_equal(sg_sqlparse_read("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                      "FROM n WHERE i < 3) SELECT * FROM n", &p, &e), 0);
    assert_true(p.recursive);
    assert_int_equal(p.with_at, 15);
    sg_sqlparse_free(&p);
}

static void one_shape_one_fingerprint(void **state)
{
    (void)state;
    sg_sqlparse a, b, c;
    sg_err e = { 0 };
    assert_int_equal(sg_sqlparse_read("SELECT * FROM t WHERE id = 1", &a, &e), 0);
    assert_int_equal(sg_sqlparse_read("select *  from t where id = 42", &b, &e), 0);
    assert_int_equal(sg_sqlparse_read("SELECT * FROM t WHERE id > 1", &c, &e), 0);
    assert_string_equal(a.fingerprint, b.fingerprint);
    assert_string_not_equal(a.fingerprint, c.fingerprint);
    assert_false(a.ordered);
    assert_int_equal(a.with_at, -1);
    sg_sqlparse_free(&a);
    sg_sqlparse_free(&b);
    sg_sqlparse_free(&c);
}

static void refuses_what_writes_or_locks(void **state)
{
    (void)state;
    static const char *const writes[] = {
        "UPDATE t SET a = 1",
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "SELECT * FROM t FOR UPDATE",
        "SELECT * INTO t2 FROM t",
        "SELECT nextval('s')",
        "SELECT pg_advisory_lock(1)",
        "CREATE TABLE x (a int)",
    };
    for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
        sg_sqlparse p;
        sg_err e = { 0 };
        assert_int_equal(sg_sqlparse_read(writes[i], &p, &e), 0);
        assert_false(p.read_only);
        assert_non_null(p.why);
        sg_sqlparse_free(&p);
    }
}

static void names_what_does_not_parse(void **state)
{
    (void)state;
    sg_sqlparse p;
    sg_err e = { 0 };
    assert_int_equal(sg_sqlparse_read("SELECT * FROM WHERE", &p, &e), SG_EINVAL);
    assert_non_null(strstr(e.msg, "syntax error"));
    sg_sqlparse_free(&p);
    assert_int_equal(sg_sqlparse_read("SELECT 1; SELECT 2", &p, &e), SG_EINVAL);
    assert_non_null(strstr(e.msg, "2 statements"));
    sg_sqlparse_free(&p);
    assert_int_equal(sg_sqlparse_read("SELECT * FROM public.t, u", &p, &e), 0);
    assert_int_equal(p.n_qualified, 1);
    assert_string_equal(p.qualified[0], "public.t");
    assert_int_equal(p.n_tables, 1);
    sg_sqlparse_free(&p);
}

/* one parse per query shape: other constants reuse it; $n, literal kinds
 * and the WITH head's place are part of what is compared */
static void shapes_parsed_once(void **state)
{
    (void)state;
    sg_sqlparse_cache *c = NULL;
    const sg_sqlparse *a = NULL, *b = NULL;
    sg_err e = { 0 };
    assert_int_equal(sg_sqlparse_cached(&c, "SELECT * FROM t WHERE id = 1 AND n = 'x'", &a, &e), 0);
    assert_int_equal(sg_sqlparse_cached(&c, "select *\n FROM t WHERE id = 420 AND n = 'y''z'",
                                        &b, &e), 0);
    assert_ptr_equal(a, b);
    assert_true(a->read_only);
    assert_int_equal(sg_sqlparse_cached(&c, "SELECT * FROM t WHERE id = 'x' AND n = 'x'", &b,
                                        &e), 0);
    assert_ptr_not_equal(a, b);
    assert_int_equal(sg_sqlparse_cached(&c, "SELECT $1::int, $1", &a, &e), 0);
    assert_int_equal(sg_sqlparse_cached(&c, "SELECT $2::int, $1", &b, &e), 0);
    assert_ptr_not_equal(a, b);
    assert_int_equal(a->n_params, 1);
    assert_int_equal(b->n_params, 2);
    assert_int_equal(sg_sqlparse_cached(&c, "WITH x AS (SELECT 1) SELECT * FROM x", &a, &e), 0);
    assert_int_equal(a->with_at, 5);
    assert_int_equal(sg_sqlparse_cached(&c, "WITH   x AS (SELECT 2) SELECT * FROM x", &b, &e), 0);
    assert_int_equal(b->with_at, 7);
    assert_int_equal(sg_sqlparse_cached(&c, "UPDATE t SET n = 1", &a, &e), 0);
    assert_false(a->read_only);
    assert_int_equal(sg_sqlparse_cached(&c, "SELEC 1", &a, &e), SG_EINVAL);
    assert_null(a);
    /* more shapes than it keeps: it starts over, answers stay right */
    for (int i = 0; i < 1200; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT c%d FROM t WHERE id = %d", i, i);
        assert_int_equal(sg_sqlparse_cached(&c, sql, &a, &e), 0);
        assert_int_equal(a->n_columns, 2);
    }
    sg_sqlparse_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes_parsed_once),
        cmocka_unit_test(lists_tables_columns_and_shape),
        cmocka_unit_test(one_shape_one_fingerprint),
        cmocka_unit_test(refuses_what_writes_or_locks),
        cmocka_unit_test(names_what_does_not_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
