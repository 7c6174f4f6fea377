/* The settings table as a reference reads it (sg_spec_setting_doc): the
 * spec's settings, then each gate check's parameters, with their types,
 * defaults and bounds written as a spec writes them. */
#include <stdio.h>
#include <string.h>

#include <segue/segue.h>

#include "spec/settings.h"

static const char *type_name(const sg_setting *st)
{
    switch (st->type) {
    case SG_SETTING_DURATION: return "duration";
    case SG_SETTING_INT: return "integer";
    case SG_SETTING_REAL: return "number";
    case SG_SETTING_BOOL: return "bool";
    case SG_SETTING_CHOICE: return st->choices;
    default: return "string";
    }
}

static void default_text(const sg_setting *st, char *out, size_t n)
{
    out[0] = '\0';
    if (st->required)
        snprintf(out, n, "required");
    else if (st->type == SG_SETTING_DURATION)
        sg_duration_text(out, n, st->dflt);
    else if (st->type == SG_SETTING_INT)
        snprintf(out, n, "%lld", (long long)st->dflt);
    else if (st->type == SG_SETTING_REAL)
        snprintf(out, n, "%g", st->rdflt);
    else if (st->type == SG_SETTING_BOOL)
        snprintf(out, n, "%s", st->dflt ? "true" : "false");
    else if (st->type == SG_SETTING_CHOICE)
        sg_choice_text(out, n, st->choices, st->dflt);
}

static void range_text(const sg_setting *st, char *out, size_t n)
{
    char lo[24], hi[24];
    out[0] = '\0';
    if (st->type == SG_SETTING_REAL && st->rmax > st->rmin)
        snprintf(out, n, "%g..%g", st->rmin, st->rmax);
    if ((st->type != SG_SETTING_DURATION && st->type != SG_SETTING_INT) || st->max <= st->min)
        return;
    if (st->type == SG_SETTING_DURATION) {
        sg_duration_text(lo, sizeof lo, st->min);
        sg_duration_text(hi, sizeof hi, st->max);
    } else {
        snprintf(lo, sizeof lo, "%lld", (long long)st->min);
        snprintf(hi, sizeof hi, "%lld", (long long)st->max);
    }
    snprintf(out, n, "%s..%s", lo, st->max == INT64_MAX ? "" : hi);
}

bool sg_spec_setting_doc(size_t i, sg_setting_doc *out)
{
    size_t n_table, n_checks;
    const sg_setting *table = sg_settings(&n_table), *checks = sg_check_params(&n_checks);
    const sg_setting *st = i < n_table ? &table[i]
                         : i < n_table + n_checks ? &checks[i - n_table] : NULL;
    if (!out || !st)
        return false;
    snprintf(out->key, sizeof out->key, "%s.%s", st->section, st->name);
    out->type = type_name(st);
    default_text(st, out->dflt, sizeof out->dflt);
    range_text(st, out->range, sizeof out->range);
    out->help = st->help;
    return true;
}
