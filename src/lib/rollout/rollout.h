/* The rollout that runs itself (docs/spec.md "Gates and the rollout"):
 * `segue run` evaluates every gate check each gates.interval, records
 * each evaluation, and with cutover.auto walks cutover.reads step by step:
 * a step advances only after every check has passed for its whole hold
 * (an inconclusive check holds, never passes); a check failing
 * gates.failure_limit evaluations in a row rolls back or pauses
 * (gates.on_fail). Its state lives in the control table `rollout`, so a
 * restarted worker resumes the same step and hold clock. */
#ifndef SEGUE_ROLLOUT_H
#define SEGUE_ROLLOUT_H

#include <segue/gates.h>

#include "internal.h"
#include "spec/spec.h"

/* Checks tracked by name (every kind, and worker_alive). */
#define SG_ROLLOUT_MAX_CHECKS (SG_CHECK_COUNT + 1)

typedef enum sg_rollout_mode {
    SG_ROLLOUT_WALKING = 0,  /* advancing as the gates allow */
    SG_ROLLOUT_PAUSED,       /* holding where it is until `segue resume` */
    SG_ROLLOUT_ROLLED_BACK,  /* rolled back; `segue resume` starts again */
    SG_ROLLOUT_DONE,         /* the last step's hold passed; the gates still
                              * watch (a failure rolls back, writes too) */
    SG_ROLLOUT_DRILL,        /* `segue drill` moves reads and writes by hand;
                              * nothing advances, a failure rolls back */
} sg_rollout_mode;

/* One check's record across evaluations. */
typedef struct sg_rollout_check {
    char name[32];
    sg_gate_state state;   /* at the last evaluation */
    int64_t since_ms;      /* since when it has been in that state */
    int64_t failures;      /* consecutive failing evaluations */
} sg_rollout_check;

typedef struct sg_rollout_state {
    sg_rollout_mode mode;
    int step;               /* index into cutover.reads; -1 before the first */
    int64_t step_at_ms;     /* when that step's percentage was set */
    int64_t clean_since_ms; /* the first evaluation of the streak in which
                             * every check passed, 0: not passing now */
    int64_t last_eval_ms;
    int64_t version;        /* of the saved row: a save over a row another
                             * process saved since (pause, resume) fails */
    size_t n_checks;
    sg_rollout_check checks[SG_ROLLOUT_MAX_CHECKS];
} sg_rollout_state;

typedef enum sg_rollout_act {
    SG_ROLLOUT_NONE = 0,
    SG_ROLLOUT_ADVANCE,   /* set reads to steps[to_step].pct */
    SG_ROLLOUT_HOLD,      /* the streak broke: the hold starts again (audit) */
    SG_ROLLOUT_ROLLBACK,  /* gates.on_fail: rollback */
    SG_ROLLOUT_PAUSE,     /* gates.on_fail: pause, or reads moved by hand */
    SG_ROLLOUT_FINISH,    /* the last step's hold passed */
    SG_ROLLOUT_WRITES,    /* ... and cutover.writes.auto: move the writes */
} sg_rollout_act;

typedef struct sg_rollout_decision {
    sg_rollout_act act;
    bool page;            /* gates.on_fail acted: on_rollback pages */
    int to_step;
    char why[600];        /* the values that decided it, for the audit */
} sg_rollout_decision;

/* The state before any evaluation. */
void sg_rollout_state_init(sg_rollout_state *st);

/* One evaluation: updates each check's record in st (state, since,
 * consecutive failures) and st->clean_since_ms, and says what to do, given
 * the evaluation v[0..n), the time now (ms since the epoch) and the reads
 * routed to the target now (read_pct). Acts only in mode WALKING with
 * cutover.auto; the caller applies an ADVANCE with sg_rollout_entered once
 * it is done. In mode DRILL it only rolls back, at the failure limit (the
 * drill's injected failure, or a real one). Pure: reads nothing else. */
void sg_rollout_decide(sg_rollout_state *st, const sg_spec *s, const sg_gate_check *v,
                       size_t n, int64_t now, double read_pct, sg_rollout_decision *d);

/* After the caller moved reads to steps[step] on an evaluation in which
 * every check passed: the step and its hold start now; the hold starts
 * again at any evaluation that does not pass. */
void sg_rollout_entered(sg_rollout_state *st, int step, int64_t now);

const char *sg_rollout_mode_name(sg_rollout_mode m);

#endif
