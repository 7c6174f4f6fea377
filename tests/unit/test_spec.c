/* Malformed specs: each gets its own clear error with file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <segue/segue.h>

#include "spec/settings.h"
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

/* The head of a spec with one mapping, then the rollout parts. */
#define R "version: 1\nname: m\nsource: x\ntarget: y\nmappings:\n  - from: A\n    to: b\n"

static const struct { const char *text; const char *want; } rollout_cases[] = {
    { R "cutover:\n  reads:\n    - {pct: 10, hold: 1m}\n    - {pct: 5, hold: 1m}\n",
      ":11: cutover.reads: step 2 (5 %) does not rise above step 1 (10 %)" },
    { R "cutover:\n  reads:\n    - {pct: 10, hold: 10s}\n",
      ":10: cutover.reads: step 1 holds 10000 ms, shorter than gates.interval (30000 ms)" },
    { R "cutover:\n  reads:\n    - {pct: 101, hold: 1m}\n",
      ":10: cutover.reads: pct '101' is not a whole percent in 1..100" },
    { R "cutover:\n  reads:\n    - {pct: 1}\n", ":10: a step in cutover.reads needs hold" },
    { R "cutover:\n  reads:\n    - {pct: 1, hold: 1m, wait: 1m}\n",
      ":10: unknown key 'wait' in a step" },
    { R "cutover:\n  reads: []\n", ":9: cutover.reads must be a list of 1 to 100 steps" },
    { R "cutover:\n  auto: true\n", ":1: cutover.auto needs the steps to walk" },
    { R "cutover:\n  auto: maybe\n", ":9: cutover.auto must be true or false" },
    { R "cutover:\n  auto: true\n  reads: [{pct: 50, hold: 1m}]\n  writes: {auto: true}\n",
      "cutover.writes.auto needs cutover.auto and a last read step at 100 %" },
    { R "cutover:\n  segments:\n    - {name: s, attribute: tenant, in: [a]}\n",
      ":10: a segment needs name, attribute, in and reads" },
    { R "cutover:\n  segments:\n    - {name: s, attribute: t, in: [a], reads: both}\n",
      ":10: a segment's reads must be target or source, not 'both'" },
    { R "cutover:\n  segments:\n    - {name: s, attribute: t, in: [a], reads: target}\n"
      "    - {name: s, attribute: u, in: [b], reads: source}\n",
      ":11: segment 's' is named twice (first at line 10)" },
    { R "cutover:\n  steps: []\n",
      ":9: unknown setting 'steps' in 'cutover'; hint: known: auto, bake, max_read_lag, read_your_writes, "
      "reads, segments, writes" },
    { R "gates:\n  checks:\n    lagg: {max: 1s}\n", ":10: unknown check 'lagg' in gates.checks" },
    { R "gates:\n  checks:\n    lag: {maximum: 1s}\n",
      ":10: unknown parameter 'maximum' of check 'lag'; hint: known: max" },
    { R "gates:\n  checks:\n    lag: 1s\n", ":10: gates.checks.lag must be a mapping" },
    { R "gates:\n  checks:\n    lag: {max: soon}\n",
      ":10: gates.checks.lag.max: 'soon' is not a duration" },
    { R "gates:\n  checks:\n    error_rate: {side: target}\n",
      ":10: gates.checks.error_rate needs max" },
    { R "gates:\n  checks:\n    error_rate: {max: 0.1, side: both}\n",
      ":10: gates.checks.error_rate.side: 'both' is not one of source|target" },
    { R "gates:\n  checks:\n    error_rate: {max: 2}\n",
      ":10: gates.checks.error_rate.max: '2' is not a number in 0..1" },
    { R "gates:\n  checks:\n    sql: {max: 0}\n", ":10: gates.checks.sql needs query" },
    { R "gates:\n  checks:\n    prometheus: {url: ftp://x, query: up, max: 1}\n",
      ":10: gates.checks.prometheus: url 'ftp://x' is not an http:// or https:// URL" },
    { R "gates:\n  checks:\n    lag: {max: 1s}\n    lag: {max: 2s}\n",
      ":11: key 'lag' appears twice (first at line 10)" },
    { R "gates:\n  max_lag: 2s\n  checks:\n    lag: {max: 1s}\n",
      "gates.max_lag (line 9) and gates.checks.lag (line 11) set the same check" },
    { R "gates:\n  shadow: {}\n  checks:\n    shadow_mismatch_rate: {}\n",
      "gates.shadow (line 9) and gates.checks.shadow_mismatch_rate (line 11)" },
    { R "gates:\n  on_fail: panic\n",
      ":9: gates.on_fail: 'panic' is not one of rollback|pause" },
    { R "gates:\n  interval: 10ms\n", ":9: gates.interval: 10ms is out of range" },
    { R "on_rollback:\n  command: page-oncall --now\n",
      ":9: on_rollback.command must be a list" },
    { R "on_rollback:\n  webhook: alertmanager:9093\n",
      ":9: on_rollback.webhook 'alertmanager:9093' is not an http:// or https:// URL" },
    { R "on_rollback:\n  email: x@y\n", ":9: unknown key 'email' in on_rollback" },
};

static void rollout_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rollout_cases / sizeof rollout_cases[0]; i++) {
        sg_spec *s = NULL;
        sg_err e = { 0 };
        const char *t = rollout_cases[i].text;
        int rc = sg_spec_parse(&s, "spec.yaml", t, strlen(t), &e);
        if (rc != SG_ESPEC || !strstr(e.msg, rollout_cases[i].want))
            fail_msg("rollout case %zu: rc %d, message '%s', wanted '%s'", i, rc,
                     e.msg, rollout_cases[i].want);
        assert_null(s);
    }
}

/* The example spec, whole: every field lands where it belongs. */
static void rollout_good(void **state)
{
    (void)state;
    const char *t = R
        "cutover:\n"
        "  auto: true\n"
        "  reads:\n"
        "    - {pct: 1,   hold: 10m}\n"
        "    - {pct: 10,  hold: 30m}\n"
        "    - {pct: 100, hold: 1h}\n"
        "  segments:\n"
        "    - {name: staff, attribute: tenant, in: [acme-internal, b], reads: target}\n"
        "  writes: {auto: true, max_fence: 2s}\n"
        "  bake: 24h\n"
        "  max_read_lag: 5s\n"
        "gates:\n"
        "  interval: 30s\n"
        "  failure_limit: 4\n"
        "  on_fail: pause\n"
        "  checks:\n"
        "    verify_clean:         {within: 30m}\n"
        "    lag:                  {max: 500ms}\n"
        "    heartbeat_lag:        {max: 1s}\n"
        "    shadow_mismatch_rate: {max: 0, window: 15m, min_samples: 1000}\n"
        "    error_rate:           {side: target, max: 0.001, window: 5m, min_samples: 500}\n"
        "    latency_ratio:        {percentile: 95, max: 1.5, window: 10m}\n"
        "    set_aside_keys:       {max: 0}\n"
        "    sql:                  {query: \"SELECT count(*) FROM b WHERE x < 0\", max: 0}\n"
        "    prometheus:           {url: \"http://127.0.0.1:9090\", query: up, max: 0.01}\n"
        "on_rollback:\n"
        "  command: [\"/usr/local/bin/page-oncall\", \"--migration\", \"{name}\"]\n"
        "  webhook: \"http://alertmanager.local:9093/api/v2/alerts\"\n";
    sg_spec *s = NULL;
    sg_err e = { 0 };
    if (sg_spec_parse(&s, "spec.yaml", t, strlen(t), &e))
        fail_msg("%s", e.msg);
    assert_true(s->cutover_auto);
    assert_int_equal(s->n_steps, 3);
    assert_int_equal(s->steps[1].pct, 10);
    assert_int_equal(s->steps[1].hold_ms, 1800000);
    assert_int_equal(s->steps[2].line, 13);
    assert_int_equal(s->n_segments, 1);
    assert_string_equal(s->segments[0].values[1], "b");
    assert_true(s->segments[0].to_target);
    assert_true(s->writes_auto);
    assert_int_equal(s->max_fence_ms, 2000);
    assert_int_equal(s->bake_ms, 86400000);
    assert_int_equal(s->max_read_lag_ms, 5000);
    assert_int_equal(s->gate_interval_ms, 30000);
    assert_int_equal(s->failure_limit, 4);
    assert_int_equal(s->on_fail, SG_ON_FAIL_PAUSE);
    for (int k = 0; k < SG_CHECK_COUNT; k++)
        assert_true(s->checks[k].on);
    assert_int_equal(s->checks[SG_CHECK_VERIFY_CLEAN].within_ms, 1800000);
    assert_int_equal(s->checks[SG_CHECK_LAG].max_ms, 500);
    assert_int_equal(s->checks[SG_CHECK_HEARTBEAT_LAG].max_ms, 1000);
    assert_int_equal(s->checks[SG_CHECK_ERROR_RATE].side, SG_SIDE_TARGET);
    assert_true(s->checks[SG_CHECK_ERROR_RATE].max == 0.001);
    assert_int_equal(s->checks[SG_CHECK_LATENCY_RATIO].percentile, 95);
    assert_int_equal(s->checks[SG_CHECK_LATENCY_RATIO].min_samples, 500);
    assert_string_equal(s->checks[SG_CHECK_SQL].query, "SELECT count(*) FROM b WHERE x < 0");
    assert_string_equal(s->checks[SG_CHECK_PROMETHEUS].url, "http://127.0.0.1:9090");
    assert_int_equal(s->n_hook_argv, 3);
    assert_string_equal(s->hook_argv[2], "{name}");
    assert_string_equal(s->webhook, "http://alertmanager.local:9093/api/v2/alerts");
    sg_spec_free(s);
}

/* Without gates.checks the older settings still fill the checks, and the
 * checks every step needs are on by default with the documented values. */
static void older_gate_settings(void **state)
{
    (void)state;
    const char *t = R "gates:\n  max_lag: 2s\n  verify_max_age: 10m\n  shadow:\n"
                      "    min_reads: 33\n    max_p99_ratio: 2\n";
    sg_spec *s = NULL;
    sg_err e = { 0 };
    if (sg_spec_parse(&s, "spec.yaml", t, strlen(t), &e))
        fail_msg("%s", e.msg);
    assert_int_equal(s->checks[SG_CHECK_LAG].max_ms, 2000);
    assert_int_equal(s->checks[SG_CHECK_VERIFY_CLEAN].within_ms, 600000);
    assert_true(s->checks[SG_CHECK_SHADOW_MISMATCH_RATE].on);
    assert_int_equal(s->checks[SG_CHECK_SHADOW_MISMATCH_RATE].min_samples, 33);
    assert_true(s->checks[SG_CHECK_SHADOW_MISMATCH_RATE].max_p99_ratio == 2);
    assert_int_equal(s->checks[SG_CHECK_SHADOW_MISMATCH_RATE].window_ms, 900000);
    assert_true(s->checks[SG_CHECK_SET_ASIDE_KEYS].on);
    assert_false(s->checks[SG_CHECK_ERROR_RATE].on);
    assert_false(s->cutover_auto);
    assert_int_equal(s->failure_limit, 3);
    assert_int_equal(s->on_fail, SG_ON_FAIL_ROLLBACK);
    sg_spec_free(s);
    /* the two tables agree on the defaults of the fields they share */
    t = R;
    assert_int_equal(sg_spec_parse(&s, "spec.yaml", t, strlen(t), &e), 0);
    size_t n;
    const sg_setting *all = sg_settings(&n);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(all[i].section, "gates", 5) || !strstr(all[i].help, "older"))
            continue;
        const char *newer = strstr(all[i].help, "gates.checks.") + 13;
        char check[64];
        snprintf(check, sizeof check, "%.*s", (int)strcspn(newer, "."), newer);
        const sg_setting *c = sg_check_param_find(check, strchr(newer, '.') + 1);
        assert_non_null(c);
        assert_true(c->dflt == all[i].dflt && c->rdflt == all[i].rdflt);
    }
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
    assert_int_equal(sg_parse_duration_ms("7d", &ms), 0);
    assert_int_equal(ms, 7 * 86400000LL);
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
        cmocka_unit_test(rollout_malformed),
        cmocka_unit_test(rollout_good),
        cmocka_unit_test(older_gate_settings),
    };
    return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}
