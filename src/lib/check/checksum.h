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
 * conformed in scratch of its own. Errors: those of the reads, in e. */
int sg_checksum_range(sg_checksum *ck, sg_err *e, sg_flow *f, const sg_row *lo,
                      const sg_row *hi, sg_side_sum *src, sg_side_sum *tgt);

/* One side alone, as sg_checksum_range reads it (to_side: the target). */
int sg_checksum_side(sg_checksum *ck, sg_err *e, sg_flow *f, bool to_side, const sg_row *lo,
                     const sg_row *hi, sg_side_sum *out);

#endif
