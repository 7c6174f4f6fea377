/* The drills' records in the control table `drills` (made on first use,
 * removed by purge): one row per drill, with the failure it injected, when
 * the rollout rolled back, and its report when it finished. The rollout's
 * driver reads the active drill's failure and records its rollback. */
#ifndef SEGUE_DRILL_STORE_H
#define SEGUE_DRILL_STORE_H

#include <segue/drill.h>

#include "internal.h"

/* A new row (id one past the last), started now, and the audit row
 * drill_start with detail and reason, in one transaction. SG_EDB. */
int sg_drill_begin(sg_migration *m, int64_t started_ms, const char *detail,
                   const char *reason, int64_t *id);
/* The failure the drill injects from `at_ms` on (ms since the epoch). */
int sg_drill_fault(sg_migration *m, int64_t id, int64_t at_ms);
/* The drill whose failure is injected and which has not finished: *id 0
 * when none. Cheap when the table was never made. Reads only. */
int sg_drill_active(sg_migration *m, int64_t *id, int64_t *fault_ms);
/* The rollout rolled back at at_ms during drill id (kept when set). */
int sg_drill_rolled_back(sg_migration *m, int64_t id, int64_t at_ms);
/* When the rollout rolled back during drill id: *at_ms 0 while not. */
int sg_drill_rollback_at(sg_migration *m, int64_t id, int64_t *at_ms);
/* Finishes drill r->id: its report kept, the failure lifted, and the
 * audit row drill_done with detail and reason, in one transaction. */
int sg_drill_finish(sg_migration *m, const sg_drill_report *r, const char *detail,
                    const char *reason);

#endif
