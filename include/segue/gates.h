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

/* "pass", "fail", "inconclusive". Pure. */
const char *sg_gate_state_name(sg_gate_state s);

#ifdef __cplusplus
}
#endif

#endif
