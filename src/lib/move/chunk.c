#include "move/chunk.h"

int64_t sg_chunk_next(int64_t rows, double elapsed_ms, int64_t target_ms,
                      int64_t cap_rows)
{
    double next;
    if (rows < SG_CHUNK_MIN_ROWS)
        rows = SG_CHUNK_MIN_ROWS;
    if (elapsed_ms < 1)
        elapsed_ms = 1;
    next = (double)rows * (double)target_ms / elapsed_ms;
    double grow = elapsed_ms * 8.0 < (double)target_ms ? 8.0 : 2.0;
    if (next > grow * (double)rows)
        next = grow * (double)rows;
    if (next < (double)rows / 4.0)
        next = (double)rows / 4.0;
    int64_t hi = SG_CHUNK_MAX_ROWS;
    if (cap_rows > 0 && cap_rows < hi)
        hi = cap_rows;
    if (next > (double)hi)
        next = (double)hi;
    if (next < SG_CHUNK_MIN_ROWS)
        next = SG_CHUNK_MIN_ROWS;
    return (int64_t)next;
}
