/* Malformed specs: each gets its own clear error with file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <segue/segue.h>

#include "spec/spec.h"

static const char *good_head = "version: 1\nname: m\nsource: sqlite:a.db\ntarget: sqlite:b.db\n";

static const struct { const char *text; const char *want; } cases[] = {
    { "", ":1: the spec is empty" },
    { "- a\n- b\n", ":1: the spec must be a mapping" },
    { "version: 2\n", ":1: unsupported spec version '2'" },
    { "version: 1\nname: m\nsource: sqlite:a\ntarget: sqlite:b\nmappings: []\n",
      ":5: mappings is empty" },
    { "version: 1\nname: m\nsource: sqlite:a\nmappings:\n  - from: A\n    to: b\n",
      ":1: missing 'target'" },
    { "version: 1\nnmae: m\n", ":2: unknown key 'nmae'" },
    { "version: 1\nname: bad name!\n", ":2: name 'bad name!' has a character" },
    { "version: 1\nname: m\nname: n\n", ":3: key 'name' appears twice" },
    { "version: 1\nname: m\nsource: [a]\n", ":3: source must be a single value" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - to: b\n",
      ":6: mapping has no 'from'" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n",
      ":6: mapping from 'A' has no 'to'" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n    to: b\n"
      "    colums: {a: b}\n", ":8: unknown key 'colums' in mapping" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n    to: b\n"
      "    create: maybe\n", ":8: create must be true or false" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n    to: b\n"
      "    columns:\n      a: x\n      a: y\n", ":10: target column 'a' appears twice" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n    to: b\n"
      "    key: []\n", ":8: key must list 1 to 16 columns" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n    to: b\n"
      "backfill:\n  chunk_time: fast\n", ":9: backfill.chunk_time: 'fast' is not a duration" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n    to: b\n"
      "backfill:\n  chunk_time: 5ms\n", ":9: backfill.chunk_time: 5ms is out of range" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n    to: b\n"
      "backfill:\n  chunk_size: 5\n", ":9: unknown setting 'chunk_size' in 'backfill'" },
    { "version: 1\nname: m\n  source: x\n", ":3: YAML syntax error" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n    to: b\n"
      "    columns:\n      a: {type: INT}\n", ":9: column 'a' has no expr" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings: every\n",
      ":5: mappings must be a list, or all" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  all: false\n",
      ":6: mappings must be a list, or all" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  all: true\n  exlude: [a]\n",
      ":7: unknown key 'exlude' in mappings" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  all: true\n  exclude: []\n",
      ":7: exclude must list 1 to 4096 tables" },
    { "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  all: true\n  exclude: {a: b}\n",
      ":7: exclude must name one or a list of tables" },
};

static void malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sg_spec *s = NULL;
        sg_err e = { 0 };
        int rc = sg_spec_parse(&s, "spec.yaml", cases[i].text, strlen(cases[i].text), &e);
        if (rc != SG_ESPEC || !strstr(e.msg, cases[i].want) || !strstr(e.msg, "spec.yaml:"))
            fail_msg("case %zu: rc %d, message '%s', wanted '%s'", i, rc, e.msg,
                     cases[i].want);
        assert_null(s);
    }
}

static void good(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%smappings:\n  - from: A\n    to: b\n    key: [id]\n"
             "    columns:\n      id: id\n      e: {expr: lower(E), type: TEXT}\n"
             "backfill:\n  chunk_time: 2s\n  max_rows_per_second: 100\n", good_head);
    sg_spec *s = NULL;
    sg_err e = { 0 };
    assert_int_equal(sg_spec_parse(&s, "spec.yaml", text, strlen(text), &e), 0);
    assert_int_equal(s->chunk_time_ms, 2000);
    assert_int_equal(s->max_rows_per_second, 100);
    assert_int_equal(s->mappings[0].n_cols, 2);
    assert_string_equal(s->mappings[0].cols[1].type, "TEXT");
    assert_int_equal(s->mappings[0].cols[1].line, 11);
    sg_spec_free(s);
}

/* mappings: all, with and without exclude; the hash tells them apart and
 * from a spec with no mappings given */
static void all_tables(void **state)
{
    (void)state;
    char text[256], h1[33], h2[33];
    sg_spec *s = NULL;
    sg_err e = { 0 };
    snprintf(text, sizeof text, "%smappings: all\n", good_head);
    assert_int_equal(sg_spec_parse(&s, "spec.yaml", text, strlen(text), &e), 0);
    assert_true(s->all);
    assert_int_equal(s->all_line, 5);
    assert_int_equal(s->n_mappings, 0);
    sg_spec_hash(s, h1);
    sg_spec_free(s);
    snprintf(text, sizeof text, "%smappings:\n  all: true\n  exclude: [a, \"B c\"]\n", good_head);
    assert_int_equal(sg_spec_parse(&s, "spec.yaml", text, strlen(text), &e), 0);
    assert_true(s->all);
    assert_int_equal(s->n_exclude, 2);
    assert_string_equal(s->exclude[1], "B c");
    assert_int_equal(s->exclude_line, 7);
    sg_spec_hash(s, h2);
    assert_string_not_equal(h1, h2);
    sg_spec_free(s);
    snprintf(text, sizeof text, "%smappings: {all: true, foreign_keys: true}\n", good_head);
    assert_int_equal(sg_spec_parse(&s, "spec.yaml", text, strlen(text), &e), 0);
    assert_true(s->all && s->all_foreign_keys);
    sg_spec_hash(s, h2);
    assert_string_equal(h1, h2); /* like indexes, foreign keys are not hashed */
    sg_spec_free(s);
}

static void durations(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(sg_parse_duration_ms("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(sg_parse_duration_ms("1.5s", &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(sg_parse_duration_ms("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(sg_parse_duration_ms("-1s", &ms), -1);
    assert_int_equal(sg_parse_duration_ms("1y", &ms), -1);
    assert_int_equal(sg_parse_duration_ms("", &ms), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed),
        cmocka_unit_test(good),
        cmocka_unit_test(all_tables),
        cmocka_unit_test(durations),
    };
    return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}
