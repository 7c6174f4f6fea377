/* Per-mapping results of each verify pass, kept in the control tables for
 * the dashboard, /api/v1/consistency and "the last full reconciliation"
 * (segue.h: sg_migration_consistency). */
#ifndef SEGUE_CHECK_CONSISTENCY_H
#define SEGUE_CHECK_CONSISTENCY_H

#include "internal.h"

/* One mapping's part of a verify pass. */
typedef struct sg_verify_part {
    int64_t source_rows, target_rows;
    int64_t chunks, chunks_differing;
    int64_t differences;          /* keys whose difference persisted */
    int64_t started_ms, ended_ms; /* wall clock, ms since the epoch */
} sg_verify_part;

/* Records each mapping's part of the pass that ended at at_ms, and the
 * first differing keys the report lists, inside the caller's target
 * transaction; `full`: the pass covered every chunk. */
int sg_consistency_record(sg_migration *m, int64_t at_ms, const sg_verify_part *parts,
                          bool full, const sg_verify_report *r);

#endif
