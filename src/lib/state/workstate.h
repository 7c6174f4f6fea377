/* What the running worker last said about itself, for `status`: its
 * backfill estimate and rate, the changes it applied, and its last error.
 * One row per migration in the target's control tables, written by the
 * worker every few seconds and at once when a round fails; read by any
 * command. Not part of the lease's proof: a stale row is only stale news. */
#ifndef SEGUE_WORKSTATE_H
#define SEGUE_WORKSTATE_H

#include "internal.h"

typedef struct sg_workstate {
    int64_t at_ms;           /* when written, ms since the epoch */
    int64_t rows_total;      /* rows the backfill copies in all; -1 unknown */
    double rows_per_sec;     /* backfill rate over wall-clock time; 0 none */
    int64_t applied;         /* changes that worker applied since it began */
    char error[512];         /* its last error, "" when none */
    int64_t error_at_ms;     /* when, ms since the epoch; 0 when none */
} sg_workstate;

/* Writes *w for this migration in its own target transaction. Errors:
 * SG_EDB, SG_ENOMEM. */
int sg_workstate_save(sg_migration *m, const sg_workstate *w);
/* Reads it; *found false (and *w zeroed, rows_total -1) when no worker
 * wrote one. */
int sg_workstate_load(sg_migration *m, sg_workstate *w, bool *found);

#endif
