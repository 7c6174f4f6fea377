/* Gates: the measured conditions a step that moves traffic must meet
 * (DESIGN.md "The decision layer"). `cutover --reads` and `--writes` need
 *   verify_clean  the last verify found no difference and is no older than
 *                 gates.verify_max_age;
 *   worker_alive  a worker holds the lease (renewed within its ttl), so
 *                 changes keep flowing to the side that now serves;
 *   lag           the oldest pending change is younger than gates.max_lag;
 *   set_aside_keys  no key is set aside (aside.h);
 *   shadow_reads  (`--reads` only, when the spec has gates.shadow) at least
 *                 gates.shadow.min_reads shadow reads compared within
 *                 gates.shadow.window (fewer: inconclusive, refused), a
 *                 mismatch rate at most max_mismatch_rate and, when set, a
 *                 target/source p99 ratio at most max_p99_ratio.
 * A refused gate is named with its value and its limit. A person may pass
 * refused gates for one step with a reason (sg_migration_force_gates); each
 * passed gate is an audit row with its value and that reason. */
#ifndef SEGUE_GATE_H
#define SEGUE_GATE_H

#include "internal.h"
#include "state/phase.h"

/* Inside the caller's target write transaction (after sg_phase_lock):
 * evaluates the gates of cmd. SG_ESTATE naming every refused gate, unless
 * the handle carries a force reason: then they pass and are audited. */
int sg_gates_require(sg_migration *m, sg_cmd cmd);

/* Clears a force reason after the step it was given for. */
void sg_gates_force_done(sg_migration *m);

#endif
