/* Helpers shared by the spec parser's files (parse.h). */
#include "spec/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sg_spec_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

int sg_spec_fail(sg_spec_parser *p, const yaml_node_t *n, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return sg_err_set(p->err, SG_ESPEC, "%s:%d: %s", p->path,
                      n ? sg_spec_line(n) : 1, what);
}

yaml_node_t *sg_spec_node(sg_spec_parser *p, int id)
{
    return yaml_document_get_node(&p->doc, id);
}

const char *sg_spec_scalar(sg_spec_parser *p, yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SCALAR_NODE) {
        sg_spec_fail(p, n, "%s must be a single value, not a %s", what,
                     n->type == YAML_MAPPING_NODE ? "mapping" : "list");
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

int sg_spec_take_string(sg_spec_parser *p, yaml_node_t *n, const char *what,
                        char **out)
{
    const char *s = sg_spec_scalar(p, n, what);
    if (!s)
        return SG_ESPEC;
    if (*s == '\0')
        return sg_spec_fail(p, n, "%s is empty; hint: give a value", what);
    free(*out);
    *out = strdup(s);
    return *out ? 0 : sg_err_set(p->err, SG_ENOMEM, "out of memory");
}

int sg_spec_take_bool(sg_spec_parser *p, yaml_node_t *n, const char *what, bool *out)
{
    const char *s = sg_spec_scalar(p, n, what);
    if (!s)
        return SG_ESPEC;
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
        *out = true;
        return 0;
    }
    if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
        *out = false;
        return 0;
    }
    return sg_spec_fail(p, n, "%s must be true or false, not '%s'", what, s);
}

static int take_real(sg_spec_parser *p, const sg_setting *st, yaml_node_t *n,
                     const char *s, double *out)
{
    char *end = NULL;
    double d = strtod(s, &end);
    if (end == s || *end || !(d >= st->rmin && d <= st->rmax))
        return sg_spec_fail(p, n, "%s.%s: '%s' is not a number in %g..%g; hint: "
                            "write e.g. 0.001", st->section, st->name, s, st->rmin,
                            st->rmax);
    *out = d;
    return 0;
}

/* "rollback|pause": the index of s among the choices, or -1. */
static int64_t choice_of(const char *choices, const char *s)
{
    size_t len = strlen(s);
    int64_t i = 0;
    for (const char *c = choices; *c; i++) {
        const char *bar = strchr(c, '|');
        size_t n = bar ? (size_t)(bar - c) : strlen(c);
        if (n == len && !strncmp(c, s, n))
            return i;
        c += n + (bar ? 1 : 0);
    }
    return -1;
}

static int take_number(sg_spec_parser *p, const sg_setting *st, yaml_node_t *n,
                       const char *s, int64_t *out)
{
    int64_t v;
    int bad = st->type == SG_SETTING_DURATION ? sg_parse_duration_ms(s, &v)
                                              : sg_parse_int64(s, 0, INT64_MAX, &v);
    if (bad)
        return sg_spec_fail(p, n, "%s.%s: '%s' is not a %s; hint: %s", st->section,
                            st->name, s,
                            st->type == SG_SETTING_DURATION ? "duration" : "whole number",
                            st->type == SG_SETTING_DURATION ? "write e.g. 500ms or 2s"
                                                            : "write e.g. 1000");
    if (v < st->min || v > st->max)
        return sg_spec_fail(p, n, "%s.%s: %s is out of range; hint: allowed "
                            "%lld..%lld%s", st->section, st->name, s,
                            (long long)st->min, (long long)st->max,
                            st->type == SG_SETTING_DURATION ? " ms" : "");
    *out = v;
    return 0;
}

int sg_spec_take_setting(sg_spec_parser *p, const sg_setting *st, yaml_node_t *n,
                         void *base)
{
    char *at = (char *)base + st->offset, what[96];
    snprintf(what, sizeof what, "%s.%s", st->section, st->name);
    if (st->type == SG_SETTING_BOOL)
        return sg_spec_take_bool(p, n, what, (bool *)at);
    if (st->type == SG_SETTING_STRING)
        return sg_spec_take_string(p, n, what, (char **)at);
    const char *s = sg_spec_scalar(p, n, what);
    if (!s)
        return SG_ESPEC;
    if (st->type == SG_SETTING_REAL)
        return take_real(p, st, n, s, (double *)at);
    if (st->type == SG_SETTING_CHOICE) {
        int64_t i = choice_of(st->choices, s);
        if (i < 0)
            return sg_spec_fail(p, n, "%s: '%s' is not one of %s", what, s,
                                st->choices);
        *(int64_t *)at = i;
        return 0;
    }
    return take_number(p, st, n, s, (int64_t *)at);
}

int sg_spec_unique_keys(sg_spec_parser *p, yaml_node_t *map)
{
    for (yaml_node_pair_t *kv = map->data.mapping.pairs.start;
         kv < map->data.mapping.pairs.top; kv++) {
        yaml_node_t *k = sg_spec_node(p, kv->key);
        if (k->type != YAML_SCALAR_NODE)
            continue;
        for (yaml_node_pair_t *kw = map->data.mapping.pairs.start; kw < kv; kw++) {
            yaml_node_t *kk = sg_spec_node(p, kw->key);
            if (kk->type == YAML_SCALAR_NODE &&
                !strcmp((const char *)kk->data.scalar.value,
                        (const char *)k->data.scalar.value))
                return sg_spec_fail(p, k, "key '%s' appears twice (first at line %d)",
                                    (const char *)k->data.scalar.value,
                                    sg_spec_line(kk));
        }
    }
    return 0;
}
