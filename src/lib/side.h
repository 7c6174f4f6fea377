/* A side thread of `segue run`: work done beside the worker's loop every
 * so often (continuous reconciliation, the rollout's evaluations), through
 * a handle of its own (its own connections) opened from the spec's path,
 * opened again after a round that leaves it broken. The reconciliation's
 * and the rollout's loops are the same loop with another round. */
#ifndef SEGUE_SIDE_H
#define SEGUE_SIDE_H

#include <pthread.h>
#include <signal.h>

#include "internal.h"

typedef struct sg_side sg_side;

/* One round on m: returns the ms to wait after it before the next; sets
 * *broken when the handle should be closed and opened again.
 * Runs on the side thread; `ud` is the owner's. */
typedef int64_t (*sg_side_round)(sg_side *s, void *ud, sg_migration *m, bool *broken);

struct sg_side {
    pthread_t thread;
    volatile sig_atomic_t stop;  /* set by sg_side_stop; rounds may watch it */
    char *spec_path;
    const char *what;            /* "reconciliation", "rollout": in messages */
    sg_side_round round;
    void *ud;
    sg_log_fn log;               /* m's, copied at start */
    void *log_ud;
};

/* Starts the thread on m's spec path; false (said through m's log) when it
 * cannot start. s is the caller's, zeroed apart from what, round and ud. */
bool sg_side_start(sg_side *s, sg_migration *m);
/* Stops after the round under way and joins. */
void sg_side_stop(sg_side *s);
/* "<what>: <message>" through the log, at level. */
void sg_side_say(sg_side *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
