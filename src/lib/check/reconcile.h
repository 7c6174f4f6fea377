/* Continuous reconciliation: while `segue run` works, a thread of its own
 * runs a verify pass every verify.every, capped at verify.max_rows_per_second,
 * through its own handle (its own connections), as a separate `segue verify`
 * would, while the worker goes on applying. A pass starts only while the lag
 * is within gates.max_lag (at least 1 s). Each pass is recorded per mapping
 * (check/consistency.h). */
#ifndef SEGUE_CHECK_RECONCILE_H
#define SEGUE_CHECK_RECONCILE_H

#include "internal.h"

typedef struct sg_recon sg_recon;

/* Starts the thread for m when its spec sets verify.every (*out NULL
 * otherwise, or when the thread cannot start: said through m's log). The
 * spec is opened again from its path. */
void sg_recon_start(sg_recon **out, sg_migration *m);
/* Stops a pass under way, joins the thread, frees. NULL allowed. */
void sg_recon_stop(sg_recon *r);

#endif
