/* Inside the shadow-read module: one comparison of two statements
 * (shadow.c), for the entry points of shadow_api.c. */
#ifndef SEGUE_SHADOW_INT_H
#define SEGUE_SHADOW_INT_H

#include <segue/shadow.h>

#include "internal.h"

/* Runs src_sql on the source and tgt_sql on the target with the same text
 * parameters and classifies the outcome into *out (kind, counts, times,
 * detail; the fingerprint is the caller's). `ordered`: the order of rows
 * counts (an ORDER BY). Errors as sg_shadow_sql. */
int sg_shadow_compare(sg_migration *m, const char *src_sql, const char *tgt_sql,
                      size_t n_params, const char *const *params, bool ordered,
                      sg_shadow_result *out);

#endif
