/* The spec parser's shared state and its helpers over libyaml's document
 * API, used by spec.c (the file, mappings, settings) and rollout.c (cutover
 * steps, segments, gate checks, rollback hooks). Every failure is an
 * SG_ESPEC error on p->err reading "path:line: what; hint: ...". */
#ifndef SEGUE_SPEC_PARSE_H
#define SEGUE_SPEC_PARSE_H

#include <stdbool.h>
#include <segue/segue.h>
#include <yaml.h>

#include "base/err.h"
#include "spec/settings.h"
#include "spec/spec.h"

typedef struct sg_spec_parser {
    const char *path;
    yaml_document_t doc;
    sg_err *err;
    sg_spec *spec;
    /* lines of the older gate settings the checks now hold (0: not given),
     * so that saying one thing twice is an error naming both lines */
    int verify_max_age_line, max_lag_line, shadow_line;
} sg_spec_parser;

/* The 1-based line of a node. */
int sg_spec_line(const yaml_node_t *n);
/* Sets the error "path:line: <fmt>" at n (line 1 when n is NULL) and
 * returns SG_ESPEC. */
int sg_spec_fail(sg_spec_parser *p, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
yaml_node_t *sg_spec_node(sg_spec_parser *p, int id);
/* The text of a scalar node, or NULL (after an error naming `what`). */
const char *sg_spec_scalar(sg_spec_parser *p, yaml_node_t *n, const char *what);
/* A non-empty scalar, copied into *out (the old value freed). */
int sg_spec_take_string(sg_spec_parser *p, yaml_node_t *n, const char *what,
                        char **out);
int sg_spec_take_bool(sg_spec_parser *p, yaml_node_t *n, const char *what,
                      bool *out);
/* A setting of the typed table written into the struct at `base` (the
 * spec, or a gate check for the checks' own parameters). */
int sg_spec_take_setting(sg_spec_parser *p, const sg_setting *st, yaml_node_t *n,
                         void *base);
/* Fails when a mapping node holds a key twice (libyaml keeps both). */
int sg_spec_unique_keys(sg_spec_parser *p, yaml_node_t *map);

/* rollout.c: the fields of the cutover and gates sections that are not
 * plain settings (cutover.reads, cutover.segments, gates.checks) and the
 * top-level on_rollback. Returns 1 when `section.name` is none of them. */
int sg_spec_rollout_field(sg_spec_parser *p, const char *section, const char *name,
                          yaml_node_t *v);
int sg_spec_parse_on_rollback(sg_spec_parser *p, yaml_node_t *v);
/* After the whole file: the checks' defaults and older spellings, then the
 * rules between fields (steps that only go up, holds no shorter than the
 * gate interval, a check's required parameters). */
int sg_spec_rollout_finish(sg_spec_parser *p, yaml_node_t *root);
void sg_spec_rollout_free(sg_spec *s);

#endif
