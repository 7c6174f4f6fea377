/* The value model: values cross engines as a small tagged union, and rows are
 * hashed through one canonical, length-prefixed encoding (DESIGN.md "Value
 * model"; the byte layout and test vectors are in docs/canonical-encoding.md).
 */
#ifndef SEGUE_VALUE_H
#define SEGUE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

typedef enum sg_vtype {
    SG_V_NULL = 0,
    SG_V_INT = 1,      /* int64 */
    SG_V_REAL = 2,     /* IEEE 754 double */
    SG_V_NUMERIC = 3,  /* exact decimal as text */
    SG_V_TEXT = 4,     /* UTF-8 */
    SG_V_BLOB = 5,
    SG_V_BOOL = 6,
    SG_V_DATETIME = 7, /* ISO 8601 text, UTC where the type has a zone */
} sg_vtype;

/* A value. For the text-like types and blobs `p`/`n` point at bytes owned
 * by whoever produced the value (a statement until its next step, or an
 * sg_row). */
typedef struct sg_value {
    sg_vtype type;
    int64_t i;        /* SG_V_INT, SG_V_BOOL (0/1) */
    double d;         /* SG_V_REAL */
    const void *p;    /* text-like and blob bytes */
    size_t n;         /* their length in bytes */
} sg_value;

/* A row or key that owns its values' bytes. */
typedef struct sg_row {
    size_t n;         /* number of values */
    sg_value *v;      /* n values; text/blob bytes owned by the row */
} sg_row;

/* Appends the canonical encoding of one value / of a whole row (a 4-byte
 * big-endian count, then each value) to `b`. */
void sg_value_encode(sg_buf *b, const sg_value *v);
void sg_row_encode(sg_buf *b, const sg_value *v, size_t n);

/* Decodes a row encoded by sg_row_encode. *out is owned by the caller
 * (sg_row_free). Returns 0, or -1 on malformed input. */
int sg_row_decode(sg_row *out, const void *p, size_t n);

/* Copies n values into a row that owns them. Returns 0 or -1 (no memory). */
int sg_row_copy(sg_row *out, const sg_value *v, size_t n);
void sg_row_free(sg_row *r);

/* Total order used by merges: by type tag, then by value (memcmp for bytes).
 * Only equality matters for correctness; order must match between sides
 * that were both sorted by the same engine, which callers ensure. */
int sg_value_cmp(const sg_value *a, const sg_value *b);
bool sg_row_equal(const sg_value *a, const sg_value *b, size_t n);

/* Appends a readable rendering of a key: (1, 'a''b', NULL, x'00ff'). */
void sg_key_format(sg_buf *b, const sg_value *v, size_t n);
/* Row v (n values) in the form two engines' answers share (shadow reads
 * across engines): a bool as the int 0/1; an int, a double and an exact
 * decimal as the decimal in its shortest plain spelling (1, 1.0 and 1.00
 * alike; a double by its shortest round-trip digits); a date/time as its
 * text; anything else, NaN and infinities as they are. The spellings live
 * in scratch (reset first), which must outlive the values. 0, or -1 out
 * of memory (v then partly converted: do not use it). */
int sg_row_portable(sg_value *v, size_t n, sg_buf *scratch);

/* A 128-bit row-set digest: XXH3-128 over the canonical encodings fed in
 * order (Collet, xxHash, XXH3 128-bit variant). */
typedef struct sg_digest {
    uint64_t hi, lo;
} sg_digest;

typedef struct sg_hasher sg_hasher;
sg_hasher *sg_hasher_new(void);
void sg_hasher_reset(sg_hasher *h);
void sg_hasher_row(sg_hasher *h, sg_buf *scratch, const sg_value *v, size_t n);
sg_digest sg_hasher_digest(const sg_hasher *h);
void sg_hasher_free(sg_hasher *h);

#endif
