/* Both sides of a chunk hashed at once (checksum.h). */
#include "check/checksum.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>


/* What one side needs of its own: a hasher, the encoding scratch, and the
 * buffers values are conformed in (f->conv belongs to the other side). */
typedef struct side {
    sg_hasher *h;
    sg_buf scratch;
    sg_buf conv[SG_MAX_COLS];
} side;

struct sg_checksum {
    side s[2]; /* [to_side] */
    int in_engine; /* -1: not yet decided; 0: rows hashed here; 1: summed
                    * in-engine first (sg_checksum_in_engine) */
};

sg_checksum *sg_checksum_new(void)
{
    sg_checksum *ck = calloc(1, sizeof *ck);
    if (ck)
        ck->in_engine = -1;
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

/* One side's sum of a range: sg_checksum_side, or the engine's own sum
 * (engine_side). */
typedef int side_fn(sg_checksum *ck, sg_err *e, sg_flow *f, bool to_side, const sg_row *lo,
                    const sg_row *hi, sg_side_sum *out);

/* The engine's count and sum of the range's rows (sg_db_range_sum_sql); the
 * sum's text hashed into out->digest. */
static int engine_side(sg_checksum *ck, sg_err *e, sg_flow *f, bool to_side, const sg_row *lo,
                       const sg_row *hi, sg_side_sum *out)
{
    side *sd = &ck->s[to_side];
    sg_conn *c = to_side ? f->to : f->from;
    sg_buf inner = SG_BUF_INIT, b = SG_BUF_INIT;
    sg_stmt *s = NULL;
    sg_value v;
    sg_flow_scan_sql(f, to_side, lo, hi, false, &inner);
    int rc = sg_buf_failed(&inner) ? sg_err_set(e, SG_ENOMEM, "out of memory")
                                   : sg_db_range_sum_sql(c, &b, sg_buf_str(&inner), e);
    if (!rc)
        rc = sg_buf_failed(&b) ? sg_err_set(e, SG_ENOMEM, "out of memory")
                               : sg_db_prepare(c, sg_buf_str(&b), &s, e);
    if (!rc)
        rc = sg_sql_bind_range(s, lo, hi, 1, e);
    if (!rc && (rc = sg_db_step(s, e)) == 1) {
        out->count = sg_db_column_int(s, 0);
        sg_db_column(s, 1, &v);
        sg_hasher_reset(sd->h);
        sg_hasher_row(sd->h, &sd->scratch, &v, 1);
        out->digest = sg_hasher_digest(sd->h);
        rc = 0;
    } else if (!rc) {
        rc = sg_err_set(e, SG_EDB, "%s: the in-engine sum returned no row", c->endpoint);
    }
    sg_db_finalize(s);
    sg_buf_free(&inner);
    sg_buf_free(&b);
    return rc;
}

/* Whether column i reads as the same kind of value on both sides (the
 * engine's text of a row then equals exactly when the values do). */
static bool same_kind(sg_flow *f, sg_stmt *a, sg_stmt *b, int i)
{
    const char *da = sg_db_column_decltype(a, i);
    char *keep = da ? strdup(da) : NULL; /* valid until a's next call */
    const char *db = sg_db_column_decltype(b, i);
    sg_coltype ta, tb;
    bool same = keep && db;
    if (same) {
        sg_db_type_parse(f->from, keep, &ta);
        sg_db_type_parse(f->to, db, &tb);
        same = ta.kind == tb.kind &&
               ((ta.kind != SG_K_OTHER && ta.kind != SG_K_ANY) || strcmp(keep, db) == 0);
    }
    free(keep);
    return same;
}

/* Sums in-engine only between two connections of a driver that has them,
 * and only where every column is of the same kind on both sides: the sums
 * compare the engine's text of each row, which equal values of different
 * kinds (an integer 1 and a text '1') would share. */
int sg_checksum_begin(sg_checksum *ck, sg_flow *f, sg_err *e)
{
    sg_stmt *a = NULL, *b = NULL;
    ck->in_engine = 0;
    if (!sg_db_range_sums_compare(f->from, f->to))
        return 0;
    int rc = sg_flow_scan(f, false, NULL, NULL, &a, e);
    if (!rc)
        rc = sg_flow_scan(f, true, NULL, NULL, &b, e);
    bool same = !rc;
    for (size_t i = 0; same && i < f->n_cols; i++)
        same = same_kind(f, a, b, (int)i);
    ck->in_engine = same;
    sg_db_finalize(a);
    sg_db_finalize(b);
    return rc;
}

/* The target side's thread. */
typedef struct job {
    side_fn *fn;
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
    j->rc = j->fn(j->ck, &j->err, j->f, true, j->lo, j->hi, j->out);
    return NULL;
}

/* Both sides by fn, at once where they are separate connections. */
static int both_sides(side_fn *fn, sg_checksum *ck, sg_err *e, sg_flow *f, const sg_row *lo,
                      const sg_row *hi, sg_side_sum *src, sg_side_sum *tgt)
{
    pthread_t t;
    job j = { fn, ck, f, lo, hi, tgt, { 0 }, 0 };
    bool apart = f->from != f->to && pthread_create(&t, NULL, target_side, &j) == 0;
    int rc = fn(ck, e, f, false, lo, hi, src);
    if (!apart)
        return rc ? rc : fn(ck, e, f, true, lo, hi, tgt);
    pthread_join(t, NULL);
    if (!rc && j.rc)
        *e = j.err;
    return rc ? rc : j.rc;
}

static bool sums_equal(const sg_side_sum *a, const sg_side_sum *b)
{
    return a->count == b->count && !memcmp(&a->digest, &b->digest, sizeof a->digest);
}

int sg_checksum_sums(sg_checksum *ck, sg_err *e, sg_flow *f, const sg_row *lo,
                     const sg_row *hi, sg_side_sum *src, sg_side_sum *tgt)
{
    int rc = both_sides(engine_side, ck, e, f, lo, hi, src, tgt);
    src->in_engine = tgt->in_engine = !rc && sums_equal(src, tgt);
    return rc;
}

int sg_checksum_range(sg_checksum *ck, sg_err *e, sg_flow *f, const sg_row *lo,
                      const sg_row *hi, sg_side_sum *src, sg_side_sum *tgt)
{
    int rc = ck->in_engine < 0 ? sg_checksum_begin(ck, f, e) : 0;
    src->in_engine = tgt->in_engine = false;
    if (!rc && ck->in_engine && ((rc = sg_checksum_sums(ck, e, f, lo, hi, src, tgt)) != 0 ||
                                 src->in_engine))
        return rc;
    /* the rows hashed here decide; where the engine's sums differed but
     * these agree, the two sides spell equal values differently (a
     * numeric's scale): no more in-engine sums for this mapping */
    rc = rc ? rc : both_sides(sg_checksum_side, ck, e, f, lo, hi, src, tgt);
    if (!rc && ck->in_engine && sums_equal(src, tgt))
        ck->in_engine = 0;
    return rc;
}

bool sg_checksum_in_engine(const sg_checksum *ck)
{
    return ck->in_engine > 0;
}

