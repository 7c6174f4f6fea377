/* segue: the gates. Every check the spec turns on (gates.checks, and the
 * ones every step needs: verify_clean, worker_alive, lag, set_aside_keys),
 * evaluated now: the value measured, the threshold it is held to, and a
 * state. A check with fewer samples than its min_samples is inconclusive:
 * it never passes. docs/spec.md "Gates and the rollout" lists the checks.
 *
 * Conventions as in segue.h. */
#ifndef SEGUE_GATES_H
#define SEGUE_GATES_H

#include <segue/segue.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sg_gate_state {
    SG_GATE_PASS = 0,
    SG_GATE_FAIL,
    SG_GATE_INCONCLUSIVE,  /* too few samples, or nothing to measure yet */
} sg_gate_state;

/* One check's evaluation. */
typedef struct sg_gate_check {
    char name[32];       /* "lag", "error_rate", "worker_alive", ... */
    sg_gate_state state;
    double value;        /* what was measured, in `unit` (NAN: nothing) */
    double limit;        /* the threshold: passes while value <= limit
                          * (verify_clean: age in s; worker_alive: 1 = a
                          * worker, limit 1 and passes at 1) */
    char unit[12];       /* "s", "ratio", "keys", "value" */
    int64_t samples;     /* the samples judged (reads, outcomes); -1 when the
                          * check does not count samples */
    bool blocks;         /* a refused step waits on it; false only for a
                          * check of the target's traffic while nothing is
                          * routed to the target (judged from the first
                          * step on) */
    int line;            /* the spec line naming the check, 0: a default */
    int64_t since_ms;    /* since when it has been in this state, as the
                          * rollout's evaluations recorded it (ms since the
                          * epoch); 0 when none recorded it so */
    char detail[200];    /* the measurement in words */
    char needs[120];     /* the threshold in words */
} sg_gate_check;

/* Every check the spec turns on, evaluated now, in a fixed order. *out
 * (free with free()) holds *n entries. A check that cannot be measured (a
 * gate query that fails or writes, an unreachable Prometheus) is SG_GATE_FAIL
 * with the reason in `detail`; the call itself fails only when the control
 * tables cannot be read. The sql check runs on a read-only connection of
 * its own; the prometheus check waits at most 5 s.
 * Errors: SG_EINVAL, SG_EDB, SG_ENOMEM. */
int sg_migration_gates(sg_gate_check **out, size_t *n, sg_migration *m);

/* The rollout (cutover.reads with cutover.auto, driven by `segue run`):
 * sg_migration_pause holds it where it is (no step advances, no automatic
 * rollback) until sg_migration_resume; resume after a pause goes on from
 * the step the reads are at now (moved by hand meanwhile too; 0 %: before
 * the first), its hold started again; after an automatic rollback it
 * starts over from the first step. Each is an audit row with `reason`
 * (may be NULL). Errors: SG_EINVAL, SG_ESTATE (no steps in the spec; not
 * walking, or not paused or rolled back; reads at no step's percentage;
 * changed by another process meanwhile: read it again), SG_EDB. */
int sg_migration_pause(sg_migration *m, const char *reason);
int sg_migration_resume(sg_migration *m, const char *reason);

/* The rollout now. */
typedef struct sg_rollout_info {
    bool configured;       /* the spec has cutover.reads steps */
    bool automatic;        /* cutover.auto */
    char mode[16];         /* "walking", "paused", "rolled_back", "done",
                            * "drill" (a drill runs: segue/drill.h) */
    int step;              /* 1-based step the reads are at; 0: before the first */
    int steps;             /* how many steps the spec has */
    int64_t pct;           /* that step's percentage (0 before the first) */
    int64_t hold_ms;       /* that step's hold */
    int64_t step_at_ms;    /* when that step was taken (ms since the epoch) */
    int64_t clean_since_ms; /* since when every check has passed, 0: not now */
    int64_t last_eval_ms;  /* the last evaluation, 0: none yet */
} sg_rollout_info;

/* The rollout's state as the worker last saved it. Reads only.
 * Errors: SG_EINVAL, SG_EDB. */
int sg_migration_rollout(sg_rollout_info *out, sg_migration *m);

/* The rollout as the spec plans it (`segue cutover --plan`). */
typedef struct sg_rollout_plan_step {
    int64_t pct;
    int64_t hold_ms;
    int64_t at_least_ms;  /* the soonest it can end after the first step was
                           * taken: every hold rounded up to whole intervals */
} sg_rollout_plan_step;

typedef struct sg_rollout_plan_check {
    char name[32];
    char params[256];     /* as the spec writes them: "max: 500ms, ..." */
    bool every_step;      /* judged whether the spec names it or not */
    bool reads_only;      /* holds read steps only */
} sg_rollout_plan_check;

typedef struct sg_rollout_plan {
    bool automatic;              /* cutover.auto */
    size_t n_steps;
    sg_rollout_plan_step *steps;
    int64_t interval_ms, failure_limit;
    char on_fail[16];            /* "rollback" or "pause" */
    size_t n_checks;
    sg_rollout_plan_check *checks;
    bool writes_auto;
    int64_t max_fence_ms, bake_ms, max_read_lag_ms;
    char *command;               /* on_rollback.command joined by spaces, or NULL */
    char *webhook;               /* or NULL */
    int64_t least_ms;            /* the least time from the first step to the end
                                  * of the bake (writes moved at once) */
    char gates_hash[17];         /* as the rollout's audit rows carry it */
} sg_rollout_plan;

/* The plan from the spec (reads nothing else). *out is the caller's
 * (sg_rollout_plan_free). Errors: SG_EINVAL, SG_ENOMEM. */
int sg_migration_rollout_plan(sg_rollout_plan **out, sg_migration *m);
void sg_rollout_plan_free(sg_rollout_plan *p);

/* "pass", "fail", "inconclusive". Pure. */
const char *sg_gate_state_name(sg_gate_state s);

#ifdef __cplusplus
}
#endif

#endif
