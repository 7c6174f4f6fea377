/* Gates: the measured conditions a step that moves traffic must meet
 * (DESIGN.md "The decision layer"; the checks: docs/spec.md "Gates and the
 * rollout", public shapes in <segue/gates.h>). `cutover --reads` and
 * `--writes` need every check the spec turns on, and a live worker:
 *   verify_clean    the last verify found no difference and is recent;
 *   worker_alive    a worker holds the lease (renewed within its ttl), so
 *                   changes keep flowing to the side that now serves;
 *   lag             the oldest pending change is young enough;
 *   set_aside_keys  few enough keys are set aside (aside.h);
 *   heartbeat_lag, shadow_mismatch_rate (`--reads` only), error_rate,
 *   latency_ratio, sql, prometheus: when the spec names them.
 * A refused check is named with its value and its limit; an inconclusive
 * one refuses too, except a check of the target's traffic while nothing is
 * routed to the target. A person may pass refused gates for one step with a
 * reason (sg_migration_force_gates); each passed gate is an audit row with
 * its value and that reason. */
#ifndef SEGUE_GATE_H
#define SEGUE_GATE_H

#include <segue/gates.h>

#include "internal.h"
#include "spec/spec.h"
#include "state/phase.h"

/* One check: fills g's state, value, limit, unit, samples, detail and needs
 * (name, line and blocks are filled by the caller). Returns an error only
 * when the control tables cannot be read. */
typedef int (*sg_gate_fn)(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);

/* state_checks.c: what the control tables and the changelogs say. */
int sg_gate_verify_clean(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);
int sg_gate_worker_alive(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);
int sg_gate_lag(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);
int sg_gate_heartbeat_lag(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);
int sg_gate_set_aside_keys(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);
/* traffic_checks.c: the shadow reads and the application's outcomes over
 * the check's window. */
int sg_gate_shadow(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);
int sg_gate_error_rate(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);
int sg_gate_latency_ratio(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);
/* query_checks.c: a read-only query on the target, a PromQL query. */
int sg_gate_sql(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);
int sg_gate_prometheus(sg_migration *m, const sg_spec_check *c, sg_gate_check *g);

/* Every check the spec turns on, evaluated now (sg_migration_gates without
 * the recorded since_ms). *out (free()) holds *n. Errors: SG_EDB, SG_ENOMEM. */
int sg_gates_evaluate(sg_migration *m, sg_gate_check **out, size_t *n);

/* The i-th check in evaluation order: its kind (sg_check_kind, or -1 for
 * worker_alive) and whether it holds read steps only; false past the end. */
bool sg_gate_at(size_t i, int *kind, bool *reads_only);

/* "1h", "90s", "1.5s", "250ms" */
void sg_gate_fmt_ms(char *out, size_t n, int64_t ms);

/* Inside the caller's target write transaction (after sg_phase_lock):
 * evaluates the gates of cmd. SG_ESTATE naming every refused gate, unless
 * the handle carries a force reason: then they pass and are audited. */
int sg_gates_require(sg_migration *m, sg_cmd cmd);

/* Clears a force reason after the step it was given for. */
void sg_gates_force_done(sg_migration *m);

/* The read-only connection to the target the sql check keeps open on the
 * handle; closed with it. */
void sg_gate_close(sg_migration *m);

#endif
