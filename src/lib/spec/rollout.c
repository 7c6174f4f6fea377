/* The rollout parts of the spec that are not plain settings: the read
 * steps and segments of `cutover`, the checks of `gates`, and the
 * `on_rollback` hooks; then the rules between them (docs/spec.md
 * "Rollout"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "spec/parse.h"

#define MAX_STEPS 100
#define MAX_SEGMENTS 100
#define MAX_VALUES 10000
#define MAX_ARGV 64

static size_t items(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static int oom(sg_spec_parser *p)
{
    return sg_err_set(p->err, SG_ENOMEM, "out of memory");
}

/* A list of 1..max scalars into a new array of strings. */
static int take_list(sg_spec_parser *p, yaml_node_t *n, const char *what, size_t max,
                     char ***out, size_t *cnt)
{
    if (n->type != YAML_SEQUENCE_NODE || items(n) == 0 || items(n) > max)
        return sg_spec_fail(p, n, "%s must be a list of 1 to %zu values; hint: "
                            "write [a, b]", what, max);
    if (!(*out = calloc(items(n), sizeof **out)))
        return oom(p);
    for (size_t i = 0; i < items(n); i++) {
        *cnt = i + 1;
        int rc = sg_spec_take_string(p, sg_spec_node(p, n->data.sequence.items.start[i]),
                                     what, &(*out)[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* {pct: 10, hold: 30m} */
static int parse_step(sg_spec_parser *p, sg_spec_step *st, yaml_node_t *n)
{
    bool pct = false, hold = false;
    st->line = sg_spec_line(n);
    if (n->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, n, "a step in cutover.reads must be {pct: N, hold: "
                            "DURATION}");
    int rc = sg_spec_unique_keys(p, n);
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start;
         kv < n->data.mapping.pairs.top && !rc; kv++) {
        yaml_node_t *k = sg_spec_node(p, kv->key), *v = sg_spec_node(p, kv->value);
        const char *name = sg_spec_scalar(p, k, "a step's key"), *s;
        if (!name)
            return SG_ESPEC;
        if (!(s = sg_spec_scalar(p, v, name)))
            return SG_ESPEC;
        if (!strcmp(name, "pct")) {
            pct = true;
            if (sg_parse_int64(s, 1, 100, &st->pct))
                rc = sg_spec_fail(p, v, "cutover.reads: pct '%s' is not a whole "
                                  "percent in 1..100", s);
        } else if (!strcmp(name, "hold")) {
            hold = true;
            if (sg_parse_duration_ms(s, &st->hold_ms) || st->hold_ms <= 0)
                rc = sg_spec_fail(p, v, "cutover.reads: hold '%s' is not a "
                                  "positive duration; hint: write e.g. 30m", s);
        } else {
            rc = sg_spec_fail(p, k, "unknown key '%s' in a step; hint: expected pct "
                              "and hold", name);
        }
    }
    if (!rc && (!pct || !hold))
        rc = sg_spec_fail(p, n, "a step in cutover.reads needs %s; hint: {pct: 10, "
                          "hold: 30m}", !pct ? "pct" : "hold");
    return rc;
}

static int parse_steps(sg_spec_parser *p, yaml_node_t *n)
{
    sg_spec *s = p->spec;
    s->steps_line = sg_spec_line(n);
    if (n->type != YAML_SEQUENCE_NODE || items(n) == 0 || items(n) > MAX_STEPS)
        return sg_spec_fail(p, n, "cutover.reads must be a list of 1 to %d steps; "
                            "hint: - {pct: 1, hold: 10m}", MAX_STEPS);
    if (!(s->steps = calloc(items(n), sizeof *s->steps)))
        return oom(p);
    s->n_steps = items(n);
    for (size_t i = 0; i < s->n_steps; i++) {
        int rc = parse_step(p, &s->steps[i],
                            sg_spec_node(p, n->data.sequence.items.start[i]));
        if (rc)
            return rc;
    }
    return 0;
}

static int segment_field(sg_spec_parser *p, sg_spec_segment *g, const char *name,
                         yaml_node_t *v)
{
    if (!strcmp(name, "name"))
        return sg_spec_take_string(p, v, "a segment's name", &g->name);
    if (!strcmp(name, "attribute"))
        return sg_spec_take_string(p, v, "a segment's attribute", &g->attribute);
    if (!strcmp(name, "in"))
        return take_list(p, v, "a segment's in", MAX_VALUES, &g->values, &g->n_values);
    if (strcmp(name, "reads"))
        return 1;
    const char *s = sg_spec_scalar(p, v, "a segment's reads");
    if (!s)
        return SG_ESPEC;
    if (strcmp(s, "target") && strcmp(s, "source"))
        return sg_spec_fail(p, v, "a segment's reads must be target or source, "
                            "not '%s'", s);
    g->to_target = !strcmp(s, "target");
    return 0;
}

/* {name: staff, attribute: tenant, in: [acme-internal], reads: target} */
static int parse_segment(sg_spec_parser *p, sg_spec_segment *g, yaml_node_t *n)
{
    bool reads = false;
    g->line = sg_spec_line(n);
    if (n->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, n, "a segment must be {name, attribute, in, reads}");
    int rc = sg_spec_unique_keys(p, n);
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start;
         kv < n->data.mapping.pairs.top && !rc; kv++) {
        yaml_node_t *k = sg_spec_node(p, kv->key);
        const char *name = sg_spec_scalar(p, k, "a segment's key");
        if (!name)
            return SG_ESPEC;
        reads = reads || !strcmp(name, "reads");
        if ((rc = segment_field(p, g, name, sg_spec_node(p, kv->value))) == 1)
            rc = sg_spec_fail(p, k, "unknown key '%s' in a segment; hint: expected "
                              "name, attribute, in, reads", name);
    }
    if (!rc && (!g->name || !g->attribute || !g->values || !reads))
        rc = sg_spec_fail(p, n, "a segment needs name, attribute, in and reads; "
                          "hint: {name: staff, attribute: tenant, in: [acme], "
                          "reads: target}");
    return rc;
}

static int parse_segments(sg_spec_parser *p, yaml_node_t *n)
{
    sg_spec *s = p->spec;
    if (n->type != YAML_SEQUENCE_NODE || items(n) == 0 || items(n) > MAX_SEGMENTS)
        return sg_spec_fail(p, n, "cutover.segments must be a list of 1 to %d "
                            "segments", MAX_SEGMENTS);
    if (!(s->segments = calloc(items(n), sizeof *s->segments)))
        return oom(p);
    s->n_segments = items(n);
    for (size_t i = 0; i < s->n_segments; i++) {
        int rc = parse_segment(p, &s->segments[i],
                               sg_spec_node(p, n->data.sequence.items.start[i]));
        for (size_t j = 0; !rc && j < i; j++)
            if (!strcmp(s->segments[j].name, s->segments[i].name))
                rc = sg_spec_fail(p, sg_spec_node(p, n->data.sequence.items.start[i]),
                                  "segment '%s' is named twice (first at line %d)",
                                  s->segments[i].name, s->segments[j].line);
        if (rc)
            return rc;
    }
    return 0;
}

/* The parameters a check takes, "a, b" into out. */
static void params_of(const char *check, char *out, size_t size)
{
    size_t n, used = 0;
    const sg_setting *t = sg_check_params(&n);
    char section[64];
    snprintf(section, sizeof section, "gates.checks.%s", check);
    out[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++)
        if (!strcmp(t[i].section, section)) {
            int w = snprintf(out + used, size - used, "%s%s", used ? ", " : "",
                             t[i].name);
            used += w > 0 ? (size_t)w : 0;
        }
}

/* Every required parameter of a check was given. */
static int check_required(sg_spec_parser *p, const char *check, yaml_node_t *n)
{
    size_t cnt;
    const sg_setting *t = sg_check_params(&cnt);
    char section[64];
    snprintf(section, sizeof section, "gates.checks.%s", check);
    for (size_t i = 0; i < cnt; i++) {
        if (!t[i].required || strcmp(t[i].section, section))
            continue;
        bool given = false;
        for (yaml_node_pair_t *kv = n->data.mapping.pairs.start;
             kv < n->data.mapping.pairs.top; kv++) {
            yaml_node_t *k = sg_spec_node(p, kv->key);
            given = given || (k->type == YAML_SCALAR_NODE &&
                              !strcmp((const char *)k->data.scalar.value, t[i].name));
        }
        if (!given)
            return sg_spec_fail(p, n, "gates.checks.%s needs %s; hint: %s", check,
                                t[i].name, t[i].help);
    }
    return 0;
}

/* lag: {max: 500ms} */
static int parse_check(sg_spec_parser *p, const char *check, yaml_node_t *k,
                       yaml_node_t *n)
{
    int kind = sg_check_kind_of(check);
    char known[512];
    if (kind < 0) {
        sg_check_names(known, sizeof known);
        return sg_spec_fail(p, k, "unknown check '%s' in gates.checks; hint: known: "
                            "%s", check, known);
    }
    if (n->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, n, "gates.checks.%s must be a mapping of its "
                            "parameters (or {})", check);
    sg_spec_check *c = &p->spec->checks[kind];
    c->on = true;
    c->line = sg_spec_line(k);
    int rc = sg_spec_unique_keys(p, n);
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start;
         kv < n->data.mapping.pairs.top && !rc; kv++) {
        yaml_node_t *pk = sg_spec_node(p, kv->key);
        const char *name = sg_spec_scalar(p, pk, "a check's parameter");
        if (!name)
            return SG_ESPEC;
        const sg_setting *st = sg_check_param_find(check, name);
        if (!st) {
            params_of(check, known, sizeof known);
            return sg_spec_fail(p, pk, "unknown parameter '%s' of check '%s'; hint: "
                                "known: %s", name, check, known);
        }
        rc = sg_spec_take_setting(p, st, sg_spec_node(p, kv->value), c);
    }
    return rc ? rc : check_required(p, check, n);
}

static int parse_checks(sg_spec_parser *p, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, n, "gates.checks must be a mapping of checks; hint: "
                            "checks: {lag: {max: 500ms}}");
    int rc = sg_spec_unique_keys(p, n);
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start;
         kv < n->data.mapping.pairs.top && !rc; kv++) {
        yaml_node_t *k = sg_spec_node(p, kv->key);
        const char *name = sg_spec_scalar(p, k, "a check's name");
        if (!name)
            return SG_ESPEC;
        rc = parse_check(p, name, k, sg_spec_node(p, kv->value));
    }
    return rc;
}

int sg_spec_rollout_field(sg_spec_parser *p, const char *section, const char *name,
                          yaml_node_t *v)
{
    if (!strcmp(section, "gates") && !strcmp(name, "checks"))
        return parse_checks(p, v);
    if (!strcmp(section, "cutover") && !strcmp(name, "reads"))
        return parse_steps(p, v);
    if (!strcmp(section, "cutover") && !strcmp(name, "segments"))
        return parse_segments(p, v);
    return 1;
}

static bool is_http_url(const char *u)
{
    return !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
}

int sg_spec_parse_on_rollback(sg_spec_parser *p, yaml_node_t *n)
{
    sg_spec *s = p->spec;
    s->on_rollback_line = sg_spec_line(n);
    if (n->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, n, "on_rollback must be a mapping with command "
                            "and/or webhook");
    int rc = sg_spec_unique_keys(p, n);
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start;
         kv < n->data.mapping.pairs.top && !rc; kv++) {
        yaml_node_t *k = sg_spec_node(p, kv->key), *v = sg_spec_node(p, kv->value);
        const char *name = sg_spec_scalar(p, k, "a key of on_rollback");
        if (!name)
            return SG_ESPEC;
        if (!strcmp(name, "command")) {
            if (v->type == YAML_SCALAR_NODE)
                return sg_spec_fail(p, v, "on_rollback.command must be a list (the "
                                    "program and its arguments, run without a "
                                    "shell); hint: [\"/usr/local/bin/page\", "
                                    "\"{name}\"]");
            rc = take_list(p, v, "on_rollback.command", MAX_ARGV, &s->hook_argv,
                           &s->n_hook_argv);
        } else if (!strcmp(name, "webhook")) {
            rc = sg_spec_take_string(p, v, "on_rollback.webhook", &s->webhook);
            if (!rc && !is_http_url(s->webhook))
                rc = sg_spec_fail(p, v, "on_rollback.webhook '%s' is not an http:// "
                                  "or https:// URL", s->webhook);
        } else {
            rc = sg_spec_fail(p, k, "unknown key '%s' in on_rollback; hint: "
                              "expected command, webhook", name);
        }
    }
    return rc;
}

/* gates.verify_max_age, gates.max_lag and gates.shadow said beside the
 * check that now holds the same fields. */
static int older_twice(sg_spec_parser *p, yaml_node_t *root)
{
    static const struct { int kind; size_t off; const char *older; } pairs[] = {
        { SG_CHECK_VERIFY_CLEAN, offsetof(sg_spec_parser, verify_max_age_line),
          "gates.verify_max_age" },
        { SG_CHECK_LAG, offsetof(sg_spec_parser, max_lag_line), "gates.max_lag" },
        { SG_CHECK_SHADOW_MISMATCH_RATE, offsetof(sg_spec_parser, shadow_line),
          "gates.shadow" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        int older = *(int *)((char *)p + pairs[i].off);
        const sg_spec_check *c = &p->spec->checks[pairs[i].kind];
        if (older && c->line)
            return sg_spec_fail(p, root, "%s (line %d) and gates.checks.%s (line %d) "
                                "set the same check; hint: keep gates.checks.%s",
                                pairs[i].older, older, sg_check_name(pairs[i].kind),
                                c->line, sg_check_name(pairs[i].kind));
    }
    if (p->shadow_line)
        p->spec->checks[SG_CHECK_SHADOW_MISMATCH_RATE].on = true;
    return 0;
}

static int check_steps(sg_spec_parser *p, yaml_node_t *root)
{
    const sg_spec *s = p->spec;
    for (size_t i = 0; i < s->n_steps; i++) {
        const sg_spec_step *st = &s->steps[i];
        if (i && st->pct <= s->steps[i - 1].pct)
            return sg_err_set(p->err, SG_ESPEC, "%s:%d: cutover.reads: step %zu "
                              "(%lld %%) does not rise above step %zu (%lld %%); "
                              "hint: percentages only go up, a rollback goes down",
                              p->path, st->line, i + 1, (long long)st->pct, i,
                              (long long)s->steps[i - 1].pct);
        if (st->hold_ms < s->gate_interval_ms)
            return sg_err_set(p->err, SG_ESPEC, "%s:%d: cutover.reads: step %zu holds "
                              "%lld ms, shorter than gates.interval (%lld ms): no "
                              "evaluation could pass it; hint: hold longer or "
                              "evaluate more often", p->path, st->line, i + 1,
                              (long long)st->hold_ms, (long long)s->gate_interval_ms);
    }
    if (s->cutover_auto && !s->n_steps)
        return sg_spec_fail(p, root, "cutover.auto needs the steps to walk; hint: "
                            "cutover: {reads: [{pct: 1, hold: 10m}, {pct: 100, "
                            "hold: 1h}]}");
    if (s->writes_auto && (!s->cutover_auto || s->steps[s->n_steps - 1].pct != 100))
        return sg_spec_fail(p, root, "cutover.writes.auto needs cutover.auto and a "
                            "last read step at 100 %%: writes move after every "
                            "read does");
    return 0;
}

int sg_spec_rollout_finish(sg_spec_parser *p, yaml_node_t *root)
{
    int rc = older_twice(p, root);
    if (rc)
        return rc;
    const sg_spec_check *pc = &p->spec->checks[SG_CHECK_PROMETHEUS];
    if (pc->on && !is_http_url(pc->url))
        return sg_err_set(p->err, SG_ESPEC, "%s:%d: gates.checks.prometheus: url "
                          "'%s' is not an http:// or https:// URL", p->path,
                          pc->line, pc->url);
    return check_steps(p, root);
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void sg_spec_rollout_free(sg_spec *s)
{
    for (int k = 0; k < SG_CHECK_COUNT; k++) {
        free(s->checks[k].query);
        free(s->checks[k].url);
    }
    free(s->steps);
    for (size_t i = 0; i < s->n_segments; i++) {
        free(s->segments[i].name);
        free(s->segments[i].attribute);
        free_strings(s->segments[i].values, s->segments[i].n_values);
    }
    free(s->segments);
    free_strings(s->hook_argv, s->n_hook_argv);
    free(s->webhook);
}

static void hash_bytes(XXH3_state_t *st, const void *p, size_t n)
{
    XXH3_64bits_update(st, p, n);
}

static void hash_text(XXH3_state_t *st, const char *s)
{
    hash_bytes(st, s ? s : "", s ? strlen(s) + 1 : 1);
}

void sg_spec_gates_hash(const sg_spec *s, char out[17])
{
    XXH3_state_t *st = XXH3_createState();
    if (!st) {
        snprintf(out, 17, "%016d", 0);
        return;
    }
    XXH3_64bits_reset(st);
    int64_t head[] = { s->gate_interval_ms, s->failure_limit, s->on_fail,
                       s->cutover_auto, (int64_t)s->n_steps };
    hash_bytes(st, head, sizeof head);
    for (size_t i = 0; i < s->n_steps; i++) {
        int64_t step[] = { s->steps[i].pct, s->steps[i].hold_ms };
        hash_bytes(st, step, sizeof step);
    }
    for (int k = 0; k < SG_CHECK_COUNT; k++) {
        const sg_spec_check *c = &s->checks[k];
        int64_t ints[] = { c->on, c->within_ms, c->max_ms, c->max_count, c->window_ms,
                           c->min_samples, c->percentile, c->side };
        double reals[] = { c->max, c->max_p99_ratio };
        hash_bytes(st, ints, sizeof ints);
        hash_bytes(st, reals, sizeof reals);
        hash_text(st, c->query);
        hash_text(st, c->url);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)XXH3_64bits_digest(st));
    XXH3_freeState(st);
}
