/* One typed table of spec settings: section, name, type, bounds, default and
 * help. The spec parser, defaults and docs/spec.md read the same table (a
 * unit test fails when the docs drift). The shape follows Redis' config.c. */
#ifndef SEGUE_SETTINGS_H
#define SEGUE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_spec;
struct sg_spec_check;

typedef enum sg_setting_type {
    SG_SETTING_DURATION, /* ms; written 500ms, 2s, 1m */
    SG_SETTING_INT,
    SG_SETTING_REAL,     /* a decimal number (0.001, 1.5) into a double
                          * field; bounds and default in rmin..rmax, rdflt */
    SG_SETTING_BOOL,     /* true/false into a bool field; default dflt */
    SG_SETTING_CHOICE,   /* one of `choices` ("rollback|pause") into an
                          * int64_t field as its index; default dflt */
    SG_SETTING_STRING,   /* text into a char * field (owned); no default */
} sg_setting_type;

typedef struct sg_setting {
    const char *section;  /* "backfill" */
    const char *name;     /* "chunk_time" */
    sg_setting_type type;
    int64_t min, max, dflt;
    size_t offset;        /* of the int64_t (REAL: double) field in sg_spec */
    const char *help;
    double rmin, rmax, rdflt;
    const char *choices;  /* SG_SETTING_CHOICE: "a|b|c" */
    bool required;        /* check parameters: no default, must be given */
} sg_setting;

/* A duration as a spec writes it: "1h", "90s", "250ms". */
void sg_duration_text(char *out, size_t n, int64_t ms);
/* The index-th of choices "a|b|c" into out. */
void sg_choice_text(char *out, size_t n, const char *choices, int64_t index);

/* The whole table; *n receives its length. Static storage. */
const sg_setting *sg_settings(size_t *n);
const sg_setting *sg_setting_find(const char *section, const char *name);
bool sg_setting_section_exists(const char *section);
/* Writes "a, b, c" (the names in a section) into out, truncated to fit. */
void sg_settings_list(const char *section, char *out, size_t size);
/* Sets every setting of the spec, and every gate check's parameters, to
 * its default. */
void sg_settings_defaults(struct sg_spec *s);

/* The gate checks' parameters: one row per check and parameter, section
 * "gates.checks.<check>", offsets into struct sg_spec_check. Static. */
const sg_setting *sg_check_params(size_t *n);
const sg_setting *sg_check_param_find(const char *check, const char *name);
/* A check's name ("lag"), or its kind from a name (-1: unknown). */
const char *sg_check_name(int kind);
int sg_check_kind_of(const char *name);
/* Writes "a, b, c" (every check's name) into out, truncated to fit. */
void sg_check_names(char *out, size_t size);
/* Writes a check's parameters as the spec would give them ("max: 500ms,
 * window: 5m") into out, truncated to fit. */
void sg_check_describe(int kind, const struct sg_spec_check *c, char *out, size_t size);

#endif
