/* Values from two engines in one form (value.h sg_row_portable): what an
 * application reading either engine's answer would take as the same. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "values/decimal.h"
#include "values/value.h"

/* A number as its shortest plain decimal appended to b; false when it is
 * no finite number (left as it is). */
static bool spell_number(const sg_value *v, sg_buf *b)
{
    sg_dec x = { 0 };
    if (v->type == SG_V_INT)
        sg_dec_from_int(&x, (long long)v->i);
    else if (v->type == SG_V_REAL && isfinite(v->d))
        sg_dec_from_double(&x, v->d);
    else if (v->type != SG_V_NUMERIC || !sg_dec_parse(&x, v->p, v->n)) {
        sg_dec_free(&x);
        return false;
    }
    sg_dec_format(&x, -1, b);
    sg_dec_free(&x);
    return true;
}

/* Rows this wide or narrower need no allocation. */
#define ON_STACK 64

int sg_row_portable(sg_value *v, size_t n, sg_buf *scratch)
{
    size_t at_s[ON_STACK], len_s[ON_STACK];
    size_t *at = n <= ON_STACK ? at_s : malloc(n * sizeof *at);
    size_t *len = n <= ON_STACK ? len_s : malloc(n * sizeof *len);
    if (!at || !len) {
        if (at != at_s)
            free(at);
        if (len != len_s)
            free(len);
        return -1;
    }
    sg_buf_reset(scratch);
    for (size_t i = 0; i < n; i++) {
        at[i] = SIZE_MAX;
        if (v[i].type == SG_V_BOOL)
            v[i].type = SG_V_INT;
        else if (v[i].type == SG_V_DATETIME)
            v[i].type = SG_V_TEXT;
        size_t before = scratch->len;
        if (spell_number(&v[i], scratch)) {
            at[i] = before;
            len[i] = scratch->len - before;
        }
    }
    bool failed = sg_buf_failed(scratch);
    /* the buffer holds them all now: it will not move again */
    for (size_t i = 0; i < n && !failed; i++)
        if (at[i] != SIZE_MAX) {
            v[i].type = SG_V_NUMERIC;
            v[i].p = scratch->data + at[i];
            v[i].n = len[i];
        }
    if (at != at_s) {
        free(at);
        free(len);
    }
    return failed ? -1 : 0;
}
