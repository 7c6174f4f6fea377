/* Reading statements out of query logs (segue/shadow.h sg_querylog):
 * PostgreSQL's jsonlog and csvlog, plain SQL; lines that cannot be read are
 * counted and passed over, never fatal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <segue/shadow.h>

/* The statements of text (len bytes) as "sql|p1|p2;" into out. */
static sg_querylog_format read_all(const char *text, size_t len, char *out, size_t size,
                                   int64_t *unreadable)
{
    sg_querylog *l = NULL;
    sg_logged_query q;
    size_t n = 0;
    assert_int_equal(sg_querylog_open(&l, text, len, SG_QUERYLOG_AUTO), 0);
    out[0] = '\0';
    while (sg_querylog_next(l, &q)) {
        n += (size_t)snprintf(out + n, size - n, "%s", q.sql);
        for (size_t i = 0; i < q.n_params; i++)
            n += (size_t)snprintf(out + n, size - n, "|%s", q.params[i] ? q.params[i] : "NULL");
        n += (size_t)snprintf(out + n, size - n, ";");
        sg_logged_query_clear(&q);
    }
    *unreadable = sg_querylog_unreadable(l);
    sg_querylog_format f = sg_querylog_format_of(l);
    sg_querylog_free(l);
    return f;
}

static void jsonlog_statements_and_parameters(void **state)
{
    (void)state;
    static const char log[] =
        "{\"dbname\":\"d\",\"message\":\"connection authorized: user=x\"}\n"
        "{\"dbname\":\"d\",\"message\":\"duration: 0.1 ms  statement: SELECT 1\"}\n"
        "{\"dbname\":\"d\",\"message\":\"duration: 0.1 ms  parse P_1: SELECT $1\"}\n"
        "{\"dbname\":\"d\",\"message\":\"duration: 0.2 ms  execute P_1: SELECT $1, $2\","
        "\"detail\":\"parameters: $1 = 'it''s', $2 = NULL\"}\n"
        "{\"dbname\":\"d\",\"application_name\":\"segue\",\"message\":\"duration: 0.1 ms  "
        "statement: SELECT 'segue itself'\"}\n"
        "garbage line\n"
        "{\"dbname\":\"d\",\"message\":\"duration: 0.1 ms  statement: SELECT 2\"";
    char out[512];
    int64_t bad = 0;
    assert_int_equal(read_all(log, sizeof log - 1, out, sizeof out, &bad), SG_QUERYLOG_JSONLOG);
    assert_string_equal(out, "SELECT 1;SELECT $1, $2|it's|NULL;");
    assert_int_equal(bad, 2); /* the garbage and the cut last line */
}

static void csvlog_with_quotes_and_newlines(void **state)
{
    (void)state;
    static const char log[] =
        "2026-12-02 10:00:00.000 UTC,\"u\",\"d\",1,\"h\",s,1,SELECT,2026-12-02 10:00:00 UTC,"
        "3/1,0,LOG,00000,\"duration: 0.1 ms  statement: SELECT 'a,\"\"b\"\"'\n  FROM t\",,,"
        ",,,,,,\"psql\",client backend,,0\n"
        "2026-12-02 10:00:01.000 UTC,\"u\",\"d\",1,\"h\",s,2,SELECT,2026-12-02 10:00:00 UTC,"
        "3/1,0,LOG,00000,\"duration: 0.1 ms  execute <unnamed>: SELECT $1\",\"parameters: "
        "$1 = '5'\",,,,,,,,\"psql\",client backend,,0\n"
        "2026-12-02 10:00:02.000 UTC,\"u\",\"d\",1,\"h\",s,3,SELECT,2026-12-02 10:00:00 UTC,"
        "3/1,0,LOG,00000,\"duration: 0.1 ms  statement: SELECT 'cut";
    char out[512];
    int64_t bad = 0;
    assert_int_equal(read_all(log, sizeof log - 1, out, sizeof out, &bad), SG_QUERYLOG_CSVLOG);
    assert_string_equal(out, "SELECT 'a,\"b\"'\n  FROM t;SELECT $1|5;");
    assert_int_equal(bad, 1);
}

static void sql_with_nul_bytes_and_bad_utf8(void **state)
{
    (void)state;
    static const char text[] = "SELECT 'x;y' FROM t; -- c;\n;SELECT 2;SELECT '\xff';SEL\0ECT 3;"
                               "SELECT 4";
    char out[512];
    int64_t bad = 0;
    assert_int_equal(read_all(text, sizeof text - 1, out, sizeof out, &bad), SG_QUERYLOG_SQL);
    assert_string_equal(out, "SELECT 'x;y' FROM t;SELECT 2;SELECT 4;");
    assert_int_equal(bad, 2);
}

/* Percentiles within the layout's 1/16 of the exact ones; two halves
 * merged equal the whole. */
static void histograms_bound_the_error_and_merge(void **state)
{
    (void)state;
    static sg_hist all, a, b;
    for (int64_t v = 1; v <= 100000; v++) {
        sg_hist_add(&all, v);
        sg_hist_add(v % 2 ? &a : &b, v);
    }
    static const double pcts[] = { 1, 50, 90, 99, 99.9 };
    for (size_t i = 0; i < sizeof pcts / sizeof *pcts; i++) {
        double exact = pcts[i] * 1000, got = (double)sg_hist_percentile(&all, pcts[i]);
        assert_true(got >= exact && got <= exact * (1 + 1.0 / 16) + 1);
    }
    assert_int_equal(sg_hist_percentile(&all, 100), 100000);
    sg_hist_merge(&a, &b);
    assert_memory_equal(&a, &all, sizeof all);
    sg_hist empty = { 0 };
    assert_int_equal(sg_hist_percentile(&empty, 50), 0);
    sg_hist_add(&empty, 7);
    assert_int_equal(sg_hist_percentile(&empty, 50), 7);
}

/* A jsonlog of two statements, and one csvlog record of statement sql. */
static const char json[] =
    "{\"dbname\":\"d\",\"message\":\"duration: 0.1 ms  statement: SELECT 1\"}\n"
    "{\"dbname\":\"d\",\"message\":\"duration: 0.1 ms  statement: SELECT 2\"}\n";
#define CSV_STATEMENT(sql)                                                                  \
    "2026-12-02 10:00:00.000 UTC,\"u\",\"d\",1,\"h\",s,1,SELECT,x,3/1,0,LOG,00000,"              \
    "\"duration: 0.1 ms  statement: " sql "\",,,,,,,,,\"app\",client backend,,0\n"

/* The statements a followed log gives from its first `cut` bytes, then
 * after growing to all of text, as "sql;" into out. */
static void follow_in_two(const char *text, size_t cut, char *first, char *then, size_t size,
                          int64_t *unreadable)
{
    sg_querylog *l = NULL;
    sg_logged_query q;
    assert_int_equal(sg_querylog_open(&l, text, cut, SG_QUERYLOG_AUTO), 0);
    sg_querylog_follow(l, true);
    for (char *out = first; out; out = out == first ? then : NULL) {
        size_t n = 0;
        out[0] = '\0';
        while (sg_querylog_next(l, &q)) {
            n += (size_t)snprintf(out + n, size - n, "%s;", q.sql);
            sg_logged_query_clear(&q);
        }
        if (out == first)
            assert_int_equal(sg_querylog_grow(l, text, strlen(text)), 0);
    }
    *unreadable = sg_querylog_unreadable(l);
    assert_int_equal(sg_querylog_grow(l, text, cut), SG_EINVAL); /* a log never shrinks */
    sg_querylog_free(l);
}

/* A log still being written: the line, record or statement the writer is
 * on waits for the rest, and is neither taken cut nor counted unreadable */
static void followed_logs_wait_for_the_line_being_written(void **state)
{
    (void)state;
    static const char csv[] = CSV_STATEMENT("SELECT 1") CSV_STATEMENT("SELECT 'a\nb'");
    static const char sql[] = "SELECT 1; SELECT 'x;y'; SELECT 3;";
    char a[256], b[256];
    int64_t bad = -1;
    /* cut in the middle of the second line */
    follow_in_two(json, sizeof json - 20, a, b, sizeof a, &bad);
    assert_string_equal(a, "SELECT 1;");
    assert_string_equal(b, "SELECT 2;");
    assert_int_equal(bad, 0);
    /* cut inside the quoted newline of the second record */
    follow_in_two(csv, (size_t)(strstr(csv, "'a") - csv) + 2, a, b, sizeof a, &bad);
    assert_string_equal(a, "SELECT 1;");
    assert_string_equal(b, "SELECT 'a\nb';");
    assert_int_equal(bad, 0);
    /* cut inside a quoted ; and before the last statement's ; */
    follow_in_two(sql, 20, a, b, sizeof a, &bad);
    assert_string_equal(a, "SELECT 1;");
    assert_string_equal(b, "SELECT 'x;y';SELECT 3;");
    follow_in_two(sql, sizeof sql - 2, a, b, sizeof a, &bad);
    assert_string_equal(a, "SELECT 1;SELECT 'x;y';");
    assert_string_equal(b, "SELECT 3;");
    assert_int_equal(bad, 0);
}

/* --from-end: what a log holds is passed over, a line being written is
 * read once it ends, and what follows is read */
static void skip_all_then_follow(void **state)
{
    (void)state;
    static const char csv[] = CSV_STATEMENT("SELECT 'a\nb'") CSV_STATEMENT("SELECT 3");
    const char *texts[2] = { json, csv };
    const char *second[2] = { "SELECT 2", "SELECT 3" };
    for (int t = 0; t < 2; t++) {
        const char *text = texts[t];
        /* cut inside the second line or record */
        size_t cut = (size_t)(strstr(strchr(text, '\n'), "duration") - text) + 20;
        sg_querylog *l = NULL;
        sg_logged_query q;
        assert_int_equal(sg_querylog_open(&l, text, cut, SG_QUERYLOG_AUTO), 0);
        sg_querylog_follow(l, true);
        sg_querylog_skip_all(l);
        assert_false(sg_querylog_next(l, &q));
        assert_int_equal(sg_querylog_grow(l, text, strlen(text)), 0);
        assert_true(sg_querylog_next(l, &q));
        assert_string_equal(q.sql, second[t]);
        sg_logged_query_clear(&q);
        assert_false(sg_querylog_next(l, &q));
        assert_int_equal(sg_querylog_unreadable(l), 0);
        sg_querylog_free(l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jsonlog_statements_and_parameters),
        cmocka_unit_test(csvlog_with_quotes_and_newlines),
        cmocka_unit_test(sql_with_nul_bytes_and_bad_utf8),
        cmocka_unit_test(followed_logs_wait_for_the_line_being_written),
        cmocka_unit_test(skip_all_then_follow),
        cmocka_unit_test(histograms_bound_the_error_and_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
