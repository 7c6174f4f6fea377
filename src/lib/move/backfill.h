/* Backfill: copy history in key-ordered chunks (keyset pagination), one
 * chunk per step, each chunk's rows and checkpoint committed together. */
#ifndef SEGUE_BACKFILL_H
#define SEGUE_BACKFILL_H

#include "state/control.h"
#include "move/index_build.h"

typedef struct sg_backfill {
    size_t map;             /* mapping being copied */
    sg_checkpoint cp;       /* its checkpoint */
    bool loaded;
    bool complete;          /* every mapping done and phase is backfilled */
    int64_t chunk_rows;     /* size of the next chunk */
    int64_t last_chunk;     /* rows in the last chunk */
    int64_t last_chunk_ms;  /* how long it took */
    int64_t rows_total;     /* estimate of rows to copy, all mappings */
    int64_t rows_done;      /* rows copied, all mappings */
    int64_t run_rows;       /* rows copied by this process */
    int64_t run_chunks;     /* chunks copied by this process */
    int64_t run_start_ms;   /* monotonic */
    int64_t shared_until_ms;/* one database: pace for a writer beside the
                             * backfill until then (monotonic) */
    int64_t held_ms;        /* lock time since another connection's commit
                             * was last seen */
    int64_t since_yield_ms; /* lock time since the backfill last stepped off */
    int64_t probed_ms;      /* lock time since the run began */
    sg_index_pos indexes;   /* after the copy: the next index to build */
} sg_backfill;

/* Reads checkpoints and counts rows; moves started -> backfilling. */
int sg_backfill_init(sg_migration *m, sg_backfill *bf);
/* Copies one chunk, or builds one index of the created target tables once
 * every row is copied, or marks the migration backfilled when all is done. */
int sg_backfill_step(sg_migration *m, sg_backfill *bf);
/* Rows/s this process copied, over wall-clock time since it began (pauses,
 * the rate cap's waits and the worker's drains included), so under
 * max_rows_per_second it stays at or below the cap. */
double sg_backfill_rate(const sg_migration *m, const sg_backfill *bf);
void sg_backfill_progress(sg_migration *m, const sg_backfill *bf, sg_progress *p);
void sg_backfill_free(sg_backfill *bf);

#endif
