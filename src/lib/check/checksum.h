/* Checksums of one key range on both sides of a mapping at once: the
 * target side is read in a thread of its own while this one reads the
 * source, when the two sides are separate connections (one database: one
 * after the other). verify.c's chunk pass. */
#ifndef SEGUE_CHECK_CHECKSUM_H
#define SEGUE_CHECK_CHECKSUM_H

#include "internal.h"
#include "move/flow.h"

/* One side of a range: rows and the XXH3-128 digest of their canonical
 * encoding, in key order. */
typedef struct sg_side_sum {
    int64_t count;
    sg_digest digest;
    bool in_engine; /* sg_checksum_range: the engines' sums agreed */
} sg_side_sum;

/* The hashers and scratch space of both sides, reused from range to range.
 * Not thread-safe itself: one per verify pass. */
typedef struct sg_checksum sg_checksum;

/* NULL when out of memory. */
sg_checksum *sg_checksum_new(void);
void sg_checksum_free(sg_checksum *ck);

/* Hashes range (lo, hi] of f (NULL: open) on the source (*src) and the
 * target (*tgt), both sides at once where they are separate connections.
 * Uses only f's statements-free reads (sg_flow_scan), each side's values
 * conformed in scratch of its own. Errors: those of the reads, in e.
 *
 * Where both sides' driver can sum rows in-engine (sg_db_range_sum_sql)
 * and every column reads as the same kind on both (decided on the first
 * call), each side's engine sums the range's rows and only a count and a
 * sum cross the network; sums that differ are settled by hashing the rows
 * here, which decide. When those agree where the sums did not, the sides
 * spell equal values differently, and the rest of the pass hashes here. */
int sg_checksum_range(sg_checksum *ck, sg_err *e, sg_flow *f, const sg_row *lo,
                      const sg_row *hi, sg_side_sum *src, sg_side_sum *tgt);

/* The engines' sums of range (lo, hi] alone, both sides at once (after
 * sg_checksum_begin found them usable): src->in_engine when they agree.
 * Where they differ, nothing says whether the rows do: sg_checksum_range
 * over smaller ranges decides. */
int sg_checksum_sums(sg_checksum *ck, sg_err *e, sg_flow *f, const sg_row *lo,
                     const sg_row *hi, sg_side_sum *src, sg_side_sum *tgt);
/* Decides whether f's ranges are summed in-engine (see sg_checksum_range;
 * otherwise its first call does). Errors: those of preparing the two
 * sides' reads, in e. */
int sg_checksum_begin(sg_checksum *ck, sg_flow *f, sg_err *e);
/* Whether ranges are summed in-engine now (after sg_checksum_begin). */
bool sg_checksum_in_engine(const sg_checksum *ck);

/* One side alone, as sg_checksum_range reads it (to_side: the target). */
int sg_checksum_side(sg_checksum *ck, sg_err *e, sg_flow *f, bool to_side, const sg_row *lo,
                     const sg_row *hi, sg_side_sum *out);

#endif
