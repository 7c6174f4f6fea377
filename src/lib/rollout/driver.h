/* The thread of `segue run` that drives the rollout (rollout.h). It runs
 * while its worker holds the lease, through a handle of its own (its own
 * connections), opened again from the spec's path. */
#ifndef SEGUE_ROLLOUT_DRIVER_H
#define SEGUE_ROLLOUT_DRIVER_H

#include <pthread.h>

#include "internal.h"

typedef struct sg_rollout sg_rollout;

/* Starts the thread when the spec has cutover.reads steps (*out NULL
 * otherwise, or when the thread cannot start: said through m's log).
 * `switching` (the worker's, outliving the thread) is held while the
 * rollout moves reads or writes, and by the worker around each of its
 * rounds: a switch never runs beside the worker's apply of the same
 * changes (the two deadlocked across the two databases, where neither
 * server sees the cycle, until a lock wait ran out). */
void sg_rollout_start(sg_rollout **out, sg_migration *m, pthread_mutex_t *switching);
/* Stops the thread after the evaluation under way, joins it, frees. NULL
 * allowed. */
void sg_rollout_stop(sg_rollout *r);

#endif
