/* Both sides of a chunk hashed at once (checksum.h). */
#include "check/checksum.h"

#include <pthread.h>
#include <stdlib.h>


/* What one side needs of its own: a hasher, the encoding scratch, and the
 * buffers values are conformed in (f->conv belongs to the other side). */
typedef struct side {
    sg_hasher *h;
    sg_buf scratch;
    sg_buf conv[SG_MAX_COLS];
} side;

struct sg_checksum {
    side s[2]; /* [to_side] */
};

sg_checksum *sg_checksum_new(void)
{
    sg_checksum *ck = calloc(1, sizeof *ck);
    for (int k = 0; ck && k < 2; k++) {
        sg_buf_init(&ck->s[k].scratch);
        for (size_t i = 0; i < SG_MAX_COLS; i++)
            sg_buf_init(&ck->s[k].conv[i]);
    }
    if (ck && (!(ck->s[0].h = sg_hasher_new()) || !(ck->s[1].h = sg_hasher_new()))) {
        sg_checksum_free(ck);
        return NULL;
    }
    return ck;
}

void sg_checksum_free(sg_checksum *ck)
{
    if (!ck)
        return;
    for (int k = 0; k < 2; k++) {
        sg_hasher_free(ck->s[k].h);
        sg_buf_free(&ck->s[k].scratch);
        for (size_t i = 0; i < SG_MAX_COLS; i++)
            sg_buf_free(&ck->s[k].conv[i]);
    }
    free(ck);
}

int sg_checksum_side(sg_checksum *ck, sg_err *e, sg_flow *f, bool to_side, const sg_row *lo,
                     const sg_row *hi, sg_side_sum *out)
{
    side *sd = &ck->s[to_side];
    sg_stmt *s = NULL;
    sg_value v[SG_MAX_COLS];
    int rc = sg_flow_scan(f, to_side, lo, hi, &s, e);
    out->count = 0;
    sg_hasher_reset(sd->h);
    while (!rc && (rc = sg_db_step(s, e)) == 1) {
        const char *why = NULL;
        sg_flow_values_in(f, s, v, sd->conv, NULL, &why);
        sg_hasher_row(sd->h, &sd->scratch, v, f->n_cols);
        out->count++;
        rc = 0;
    }
    sg_db_finalize(s);
    out->digest = sg_hasher_digest(sd->h);
    return rc;
}

/* The target side's thread. */
typedef struct job {
    sg_checksum *ck;
    sg_flow *f;
    const sg_row *lo, *hi;
    sg_side_sum *out;
    sg_err err;
    int rc;
} job;

static void *target_side(void *arg)
{
    job *j = arg;
    j->rc = sg_checksum_side(j->ck, &j->err, j->f, true, j->lo, j->hi, j->out);
    return NULL;
}

int sg_checksum_range(sg_checksum *ck, sg_err *e, sg_flow *f, const sg_row *lo,
                      const sg_row *hi, sg_side_sum *src, sg_side_sum *tgt)
{
    pthread_t t;
    job j = { ck, f, lo, hi, tgt, { 0 }, 0 };
    bool apart = f->from != f->to && pthread_create(&t, NULL, target_side, &j) == 0;
    int rc = sg_checksum_side(ck, e, f, false, lo, hi, src);
    if (!apart)
        return rc ? rc : sg_checksum_side(ck, e, f, true, lo, hi, tgt);
    pthread_join(t, NULL);
    if (!rc && j.rc)
        *e = j.err;
    return rc ? rc : j.rc;
}
