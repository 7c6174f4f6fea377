/* Spec file parsing with libyaml's document API; every error names
 * file:line, what is wrong and what to do. */
#include "spec/spec.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <segue/segue.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <yaml.h>

#include "base/buf.h"
#include "spec/parse.h"
#include "spec/settings.h"

#define SPEC_MAX_BYTES (1 << 20)

int sg_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int sg_parse_duration_ms(const char *s, int64_t *ms)
{
    char *end;
    if (!s || !*s || isspace((unsigned char)*s) || *s == '-')
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double mult;
    if (!strcmp(end, "") || !strcmp(end, "ms"))
        mult = 1;
    else if (!strcmp(end, "s"))
        mult = 1000;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        mult = 60000;
    else if (!strcmp(end, "h"))
        mult = 3600000;
    else if (!strcmp(end, "d")) /* days, as docs/spec.md writes long bounds */
        mult = 86400000;
    else
        return -1;
    double r = v * mult;
    if (r > 1e15)
        return -1;
    *ms = (int64_t)(r + 0.5);
    return 0;
}

/* Remembers where an older gate setting was given (see parse.h). */
static void note_older(sg_spec_parser *p, const char *section, const char *name,
                       int line)
{
    if (!strcmp(section, "gates.shadow") && !p->shadow_line)
        p->shadow_line = line;
    else if (!strcmp(section, "gates") && !strcmp(name, "verify_max_age"))
        p->verify_max_age_line = line;
    else if (!strcmp(section, "gates") && !strcmp(name, "max_lag"))
        p->max_lag_line = line;
}

static int parse_section(sg_spec_parser *p, const char *section, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, n, "'%s' must be a mapping of settings", section);
    int rc = sg_spec_unique_keys(p, n);
    if (!strcmp(section, "gates.shadow"))
        note_older(p, section, "", sg_spec_line(n));
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start;
         kv < n->data.mapping.pairs.top && !rc; kv++) {
        yaml_node_t *k = sg_spec_node(p, kv->key), *v = sg_spec_node(p, kv->value);
        const char *name = sg_spec_scalar(p, k, "a setting name");
        if (!name)
            return SG_ESPEC;
        char sub[64];
        snprintf(sub, sizeof sub, "%s.%s", section, name);
        if (sg_setting_section_exists(sub)) { /* a section inside: gates.shadow */
            rc = parse_section(p, sub, v);
            continue;
        }
        if ((rc = sg_spec_rollout_field(p, section, name, v)) != 1)
            continue;
        const sg_setting *st = sg_setting_find(section, name);
        if (!st) {
            char known[512];
            sg_settings_list(section, known, sizeof known);
            return sg_spec_fail(p, k, "unknown setting '%s' in '%s'; hint: known: %s%s",
                                name, section, known,
                                !strcmp(section, "gates") ? ", shadow, checks"
                                : !strcmp(section, "cutover") ? ", reads, segments, writes"
                                : "");
        }
        note_older(p, section, name, sg_spec_line(k));
        rc = sg_spec_take_setting(p, st, v, p->spec);
    }
    return rc;
}

/* A name or a list of 1 to max names of `things` (a key's columns,
 * tables to exclude). */
static int take_names(sg_spec_parser *p, yaml_node_t *n, const char *what, const char *things,
                      size_t max, char ***out, size_t *cnt_out)
{
    size_t cnt = n->type == YAML_SEQUENCE_NODE
                     ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) : 1;
    if (n->type != YAML_SEQUENCE_NODE && n->type != YAML_SCALAR_NODE)
        return sg_spec_fail(p, n, "%s must name one or a list of %s", what, things);
    if (cnt == 0 || cnt > max)
        return sg_spec_fail(p, n, "%s must list 1 to %zu %s", what, max, things);
    if (!(*out = calloc(cnt, sizeof **out)))
        return sg_err_set(p->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *c = n->type == YAML_SEQUENCE_NODE
                             ? sg_spec_node(p, n->data.sequence.items.start[i]) : n;
        *cnt_out = i + 1;
        int rc = sg_spec_take_string(p, c, what, &(*out)[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_key(sg_spec_parser *p, sg_spec_mapping *m, yaml_node_t *n)
{
    m->key_line = sg_spec_line(n);
    return take_names(p, n, "key", "columns", 16, &m->key, &m->n_key);
}

static int parse_column(sg_spec_parser *p, sg_spec_column *c, yaml_node_t *k, yaml_node_t *v)
{
    int rc = sg_spec_take_string(p, k, "a target column name", &c->name);
    c->line = sg_spec_line(k);
    if (rc)
        return rc;
    if (v->type == YAML_SCALAR_NODE)
        return sg_spec_take_string(p, v, "a column expression", &c->expr);
    if (v->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, v, "column '%s' must be an expression or a mapping with "
                    "expr and type", c->name);
    for (yaml_node_pair_t *kv = v->data.mapping.pairs.start;
         kv < v->data.mapping.pairs.top; kv++) {
        yaml_node_t *kk = sg_spec_node(p, kv->key), *vv = sg_spec_node(p, kv->value);
        const char *name = sg_spec_scalar(p, kk, "a key");
        if (!name)
            return SG_ESPEC;
        if (!strcmp(name, "expr"))
            rc = sg_spec_take_string(p, vv, "expr", &c->expr);
        else if (!strcmp(name, "type"))
            rc = sg_spec_take_string(p, vv, "type", &c->type);
        else
            rc = sg_spec_fail(p, kk, "unknown key '%s' in column '%s'; hint: expected "
                      "expr or type", name, c->name);
        if (rc)
            return rc;
    }
    if (!c->expr)
        return sg_spec_fail(p, v, "column '%s' has no expr; hint: add expr: <SQL "
                    "expression over the source row>", c->name);
    return 0;
}

static int parse_columns(sg_spec_parser *p, sg_spec_mapping *m, yaml_node_t *n)
{
    m->columns_line = sg_spec_line(n);
    if (n->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, n, "columns must map target column names to source "
                    "expressions; hint: email: lower(Email)");
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (cnt == 0)
        return sg_spec_fail(p, n, "columns is empty; hint: leave it out to copy every "
                    "column as it is");
    m->cols = calloc(cnt, sizeof *m->cols);
    if (!m->cols)
        return sg_err_set(p->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *kv = &n->data.mapping.pairs.start[i];
        m->n_cols = i + 1;
        int rc = parse_column(p, &m->cols[i], sg_spec_node(p, kv->key),
                              sg_spec_node(p, kv->value));
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(m->cols[j].name, m->cols[i].name))
                return sg_spec_fail(p, sg_spec_node(p, kv->key), "target column '%s' appears "
                            "twice", m->cols[i].name);
    }
    return 0;
}

static int parse_reverse(sg_spec_parser *p, sg_spec_mapping *m, yaml_node_t *n)
{
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 4 &&
        !memcmp(n->data.scalar.value, "none", 4)) {
        m->no_reverse = true;
        return 0;
    }
    if (n->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, n, "reverse must map source column names to expressions "
                    "over the target row, or be none; hint: Email: email");
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    m->reverse = calloc(cnt ? cnt : 1, sizeof *m->reverse);
    if (!m->reverse)
        return sg_err_set(p->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *kv = &n->data.mapping.pairs.start[i];
        sg_spec_reverse *r = &m->reverse[i];
        m->n_reverse = i + 1;
        r->line = sg_spec_line(sg_spec_node(p, kv->key));
        int rc = sg_spec_take_string(p, sg_spec_node(p, kv->key), "a source column name",
                                     &r->column);
        if (!rc)
            rc = sg_spec_take_string(p, sg_spec_node(p, kv->value), "a reverse expression",
                                     &r->expr);
        if (rc)
            return rc;
    }
    return 0;
}

/* The parts of an index: a column or expression, or a list of them. */
static int index_parts(sg_spec_parser *p, sg_spec_index *x, yaml_node_t *n)
{
    size_t cnt = n->type == YAML_SEQUENCE_NODE
                     ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) : 1;
    if (n->type != YAML_SEQUENCE_NODE && n->type != YAML_SCALAR_NODE)
        return sg_spec_fail(p, n, "an index's columns must be a column or a list of columns "
                    "and expressions of the target table");
    if (cnt == 0 || cnt > 32)
        return sg_spec_fail(p, n, "an index lists 1 to 32 columns");
    if (!(x->parts = calloc(cnt, sizeof *x->parts)))
        return sg_err_set(p->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *c = n->type == YAML_SEQUENCE_NODE
                             ? sg_spec_node(p, n->data.sequence.items.start[i]) : n;
        x->n = i + 1;
        int rc = sg_spec_take_string(p, c, "an index column or expression", &x->parts[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* One index: a list of parts, or {columns, name, unique, where}. */
static int parse_index(sg_spec_parser *p, sg_spec_index *x, yaml_node_t *n)
{
    x->line = sg_spec_line(n);
    if (n->type != YAML_MAPPING_NODE)
        return index_parts(p, x, n);
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start;
         kv < n->data.mapping.pairs.top; kv++) {
        yaml_node_t *k = sg_spec_node(p, kv->key), *v = sg_spec_node(p, kv->value);
        const char *name = sg_spec_scalar(p, k, "a key");
        int rc = !name ? p->err->code
                 : !strcmp(name, "columns") ? index_parts(p, x, v)
                 : !strcmp(name, "name") ? sg_spec_take_string(p, v, "an index name", &x->name)
                 : !strcmp(name, "unique") ? sg_spec_take_bool(p, v, "unique", &x->unique)
                 : !strcmp(name, "where") ? sg_spec_take_string(p, v, "where", &x->where)
                 : sg_spec_fail(p, k, "unknown key '%s' in an index; hint: expected columns, "
                        "name, unique, where", name);
        if (rc)
            return rc;
    }
    return x->n ? 0 : sg_spec_fail(p, n, "an index needs columns; hint: {columns: [album_id]}");
}

static int parse_indexes(sg_spec_parser *p, sg_spec_mapping *m, yaml_node_t *n)
{
    m->indexes_line = sg_spec_line(n);
    if (n->type != YAML_SEQUENCE_NODE)
        return sg_spec_fail(p, n, "indexes must be a list; hint: indexes: [[album_id], "
                    "{columns: [lower(name)], unique: true}]");
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt && !(m->indexes = calloc(cnt, sizeof *m->indexes)))
        return sg_err_set(p->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        m->n_indexes = i + 1;
        int rc = parse_index(p, &m->indexes[i],
                             sg_spec_node(p, n->data.sequence.items.start[i]));
        if (rc)
            return rc;
    }
    return 0;
}

static int mapping_field(sg_spec_parser *p, sg_spec_mapping *m, const char *name,
                         yaml_node_t *k, yaml_node_t *v)
{
    if (!strcmp(name, "from")) {
        m->from_line = sg_spec_line(v);
        return sg_spec_take_string(p, v, "from", &m->from);
    }
    if (!strcmp(name, "to")) {
        m->to_line = sg_spec_line(v);
        return sg_spec_take_string(p, v, "to", &m->to);
    }
    if (!strcmp(name, "key"))
        return parse_key(p, m, v);
    if (!strcmp(name, "create"))
        return sg_spec_take_bool(p, v, "create", &m->create);
    if (!strcmp(name, "columns"))
        return parse_columns(p, m, v);
    if (!strcmp(name, "where")) {
        m->where_line = sg_spec_line(v);
        return sg_spec_take_string(p, v, "where", &m->where);
    }
    if (!strcmp(name, "reverse"))
        return parse_reverse(p, m, v);
    if (!strcmp(name, "indexes"))
        return parse_indexes(p, m, v);
    if (!strcmp(name, "foreign_keys")) {
        m->foreign_keys_line = sg_spec_line(v);
        return sg_spec_take_bool(p, v, "foreign_keys", &m->foreign_keys);
    }
    return sg_spec_fail(p, k, "unknown key '%s' in mapping; hint: expected one of from, "
                "to, key, create, columns, where, reverse, indexes, foreign_keys", name);
}

static int parse_mapping(sg_spec_parser *p, sg_spec_mapping *m, yaml_node_t *n)
{
    m->line = sg_spec_line(n);
    if (n->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, n, "each mapping must be a mapping with from and to");
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start;
         kv < n->data.mapping.pairs.top; kv++) {
        yaml_node_t *k = sg_spec_node(p, kv->key);
        const char *name = sg_spec_scalar(p, k, "a key");
        if (!name)
            return SG_ESPEC;
        int rc = mapping_field(p, m, name, k, sg_spec_node(p, kv->value));
        if (rc)
            return rc;
    }
    if (!m->from)
        return sg_spec_fail(p, n, "mapping has no 'from'; hint: name the source table");
    if (!m->to)
        return sg_spec_fail(p, n, "mapping from '%s' has no 'to'; hint: name the target "
                    "table", m->from);
    return 0;
}

/* mappings: all, or {all: true, exclude: [T, ...]}: every table of the
 * source, listed when the migration is opened (mapping.h). */
static int parse_all(sg_spec_parser *p, yaml_node_t *n)
{
    sg_spec *s = p->spec;
    s->all_line = sg_spec_line(n);
    if (n->type == YAML_SCALAR_NODE)
        s->all = true;
    for (yaml_node_pair_t *kv = n->type == YAML_MAPPING_NODE ? n->data.mapping.pairs.start
                                                             : NULL;
         kv && kv < n->data.mapping.pairs.top; kv++) {
        yaml_node_t *k = sg_spec_node(p, kv->key), *v = sg_spec_node(p, kv->value);
        const char *name = sg_spec_scalar(p, k, "a key");
        int rc = !name ? p->err->code
                 : !strcmp(name, "all") ? sg_spec_take_bool(p, v, "all", &s->all)
                 : !strcmp(name, "foreign_keys")
                     ? sg_spec_take_bool(p, v, "foreign_keys", &s->all_foreign_keys)
                 : !strcmp(name, "exclude")
                     ? (s->exclude_line = sg_spec_line(v),
                        take_names(p, v, "exclude", "tables", 4096, &s->exclude,
                                   &s->n_exclude))
                     : sg_spec_fail(p, k, "unknown key '%s' in mappings; hint: expected all, "
                            "exclude and foreign_keys, or a list of mappings", name);
        if (rc)
            return rc;
    }
    if (!s->all)
        return sg_spec_fail(p, n, "mappings must be a list, or all; hint: mappings: all, or "
                    "{all: true, exclude: [Table]}, or start each mapping with "
                    "'- from: Table'");
    return 0;
}

static int parse_mappings(sg_spec_parser *p, yaml_node_t *n)
{
    if (n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, "all"))
        return parse_all(p, n);
    if (n->type == YAML_MAPPING_NODE)
        return parse_all(p, n);
    if (n->type != YAML_SEQUENCE_NODE)
        return sg_spec_fail(p, n, "mappings must be a list, or all; hint: start each mapping "
                    "with '- from: Table', or write mappings: all");
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt == 0)
        return sg_spec_fail(p, n, "mappings is empty; hint: add at least one mapping");
    if (cnt > 256)
        return sg_spec_fail(p, n, "too many mappings (%zu); at most 256", cnt);
    p->spec->mappings = calloc(cnt, sizeof *p->spec->mappings);
    if (!p->spec->mappings)
        return sg_err_set(p->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        p->spec->n_mappings = i + 1;
        int rc = parse_mapping(p, &p->spec->mappings[i],
                               sg_spec_node(p, n->data.sequence.items.start[i]));
        if (rc)
            return rc;
    }
    return 0;
}

static int check_name(sg_spec_parser *p, yaml_node_t *n)
{
    const char *s = p->spec->name;
    size_t len = strlen(s);
    if (len > 48)
        return sg_spec_fail(p, n, "name is longer than 48 characters");
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return sg_spec_fail(p, n, "name '%s' has a character other than letters, "
                        "digits, '_' and '-'", s);
    return 0;
}

static int top_field(sg_spec_parser *p, const char *name, yaml_node_t *k, yaml_node_t *v)
{
    sg_spec *s = p->spec;
    if (!strcmp(name, "version")) {
        const char *t = sg_spec_scalar(p, v, "version");
        if (!t)
            return SG_ESPEC;
        if (strcmp(t, "1"))
            return sg_spec_fail(p, v, "unsupported spec version '%s'; hint: this segue "
                        "reads version: 1", t);
        s->version = 1;
        return 0;
    }
    if (!strcmp(name, "name")) {
        s->name_line = sg_spec_line(v);
        int rc = sg_spec_take_string(p, v, "name", &s->name);
        return rc ? rc : check_name(p, v);
    }
    if (!strcmp(name, "source")) {
        s->source_line = sg_spec_line(v);
        return sg_spec_take_string(p, v, "source", &s->source);
    }
    if (!strcmp(name, "target")) {
        s->target_line = sg_spec_line(v);
        return sg_spec_take_string(p, v, "target", &s->target);
    }
    if (!strcmp(name, "mappings"))
        return parse_mappings(p, v);
    if (!strcmp(name, "on_rollback"))
        return sg_spec_parse_on_rollback(p, v);
    if (sg_setting_section_exists(name))
        return parse_section(p, name, v);
    return sg_spec_fail(p, k, "unknown key '%s'; hint: expected one of version, name, "
                        "source, target, mappings, backfill, worker, gates, verify, "
                        "cutover, on_rollback, serve", name);
}

static int parse_root(sg_spec_parser *p, yaml_node_t *root)
{
    if (!root)
        return sg_spec_fail(p, NULL, "the spec is empty; hint: see docs/spec.md");
    if (root->type != YAML_MAPPING_NODE)
        return sg_spec_fail(p, root, "the spec must be a mapping with version, name, "
                    "source, target and mappings");
    for (yaml_node_pair_t *kv = root->data.mapping.pairs.start;
         kv < root->data.mapping.pairs.top; kv++) {
        yaml_node_t *k = sg_spec_node(p, kv->key);
        const char *name = sg_spec_scalar(p, k, "a key");
        if (!name)
            return SG_ESPEC;
        for (yaml_node_pair_t *kw = root->data.mapping.pairs.start; kw < kv; kw++) {
            yaml_node_t *kk = sg_spec_node(p, kw->key);
            if (kk->type == YAML_SCALAR_NODE &&
                !strcmp((const char *)kk->data.scalar.value, name))
                return sg_spec_fail(p, k, "key '%s' appears twice", name);
        }
        int rc = top_field(p, name, k, sg_spec_node(p, kv->value));
        if (rc)
            return rc;
    }
    static const struct { const char *key; size_t off; } required[] = {
        { "name", offsetof(sg_spec, name) },
        { "source", offsetof(sg_spec, source) },
        { "target", offsetof(sg_spec, target) },
    };
    if (p->spec->version != 1)
        return sg_spec_fail(p, root, "missing 'version'; hint: add version: 1");
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!*(char **)((char *)p->spec + required[i].off))
            return sg_spec_fail(p, root, "missing '%s'; hint: see docs/spec.md",
                        required[i].key);
    if (!p->spec->n_mappings && !p->spec->all)
        return sg_spec_fail(p, root, "missing 'mappings'; hint: add at least one "
                    "mapping with from and to");
    return sg_spec_rollout_finish(p, root);
}

int sg_spec_parse(sg_spec **out, const char *path, const char *text, size_t len,
                  sg_err *err)
{
    sg_spec_parser p = { .path = path, .err = err };
    yaml_parser_t parser;
    int rc = 0;
    bool have_doc = false;
    *out = NULL;
    p.spec = calloc(1, sizeof *p.spec);
    if (!p.spec || !(p.spec->path = strdup(path)))
        return sg_err_set(err, SG_ENOMEM, "out of memory");
    sg_settings_defaults(p.spec);
    if (!yaml_parser_initialize(&parser)) {
        rc = sg_err_set(err, SG_ENOMEM, "out of memory");
        goto done;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &p.doc)) {
        rc = sg_err_set(err, SG_ESPEC, "%s:%zu: YAML syntax error: %s%s%s; hint: "
                        "check indentation and quoting", path,
                        parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "unreadable",
                        parser.context ? " " : "",
                        parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        goto done;
    }
    have_doc = true;
    yaml_parser_delete(&parser);
    rc = parse_root(&p, yaml_document_get_root_node(&p.doc));
done:
    if (have_doc)
        yaml_document_delete(&p.doc);
    if (rc) {
        sg_spec_free(p.spec);
        return rc;
    }
    *out = p.spec;
    return 0;
}

int sg_spec_load(sg_spec **out, const char *path, sg_err *err)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    int rc = 0;
    *out = NULL;
    if (!f)
        return sg_err_set(err, SG_ESPEC, "cannot read spec '%s': %s", path,
                          strerror(errno));
    text = malloc(SPEC_MAX_BYTES + 1);
    if (!text) {
        rc = sg_err_set(err, SG_ENOMEM, "out of memory");
        goto done;
    }
    size_t n = fread(text, 1, SPEC_MAX_BYTES + 1, f);
    if (ferror(f)) {
        rc = sg_err_set(err, SG_ESPEC, "cannot read spec '%s'", path);
        goto done;
    }
    if (n > SPEC_MAX_BYTES) {
        rc = sg_err_set(err, SG_ESPEC, "spec '%s' is larger than 1 MiB", path);
        goto done;
    }
    rc = sg_spec_parse(out, path, text, n, err);
done:
    free(text);
    fclose(f);
    return rc;
}

static void free_mapping(sg_spec_mapping *m)
{
    free(m->from);
    free(m->to);
    for (size_t i = 0; i < m->n_key; i++)
        free(m->key[i]);
    free(m->key);
    for (size_t i = 0; i < m->n_cols; i++) {
        free(m->cols[i].name);
        free(m->cols[i].expr);
        free(m->cols[i].type);
    }
    free(m->cols);
    free(m->where);
    for (size_t i = 0; i < m->n_reverse; i++) {
        free(m->reverse[i].column);
        free(m->reverse[i].expr);
    }
    free(m->reverse);
    for (size_t i = 0; i < m->n_indexes; i++) {
        for (size_t k = 0; k < m->indexes[i].n; k++)
            free(m->indexes[i].parts[k]);
        free(m->indexes[i].parts);
        free(m->indexes[i].name);
        free(m->indexes[i].where);
    }
    free(m->indexes);
}

void sg_spec_free(sg_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_mappings; i++)
        free_mapping(&s->mappings[i]);
    free(s->mappings);
    for (size_t i = 0; i < s->n_exclude; i++)
        free(s->exclude[i]);
    free(s->exclude);
    free(s->path);
    free(s->name);
    free(s->source);
    free(s->target);
    sg_spec_rollout_free(s);
    free(s);
}

static void hash_str(XXH3_state_t *st, const char *s)
{
    const char *v = s ? s : "\x01<none>";
    XXH3_128bits_update(st, v, strlen(v) + 1);
}

void sg_spec_hash(const sg_spec *s, char out[33])
{
    XXH3_state_t *st = XXH3_createState();
    if (!st) {
        snprintf(out, 33, "%032d", 0);
        return;
    }
    XXH3_128bits_reset(st);
    if (s->all)
        hash_str(st, "mappings: all");
    for (size_t i = 0; i < s->n_exclude; i++)
        hash_str(st, s->exclude[i]);
    for (size_t i = 0; i < s->n_mappings; i++) {
        const sg_spec_mapping *m = &s->mappings[i];
        hash_str(st, m->from);
        hash_str(st, m->to);
        for (size_t j = 0; j < m->n_key; j++)
            hash_str(st, m->key[j]);
        for (size_t j = 0; j < m->n_cols; j++) {
            hash_str(st, m->cols[j].name);
            hash_str(st, m->cols[j].expr);
        }
        hash_str(st, m->where);
        for (size_t j = 0; j < m->n_reverse; j++) {
            hash_str(st, m->reverse[j].column);
            hash_str(st, m->reverse[j].expr);
        }
        if (m->no_reverse)
            hash_str(st, "reverse: none");
        hash_str(st, "\x02");
    }
    XXH128_hash_t h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}
