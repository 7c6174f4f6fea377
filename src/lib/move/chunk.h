/* Adaptive chunk sizing: the next chunk's row count aims at a target time
 * per chunk, from the rate the last chunk achieved. */
#ifndef SEGUE_CHUNK_H
#define SEGUE_CHUNK_H

#include <stdint.h>

#define SG_CHUNK_MIN_ROWS 16
#define SG_CHUNK_MAX_ROWS 1000000
#define SG_CHUNK_FIRST_ROWS 1000

/* Next chunk size in rows after `rows` rows took `elapsed_ms`, aiming at
 * `target_ms` per chunk. Grows at most 2x and shrinks at most 4x per step
 * (so one noisy chunk cannot swing it); a chunk that took under 1/8 of the
 * target may grow up to 8x, which at its own rate still lands under the
 * target, so the ramp from SG_CHUNK_FIRST_ROWS takes few chunks. Stays within
 * [SG_CHUNK_MIN_ROWS, SG_CHUNK_MAX_ROWS]; `cap_rows` > 0 lowers the upper
 * bound (used by the rate cap). */
int64_t sg_chunk_next(int64_t rows, double elapsed_ms, int64_t target_ms,
                      int64_t cap_rows);

#endif
